//! Gets: whole objects under the release policy of [`Authentication`], and unauthenticated
//! ranges.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use std::io::Write;

use aws_sdk_s3::operation::get_object::GetObjectError;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::sync::mpsc;
use tracing::debug;
use zeroize::Zeroizing;

use super::spool::{SpoolReader, spool_and_check};
use super::{Authentication, ByteRange, S3EncryptionClient, s3_error};
use crate::content::TAG_LEN;
use crate::error::{Error, PolicyViolation, Result, SecurityError};
use crate::metadata::{ContentMetadata, MetadataLocation};
use crate::object::{BodyDecryptor, BodyReader, ContentKey, DecryptingReader};

/// The largest instruction file read (they hold a few hundred bytes).
const MAX_INSTRUCTION_FILE: u64 = 1 << 20;
/// Piece size of the ranged reads.
const CHUNK: usize = 64 << 10;
/// Piece size of the spool file, written and read back: large, so that each trip through the
/// blocking pool moves a lot (two such pieces are in memory while spooling, a few while reading).
pub(super) const SPOOL_CHUNK: usize = 1 << 20;

/// A decrypted object: its metadata and a reader of its plaintext, released under the client's
/// [`Authentication`] policy.
///
/// ```no_run
/// use tokio::io::AsyncReadExt;
///
/// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
/// let mut object = client.get_object("bucket", "report.csv", &Default::default()).await?;
/// let mut out = tokio::fs::File::create("report.csv").await?;
/// tokio::io::copy(&mut object, &mut out).await?;
/// # Ok(())
/// # }
/// ```
pub struct DecryptedObject {
    metadata: ContentMetadata,
    plaintext_length: Option<u64>,
    authentication: Authentication,
    reader: Pin<Box<dyn AsyncRead + Send>>,
}

impl DecryptedObject {
    /// The object's content metadata.
    ///
    /// ```no_run
    /// # async fn demo(object: envelope_s3::client::DecryptedObject) {
    /// println!("{:?}", object.metadata().version());
    /// # }
    /// ```
    pub fn metadata(&self) -> &ContentMetadata {
        &self.metadata
    }

    /// The plaintext length, when S3 gave the object's length.
    ///
    /// ```no_run
    /// # async fn demo(object: envelope_s3::client::DecryptedObject) {
    /// println!("{:?} bytes", object.plaintext_length());
    /// # }
    /// ```
    pub fn plaintext_length(&self) -> Option<u64> {
        self.plaintext_length
    }

    /// Whether the bytes read were authenticated before release (`VerifyFirst`) or are checked at
    /// the end of the stream (`Delayed`).
    ///
    /// ```no_run
    /// # async fn demo(object: envelope_s3::client::DecryptedObject) {
    /// assert_eq!(object.authentication(), envelope_s3::client::Authentication::VerifyFirst);
    /// # }
    /// ```
    pub fn authentication(&self) -> Authentication {
        self.authentication
    }

    /// Reads the whole plaintext into memory.
    ///
    /// ```no_run
    /// # async fn demo(object: envelope_s3::client::DecryptedObject) -> envelope_s3::Result<()> {
    /// let bytes = object.into_bytes().await?;
    /// # let _ = bytes;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn into_bytes(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.reader.read_to_end(&mut out).await.map_err(unwrap_io)?;
        Ok(out)
    }
}

impl AsyncRead for DecryptedObject {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        self.reader.as_mut().poll_read(cx, buf)
    }
}

impl fmt::Debug for DecryptedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedObject")
            .field("metadata", &self.metadata)
            .field("plaintext_length", &self.plaintext_length)
            .field("authentication", &self.authentication)
            .finish_non_exhaustive()
    }
}

/// An unauthenticated range of an object's plaintext, decrypted as it is read (AES-CTR at each
/// piece's offset); ends with an error if S3 sends fewer bytes than the range holds.
///
/// ```no_run
/// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
/// let range = client.get_range_stream("bucket", "log", "bytes=0-99".parse()?, &Default::default()).await?;
/// assert_eq!(range.range(), 0..100);
/// # Ok(())
/// # }
/// ```
pub struct DecryptedRange {
    metadata: ContentMetadata,
    object_length: u64,
    range: Range<u64>,
    offset: u64,
    body: Pin<Box<dyn AsyncRead + Send>>,
    key: ContentKey,
    buffer: Vec<u8>,
    plaintext: Zeroizing<Vec<u8>>,
    position: usize,
}

impl DecryptedRange {
    /// The plaintext bytes selected (after clamping).
    ///
    /// ```no_run
    /// # async fn demo(range: envelope_s3::client::DecryptedRange) {
    /// println!("{:?}", range.range());
    /// # }
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// How many bytes the range holds.
    ///
    /// ```no_run
    /// # async fn demo(range: envelope_s3::client::DecryptedRange) {
    /// println!("{} bytes", range.len());
    /// # }
    /// ```
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// Whether the range is empty (never, for a range S3 accepts).
    ///
    /// ```no_run
    /// # async fn demo(range: envelope_s3::client::DecryptedRange) {
    /// assert!(!range.is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole object's plaintext length.
    ///
    /// ```no_run
    /// # async fn demo(range: envelope_s3::client::DecryptedRange) {
    /// println!("of {} bytes", range.object_length());
    /// # }
    /// ```
    pub fn object_length(&self) -> u64 {
        self.object_length
    }

    /// The object's content metadata.
    ///
    /// ```no_run
    /// # async fn demo(range: envelope_s3::client::DecryptedRange) {
    /// println!("{:?}", range.metadata().version());
    /// # }
    /// ```
    pub fn metadata(&self) -> &ContentMetadata {
        &self.metadata
    }
}

impl AsyncRead for DecryptedRange {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.position < this.plaintext.len() {
                let count = out.remaining().min(this.plaintext.len() - this.position);
                out.put_slice(&this.plaintext[this.position..this.position + count]);
                this.position += count;
                return Poll::Ready(Ok(()));
            }
            let remaining = this.range.end - this.offset;
            if remaining == 0 {
                return Poll::Ready(Ok(()));
            }
            let want = this.buffer.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let mut read = ReadBuf::new(&mut this.buffer[..want]);
            ready!(this.body.as_mut().poll_read(cx, &mut read))?;
            let count = read.filled().len();
            if count == 0 {
                let error =
                    Error::S3 { operation: "GetObject", message: format!("the range ended {remaining} bytes early") };
                return Poll::Ready(Err(error.into()));
            }
            this.plaintext = this.key.ctr_at(this.offset, &this.buffer[..count]).map_err(std::io::Error::from)?;
            this.position = 0;
            this.offset += count as u64;
        }
    }
}

impl fmt::Debug for DecryptedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedRange")
            .field("range", &self.range)
            .field("object_length", &self.object_length)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// The crate's error back out of an `io::Error` the readers produced.
fn unwrap_io(error: std::io::Error) -> Error {
    if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Ok(inner) = error.into_inner().expect("checked").downcast::<Error>() {
            return *inner;
        }
        return Error::internal("an error lost its type");
    }
    Error::Io(error)
}

/// A writer that counts the bytes written to it (the plaintext length of a download, the
/// ciphertext length of a spool).
pub(super) struct Counted<W> {
    pub(super) writer: W,
    pub(super) written: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let count = self.writer.write(bytes)?;
        self.written += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// The ciphertext bytes of a body run through a decryptor, the last 16 held back as the tag:
/// the verification pass (the plaintext thrown away) or the decrypt-to-file pass (the plaintext
/// written to a file nobody reads before the tag verified).
pub(super) struct TagCheck {
    decryptor: BodyDecryptor,
    held: [u8; TAG_LEN],
    held_len: usize,
}

impl TagCheck {
    pub(super) fn new(decryptor: BodyDecryptor) -> TagCheck {
        TagCheck { decryptor, held: [0; TAG_LEN], held_len: 0 }
    }

    /// Runs the next body bytes through the decryptor, in place: `data` is ciphertext on entry
    /// and unauthenticated plaintext (or a kept tag candidate) on return, so the caller must have
    /// stored it first if it needs it and must zero it before it leaves its hands. The plaintext
    /// these bytes complete is the returned prefix (bytes held back from the last call) followed
    /// by the front of `data` (see [`Released`]).
    pub(super) fn feed(&mut self, data: &mut [u8]) -> Result<Released> {
        if data.len() >= TAG_LEN {
            // Everything held and all but the last 16 bytes of `data` are body, not tag.
            let mut prefix = Zeroizing::new(self.held);
            let prefix_len = self.held_len;
            self.decryptor.update(&mut prefix[..prefix_len])?;
            let cut = data.len() - TAG_LEN;
            self.held.copy_from_slice(&data[cut..]);
            self.held_len = TAG_LEN;
            self.decryptor.update(&mut data[..cut])?;
            return Ok(Released { prefix, prefix_len, front: cut });
        }
        // A short piece: join it to what is held, release the front of the join (under 16 bytes).
        let mut joined = Zeroizing::new([0u8; 2 * TAG_LEN]);
        joined[..self.held_len].copy_from_slice(&self.held[..self.held_len]);
        joined[self.held_len..self.held_len + data.len()].copy_from_slice(data);
        let total = self.held_len + data.len();
        let cut = total.saturating_sub(TAG_LEN);
        self.decryptor.update(&mut joined[..cut])?;
        let mut prefix = Zeroizing::new([0u8; TAG_LEN]);
        prefix[..cut].copy_from_slice(&joined[..cut]);
        self.held = [0; TAG_LEN];
        self.held[..total - cut].copy_from_slice(&joined[cut..total]);
        self.held_len = total - cut;
        Ok(Released { prefix, prefix_len: cut, front: 0 })
    }

    pub(super) fn finish(self) -> Result<()> {
        if self.held_len != TAG_LEN {
            return Err(SecurityError::TagMismatch.into());
        }
        self.decryptor.finish(&self.held)
    }
}

/// The plaintext one [`TagCheck::feed`] call completed: `prefix[..prefix_len]` (bytes held back
/// by the call before), then the first `front` bytes of the piece it was given.
pub(super) struct Released {
    prefix: Zeroizing<[u8; TAG_LEN]>,
    prefix_len: usize,
    front: usize,
}

impl Released {
    /// Writes this plaintext, `piece` being the bytes the feed call decrypted.
    pub(super) fn write_to(&self, piece: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.prefix[..self.prefix_len])?;
        out.write_all(&piece[..self.front])
    }
}

/// A piece of the body: ciphertext on the way in, zeroed when dropped (the passes leave
/// unauthenticated plaintext in it).
pub(super) type Piece = Zeroizing<Vec<u8>>;

/// Pieces a [`pipelined`] run holds at most: one filling from the network, and the rest in or
/// before its two stages.
const PIPELINE_PIECES: usize = 4;

/// Runs two stages over `body` piece by piece ([`SPOOL_CHUNK`] bytes), each stage a job on the
/// blocking pool that takes the pieces in order: while the network fills one piece, `first`
/// works on the next and `second` on the one before (a spool's write and its tag check, a
/// decryption and its write), so a stage's work overlaps the other's and the download on
/// machines with cores to spare. `first` hands `second` a value with each piece. Returns each
/// stage's state after the last piece, or the first error (a stage's, or the network's: then
/// the stages finish on their own and their states are dropped).
pub(super) async fn pipelined<R, A, B, X, F, G>(body: &mut R, first: (A, F), second: (B, G)) -> Result<(A, B)>
where
    R: AsyncRead + Unpin + ?Sized,
    A: Send + 'static,
    B: Send + 'static,
    X: Send + 'static,
    F: FnMut(&mut A, &mut [u8]) -> Result<X> + Send + 'static,
    G: FnMut(&mut B, &mut [u8], X) -> Result<()> + Send + 'static,
{
    let (to_first, mut first_in) = mpsc::channel::<(Piece, usize)>(1);
    let (to_second, mut second_in) = mpsc::channel::<(Piece, usize, X)>(1);
    // Room for every piece, so the second stage's hand-back never waits.
    let (give_back, mut returned) = mpsc::channel::<Piece>(PIPELINE_PIECES);
    let first_job = tokio::task::spawn_blocking(move || {
        let (mut state, mut work) = first;
        while let Some((mut piece, count)) = first_in.blocking_recv() {
            let handed = work(&mut state, &mut piece[..count])?;
            if to_second.blocking_send((piece, count, handed)).is_err() {
                break; // the second stage failed: its error is the one reported
            }
        }
        Ok::<A, Error>(state)
    });
    let second_job = tokio::task::spawn_blocking(move || {
        let (mut state, mut work) = second;
        while let Some((mut piece, count, handed)) = second_in.blocking_recv() {
            work(&mut state, &mut piece[..count], handed)?;
            let _ = give_back.try_send(piece);
        }
        Ok::<B, Error>(state)
    });
    let mut allocated = 0;
    let whole = loop {
        let mut piece = match returned.try_recv() {
            Ok(piece) => piece,
            Err(_) if allocated < PIPELINE_PIECES => {
                allocated += 1;
                Zeroizing::new(vec![0u8; SPOOL_CHUNK])
            }
            Err(_) => match returned.recv().await {
                Some(piece) => piece,
                None => break false,
            },
        };
        let count = fill(body, &mut piece).await?;
        if count == 0 {
            break true;
        }
        if to_first.send((piece, count)).await.is_err() {
            break false;
        }
    };
    drop(to_first);
    let stopped = |e: tokio::task::JoinError| Error::internal(format!("a file job stopped: {e}"));
    let first = first_job.await.map_err(stopped)?;
    let second = second_job.await.map_err(stopped)?;
    let (first, second) = (first?, second?);
    if !whole {
        return Err(Error::internal("a file job stopped early"));
    }
    Ok((first, second))
}

/// Reads into `buffer` until it is full or the reader ends; the count read.
async fn fill<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, buffer: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let count = reader.read(&mut buffer[filled..]).await?;
        if count == 0 {
            break;
        }
        filled += count;
    }
    Ok(filled)
}

impl S3EncryptionClient {
    /// Gets and decrypts an object whole, into memory (see [`get_object`](Self::get_object)).
    ///
    /// `encryption_context` must equal the context given at put (KMS wraps).
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let plaintext = client.get_bytes("bucket", "hello.txt", &Default::default()).await?;
    /// # let _ = plaintext;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_bytes(
        &self,
        bucket: &str,
        key: &str,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>> {
        self.get_object(bucket, key, encryption_context).await?.into_bytes().await
    }

    /// Gets an object and returns a reader of its plaintext. Every check (metadata, commitment
    /// policy, context, key commitment) passes before this returns; with
    /// [`Authentication::VerifyFirst`] the tag too (see the [module](crate::client) docs).
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let object = client.get_object("bucket", "hello.txt", &Default::default()).await?;
    /// assert!(object.plaintext_length().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<DecryptedObject> {
        let output = self.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("GetObject", e))?;
        let metadata = self.content_metadata(bucket, key, output.metadata()).await?;
        let body_length = output.content_length().and_then(|length| u64::try_from(length).ok());
        let mut body = Box::pin(output.body.into_async_read());
        let limit = self.crypto.buffer_limit();
        let object = |plaintext_length, authentication, reader: Pin<Box<dyn AsyncRead + Send>>| DecryptedObject {
            metadata: metadata.clone(),
            plaintext_length,
            authentication,
            reader,
        };

        // Legacy CBC has no stream form and no tag: read whole, only with the opt-in (checked by decrypt).
        if metadata.suite().is_legacy() {
            let ciphertext = read_bounded(&mut body, limit).await?;
            let plaintext = self.crypto.decrypt(&metadata, ciphertext, encryption_context).await?;
            let length = plaintext.len() as u64;
            return Ok(object(Some(length), Authentication::VerifyFirst, Box::pin(BodyReader::new(plaintext))));
        }
        let plaintext_length = body_length.map(|length| length.saturating_sub(TAG_LEN as u64));
        if self.authentication == Authentication::Delayed {
            let content_key = self.crypto.begin_decrypt(&metadata, encryption_context).await?;
            let reader = DecryptingReader::with_chunk(body, content_key.decryptor()?, SPOOL_CHUNK);
            debug!(bucket, key, "streaming an object with delayed authentication (caller's opt-in)");
            return Ok(object(plaintext_length, Authentication::Delayed, Box::pin(reader)));
        }
        let in_memory = limit.min(self.memory_limit);
        if body_length.is_some_and(|length| length <= in_memory) {
            let ciphertext = read_bounded(&mut body, in_memory).await?;
            let plaintext = self.crypto.decrypt(&metadata, ciphertext, encryption_context).await?;
            return Ok(object(plaintext_length, Authentication::VerifyFirst, Box::pin(BodyReader::new(plaintext))));
        }

        // Larger than memory allows: ciphertext to a private unnamed file while the tag is
        // checked, then decrypted from that file as the caller reads (see spool.rs).
        let content_key = self.crypto.begin_decrypt(&metadata, encryption_context).await?;
        let spool = match &self.spool_dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        let spool = spool_and_check(&mut body, spool, TagCheck::new(content_key.decryptor()?)).await?;
        debug!(bucket, key, "verified a large object's tag; releasing it from the spool file");
        let reader = SpoolReader::start(spool, content_key);
        Ok(object(plaintext_length, Authentication::VerifyFirst, Box::pin(reader)))
    }

    /// Reads `range` of an object's plaintext into memory (at most
    /// [`ObjectCrypto::buffer_limit`](crate::ObjectCrypto::buffer_limit) bytes), **unauthenticated**;
    /// see [`get_range_stream`](Self::get_range_stream).
    ///
    /// ```no_run
    /// use envelope_s3::client::ByteRange;
    ///
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let last_kib = client.get_range("bucket", "log", "bytes=-1024".parse()?, &Default::default()).await?;
    /// # let _ = last_kib;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        range: ByteRange,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>> {
        let mut stream = self.get_range_stream(bucket, key, range, encryption_context).await?;
        let limit = self.crypto.buffer_limit();
        if stream.len() > limit {
            return Err(PolicyViolation::TooLarge { limit }.into());
        }
        let mut out = Vec::with_capacity(stream.len() as usize);
        stream.read_to_end(&mut out).await.map_err(unwrap_io)?;
        Ok(out)
    }

    /// Streams `range` of an object's plaintext, **unauthenticated** (the tag covers the whole
    /// object): only with [`ObjectCrypto::legacy_unauthenticated_modes`](crate::ObjectCrypto::legacy_unauthenticated_modes),
    /// as in the Java client. The end is clamped to the object; a start at or past its end is
    /// [`Error::InvalidRange`]. A V3 object's key commitment is still checked, and the range is
    /// read from the same object version the metadata came from (If-Match on its ETag). Memory
    /// stays one chunk whatever the range's size: each piece is decrypted with AES-CTR at its
    /// offset as it arrives.
    ///
    /// ```no_run
    /// use tokio::io::AsyncReadExt;
    ///
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let mut range = client.get_range_stream("bucket", "video", "bytes=1048576-".parse()?, &Default::default()).await?;
    /// let mut out = tokio::fs::File::create("tail.bin").await?;
    /// tokio::io::copy(&mut range, &mut out).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_range_stream(
        &self,
        bucket: &str,
        key: &str,
        range: ByteRange,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<DecryptedRange> {
        if !self.crypto.allows_unauthenticated() {
            return Err(PolicyViolation::UnauthenticatedRange.into());
        }
        let head = self.s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("HeadObject", e))?;
        let metadata = self.content_metadata(bucket, key, head.metadata()).await?;
        if metadata.suite().is_legacy() {
            return Err(Error::Usage("ranged reads of legacy CBC objects are not supported".into()));
        }
        let body_length = head
            .content_length()
            .and_then(|length| u64::try_from(length).ok())
            .ok_or_else(|| Error::S3 { operation: "HeadObject", message: "no Content-Length".into() })?;
        let plaintext_length =
            body_length.checked_sub(TAG_LEN as u64).ok_or_else(|| Error::from(SecurityError::TagMismatch))?;
        let wanted = range.resolve(plaintext_length)?;
        // Every check (policy, context, commitment) before the body is requested.
        let content_key = self.crypto.begin_decrypt(&metadata, encryption_context).await?;
        let mut request =
            self.s3.get_object().bucket(bucket).key(key).range(format!("bytes={}-{}", wanted.start, wanted.end - 1));
        // The same object the metadata came from, or S3's PreconditionFailed.
        if let Some(e_tag) = head.e_tag() {
            request = request.if_match(e_tag);
        }
        let output = request.send().await.map_err(|e| s3_error("GetObject", e))?;
        debug!(bucket, key, %range, "streaming an unauthenticated range");
        Ok(DecryptedRange {
            metadata,
            object_length: plaintext_length,
            range: wanted.clone(),
            offset: wanted.start,
            body: Box::pin(output.body.into_async_read()),
            key: content_key,
            buffer: vec![0; CHUNK],
            plaintext: Zeroizing::new(Vec::new()),
            position: 0,
        })
    }

    /// The object's content metadata: from its user metadata, or completed with its instruction
    /// file.
    pub(crate) async fn content_metadata(
        &self,
        bucket: &str,
        key: &str,
        object_metadata: Option<&HashMap<String, String>>,
    ) -> Result<ContentMetadata> {
        let empty = HashMap::new();
        let pending = match ContentMetadata::locate(object_metadata.unwrap_or(&empty))? {
            MetadataLocation::Object(metadata) => return Ok(metadata),
            MetadataLocation::InstructionFile(pending) => pending,
        };
        let instruction_key = self.instruction_key(key);
        let output = match self.s3.get_object().bucket(bucket).key(&instruction_key).send().await {
            Ok(output) => output,
            Err(error) if matches!(error.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Err(Error::malformed(
                    "instruction file",
                    format!("{key} has no encryption metadata and there is no {instruction_key}"),
                ));
            }
            Err(error) => return Err(s3_error("GetObject", error)),
        };
        let mut body = Box::pin(output.body.into_async_read());
        let bytes = read_bounded(&mut body, MAX_INSTRUCTION_FILE).await?;
        let text = String::from_utf8(bytes).map_err(|_| Error::malformed("instruction file", "not UTF-8"))?;
        pending.complete(&text)
    }
}

pub(super) async fn read_bounded<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut out).await?;
    if out.len() as u64 > limit {
        return Err(PolicyViolation::TooLarge { limit }.into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Trickle;

    /// A body that fails after `good` bytes.
    struct Broken<'a> {
        good: Trickle<'a>,
    }

    impl AsyncRead for Broken<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            out: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            if self.good.data.is_empty() {
                return Poll::Ready(Err(std::io::Error::other("connection reset")));
            }
            Pin::new(&mut self.good).poll_read(cx, out)
        }
    }

    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// The stages' records of what they saw: the first stage's copy of the bytes and piece
    /// count, the second stage's copy and the piece numbers the first handed it.
    async fn run(data: &[u8], step: usize) -> Result<((Vec<u8>, usize), (Vec<u8>, Vec<usize>))> {
        let first = |seen: &mut (Vec<u8>, usize), piece: &mut [u8]| {
            seen.0.extend_from_slice(piece);
            seen.1 += 1;
            piece.iter_mut().for_each(|byte| *byte ^= 0xff); // the second stage must see this
            Ok(seen.1)
        };
        let second = |seen: &mut (Vec<u8>, Vec<usize>), piece: &mut [u8], number: usize| {
            seen.0.extend(piece.iter().map(|byte| byte ^ 0xff));
            seen.1.push(number);
            Ok(())
        };
        let mut reader = Trickle { data, step };
        pipelined(&mut reader, ((Vec::new(), 0), first), ((Vec::new(), Vec::new()), second)).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_stages_see_every_byte_in_order_with_what_the_first_handed_on() {
        for len in [0, 1, SPOOL_CHUNK - 1, SPOOL_CHUNK, SPOOL_CHUNK + 1, 9 * SPOOL_CHUNK + 7] {
            for step in [4096, usize::MAX] {
                let data = body(len);
                let ((first, pieces), (second, numbers)) = run(&data, step).await.unwrap();
                assert!(first == data && second == data, "len {len} step {step}");
                assert_eq!(pieces, len.div_ceil(SPOOL_CHUNK));
                assert_eq!(numbers, (1..=pieces).collect::<Vec<_>>());
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_in_either_stage_or_the_body_is_the_one_returned() {
        let data = body(12 * SPOOL_CHUNK);
        for failing in 1..=2 {
            for at in [1usize, 2, 12] {
                let first = move |count: &mut usize, _: &mut [u8]| {
                    *count += 1;
                    match failing == 1 && *count == at {
                        true => Err(Error::Usage("first".into())),
                        false => Ok(()),
                    }
                };
                let second = move |count: &mut usize, _: &mut [u8], ()| {
                    *count += 1;
                    match failing == 2 && *count == at {
                        true => Err(Error::Usage("second".into())),
                        false => Ok(()),
                    }
                };
                let mut reader = Trickle { data: &data, step: usize::MAX };
                let error = pipelined(&mut reader, (0, first), (0, second)).await.err().unwrap();
                let expected = if failing == 1 { "first" } else { "second" };
                assert!(matches!(&error, Error::Usage(which) if which == expected), "{failing} at {at}: {error:?}");
            }
        }
        let mut reader = Broken { good: Trickle { data: &data[..3 * SPOOL_CHUNK + 5], step: 1 << 16 } };
        let keep = |_: &mut (), _: &mut [u8]| Ok(());
        let pass = |_: &mut (), _: &mut [u8], ()| Ok(());
        let error = pipelined(&mut reader, ((), keep), ((), pass)).await.err().unwrap();
        assert!(error.to_string().contains("connection reset"), "{error}");
    }
}
