//! The required-encryption-context materials manager: names context keys that every message must
//! carry, and that are authenticated but not stored in the message (the reader must supply them).
//!
//! spec: framework/required-encryption-context-cmm.md

use std::sync::Arc;

use async_trait::async_trait;

use super::{DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
use crate::error::{Error, PolicyViolation, Result};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};

/// Requires a set of encryption context keys on encrypt and on decrypt.
///
/// On encrypt, every required key must be in the caller's encryption context; the keys are passed
/// down as "required", so the message authenticates their pairs without storing them. On decrypt,
/// the caller must reproduce every required pair (the message does not hold them), and the
/// underlying manager must return materials whose context holds them.
///
/// ```
/// use std::sync::Arc;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let keyring = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
/// let cmm = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
/// let client = BlockingClient::new(Client::new(cmm));
///
/// assert!(client.encrypt(b"secret", &EncryptOptions::new()).is_err(), "no tenant given");
/// let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "backup")]);
/// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context))?;
///
/// // The message stores "purpose" but not "tenant": the reader must bring it.
/// let reader_options = DecryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
/// let decrypted = client.decrypt(&message, &reader_options)?;
/// assert!(!decrypted.info.encryption_context.contains_key("tenant"));
/// assert!(client.decrypt(&message, &DecryptOptions::new()).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequiredEncryptionContextMaterialsManager {
    underlying: Arc<dyn MaterialsManager>,
    required_keys: Vec<String>,
}

impl RequiredEncryptionContextMaterialsManager {
    /// Wraps `underlying`, requiring `required_keys` (duplicates are ignored).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
    /// use envelope::{DefaultMaterialsManager, MaterialsManager};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let underlying: Arc<dyn MaterialsManager> =
    ///     Arc::new(DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let required = vec!["tenant".into(), "region".into(), "tenant".into()];
    /// let cmm = RequiredEncryptionContextMaterialsManager::new(underlying, required)?;
    /// assert_eq!(cmm.required_keys(), ["region", "tenant"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(underlying: Arc<dyn MaterialsManager>, required_keys: Vec<String>) -> Result<Self> {
        let mut required_keys = required_keys;
        required_keys.sort_unstable();
        required_keys.dedup();
        Ok(RequiredEncryptionContextMaterialsManager { underlying, required_keys })
    }

    /// Wraps a [`DefaultMaterialsManager`] over `keyring`.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
    /// use envelope::Client;
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let cmm = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
    /// let client = Client::new(cmm);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_keyring(keyring: Arc<dyn Keyring>, required_keys: Vec<String>) -> Result<Self> {
        // spec: #initialization — given a keyring, the underlying CMM MUST be a default CMM over it.
        RequiredEncryptionContextMaterialsManager::new(
            Arc::new(DefaultMaterialsManager::from_arc(keyring)),
            required_keys,
        )
    }

    /// The required keys, sorted.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let cmm = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
    /// assert_eq!(cmm.required_keys(), ["tenant"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn required_keys(&self) -> &[String] {
        &self.required_keys
    }
}

#[async_trait]
impl MaterialsManager for RequiredEncryptionContextMaterialsManager {
    async fn encryption_materials(&self, mut request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
        for key in &self.required_keys {
            // spec: #get-encryption-materials — the request's context MUST hold every required key.
            if !request.encryption_context.contains_key(key) {
                return Err(PolicyViolation::MissingRequiredEncryptionContextKey(key.clone()).into());
            }
            // spec: #get-encryption-materials — every required key MUST be in the request's
            // required keys passed to the underlying CMM.
            if !request.required_encryption_context_keys.contains(key) {
                request.required_encryption_context_keys.push(key.clone());
            }
        }
        let materials = self.underlying.encryption_materials(request).await?;
        // spec: #get-encryption-materials — the materials MUST carry every required key as required.
        if let Some(key) =
            self.required_keys.iter().find(|key| !materials.required_encryption_context_keys().contains(key))
        {
            return Err(Error::usage(format!(
                "the underlying materials manager dropped required encryption context key {key:?}"
            )));
        }
        Ok(materials)
    }

    async fn decryption_materials(&self, request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
        // spec: #decrypt-materials — the reproduced context MUST hold every required key.
        for key in &self.required_keys {
            let reproduced = request.reproduced_encryption_context.as_ref().is_some_and(|c| c.contains_key(key));
            if !reproduced {
                return Err(PolicyViolation::MissingRequiredEncryptionContextKey(key.clone()).into());
            }
        }
        // spec: #decrypt-materials — call the underlying CMM with the unchanged request.
        let materials = self.underlying.decryption_materials(request).await?;
        // spec: #decrypt-materials — the materials' encryption context MUST hold every required
        // key, or their values would not be authenticated. (Stored or reproduced-only both count:
        // a message written without this manager stores the pair in its header.)
        if let Some(key) = self.required_keys.iter().find(|key| !materials.encryption_context().contains_key(*key)) {
            return Err(Error::usage(format!(
                "the underlying materials manager dropped required encryption context key {key:?}"
            )));
        }
        Ok(materials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{EdkFailure, KeyringError};
    use crate::materials::{DataKey, EncryptedDataKey, EncryptionContext};
    use crate::suite::{AlgorithmSuite, CommitmentPolicy};

    /// A keyring with one fixed data key: enough to drive the managers.
    #[derive(Debug)]
    struct FixedKeyring;

    #[async_trait]
    impl Keyring for FixedKeyring {
        async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
            if materials.data_key().is_none() {
                materials.set_data_key(DataKey::new(vec![7; materials.suite().data_key_len()]))?;
            }
            materials.push_encrypted_data_key(EncryptedDataKey::new("fixed", b"k".to_vec(), vec![0]));
            Ok(materials)
        }

        async fn on_decrypt(
            &self,
            mut materials: DecryptionMaterials,
            edks: &[EncryptedDataKey],
        ) -> Result<DecryptionMaterials> {
            crate::keyring::ensure_no_data_key(&materials)?;
            match edks.iter().find(|edk| edk.provider_id == "fixed") {
                Some(_) => {
                    materials.set_data_key(DataKey::new(vec![7; materials.suite().data_key_len()]))?;
                    Ok(materials)
                }
                None => Err(KeyringError::NoDataKeyUnwrapped(
                    edks.iter().map(|edk| EdkFailure::not_mine(edk, "fixed", "not fixed")).collect(),
                )
                .into()),
            }
        }
    }

    /// A manager that forgets required keys: the wrapper must catch it.
    #[derive(Debug)]
    struct ForgetfulManager(DefaultMaterialsManager);

    #[async_trait]
    impl MaterialsManager for ForgetfulManager {
        async fn encryption_materials(&self, mut request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
            request.required_encryption_context_keys.clear();
            self.0.encryption_materials(request).await
        }

        async fn decryption_materials(&self, mut request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
            if let Some(reproduced) = &mut request.reproduced_encryption_context {
                reproduced.remove("tenant");
            }
            self.0.decryption_materials(request).await
        }
    }

    const SUITE: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    const POLICY: CommitmentPolicy = CommitmentPolicy::RequireEncryptRequireDecrypt;

    fn cmm(keys: &[&str]) -> RequiredEncryptionContextMaterialsManager {
        let keys = keys.iter().map(|k| k.to_string()).collect();
        RequiredEncryptionContextMaterialsManager::from_keyring(Arc::new(FixedKeyring), keys).unwrap()
    }

    fn context(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn encrypt_request(ctx: EncryptionContext) -> EncryptionMaterialsRequest {
        EncryptionMaterialsRequest::new(ctx, POLICY).with_algorithm_suite(Some(SUITE))
    }

    /// A decrypt request as the reader builds it: the header holds the stored pairs only.
    fn decrypt_request(stored: EncryptionContext, reproduced: Option<EncryptionContext>) -> DecryptionMaterialsRequest {
        let edks = vec![EncryptedDataKey::new("fixed", b"k".to_vec(), vec![0])];
        DecryptionMaterialsRequest::new(SUITE, POLICY, edks, stored, reproduced)
    }

    fn is_missing(error: &Error, key: &str) -> bool {
        matches!(error, Error::Policy(PolicyViolation::MissingRequiredEncryptionContextKey(k)) if k == key)
    }

    #[tokio::test]
    async fn encrypt_marks_required_keys() {
        let materials = cmm(&["tenant", "purpose"])
            .encryption_materials(encrypt_request(context(&[("tenant", "a"), ("purpose", "p"), ("other", "o")])))
            .await
            .unwrap();
        let mut required = materials.required_encryption_context_keys().to_vec();
        required.sort();
        assert_eq!(required, ["purpose", "tenant"]);
        // The pairs stay in the materials' context: they are authenticated, only not stored.
        assert_eq!(materials.encryption_context().get("tenant").map(String::as_str), Some("a"));
    }

    #[tokio::test]
    async fn encrypt_keeps_keys_already_required_without_duplicates() {
        let mut request = encrypt_request(context(&[("tenant", "a"), ("x", "y")]));
        request.required_encryption_context_keys = vec!["x".into(), "tenant".into()];
        let materials = cmm(&["tenant"]).encryption_materials(request).await.unwrap();
        assert_eq!(materials.required_encryption_context_keys(), ["x", "tenant"]);
    }

    #[tokio::test]
    async fn encrypt_refuses_a_context_without_a_required_key() {
        let error =
            cmm(&["tenant"]).encryption_materials(encrypt_request(context(&[("other", "o")]))).await.unwrap_err();
        assert!(is_missing(&error, "tenant"), "{error}");
    }

    #[tokio::test]
    async fn decrypt_needs_every_required_key_reproduced() {
        let cmm = cmm(&["tenant"]);
        let stored = context(&[("other", "o")]);
        for reproduced in [None, Some(EncryptionContext::new()), Some(context(&[("other", "o")]))] {
            let error = cmm.decryption_materials(decrypt_request(stored.clone(), reproduced)).await.unwrap_err();
            assert!(is_missing(&error, "tenant"), "{error}");
        }
        let materials =
            cmm.decryption_materials(decrypt_request(stored, Some(context(&[("tenant", "a")])))).await.unwrap();
        assert_eq!(materials.required_encryption_context_keys(), ["tenant"]);
        assert_eq!(materials.encryption_context().get("tenant").map(String::as_str), Some("a"));
        assert!(materials.data_key().is_some());
    }

    #[tokio::test]
    async fn decrypt_accepts_a_required_key_the_header_stores() {
        // A message written without this manager stores the pair; reproducing it is enough.
        let stored = context(&[("tenant", "a")]);
        let materials = cmm(&["tenant"])
            .decryption_materials(decrypt_request(stored, Some(context(&[("tenant", "a")]))))
            .await
            .unwrap();
        assert!(materials.data_key().is_some());
    }

    #[tokio::test]
    async fn underlying_managers_that_drop_required_keys_are_caught() {
        let underlying = Arc::new(ForgetfulManager(DefaultMaterialsManager::new(FixedKeyring)));
        let cmm = RequiredEncryptionContextMaterialsManager::new(underlying, vec!["tenant".into()]).unwrap();
        let error = cmm.encryption_materials(encrypt_request(context(&[("tenant", "a")]))).await.unwrap_err();
        assert!(error.to_string().contains("dropped required encryption context key \"tenant\""), "{error}");
        let error = cmm
            .decryption_materials(decrypt_request(EncryptionContext::new(), Some(context(&[("tenant", "a")]))))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("dropped required encryption context key \"tenant\""), "{error}");
    }

    #[test]
    fn duplicate_keys_collapse() {
        assert_eq!(cmm(&["b", "a", "b"]).required_keys(), ["a", "b"]);
    }
}
