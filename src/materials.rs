//! Cryptographic materials: the data key, its encrypted copies, the encryption context and the
//! signing or verification key that one message needs.
//!
//! spec: framework/structures.md

use std::fmt;

use zeroize::Zeroizing;

use crate::crypto::signature::{SigningKey, VerificationKey};
use crate::error::{Error, PolicyViolation, Result};
use crate::suite::AlgorithmSuite;

pub use crate::encryption_context::EncryptionContext;

/// Prefix of encryption context keys that only the SDK itself may write.
pub const RESERVED_CONTEXT_PREFIX: &str = "aws-crypto-";

/// Context key that carries the signature verification key of signed suites.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// A plaintext data key. Zeroized on drop; its Debug output is redacted.
#[derive(Clone)]
pub struct DataKey(Zeroizing<Vec<u8>>);

impl DataKey {
    /// Wraps key bytes.
    pub fn new(bytes: Vec<u8>) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// A fresh random data key of `len` bytes.
    pub fn generate(len: usize) -> Result<DataKey> {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        crate::crypto::rand::fill(&mut bytes)?;
        Ok(DataKey(bytes))
    }

    /// The key bytes. Named so that every use is easy to find in review.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (never true for a key that passed materials validation).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey([REDACTED; {} bytes])", self.0.len())
    }
}

/// One encrypted copy of the data key, as stored in the message header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EncryptedDataKey {
    /// Who can decrypt it: `aws-kms`, or a raw keyring's key namespace.
    pub provider_id: String,
    /// Provider-specific key information (e.g. the KMS key ARN, or the raw key name and IV).
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

impl EncryptedDataKey {
    /// Builds an EDK.
    pub fn new(provider_id: impl Into<String>, provider_info: Vec<u8>, ciphertext: Vec<u8>) -> Self {
        EncryptedDataKey { provider_id: provider_id.into(), provider_info, ciphertext }
    }

    /// Provider info as text when it is UTF-8, hex otherwise (for messages and metadata).
    pub fn provider_info_display(&self) -> String {
        match std::str::from_utf8(&self.provider_info) {
            Ok(text) if text.chars().all(|c| !c.is_control()) => text.to_owned(),
            _ => self.provider_info.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl fmt::Debug for EncryptedDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedDataKey")
            .field("provider_id", &self.provider_id)
            .field("provider_info", &self.provider_info_display())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Everything needed to write one message.
#[derive(Debug)]
pub struct EncryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_encryption_context_keys: Vec<String>,
    data_key: Option<DataKey>,
    encrypted_data_keys: Vec<EncryptedDataKey>,
    signing_key: Option<SigningKey>,
}

impl EncryptionMaterials {
    /// Materials for `suite` with no data key yet. A signing key is required exactly when the
    /// suite signs.
    pub fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_encryption_context_keys: Vec<String>,
        signing_key: Option<SigningKey>,
    ) -> Result<EncryptionMaterials> {
        match (&signing_key, suite.signature()) {
            (Some(key), Some(alg)) if key.algorithm() == alg => {}
            (None, None) => {}
            _ => return Err(Error::usage(format!("suite {suite} and the signing key do not agree"))),
        }
        for key in &required_encryption_context_keys {
            if !encryption_context.contains_key(key) {
                return Err(PolicyViolation::MissingRequiredEncryptionContextKey(key.clone()).into());
            }
        }
        Ok(EncryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys,
            data_key: None,
            encrypted_data_keys: Vec::new(),
            signing_key,
        })
    }

    /// The suite the message will use.
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context, including `aws-crypto-public-key` for signed suites.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// Context keys that are authenticated but not stored in the message.
    pub fn required_encryption_context_keys(&self) -> &[String] {
        &self.required_encryption_context_keys
    }

    /// The plaintext data key, once a keyring has generated it.
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or the length does not fit the suite.
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        fill_data_key(&mut self.data_key, self.suite, key, "encryption")
    }

    /// The encrypted copies of the data key collected so far.
    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }

    /// Adds an encrypted copy of the data key.
    pub fn push_encrypted_data_key(&mut self, edk: EncryptedDataKey) {
        self.encrypted_data_keys.push(edk);
    }

    /// The key that signs the message, for signed suites.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref()
    }

    /// Splits the materials into the parts the message writer consumes.
    pub(crate) fn into_parts(self) -> Result<EncryptionParts> {
        let data_key = self.data_key.ok_or_else(|| Error::usage("encryption materials hold no data key"))?;
        if self.encrypted_data_keys.is_empty() {
            return Err(Error::usage("encryption materials hold no encrypted data key"));
        }
        Ok(EncryptionParts {
            suite: self.suite,
            encryption_context: self.encryption_context,
            required_encryption_context_keys: self.required_encryption_context_keys,
            data_key,
            encrypted_data_keys: self.encrypted_data_keys,
            signing_key: self.signing_key,
        })
    }
}

/// Validated encryption materials, taken apart for the writer.
pub(crate) struct EncryptionParts {
    pub suite: AlgorithmSuite,
    pub encryption_context: EncryptionContext,
    pub required_encryption_context_keys: Vec<String>,
    pub data_key: DataKey,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    pub signing_key: Option<SigningKey>,
}

/// Everything needed to read one message.
#[derive(Debug)]
pub struct DecryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_encryption_context_keys: Vec<String>,
    data_key: Option<DataKey>,
    verification_key: Option<VerificationKey>,
}

impl DecryptionMaterials {
    /// Materials for `suite` with no data key yet. A verification key is required exactly when
    /// the suite signs.
    pub fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_encryption_context_keys: Vec<String>,
        verification_key: Option<VerificationKey>,
    ) -> Result<DecryptionMaterials> {
        match (&verification_key, suite.signature()) {
            (Some(key), Some(alg)) if key.algorithm() == alg => {}
            (None, None) => {}
            _ => return Err(Error::usage(format!("suite {suite} and the verification key do not agree"))),
        }
        Ok(DecryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys,
            data_key: None,
            verification_key,
        })
    }

    /// The message's suite.
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context: stored pairs plus the reproduced required pairs.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// Context keys that were authenticated but not stored in the message.
    pub fn required_encryption_context_keys(&self) -> &[String] {
        &self.required_encryption_context_keys
    }

    /// The plaintext data key, once a keyring has recovered it.
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or the length does not fit the suite.
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        fill_data_key(&mut self.data_key, self.suite, key, "decryption")
    }

    /// The key that verifies the footer signature, for signed suites.
    pub fn verification_key(&self) -> Option<&VerificationKey> {
        self.verification_key.as_ref()
    }

    pub(crate) fn into_parts(self) -> Result<(DataKey, Option<VerificationKey>)> {
        let data_key = self.data_key.ok_or_else(|| Error::usage("decryption materials hold no data key"))?;
        Ok((data_key, self.verification_key))
    }
}

/// Puts a data key into an empty slot, checking its length against the suite.
fn fill_data_key(slot: &mut Option<DataKey>, suite: AlgorithmSuite, key: DataKey, kind: &str) -> Result<()> {
    if slot.is_some() {
        return Err(Error::usage(format!("{kind} materials already hold a data key")));
    }
    if key.len() != suite.data_key_len() {
        return Err(Error::usage(format!(
            "data key is {} bytes; suite {suite} needs {}",
            key.len(),
            suite.data_key_len()
        )));
    }
    *slot = Some(key);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_debug_is_redacted() {
        let key = DataKey::new(vec![0xAB; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab"), "{shown}");
    }

    #[test]
    fn materials_refuse_a_second_or_misfit_data_key() {
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None).unwrap();
        assert!(materials.set_data_key(DataKey::new(vec![0; 16])).is_err());
        materials.set_data_key(DataKey::new(vec![0; 32])).unwrap();
        assert!(materials.set_data_key(DataKey::new(vec![0; 32])).is_err());
    }
}
