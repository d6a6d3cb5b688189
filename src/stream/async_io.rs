//! tokio front-ends: an encrypting `AsyncWrite` and a decrypting `AsyncRead`.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::decryptor::BodyDecryptor;
use super::encryptor::Encryptor;
use super::header_reader::HeaderReader;
use super::reader_core::{Next, ReaderCore};
use crate::client::MessageInfo;
use crate::error::{Error, Result};
use crate::message::header::{ParseLimits, ParsedHeader};
use crate::redacted::Redacted;

const OUTPUT_FLUSH_THRESHOLD: usize = 64 * 1024;

/// Encrypts everything written to it into one message on the inner writer.
///
/// Finish with [`AsyncEncryptingWriter::finish`] (or `shutdown`, which finishes and shuts the
/// inner writer down). Dropped unfinished, it leaves a message every reader rejects.
///
/// ```
/// use tokio::io::AsyncWriteExt;
///
/// use envelope::{AsyncEncryptingWriter, Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
/// let mut output = Vec::new();
/// let mut writer: AsyncEncryptingWriter<&mut Vec<u8>> =
///     client.encrypting_async_writer(&mut output, &EncryptOptions::new()).await?;
/// writer.write_all(b"async secret").await?;
/// // `shutdown` finishes the message too, for code written against any AsyncWrite.
/// writer.shutdown().await?;
/// assert_eq!(client.decrypt(&output, &DecryptOptions::new()).await?.plaintext, b"async secret");
/// # Ok(())
/// # }
/// ```
pub struct AsyncEncryptingWriter<W> {
    inner: W,
    encryptor: Option<Encryptor>,
    frame_length: usize,
    pending: Vec<u8>,
    output: Vec<u8>,
    output_start: usize,
    info: MessageInfo,
}

impl<W: AsyncWrite + Unpin> AsyncEncryptingWriter<W> {
    pub(crate) fn new(inner: W, encryptor: Encryptor, header: Vec<u8>, info: MessageInfo) -> Self {
        let frame_length = encryptor.frame_length();
        AsyncEncryptingWriter {
            inner,
            encryptor: Some(encryptor),
            frame_length,
            pending: Vec::with_capacity(frame_length),
            output: header,
            output_start: 0,
            info,
        }
    }

    /// What the header of the message being written says.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let writer = client.encrypting_async_writer(Vec::new(), &EncryptOptions::new()).await?;
    /// assert_eq!(writer.info().algorithm_suite, AlgorithmSuite::DEFAULT);
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> &MessageInfo {
        &self.info
    }

    /// Writes the final frame and footer, flushes, and returns the inner writer (not shut down).
    ///
    /// ```
    /// use tokio::io::AsyncWriteExt;
    ///
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let mut writer = client.encrypting_async_writer(Vec::new(), &EncryptOptions::new()).await?;
    /// writer.write_all(b"async secret").await?;
    /// let message: Vec<u8> = writer.finish().await?;
    /// assert_eq!(client.decrypt(&message, &DecryptOptions::new()).await?.plaintext, b"async secret");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn finish(mut self) -> Result<W> {
        self.seal_final()?;
        self.inner.write_all(&self.output[self.output_start..]).await?;
        self.inner.flush().await?;
        Ok(self.inner)
    }

    fn seal_final(&mut self) -> Result<()> {
        if let Some(encryptor) = self.encryptor.take() {
            let pending = std::mem::take(&mut self.pending);
            encryptor.finish(&pending, &mut self.output)?;
        }
        Ok(())
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.output_start < self.output.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.output[self.output_start..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.output_start += n;
        }
        self.output.clear();
        self.output_start = 0;
        Poll::Ready(Ok(()))
    }
}

/// Shows buffer lengths only: `pending` is plaintext.
impl<W> fmt::Debug for AsyncEncryptingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncEncryptingWriter")
            .field("encryptor", &self.encryptor)
            .field("pending", &Redacted::of(&self.pending))
            .field("output_len", &(self.output.len() - self.output_start))
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncEncryptingWriter<W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // Drain on the buffer's whole length, not on what is left of it: after a partial drain
        // the sealing loop below would otherwise consume nothing and report a zero-byte write.
        if this.output.len() >= OUTPUT_FLUSH_THRESHOLD {
            ready!(this.poll_drain(cx))?;
        }
        let Some(encryptor) = this.encryptor.as_mut() else {
            return Poll::Ready(Err(io::Error::other("write after the message was finished")));
        };
        let mut consumed = 0;
        while consumed < buf.len() && this.output.len() < OUTPUT_FLUSH_THRESHOLD {
            if this.pending.len() == this.frame_length {
                encryptor.frame(&this.pending, &mut this.output)?;
                this.pending.clear();
            }
            let take = (this.frame_length - this.pending.len()).min(buf.len() - consumed);
            this.pending.extend_from_slice(&buf[consumed..consumed + take]);
            consumed += take;
        }
        Poll::Ready(Ok(consumed))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.seal_final()?;
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads a header from an async reader (and not a byte past it): the parsed header and its bytes.
pub(crate) async fn read_header<R: AsyncRead + Unpin>(
    inner: &mut R,
    limits: ParseLimits,
) -> Result<(ParsedHeader, Vec<u8>)> {
    let mut header = HeaderReader::new(limits)?;
    loop {
        let read = inner.read(header.spare()).await?;
        if let Some(done) = header.filled(read)? {
            return Ok(done);
        }
    }
}

/// Decrypts one message from an async reader, releasing only authenticated plaintext (the last
/// frame of a signed message only after the signature verifies). An error is final.
///
/// ```
/// use tokio::io::{AsyncBufReadExt, BufReader};
///
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
/// let message = client.encrypt(b"one\ntwo\n", &EncryptOptions::new()).await?;
///
/// let reader = client.decrypting_async_reader(&message[..], &DecryptOptions::new()).await?;
/// let mut lines = BufReader::new(reader).lines();
/// let mut seen = Vec::new();
/// while let Some(line) = lines.next_line().await? {
///     seen.push(line);
/// }
/// assert_eq!(seen, ["one", "two"]);
/// # Ok(())
/// # }
/// ```
pub struct AsyncDecryptingReader<R> {
    inner: R,
    core: ReaderCore,
}

impl<R: AsyncRead + Unpin> AsyncDecryptingReader<R> {
    pub(crate) fn new(inner: R, body: BodyDecryptor, info: MessageInfo, leftover: Vec<u8>) -> Self {
        AsyncDecryptingReader { inner, core: ReaderCore::new(body, info, leftover) }
    }

    /// What the header says.
    ///
    /// ```
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().frame_length(512)).await?;
    /// let reader = client.decrypting_async_reader(&message[..], &DecryptOptions::new()).await?;
    /// assert_eq!(reader.info().frame_length, 512);
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> &MessageInfo {
        &self.core.info
    }
}

/// Shows the reader's state, not the inner reader nor plaintext.
impl<R> fmt::Debug for AsyncDecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncDecryptingReader").field("core", &self.core).finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncDecryptingReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(error) = this.core.failure() {
            return Poll::Ready(Err(error));
        }
        loop {
            match this.core.advance() {
                Ok(Next::Plaintext) => {
                    let n = this.core.copy_out(buf.initialize_unfilled());
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Next::End) => return Poll::Ready(Ok(())),
                Ok(Next::Input) => {
                    let mut spare = ReadBuf::new(this.core.spare());
                    let polled = Pin::new(&mut this.inner).poll_read(cx, &mut spare);
                    let n = spare.filled().len();
                    match polled {
                        Poll::Ready(Ok(())) => this.core.filled(n, true),
                        Poll::Ready(Err(error)) => {
                            this.core.filled(0, false);
                            return Poll::Ready(Err(this.core.fail(Error::Io(error))));
                        }
                        Poll::Pending => {
                            this.core.filled(n, false);
                            return Poll::Pending;
                        }
                    }
                }
                Err(error) => return Poll::Ready(Err(this.core.fail(error))),
            }
        }
    }
}
