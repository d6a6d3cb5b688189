//! # envelope-keyrings
//!
//! Keyrings for [`envelope`]: they generate, wrap and unwrap the data key of each message.
//!
//! - [`RawAesKeyring`]: AES-GCM under a local 128/192/256-bit key; binds the encryption context.
//! - [`RawRsaKeyring`]: RSA (PKCS #1 v1.5 or OAEP with SHA-1/256/384/512) under a local key pair;
//!   an encrypt-only keyring needs just the public key.
//!
//! Both write encrypted data keys byte-compatible with the AWS Encryption SDKs' raw keyrings (and
//! their "raw"/JCE master keys): same namespace, name and key material, same messages.
//!
//! ```
//! use envelope::{
//!     CommitmentPolicy, DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionContext,
//!     EncryptionMaterialsRequest, MaterialsManager,
//! };
//! use envelope_keyrings::RawAesKeyring;
//!
//! # fn main() -> envelope::Result<()> {
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! // In practice the wrapping key comes from a secrets store, never from source code.
//! let keyring = RawAesKeyring::new("my-namespace", "my-key", vec![0x42; 32])?;
//! let cmm = DefaultMaterialsManager::new(keyring);
//!
//! let context = EncryptionContext::from([("purpose".to_owned(), "example".to_owned())]);
//! let request = EncryptionMaterialsRequest::new(context.clone(), CommitmentPolicy::default());
//! let encryption = cmm.encryption_materials(request).await?;
//! let edks = encryption.encrypted_data_keys().to_vec();
//! assert_eq!(edks[0].provider_id, "my-namespace");
//!
//! // On decrypt, the same keyring recovers the data key from the EDK (under the same context).
//! let request = DecryptionMaterialsRequest::new(
//!     encryption.suite(),
//!     CommitmentPolicy::default(),
//!     edks,
//!     encryption.encryption_context().clone(),
//!     None,
//! );
//! let decryption = cmm.decryption_materials(request).await?;
//! assert_eq!(
//!     decryption.data_key().map(|k| k.expose_secret()),
//!     encryption.data_key().map(|k| k.expose_secret()),
//! );
//! # Ok(())
//! # })
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod pem;
pub mod raw_aes;
pub mod raw_rsa;

pub use raw_aes::RawAesKeyring;
pub use raw_rsa::{RawRsaKeyring, RsaPadding, RsaPrivateKey, RsaPublicKey};

use envelope::error::KeyringError;
use envelope::Result;

/// Provider ids starting with this are reserved for the AWS KMS keyrings.
const RESERVED_NAMESPACE_PREFIX: &str = "aws-kms";

/// Checks a raw keyring's namespace and name. `info_overhead` is how many bytes the keyring adds
/// after the key name in its provider info (the EDK field holds at most 65535 bytes).
pub(crate) fn validate_names(kind: &str, key_namespace: &str, key_name: &str, info_overhead: usize) -> Result<()> {
    // spec: raw-aes-keyring.md / raw-rsa-keyring.md — MUST NOT accept a key namespace of "aws-kms";
    // keyring-interface.md#key-provider-id — no other keyring's provider id may start with it.
    if key_namespace.starts_with(RESERVED_NAMESPACE_PREFIX) {
        return Err(KeyringError::Configuration(format!(
            "a {kind} keyring's key namespace must not start with {RESERVED_NAMESPACE_PREFIX:?} (reserved for AWS KMS)"
        ))
        .into());
    }
    if key_namespace.len() > usize::from(u16::MAX) {
        return Err(KeyringError::Configuration(format!(
            "a {kind} keyring's key namespace is {} bytes; the message format allows 65535",
            key_namespace.len()
        ))
        .into());
    }
    if key_name.len() + info_overhead > usize::from(u16::MAX) {
        return Err(KeyringError::Configuration(format!(
            "a {kind} keyring's key name is {} bytes; the message format allows {}",
            key_name.len(),
            usize::from(u16::MAX) - info_overhead
        ))
        .into());
    }
    Ok(())
}
