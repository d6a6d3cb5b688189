//! The `MaterialsManager` seam (the spec's "cryptographic materials manager", CMM) and its
//! implementations: the default manager over a keyring, the required-encryption-context manager,
//! and the caching manager with its cache seam (`MaterialsCache`) and in-memory cache.
//!
//! spec: framework/cmm-interface.md

mod cache_id;
mod caching;
mod default;
mod local_cache;
mod materials_cache;
mod required_encryption_context;
mod signing_keys;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use caching::{
    CachingMaterialsManager, CachingMaterialsManagerBuilder, MAX_BYTES_ENCRYPTED, MAX_MESSAGES_ENCRYPTED,
};
pub use default::DefaultMaterialsManager;
pub use local_cache::LocalMaterialsCache;
pub use materials_cache::{CacheEntry, CacheId, MaterialsCache, Usage};
pub use required_encryption_context::RequiredEncryptionContextMaterialsManager;

use crate::error::Result;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Supplies the materials for one message: on encrypt a data key, its EDKs and a signing key; on
/// decrypt the data key recovered from the header's EDKs and the verification key.
///
/// A manager that refuses to write messages without a `tenant` pair, in front of the default one:
///
/// ```
/// use async_trait::async_trait;
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{Error, PolicyViolation};
/// use envelope::{
///     Client, DecryptionMaterials, DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptOptions,
///     EncryptionContext, EncryptionMaterials, EncryptionMaterialsRequest, MaterialsManager,
/// };
/// use envelope_keyrings::RawAesKeyring;
///
/// #[derive(Debug)]
/// struct TenantRequired(DefaultMaterialsManager);
///
/// #[async_trait]
/// impl MaterialsManager for TenantRequired {
///     async fn encryption_materials(
///         &self,
///         request: EncryptionMaterialsRequest,
///     ) -> envelope::Result<EncryptionMaterials> {
///         if !request.encryption_context.contains_key("tenant") {
///             return Err(PolicyViolation::MissingRequiredEncryptionContextKey("tenant".into()).into());
///         }
///         self.0.encryption_materials(request).await
///     }
///
///     async fn decryption_materials(
///         &self,
///         request: DecryptionMaterialsRequest,
///     ) -> envelope::Result<DecryptionMaterials> {
///         self.0.decryption_materials(request).await
///     }
/// }
///
/// # fn main() -> envelope::Result<()> {
/// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let client = BlockingClient::new(Client::new(TenantRequired(DefaultMaterialsManager::new(keyring))));
/// assert!(matches!(client.encrypt(b"x", &EncryptOptions::new()), Err(Error::Policy(_))));
/// let with_tenant = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
/// assert!(client.encrypt(b"x", &with_tenant).is_ok());
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait MaterialsManager: Send + Sync + fmt::Debug {
    /// Materials to write a message.
    ///
    /// ```
    /// use envelope::{
    ///     CommitmentPolicy, DefaultMaterialsManager, EncryptionContext, EncryptionMaterialsRequest, MaterialsManager,
    /// };
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let cmm = DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let request = EncryptionMaterialsRequest::new(context, CommitmentPolicy::default());
    /// let materials = cmm.encryption_materials(request).await?;
    ///
    /// assert_eq!(materials.suite().id(), 0x0578);
    /// assert_eq!(materials.data_key().map(|key| key.len()), Some(32));
    /// assert_eq!(materials.encrypted_data_keys().len(), 1);
    /// assert!(materials.signing_key().is_some());
    /// assert!(materials.encryption_context().contains_key("aws-crypto-public-key"));
    /// # Ok(())
    /// # }
    /// ```
    async fn encryption_materials(&self, request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials>;

    /// Materials to read a message whose header has been parsed.
    ///
    /// ```
    /// use envelope::{
    ///     CommitmentPolicy, DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionContext,
    ///     EncryptionMaterialsRequest, MaterialsManager,
    /// };
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let cmm = DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let policy = CommitmentPolicy::default();
    /// let request = EncryptionMaterialsRequest::new(EncryptionContext::new(), policy);
    /// let written = cmm.encryption_materials(request).await?;
    ///
    /// // What a reader finds in the header: the suite, the EDKs and the stored context.
    /// let request = DecryptionMaterialsRequest::new(
    ///     written.suite(),
    ///     policy,
    ///     written.encrypted_data_keys().to_vec(),
    ///     written.encryption_context().clone(),
    ///     None,
    /// );
    /// let read = cmm.decryption_materials(request).await?;
    /// assert_eq!(read.data_key().map(|key| key.expose_secret()), written.data_key().map(|key| key.expose_secret()));
    /// assert!(read.verification_key().is_some());
    /// # Ok(())
    /// # }
    /// ```
    async fn decryption_materials(&self, request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials>;
}

#[async_trait]
impl<M: MaterialsManager + ?Sized> MaterialsManager for Arc<M> {
    async fn encryption_materials(&self, request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
        (**self).encryption_materials(request).await
    }

    async fn decryption_materials(&self, request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
        (**self).decryption_materials(request).await
    }
}

/// What the writer asks a materials manager for.
///
/// ```
/// use envelope::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, EncryptionMaterialsRequest};
///
/// let context = EncryptionContext::from([("tenant", "acme")]);
/// let request = EncryptionMaterialsRequest::new(context, CommitmentPolicy::default())
///     .with_algorithm_suite(Some(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey))
///     .with_max_plaintext_length(Some(1024));
/// assert_eq!(request.encryption_context.get("tenant").map(String::as_str), Some("acme"));
/// assert!(request.required_encryption_context_keys.is_empty());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncryptionMaterialsRequest {
    /// The caller's encryption context.
    pub encryption_context: EncryptionContext,
    /// The client's commitment policy.
    pub commitment_policy: CommitmentPolicy,
    /// The suite the caller asked for, if any.
    pub algorithm_suite: Option<AlgorithmSuite>,
    /// An upper bound on the plaintext length, when known.
    pub max_plaintext_length: Option<u64>,
    /// Context keys to authenticate without storing them in the message.
    pub required_encryption_context_keys: Vec<String>,
}

impl EncryptionMaterialsRequest {
    /// A request with no suite preference and no length bound.
    ///
    /// ```
    /// use envelope::{CommitmentPolicy, EncryptionContext, EncryptionMaterialsRequest};
    ///
    /// let request = EncryptionMaterialsRequest::new(EncryptionContext::new(), CommitmentPolicy::default());
    /// assert_eq!(request.algorithm_suite, None);
    /// assert_eq!(request.max_plaintext_length, None);
    /// ```
    pub fn new(encryption_context: EncryptionContext, commitment_policy: CommitmentPolicy) -> Self {
        EncryptionMaterialsRequest {
            encryption_context,
            commitment_policy,
            algorithm_suite: None,
            max_plaintext_length: None,
            required_encryption_context_keys: Vec::new(),
        }
    }

    /// Asks for a specific suite.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, EncryptionMaterialsRequest};
    ///
    /// let policy = CommitmentPolicy::ForbidEncryptAllowDecrypt;
    /// let request = EncryptionMaterialsRequest::new(EncryptionContext::new(), policy)
    ///     .with_algorithm_suite(Some(AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256));
    /// // A manager takes the policy's default when the request names no suite.
    /// let suite = request.algorithm_suite.unwrap_or_else(|| policy.default_suite());
    /// assert_eq!(suite.id(), 0x0114);
    /// ```
    pub fn with_algorithm_suite(mut self, suite: Option<AlgorithmSuite>) -> Self {
        self.algorithm_suite = suite;
        self
    }

    /// Declares an upper bound on the plaintext length.
    ///
    /// ```
    /// use envelope::{CommitmentPolicy, EncryptionContext, EncryptionMaterialsRequest};
    ///
    /// // One-shot encryption knows the length; a stream does not and leaves it `None`.
    /// let plaintext = b"secret";
    /// let request = EncryptionMaterialsRequest::new(EncryptionContext::new(), CommitmentPolicy::default())
    ///     .with_max_plaintext_length(Some(plaintext.len() as u64));
    /// assert_eq!(request.max_plaintext_length, Some(6));
    /// ```
    pub fn with_max_plaintext_length(mut self, length: Option<u64>) -> Self {
        self.max_plaintext_length = length;
        self
    }
}

/// What the reader asks a materials manager for.
///
/// ```
/// use envelope::{AlgorithmSuite, CommitmentPolicy, DecryptionMaterialsRequest, EncryptedDataKey, EncryptionContext};
///
/// let request = DecryptionMaterialsRequest::new(
///     AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
///     CommitmentPolicy::default(),
///     vec![EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![0; 60])],
///     EncryptionContext::from([("tenant", "acme")]),
///     Some(EncryptionContext::from([("tenant", "acme")])),
/// );
/// // A manager may only hand out a key for EDKs it can unwrap.
/// assert!(request.encrypted_data_keys.iter().any(|edk| edk.provider_id == "my-app"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecryptionMaterialsRequest {
    /// The message's suite.
    pub algorithm_suite: AlgorithmSuite,
    /// The client's commitment policy.
    pub commitment_policy: CommitmentPolicy,
    /// The EDKs from the header.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The encryption context stored in the header.
    pub encryption_context: EncryptionContext,
    /// The context the caller expects (pairs that must match, and required pairs not stored).
    pub reproduced_encryption_context: Option<EncryptionContext>,
}

impl DecryptionMaterialsRequest {
    /// A request for a parsed header.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy, DecryptionMaterialsRequest, EncryptionContext};
    ///
    /// let request = DecryptionMaterialsRequest::new(
    ///     AlgorithmSuite::DEFAULT,
    ///     CommitmentPolicy::default(),
    ///     Vec::new(),
    ///     EncryptionContext::new(),
    ///     None,
    /// );
    /// assert!(request.reproduced_encryption_context.is_none());
    /// ```
    pub fn new(
        algorithm_suite: AlgorithmSuite,
        commitment_policy: CommitmentPolicy,
        encrypted_data_keys: Vec<EncryptedDataKey>,
        encryption_context: EncryptionContext,
        reproduced_encryption_context: Option<EncryptionContext>,
    ) -> Self {
        DecryptionMaterialsRequest {
            algorithm_suite,
            commitment_policy,
            encrypted_data_keys,
            encryption_context,
            reproduced_encryption_context,
        }
    }
}
