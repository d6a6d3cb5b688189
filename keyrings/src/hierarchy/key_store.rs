//! The `KeyStore` seam: where the hierarchical keyring gets its branch keys and beacon keys.
//!
//! Implementations: [`StaticKeyStore`](super::StaticKeyStore) here (material given directly, as the
//! test vectors' `static-branch-key` entries); the SQLite and DynamoDB stores live in the
//! `envelope-keystore` crate (`crates/keystore`), which implements this trait. Keeping the trait
//! here lets the keyring, its cache and the vectors runner work without a database or the AWS SDK.
//!
//! spec: framework/branch-key-store.md (GetActiveBranchKey, GetBranchKeyVersion, GetBeaconKey),
//! framework/structures.md#branch-key-materials

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use zeroize::Zeroizing;

/// Length of every branch key and beacon key: the MPL generates them as 32-byte KMS data keys.
///
/// ```
/// assert_eq!(envelope_keyrings::hierarchy::key_store::BRANCH_KEY_LEN, 32);
/// ```
pub const BRANCH_KEY_LEN: usize = 32;

/// A 32-byte branch key or beacon key. Zeroized on drop; Debug is redacted.
///
/// ```
/// use envelope_keyrings::hierarchy::BranchKeySecret;
///
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// assert_eq!(key.expose_secret(), &[7; 32]);
/// // Debug never shows the bytes.
/// assert_eq!(format!("{key:?}"), "BranchKeySecret([REDACTED])");
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
#[derive(Clone)]
pub struct BranchKeySecret(Zeroizing<[u8; BRANCH_KEY_LEN]>);

impl BranchKeySecret {
    /// Wraps key bytes; fails unless there are exactly 32.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::BranchKeySecret;
    ///
    /// assert!(BranchKeySecret::from_slice(&[1; 32]).is_ok());
    /// let error = BranchKeySecret::from_slice(&[1; 16]).unwrap_err();
    /// assert_eq!(error.to_string(), "invalid branch key materials: a branch or beacon key is 32 bytes, not 16");
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<BranchKeySecret, InvalidBranchKeyMaterials> {
        let mut key = Zeroizing::new([0u8; BRANCH_KEY_LEN]);
        if bytes.len() != BRANCH_KEY_LEN {
            return Err(InvalidBranchKeyMaterials(format!(
                "a branch or beacon key is {BRANCH_KEY_LEN} bytes, not {}",
                bytes.len()
            )));
        }
        key.copy_from_slice(bytes);
        Ok(BranchKeySecret(key))
    }

    /// The key bytes. Named so that every use is easy to find in review.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::BranchKeySecret;
    ///
    /// let key = BranchKeySecret::from_slice(&[0xAB; 32])?;
    /// assert_eq!(key.expose_secret().len(), 32);
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn expose_secret(&self) -> &[u8; BRANCH_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for BranchKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BranchKeySecret([REDACTED])")
    }
}

/// Branch key materials were malformed (wrong key length, a version that is not a UUID).
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
///
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// let error = BranchKeyMaterials::new("tenant-a", "version-1", BTreeMap::new(), key).unwrap_err();
/// assert!(error.0.contains("\"version-1\" is not a UUID"), "{error}");
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBranchKeyMaterials(pub String);

impl fmt::Display for InvalidBranchKeyMaterials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid branch key materials: {}", self.0)
    }
}

impl std::error::Error for InvalidBranchKeyMaterials {}

/// One version of a branch key, as a key store returns it.
///
/// spec: structures.md#branch-key-materials — branch key id, version, encryption context, key.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
///
/// let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
/// assert_eq!(materials.branch_key_id(), "tenant-a");
/// assert_eq!(materials.version_bytes()[..2], [0xe9, 0xce]);
/// assert_eq!(materials.encryption_context()["department"], "billing");
/// // Debug shows the id, version and context, never the key.
/// assert!(format!("{materials:?}").contains("REDACTED"));
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
#[derive(Clone)]
pub struct BranchKeyMaterials {
    branch_key_id: String,
    /// The version as the MPL represents it: the UUID in text form (`e9ce18a3-edb5-…`).
    version: String,
    /// The same UUID as 16 bytes: what the EDK ciphertext and the wrapping AAD carry.
    version_bytes: [u8; 16],
    encryption_context: BTreeMap<String, String>,
    key: BranchKeySecret,
}

impl BranchKeyMaterials {
    /// Materials from their parts. `version` must be a UUID in text form (36 characters with
    /// hyphens), because the keyring writes it into each EDK as 16 bytes.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    ///
    /// let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let version = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
    /// assert!(BranchKeyMaterials::new("tenant-a", version, BTreeMap::new(), key.clone()).is_ok());
    /// assert!(BranchKeyMaterials::new("", version, BTreeMap::new(), key.clone()).is_err(), "empty id");
    /// assert!(BranchKeyMaterials::new("tenant-a", "e9ce18a3edb542729f861cacb7997ff6", BTreeMap::new(), key).is_err());
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn new(
        branch_key_id: impl Into<String>,
        version: impl Into<String>,
        encryption_context: BTreeMap<String, String>,
        key: BranchKeySecret,
    ) -> Result<BranchKeyMaterials, InvalidBranchKeyMaterials> {
        let branch_key_id = branch_key_id.into();
        let version = version.into();
        if branch_key_id.is_empty() {
            return Err(InvalidBranchKeyMaterials("the branch key id is empty".into()));
        }
        let version_bytes = parse_version(&version)?;
        Ok(BranchKeyMaterials { branch_key_id, version, version_bytes, encryption_context, key })
    }

    /// The branch key id (the EDK's provider info).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
    /// assert_eq!(materials.branch_key_id(), "tenant-a");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn branch_key_id(&self) -> &str {
        &self.branch_key_id
    }

    /// The version, a UUID in text form.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
    /// assert_eq!(materials.version(), "e9ce18a3-edb5-4272-9f86-1cacb7997ff6");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The version as the 16 UUID bytes written into EDKs.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
    /// assert_eq!(hex::encode(materials.version_bytes()), "e9ce18a3edb542729f861cacb7997ff6");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn version_bytes(&self) -> &[u8; 16] {
        &self.version_bytes
    }

    /// The branch key's custom encryption context, without the `aws-crypto-ec:` prefix the store
    /// writes it under (spec: branch-key-store.md#custom-encryption-context-from-authenticated-encryption-context).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
    /// assert_eq!(materials.encryption_context()["department"], "billing");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn encryption_context(&self) -> &BTreeMap<String, String> {
        &self.encryption_context
    }

    /// The branch key.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", context, key)?;
    /// assert_eq!(materials.key().expose_secret(), &[7; 32]);
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn key(&self) -> &BranchKeySecret {
        &self.key
    }
}

impl fmt::Debug for BranchKeyMaterials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BranchKeyMaterials")
            .field("branch_key_id", &self.branch_key_id)
            .field("version", &self.version)
            .field("encryption_context", &self.encryption_context)
            .field("key", &self.key)
            .finish()
    }
}

/// The beacon key of a branch key id (searchable encryption's root key; never rotates).
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret};
///
/// let beacon = BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?);
/// assert_eq!(beacon.beacon_key_id(), "tenant-a");
/// assert!(!format!("{beacon:?}").contains("9, 9"));
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
#[derive(Clone)]
pub struct BeaconKeyMaterials {
    beacon_key_id: String,
    encryption_context: BTreeMap<String, String>,
    key: BranchKeySecret,
}

impl BeaconKeyMaterials {
    /// Materials from their parts; the beacon key id is the branch key id it belongs to.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// let beacon = BeaconKeyMaterials::new("tenant-a", context, BranchKeySecret::from_slice(&[9; 32])?);
    /// assert_eq!(beacon.beacon_key_id(), "tenant-a");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn new(
        beacon_key_id: impl Into<String>,
        encryption_context: BTreeMap<String, String>,
        key: BranchKeySecret,
    ) -> BeaconKeyMaterials {
        BeaconKeyMaterials { beacon_key_id: beacon_key_id.into(), encryption_context, key }
    }

    /// The beacon key id (the branch key id).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// let beacon = BeaconKeyMaterials::new("tenant-a", context, BranchKeySecret::from_slice(&[9; 32])?);
    /// assert_eq!(beacon.beacon_key_id(), "tenant-a");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn beacon_key_id(&self) -> &str {
        &self.beacon_key_id
    }

    /// The custom encryption context of the `beacon:ACTIVE` item, without the `aws-crypto-ec:` prefix.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// let beacon = BeaconKeyMaterials::new("tenant-a", context, BranchKeySecret::from_slice(&[9; 32])?);
    /// assert_eq!(beacon.encryption_context()["department"], "billing");
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn encryption_context(&self) -> &BTreeMap<String, String> {
        &self.encryption_context
    }

    /// The beacon key.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret};
    /// # let context = BTreeMap::from([("department".to_owned(), "billing".to_owned())]);
    /// let beacon = BeaconKeyMaterials::new("tenant-a", context, BranchKeySecret::from_slice(&[9; 32])?);
    /// assert_eq!(beacon.key().expose_secret(), &[9; 32]);
    /// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
    /// ```
    pub fn key(&self) -> &BranchKeySecret {
        &self.key
    }
}

impl fmt::Debug for BeaconKeyMaterials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeaconKeyMaterials")
            .field("beacon_key_id", &self.beacon_key_id)
            .field("encryption_context", &self.encryption_context)
            .field("key", &self.key)
            .finish()
    }
}

/// Parses a UUID in its 36-character text form into its 16 bytes.
///
/// ```
/// use envelope_keyrings::hierarchy::key_store::parse_version;
///
/// let bytes = parse_version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6")?;
/// assert_eq!(hex::encode(bytes), "e9ce18a3edb542729f861cacb7997ff6");
/// // Only the hyphenated form: it is what the stores write.
/// assert!(parse_version("e9ce18a3edb542729f861cacb7997ff6").is_err());
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
pub fn parse_version(version: &str) -> Result<[u8; 16], InvalidBranchKeyMaterials> {
    // The hyphenated form only: that is what the key stores write, and it keeps
    // text → bytes → text a round trip (the EDK carries bytes, the store is asked with text).
    match uuid::Uuid::try_parse(version) {
        Ok(parsed) if version.len() == 36 => Ok(*parsed.as_bytes()),
        _ => Err(InvalidBranchKeyMaterials(format!(
            "branch key version {version:?} is not a UUID in hyphenated text form"
        ))),
    }
}

/// The 16 bytes of a version as its UUID text (lowercase, hyphenated), as key stores are asked.
///
/// ```
/// use envelope_keyrings::hierarchy::key_store::{format_version, parse_version};
///
/// let text = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
/// assert_eq!(format_version(&parse_version(text)?), text);
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
pub fn format_version(bytes: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*bytes).hyphenated().to_string()
}

/// A source of branch keys and beacon keys.
///
/// Implementations must be cheap to call concurrently: the keyring's cache makes one call per
/// missing key, but many keyrings may share a store. Errors say which key, which version and which
/// operation failed, and what to do next ([`KeyStoreError`]).
///
/// Implementing it: a store that delegates to another and counts the calls that reach it. The
/// keyring's cache keeps them rare: ten messages, one call.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use async_trait::async_trait;
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, EncryptOptions};
/// use envelope_keyrings::hierarchy::{
///     BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, KeyStoreError,
///     StaticKeyStore,
/// };
///
/// #[derive(Debug)]
/// struct Counting {
///     inner: StaticKeyStore,
///     calls: Arc<AtomicUsize>,
/// }
///
/// #[async_trait]
/// impl KeyStore for Counting {
///     fn logical_key_store_name(&self) -> &str {
///         self.inner.logical_key_store_name()
///     }
///     async fn get_active_branch_key(&self, id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
///         self.calls.fetch_add(1, Ordering::SeqCst);
///         self.inner.get_active_branch_key(id).await
///     }
///     async fn get_branch_key_version(&self, id: &str, version: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
///         self.calls.fetch_add(1, Ordering::SeqCst);
///         self.inner.get_branch_key_version(id, version).await
///     }
///     async fn get_beacon_key(&self, id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
///         self.calls.fetch_add(1, Ordering::SeqCst);
///         self.inner.get_beacon_key(id).await
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut inner = StaticKeyStore::new("example-store");
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// inner.add_branch_key(
///     BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?,
///     true,
/// )?;
/// let calls = Arc::new(AtomicUsize::new(0));
/// let store = Counting { inner, calls: Arc::clone(&calls) };
/// let keyring = HierarchicalKeyring::builder(store).branch_key_id("tenant-a").ttl(Duration::from_secs(60)).build()?;
/// let client = BlockingClient::new(Client::with_keyring(keyring));
/// for _ in 0..10 {
///     client.encrypt(b"record", &EncryptOptions::new())?;
/// }
/// assert_eq!(calls.load(Ordering::SeqCst), 1);
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// The logical key store name: part of the cache ids (two stores with one name share cache
    /// entries) and of the KMS encryption context (`tablename`) of every item.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// # let v1 = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?;
    /// # let key = BranchKeySecret::from_slice(&[8; 32])?;
    /// # let v2 = BranchKeyMaterials::new("tenant-a", "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", BTreeMap::new(), key)?;
    /// # let beacon = BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?);
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_branch_key(v1, false)?.add_branch_key(v2, true)?.add_beacon_key(beacon);
    /// assert_eq!(store.logical_key_store_name(), "example-store");
    /// # Ok(())
    /// # }
    /// ```
    fn logical_key_store_name(&self) -> &str;

    /// The `branch:ACTIVE` version of `branch_key_id` (what new messages are wrapped under).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// # let v1 = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?;
    /// # let key = BranchKeySecret::from_slice(&[8; 32])?;
    /// # let v2 = BranchKeyMaterials::new("tenant-a", "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", BTreeMap::new(), key)?;
    /// # let beacon = BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?);
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_branch_key(v1, false)?.add_branch_key(v2, true)?.add_beacon_key(beacon);
    /// let active = store.get_active_branch_key("tenant-a").await?;
    /// assert_eq!(active.version(), "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c");
    /// assert!(store.get_active_branch_key("tenant-b").await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError>;

    /// One version of `branch_key_id`, `version` being a UUID in text form (decrypt asks for the
    /// version named in the EDK).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// # let v1 = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?;
    /// # let key = BranchKeySecret::from_slice(&[8; 32])?;
    /// # let v2 = BranchKeyMaterials::new("tenant-a", "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", BTreeMap::new(), key)?;
    /// # let beacon = BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?);
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_branch_key(v1, false)?.add_branch_key(v2, true)?.add_beacon_key(beacon);
    /// let old = store.get_branch_key_version("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6").await?;
    /// assert_eq!(old.key().expose_secret(), &[7; 32]);
    /// # Ok(())
    /// # }
    /// ```
    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError>;

    /// The beacon key of `branch_key_id`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// # let v1 = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?;
    /// # let key = BranchKeySecret::from_slice(&[8; 32])?;
    /// # let v2 = BranchKeyMaterials::new("tenant-a", "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", BTreeMap::new(), key)?;
    /// # let beacon = BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?);
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_branch_key(v1, false)?.add_branch_key(v2, true)?.add_beacon_key(beacon);
    /// let beacon = store.get_beacon_key("tenant-a").await?;
    /// assert_eq!(beacon.key().expose_secret(), &[9; 32]);
    /// # Ok(())
    /// # }
    /// ```
    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError>;
}

#[async_trait]
impl<S: KeyStore + ?Sized> KeyStore for std::sync::Arc<S> {
    fn logical_key_store_name(&self) -> &str {
        (**self).logical_key_store_name()
    }

    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        (**self).get_active_branch_key(branch_key_id).await
    }

    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        (**self).get_branch_key_version(branch_key_id, version).await
    }

    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        (**self).get_beacon_key(branch_key_id).await
    }
}

/// The key store operation that failed.
///
/// ```
/// use envelope_keyrings::hierarchy::KeyStoreOperation;
///
/// assert_eq!(KeyStoreOperation::GetBranchKeyVersion.to_string(), "GetBranchKeyVersion");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyStoreOperation {
    /// Creating the store (a table or a database file).
    CreateKeyStore,
    /// Creating a branch key (its first version and its beacon key).
    CreateKey,
    /// Rotating a branch key (a new ACTIVE version).
    VersionKey,
    /// Reading the ACTIVE version of a branch key.
    GetActiveBranchKey,
    /// Reading one version of a branch key.
    GetBranchKeyVersion,
    /// Reading the beacon key of a branch key id.
    GetBeaconKey,
    /// Listing a branch key's versions (describe).
    DescribeKey,
}

impl fmt::Display for KeyStoreOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyStoreOperation::CreateKeyStore => "CreateKeyStore",
            KeyStoreOperation::CreateKey => "CreateKey",
            KeyStoreOperation::VersionKey => "VersionKey",
            KeyStoreOperation::GetActiveBranchKey => "GetActiveBranchKey",
            KeyStoreOperation::GetBranchKeyVersion => "GetBranchKeyVersion",
            KeyStoreOperation::GetBeaconKey => "GetBeaconKey",
            KeyStoreOperation::DescribeKey => "DescribeKey",
        })
    }
}

/// What went wrong in a key store operation ([`KeyStoreError::kind`]).
///
/// ```
/// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
///
/// fn worth_retrying(error: &KeyStoreError) -> bool {
///     matches!(error.kind(), KeyStoreErrorKind::Conflict { .. } | KeyStoreErrorKind::Backend { .. })
/// }
///
/// let lost_race = KeyStoreErrorKind::Conflict { message: "ACTIVE changed".into() };
/// assert!(worth_retrying(&KeyStoreError::new(KeyStoreOperation::VersionKey, lost_race)));
/// assert!(!worth_retrying(&KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStoreErrorKind {
    /// The store has no item for this branch key id (or version).
    NoSuchKey,
    /// The store itself does not exist: no such table, or no such database file.
    NoSuchStore {
        /// The table name or file path.
        store: String,
    },
    /// KMS refused the call (access denied, key disabled, wrong Region …).
    KmsDenied {
        /// The KMS key the item names.
        kms_key: String,
        /// What KMS said.
        message: String,
    },
    /// The item does not authenticate: KMS refused its encryption context, so some attribute
    /// (or the logical store name) differs from what was written.
    ItemTampered {
        /// What failed to match.
        message: String,
    },
    /// The item's `kms-arn` is not the KMS key this store is configured with.
    KmsKeyMismatch {
        /// The KMS key the store is configured with.
        expected: String,
        /// The KMS key the item names.
        found: String,
    },
    /// The item uses a `hierarchy-version` other than 1: the MPL's newer scheme, which this key
    /// store does not read.
    UnsupportedHierarchyVersion {
        /// The item's `hierarchy-version`.
        version: String,
    },
    /// The item is missing an attribute or holds one of the wrong type or form.
    MalformedItem {
        /// Which attribute, and how.
        message: String,
    },
    /// A rotation or creation lost a race (a concurrent VersionKey or CreateKey won).
    Conflict {
        /// What was contended.
        message: String,
    },
    /// The storage backend failed (I/O, SQLite, the DynamoDB SDK).
    Backend {
        /// The backend's message.
        message: String,
    },
    /// The request cannot be served as asked: a read-only (discovery) configuration asked to
    /// create or rotate, an empty id, a caller-chosen branch key id without custom context.
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
}

/// A key store operation failed: which operation, on which branch key and version, why, and what
/// to do next (the Display text says all four).
///
/// ```
/// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
///
/// let error = KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey).for_key("tenant-a");
/// assert_eq!(
///     error.to_string(),
///     "key store GetActiveBranchKey of branch key \"tenant-a\" failed: no such branch key in the store \
///      (create the branch key first (keystore create-key), or check the branch key id and the store)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStoreError {
    operation: KeyStoreOperation,
    branch_key_id: Option<String>,
    version: Option<String>,
    kind: KeyStoreErrorKind,
}

impl KeyStoreError {
    /// An error of `kind` in `operation`, about no particular key yet (add one with
    /// [`for_key`](Self::for_key) / [`for_version`](Self::for_version)).
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::CreateKeyStore, KeyStoreErrorKind::NoSuchStore { store: "keys.db".into() });
    /// assert_eq!(error.branch_key_id(), None);
    /// ```
    pub fn new(operation: KeyStoreOperation, kind: KeyStoreErrorKind) -> KeyStoreError {
        KeyStoreError { operation, branch_key_id: None, version: None, kind }
    }

    /// The same error, naming the branch key id.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::GetBeaconKey, KeyStoreErrorKind::NoSuchKey).for_key("tenant-a");
    /// assert_eq!(error.branch_key_id(), Some("tenant-a"));
    /// ```
    pub fn for_key(mut self, branch_key_id: impl Into<String>) -> KeyStoreError {
        self.branch_key_id = Some(branch_key_id.into());
        self
    }

    /// The same error, naming the version (a UUID in text form).
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::GetBranchKeyVersion, KeyStoreErrorKind::NoSuchKey)
    ///     .for_key("tenant-a")
    ///     .for_version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6");
    /// assert!(error.to_string().contains("version e9ce18a3-edb5-4272-9f86-1cacb7997ff6"));
    /// ```
    pub fn for_version(mut self, version: impl Into<String>) -> KeyStoreError {
        self.version = Some(version.into());
        self
    }

    /// The operation that failed.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::VersionKey, KeyStoreErrorKind::NoSuchKey);
    /// assert_eq!(error.operation(), KeyStoreOperation::VersionKey);
    /// ```
    pub fn operation(&self) -> KeyStoreOperation {
        self.operation
    }

    /// The branch key id, when the failure concerns one.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::VersionKey, KeyStoreErrorKind::NoSuchKey).for_key("tenant-a");
    /// assert_eq!(error.branch_key_id(), Some("tenant-a"));
    /// ```
    pub fn branch_key_id(&self) -> Option<&str> {
        self.branch_key_id.as_deref()
    }

    /// The version, when the failure concerns one.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey);
    /// assert_eq!(error.version(), None, "ACTIVE is asked for by id alone");
    /// ```
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// What went wrong.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let error = KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey);
    /// assert_eq!(error.kind(), &KeyStoreErrorKind::NoSuchKey);
    /// ```
    pub fn kind(&self) -> &KeyStoreErrorKind {
        &self.kind
    }

    /// One sentence on what the caller can do about it.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStoreError, KeyStoreErrorKind, KeyStoreOperation};
    ///
    /// let kind = KeyStoreErrorKind::Conflict { message: "ACTIVE changed".into() };
    /// let error = KeyStoreError::new(KeyStoreOperation::VersionKey, kind);
    /// assert!(error.next_step().ends_with("retry"));
    /// ```
    pub fn next_step(&self) -> &'static str {
        match &self.kind {
            KeyStoreErrorKind::NoSuchKey => match self.operation {
                KeyStoreOperation::GetBranchKeyVersion => {
                    "check that the message was written with this key store (same table or file, same logical name); a version is never deleted by rotation"
                }
                _ => "create the branch key first (keystore create-key), or check the branch key id and the store",
            },
            KeyStoreErrorKind::NoSuchStore { .. } => {
                "create the key store first (keystore create), or check its name or path"
            }
            KeyStoreErrorKind::KmsDenied { .. } => {
                "check that the caller may use the KMS key (Decrypt, ReEncrypt, GenerateDataKeyWithoutPlaintext), that it is enabled, and its Region"
            }
            KeyStoreErrorKind::ItemTampered { .. } => {
                "the key-store item was modified or copied under another logical store name; restore it from a backup, do not use it"
            }
            KeyStoreErrorKind::KmsKeyMismatch { .. } => {
                "configure the store with the KMS key the branch key was created under, or use another branch key"
            }
            KeyStoreErrorKind::UnsupportedHierarchyVersion { .. } => {
                "only hierarchy version 1 branch keys are supported: create the branch key with hierarchy version 1 (the MPL's default), or read it with the MPL"
            }
            KeyStoreErrorKind::MalformedItem { .. } => "the item was not written by a key store; inspect or restore it",
            KeyStoreErrorKind::Conflict { .. } => "another writer changed the branch key at the same time; retry",
            KeyStoreErrorKind::Backend { .. } => "check that the store is reachable and retry",
            KeyStoreErrorKind::InvalidRequest { .. } => {
                "change the request or the key store's configuration as the message says"
            }
        }
    }
}

impl fmt::Display for KeyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key store {}", self.operation)?;
        if let Some(id) = &self.branch_key_id {
            write!(f, " of branch key {id:?}")?;
        }
        if let Some(version) = &self.version {
            write!(f, " version {version}")?;
        }
        f.write_str(" failed: ")?;
        match &self.kind {
            KeyStoreErrorKind::NoSuchKey => f.write_str("no such branch key in the store")?,
            KeyStoreErrorKind::NoSuchStore { store } => write!(f, "the key store {store:?} does not exist")?,
            KeyStoreErrorKind::KmsDenied { kms_key, message } => write!(f, "KMS refused key {kms_key}: {message}")?,
            KeyStoreErrorKind::ItemTampered { message } => {
                write!(f, "the item does not authenticate (KMS encryption context check failed): {message}")?
            }
            KeyStoreErrorKind::KmsKeyMismatch { expected, found } => {
                write!(f, "the item is protected by KMS key {found}, not the configured {expected}")?
            }
            KeyStoreErrorKind::UnsupportedHierarchyVersion { version } => {
                write!(f, "the item has hierarchy-version {version}, and only version 1 is supported")?
            }
            KeyStoreErrorKind::MalformedItem { message } => write!(f, "malformed item: {message}")?,
            KeyStoreErrorKind::Conflict { message } => write!(f, "conflict: {message}")?,
            KeyStoreErrorKind::Backend { message } => write!(f, "{message}")?,
            KeyStoreErrorKind::InvalidRequest { message } => write!(f, "invalid request: {message}")?,
        }
        write!(f, " ({})", self.next_step())
    }
}

impl std::error::Error for KeyStoreError {}

impl From<KeyStoreError> for envelope::Error {
    fn from(error: KeyStoreError) -> envelope::Error {
        envelope::error::KeyringError::Service(error.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_between_text_and_bytes() {
        let bytes = parse_version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6").unwrap();
        assert_eq!(hex::encode(bytes), "e9ce18a3edb542729f861cacb7997ff6");
        assert_eq!(format_version(&bytes), "e9ce18a3-edb5-4272-9f86-1cacb7997ff6");
    }

    #[test]
    fn versions_other_than_hyphenated_uuids_are_refused() {
        for bad in ["", "e9ce18a3edb542729f861cacb7997ff6", "not-a-uuid", "{e9ce18a3-edb5-4272-9f86-1cacb7997ff6}"] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_must_be_32_bytes_and_debug_never_shows_them() {
        assert!(BranchKeySecret::from_slice(&[1; 31]).is_err());
        let key = BranchKeySecret::from_slice(&[0xAB; 32]).unwrap();
        let materials =
            BranchKeyMaterials::new("id", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key).unwrap();
        let shown = format!("{materials:?}");
        assert!(shown.contains("REDACTED") && !shown.to_lowercase().contains("ab, ") && !shown.contains("171"));
    }

    #[test]
    fn errors_name_operation_key_version_and_next_step() {
        let error = KeyStoreError::new(KeyStoreOperation::GetBranchKeyVersion, KeyStoreErrorKind::NoSuchKey)
            .for_key("tenant-a")
            .for_version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6");
        let text = error.to_string();
        assert!(text.contains("GetBranchKeyVersion"), "{text}");
        assert!(text.contains("\"tenant-a\""), "{text}");
        assert!(text.contains("e9ce18a3-edb5-4272-9f86-1cacb7997ff6"), "{text}");
        assert!(text.contains("logical name"), "{text}");
    }
}
