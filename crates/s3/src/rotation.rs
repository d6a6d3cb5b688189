//! Key rotation through instruction files: the object's data key unwrapped with the old
//! keyring and wrapped again with a new one, without touching the object.
//!
//! spec: client.md (ReEncryptInstructionFile), data-format/metadata-strategy.md — only the
//! instruction file changes: V3 keeps `x-amz-c`, `x-amz-d` and `x-amz-i` in the object, so the
//! new file must go with the same object metadata; V1/V2 files hold everything. The caller (the
//! S3 client) reads the object's metadata and the file, and writes the returned file.

use std::collections::BTreeMap;

use tracing::debug;

use crate::content;
use crate::error::{Error, Result};
use crate::metadata::{ContentMetadata, ContentParams, MetadataLocation};
use crate::wrap::{S3Keyring, UnwrapRequest, WrapRequest};

/// Re-wraps the data key of an object whose metadata is in an instruction file: returns the new
/// instruction file's JSON text. Nothing is written; the object stays as it is.
///
/// `object_metadata` is the object's user metadata (names without `x-amz-meta-`),
/// `instruction_file` the current file's text. `old` must open the current wrap (legacy wraps
/// are not re-wrapped); for a KMS wrap, `encryption_context` must equal the stored context minus
/// the reserved keys, and the new wrap carries the same context (a raw new keyring refuses a
/// non-empty one). A V3 object's key commitment is checked before anything is wrapped, so only
/// the object's own data key can be re-wrapped.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use envelope_s3::rotation::rewrap_instruction_file;
/// use envelope_s3::wrap::{AesGcmKeyring, S3Keyring};
/// use envelope_s3::{ContentMetadata, MetadataLocation, ObjectCrypto};
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let no_context = BTreeMap::new();
/// let old: Arc<dyn S3Keyring> =
///     Arc::new(AesGcmKeyring::new(vec![1; 32], BTreeMap::from([("key".into(), "2025".into())]))?);
/// let new: Arc<dyn S3Keyring> =
///     Arc::new(AesGcmKeyring::new(vec![2; 32], BTreeMap::from([("key".into(), "2026".into())]))?);
/// let object = ObjectCrypto::with_keyring(old.clone()).encrypt(b"rotate me".to_vec(), &no_context).await?;
/// let (object_metadata, file) = object.metadata.to_instruction_file();
///
/// let new_file = rewrap_instruction_file(&object_metadata, &file, old.as_ref(), new.as_ref(), &no_context).await?;
///
/// let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_metadata)? else { unreachable!() };
/// let metadata = pending.complete(&new_file)?;
/// let plaintext = ObjectCrypto::with_keyring(new).decrypt(&metadata, object.body.clone(), &no_context).await?;
/// assert_eq!(plaintext, b"rotate me");
/// assert!(ObjectCrypto::with_keyring(old).decrypt(&metadata, object.body, &no_context).await.is_err());
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub async fn rewrap_instruction_file(
    object_metadata: &BTreeMap<String, String>,
    instruction_file: &str,
    old: &dyn S3Keyring,
    new: &dyn S3Keyring,
    encryption_context: &BTreeMap<String, String>,
) -> Result<String> {
    let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(object_metadata)? else {
        return Err(Error::Usage(
            "the object's own metadata holds its data key: only instruction files can be re-wrapped \
             without rewriting the object"
                .into(),
        ));
    };
    let metadata = pending.complete(instruction_file)?;
    if metadata.suite().is_legacy() {
        return Err(Error::Usage(
            "legacy CBC objects are read only; their instruction files are not re-wrapped".into(),
        ));
    }
    let data_key = old.unwrap(&UnwrapRequest::new(&metadata, encryption_context)).await?;
    if let ContentParams::Committing { message_id, commitment } = metadata.content() {
        // The wrapped key must be the object's: a file carrying another key would otherwise be
        // blessed by the rotation.
        content::check_commitment(data_key.expose_secret(), message_id, commitment)?;
    }
    let wrapped = new.wrap_existing(&WrapRequest::new(metadata.suite(), encryption_context.clone()), &data_key).await?;
    let rotated = ContentMetadata::new(
        metadata.content().clone(),
        wrapped.encrypted_data_key,
        wrapped.wrap,
        wrapped.description,
        metadata.unencrypted_content_length(),
    )?;
    let (object_part, file) = rotated.to_instruction_file();
    if object_part != metadata.to_instruction_file().0 {
        return Err(Error::internal("the rotated metadata would change the object's metadata"));
    }
    debug!(version = ?metadata.version(), from = ?metadata.wrap(), to = %wrapped.wrap, "re-wrapped an instruction file");
    Ok(file)
}
