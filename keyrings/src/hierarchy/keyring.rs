//! `HierarchicalKeyring`: wraps each data key under a key derived from a cached branch key.
//!
//! spec: framework/aws-kms/aws-kms-hierarchical-keyring.md

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::suite::EdkWrapping;
use envelope::{
    DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, Keyring, Result,
    SymmetricSigningKey, serialize_encryption_context,
};
use zeroize::Zeroizing;

use super::cache::{BranchKeyCache, CacheId, CachedBranchKey, decrypt_cache_id, encrypt_cache_id};
use super::intermediate::{self, INTERMEDIATE_KEY_LEN};
use super::key_store::{KeyStore, KeyStoreError, format_version};
use super::wrapping::{self, PROVIDER_ID};
use crate::aes_gcm::fill_random;

/// Chooses the branch key id of a message from its encryption context (multi-tenant use: one
/// branch key per tenant, the tenant named in the context).
///
/// spec: aws-kms-hierarchical-keyring.md#branch-key-supplier
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::error::KeyringError;
/// use envelope::{Client, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::hierarchy::BranchKeyIdSupplier;
/// # use std::collections::BTreeMap;
/// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
/// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
/// #     let mut store = StaticKeyStore::new("example-store");
/// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
/// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
/// #     Ok(store)
/// # }
///
/// /// Each tenant's messages use the tenant's own branch key.
/// #[derive(Debug)]
/// struct ByTenant;
///
/// impl BranchKeyIdSupplier for ByTenant {
///     fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
///         match context.get("tenant") {
///             Some(tenant) => Ok(format!("tenant-{tenant}")),
///             None => Err(KeyringError::Configuration("no tenant in the encryption context".into()).into()),
///         }
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keyring = HierarchicalKeyring::builder(store()?)
///     .branch_key_id_supplier(Arc::new(ByTenant))
///     .ttl(Duration::from_secs(60))
///     .build()?;
/// let client = BlockingClient::new(Client::with_keyring(keyring));
/// let for_a = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "a")]));
/// assert!(client.encrypt(b"a's record", &for_a).is_ok());
/// assert!(client.encrypt(b"nobody's", &EncryptOptions::new()).is_err());
/// # Ok(())
/// # }
/// ```
pub trait BranchKeyIdSupplier: Send + Sync + fmt::Debug {
    /// The branch key id for a message with this encryption context. On decrypt the context is
    /// the message's (as stored plus any reproduced pairs).
    ///
    /// ```
    /// use envelope::EncryptionContext;
    /// use envelope_keyrings::hierarchy::BranchKeyIdSupplier;
    ///
    /// #[derive(Debug)]
    /// struct Fixed;
    ///
    /// impl BranchKeyIdSupplier for Fixed {
    ///     fn branch_key_id(&self, _: &EncryptionContext) -> envelope::Result<String> {
    ///         Ok("tenant-a".into())
    ///     }
    /// }
    ///
    /// assert_eq!(Fixed.branch_key_id(&EncryptionContext::new())?, "tenant-a");
    /// # Ok::<(), envelope::Error>(())
    /// ```
    fn branch_key_id(&self, encryption_context: &EncryptionContext) -> Result<String>;
}

/// Where the branch key id comes from.
#[derive(Debug, Clone)]
enum BranchKeyId {
    /// One id, with its encrypt cache id computed once.
    Fixed {
        id: String,
        encrypt_cache_id: CacheId,
    },
    Supplier(Arc<dyn BranchKeyIdSupplier>),
}

/// The hierarchical keyring (`aws-kms-hierarchy`), byte-compatible with the AWS Material Providers
/// Library's: EDK provider info is the branch key id, and the ciphertext is
/// salt ‖ IV ‖ version ‖ wrapped key ‖ tag under a key derived from the branch key
/// ([`wrapping`](super::wrapping)).
///
/// Branch keys come from a [`KeyStore`] through a [`BranchKeyCache`]: one store call per branch
/// key version per TTL, however many messages and however many concurrent callers.
///
/// Under the DB-ESDK suites (0x6700, 0x6701) the branch key wraps a fresh intermediate key per
/// EDK instead of the data key ([`intermediate`](super::intermediate)), and the materials carry
/// each EDK's symmetric signing key, as the MPL's keyring does.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A static store for the example; applications use the SQLite or DynamoDB stores.
/// let mut store = StaticKeyStore::new("example-store");
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// store.add_branch_key(
///     BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?,
///     true,
/// )?;
/// let keyring = HierarchicalKeyring::builder(store)
///     .branch_key_id("tenant-a")
///     .ttl(Duration::from_secs(600))
///     .build()?;
/// let client = BlockingClient::new(Client::with_keyring(keyring));
/// let message = client.encrypt(b"hello", &EncryptOptions::new())?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"hello");
/// # Ok(())
/// # }
/// ```
pub struct HierarchicalKeyring {
    store: Arc<dyn KeyStore>,
    branch_key_id: BranchKeyId,
    cache: BranchKeyCache,
    ttl: Duration,
    partition_id: Vec<u8>,
}

/// Configures a [`HierarchicalKeyring`]; see [`HierarchicalKeyring::builder`].
///
/// ```
/// # use std::time::Duration;
/// # use std::collections::BTreeMap;
/// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
/// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
/// #     let mut store = StaticKeyStore::new("example-store");
/// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
/// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
/// #     Ok(store)
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keyring = HierarchicalKeyring::builder(store()?).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct HierarchicalKeyringBuilder {
    store: Arc<dyn KeyStore>,
    branch_key_id: Option<BranchKeyId>,
    cache: Option<BranchKeyCache>,
    ttl: Option<Duration>,
    partition_id: Option<Vec<u8>>,
}

impl HierarchicalKeyringBuilder {
    /// Every message uses this branch key id.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keyring = HierarchicalKeyring::builder(store()?).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
    /// assert!(format!("{keyring:?}").contains("tenant-a"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn branch_key_id(mut self, id: impl Into<String>) -> Self {
        self.branch_key_id = Some(BranchKeyId::Fixed { id: id.into(), encrypt_cache_id: [0; 48] });
        self
    }

    /// Each message's branch key id comes from its encryption context.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use envelope::EncryptionContext;
    /// # use envelope_keyrings::hierarchy::BranchKeyIdSupplier;
    /// #[derive(Debug)]
    /// struct FromContext;
    /// impl BranchKeyIdSupplier for FromContext {
    ///     fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
    ///         Ok(context.get("branch-key").cloned().unwrap_or_else(|| "tenant-a".into()))
    ///     }
    /// }
    /// let keyring = HierarchicalKeyring::builder(store()?)
    ///     .branch_key_id_supplier(Arc::new(FromContext))
    ///     .ttl(Duration::from_secs(60))
    ///     .build()?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn branch_key_id_supplier(mut self, supplier: Arc<dyn BranchKeyIdSupplier>) -> Self {
        self.branch_key_id = Some(BranchKeyId::Supplier(supplier));
        self
    }

    /// How long a branch key version stays cached (required, more than zero). Rotation becomes
    /// visible to encrypt after at most this long.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let builder = || HierarchicalKeyring::builder(store().unwrap()).branch_key_id("tenant-a");
    /// assert!(builder().ttl(Duration::from_secs(300)).build().is_ok());
    /// assert!(builder().ttl(Duration::ZERO).build().is_err(), "a TTL must be more than zero");
    /// assert!(builder().build().is_err(), "and is required");
    /// # Ok(())
    /// # }
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// A cache to use, possibly shared with other keyrings (they share entries only when they
    /// also share the partition id and the logical key store name). Without one the keyring
    /// makes its own of [`DEFAULT_CAPACITY`](super::cache::DEFAULT_CAPACITY) entries.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use envelope_keyrings::hierarchy::BranchKeyCache;
    /// let cache = BranchKeyCache::new(10_000);
    /// let keyring = HierarchicalKeyring::builder(store()?)
    ///     .branch_key_id("tenant-a")
    ///     .ttl(Duration::from_secs(60))
    ///     .cache(cache.clone())
    ///     .build()?;
    /// assert_eq!(keyring.cache().capacity(), 10_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cache(mut self, cache: BranchKeyCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The partition id (UTF-8) that scopes this keyring's entries in a shared cache. Without one,
    /// a random UUID: the keyring shares no entries.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keyring = HierarchicalKeyring::builder(store()?)
    ///     .branch_key_id("tenant-a")
    ///     .ttl(Duration::from_secs(60))
    ///     .partition_id("orders-service")
    ///     .build()?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn partition_id(mut self, partition_id: impl Into<String>) -> Self {
        self.partition_id = Some(partition_id.into().into_bytes());
        self
    }

    /// The keyring, or a configuration error (no TTL or a zero one, no branch key id or supplier,
    /// an empty branch key id).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let error = HierarchicalKeyring::builder(store()?).ttl(Duration::from_secs(60)).build().unwrap_err();
    /// assert!(error.to_string().contains("a branch key id or a branch key id supplier is required"), "{error}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Result<HierarchicalKeyring> {
        let configuration = |message: &str| -> envelope::Error {
            KeyringError::Configuration(format!("hierarchical keyring: {message}")).into()
        };
        // spec: #cache-limit-ttl — the caller MUST provide a TTL, and it MUST be greater than zero.
        let ttl = self.ttl.ok_or_else(|| configuration("a cache TTL is required"))?;
        if ttl.is_zero() {
            return Err(configuration("the cache TTL must be greater than zero"));
        }
        // spec: #partition-id — when not given, the 16 bytes of a random v4 UUID.
        let partition_id = match self.partition_id {
            Some(id) => id,
            None => {
                let mut random = [0u8; 16];
                fill_random(&mut random)?;
                uuid::Builder::from_random_bytes(random).into_uuid().as_bytes().to_vec()
            }
        };
        let logical_name = self.store.logical_key_store_name().to_owned();
        let branch_key_id = match self.branch_key_id {
            None => return Err(configuration("a branch key id or a branch key id supplier is required")),
            Some(BranchKeyId::Fixed { id, .. }) if id.is_empty() => {
                return Err(configuration("the branch key id is empty"));
            }
            Some(BranchKeyId::Fixed { id, .. }) => {
                let encrypt_cache_id = encrypt_cache_id(&partition_id, &logical_name, &id);
                BranchKeyId::Fixed { id, encrypt_cache_id }
            }
            Some(supplier) => supplier,
        };
        Ok(HierarchicalKeyring {
            store: self.store,
            branch_key_id,
            cache: self.cache.unwrap_or_default(),
            ttl,
            partition_id,
        })
    }
}

impl HierarchicalKeyring {
    /// Starts configuring a keyring over `store`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keyring = HierarchicalKeyring::builder(store()?).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(store: impl KeyStore + 'static) -> HierarchicalKeyringBuilder {
        Self::builder_shared(Arc::new(store))
    }

    /// Starts configuring a keyring over a store shared with other keyrings.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use envelope_keyrings::hierarchy::KeyStore;
    /// let shared: Arc<dyn KeyStore> = Arc::new(store()?);
    /// let orders = HierarchicalKeyring::builder_shared(Arc::clone(&shared)).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
    /// let billing = HierarchicalKeyring::builder_shared(shared).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
    /// # let _ = (orders, billing);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder_shared(store: Arc<dyn KeyStore>) -> HierarchicalKeyringBuilder {
        HierarchicalKeyringBuilder { store, branch_key_id: None, cache: None, ttl: None, partition_id: None }
    }

    /// The cache this keyring uses (clone it to share it).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
    /// # fn store() -> Result<StaticKeyStore, Box<dyn std::error::Error>> {
    /// #     let mut store = StaticKeyStore::new("example-store");
    /// #     let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// #     store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// #     Ok(store)
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let first = HierarchicalKeyring::builder(store()?).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
    /// let second = HierarchicalKeyring::builder(store()?)
    ///     .branch_key_id("tenant-a")
    ///     .ttl(Duration::from_secs(60))
    ///     .cache(first.cache().clone())
    ///     .build()?;
    /// assert_eq!(second.cache().capacity(), first.cache().capacity());
    /// # Ok(())
    /// # }
    /// ```
    pub fn cache(&self) -> &BranchKeyCache {
        &self.cache
    }

    fn label(&self) -> String {
        format!("hierarchical keyring over key store {:?}", self.store.logical_key_store_name())
    }

    /// The branch key id for a message with `context`, and its encrypt cache id.
    fn resolve(&self, context: &EncryptionContext) -> Result<(String, CacheId)> {
        match &self.branch_key_id {
            BranchKeyId::Fixed { id, encrypt_cache_id } => Ok((id.clone(), *encrypt_cache_id)),
            BranchKeyId::Supplier(supplier) => {
                let id = supplier.branch_key_id(context)?;
                if id.is_empty() {
                    return Err(KeyringError::Configuration(
                        "the branch key id supplier returned an empty branch key id".into(),
                    )
                    .into());
                }
                let cache_id = encrypt_cache_id(&self.partition_id, self.store.logical_key_store_name(), &id);
                Ok((id, cache_id))
            }
        }
    }

    /// The ACTIVE version of `branch_key_id`, from the cache or the store.
    async fn active_branch_key(&self, branch_key_id: &str, cache_id: CacheId) -> Result<Arc<CachedBranchKey>> {
        let store = Arc::clone(&self.store);
        let id = branch_key_id.to_owned();
        let cached = self
            .cache
            .get_or_fetch(cache_id, self.ttl, move || Box::pin(async move { store.get_active_branch_key(&id).await }))
            .await?;
        // A store answering for another id would make EDKs that name one key and use another.
        check_identity(&cached, branch_key_id, None)?;
        Ok(cached)
    }

    /// One version of `branch_key_id`, from the cache or the store.
    async fn branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> std::result::Result<Arc<CachedBranchKey>, KeyStoreError> {
        let cache_id =
            decrypt_cache_id(&self.partition_id, self.store.logical_key_store_name(), branch_key_id, version);
        let store = Arc::clone(&self.store);
        let (id, wanted) = (branch_key_id.to_owned(), version.to_owned());
        self.cache
            .get_or_fetch(cache_id, self.ttl, move || {
                Box::pin(async move { store.get_branch_key_version(&id, &wanted).await })
            })
            .await
    }
}

/// Checks that the store returned the branch key (and version) it was asked for.
fn check_identity(cached: &CachedBranchKey, branch_key_id: &str, version: Option<&str>) -> Result<()> {
    let materials = cached.materials();
    if materials.branch_key_id() != branch_key_id || version.is_some_and(|v| v != materials.version()) {
        return Err(KeyringError::Service(format!(
            "the key store answered a request for branch key {branch_key_id:?}{} with branch key {:?} version {}",
            version.map(|v| format!(" version {v}")).unwrap_or_default(),
            materials.branch_key_id(),
            materials.version()
        ))
        .into());
    }
    Ok(())
}

#[async_trait]
impl Keyring for HierarchicalKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: #onencrypt — the configured id, or the supplier's answer for this context.
        let (branch_key_id, cache_id) = self.resolve(materials.encryption_context())?;
        // spec: #branch-key-wrapping-and-unwrapping-aad — the context of the input materials.
        let context = serialize_encryption_context(materials.encryption_context())?;
        let branch_key = self.active_branch_key(&branch_key_id, cache_id).await?;
        if materials.data_key().is_none() {
            // spec: #onencrypt — generate a random data key of the suite's length when there is none.
            materials.set_data_key(DataKey::generate(materials.suite().data_key_len())?)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };
        let version = branch_key.materials().version_bytes();
        let edk = |ciphertext| EncryptedDataKey {
            // spec: #onencrypt — provider id "aws-kms-hierarchy", provider info the branch key id.
            provider_id: PROVIDER_ID.to_owned(),
            provider_info: branch_key_id.clone().into_bytes(),
            ciphertext,
        };
        match materials.suite().edk_wrapping() {
            EdkWrapping::Direct => {
                let ciphertext = wrapping::wrap(
                    branch_key.derivation(),
                    &branch_key_id,
                    version,
                    &context,
                    data_key.expose_secret(),
                )?;
                materials.push_encrypted_data_key(edk(ciphertext));
            }
            EdkWrapping::Intermediate => {
                // spec: algorithm-suites.md#intermediate-key-wrapping — a fresh intermediate key per
                // EDK; the branch key wraps it, keys derived from it encrypt the data key and sign.
                let mut intermediate_key = Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]);
                fill_random(&mut *intermediate_key)?;
                let derived = intermediate::derive(&*intermediate_key)?;
                let mut ciphertext = intermediate::wrap(&derived, data_key.expose_secret(), &context)?;
                ciphertext.extend_from_slice(&wrapping::wrap(
                    branch_key.derivation(),
                    &branch_key_id,
                    version,
                    &context,
                    &*intermediate_key,
                )?);
                let signing_key = SymmetricSigningKey::new(derived.signing_key.to_vec());
                materials.push_encrypted_data_key_with_signing_key(edk(ciphertext), signing_key)?;
            }
        }
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: #ondecrypt — MUST fail if the materials already hold a data key.
        ensure_no_data_key(&materials)?;
        let (branch_key_id, _) = self.resolve(materials.encryption_context())?;
        let context = serialize_encryption_context(materials.encryption_context())?;
        let key_len = materials.suite().data_key_len();
        let wrapping_scheme = materials.suite().edk_wrapping();
        let label = self.label();
        let mut failures = Vec::new();
        for edk in edks {
            // spec: #ondecrypt — provider id and branch key id must match; otherwise try the next.
            if edk.provider_id != PROVIDER_ID {
                failures.push(EdkFailure::not_mine(edk, label.as_str(), format!("provider id is not {PROVIDER_ID:?}")));
                continue;
            }
            if edk.provider_info != branch_key_id.as_bytes() {
                failures.push(EdkFailure::not_mine(
                    edk,
                    label.as_str(),
                    format!("branch key id is not {branch_key_id:?}"),
                ));
                continue;
            }
            // Under intermediate key wrapping the branch key wrapped the intermediate key, after
            // the encrypted data key.
            let (encrypted_data_key, branch_wrapped) = match wrapping_scheme {
                EdkWrapping::Direct => (None, edk.ciphertext.as_slice()),
                EdkWrapping::Intermediate => match intermediate::split(&edk.ciphertext, key_len) {
                    Some((encrypted, wrapped)) => (Some(encrypted), wrapped),
                    None => {
                        failures.push(EdkFailure::failed(
                            edk,
                            label.as_str(),
                            format!(
                                "ciphertext is {} bytes, too short for intermediate key wrapping",
                                edk.ciphertext.len()
                            ),
                        ));
                        continue;
                    }
                },
            };
            let wrapped_len = if encrypted_data_key.is_some() { INTERMEDIATE_KEY_LEN } else { key_len };
            let parsed = match wrapping::parse(branch_wrapped, wrapped_len) {
                Ok(parsed) => parsed,
                Err(why) => {
                    failures.push(EdkFailure::failed(edk, label.as_str(), why));
                    continue;
                }
            };
            // spec: #getitem-branch-keystore-ondecrypt — the version the EDK names.
            let version = format_version(parsed.version);
            let branch_key = match self.branch_key_version(&branch_key_id, &version).await {
                Ok(branch_key) => branch_key,
                Err(error) => {
                    failures.push(EdkFailure::failed(edk, label.as_str(), error.to_string()));
                    continue;
                }
            };
            if let Err(error) = check_identity(&branch_key, &branch_key_id, Some(&version)) {
                failures.push(EdkFailure::failed(edk, label.as_str(), error.to_string()));
                continue;
            }
            match wrapping::unwrap(branch_key.derivation(), &branch_key_id, &parsed, &context)? {
                Some(mut unwrapped) => match encrypted_data_key {
                    None => {
                        materials.set_data_key(DataKey::new(std::mem::take(&mut *unwrapped)))?;
                        return Ok(materials);
                    }
                    Some(encrypted) => {
                        let derived = intermediate::derive(&unwrapped)?;
                        match intermediate::unwrap(&derived, encrypted, &context)? {
                            Some(mut data_key) => {
                                let signing_key = SymmetricSigningKey::new(derived.signing_key.to_vec());
                                materials.set_data_key_with_signing_key(
                                    DataKey::new(std::mem::take(&mut *data_key)),
                                    signing_key,
                                )?;
                                return Ok(materials);
                            }
                            None => failures.push(EdkFailure::failed(
                                edk,
                                label.as_str(),
                                "the data key does not decrypt under the intermediate key (a modified EDK or another encryption context)",
                            )),
                        }
                    }
                },
                None => failures.push(EdkFailure::failed(
                    edk,
                    label.as_str(),
                    format!(
                        "AES-GCM tag does not verify under branch key {branch_key_id:?} version {version} \
                         (another encryption context, another key store, or a modified EDK)"
                    ),
                )),
            }
        }
        // spec: #ondecrypt — fail with every collected error, materials unmodified.
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }
}

impl fmt::Debug for HierarchicalKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch_key_id: &dyn fmt::Debug = match &self.branch_key_id {
            BranchKeyId::Fixed { id, .. } => id,
            BranchKeyId::Supplier(supplier) => supplier,
        };
        f.debug_struct("HierarchicalKeyring")
            .field("store", &self.store)
            .field("branch_key_id", branch_key_id)
            .field("ttl", &self.ttl)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
