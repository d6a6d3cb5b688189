//! What the KMS keyrings share on decrypt: which EDKs they try (provider id, then a key ARN in the
//! provider info) and what a KMS Decrypt answer must hold before its data key is used.

use aws_sdk_kms::primitives::Blob;
use envelope::error::{EdkFailure, KeyringError};
use envelope::{DataKey, EncryptedDataKey, Result};

use super::key_arn::{KmsArn, ResourceType};
use super::{describe_error, kms_context, kms_grant_tokens};

/// The key ARN in the provider info of an EDK written under `provider_id`.
///
/// `Ok(None)`: another provider's EDK, recorded in `failures` as not this keyring's. `Err`: the
/// provider info is not a key ARN, which ends OnDecrypt with every failure collected so far.
///
/// spec: aws-kms-keyring.md#ondecrypt — filter on the provider id; the provider info MUST be a
/// valid AWS KMS ARN with a resource type of `key`, or OnDecrypt MUST fail.
pub(crate) fn arn_of<'e>(
    edk: &'e EncryptedDataKey,
    provider_id: &str,
    label: &str,
    failures: &mut Vec<EdkFailure>,
) -> Result<Option<&'e str>> {
    if edk.provider_id != provider_id {
        failures.push(EdkFailure::not_mine(edk, label, format!("provider id is not {provider_id:?}")));
        return Ok(None);
    }
    match edk_key_arn(edk) {
        Ok(info) => Ok(Some(info)),
        Err(why) => {
            failures.push(EdkFailure::failed(edk, label, why));
            Err(KeyringError::NoDataKeyUnwrapped(std::mem::take(failures)).into())
        }
    }
}

/// The EDK's provider info as a key ARN, or why it is not one.
fn edk_key_arn(edk: &EncryptedDataKey) -> std::result::Result<&str, String> {
    let Ok(info) = std::str::from_utf8(&edk.provider_info) else {
        return Err("provider info is not UTF-8, so not a KMS key ARN".into());
    };
    match KmsArn::parse(info) {
        Ok(arn) if arn.resource_type() == ResourceType::Key => Ok(info),
        Ok(_) => Err(format!("provider info {info} is an alias ARN, not a key ARN")),
        Err(error) => Err(error.to_string()),
    }
}

/// KMS Decrypt of a symmetric-key EDK with `key_id`: the data key, or why not.
///
/// spec: aws-kms-keyring.md#ondecrypt — Decrypt with KeyId, the EDK ciphertext, the materials'
/// context and the grant tokens; the response KeyId MUST equal the requested one and the
/// plaintext length MUST be the suite's key derivation input length.
pub(crate) async fn decrypt_data_key(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    edk: &EncryptedDataKey,
    context: &envelope::EncryptionContext,
    grant_tokens: &[String],
    length: usize,
) -> std::result::Result<DataKey, String> {
    let response = client
        .decrypt()
        .key_id(key_id)
        .ciphertext_blob(Blob::new(edk.ciphertext.as_slice()))
        .set_encryption_context(kms_context(context))
        .set_grant_tokens(kms_grant_tokens(grant_tokens))
        .send()
        .await
        .map_err(|error| describe_error("Decrypt", key_id, &error))?;
    answered_for(response.key_id.as_deref(), key_id)?;
    let plaintext = DataKey::new(response.plaintext.map(Blob::into_inner).unwrap_or_default());
    if plaintext.len() != length {
        return Err(format!("KMS Decrypt returned a {}-byte data key; the suite needs {length}", plaintext.len()));
    }
    Ok(plaintext)
}

/// spec: aws-kms-keyring.md#ondecrypt — the response KeyId MUST equal the requested key.
pub(crate) fn answered_for(answered: Option<&str>, key_id: &str) -> std::result::Result<(), String> {
    if answered == Some(key_id) {
        Ok(())
    } else {
        Err(format!("KMS Decrypt answered for key {}, not {key_id}", answered.unwrap_or("(none)")))
    }
}
