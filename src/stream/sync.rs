//! `std::io` front-ends: an encrypting `Write` and a decrypting `Read`.

use std::io::{self, Read, Write};

use super::decryptor::{BodyDecryptor, Step};
use super::encryptor::Encryptor;
use crate::client::MessageInfo;
use crate::error::{Error, Malformed, Result};
use crate::message::header::{self, ParseLimits, ParsedHeader};

/// Ciphertext is handed to the inner writer once this much has accumulated.
const OUTPUT_FLUSH_THRESHOLD: usize = 64 * 1024;
/// Bytes asked of the inner reader per read.
const READ_CHUNK: usize = 64 * 1024;

/// Encrypts everything written to it into one message on the inner writer.
///
/// Call [`EncryptingWriter::finish`]: a writer dropped without it leaves a message with no final
/// frame, which every reader rejects.
#[derive(Debug)]
pub struct EncryptingWriter<W: Write> {
    inner: W,
    encryptor: Encryptor,
    /// Plaintext not yet sealed: at most one frame. A full frame stays here until more plaintext
    /// arrives, because the last frame must be written as the final frame.
    pending: Vec<u8>,
    output: Vec<u8>,
}

impl<W: Write> EncryptingWriter<W> {
    pub(crate) fn new(inner: W, encryptor: Encryptor, header: Vec<u8>) -> EncryptingWriter<W> {
        let frame_length = encryptor.frame_length();
        EncryptingWriter { inner, encryptor, pending: Vec::with_capacity(frame_length), output: header }
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

/// Reads a header from `inner`: returns the parsed header, its bytes, and any body bytes read
/// past it.
pub(crate) fn read_header<R: Read>(inner: &mut R, limits: ParseLimits) -> Result<(ParsedHeader, Vec<u8>)> {
    let mut buffer = Vec::with_capacity(4096);
    loop {
        match header::parse(&buffer, limits) {
            Ok(parsed) => return Ok((parsed, buffer)),
            Err(error) if error.is_truncation() => {
                if read_more(inner, &mut buffer, 4096)? == 0 {
                    return Err(error);
                }
            }
            Err(error) => return Err(error),
        }
    }
}

fn read_more<R: Read>(inner: &mut R, buffer: &mut Vec<u8>, at_least: usize) -> io::Result<usize> {
    let start = buffer.len();
    buffer.resize(start + at_least.max(READ_CHUNK), 0);
    let result = loop {
        match inner.read(&mut buffer[start..]) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    let read = *result.as_ref().unwrap_or(&0);
    buffer.truncate(start + read);
    result
}

/// Decrypts one message from the inner reader. Every byte it returns has been authenticated; for
/// signed messages the last frame is returned only after the signature verifies. An error is
/// final: later reads fail too.
#[derive(Debug)]
pub struct DecryptingReader<R: Read> {
    inner: R,
    body: BodyDecryptor,
    info: MessageInfo,
    input: Vec<u8>,
    input_start: usize,
    plaintext: Vec<u8>,
    plaintext_start: usize,
    eof: bool,
    failed: Option<String>,
}

impl<R: Read> DecryptingReader<R> {
    pub(crate) fn new(inner: R, body: BodyDecryptor, info: MessageInfo, leftover: Vec<u8>) -> DecryptingReader<R> {
        DecryptingReader {
            inner,
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

    /// What the header says.
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    /// The inner reader (call after reading to the end).
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn fill(&mut self) -> Result<()> {
        self.plaintext.clear();
        self.plaintext_start = 0;
        loop {
            if self.body.is_done() {
                return self.check_end();
            }
            match self.body.step(&self.input[self.input_start..], &mut self.plaintext)? {
                Step::Consumed(len) => {
                    self.input_start += len;
                    if !self.plaintext.is_empty() {
                        return Ok(());
                    }
                }
                Step::Done => return self.check_end(),
                Step::NeedMore => {
                    if self.eof {
                        return Err(Error::truncated("message body"));
                    }
                    // Compact, then read: the buffer stays about one part long.
                    self.input.drain(..self.input_start);
                    self.input_start = 0;
                    if read_more(&mut self.inner, &mut self.input, READ_CHUNK)? == 0 {
                        self.eof = true;
                    }
                }
            }
        }
    }

    fn check_end(&mut self) -> Result<()> {
        let mut trailing = self.input.len() - self.input_start;
        if trailing == 0 && !self.eof {
            let mut probe = [0u8; 1];
            trailing = loop {
                match self.inner.read(&mut probe) {
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.eof = trailing == 0;
        }
        if trailing > 0 {
            return Err(Error::Malformed(Malformed::TrailingBytes { count: trailing }));
        }
        Ok(())
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(reason) = &self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, reason.clone()));
        }
        if self.plaintext_start == self.plaintext.len() {
            if self.body.is_done() && self.eof {
                return Ok(0);
            }
            if let Err(error) = self.fill() {
                self.failed = Some(error.to_string());
                return Err(error.into());
            }
        }
        let available = &self.plaintext[self.plaintext_start..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.plaintext_start += n;
        Ok(n)
    }
}
