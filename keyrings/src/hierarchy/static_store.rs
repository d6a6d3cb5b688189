//! A key store whose branch keys are given directly: the test vectors' `static-branch-key`
//! entries, tests, and applications that keep branch keys elsewhere.
//!
//! No KMS protects these keys: whoever builds the store holds them in plaintext. Real deployments
//! use the SQLite or DynamoDB stores of `envelope-keystore`, where KMS does.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use zeroize::Zeroizing;

use super::key_store::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, KeyStoreError, KeyStoreErrorKind,
    KeyStoreOperation,
};

/// Branch keys and beacon keys held in memory, each version under its branch key id.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// let mut store = StaticKeyStore::new("example-store");
/// store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
/// assert_eq!(store.get_active_branch_key("tenant-a").await?.key().expose_secret(), &[7; 32]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct StaticKeyStore {
    logical_name: String,
    /// (branch key id, version text) → materials.
    versions: BTreeMap<(String, String), BranchKeyMaterials>,
    /// branch key id → the version GetActiveBranchKey returns.
    active: BTreeMap<String, String>,
    beacons: BTreeMap<String, BeaconKeyMaterials>,
}

/// A version added to a [`StaticKeyStore`] conflicts with one already there.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, StaticKeyStore};
///
/// let version = |version: &str, byte: u8| {
///     BranchKeyMaterials::new("tenant-a", version, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32]).unwrap()).unwrap()
/// };
/// let mut store = StaticKeyStore::new("example-store");
/// store.add_branch_key(version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6", 1), true).unwrap();
/// let conflict = store.add_branch_key(version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6", 2), true).unwrap_err();
/// assert!(conflict.to_string().contains("already in the store with another key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeyStoreConflict(pub String);

impl fmt::Display for StaticKeyStoreConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StaticKeyStoreConflict {}

impl StaticKeyStore {
    /// An empty store. `logical_name` goes into the keyring's cache ids, as a real store's does.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStore, StaticKeyStore};
    ///
    /// assert_eq!(StaticKeyStore::new("example-store").logical_key_store_name(), "example-store");
    /// ```
    pub fn new(logical_name: impl Into<String>) -> StaticKeyStore {
        StaticKeyStore {
            logical_name: logical_name.into(),
            versions: BTreeMap::new(),
            active: BTreeMap::new(),
            beacons: BTreeMap::new(),
        }
    }

    /// Adds one version of a branch key; `active` makes it the version new messages use (the
    /// latest call with `active` wins, as a rotation would). Adding the same id and version twice
    /// with different keys is refused.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, StaticKeyStore};
    ///
    /// # use envelope_keyrings::hierarchy::KeyStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let version = |version: &str, byte: u8| {
    ///     BranchKeyMaterials::new("tenant-a", version, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32]).unwrap()).unwrap()
    /// };
    /// let mut store = StaticKeyStore::new("example-store");
    /// // A rotation: the second version becomes active, the first stays readable.
    /// store.add_branch_key(version("e9ce18a3-edb5-4272-9f86-1cacb7997ff6", 1), true)?;
    /// store.add_branch_key(version("0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", 2), true)?;
    /// assert_eq!(store.get_active_branch_key("tenant-a").await?.key().expose_secret(), &[2; 32]);
    /// assert!(store.get_branch_key_version("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6").await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_branch_key(
        &mut self,
        materials: BranchKeyMaterials,
        active: bool,
    ) -> Result<&mut StaticKeyStore, StaticKeyStoreConflict> {
        let slot = (materials.branch_key_id().to_owned(), materials.version().to_owned());
        if let Some(existing) = self.versions.get(&slot) {
            // Constant time: the comparison involves secret bytes.
            if aws_lc_rs::constant_time::verify_slices_are_equal(
                existing.key().expose_secret(),
                materials.key().expose_secret(),
            )
            .is_err()
            {
                return Err(StaticKeyStoreConflict(format!(
                    "branch key {:?} version {} is already in the store with another key",
                    slot.0, slot.1
                )));
            }
        }
        if active {
            self.active.insert(slot.0.clone(), slot.1.clone());
        }
        self.versions.insert(slot, materials);
        Ok(self)
    }

    /// Adds (or replaces) the beacon key of a branch key id.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, KeyStore, StaticKeyStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_beacon_key(BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?));
    /// assert_eq!(store.get_beacon_key("tenant-a").await?.key().expose_secret(), &[9; 32]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_beacon_key(&mut self, materials: BeaconKeyMaterials) -> &mut StaticKeyStore {
        self.beacons.insert(materials.beacon_key_id().to_owned(), materials);
        self
    }

    /// Adds a fresh random branch key (one active version with a random UUID) and a random
    /// beacon key under `branch_key_id`: keys for one run of a test, an example or a benchmark,
    /// which live only in this process.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::{KeyStore, StaticKeyStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut store = StaticKeyStore::new("example-store");
    /// store.add_random_key("tenant-a")?;
    /// let active = store.get_active_branch_key("tenant-a").await?;
    /// assert_eq!(active.key().expose_secret().len(), 32);
    /// assert!(store.get_beacon_key("tenant-a").await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_random_key(&mut self, branch_key_id: &str) -> Result<&mut StaticKeyStore, KeyStoreError> {
        let failed = |kind| KeyStoreError::new(KeyStoreOperation::CreateKey, kind).for_key(branch_key_id);
        let mut bytes = Zeroizing::new([0u8; 32 + 32 + 16]);
        aws_lc_rs::rand::fill(&mut bytes[..])
            .map_err(|_| failed(KeyStoreErrorKind::Backend { message: "the system has no randomness".into() }))?;
        let (branch, rest) = bytes.split_at(32);
        let (beacon, version) = rest.split_at(32);
        let version = uuid::Builder::from_random_bytes(version.try_into().expect("16 bytes")).into_uuid();
        let secret = |key: &[u8]| BranchKeySecret::from_slice(key).expect("32 bytes is a branch key's length");
        let materials =
            BranchKeyMaterials::new(branch_key_id, version.hyphenated().to_string(), BTreeMap::new(), secret(branch))
                .map_err(|e| failed(KeyStoreErrorKind::InvalidRequest { message: e.to_string() }))?;
        self.add_branch_key(materials, true).expect("a random version is new");
        self.add_beacon_key(BeaconKeyMaterials::new(branch_key_id, BTreeMap::new(), secret(beacon)));
        Ok(self)
    }

    fn no_such_key(operation: KeyStoreOperation, branch_key_id: &str) -> KeyStoreError {
        KeyStoreError::new(operation, KeyStoreErrorKind::NoSuchKey).for_key(branch_key_id)
    }
}

impl fmt::Debug for StaticKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names and versions only; the materials' own Debug is redacted, but a list of keys is noise.
        f.debug_struct("StaticKeyStore")
            .field("logical_name", &self.logical_name)
            .field("versions", &self.versions.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .field("beacon_keys", &self.beacons.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[async_trait]
impl KeyStore for StaticKeyStore {
    fn logical_key_store_name(&self) -> &str {
        &self.logical_name
    }

    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        let operation = KeyStoreOperation::GetActiveBranchKey;
        let version = self.active.get(branch_key_id).ok_or_else(|| Self::no_such_key(operation, branch_key_id))?;
        self.versions
            .get(&(branch_key_id.to_owned(), version.clone()))
            .cloned()
            .ok_or_else(|| Self::no_such_key(operation, branch_key_id).for_version(version.clone()))
    }

    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.versions.get(&(branch_key_id.to_owned(), version.to_owned())).cloned().ok_or_else(|| {
            Self::no_such_key(KeyStoreOperation::GetBranchKeyVersion, branch_key_id).for_version(version)
        })
    }

    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        self.beacons
            .get(branch_key_id)
            .cloned()
            .ok_or_else(|| Self::no_such_key(KeyStoreOperation::GetBeaconKey, branch_key_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hierarchy::key_store::BranchKeySecret;

    const V1: &str = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
    const V2: &str = "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c";

    fn version(id: &str, version: &str, byte: u8) -> BranchKeyMaterials {
        BranchKeyMaterials::new(id, version, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32]).unwrap())
            .unwrap()
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn active_follows_the_last_active_version_and_old_versions_stay_readable() {
        let mut store = StaticKeyStore::new("static");
        store.add_branch_key(version("bk", V1, 1), true).unwrap();
        store.add_branch_key(version("bk", V2, 2), true).unwrap();
        let active = block_on(store.get_active_branch_key("bk")).unwrap();
        assert_eq!(active.version(), V2);
        let old = block_on(store.get_branch_key_version("bk", V1)).unwrap();
        assert_eq!(old.key().expose_secret(), &[1; 32]);
    }

    #[test]
    fn unknown_keys_and_versions_are_typed_errors() {
        let mut store = StaticKeyStore::new("static");
        store.add_branch_key(version("bk", V1, 1), false).unwrap();
        let error = block_on(store.get_active_branch_key("bk")).unwrap_err();
        assert_eq!(error.kind(), &KeyStoreErrorKind::NoSuchKey);
        assert_eq!(error.operation(), KeyStoreOperation::GetActiveBranchKey);
        let error = block_on(store.get_branch_key_version("bk", V2)).unwrap_err();
        assert_eq!((error.branch_key_id(), error.version()), (Some("bk"), Some(V2)));
        assert!(block_on(store.get_beacon_key("bk")).is_err());
    }

    #[test]
    fn a_version_cannot_be_redefined_with_another_key() {
        let mut store = StaticKeyStore::new("static");
        store.add_branch_key(version("bk", V1, 1), true).unwrap();
        assert!(store.add_branch_key(version("bk", V1, 1), true).is_ok());
        assert!(store.add_branch_key(version("bk", V1, 9), true).is_err());
    }
}
