//! # envelope-keyrings
//!
//! Keyrings for [`envelope`]: they generate, wrap and unwrap the data key of each message.
//!
//! - [`RawAesKeyring`]: AES-GCM under a local 128/192/256-bit key; binds the encryption context.
//! - [`RawRsaKeyring`]: RSA (PKCS #1 v1.5 or OAEP with SHA-1/256/384/512) under a local key pair;
//!   an encrypt-only keyring needs just the public key. Keys load from PEM or DER (PKCS #8 /
//!   PKCS #1 private keys, SubjectPublicKeyInfo / PKCS #1 public keys); 2048 to 8192 bits.
//!
//! - [`RawEcdhKeyring`]: ECDH key agreement on NIST P-256/384/521 with local EC keys ([`ecdh`]
//!   holds the curves, keys and key derivation it shares with the KMS ECDH keyring).
//! - [`HierarchicalKeyring`] ([`hierarchy`]): data keys wrapped under keys derived from cached
//!   branch keys that a [`KeyStore`] holds (the AWS Material Providers Library's
//!   `aws-kms-hierarchy` format); needs no AWS SDK itself — KMS enters through the key stores.
//! - [`kms`] (feature `kms`, on by default): AWS KMS keyrings (strict, discovery, multi-Region,
//!   RSA, ECDH) over `aws-sdk-kms`. Without it the crate builds with no AWS SDK and no tokio:
//!   `envelope-keyrings = { version = "0.1", default-features = false }`.
//!
//! The raw keyrings write encrypted data keys byte-compatible with the AWS Encryption SDKs' raw keyrings (and
//! their "raw"/JCE master keys): same namespace, name and key material, same messages.
//!
//! ```
//! use std::sync::Arc;
//!
//! use envelope::blocking::BlockingClient;
//! use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext, Keyring, MultiKeyring};
//! use envelope_keyrings::{RawAesKeyring, RawRsaKeyring, RsaPadding, RsaPrivateKey};
//!
//! # fn main() -> envelope::Result<()> {
//! // In practice keys come from a secrets store or PEM files, never from source code.
//! let aes = RawAesKeyring::new("my-namespace", "my-aes-key", vec![0x42; 32])?;
//! let client = BlockingClient::new(Client::with_keyring(aes));
//!
//! let context = EncryptionContext::from([("purpose".to_owned(), "example".to_owned())]);
//! let message = client.encrypt(b"hello", &EncryptOptions::new().encryption_context(context))?;
//! assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"hello");
//!
//! // Two recipients: whoever holds the AES key or the RSA private key can decrypt. The writer
//! // needs only the RSA public key (e.g. `RsaPublicKey::from_pem`).
//! let private = RsaPrivateKey::generate(2048)?;
//! let rsa_writer =
//!     RawRsaKeyring::new("my-namespace", "my-rsa-key", RsaPadding::OaepSha256, Some(private.public_key()), None)?;
//! let aes: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-namespace", "my-aes-key", vec![0x42; 32])?);
//! let writer = BlockingClient::new(Client::with_keyring(MultiKeyring::new(Some(aes), vec![Arc::new(rsa_writer)])?));
//! let message = writer.encrypt(b"for two", &EncryptOptions::new())?;
//!
//! let rsa_reader = RawRsaKeyring::new("my-namespace", "my-rsa-key", RsaPadding::OaepSha256, None, Some(private))?;
//! let reader = BlockingClient::new(Client::with_keyring(rsa_reader));
//! assert_eq!(reader.decrypt(&message, &DecryptOptions::new())?.plaintext, b"for two");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aes_gcm;
pub mod ecdh;
pub mod hierarchy;
#[cfg(feature = "kms")]
pub mod kms;
mod pem;
pub mod raw_aes;
pub mod raw_ecdh;
pub mod raw_rsa;

pub use ecdh::{EcPrivateKey, EcPublicKey, EcdhCurve};
pub use hierarchy::{HierarchicalKeyring, KeyStore, StaticKeyStore};
pub use raw_aes::RawAesKeyring;
pub use raw_ecdh::RawEcdhKeyring;
pub use raw_rsa::{RawRsaKeyring, RsaPadding, RsaPrivateKey, RsaPublicKey};

#[cfg(feature = "kms")]
pub use kms::{
    AwsKmsDiscoveryKeyring, AwsKmsEcdhKeyring, AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring,
    AwsKmsRsaKeyring, DefaultClientSupplier, DiscoveryFilter, KmsClientSupplier,
};

use envelope::Result;
use envelope::error::KeyringError;

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

/// Refuses a suite that needs intermediate key wrapping (the DB-ESDK suites) in a keyring that
/// does not implement it. The spec applies that scheme to every keyring under such suites; only
/// the hierarchical keyring implements it here (the one the MPL's vectors prove), so the others
/// say so before they generate, wrap or call KMS, rather than write EDKs no DB-ESDK could read.
pub(crate) fn refuse_intermediate_wrapping(suite: envelope::AlgorithmSuite, keyring: &str) -> Result<()> {
    if suite.edk_wrapping() != envelope::suite::EdkWrapping::Direct {
        return Err(KeyringError::Configuration(format!(
            "the {keyring} does not implement intermediate key wrapping, which suite {suite} needs \
             (use the hierarchical keyring for the DB-ESDK suites)"
        ))
        .into());
    }
    Ok(())
}
