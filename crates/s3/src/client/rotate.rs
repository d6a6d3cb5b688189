//! Key rotation over S3: an object's instruction file re-wrapped under a new key, the object
//! untouched (see [`crate::rotation`]).

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use tracing::debug;

use super::{INSTRUCTION_FILE_MARKER, S3EncryptionClient, s3_error};
use crate::error::{Error, Result};
use crate::metadata::{ContentMetadata, MetadataLocation};
use crate::rotation::rewrap_instruction_file;
use crate::wrap::S3Keyring;

/// The largest instruction file read.
const MAX_INSTRUCTION_FILE: usize = 1 << 20;

impl S3EncryptionClient {
    /// Re-wraps the data key of `key`'s instruction file `<key>.instruction`: unwrapped with this
    /// client's keyring, wrapped with `new`, and written to `<key><suffix>` — with the default
    /// suffix the file is replaced (only if it did not change since it was read); with a custom
    /// one (see [`S3EncryptionClient::with_instruction_suffix`]) a second instruction file for
    /// `new`'s holders is written beside it. The object itself is not touched; objects whose metadata is in the object are
    /// refused. `encryption_context` is the stored KMS context (exactly, as for a get).
    ///
    /// ```no_run
    /// use envelope_s3::wrap::AesGcmKeyring;
    ///
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let new_key = AesGcmKeyring::new(vec![9; 32], [("key".to_string(), "2026".to_string())].into())?;
    /// client.rewrap_instruction_file("bucket", "report.csv", &new_key, &Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rewrap_instruction_file(
        &self,
        bucket: &str,
        key: &str,
        new: &dyn S3Keyring,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<()> {
        let head = self.s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("HeadObject", e))?;
        let object_metadata: BTreeMap<String, String> =
            head.metadata().cloned().unwrap_or_default().into_iter().collect();
        if matches!(ContentMetadata::locate(&object_metadata)?, MetadataLocation::Object(_)) {
            return Err(Error::Usage(format!(
                "{key} keeps its data key in the object's metadata: only instruction files can be re-wrapped \
                 without rewriting the object"
            )));
        }
        // The put's own instruction file is the source; the destination is this client's suffix:
        // the same file (replaced) by default, another recipient's file with a custom suffix.
        let source_key = Self::default_instruction_key(key);
        let destination_key = self.instruction_key(key);
        let file =
            self.s3.get_object().bucket(bucket).key(&source_key).send().await.map_err(|e| s3_error("GetObject", e))?;
        let e_tag = file.e_tag().map(str::to_owned);
        let bytes = file
            .body
            .collect()
            .await
            .map_err(|error| Error::S3 { operation: "GetObject", message: error.to_string() })?;
        let bytes = bytes.into_bytes();
        if bytes.len() > MAX_INSTRUCTION_FILE {
            return Err(Error::malformed("instruction file", "larger than 1 MiB"));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::malformed("instruction file", "not UTF-8"))?;
        let rotated =
            rewrap_instruction_file(&object_metadata, text, self.crypto.keyring(), new, encryption_context).await?;
        let mut put = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(&destination_key)
            .metadata(INSTRUCTION_FILE_MARKER, "")
            .content_type("application/json")
            .body(ByteStream::from(rotated.into_bytes()));
        // A concurrent rotation or rewrite of the same file wins over this one instead of being
        // overwritten.
        if let (Some(e_tag), true) = (e_tag, destination_key == source_key) {
            put = put.if_match(e_tag);
        }
        put.send().await.map_err(|e| s3_error("PutObject", e))?;
        debug!(bucket, key, "re-wrapped an instruction file");
        Ok(())
    }
}
