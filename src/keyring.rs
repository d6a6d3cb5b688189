//! The `Keyring` seam: generates, wraps and unwraps data keys. Plus the multi-keyring.
//!
//! spec: framework/keyring-interface.md, framework/multi-keyring.md

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, KeyringError, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

/// Generates, wraps and unwraps data keys.
///
/// `on_encrypt` generates a data key when the materials have none and adds an encrypted copy.
/// `on_decrypt` recovers the data key from one of the EDKs. When it cannot, it returns
/// [`KeyringError::NoDataKeyUnwrapped`] listing, for each EDK, whether it belonged to another key
/// or matched but failed — so the caller can say exactly why nothing decrypted.
#[async_trait]
pub trait Keyring: Send + Sync + fmt::Debug {
    /// Adds an encrypted data key (generating the data key first if there is none).
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials>;

    /// Sets the data key from one of `edks`. Must fail if the materials already hold one.
    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials>;
}

#[async_trait]
impl<K: Keyring + ?Sized> Keyring for Arc<K> {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        (**self).on_encrypt(materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        (**self).on_decrypt(materials, edks).await
    }
}

/// Fails the way every keyring must when asked to decrypt materials that already hold a key.
pub fn ensure_no_data_key(materials: &DecryptionMaterials) -> Result<()> {
    if materials.data_key().is_some() {
        return Err(Error::usage("decryption materials already hold a data key"));
    }
    Ok(())
}

/// A generator keyring plus children: every keyring wraps the data key on encrypt; on decrypt the
/// first that succeeds wins.
#[derive(Debug, Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl MultiKeyring {
    /// A multi-keyring. At least one of generator or children must be given.
    pub fn new(generator: Option<Arc<dyn Keyring>>, children: Vec<Arc<dyn Keyring>>) -> Result<MultiKeyring> {
        if generator.is_none() && children.is_empty() {
            return Err(KeyringError::Configuration("a multi-keyring needs a generator or children".into()).into());
        }
        Ok(MultiKeyring { generator, children })
    }

    fn all(&self) -> impl Iterator<Item = &Arc<dyn Keyring>> {
        self.generator.iter().chain(self.children.iter())
    }
}

#[async_trait]
impl Keyring for MultiKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        match &self.generator {
            Some(generator) => {
                materials = generator.on_encrypt(materials).await?;
                if materials.data_key().is_none() {
                    return Err(KeyringError::Wrap("the generator keyring produced no data key".into()).into());
                }
            }
            // spec: without a generator, the materials must already hold a data key.
            None if materials.data_key().is_none() => {
                return Err(KeyringError::Configuration(
                    "a multi-keyring without a generator cannot create a data key".into(),
                )
                .into());
            }
            None => {}
        }
        for child in &self.children {
            materials = child.on_encrypt(materials).await?;
        }
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        ensure_no_data_key(&materials)?;
        let mut failures = Vec::new();
        for keyring in self.all() {
            // Each child consumes the materials; hand it a copy so a failure leaves ours intact.
            let attempt = DecryptionMaterials::new(
                materials.suite(),
                materials.encryption_context().clone(),
                materials.required_encryption_context_keys().to_vec(),
                materials.verification_key().cloned(),
            )?;
            match keyring.on_decrypt(attempt, edks).await {
                Ok(done) => {
                    if let Some(key) = done.data_key() {
                        materials.set_data_key(key.clone())?;
                        return Ok(materials);
                    }
                }
                Err(Error::Keyring(KeyringError::NoDataKeyUnwrapped(mut reasons))) => failures.append(&mut reasons),
                // spec: the multi-keyring keeps trying after a child error, and reports them all.
                Err(other) => failures.extend(
                    edks.iter()
                        .map(|edk| crate::error::EdkFailure::failed(edk, format!("{keyring:?}"), other.to_string())),
                ),
            }
        }
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }
}
