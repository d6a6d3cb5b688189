//! Multipart uploads: the parts of one object encrypted in order as a single AES-GCM stream,
//! the tag appended to the last part.

use std::collections::VecDeque;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::AsyncRead;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::put::fill;
use super::{MAX_PARTS, PutOptions, PutOutcome, S3EncryptionClient, metadata_map, s3_error};
use crate::error::{Error, Result};
use crate::metadata::ContentMetadata;
use crate::object::BodyEncryptor;

/// Part uploads that may run at once by default: the next part is encrypted while two go up.
///
/// ```
/// assert_eq!(envelope_s3::client::PARTS_IN_FLIGHT, 2);
/// ```
pub const PARTS_IN_FLIGHT: usize = 2;
/// The most part uploads [`S3EncryptionClient::with_parts_in_flight`] allows at once.
///
/// ```
/// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
/// use envelope_s3::client::MAX_PARTS_IN_FLIGHT;
///
/// # fn main() -> envelope_s3::Result<()> {
/// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
/// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
/// let client = S3EncryptionClient::new(s3, crypto);
/// assert!(client.clone().with_parts_in_flight(MAX_PARTS_IN_FLIGHT + 1).is_err());
/// let client = client.with_parts_in_flight(MAX_PARTS_IN_FLIGHT)?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub const MAX_PARTS_IN_FLIGHT: usize = 16;

/// An encrypted multipart upload in progress: parts are encrypted in the order they are given,
/// as one AES-GCM stream under one data key and encryption context.
///
/// Every part but the last must hold at least 5 MiB (S3's rule); [`complete`](Self::complete)
/// takes the last part, appends the tag and completes the upload. Dropping it without
/// completing leaves an incomplete upload in S3 (no object); [`abort`](Self::abort) removes it.
///
/// ```no_run
/// use envelope_s3::client::{PutOptions, S3EncryptionClient};
///
/// # async fn demo(client: S3EncryptionClient) -> envelope_s3::Result<()> {
/// let mut upload = client.create_multipart_upload("bucket", "big", &PutOptions::new()).await?;
/// upload.upload_part(vec![1; 5 << 20]).await?;
/// upload.upload_part(vec![2; 5 << 20]).await?;
/// let outcome = upload.complete(b"the end".to_vec()).await?;
/// assert_eq!(outcome.parts, 3);
/// # Ok(())
/// # }
/// ```
pub struct MultipartUpload {
    client: S3EncryptionClient,
    bucket: String,
    key: String,
    upload_id: String,
    metadata: ContentMetadata,
    instruction_file: Option<String>,
    /// `None` once the last part was encrypted.
    encryptor: Option<BodyEncryptor>,
    processed: u64,
    parts: Vec<CompletedPart>,
    /// Part uploads running, oldest first.
    in_flight: VecDeque<JoinHandle<Result<CompletedPart>>>,
}

impl S3EncryptionClient {
    /// Starts an encrypted multipart upload: wraps a fresh data key and creates the upload with
    /// the object's metadata.
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let upload = client.create_multipart_upload("bucket", "big", &Default::default()).await?;
    /// println!("upload {}", upload.upload_id());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: &PutOptions,
    ) -> Result<MultipartUpload> {
        // The plaintext length is unknown when the metadata is written, so V2 records none.
        let (metadata, encryptor) = self.crypto.begin_encrypt(options.context(), None).await?;
        let use_file = options.instruction_file.unwrap_or(self.instruction_file);
        let (object_metadata, instruction_file) = self.placement(&metadata, use_file);
        let created = self
            .s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .set_metadata(Some(metadata_map(object_metadata)))
            .send()
            .await
            .map_err(|e| s3_error("CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| Error::S3 { operation: "CreateMultipartUpload", message: "no upload id".into() })?
            .to_owned();
        debug!(bucket, key, upload_id, "started an encrypted multipart upload");
        Ok(MultipartUpload {
            client: self.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id,
            metadata,
            instruction_file,
            encryptor: Some(encryptor),
            processed: 0,
            parts: Vec::new(),
            in_flight: VecDeque::new(),
        })
    }

    /// The automatic path of [`put_object`](Self::put_object): parts of the configured size cut
    /// from `head` then `body`, one part ahead so the last one is known; aborted on failure.
    pub(crate) async fn put_multipart<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        head: Vec<u8>,
        body: R,
        options: &PutOptions,
    ) -> Result<PutOutcome> {
        let upload = self.create_multipart_upload(bucket, key, options).await?;
        let upload_id = upload.upload_id.clone();
        match self.send_parts(upload, head, body).await {
            Ok(outcome) => Ok(outcome),
            Err(error) => {
                // No completed object may come out of a failed put.
                if let Err(abort) = self.abort_upload(bucket, key, &upload_id).await {
                    warn!(bucket, key, upload_id, error = %abort, "could not abort a failed multipart upload");
                }
                Err(error)
            }
        }
    }

    async fn send_parts<R: AsyncRead + Unpin + Send>(
        &self,
        mut upload: MultipartUpload,
        mut pending: Vec<u8>,
        mut body: R,
    ) -> Result<PutOutcome> {
        let part_size = self.part_size;
        loop {
            // One byte past a part tells whether this part is the last.
            fill(&mut body, &mut pending, part_size + 1).await?;
            if pending.len() <= part_size {
                return upload.complete(pending).await;
            }
            let rest = pending.split_off(part_size);
            let part = std::mem::replace(&mut pending, rest);
            upload.upload_part(part).await?;
        }
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        self.s3
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(|e| s3_error("AbortMultipartUpload", e))?;
        Ok(())
    }
}

impl MultipartUpload {
    /// The upload id S3 gave.
    ///
    /// ```no_run
    /// # async fn demo(upload: envelope_s3::client::MultipartUpload) {
    /// assert!(!upload.upload_id().is_empty());
    /// # }
    /// ```
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    /// The object's content metadata (already stored with the upload).
    ///
    /// ```no_run
    /// # async fn demo(upload: envelope_s3::client::MultipartUpload) {
    /// println!("{:?}", upload.metadata().version());
    /// # }
    /// ```
    pub fn metadata(&self) -> &ContentMetadata {
        &self.metadata
    }

    /// Encrypts and uploads the next part (not the last one: see [`complete`](Self::complete)).
    ///
    /// ```no_run
    /// # async fn demo(mut upload: envelope_s3::client::MultipartUpload) -> envelope_s3::Result<()> {
    /// upload.upload_part(vec![0; 5 << 20]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_part(&mut self, plaintext: Vec<u8>) -> Result<()> {
        self.send(plaintext, false).await
    }

    /// Encrypts the last part, appends the tag, uploads it, completes the upload and (when the
    /// metadata goes to an instruction file) writes the instruction file.
    ///
    /// ```no_run
    /// # async fn demo(upload: envelope_s3::client::MultipartUpload) -> envelope_s3::Result<()> {
    /// let outcome = upload.complete(Vec::new()).await?; // an empty last part holds just the tag
    /// # let _ = outcome;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn complete(mut self, last: Vec<u8>) -> Result<PutOutcome> {
        self.send(last, true).await?;
        while !self.in_flight.is_empty() {
            self.finish_oldest().await?;
        }
        let parts = std::mem::take(&mut self.parts);
        let count = parts.len() as u32;
        let output = self
            .client
            .s3
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| s3_error("CompleteMultipartUpload", e))?;
        let instruction_file = self.instruction_file.is_some();
        if let Some(json) = self.instruction_file.take() {
            self.client.put_instruction_file(&self.bucket, &self.key, json).await?;
        }
        let length = self.processed;
        debug!(
            bucket = self.bucket,
            key = self.key,
            bytes = length,
            parts = count,
            "completed an encrypted multipart upload"
        );
        Ok(PutOutcome {
            metadata: self.metadata.clone(),
            plaintext_length: length,
            parts: count,
            instruction_file,
            e_tag: output.e_tag().map(str::to_owned),
        })
    }

    /// Aborts the upload (S3 discards its parts).
    ///
    /// ```no_run
    /// # async fn demo(upload: envelope_s3::client::MultipartUpload) -> envelope_s3::Result<()> {
    /// upload.abort().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn abort(mut self) -> Result<()> {
        self.cancel_in_flight();
        self.client.abort_upload(&self.bucket, &self.key, &self.upload_id).await
    }

    fn cancel_in_flight(&mut self) {
        for task in self.in_flight.drain(..) {
            task.abort();
        }
    }

    /// Waits for the oldest part in flight and records it (parts complete in order).
    async fn finish_oldest(&mut self) -> Result<()> {
        let Some(task) = self.in_flight.pop_front() else { return Ok(()) };
        let part = match task.await {
            Ok(Ok(part)) => part,
            Ok(Err(error)) => {
                self.cancel_in_flight();
                return Err(error);
            }
            Err(join) => {
                self.cancel_in_flight();
                return Err(Error::internal(format!("a part upload task failed: {join}")));
            }
        };
        self.parts.push(part);
        Ok(())
    }

    /// Encrypts the part (in order: the GCM stream is sequential) and starts its upload; at most
    /// [`S3EncryptionClient::parts_in_flight`] uploads run at once, so memory stays a few parts.
    async fn send(&mut self, mut body: Vec<u8>, last: bool) -> Result<()> {
        while self.in_flight.len() >= self.client.parts_in_flight {
            self.finish_oldest().await?;
        }
        let number = i32::try_from(self.parts.len() + self.in_flight.len() + 1).unwrap_or(i32::MAX);
        if number > MAX_PARTS {
            return Err(Error::Usage(format!("an upload has at most {MAX_PARTS} parts; use larger parts")));
        }
        let encryptor =
            self.encryptor.as_mut().ok_or_else(|| Error::Usage("the upload's last part was already sent".into()))?;
        encryptor.update(&mut body)?;
        self.processed += body.len() as u64;
        if last {
            let tag = self.encryptor.take().expect("checked above").finish()?;
            body.extend_from_slice(&tag);
        }
        let length = body.len() as i64;
        let request = self
            .client
            .s3
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .content_length(length)
            .body(ByteStream::from(body));
        self.in_flight.push_back(tokio::spawn(async move {
            let output = request.send().await.map_err(|e| s3_error("UploadPart", e))?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(output.e_tag().map(str::to_owned))
                .set_checksum_crc32(output.checksum_crc32().map(str::to_owned))
                .build())
        }));
        Ok(())
    }
}

impl Drop for MultipartUpload {
    fn drop(&mut self) {
        // Uploads of an abandoned upload stop with it.
        self.cancel_in_flight();
    }
}

impl std::fmt::Debug for MultipartUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultipartUpload")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("upload_id", &self.upload_id)
            .field("parts", &self.parts.len())
            .field("processed", &self.processed)
            .finish_non_exhaustive()
    }
}
