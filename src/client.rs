//! The paved path: a `Client` holding a materials manager and the policies, with one-shot and
//! streaming encrypt and decrypt.

use std::sync::Arc;

use crate::cmm::{DefaultMaterialsManager, MaterialsManager};
use crate::keyring::Keyring;
use crate::materials::{EncryptedDataKey, EncryptionContext};
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Default frame length of messages envelope writes.
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

/// Encrypts and decrypts messages with one materials manager and one set of policies.
///
/// Cheap to clone; share one per application.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) cmm: Arc<dyn MaterialsManager>,
    pub(crate) config: ClientConfig,
}

/// Policies a client applies to every message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientConfig {
    pub commitment_policy: CommitmentPolicy,
    pub max_encrypted_data_keys: Option<usize>,
    pub net_v4_0_0_retry: bool,
}

impl Client {
    /// A client over a materials manager.
    pub fn new(cmm: impl MaterialsManager + 'static) -> Client {
        Client::from_arc(Arc::new(cmm))
    }

    /// A client over a shared materials manager.
    pub fn from_arc(cmm: Arc<dyn MaterialsManager>) -> Client {
        Client {
            cmm,
            config: ClientConfig {
                commitment_policy: CommitmentPolicy::default(),
                max_encrypted_data_keys: None,
                net_v4_0_0_retry: true,
            },
        }
    }

    /// A client over a keyring, through the default materials manager.
    pub fn with_keyring(keyring: impl Keyring + 'static) -> Client {
        Client::new(DefaultMaterialsManager::new(keyring))
    }

    /// Sets the commitment policy (default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`).
    pub fn commitment_policy(mut self, policy: CommitmentPolicy) -> Client {
        self.config.commitment_policy = policy;
        self
    }

    /// Limits how many encrypted data keys a message may carry (default: no limit).
    pub fn max_encrypted_data_keys(mut self, limit: Option<usize>) -> Client {
        self.config.max_encrypted_data_keys = limit;
        self
    }

    /// Whether to read messages written by .NET ESDK 4.0.0 by retrying header authentication with
    /// its key derivation, as AWS's own readers do (default: on).
    pub fn net_v4_0_0_retry(mut self, enabled: bool) -> Client {
        self.config.net_v4_0_0_retry = enabled;
        self
    }

    /// The configured commitment policy.
    pub fn policy(&self) -> CommitmentPolicy {
        self.config.commitment_policy
    }
}

/// Options for writing one message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncryptOptions {
    /// The encryption context (no key may start with `aws-crypto-`).
    pub encryption_context: EncryptionContext,
    /// The suite; `None` takes the commitment policy's default (0x0578).
    pub algorithm_suite: Option<AlgorithmSuite>,
    /// Plaintext bytes per frame (default 4096).
    pub frame_length: u32,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions { encryption_context: EncryptionContext::new(), algorithm_suite: None, frame_length: DEFAULT_FRAME_LENGTH }
    }
}

impl EncryptOptions {
    /// Default options.
    pub fn new() -> Self {
        EncryptOptions::default()
    }

    /// Sets the encryption context.
    pub fn encryption_context(mut self, context: EncryptionContext) -> Self {
        self.encryption_context = context;
        self
    }

    /// Sets the suite.
    pub fn algorithm_suite(mut self, suite: AlgorithmSuite) -> Self {
        self.algorithm_suite = Some(suite);
        self
    }

    /// Sets the frame length.
    pub fn frame_length(mut self, frame_length: u32) -> Self {
        self.frame_length = frame_length;
        self
    }
}

/// Options for reading one message.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DecryptOptions {
    /// The encryption context the caller expects: stored pairs must match; pairs that the message
    /// does not store are required-context pairs and are authenticated.
    pub encryption_context: Option<EncryptionContext>,
    /// Refuse signed messages (streaming readers that must release plaintext early use this).
    pub unsigned_only: bool,
}

impl DecryptOptions {
    /// Default options.
    pub fn new() -> Self {
        DecryptOptions::default()
    }

    /// Sets the expected (reproduced) encryption context.
    pub fn encryption_context(mut self, context: EncryptionContext) -> Self {
        self.encryption_context = Some(context);
        self
    }

    /// Refuses signed messages.
    pub fn unsigned_only(mut self) -> Self {
        self.unsigned_only = true;
        self
    }
}

/// What a header says, available before any body byte is read.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    /// The suite.
    pub algorithm_suite: AlgorithmSuite,
    /// The message id (16 bytes for v1, 32 for v2).
    pub message_id: Vec<u8>,
    /// The encryption context stored in the header.
    pub encryption_context: EncryptionContext,
    /// The encrypted data keys.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The frame length (0 for a non-framed message).
    pub frame_length: u32,
}

/// A decrypted message.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The header facts.
    pub info: MessageInfo,
}
