//! The in-memory materials cache: a fixed capacity with least-recently-used eviction, and
//! expired entries pruned as the cache is used.
//!
//! spec: framework/local-cryptographic-materials-cache.md

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::materials_cache::{CacheEntry, CacheId, MaterialsCache, Usage};

/// Least recently used entries checked for expiry on every get (the spec's "entry pruning tail
/// size"): enough to keep a cache whose keys go cold from holding expired keys until evicted by
/// capacity, while each get stays constant time.
const PRUNING_TAIL_SIZE: usize = 2;

/// An in-memory [`MaterialsCache`]: at most `capacity` entries, the least recently used evicted
/// first, expired entries never returned (and dropped when met). Thread-safe; clones share one
/// cache, so several caching managers can use it. Evicted key material is zeroized when dropped.
///
/// ```
/// use std::time::Duration;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let cache = LocalMaterialsCache::new(100);
/// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(300)).build()?;
/// let client = BlockingClient::new(Client::new(cmm));
///
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// client.decrypt(&message, &DecryptOptions::new())?;
/// assert_eq!(cache.len(), 2, "one encryption entry, one decryption entry");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LocalMaterialsCache {
    shared: Arc<Shared>,
}

struct Shared {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<CacheId, Slot>,
    /// Entries by last use: the first is the least recently used.
    by_recency: BTreeMap<u64, CacheId>,
    next_tick: u64,
}

struct Slot {
    entry: CacheEntry,
    tick: u64,
}

impl LocalMaterialsCache {
    /// A cache of at most `capacity` entries (0 is allowed: it stores nothing).
    ///
    /// ```
    /// use envelope::cmm::LocalMaterialsCache;
    ///
    /// let cache = LocalMaterialsCache::new(1000);
    /// assert_eq!(cache.capacity(), 1000);
    /// assert!(cache.is_empty());
    /// ```
    pub fn new(capacity: usize) -> LocalMaterialsCache {
        LocalMaterialsCache { shared: Arc::new(Shared { capacity, state: Mutex::new(State::default()) }) }
    }

    /// The most entries the cache holds.
    ///
    /// ```
    /// use envelope::cmm::LocalMaterialsCache;
    ///
    /// assert_eq!(LocalMaterialsCache::new(8).capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// The entries held now, expired ones not yet pruned included.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope::{Client, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let cache = LocalMaterialsCache::new(2);
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(60)).build()?;
    /// let client = BlockingClient::new(Client::new(cmm));
    /// // Each encryption context has its own entry; the third evicts the least recently used.
    /// for tenant in ["a", "b", "c"] {
    ///     let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", tenant)]));
    ///     client.encrypt(b"secret", &options)?;
    /// }
    /// assert_eq!(cache.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache holds no entry.
    ///
    /// ```
    /// use envelope::cmm::LocalMaterialsCache;
    ///
    /// assert!(LocalMaterialsCache::new(8).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    /// Drops every entry (their data keys are zeroized), e.g. after rotating a wrapping key.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let cache = LocalMaterialsCache::new(10);
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(60)).build()?;
    /// BlockingClient::new(Client::new(cmm)).encrypt(b"secret", &EncryptOptions::new())?;
    /// assert_eq!(cache.len(), 1);
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.by_recency.clear();
    }

    /// The state; a panic elsewhere while holding the lock cannot leave it inconsistent (every
    /// change is a few map operations), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn next_tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }

    fn remove(&mut self, id: &CacheId) {
        if let Some(slot) = self.entries.remove(id) {
            self.by_recency.remove(&slot.tick);
        }
    }

    /// Drops the expired entries among the least recently used few.
    fn prune_tail(&mut self, now: Instant) {
        let expired: Vec<CacheId> = self
            .by_recency
            .values()
            .take(PRUNING_TAIL_SIZE)
            .filter(|id| self.entries.get(*id).is_some_and(|slot| slot.entry.is_expired(now)))
            .copied()
            .collect();
        for id in &expired {
            self.remove(id);
        }
    }
}

impl MaterialsCache for LocalMaterialsCache {
    fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
        let mut state = self.lock();
        state.prune_tail(now);
        if state.entries.get(id)?.entry.is_expired(now) {
            state.remove(id);
            return None;
        }
        let tick = state.next_tick();
        let slot = state.entries.get_mut(id)?;
        let previous = std::mem::replace(&mut slot.tick, tick);
        slot.entry.record_use(usage);
        let entry = slot.entry.clone();
        state.by_recency.remove(&previous);
        state.by_recency.insert(tick, *id);
        Some(entry)
    }

    fn put(&self, id: CacheId, entry: CacheEntry) {
        if self.shared.capacity == 0 {
            return;
        }
        let mut state = self.lock();
        state.remove(&id);
        let tick = state.next_tick();
        state.entries.insert(id, Slot { entry, tick });
        state.by_recency.insert(tick, id);
        while state.entries.len() > self.shared.capacity {
            match state.by_recency.pop_first() {
                Some((_, oldest)) => {
                    state.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }

    fn remove(&self, id: &CacheId) {
        self.lock().remove(id);
    }
}

impl fmt::Debug for LocalMaterialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: entries hold data keys.
        f.debug_struct("LocalMaterialsCache").field("capacity", &self.capacity()).field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cmm::materials_cache::{CachedMaterials, DecryptionTerms};
    use crate::materials::{DataKey, DecryptionMaterials, EncryptionContext};
    use crate::suite::{AlgorithmSuite, CommitmentPolicy};

    fn id(byte: u8) -> CacheId {
        CacheId::new([byte; 64])
    }

    fn entry(created: Instant, ttl: Duration) -> CacheEntry {
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None).unwrap();
        materials.set_data_key(DataKey::new(vec![9; 32])).unwrap();
        let made_for = DecryptionTerms { policy: CommitmentPolicy::default(), reproduced: None };
        CacheEntry::new(CachedMaterials::Decryption { materials, made_for }, created, created + ttl, Usage::default())
    }

    #[test]
    fn the_least_recently_used_entry_is_evicted_at_capacity() {
        let cache = LocalMaterialsCache::new(2);
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        cache.put(id(1), entry(now, minute));
        cache.put(id(2), entry(now, minute));
        assert!(cache.get(&id(1), Usage::default(), now).is_some(), "1 is now the most recently used");
        cache.put(id(3), entry(now, minute));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&id(2), Usage::default(), now).is_none(), "2 was the least recently used");
        assert!(cache.get(&id(1), Usage::default(), now).is_some());
        assert!(cache.get(&id(3), Usage::default(), now).is_some());
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = LocalMaterialsCache::new(0);
        let now = Instant::now();
        cache.put(id(1), entry(now, Duration::from_secs(60)));
        assert!(cache.is_empty());
        assert!(cache.get(&id(1), Usage::default(), now).is_none());
    }

    #[test]
    fn expired_entries_are_never_returned_and_are_dropped() {
        let cache = LocalMaterialsCache::new(10);
        let start = Instant::now();
        cache.put(id(1), entry(start, Duration::from_secs(10)));
        cache.put(id(2), entry(start, Duration::from_secs(10)));
        cache.put(id(3), entry(start, Duration::from_secs(100)));
        assert!(cache.get(&id(1), Usage::default(), start + Duration::from_secs(9)).is_some());
        let later = start + Duration::from_secs(10);
        assert!(cache.get(&id(1), Usage::default(), later).is_none(), "expired at its expiry time");
        // Asking for another entry prunes the least recently used expired ones (2 here).
        assert!(cache.get(&id(3), Usage::default(), later).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn usage_accumulates_on_every_get_and_clones_share_the_cache() {
        let cache = LocalMaterialsCache::new(10);
        let other = cache.clone();
        let now = Instant::now();
        cache.put(id(1), entry(now, Duration::from_secs(60)));
        other.get(&id(1), Usage::new(1, 100), now).unwrap();
        let seen = cache.get(&id(1), Usage::new(1, 50), now).unwrap();
        assert_eq!(seen.usage(), Usage::new(2, 150));
        cache.remove(&id(1));
        assert!(other.is_empty());
    }

    #[test]
    fn debug_shows_counts_only() {
        let cache = LocalMaterialsCache::new(3);
        cache.put(id(1), entry(Instant::now(), Duration::from_secs(60)));
        assert_eq!(format!("{cache:?}"), "LocalMaterialsCache { capacity: 3, len: 1 }");
    }
}
