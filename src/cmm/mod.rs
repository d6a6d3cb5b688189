//! The `MaterialsManager` seam (the spec's "cryptographic materials manager", CMM) and its
//! implementations.
//!
//! spec: framework/cmm-interface.md

mod default;
mod required_encryption_context;
mod signing_keys;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use default::DefaultMaterialsManager;
pub use required_encryption_context::RequiredEncryptionContextMaterialsManager;

use crate::error::Result;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Supplies the materials for one message: on encrypt a data key, its EDKs and a signing key; on
/// decrypt the data key recovered from the header's EDKs and the verification key.
#[async_trait]
pub trait MaterialsManager: Send + Sync + fmt::Debug {
    /// Materials to write a message.
    async fn encryption_materials(&self, request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials>;

    /// Materials to read a message whose header has been parsed.
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
    pub fn with_algorithm_suite(mut self, suite: Option<AlgorithmSuite>) -> Self {
        self.algorithm_suite = suite;
        self
    }

    /// Declares an upper bound on the plaintext length.
    pub fn with_max_plaintext_length(mut self, length: Option<u64>) -> Self {
        self.max_plaintext_length = length;
        self
    }
}

/// What the reader asks a materials manager for.
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
