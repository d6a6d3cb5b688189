//! Where a beacon version's HMAC keys come from: the single-tenant source reads the beacon key of
//! one branch key id, the multi-tenant source the beacon key of the branch key id each item or
//! query names in its `keyFieldName` attribute; both keep derived keys for a TTL.
//!
//! spec: searchable-encryption/search-config.md "Beacon Key Source", "Single Key Store
//! Initialization", "Multi Key Store Initialization", "Get Beacon Key Materials"

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use envelope_keyrings::hierarchy::KeyStore;

use super::error::BeaconError;
use super::version::{BeaconKeys, BeaconVersion};

/// A single-tenant beacon key source: every item's beacons use the beacon key of one branch
/// key id, fetched with [`KeyStore::get_beacon_key`] and cached (one entry) for `ttl`.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use envelope_dbe::beacon::{
///     BeaconHmacKey, BeaconLength, BeaconVersion, BeaconVersionConfig, Item, SingleKeySource, StandardBeacon,
/// };
/// use envelope_dbe::item::{AttributeValue, CryptoAction};
/// use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, StaticKeyStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = StaticKeyStore::new("example-store");
/// store.add_beacon_key(BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[9; 32])?));
/// let source = SingleKeySource::new(Arc::new(store), "tenant-a", Duration::from_secs(60));
///
/// let actions = BTreeMap::from([("email".to_owned(), CryptoAction::EncryptAndSign)]);
/// let config = BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("email", 16)?], ..Default::default() };
/// let version = BeaconVersion::new(config, &actions)?;
/// let keys = source.beacon_keys(&version).await?;
/// assert_eq!(source.beacon_key_id(), "tenant-a");
/// let item: Item = [("email".to_owned(), AttributeValue::S("a@example.com".into()))].into();
/// // The beacon: HMAC-SHA384 under the key derived from the beacon key for "email", 16 bits.
/// let expected = BeaconHmacKey::derive(&[9; 32], "email")?.basic_hash(b"a@example.com", BeaconLength::new(16)?);
/// assert_eq!(version.beacons(&item, &keys, 0)?["aws_dbe_b_email"], AttributeValue::S(expected));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SingleKeySource {
    store: Arc<dyn KeyStore>,
    beacon_key_id: String,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<BeaconKeys>)>>,
}

impl SingleKeySource {
    /// A source reading the beacon key of `beacon_key_id` from `store`, cached for `ttl`
    /// (zero: fetched on every call).
    pub fn new(store: Arc<dyn KeyStore>, beacon_key_id: impl Into<String>, ttl: Duration) -> Self {
        Self { store, beacon_key_id: beacon_key_id.into(), ttl, cached: Mutex::new(None) }
    }

    /// The branch key id whose beacon key is used.
    pub fn beacon_key_id(&self) -> &str {
        &self.beacon_key_id
    }

    /// The HMAC keys of `version`'s beacons: from the cache while it is younger than the TTL and
    /// holds every beacon of `version`, else derived from a fresh `get_beacon_key`.
    pub async fn beacon_keys(&self, version: &BeaconVersion) -> Result<Arc<BeaconKeys>, BeaconError> {
        if let Some(keys) = self.cached_keys(version) {
            return Ok(keys);
        }
        let materials = self.store.get_beacon_key(&self.beacon_key_id).await.map_err(|error| {
            BeaconError::KeyStore { beacon_key_id: self.beacon_key_id.clone(), reason: error.to_string() }
        })?;
        let keys = Arc::new(BeaconKeys::derive(materials.key().expose_secret(), version)?);
        tracing::debug!(beacon_key_id = %self.beacon_key_id, "beacon keys derived");
        if !self.ttl.is_zero() {
            *self.lock() = Some((Instant::now(), Arc::clone(&keys)));
        }
        Ok(keys)
    }

    fn cached_keys(&self, version: &BeaconVersion) -> Option<Arc<BeaconKeys>> {
        let cached = self.lock();
        let (fetched, keys) = cached.as_ref()?;
        (fetched.elapsed() < self.ttl && keys.covers(version)).then(|| Arc::clone(keys))
    }

    /// The cache lock; a panic elsewhere while holding it leaves a valid `Option`, so a
    /// poisoned lock is still usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Arc<BeaconKeys>)>> {
        self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The default number of tenants whose keys a [`MultiKeySource`] keeps (the DB-ESDK's default
/// cache size for a multi key store).
///
/// ```
/// assert_eq!(envelope_dbe::beacon::DEFAULT_TENANT_CAPACITY, 1000);
/// ```
pub const DEFAULT_TENANT_CAPACITY: usize = 1000;

/// A multi-tenant beacon key source: each item's or query's beacons use the beacon key of the
/// branch key id found in its `key_field_name` attribute. Keys are cached per tenant for `ttl`,
/// at most `capacity` tenants (the stalest entry makes room).
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use envelope_dbe::beacon::{BeaconVersion, BeaconVersionConfig, MultiKeySource, StandardBeacon};
/// use envelope_dbe::item::CryptoAction;
/// use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, StaticKeyStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = StaticKeyStore::new("example-store");
/// for (tenant, byte) in [("tenant-a", 1), ("tenant-b", 2)] {
///     store.add_beacon_key(BeaconKeyMaterials::new(tenant, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32])?));
/// }
/// // The tenant's branch key id is in each item's "tenant" attribute; keep 100 tenants' keys.
/// let source = MultiKeySource::new(Arc::new(store), "tenant", Duration::from_secs(60)).with_capacity(100);
/// assert_eq!(source.key_field_name(), "tenant");
/// let actions = BTreeMap::from([("email".to_owned(), CryptoAction::EncryptAndSign)]);
/// let config = BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("email", 16)?], ..Default::default() };
/// let version = BeaconVersion::new(config, &actions)?;
/// let a = source.beacon_keys(&version, "tenant-a").await?;
/// let b = source.beacon_keys(&version, "tenant-b").await?;
/// assert_ne!(a.get("email")?.hmac8(b"x"), b.get("email")?.hmac8(b"x"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MultiKeySource {
    store: Arc<dyn KeyStore>,
    key_field_name: String,
    ttl: Duration,
    capacity: usize,
    cached: Mutex<HashMap<String, (Instant, Arc<BeaconKeys>)>>,
}

impl MultiKeySource {
    /// A source reading the beacon key of the branch key id in each item's `key_field_name`
    /// attribute from `store`, cached for `ttl` (zero: fetched on every call), at most
    /// [`DEFAULT_TENANT_CAPACITY`] tenants.
    pub fn new(store: Arc<dyn KeyStore>, key_field_name: impl Into<String>, ttl: Duration) -> Self {
        Self {
            store,
            key_field_name: key_field_name.into(),
            ttl,
            capacity: DEFAULT_TENANT_CAPACITY,
            cached: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps at most `capacity` tenants' keys (at least one).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The attribute that names an item's or query's beacon key id.
    pub fn key_field_name(&self) -> &str {
        &self.key_field_name
    }

    /// The HMAC keys of `version`'s beacons for the tenant `beacon_key_id`: cached while younger
    /// than the TTL and covering `version`, else derived from a fresh `get_beacon_key`.
    pub async fn beacon_keys(
        &self,
        version: &BeaconVersion,
        beacon_key_id: &str,
    ) -> Result<Arc<BeaconKeys>, BeaconError> {
        if let Some(keys) = self.cached_keys(version, beacon_key_id) {
            return Ok(keys);
        }
        let materials = self.store.get_beacon_key(beacon_key_id).await.map_err(|error| BeaconError::KeyStore {
            beacon_key_id: beacon_key_id.to_owned(),
            reason: error.to_string(),
        })?;
        let keys = Arc::new(BeaconKeys::derive(materials.key().expose_secret(), version)?);
        tracing::debug!(beacon_key_id, "beacon keys derived for a tenant");
        if !self.ttl.is_zero() {
            let mut cached = self.lock();
            cached.retain(|_, (fetched, _)| fetched.elapsed() < self.ttl);
            if cached.len() >= self.capacity && !cached.contains_key(beacon_key_id) {
                let stalest = cached.iter().min_by_key(|(_, (fetched, _))| *fetched).map(|(id, _)| id.clone());
                if let Some(stalest) = stalest {
                    cached.remove(&stalest);
                }
            }
            cached.insert(beacon_key_id.to_owned(), (Instant::now(), Arc::clone(&keys)));
        }
        Ok(keys)
    }

    fn cached_keys(&self, version: &BeaconVersion, beacon_key_id: &str) -> Option<Arc<BeaconKeys>> {
        let cached = self.lock();
        let (fetched, keys) = cached.get(beacon_key_id)?;
        (fetched.elapsed() < self.ttl && keys.covers(version)).then(|| Arc::clone(keys))
    }

    /// The cache lock; a poisoned lock still holds a valid map.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<BeaconKeys>)>> {
        self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A table's beacon key source: one branch key for every item, or one per tenant.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use envelope_dbe::beacon::{BeaconKeySource, BeaconVersion, BeaconVersionConfig, MultiKeySource, StandardBeacon};
/// use envelope_dbe::item::CryptoAction;
/// use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, StaticKeyStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = StaticKeyStore::new("example-store");
/// store.add_beacon_key(BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), BranchKeySecret::from_slice(&[1; 32])?));
/// let source = BeaconKeySource::Multi(MultiKeySource::new(Arc::new(store), "tenant", Duration::from_secs(60)));
/// assert_eq!(source.key_field_name(), Some("tenant"));
///
/// let actions = BTreeMap::from([("email".to_owned(), CryptoAction::EncryptAndSign)]);
/// let config = BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("email", 16)?], ..Default::default() };
/// let version = BeaconVersion::new(config, &actions)?;
/// assert!(source.beacon_keys(&version, Some("tenant-a")).await.is_ok());
/// assert!(source.beacon_keys(&version, None).await.is_err(), "a multi-tenant source needs the tenant");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub enum BeaconKeySource {
    /// Every item uses one branch key's beacon key.
    Single(SingleKeySource),
    /// Each item or query names its branch key id in an attribute.
    Multi(MultiKeySource),
}

impl BeaconKeySource {
    /// The attribute naming the beacon key id, for a multi-tenant source.
    pub fn key_field_name(&self) -> Option<&str> {
        match self {
            Self::Single(_) => None,
            Self::Multi(multi) => Some(multi.key_field_name()),
        }
    }

    /// The keys of `version` for `beacon_key_id` (ignored by a single-tenant source, required by
    /// a multi-tenant one: [`BeaconError::MissingBeaconKeyId`] without it).
    pub async fn beacon_keys(
        &self,
        version: &BeaconVersion,
        beacon_key_id: Option<&str>,
    ) -> Result<Arc<BeaconKeys>, BeaconError> {
        match self {
            Self::Single(single) => single.beacon_keys(version).await,
            Self::Multi(multi) => {
                let id =
                    beacon_key_id.ok_or_else(|| BeaconError::MissingBeaconKeyId(multi.key_field_name().to_owned()))?;
                multi.beacon_keys(version, id).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, StaticKeyStore};

    use super::*;
    use crate::beacon::{BeaconVersionConfig, StandardBeacon};
    use crate::item::CryptoAction;

    fn store() -> Arc<dyn KeyStore> {
        let mut store = StaticKeyStore::new("test-store");
        let secret = BranchKeySecret::from_slice(&[1; 32]).unwrap();
        store.add_beacon_key(BeaconKeyMaterials::new("tenant-a", BTreeMap::new(), secret));
        let secret = BranchKeySecret::from_slice(&[2; 32]).unwrap();
        store.add_beacon_key(BeaconKeyMaterials::new("tenant-c", BTreeMap::new(), secret));
        Arc::new(store)
    }

    #[tokio::test]
    async fn multi_tenant_keys_differ_per_tenant_and_are_cached_per_tenant() {
        let source = MultiKeySource::new(store(), "tenant", Duration::from_secs(60)).with_capacity(1);
        let one = version(&["a"]);
        let a = source.beacon_keys(&one, "tenant-a").await.unwrap();
        assert!(Arc::ptr_eq(&a, &source.beacon_keys(&one, "tenant-a").await.unwrap()));
        let c = source.beacon_keys(&one, "tenant-c").await.unwrap();
        assert_ne!(a.get("a").unwrap().hmac8(b"x"), c.get("a").unwrap().hmac8(b"x"));
        // Capacity one: tenant-c pushed tenant-a out.
        assert!(!Arc::ptr_eq(&a, &source.beacon_keys(&one, "tenant-a").await.unwrap()));
        let error = source.beacon_keys(&one, "tenant-b").await.unwrap_err();
        assert!(matches!(error, BeaconError::KeyStore { ref beacon_key_id, .. } if beacon_key_id == "tenant-b"));
        let both = BeaconKeySource::Multi(source);
        assert_eq!(both.key_field_name(), Some("tenant"));
        assert_eq!(both.beacon_keys(&one, None).await.unwrap_err(), BeaconError::MissingBeaconKeyId("tenant".into()));
    }

    fn version(names: &[&str]) -> BeaconVersion {
        let actions = names.iter().map(|n| ((*n).to_owned(), CryptoAction::EncryptAndSign)).collect();
        let config = BeaconVersionConfig {
            version: 1,
            standard_beacons: names.iter().map(|n| StandardBeacon::new(*n, 16).unwrap()).collect(),
            ..Default::default()
        };
        BeaconVersion::new(config, &actions).unwrap()
    }

    #[tokio::test]
    async fn keys_come_from_the_beacon_key_and_are_cached() {
        let source = SingleKeySource::new(store(), "tenant-a", Duration::from_secs(60));
        let one = version(&["a"]);
        let first = source.beacon_keys(&one).await.unwrap();
        let expected = crate::beacon::BeaconHmacKey::derive(&[1; 32], "a").unwrap();
        assert_eq!(first.get("a").unwrap().hmac8(b"x"), expected.hmac8(b"x"));
        let second = source.beacon_keys(&one).await.unwrap();
        assert!(Arc::ptr_eq(&first, &second), "second call within the TTL should hit the cache");
        // A version with a beacon the cached keys lack derives again.
        let third = source.beacon_keys(&version(&["a", "b"])).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &third));
        assert!(third.get("b").is_ok());
    }

    #[tokio::test]
    async fn zero_ttl_fetches_every_time() {
        let source = SingleKeySource::new(store(), "tenant-a", Duration::ZERO);
        let one = version(&["a"]);
        let first = source.beacon_keys(&one).await.unwrap();
        let second = source.beacon_keys(&one).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
    }

    #[tokio::test]
    async fn unknown_branch_key_is_a_key_store_error() {
        let source = SingleKeySource::new(store(), "tenant-b", Duration::from_secs(60));
        let error = source.beacon_keys(&version(&["a"])).await.unwrap_err();
        assert!(
            matches!(error, BeaconError::KeyStore { ref beacon_key_id, .. } if beacon_key_id == "tenant-b"),
            "{error}"
        );
    }
}
