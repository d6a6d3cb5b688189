//! The state both decrypting readers share: buffered ciphertext, released plaintext, and the
//! decision of what to do next. The front-ends only differ in how they fetch more bytes.

use std::fmt;

use super::decryptor::{BodyDecryptor, Step};
use crate::client::MessageInfo;
use crate::error::{Error, Malformed, Result};
use crate::redacted::Redacted;

/// Bytes asked of the inner reader per read.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// What a reader must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Authenticated plaintext is ready to copy out.
    Plaintext,
    /// More ciphertext is needed (or, after the message, a read to prove nothing follows).
    Input,
    /// The message is complete, verified, and nothing follows it.
    End,
}

pub(crate) struct ReaderCore {
    body: BodyDecryptor,
    pub(crate) info: MessageInfo,
    input: Vec<u8>,
    input_start: usize,
    plaintext: Vec<u8>,
    plaintext_start: usize,
    eof: bool,
    failed: Option<String>,
}

/// Lengths only: `plaintext` holds released plaintext not yet copied out.
impl fmt::Debug for ReaderCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReaderCore")
            .field("body", &self.body)
            .field("info", &self.info)
            .field("buffered_input", &(self.input.len() - self.input_start))
            .field("plaintext", &Redacted::of(&self.plaintext[self.plaintext_start..]))
            .field("eof", &self.eof)
            .field("failed", &self.failed)
            .finish()
    }
}

impl ReaderCore {
    pub(crate) fn new(body: BodyDecryptor, info: MessageInfo, leftover: Vec<u8>) -> ReaderCore {
        ReaderCore {
            body,
            info,
            input: leftover,
            input_start: 0,
            plaintext: Vec::new(),
            plaintext_start: 0,
            eof: false,
            failed: None,
        }
    }

    /// The error that ended this reader, if one did: errors are final.
    pub(crate) fn failure(&self) -> Option<std::io::Error> {
        self.failed.as_ref().map(|reason| std::io::Error::new(std::io::ErrorKind::InvalidData, reason.clone()))
    }

    /// Records a failure and turns it into the error to return.
    pub(crate) fn fail(&mut self, error: Error) -> std::io::Error {
        self.failed = Some(error.to_string());
        error.into()
    }

    /// Copies released plaintext into `buf`; returns how many bytes.
    pub(crate) fn copy_out(&mut self, buf: &mut [u8]) -> usize {
        let available = &self.plaintext[self.plaintext_start..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.plaintext_start += n;
        n
    }

    /// Decides what happens next, decrypting buffered parts as far as possible.
    pub(crate) fn advance(&mut self) -> Result<Next> {
        if self.plaintext_start < self.plaintext.len() {
            return Ok(Next::Plaintext);
        }
        self.plaintext.clear();
        self.plaintext_start = 0;
        loop {
            if self.body.is_done() {
                let trailing = self.input.len() - self.input_start;
                if trailing > 0 {
                    return Err(Error::Malformed(Malformed::TrailingBytes { count: trailing }));
                }
                return Ok(if self.eof { Next::End } else { Next::Input });
            }
            match self.body.step(&self.input[self.input_start..], &mut self.plaintext)? {
                Step::Consumed(len) => {
                    self.input_start += len;
                    if !self.plaintext.is_empty() {
                        return Ok(Next::Plaintext);
                    }
                }
                Step::Done => continue,
                Step::NeedMore if self.eof => return Err(Error::truncated("message body")),
                Step::NeedMore => return Ok(Next::Input),
            }
        }
    }

    /// Room for the next read, after dropping consumed input: the buffer stays about one part long.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        self.input.drain(..self.input_start);
        self.input_start = 0;
        let start = self.input.len();
        self.input.resize(start + READ_CHUNK, 0);
        &mut self.input[start..]
    }

    /// Keeps the `read` bytes of the last `spare()`. A completed read of zero bytes means the inner
    /// reader has ended.
    pub(crate) fn filled(&mut self, read: usize, completed: bool) {
        let keep = self.input.len() - READ_CHUNK + read;
        self.input.truncate(keep);
        if completed && read == 0 {
            self.eof = true;
        }
    }
}
