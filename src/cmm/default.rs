//! The default materials manager: one keyring, signing keys for signed suites, commitment policy.
//!
//! spec: framework/default-cmm.md

use std::sync::Arc;

use async_trait::async_trait;

use super::signing_keys::SigningKeyPool;
use super::{DecryptionMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager};
use crate::crypto::signature::VerificationKey;
use crate::error::{Error, KeyringError, PolicyViolation, Result};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptionMaterials, PUBLIC_KEY_CONTEXT_KEY};

/// Wraps one keyring; creates signing keys; enforces the commitment policy.
///
/// A manager that keeps writing signed messages prepares their signing keys on a background
/// thread (see `signing_keys.rs`); clones share those keys.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, DefaultMaterialsManager, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let cmm = DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
/// // What `Client::with_keyring` builds; clones share the keyring and the pool of signing keys.
/// let client = BlockingClient::new(Client::new(cmm.clone()));
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"secret");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DefaultMaterialsManager {
    keyring: Arc<dyn Keyring>,
    signing_keys: Arc<SigningKeyPool>,
}

impl DefaultMaterialsManager {
    /// A manager over `keyring`.
    ///
    /// ```
    /// use envelope::{Client, DefaultMaterialsManager};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let cmm = DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let client = Client::new(cmm);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(keyring: impl Keyring + 'static) -> Self {
        DefaultMaterialsManager::from_arc(Arc::new(keyring))
    }

    /// A manager over a shared keyring.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
    /// use envelope::{DefaultMaterialsManager, Keyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // One keyring behind two managers.
    /// let keyring: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let plain = DefaultMaterialsManager::from_arc(keyring.clone());
    /// let strict = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
    /// # let _ = (plain, strict);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_arc(keyring: Arc<dyn Keyring>) -> Self {
        DefaultMaterialsManager { keyring, signing_keys: Arc::default() }
    }
}

#[async_trait]
impl MaterialsManager for DefaultMaterialsManager {
    async fn encryption_materials(&self, request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
        let policy = request.commitment_policy;
        let suite = request.algorithm_suite.unwrap_or_else(|| policy.default_suite());
        if !policy.allows_encrypt(suite) {
            return Err(PolicyViolation::CommitmentPolicy { suite: suite.id(), policy: policy.name() }.into());
        }
        let mut context = request.encryption_context;
        if context.contains_key(PUBLIC_KEY_CONTEXT_KEY) {
            return Err(PolicyViolation::ReservedEncryptionContextKey(PUBLIC_KEY_CONTEXT_KEY.into()).into());
        }
        let signing_key = match suite.signature() {
            Some(algorithm) => {
                let key = self.signing_keys.take(algorithm)?;
                // spec: the verification key goes into the context under aws-crypto-public-key.
                context.insert(PUBLIC_KEY_CONTEXT_KEY, key.public_key_context_value());
                Some(key)
            }
            None => None,
        };
        let materials =
            EncryptionMaterials::new(suite, context, request.required_encryption_context_keys, signing_key)?;
        let materials = self.keyring.on_encrypt(materials).await?;
        if materials.data_key().is_none() || materials.encrypted_data_keys().is_empty() {
            return Err(KeyringError::Wrap("the keyring produced no data key or no encrypted data key".into()).into());
        }
        // spec: structures.md#symmetric-signing-keys — one per EDK under the DB-ESDK suites.
        materials.check_edk_wrapping()?;
        Ok(materials)
    }

    async fn decryption_materials(&self, request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
        let policy = request.commitment_policy;
        let suite = request.algorithm_suite;
        if !policy.allows_decrypt(suite) {
            return Err(PolicyViolation::CommitmentPolicy { suite: suite.id(), policy: policy.name() }.into());
        }
        let mut context = request.encryption_context;
        let mut required_keys = Vec::new();
        if let Some(reproduced) = request.reproduced_encryption_context {
            for (key, value) in reproduced {
                match context.get(&key) {
                    // spec: a reproduced pair that the message stores must have the same value.
                    Some(stored) if *stored != value => {
                        return Err(PolicyViolation::EncryptionContextMismatch { key }.into());
                    }
                    Some(_) => {}
                    // spec: a reproduced pair the message does not store was only authenticated.
                    None => {
                        required_keys.push(key.clone());
                        context.insert(key, value);
                    }
                }
            }
        }
        let verification_key = match suite.signature() {
            Some(algorithm) => {
                let value = context.get(PUBLIC_KEY_CONTEXT_KEY).ok_or_else(|| {
                    Error::invalid("encryption context", "signed suite without aws-crypto-public-key")
                })?;
                Some(VerificationKey::from_context_value(algorithm, value)?)
            }
            None => None,
        };
        let materials = DecryptionMaterials::new(suite, context, required_keys, verification_key)?;
        let materials = self.keyring.on_decrypt(materials, &request.encrypted_data_keys).await?;
        if materials.data_key().is_none() {
            return Err(KeyringError::NoDataKeyUnwrapped(Vec::new()).into());
        }
        Ok(materials)
    }
}
