//! `std::io` front-ends: an encrypting `Write` and a decrypting `Read`.

use std::fmt;
use std::io::{self, Read, Write};

use super::decryptor::BodyDecryptor;
use super::encryptor::Encryptor;
use super::header_reader::HeaderReader;
use super::reader_core::{Next, ReaderCore};
use crate::client::MessageInfo;
use crate::error::{Error, Result};
use crate::message::header::{ParseLimits, ParsedHeader};
use crate::redacted::Redacted;

/// Ciphertext is handed to the inner writer once this much has accumulated.
const OUTPUT_FLUSH_THRESHOLD: usize = 64 * 1024;

/// Encrypts everything written to it into one message on the inner writer.
///
/// Call [`EncryptingWriter::finish`]: a writer dropped without it leaves a message with no final
/// frame, which every reader rejects.
pub struct EncryptingWriter<W: Write> {
    inner: W,
    encryptor: Encryptor,
    /// Plaintext not yet sealed: at most one frame. A full frame stays here until more plaintext
    /// arrives, because the last frame must be written as the final frame.
    pending: Vec<u8>,
    output: Vec<u8>,
    info: MessageInfo,
}

impl<W: Write> EncryptingWriter<W> {
    pub(crate) fn new(inner: W, encryptor: Encryptor, header: Vec<u8>, info: MessageInfo) -> EncryptingWriter<W> {
        let frame_length = encryptor.frame_length();
        EncryptingWriter { inner, encryptor, pending: Vec::with_capacity(frame_length), output: header, info }
    }

    /// What the header of the message being written says.
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    /// Writes the final frame and footer, flushes, and returns the inner writer.
    pub fn finish(mut self) -> Result<W> {
        let pending = std::mem::take(&mut self.pending);
        self.encryptor.finish(&pending, &mut self.output)?;
        self.inner.write_all(&self.output)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn drain_output(&mut self) -> io::Result<()> {
        if !self.output.is_empty() {
            self.inner.write_all(&self.output)?;
            self.output.clear();
        }
        Ok(())
    }
}

impl<W: Write> Write for EncryptingWriter<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let written = buf.len();
        let frame_length = self.encryptor.frame_length();
        while !buf.is_empty() {
            if self.pending.len() == frame_length {
                // More plaintext follows, so the pending frame is a regular one.
                let pending = std::mem::take(&mut self.pending);
                self.encryptor.frame(&pending, &mut self.output)?;
                self.pending = pending;
                self.pending.clear();
            }
            if self.pending.is_empty() && buf.len() > frame_length {
                // Seal straight from the caller's buffer: no copy through `pending`.
                self.encryptor.frame(&buf[..frame_length], &mut self.output)?;
                buf = &buf[frame_length..];
            } else {
                let take = (frame_length - self.pending.len()).min(buf.len());
                self.pending.extend_from_slice(&buf[..take]);
                buf = &buf[take..];
            }
            if self.output.len() >= OUTPUT_FLUSH_THRESHOLD {
                self.drain_output()?;
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain_output()?;
        self.inner.flush()
    }
}

/// Shows buffer lengths only: `pending` is plaintext.
impl<W: Write> fmt::Debug for EncryptingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingWriter")
            .field("encryptor", &self.encryptor)
            .field("pending", &Redacted::of(&self.pending))
            .field("output_len", &self.output.len())
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Reads a header from `inner` (and not a byte past it): returns the parsed header and its bytes.
pub(crate) fn read_header<R: Read>(inner: &mut R, limits: ParseLimits) -> Result<(ParsedHeader, Vec<u8>)> {
    let mut header = HeaderReader::new(limits)?;
    loop {
        let read = read_retrying(inner, header.spare())?;
        if let Some(done) = header.filled(read)? {
            return Ok(done);
        }
    }
}

fn read_retrying<R: Read>(inner: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match inner.read(buf) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Decrypts one message from the inner reader. Every byte it returns has been authenticated; for
/// signed messages the last frame is returned only after the signature verifies. An error is
/// final: later reads fail too.
pub struct DecryptingReader<R: Read> {
    inner: R,
    core: ReaderCore,
}

impl<R: Read> DecryptingReader<R> {
    pub(crate) fn new(inner: R, body: BodyDecryptor, info: MessageInfo, leftover: Vec<u8>) -> DecryptingReader<R> {
        DecryptingReader { inner, core: ReaderCore::new(body, info, leftover) }
    }

    /// What the header says.
    pub fn info(&self) -> &MessageInfo {
        &self.core.info
    }

    /// The inner reader (call after reading to the end).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Shows the reader's state, not the inner reader (which may be anything) nor plaintext.
impl<R: Read> fmt::Debug for DecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptingReader").field("core", &self.core).finish_non_exhaustive()
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(error) = self.core.failure() {
            return Err(error);
        }
        loop {
            match self.core.advance() {
                Ok(Next::Plaintext) => return Ok(self.core.copy_out(buf)),
                Ok(Next::End) => return Ok(0),
                Ok(Next::Input) => {
                    let read = read_retrying(&mut self.inner, self.core.spare());
                    match read {
                        Ok(n) => self.core.filled(n, true),
                        Err(error) => {
                            self.core.filled(0, false);
                            return Err(self.core.fail(Error::Io(error)));
                        }
                    }
                }
                Err(error) => return Err(self.core.fail(error)),
            }
        }
    }
}
