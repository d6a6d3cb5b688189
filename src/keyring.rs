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
///
/// A keyring that wraps another and counts the messages it opens (for metrics or audit):
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// use async_trait::async_trait;
/// use envelope::blocking::BlockingClient;
/// use envelope::keyring::ensure_no_data_key;
/// use envelope::{
///     Client, DecryptOptions, DecryptionMaterials, EncryptOptions, EncryptedDataKey, EncryptionMaterials, Keyring,
/// };
/// use envelope_keyrings::RawAesKeyring;
///
/// #[derive(Debug)]
/// struct Counted<K> {
///     inner: K,
///     opened: AtomicUsize,
/// }
///
/// #[async_trait]
/// impl<K: Keyring> Keyring for Counted<K> {
///     async fn on_encrypt(&self, materials: EncryptionMaterials) -> envelope::Result<EncryptionMaterials> {
///         self.inner.on_encrypt(materials).await
///     }
///
///     async fn on_decrypt(
///         &self,
///         materials: DecryptionMaterials,
///         edks: &[EncryptedDataKey],
///     ) -> envelope::Result<DecryptionMaterials> {
///         ensure_no_data_key(&materials)?;
///         let materials = self.inner.on_decrypt(materials, edks).await?;
///         self.opened.fetch_add(1, Ordering::Relaxed);
///         Ok(materials)
///     }
/// }
///
/// # fn main() -> envelope::Result<()> {
/// let inner = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let keyring = Arc::new(Counted { inner, opened: AtomicUsize::new(0) });
/// let client = BlockingClient::new(Client::with_keyring(keyring.clone()));
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// client.decrypt(&message, &DecryptOptions::new())?;
/// assert_eq!(keyring.opened.load(Ordering::Relaxed), 1);
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait Keyring: Send + Sync + fmt::Debug {
    /// Adds an encrypted data key (generating the data key first if there is none).
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials, Keyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    ///
    /// let materials = keyring.on_encrypt(materials).await?;
    /// assert_eq!(materials.data_key().map(|key| key.len()), Some(suite.data_key_len()));
    /// assert_eq!(materials.encrypted_data_keys()[0].provider_id, "my-app");
    /// # Ok(())
    /// # }
    /// ```
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials>;

    /// Sets the data key from one of `edks`. Must fail if the materials already hold one.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext, EncryptionMaterials, Keyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let written = keyring.on_encrypt(EncryptionMaterials::new(suite, context.clone(), vec![], None)?).await?;
    ///
    /// let empty = DecryptionMaterials::new(suite, context, vec![], None)?;
    /// let read = keyring.on_decrypt(empty, written.encrypted_data_keys()).await?;
    /// assert_eq!(read.data_key().map(|key| key.expose_secret()), written.data_key().map(|key| key.expose_secret()));
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use envelope::keyring::ensure_no_data_key;
/// use envelope::{AlgorithmSuite, DataKey, DecryptionMaterials, EncryptionContext};
///
/// # fn main() -> envelope::Result<()> {
/// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
/// let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
/// assert!(ensure_no_data_key(&materials).is_ok());
///
/// materials.set_data_key(DataKey::generate(suite.data_key_len())?)?;
/// assert!(ensure_no_data_key(&materials).is_err(), "a keyring must not replace a recovered key");
/// # Ok(())
/// # }
/// ```
pub fn ensure_no_data_key(materials: &DecryptionMaterials) -> Result<()> {
    if materials.data_key().is_some() {
        return Err(Error::usage("decryption materials already hold a data key"));
    }
    Ok(())
}

/// A generator keyring plus children: every keyring wraps the data key on encrypt; on decrypt the
/// first that succeeds wins.
///
/// ```
/// use std::sync::Arc;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, Keyring, MultiKeyring};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// // Each message can be opened with the primary key or with the escrow key.
/// let primary: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "primary", vec![1; 32])?);
/// let escrow: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "escrow", vec![2; 32])?);
/// let writer = BlockingClient::new(Client::with_keyring(MultiKeyring::new(Some(primary), vec![escrow.clone()])?));
/// let message = writer.encrypt(b"secret", &EncryptOptions::new())?;
///
/// let escrow_reader = BlockingClient::new(Client::with_keyring(escrow));
/// let decrypted = escrow_reader.decrypt(&message, &DecryptOptions::new())?;
/// assert_eq!(decrypted.plaintext, b"secret");
/// assert_eq!(decrypted.info.encrypted_data_keys.len(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl MultiKeyring {
    /// A multi-keyring. At least one of generator or children must be given.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::{Keyring, MultiKeyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let old: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-2025", vec![1; 32])?);
    /// let new: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-2026", vec![2; 32])?);
    ///
    /// // The generator makes the data key; it and every child wrap it. On decrypt the generator is
    /// // tried first, then the children in order, until one recovers the key.
    /// let both = MultiKeyring::new(Some(new), vec![old])?;
    /// # let _ = both;
    /// assert!(MultiKeyring::new(None, vec![]).is_err(), "a multi-keyring needs at least one keyring");
    /// # Ok(())
    /// # }
    /// ```
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
