//! The cache seam of the caching materials manager: what an entry holds, and the three operations
//! a cache offers (get with usage accounting, put, remove).
//!
//! spec: framework/cryptographic-materials-cache.md

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::materials::{DecryptionMaterials, EncryptionContext, EncryptionMaterials};
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Identifies one cache entry: a SHA-512 digest of the partition name and of what the materials
/// were made for (see [`CachingMaterialsManager`](super::CachingMaterialsManager)). Not secret.
///
/// ```
/// use std::time::Instant;
///
/// use envelope::cmm::{CacheEntry, CacheId, MaterialsCache, Usage};
///
/// /// A cache that only logs which ids it was asked for, and stores nothing.
/// #[derive(Debug)]
/// struct LoggingNoCache;
///
/// impl MaterialsCache for LoggingNoCache {
///     fn get(&self, id: &CacheId, _usage: Usage, _now: Instant) -> Option<CacheEntry> {
///         println!("miss {id:?}"); // e.g. "miss CacheId(3f2a…)": a short hex prefix
///         None
///     }
///     fn put(&self, _id: CacheId, _entry: CacheEntry) {}
///     fn remove(&self, _id: &CacheId) {}
/// }
/// # let _ = LoggingNoCache;
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheId([u8; 64]);

impl CacheId {
    pub(crate) fn new(digest: [u8; 64]) -> CacheId {
        CacheId(digest)
    }

    /// The digest bytes (to shard a cache, for example).
    ///
    /// ```
    /// use envelope::cmm::CacheId;
    ///
    /// // A cache split into 16 locks picks one by the id's first byte.
    /// fn shard(id: &CacheId) -> usize {
    ///     usize::from(id.as_bytes()[0] % 16)
    /// }
    /// # let _ = shard;
    /// ```
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for CacheId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheId(")?;
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "…)")
    }
}

/// How much an entry's data key has been used: messages, and plaintext bytes (the declared
/// plaintext lengths of those messages). Decryption entries count messages only.
///
/// ```
/// use envelope::cmm::Usage;
///
/// let one_message = Usage::new(1, 4096);
/// assert_eq!(one_message.messages, 1);
/// assert_eq!(one_message.bytes, 4096);
/// assert_eq!(Usage::default(), Usage::new(0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Messages encrypted (or decrypted) with the entry's materials.
    pub messages: u64,
    /// Plaintext bytes encrypted with the entry's materials.
    pub bytes: u64,
}

impl Usage {
    /// A usage of `messages` messages and `bytes` bytes.
    ///
    /// ```
    /// use envelope::cmm::Usage;
    ///
    /// // What the caching manager adds to an entry for one 1 KiB message.
    /// let use_once = Usage::new(1, 1024);
    /// assert_eq!((use_once.messages, use_once.bytes), (1, 1024));
    /// ```
    pub fn new(messages: u64, bytes: u64) -> Usage {
        Usage { messages, bytes }
    }

    /// The sum of two usages; saturates instead of wrapping, so a counter never restarts at zero.
    ///
    /// ```
    /// use envelope::cmm::Usage;
    ///
    /// assert_eq!(Usage::new(1, 10).plus(Usage::new(2, 5)), Usage::new(3, 15));
    /// assert_eq!(Usage::new(1, u64::MAX).plus(Usage::new(1, 1)).bytes, u64::MAX);
    /// ```
    pub fn plus(self, other: Usage) -> Usage {
        Usage { messages: self.messages.saturating_add(other.messages), bytes: self.bytes.saturating_add(other.bytes) }
    }
}

/// Materials and what they were made for; shared by every copy of one entry.
pub(crate) enum CachedMaterials {
    Encryption { materials: EncryptionMaterials, made_for: EncryptionTerms },
    Decryption { materials: DecryptionMaterials, made_for: DecryptionTerms },
}

/// The parts of an encryption request that change the materials but are not in the cache id:
/// an entry serves only requests with the same terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncryptionTerms {
    pub policy: CommitmentPolicy,
    pub required_keys: Vec<String>,
}

/// The parts of a decryption request that change the materials but are not in the cache id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecryptionTerms {
    pub policy: CommitmentPolicy,
    pub reproduced: Option<EncryptionContext>,
}

/// One cached set of materials with its creation time, expiry time and usage. Cloning is cheap
/// (the materials are shared); the data key is zeroized when the last copy is dropped. Only the
/// caching materials manager creates entries; a cache stores them and adds usage.
///
/// ```
/// use std::time::Instant;
///
/// use envelope::cmm::{CacheEntry, CacheId, LocalMaterialsCache, MaterialsCache, Usage};
///
/// /// A cache that reports how far each entry it hands out has been used.
/// #[derive(Debug)]
/// struct Reporting(LocalMaterialsCache);
///
/// impl MaterialsCache for Reporting {
///     fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
///         let entry = self.0.get(id, usage, now)?;
///         println!("{} messages so far, expires in {:?}", entry.usage().messages, entry.expires() - now);
///         Some(entry)
///     }
///     fn put(&self, id: CacheId, entry: CacheEntry) {
///         self.0.put(id, entry)
///     }
///     fn remove(&self, id: &CacheId) {
///         self.0.remove(id)
///     }
/// }
/// # let _ = Reporting(LocalMaterialsCache::new(1));
/// ```
#[derive(Clone)]
pub struct CacheEntry {
    materials: Arc<CachedMaterials>,
    created: Instant,
    expires: Instant,
    usage: Usage,
}

impl CacheEntry {
    pub(crate) fn new(materials: CachedMaterials, created: Instant, expires: Instant, usage: Usage) -> CacheEntry {
        CacheEntry { materials: Arc::new(materials), created, expires, usage }
    }

    pub(crate) fn materials(&self) -> &CachedMaterials {
        &self.materials
    }

    /// When the entry was made.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use envelope::cmm::CacheEntry;
    /// // In a cache that keeps entries younger than a minute, whatever their expiry.
    /// fn young_enough(entry: &CacheEntry, now: Instant) -> bool {
    ///     now.duration_since(entry.created()).as_secs() < 60
    /// }
    /// # let _ = young_enough;
    /// ```
    pub fn created(&self) -> Instant {
        self.created
    }

    /// When the entry expires: from then on a cache must not return it.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use envelope::cmm::CacheEntry;
    /// // What `is_expired` checks.
    /// fn expired(entry: &CacheEntry, now: Instant) -> bool {
    ///     now >= entry.expires()
    /// }
    /// # let _ = expired;
    /// ```
    pub fn expires(&self) -> Instant {
        self.expires
    }

    /// Whether the entry has expired at `now`.
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// use envelope::cmm::CacheEntry;
    ///
    /// // The first check of every `get`.
    /// fn get_from(slot: &Option<CacheEntry>, now: Instant) -> Option<CacheEntry> {
    ///     slot.as_ref().filter(|entry| !entry.is_expired(now)).cloned()
    /// }
    /// # let _ = get_from;
    /// ```
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires
    }

    /// The usage recorded so far (including the use that created the entry).
    ///
    /// ```
    /// # use envelope::cmm::CacheEntry;
    /// fn report(entry: &CacheEntry) -> String {
    ///     format!("{} messages, {} bytes", entry.usage().messages, entry.usage().bytes)
    /// }
    /// # let _ = report;
    /// ```
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Adds `usage` to the entry's counters and returns the new totals. A cache calls it inside
    /// `get`, under the same lock as the lookup.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::Mutex;
    /// use std::time::Instant;
    ///
    /// use envelope::cmm::{CacheEntry, CacheId, MaterialsCache, Usage};
    ///
    /// /// An unbounded cache (no capacity, no LRU): the smallest correct implementation.
    /// #[derive(Debug, Default)]
    /// struct Unbounded(Mutex<HashMap<CacheId, CacheEntry>>);
    ///
    /// impl MaterialsCache for Unbounded {
    ///     fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
    ///         let mut entries = self.0.lock().ok()?;
    ///         if entries.get(id)?.is_expired(now) {
    ///             entries.remove(id);
    ///             return None;
    ///         }
    ///         let entry = entries.get_mut(id)?;
    ///         entry.record_use(usage);
    ///         Some(entry.clone())
    ///     }
    ///     fn put(&self, id: CacheId, entry: CacheEntry) {
    ///         if let Ok(mut entries) = self.0.lock() {
    ///             entries.insert(id, entry);
    ///         }
    ///     }
    ///     fn remove(&self, id: &CacheId) {
    ///         if let Ok(mut entries) = self.0.lock() {
    ///             entries.remove(id);
    ///         }
    ///     }
    /// }
    /// # let _ = Unbounded::default();
    /// ```
    pub fn record_use(&mut self, usage: Usage) -> Usage {
        self.usage = self.usage.plus(usage);
        self.usage
    }

    /// The entry's algorithm suite.
    fn suite(&self) -> AlgorithmSuite {
        match &*self.materials {
            CachedMaterials::Encryption { materials, .. } => materials.suite(),
            CachedMaterials::Decryption { materials, .. } => materials.suite(),
        }
    }
}

impl fmt::Debug for CacheEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &*self.materials {
            CachedMaterials::Encryption { .. } => "encryption",
            CachedMaterials::Decryption { .. } => "decryption",
        };
        // Never the materials: they hold the data key.
        f.debug_struct("CacheEntry")
            .field("kind", &kind)
            .field("suite", &self.suite())
            .field("created", &self.created)
            .field("expires", &self.expires)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

/// A store of cryptographic materials for [`CachingMaterialsManager`](super::CachingMaterialsManager)s.
/// Object-safe, and shared across threads: several managers may use one cache (entries are
/// separated by partition name unless the managers share one).
///
/// Implementations must never return an entry expired at `now`, and must add `usage` to the
/// entry in the same atomic step as the lookup: that is how concurrent encryptions through one
/// manager stay within its message and byte limits. [`LocalMaterialsCache`](super::LocalMaterialsCache)
/// is the in-memory implementation.
///
/// ```
/// use std::time::Instant;
///
/// use envelope::cmm::{CacheEntry, CacheId, MaterialsCache, Usage};
///
/// /// Turns caching off without changing the code that builds the manager.
/// #[derive(Debug)]
/// struct NoCache;
///
/// impl MaterialsCache for NoCache {
///     fn get(&self, _id: &CacheId, _usage: Usage, _now: Instant) -> Option<CacheEntry> {
///         None
///     }
///     fn put(&self, _id: CacheId, _entry: CacheEntry) {}
///     fn remove(&self, _id: &CacheId) {}
/// }
///
/// let cache: std::sync::Arc<dyn MaterialsCache> = std::sync::Arc::new(NoCache);
/// # let _ = cache;
/// ```
pub trait MaterialsCache: Send + Sync + fmt::Debug {
    /// The entry under `id` unless it is missing or expired at `now`, after adding `usage` to its
    /// counters (the returned entry shows the new totals).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::cmm::{CacheEntry, CacheId, CachingMaterialsManager, LocalMaterialsCache, MaterialsCache, Usage};
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// /// Counts hits, and otherwise behaves as the local cache.
    /// #[derive(Debug)]
    /// struct Counting(LocalMaterialsCache, std::sync::atomic::AtomicUsize);
    ///
    /// impl MaterialsCache for Counting {
    ///     fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
    ///         let entry = self.0.get(id, usage, now)?;
    ///         self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ///         Some(entry)
    ///     }
    ///     fn put(&self, id: CacheId, entry: CacheEntry) {
    ///         self.0.put(id, entry)
    ///     }
    ///     fn remove(&self, id: &CacheId) {
    ///         self.0.remove(id)
    ///     }
    /// }
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let cache = std::sync::Arc::new(Counting(LocalMaterialsCache::new(10), Default::default()));
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(60)).build()?;
    /// let client = BlockingClient::new(Client::new(cmm));
    /// for _ in 0..3 {
    ///     client.encrypt(b"secret", &EncryptOptions::new())?;
    /// }
    /// assert_eq!(cache.1.load(std::sync::atomic::Ordering::Relaxed), 2, "one miss, then two hits");
    /// # Ok(())
    /// # }
    /// ```
    fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry>;

    /// Stores `entry` under `id`, replacing any entry there.
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// use envelope::cmm::{CacheEntry, CacheId, LocalMaterialsCache, MaterialsCache, Usage};
    ///
    /// /// Refuses entries that would live longer than ten seconds, whatever the manager asks.
    /// #[derive(Debug)]
    /// struct ShortLived(LocalMaterialsCache);
    ///
    /// impl MaterialsCache for ShortLived {
    ///     fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
    ///         self.0.get(id, usage, now)
    ///     }
    ///     fn put(&self, id: CacheId, entry: CacheEntry) {
    ///         if entry.expires().duration_since(entry.created()).as_secs() <= 10 {
    ///             self.0.put(id, entry);
    ///         }
    ///     }
    ///     fn remove(&self, id: &CacheId) {
    ///         self.0.remove(id)
    ///     }
    /// }
    /// # let _ = ShortLived(LocalMaterialsCache::new(1));
    /// ```
    fn put(&self, id: CacheId, entry: CacheEntry);

    /// Removes the entry under `id`, if there is one (the manager removes entries past a limit).
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// use envelope::cmm::{CacheEntry, CacheId, LocalMaterialsCache, MaterialsCache, Usage};
    ///
    /// /// Logs evictions by the manager.
    /// #[derive(Debug)]
    /// struct LoggedRemovals(LocalMaterialsCache);
    ///
    /// impl MaterialsCache for LoggedRemovals {
    ///     fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
    ///         self.0.get(id, usage, now)
    ///     }
    ///     fn put(&self, id: CacheId, entry: CacheEntry) {
    ///         self.0.put(id, entry)
    ///     }
    ///     fn remove(&self, id: &CacheId) {
    ///         println!("entry {id:?} reached a limit");
    ///         self.0.remove(id)
    ///     }
    /// }
    /// # let _ = LoggedRemovals(LocalMaterialsCache::new(1));
    /// ```
    fn remove(&self, id: &CacheId);
}

impl<C: MaterialsCache + ?Sized> MaterialsCache for Arc<C> {
    fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
        (**self).get(id, usage, now)
    }

    fn put(&self, id: CacheId, entry: CacheEntry) {
        (**self).put(id, entry)
    }

    fn remove(&self, id: &CacheId) {
        (**self).remove(id)
    }
}
