//! Helpers shared by the crate's unit tests.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// A reader that hands out at most `step` bytes per read, so a test hits every buffer and piece
/// boundary of the reader it feeds.
pub(crate) struct Trickle<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) step: usize,
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let count = self.step.min(self.data.len()).min(out.remaining());
        out.put_slice(&self.data[..count]);
        self.data = &self.data[count..];
        Poll::Ready(Ok(()))
    }
}
