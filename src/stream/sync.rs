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
///
/// ```
/// use std::fs::File;
/// use std::io::{self, BufReader};
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, EncryptOptions, EncryptingWriter};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("report.csv"), b"month,total\n2026-11,42\n")?;
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
///
/// // Encrypt a file into another, one frame of plaintext in memory at a time.
/// let mut source = BufReader::new(File::open(dir.join("report.csv"))?);
/// let mut writer: EncryptingWriter<File> =
///     client.encrypting_writer(File::create(dir.join("report.csv.enc"))?, &EncryptOptions::new())?;
/// io::copy(&mut source, &mut writer)?;
/// writer.finish()?;
/// # assert!(std::fs::metadata(dir.join("report.csv.enc"))?.len() > 0);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let writer = client.encrypting_writer(Vec::new(), &EncryptOptions::new())?;
    /// // Known before any plaintext is written: e.g. record the message id beside the output.
    /// let message_id = writer.info().message_id.clone();
    /// assert_eq!(message_id.len(), 32);
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    /// Writes the final frame and footer, flushes, and returns the inner writer.
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let mut writer = client.encrypting_writer(Vec::new(), &EncryptOptions::new())?;
    /// writer.write_all(b"complete")?;
    /// let message = writer.finish()?;
    /// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"complete");
    ///
    /// // Dropped without `finish`, the output lacks its final frame and footer: readers reject it.
    /// let mut output = Vec::new();
    /// let mut unfinished = client.encrypting_writer(&mut output, &EncryptOptions::new())?;
    /// unfinished.write_all(b"incomplete")?;
    /// drop(unfinished);
    /// assert!(client.decrypt(&output, &DecryptOptions::new()).is_err());
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use std::io::Read;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, DecryptingReader, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let mut message = client.encrypt(&[7u8; 10_000], &EncryptOptions::new().frame_length(1024))?;
/// let body_byte = message.len() - 2_000;
/// message[body_byte] ^= 1;
///
/// // Frames before the damaged one may already have come out, each authenticated; then the read
/// // fails, and so does every later read.
/// let mut reader: DecryptingReader<&[u8]> = client.decrypting_reader(&message[..], &DecryptOptions::new())?;
/// let mut plaintext = Vec::new();
/// assert!(reader.read_to_end(&mut plaintext).is_err());
/// assert!(plaintext.len() < 10_000);
/// assert!(reader.read(&mut [0u8; 16]).is_err());
/// # Ok(())
/// # }
/// ```
pub struct DecryptingReader<R: Read> {
    inner: R,
    core: ReaderCore,
}

impl<R: Read> DecryptingReader<R> {
    pub(crate) fn new(inner: R, body: BodyDecryptor, info: MessageInfo, leftover: Vec<u8>) -> DecryptingReader<R> {
        DecryptingReader { inner, core: ReaderCore::new(body, info, leftover) }
    }

    /// What the header says.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let context = EncryptionContext::from([("content-type", "text/csv")]);
    /// let message = client.encrypt(b"a,b\n1,2\n", &EncryptOptions::new().encryption_context(context))?;
    ///
    /// // The authenticated header is available before the first byte of plaintext is read.
    /// let reader = client.decrypting_reader(&message[..], &DecryptOptions::new())?;
    /// assert_eq!(reader.info().encryption_context.get("content-type").map(String::as_str), Some("text/csv"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> &MessageInfo {
        &self.core.info
    }

    /// The inner reader (call after reading to the end).
    ///
    /// ```
    /// use std::io::{Cursor, Read};
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
    /// let mut reader = client.decrypting_reader(Cursor::new(message), &DecryptOptions::new())?;
    /// let mut plaintext = Vec::new();
    /// reader.read_to_end(&mut plaintext)?;
    ///
    /// let source: Cursor<Vec<u8>> = reader.into_inner();
    /// assert_eq!(source.position(), source.get_ref().len() as u64, "the whole message was read");
    /// # Ok(())
    /// # }
    /// ```
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
