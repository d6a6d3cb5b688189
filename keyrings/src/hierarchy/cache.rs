//! The cache of branch key materials: TTL, capacity with least-recently-used eviction, shareable
//! across keyrings, and storm tracking (concurrent misses for one entry make one key-store call).
//!
//! Ids are the spec's: SHA-384 over `0x02 ‖ 0 ‖ scope ‖ 0 ‖ partition id ‖ 0 ‖ logical key store
//! name ‖ 0 ‖ branch key id [‖ 0 ‖ version]`, scope 0x01 for encrypt (the ACTIVE version) and
//! 0x02 for decrypt (one version). Keyrings with the same partition id, logical store name and
//! branch key id share entries; a random partition id (the default) shares nothing.
//!
//! spec: aws-kms-hierarchical-keyring.md#appendix-a-cache-entry-identifier-formulas,
//! local-cryptographic-materials-cache.md, storm-tracking-cryptographic-materials-cache.md

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use futures_util::future::{FutureExt, Shared};

use super::key_store::{BranchKeyMaterials, KeyStoreError};
use super::wrapping::DerivationKey;

/// Default entry capacity (the spec's `DefaultCache`).
///
/// ```
/// assert_eq!(envelope_keyrings::hierarchy::cache::DEFAULT_CAPACITY, 1000);
/// ```
pub const DEFAULT_CAPACITY: usize = 1000;

/// A cache id: SHA-384 of the fields above.
///
/// ```
/// use envelope_keyrings::hierarchy::cache::CacheId;
///
/// let id: CacheId = [0; 48]; // the length of a SHA-384 digest
/// assert_eq!(id.len(), 48);
/// ```
pub type CacheId = [u8; 48];

/// Resource id of the hierarchical keyring in cache ids.
const RESOURCE_HIERARCHICAL_KEYRING: u8 = 0x02;
/// Scope ids.
const SCOPE_ENCRYPT: u8 = 0x01;
const SCOPE_DECRYPT: u8 = 0x02;

/// The cache id of the ACTIVE branch key used on encrypt.
///
/// ```
/// use envelope_keyrings::hierarchy::cache::encrypt_cache_id;
///
/// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
/// assert_eq!(id.len(), 48, "a SHA-384");
/// // Another partition (a keyring with its own) never shares the entry.
/// assert_ne!(id, encrypt_cache_id(b"other", "example-store", "tenant-a"));
/// ```
pub fn encrypt_cache_id(partition_id: &[u8], logical_key_store_name: &str, branch_key_id: &str) -> CacheId {
    cache_id(&[
        &[RESOURCE_HIERARCHICAL_KEYRING],
        &[SCOPE_ENCRYPT],
        partition_id,
        logical_key_store_name.as_bytes(),
        branch_key_id.as_bytes(),
    ])
}

/// The cache id of one branch key version used on decrypt (`version` in UUID text form).
///
/// ```
/// use envelope_keyrings::hierarchy::cache::{decrypt_cache_id, encrypt_cache_id};
///
/// let version = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
/// let id = decrypt_cache_id(b"partition", "example-store", "tenant-a", version);
/// // Encrypt and decrypt entries of one key are distinct (different scopes).
/// assert_ne!(id, encrypt_cache_id(b"partition", "example-store", "tenant-a"));
/// ```
pub fn decrypt_cache_id(
    partition_id: &[u8],
    logical_key_store_name: &str,
    branch_key_id: &str,
    version: &str,
) -> CacheId {
    cache_id(&[
        &[RESOURCE_HIERARCHICAL_KEYRING],
        &[SCOPE_DECRYPT],
        partition_id,
        logical_key_store_name.as_bytes(),
        branch_key_id.as_bytes(),
        version.as_bytes(),
    ])
}

/// SHA-384 of the fields joined by single zero bytes.
fn cache_id(fields: &[&[u8]]) -> CacheId {
    let mut context = digest::Context::new(&digest::SHA384);
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            context.update(&[0]);
        }
        context.update(field);
    }
    let mut id = [0u8; 48];
    id.copy_from_slice(context.finish().as_ref());
    id
}

/// A cached branch key version: its materials and its derivation key, prepared once.
///
/// ```
/// # use std::collections::BTreeMap;
/// # use std::time::Duration;
/// # use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
/// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), BranchKeySecret::from_slice(&[7; 32])?)?;
/// let cache = BranchKeyCache::new(10);
/// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
/// let cached = cache.get_or_fetch(id, Duration::from_secs(60), move || Box::pin(async move { Ok(materials) })).await?;
/// assert_eq!(cached.materials().branch_key_id(), "tenant-a");
/// # Ok(())
/// # }
/// ```
pub struct CachedBranchKey {
    materials: BranchKeyMaterials,
    derivation: DerivationKey,
}

impl CachedBranchKey {
    fn new(materials: BranchKeyMaterials) -> CachedBranchKey {
        let derivation = DerivationKey::new(materials.key());
        CachedBranchKey { materials, derivation }
    }

    /// The materials the store returned.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::Duration;
    /// # use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), BranchKeySecret::from_slice(&[7; 32])?)?;
    /// let cache = BranchKeyCache::new(10);
    /// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
    /// let cached = cache.get_or_fetch(id, Duration::from_secs(60), move || Box::pin(async move { Ok(materials) })).await?;
    /// assert_eq!(cached.materials().version(), "e9ce18a3-edb5-4272-9f86-1cacb7997ff6");
    /// # Ok(())
    /// # }
    /// ```
    pub fn materials(&self) -> &BranchKeyMaterials {
        &self.materials
    }

    /// The branch key, ready for derivation.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::Duration;
    /// # use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), BranchKeySecret::from_slice(&[7; 32])?)?;
    /// let cache = BranchKeyCache::new(10);
    /// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
    /// let cached = cache.get_or_fetch(id, Duration::from_secs(60), move || Box::pin(async move { Ok(materials) })).await?;
    /// # use envelope_keyrings::hierarchy::wrapping;
    /// let version = cached.materials().version_bytes();
    /// let edk_ciphertext = wrapping::wrap(cached.derivation(), "tenant-a", version, b"", &[1; 32])?;
    /// assert_eq!(edk_ciphertext.len(), 92);
    /// # Ok(())
    /// # }
    /// ```
    pub fn derivation(&self) -> &DerivationKey {
        &self.derivation
    }
}

impl fmt::Debug for CachedBranchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedBranchKey").field("materials", &self.materials).finish_non_exhaustive()
    }
}

type Fetched = Result<Arc<CachedBranchKey>, KeyStoreError>;
/// One key-store call every concurrent miss of an id awaits.
type InFlight = Shared<Pin<Box<dyn Future<Output = Fetched> + Send>>>;

/// A cache of branch key materials. Clone it to share it: clones are one cache.
///
/// Two keyrings sharing a cache and a partition id make one key-store call between them:
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::hierarchy::{
///     BranchKeyCache, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
/// };
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = StaticKeyStore::new("example-store");
/// let key = BranchKeySecret::from_slice(&[7; 32])?;
/// store.add_branch_key(
///     BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?,
///     true,
/// )?;
/// let store: Arc<dyn KeyStore> = Arc::new(store);
/// let cache = BranchKeyCache::new(100);
/// let keyring = |ttl| {
///     HierarchicalKeyring::builder_shared(Arc::clone(&store))
///         .branch_key_id("tenant-a")
///         .ttl(Duration::from_secs(ttl))
///         .cache(cache.clone())
///         .partition_id("billing-service")
///         .build()
/// };
/// let writer = BlockingClient::new(Client::with_keyring(keyring(600)?));
/// let reader = BlockingClient::new(Client::with_keyring(keyring(60)?));
/// let message = writer.encrypt(b"invoice", &EncryptOptions::new())?;
/// assert_eq!(reader.decrypt(&message, &DecryptOptions::new())?.plaintext, b"invoice");
/// // One entry for encrypt (the ACTIVE version), one for decrypt (that version).
/// assert_eq!(cache.len(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct BranchKeyCache {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<CacheId, Entry>,
    /// Use order: tick → id; the first entry is the least recently used.
    recency: BTreeMap<u64, CacheId>,
    tick: u64,
    in_flight: HashMap<CacheId, InFlight>,
}

struct Entry {
    value: Arc<CachedBranchKey>,
    created: Instant,
    /// Set by the keyring that filled the entry (its TTL).
    expires: Instant,
    tick: u64,
}

impl BranchKeyCache {
    /// A cache holding at most `capacity` branch key versions (at least 1).
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::BranchKeyCache;
    ///
    /// assert_eq!(BranchKeyCache::new(500).capacity(), 500);
    /// assert_eq!(BranchKeyCache::new(0).capacity(), 1);
    /// ```
    pub fn new(capacity: usize) -> BranchKeyCache {
        BranchKeyCache { inner: Arc::new(Inner { capacity: capacity.max(1), state: Mutex::new(State::default()) }) }
    }

    /// The capacity in entries.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::cache::{BranchKeyCache, DEFAULT_CAPACITY};
    ///
    /// assert_eq!(BranchKeyCache::default().capacity(), DEFAULT_CAPACITY);
    /// ```
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// How many entries are cached now (expired ones included until they are looked up or evicted).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::Duration;
    /// # use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), BranchKeySecret::from_slice(&[7; 32])?)?;
    /// let cache = BranchKeyCache::new(10);
    /// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
    /// let cached = cache.get_or_fetch(id, Duration::from_secs(60), move || Box::pin(async move { Ok(materials) })).await?;
    /// assert_eq!(cache.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether the cache holds no entry.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::BranchKeyCache;
    ///
    /// assert!(BranchKeyCache::new(10).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry under `id` if it is younger than `ttl` (the asking keyring's TTL, which may be
    /// shorter than the one that filled the entry); otherwise `fetch` runs, at most once for all
    /// concurrent callers asking for `id`, and its result is cached for `ttl`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
    /// use envelope_keyrings::hierarchy::{KeyStore, StaticKeyStore};
    /// # use std::collections::BTreeMap;
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut store = StaticKeyStore::new("example-store");
    /// # let key = BranchKeySecret::from_slice(&[7; 32])?;
    /// # store.add_branch_key(BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), key)?, true)?;
    /// let cache = BranchKeyCache::new(10);
    /// let id = encrypt_cache_id(b"partition", store.logical_key_store_name(), "tenant-a");
    /// let ttl = Duration::from_secs(60);
    /// // The fetch future owns what it uses (it may outlive this call's borrow, for other waiters).
    /// let fetch_store = store.clone();
    /// let first = cache
    ///     .get_or_fetch(id, ttl, move || Box::pin(async move { fetch_store.get_active_branch_key("tenant-a").await }))
    ///     .await?;
    /// // A hit: the closure is not called.
    /// let second = cache.get_or_fetch(id, ttl, || unreachable!("cached")).await?;
    /// assert_eq!(first.materials().version(), second.materials().version());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_or_fetch<F>(&self, id: CacheId, ttl: Duration, fetch: F) -> Fetched
    where
        F: FnOnce() -> Pin<Box<dyn Future<Output = Result<BranchKeyMaterials, KeyStoreError>> + Send>>,
    {
        let in_flight = {
            let mut state = self.inner.lock();
            let now = Instant::now();
            if let Some(value) = state.fresh(&id, now, ttl) {
                return Ok(value);
            }
            match state.in_flight.get(&id) {
                Some(running) => running.clone(),
                None => {
                    let inner = Arc::clone(&self.inner);
                    let call = fetch();
                    let running: InFlight = async move {
                        let fetched = call.await.map(|materials| Arc::new(CachedBranchKey::new(materials)));
                        inner.finish(id, &fetched, ttl);
                        fetched
                    }
                    .boxed()
                    .shared();
                    state.in_flight.insert(id, running.clone());
                    running
                }
            }
        };
        in_flight.await
    }

    /// Drops every entry (not the calls in flight).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::Duration;
    /// # use envelope_keyrings::hierarchy::cache::{encrypt_cache_id, BranchKeyCache};
    /// # use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let materials = BranchKeyMaterials::new("tenant-a", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), BranchKeySecret::from_slice(&[7; 32])?)?;
    /// let cache = BranchKeyCache::new(10);
    /// let id = encrypt_cache_id(b"partition", "example-store", "tenant-a");
    /// let cached = cache.get_or_fetch(id, Duration::from_secs(60), move || Box::pin(async move { Ok(materials) })).await?;
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear(&self) {
        let mut state = self.inner.lock();
        state.entries.clear();
        state.recency.clear();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that matters
        // (at worst an entry is missing from `recency` and is evicted late), so keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the outcome of a key-store call: the call is no longer in flight, and a success
    /// becomes an entry, evicting the least recently used one beyond capacity.
    fn finish(&self, id: CacheId, fetched: &Fetched, ttl: Duration) {
        let mut state = self.lock();
        state.in_flight.remove(&id);
        let Ok(value) = fetched else { return };
        let now = Instant::now();
        state.remove(&id);
        let tick = state.next_tick();
        let expires = now.checked_add(ttl).unwrap_or(now);
        state.entries.insert(id, Entry { value: Arc::clone(value), created: now, expires, tick });
        state.recency.insert(tick, id);
        while state.entries.len() > self.capacity {
            let Some((_, oldest)) = state.recency.pop_first() else { break };
            state.entries.remove(&oldest);
        }
    }
}

impl State {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn remove(&mut self, id: &CacheId) {
        if let Some(old) = self.entries.remove(id) {
            self.recency.remove(&old.tick);
        }
    }

    /// The entry if neither its own expiry nor the reader's TTL has passed; marks it used.
    fn fresh(&mut self, id: &CacheId, now: Instant, reader_ttl: Duration) -> Option<Arc<CachedBranchKey>> {
        let (created, expires, old_tick) =
            self.entries.get(id).map(|entry| (entry.created, entry.expires, entry.tick))?;
        if now >= expires {
            self.remove(id);
            return None;
        }
        // spec: cacheEntryWithinLimits — now − creation ≤ the reader's TTL, besides the entry's own.
        if now.saturating_duration_since(created) > reader_ttl {
            return None;
        }
        let tick = self.next_tick();
        self.recency.remove(&old_tick);
        self.recency.insert(tick, *id);
        let entry = self.entries.get_mut(id)?;
        entry.tick = tick;
        Some(Arc::clone(&entry.value))
    }
}

impl Default for BranchKeyCache {
    fn default() -> BranchKeyCache {
        BranchKeyCache::new(DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for BranchKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BranchKeyCache").field("capacity", &self.inner.capacity).field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::hierarchy::key_store::{BranchKeySecret, KeyStoreErrorKind, KeyStoreOperation};

    const VERSION: &str = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";

    fn materials(byte: u8) -> BranchKeyMaterials {
        BranchKeyMaterials::new("bk", VERSION, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32]).unwrap())
            .unwrap()
    }

    fn counted(
        calls: &Arc<AtomicUsize>,
        byte: u8,
    ) -> impl FnOnce() -> Pin<Box<dyn Future<Output = Result<BranchKeyMaterials, KeyStoreError>> + Send>> + use<> {
        let calls = Arc::clone(calls);
        move || {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(materials(byte))
            })
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn cache_ids_follow_the_spec_formula() {
        // SHA-384(02 00 01 00 "p" 00 "store" 00 "bk"), computed by hand from the spec's layout.
        let mut input = vec![0x02, 0x00, 0x01, 0x00, b'p', 0x00];
        input.extend_from_slice(b"store\0bk");
        let expected = digest::digest(&digest::SHA384, &input);
        assert_eq!(&encrypt_cache_id(b"p", "store", "bk")[..], expected.as_ref());
        let mut input = vec![0x02, 0x00, 0x02, 0x00, b'p', 0x00];
        input.extend_from_slice(b"store\0bk\0");
        input.extend_from_slice(VERSION.as_bytes());
        let expected = digest::digest(&digest::SHA384, &input);
        assert_eq!(&decrypt_cache_id(b"p", "store", "bk", VERSION)[..], expected.as_ref());
        assert_ne!(encrypt_cache_id(b"p", "store", "bk"), encrypt_cache_id(b"q", "store", "bk"));
    }

    #[test]
    fn hits_within_the_ttl_do_not_call_the_store_and_expired_entries_do() {
        let runtime = runtime();
        let cache = BranchKeyCache::new(10);
        let calls = Arc::new(AtomicUsize::new(0));
        let id = encrypt_cache_id(b"p", "store", "bk");
        let ttl = Duration::from_millis(200);
        runtime.block_on(async {
            for _ in 0..5 {
                cache.get_or_fetch(id, ttl, counted(&calls, 1)).await.unwrap();
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            tokio::time::sleep(Duration::from_millis(250)).await;
            cache.get_or_fetch(id, ttl, counted(&calls, 1)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 2, "an expired entry is fetched again");
        });
    }

    #[test]
    fn a_reader_with_a_shorter_ttl_treats_an_older_entry_as_expired() {
        let runtime = runtime();
        let cache = BranchKeyCache::new(10);
        let calls = Arc::new(AtomicUsize::new(0));
        let id = encrypt_cache_id(b"p", "store", "bk");
        runtime.block_on(async {
            cache.get_or_fetch(id, Duration::from_secs(60), counted(&calls, 1)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(60)).await;
            cache.get_or_fetch(id, Duration::from_secs(60), counted(&calls, 1)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            cache.get_or_fetch(id, Duration::from_millis(50), counted(&calls, 1)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn capacity_evicts_the_least_recently_used_entry() {
        let runtime = runtime();
        let cache = BranchKeyCache::new(2);
        let calls = Arc::new(AtomicUsize::new(0));
        let ttl = Duration::from_secs(60);
        let [a, b, c] = [b"a", b"b", b"c"].map(|p| encrypt_cache_id(p, "store", "bk"));
        runtime.block_on(async {
            cache.get_or_fetch(a, ttl, counted(&calls, 1)).await.unwrap();
            cache.get_or_fetch(b, ttl, counted(&calls, 1)).await.unwrap();
            cache.get_or_fetch(a, ttl, counted(&calls, 1)).await.unwrap(); // a is now more recent than b
            cache.get_or_fetch(c, ttl, counted(&calls, 1)).await.unwrap(); // evicts b
            assert_eq!((calls.load(Ordering::SeqCst), cache.len()), (3, 2));
            cache.get_or_fetch(a, ttl, counted(&calls, 1)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 3, "a stayed");
            cache.get_or_fetch(b, ttl, counted(&calls, 1)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 4, "b was evicted");
        });
    }

    #[test]
    fn concurrent_misses_make_one_store_call_and_failures_are_not_cached() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let cache = BranchKeyCache::new(10);
        let calls = Arc::new(AtomicUsize::new(0));
        let id = decrypt_cache_id(b"p", "store", "bk", VERSION);
        runtime.block_on(async {
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let cache = cache.clone();
                    let calls = Arc::clone(&calls);
                    tokio::spawn(async move {
                        cache
                            .get_or_fetch(id, Duration::from_secs(60), move || {
                                Box::pin(async move {
                                    calls.fetch_add(1, Ordering::SeqCst);
                                    // A slow store: every task misses while this call runs.
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    Ok(materials(1))
                                })
                            })
                            .await
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap().unwrap();
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let failing = BranchKeyCache::new(10);
        let failures = Arc::new(AtomicUsize::new(0));
        let fail = |failures: &Arc<AtomicUsize>| {
            let failures = Arc::clone(failures);
            move || -> Pin<Box<dyn Future<Output = Result<BranchKeyMaterials, KeyStoreError>> + Send>> {
                Box::pin(async move {
                    failures.fetch_add(1, Ordering::SeqCst);
                    Err(KeyStoreError::new(KeyStoreOperation::GetBranchKeyVersion, KeyStoreErrorKind::NoSuchKey))
                })
            }
        };
        runtime.block_on(async {
            assert!(failing.get_or_fetch(id, Duration::from_secs(60), fail(&failures)).await.is_err());
            assert!(failing.get_or_fetch(id, Duration::from_secs(60), fail(&failures)).await.is_err());
        });
        assert_eq!(failures.load(Ordering::SeqCst), 2);
        assert!(failing.is_empty());
    }
}
