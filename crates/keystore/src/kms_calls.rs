//! The three KMS calls a key store makes, exactly as the MPL makes them, and what their failures
//! mean for a key store.
//!
//! spec: framework/branch-key-store.md#wrapped-branch-key-creation, #authenticating-a-keystore-item,
//! #aws-kms-branch-key-decryption

use std::collections::HashMap;

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use zeroize::Zeroizing;

/// Branch keys and beacon keys are 32-byte KMS data keys.
pub const KEY_LEN: i32 = 32;

/// How a KMS call failed.
#[derive(Debug)]
pub enum KmsFailure {
    /// KMS refused the ciphertext with this encryption context (`InvalidCiphertextException`):
    /// the item's attributes, or the logical store name, differ from what was bound at creation.
    ContextMismatch(String),
    /// Any other refusal or failure (access denied, disabled key, wrong Region, no answer …).
    Refused(String),
    /// KMS answered, but not with what was asked (another key id, a wrong length).
    BadResponse(String),
}

fn failure<E, R>(operation: &str, key_id: &str, error: &SdkError<E, R>) -> KmsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or("");
    let message = match error.as_service_error() {
        Some(service) => format!(
            "KMS {operation} with key {key_id}: {}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("")
        ),
        None => format!("KMS {operation} with key {key_id} got no answer: {}", DisplayErrorContext(error)),
    };
    if code == "InvalidCiphertextException" {
        KmsFailure::ContextMismatch(message)
    } else {
        KmsFailure::Refused(message)
    }
}

/// GenerateDataKeyWithoutPlaintext: 32 bytes under `key_id`, bound to `context`. The plaintext
/// never leaves KMS.
pub async fn generate_wrapped_key(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    context: HashMap<String, String>,
    grant_tokens: &[String],
) -> Result<Vec<u8>, KmsFailure> {
    let response = client
        .generate_data_key_without_plaintext()
        .key_id(key_id)
        .number_of_bytes(KEY_LEN)
        .set_encryption_context(Some(context))
        .set_grant_tokens(tokens(grant_tokens))
        .send()
        .await
        .map_err(|e| failure("GenerateDataKeyWithoutPlaintext", key_id, &e))?;
    if response.key_id().is_none() {
        return Err(KmsFailure::BadResponse(format!(
            "KMS GenerateDataKeyWithoutPlaintext with key {key_id} returned no key id"
        )));
    }
    match response.ciphertext_blob {
        Some(blob) if !blob.as_ref().is_empty() => Ok(blob.into_inner()),
        _ => Err(KmsFailure::BadResponse(format!(
            "KMS GenerateDataKeyWithoutPlaintext with key {key_id} returned no ciphertext"
        ))),
    }
}

/// ReEncrypt from `source` to `destination` context under the same key: turns a DECRYPT_ONLY
/// ciphertext into the ACTIVE one at creation, and authenticates an item (same context both
/// sides) before a rotation, without the key ever leaving KMS.
pub async fn re_encrypt(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    ciphertext: &[u8],
    source: HashMap<String, String>,
    destination: HashMap<String, String>,
    grant_tokens: &[String],
) -> Result<Vec<u8>, KmsFailure> {
    let response = client
        .re_encrypt()
        .ciphertext_blob(Blob::new(ciphertext))
        .source_key_id(key_id)
        .set_source_encryption_context(Some(source))
        .destination_key_id(key_id)
        .set_destination_encryption_context(Some(destination))
        .set_grant_tokens(tokens(grant_tokens))
        .send()
        .await
        .map_err(|e| failure("ReEncrypt", key_id, &e))?;
    // The MPL insists KMS used exactly the key it asked for, on both sides.
    if response.source_key_id() != Some(key_id) || response.key_id() != Some(key_id) {
        return Err(KmsFailure::BadResponse(format!(
            "KMS ReEncrypt with key {key_id} answered for keys {:?} → {:?}",
            response.source_key_id(),
            response.key_id()
        )));
    }
    match response.ciphertext_blob {
        Some(blob) if !blob.as_ref().is_empty() => Ok(blob.into_inner()),
        _ => Err(KmsFailure::BadResponse(format!("KMS ReEncrypt with key {key_id} returned no ciphertext"))),
    }
}

/// Decrypt with `key_id` and `context`: the only way a key store obtains key material.
pub async fn decrypt_key(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    ciphertext: &[u8],
    context: HashMap<String, String>,
    grant_tokens: &[String],
) -> Result<Zeroizing<Vec<u8>>, KmsFailure> {
    let response = client
        .decrypt()
        .key_id(key_id)
        .ciphertext_blob(Blob::new(ciphertext))
        .set_encryption_context(Some(context))
        .set_grant_tokens(tokens(grant_tokens))
        .send()
        .await
        .map_err(|e| failure("Decrypt", key_id, &e))?;
    if response.key_id() != Some(key_id) {
        return Err(KmsFailure::BadResponse(format!(
            "KMS Decrypt with key {key_id} answered for key {:?}",
            response.key_id()
        )));
    }
    let plaintext = response.plaintext.map(|blob| Zeroizing::new(blob.into_inner()));
    match plaintext {
        Some(key) if key.len() == KEY_LEN as usize => Ok(key),
        Some(key) => Err(KmsFailure::BadResponse(format!(
            "KMS Decrypt with key {key_id} returned {} bytes, a branch key is {KEY_LEN}",
            key.len()
        ))),
        None => Err(KmsFailure::BadResponse(format!("KMS Decrypt with key {key_id} returned no plaintext"))),
    }
}

fn tokens(grant_tokens: &[String]) -> Option<Vec<String>> {
    (!grant_tokens.is_empty()).then(|| grant_tokens.to_vec())
}
