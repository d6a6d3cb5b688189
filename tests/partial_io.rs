//! Streams over inner readers and writers that move a few bytes per call, get interrupted, or are
//! not ready, as pipes and sockets under load do: the message must come through whole, and a bad
//! one must still fail.

mod common;

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{client_for, plaintext};
use envelope::{AlgorithmSuite, DecryptOptions, EncryptOptions};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Hands out 1 to 13 bytes per call; every fifth call is interrupted (blocking) or not ready (async).
struct Dribble {
    bytes: Vec<u8>,
    at: usize,
    calls: usize,
}

impl Dribble {
    fn new(bytes: &[u8]) -> Dribble {
        Dribble { bytes: bytes.to_vec(), at: 0, calls: 0 }
    }

    /// The next piece, or `None` for "interrupted / not ready".
    fn next_piece(&mut self, room: usize) -> Option<&[u8]> {
        self.calls += 1;
        if self.calls.is_multiple_of(5) {
            return None;
        }
        let n = (self.calls % 13 + 1).min(room).min(self.bytes.len() - self.at);
        let piece = &self.bytes[self.at..self.at + n];
        self.at += n;
        Some(piece)
    }

    /// Takes 1 to 7 bytes of `buf`; `None` for "interrupted / not ready".
    fn take_in(&mut self, buf: &[u8]) -> Option<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(5) {
            return None;
        }
        let n = (self.calls % 7 + 1).min(buf.len());
        self.bytes.extend_from_slice(&buf[..n]);
        Some(n)
    }
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.next_piece(buf.len()) {
            None => Err(io::ErrorKind::Interrupted.into()),
            Some(piece) => {
                let n = piece.len();
                buf[..n].copy_from_slice(piece);
                Ok(n)
            }
        }
    }
}

impl Write for Dribble {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.take_in(buf).ok_or_else(|| io::ErrorKind::Interrupted.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Dribble {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.next_piece(buf.remaining()) {
            None => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(piece) => {
                buf.put_slice(piece);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Dribble {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.take_in(buf) {
            None => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(n) => Poll::Ready(Ok(n)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const SUITES: [AlgorithmSuite; 2] = [AlgorithmSuite::DEFAULT, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey];

/// The message with its last byte changed: the signature of a signed message, the final frame's tag
/// of an unsigned one.
fn with_last_byte_changed(message: &[u8]) -> Vec<u8> {
    let mut bad = message.to_vec();
    *bad.last_mut().unwrap() ^= 1;
    bad
}

#[test]
fn blocking_streams_survive_short_and_interrupted_io() {
    for suite in SUITES {
        let client = client_for(suite);
        let data = plaintext(20_000);
        let options = EncryptOptions::new().algorithm_suite(suite).frame_length(1000);
        let mut writer = client.encrypting_writer(Dribble::new(&[]), &options).unwrap();
        writer.write_all(&data).unwrap();
        let message = writer.finish().unwrap().bytes;
        assert_eq!(client.decrypt(&message, &DecryptOptions::new()).unwrap().plaintext, data, "{suite}");

        let mut reader = client.decrypting_reader(Dribble::new(&message), &DecryptOptions::new()).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, data, "{suite}");

        let mut reader =
            client.decrypting_reader(Dribble::new(&with_last_byte_changed(&message)), &DecryptOptions::new()).unwrap();
        let mut out = Vec::new();
        let result = reader.read_to_end(&mut out);
        assert!(result.is_err(), "{suite}: a changed last byte (signature or final tag) must fail");
    }
}

#[tokio::test]
async fn async_streams_survive_short_and_pending_io() {
    for suite in SUITES {
        let client = if suite.is_committing() { common::permissive_client() } else { common::legacy_client() };
        let data = plaintext(20_000);
        let options = EncryptOptions::new().algorithm_suite(suite).frame_length(1000);
        let mut writer = client.encrypting_async_writer(Dribble::new(&[]), &options).await.unwrap();
        writer.write_all(&data).await.unwrap();
        let message = writer.finish().await.unwrap().bytes;
        assert_eq!(client.decrypt(&message, &DecryptOptions::new()).await.unwrap().plaintext, data, "{suite}");

        let mut reader = client.decrypting_async_reader(Dribble::new(&message), &DecryptOptions::new()).await.unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, data, "{suite}");

        let bad = with_last_byte_changed(&message);
        let mut reader = client.decrypting_async_reader(Dribble::new(&bad), &DecryptOptions::new()).await.unwrap();
        let mut out = Vec::new();
        let result = reader.read_to_end(&mut out).await;
        assert!(result.is_err(), "{suite}: a changed last byte must fail");
    }
}
