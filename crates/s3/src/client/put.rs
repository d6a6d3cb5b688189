//! Puts: one PutObject at or under the multipart threshold, a multipart upload above it.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::debug;

use super::{INSTRUCTION_FILE_MARKER, S3EncryptionClient, metadata_map, s3_error};
use crate::error::Result;
use crate::metadata::ContentMetadata;

/// Per-put choices.
///
/// ```
/// use envelope_s3::client::PutOptions;
///
/// let options = PutOptions::new()
///     .encryption_context([("tenant".to_string(), "acme".to_string())].into())
///     .instruction_file(true);
/// assert_eq!(options.context()["tenant"], "acme");
/// ```
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    encryption_context: BTreeMap<String, String>,
    pub(crate) instruction_file: Option<bool>,
}

impl PutOptions {
    /// No encryption context, the client's metadata placement.
    ///
    /// ```
    /// assert!(envelope_s3::client::PutOptions::new().context().is_empty());
    /// ```
    pub fn new() -> PutOptions {
        PutOptions::default()
    }

    /// The encryption context (KMS wraps bind it; a get must give it again). The reserved
    /// `aws:x-amz-cek-alg` key is refused, before anything is written.
    ///
    /// ```
    /// use envelope_s3::client::PutOptions;
    ///
    /// let options = PutOptions::new().encryption_context([("a".to_string(), "b".to_string())].into());
    /// assert_eq!(options.context().len(), 1);
    /// ```
    pub fn encryption_context(mut self, context: BTreeMap<String, String>) -> PutOptions {
        self.encryption_context = context;
        self
    }

    /// Metadata in an instruction file (`true`) or in the object (`false`) for this put,
    /// whatever the client's default.
    ///
    /// ```
    /// let options = envelope_s3::client::PutOptions::new().instruction_file(true);
    /// # let _ = options;
    /// ```
    pub fn instruction_file(mut self, enabled: bool) -> PutOptions {
        self.instruction_file = Some(enabled);
        self
    }

    /// The encryption context given.
    ///
    /// ```
    /// assert!(envelope_s3::client::PutOptions::default().context().is_empty());
    /// ```
    pub fn context(&self) -> &BTreeMap<String, String> {
        &self.encryption_context
    }
}

/// What a put wrote.
///
/// ```no_run
/// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
/// let outcome = client.put_bytes("bucket", "key", vec![0; 10], &Default::default()).await?;
/// assert_eq!(outcome.plaintext_length, 10);
/// assert_eq!(outcome.parts, 0, "one PutObject");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PutOutcome {
    /// The object's content metadata.
    pub metadata: ContentMetadata,
    /// Plaintext bytes encrypted.
    pub plaintext_length: u64,
    /// Parts of the multipart upload; 0 for a single PutObject.
    pub parts: u32,
    /// Whether the metadata went to an instruction file.
    pub instruction_file: bool,
    /// The object's ETag, as S3 returned it.
    pub e_tag: Option<String>,
}

impl S3EncryptionClient {
    /// Encrypts and puts `plaintext` (multipart above the threshold).
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// client.put_bytes("bucket", "hello.txt", b"hello".to_vec(), &Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        plaintext: Vec<u8>,
        options: &PutOptions,
    ) -> Result<PutOutcome> {
        if plaintext.len() as u64 <= self.multipart_threshold {
            return self.put_single(bucket, key, plaintext, options).await;
        }
        self.put_object(bucket, key, &plaintext[..], options).await
    }

    /// Encrypts and puts the file at `path`, streamed.
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// client.put_file("bucket", "backup.tar", "/var/backups/backup.tar", &Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
        options: &PutOptions,
    ) -> Result<PutOutcome> {
        let file = tokio::fs::File::open(path).await?;
        self.put_object(bucket, key, file, options).await
    }

    /// Encrypts and puts everything `body` yields, in bounded memory: a body longer than the
    /// multipart threshold goes up as a multipart upload (aborted if anything fails).
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let source = tokio::fs::File::open("/var/log/big.log").await?; // any AsyncRead
    /// let outcome = client.put_object("bucket", "big.log", source, &Default::default()).await?;
    /// println!("{} bytes in {} parts", outcome.plaintext_length, outcome.parts);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_object<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        mut body: R,
        options: &PutOptions,
    ) -> Result<PutOutcome> {
        let threshold = usize::try_from(self.multipart_threshold).unwrap_or(usize::MAX - 1);
        let mut head = Vec::new();
        // One byte past the threshold tells "exactly at it" from "over it".
        let at_end = fill(&mut body, &mut head, threshold.saturating_add(1)).await?;
        if at_end && head.len() <= threshold {
            return self.put_single(bucket, key, head, options).await;
        }
        self.put_multipart(bucket, key, head, body, options).await
    }

    async fn put_single(
        &self,
        bucket: &str,
        key: &str,
        plaintext: Vec<u8>,
        options: &PutOptions,
    ) -> Result<PutOutcome> {
        let length = plaintext.len() as u64;
        let object = self.crypto.encrypt(plaintext, &options.encryption_context).await?;
        let use_file = options.instruction_file.unwrap_or(self.instruction_file);
        let (object_metadata, instruction) = self.placement(&object.metadata, use_file);
        let body_length = object.body.len() as i64;
        let output = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .set_metadata(Some(metadata_map(object_metadata)))
            .content_length(body_length)
            .body(ByteStream::from(object.body))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", e))?;
        if let Some(instruction) = instruction {
            self.put_instruction_file(bucket, key, instruction).await?;
        }
        debug!(bucket, key, bytes = length, instruction_file = use_file, "put an encrypted object");
        Ok(PutOutcome {
            metadata: object.metadata,
            plaintext_length: length,
            parts: 0,
            instruction_file: use_file,
            e_tag: output.e_tag().map(str::to_owned),
        })
    }

    /// The object's user metadata and, with instruction files, the file's JSON text.
    pub(crate) fn placement(
        &self,
        metadata: &ContentMetadata,
        instruction_file: bool,
    ) -> (BTreeMap<String, String>, Option<String>) {
        if instruction_file {
            let (object, file) = metadata.to_instruction_file();
            (object, Some(file))
        } else {
            (metadata.to_object_metadata(), None)
        }
    }

    /// Writes `<key>.instruction` with the `x-amz-crypto-instr-file` marker (never a custom
    /// suffix: those are for re-wraps).
    pub(crate) async fn put_instruction_file(&self, bucket: &str, key: &str, json: String) -> Result<()> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(Self::default_instruction_key(key))
            .metadata(INSTRUCTION_FILE_MARKER, "")
            .content_type("application/json")
            .body(ByteStream::from(json.into_bytes()))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", e))?;
        Ok(())
    }
}

/// Reads from `reader` until `buffer` holds `target` bytes or the reader ends; returns whether
/// it ended. Grows `buffer` once, to `target`, so a part never reallocates while it fills.
pub(crate) async fn fill<R: AsyncRead + Unpin>(reader: &mut R, buffer: &mut Vec<u8>, target: usize) -> Result<bool> {
    let mut length = buffer.len();
    if length >= target {
        return Ok(false);
    }
    buffer.reserve_exact(target - length);
    buffer.resize(target, 0);
    while length < target {
        let count = reader.read(&mut buffer[length..]).await?;
        if count == 0 {
            buffer.truncate(length);
            return Ok(true);
        }
        length += count;
    }
    Ok(false)
}
