//! Wrapping the object's data key: the [`S3Keyring`] seam and its implementations: KMS with a
//! key ARN or by discovery, raw AES and raw RSA (each also reading its legacy wraps when the
//! caller opts in).
//!
//! spec: materials/keyrings.md, materials/s3-keyring.md, materials/s3-kms-keyring.md
//!
//! The S3 formats store one wrapped key and no provider id, and bind it to the content suite in
//! ways the AWS Encryption SDK's keyrings do not (an AAD of `115` or `AES/GCM/NoPadding`, a
//! "pseudo data key" for RSA), so raw AES and RSA wrapping happen here over aws-lc-rs. KMS
//! wrapping is the same GenerateDataKey/Decrypt as envelope's [`AwsKmsKeyring`], which
//! [`KmsKeyring`] reuses.
//!
//! [`AwsKmsKeyring`]: envelope_keyrings::kms::AwsKmsKeyring

mod aes_gcm;
mod kms;
mod kms_discovery;
mod rsa;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use envelope::DataKey;

pub use aes_gcm::AesGcmKeyring;
pub use kms::KmsKeyring;
pub use kms_discovery::{KmsDiscoveryFilter, KmsDiscoveryKeyring};
pub use rsa::RsaOaepKeyring;

use crate::error::{PolicyViolation, Result, SecurityError};
use crate::metadata::{ContentMetadata, KeyDescription, WrapAlgorithm};
use crate::suite::ContentSuite;

/// The encryption-context key the format reserves for the content cipher (KMS wraps).
///
/// ```
/// use envelope_s3::wrap::RESERVED_CEK_ALG_KEY;
///
/// // A caller's encryption context for a KMS wrap must not use this key: the client sets it.
/// let context = std::collections::BTreeMap::from([("department".to_owned(), "finance".to_owned())]);
/// assert!(!context.contains_key(RESERVED_CEK_ALG_KEY));
/// assert_eq!(RESERVED_CEK_ALG_KEY, "aws:x-amz-cek-alg");
/// ```
pub const RESERVED_CEK_ALG_KEY: &str = "aws:x-amz-cek-alg";
/// The description key legacy `kms` wraps stored the key id under; not part of a caller's context.
///
/// ```
/// assert_eq!(envelope_s3::wrap::RESERVED_KMS_KEY_ID_KEY, "kms_cmk_id");
/// ```
pub const RESERVED_KMS_KEY_ID_KEY: &str = "kms_cmk_id";

/// Generates, wraps and unwraps the data key of one object.
///
/// Implementations return exactly one wrapped key per object (the formats store one) and must
/// check every binding the format has before returning a data key.
///
/// ```
/// use envelope_s3::wrap::{AesGcmKeyring, S3Keyring, UnwrapRequest, WrapRequest};
/// use envelope_s3::ContentSuite;
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let keyring = AesGcmKeyring::new(vec![7; 32], Default::default())?;
/// let wrapped = keyring.wrap(&WrapRequest::new(ContentSuite::AesGcmCommitting, Default::default())).await?;
/// assert_eq!(wrapped.encrypted_data_key.len(), 12 + 32 + 16);
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait S3Keyring: Send + Sync + fmt::Debug {
    /// Generates a fresh 32-byte data key and wraps it.
    async fn wrap(&self, request: &WrapRequest) -> Result<WrappedDataKey>;

    /// Wraps an existing data key (key rotation of an instruction file: the object's data key
    /// under a new wrapping key). Keyrings that cannot (discovery) refuse; the default refuses.
    async fn wrap_existing(&self, request: &WrapRequest, data_key: &DataKey) -> Result<WrappedDataKey> {
        let _ = (request, data_key);
        Err(crate::Error::Usage(format!("{self:?} cannot wrap an existing data key")))
    }

    /// Unwraps the object's data key.
    async fn unwrap(&self, request: &UnwrapRequest<'_>) -> Result<DataKey>;
}

/// What a put asks of a keyring.
///
/// ```
/// use envelope_s3::wrap::WrapRequest;
/// use envelope_s3::ContentSuite;
///
/// let request = WrapRequest::new(ContentSuite::AesGcm, [("tenant".to_string(), "acme".to_string())].into());
/// assert_eq!(request.suite, ContentSuite::AesGcm);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WrapRequest {
    /// The content suite the object will use (the wrap binds to it).
    pub suite: ContentSuite,
    /// The caller's encryption context (without reserved keys).
    pub encryption_context: BTreeMap<String, String>,
}

impl WrapRequest {
    /// A request for `suite` under `encryption_context`.
    ///
    /// ```
    /// use envelope_s3::wrap::WrapRequest;
    /// use envelope_s3::ContentSuite;
    ///
    /// assert!(WrapRequest::new(ContentSuite::AesGcmCommitting, Default::default()).encryption_context.is_empty());
    /// ```
    pub fn new(suite: ContentSuite, encryption_context: BTreeMap<String, String>) -> WrapRequest {
        WrapRequest { suite, encryption_context }
    }
}

/// A fresh data key and its wrapped form.
///
/// ```
/// use envelope_s3::wrap::{AesGcmKeyring, S3Keyring, WrapRequest};
/// use envelope_s3::{ContentSuite, WrapAlgorithm};
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let keyring = AesGcmKeyring::new(vec![7; 32], Default::default())?;
/// let wrapped = keyring.wrap(&WrapRequest::new(ContentSuite::AesGcm, Default::default())).await?;
/// assert_eq!(wrapped.wrap, WrapAlgorithm::AesGcm);
/// assert_eq!(wrapped.data_key.len(), 32);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct WrappedDataKey {
    /// The plaintext data key (zeroized on drop, Debug redacted).
    pub data_key: DataKey,
    /// The wrapped data key to store.
    pub encrypted_data_key: Vec<u8>,
    /// How it was wrapped.
    pub wrap: WrapAlgorithm,
    /// The material description or KMS context to store.
    pub description: KeyDescription,
}

/// What a get asks of a keyring.
///
/// ```
/// use envelope_s3::wrap::UnwrapRequest;
///
/// # let metadata = envelope_s3::metadata::example_v3();
/// let context = Default::default();
/// let request = UnwrapRequest::new(&metadata, &context);
/// assert!(!request.legacy_wrapping);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct UnwrapRequest<'a> {
    /// The object's metadata.
    pub metadata: &'a ContentMetadata,
    /// The encryption context the caller expects (KMS wraps compare it with the stored one).
    pub encryption_context: &'a BTreeMap<String, String>,
    /// Whether legacy wrapping algorithms may be read.
    pub legacy_wrapping: bool,
}

impl<'a> UnwrapRequest<'a> {
    /// A request without the legacy opt-in.
    ///
    /// ```
    /// use envelope_s3::wrap::UnwrapRequest;
    ///
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// let context = Default::default();
    /// assert!(UnwrapRequest::new(&metadata, &context).encryption_context.is_empty());
    /// ```
    pub fn new(metadata: &'a ContentMetadata, encryption_context: &'a BTreeMap<String, String>) -> UnwrapRequest<'a> {
        UnwrapRequest { metadata, encryption_context, legacy_wrapping: false }
    }

    /// Sets the legacy wrapping opt-in.
    ///
    /// ```
    /// use envelope_s3::wrap::UnwrapRequest;
    ///
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// let context = Default::default();
    /// assert!(UnwrapRequest::new(&metadata, &context).with_legacy_wrapping(true).legacy_wrapping);
    /// ```
    pub fn with_legacy_wrapping(mut self, enabled: bool) -> UnwrapRequest<'a> {
        self.legacy_wrapping = enabled;
        self
    }

    /// The stored wrapping algorithm, refused when legacy and not opted in.
    pub(crate) fn wrap_algorithm(&self) -> Result<Option<WrapAlgorithm>> {
        match self.metadata.wrap() {
            Some(wrap) if wrap.is_legacy() && !self.legacy_wrapping => {
                Err(PolicyViolation::LegacyWrapping { wrap: wrap.v2_name() }.into())
            }
            other => Ok(other),
        }
    }
}

/// The caller's context may not use the keys the format reserves.
pub(crate) fn check_caller_context(context: &BTreeMap<String, String>) -> Result<()> {
    for key in [RESERVED_CEK_ALG_KEY, RESERVED_KMS_KEY_ID_KEY] {
        if context.contains_key(key) {
            return Err(PolicyViolation::ReservedContextKey(key.to_owned()).into());
        }
    }
    // S3 sends user metadata in HTTP headers, which carry ASCII; the official Python client
    // refuses non-ASCII context values at put time, and so does this crate for now.
    if context.iter().any(|(k, v)| !k.is_ascii() || !v.is_ascii()) {
        return Err(crate::Error::Usage(
            "encryption context keys and values must be ASCII (S3 metadata is sent in HTTP headers)".into(),
        ));
    }
    Ok(())
}

/// spec: s3-kms-keyring.md#kms-context — the stored context minus the two reserved keys MUST
/// equal the context the caller gives on the read.
pub(crate) fn check_stored_context(stored: &BTreeMap<String, String>, given: &BTreeMap<String, String>) -> Result<()> {
    let mut stored = stored.clone();
    stored.remove(RESERVED_CEK_ALG_KEY);
    stored.remove(RESERVED_KMS_KEY_ID_KEY);
    if &stored != given {
        return Err(SecurityError::EncryptionContextMismatch.into());
    }
    Ok(())
}
