//! The caching materials manager: reuses the materials of an underlying manager for a while, so
//! that many messages cost one call to the key provider (KMS) instead of one each.
//!
//! spec: framework/caching-cmm.md. Where the spec is silent, envelope follows the Material
//! Providers Library's CachingCMM and the other ESDKs:
//! - an encryption request without a plaintext length (a stream), or longer than the byte limit,
//!   goes to the underlying manager and is not cached: its bytes could not be counted;
//! - suites with the identity KDF are never cached (the data key would be the content key);
//! - signed suites are cached with their signing key: the messages of one entry share it;
//! - an entry serves only requests that would have produced the same materials: the cache id
//!   covers the partition, suite and context, and the entry also remembers the commitment policy
//!   and required context keys (encrypt) or the reproduced context (decrypt) it was made for;
//! - usage is counted on every hit, atomically with the lookup, and an entry past a limit or
//!   older than the manager's max age is removed and never reused. Decryption entries are
//!   limited by age only (the message and byte limits are about encrypting).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::cache_id::{self, PartitionDigest};
use super::materials_cache::{CacheEntry, CachedMaterials, DecryptionTerms, EncryptionTerms, MaterialsCache, Usage};
use super::{DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};
use crate::suite::{AlgorithmSuite, KeyDerivation};

/// The most messages one cached data key may encrypt, and the default limit (2^32).
///
/// ```
/// use envelope::cmm::MAX_MESSAGES_ENCRYPTED;
///
/// assert_eq!(MAX_MESSAGES_ENCRYPTED, 1 << 32);
/// ```
pub const MAX_MESSAGES_ENCRYPTED: u64 = 1 << 32;

/// The most plaintext bytes one cached data key may encrypt, and the default limit (2^63 - 1).
///
/// ```
/// use envelope::cmm::MAX_BYTES_ENCRYPTED;
///
/// assert_eq!(MAX_BYTES_ENCRYPTED, i64::MAX as u64);
/// ```
pub const MAX_BYTES_ENCRYPTED: u64 = i64::MAX as u64;

/// Where "now" comes from (a test clock in unit tests).
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Caches the encryption and decryption materials of an underlying [`MaterialsManager`] in a
/// [`MaterialsCache`]: one data key then protects many messages, and the key provider (KMS) is
/// called once per entry instead of once per message.
///
/// Limits bound how far a data key is reused: a maximum age (required), messages and bytes
/// encrypted per data key. The trade-off: every message encrypted under one entry shares its
/// data key (and, for signed suites, its signing key), so revoking access to the wrapping key
/// takes effect only when the entries expire, and a leaked data key exposes all its messages.
///
/// ```
/// use std::time::Duration;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(100), Duration::from_secs(300))
///     .max_messages_encrypted(1000)
///     .build()?;
/// let client = BlockingClient::new(Client::new(cmm));
///
/// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
/// let first = client.encrypt(b"record 1", &options)?;
/// let second = client.encrypt(b"record 2", &options)?;
/// // Both messages carry the same wrapped data key: the keyring ran once.
/// let edks = |message: &[u8]| -> envelope::Result<_> {
///     Ok(client.decrypt(message, &DecryptOptions::new())?.info.encrypted_data_keys)
/// };
/// assert_eq!(edks(&first)?, edks(&second)?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CachingMaterialsManager {
    underlying: Arc<dyn MaterialsManager>,
    cache: Arc<dyn MaterialsCache>,
    partition_name: String,
    partition: PartitionDigest,
    max_age: Duration,
    max_messages: u64,
    max_bytes: u64,
    clock: Clock,
}

/// Settings of a [`CachingMaterialsManager`]; [`build`](Self::build) checks them.
///
/// ```
/// use std::time::Duration;
///
/// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let builder = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(10), Duration::from_secs(60))
///     .max_messages_encrypted(100)
///     .max_bytes_encrypted(100 << 20)
///     .partition_name("orders");
/// let cmm = builder.build()?;
/// assert_eq!(cmm.partition_name(), "orders");
/// # Ok(())
/// # }
/// ```
pub struct CachingMaterialsManagerBuilder {
    underlying: Arc<dyn MaterialsManager>,
    cache: Arc<dyn MaterialsCache>,
    max_age: Duration,
    max_messages: u64,
    max_bytes: u64,
    partition_name: Option<String>,
    clock: Clock,
}

impl CachingMaterialsManager {
    /// Starts a manager over `underlying` that keeps entries in `cache` for at most `max_age`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache, RequiredEncryptionContextMaterialsManager};
    /// use envelope::{DefaultMaterialsManager, Keyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // Caching in front of a manager that requires a tenant in every context.
    /// let keyring: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let strict = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
    /// let cmm = CachingMaterialsManager::builder(strict, LocalMaterialsCache::new(100), Duration::from_secs(60)).build()?;
    /// # let _ = cmm;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(
        underlying: impl MaterialsManager + 'static,
        cache: impl MaterialsCache + 'static,
        max_age: Duration,
    ) -> CachingMaterialsManagerBuilder {
        CachingMaterialsManagerBuilder {
            underlying: Arc::new(underlying),
            cache: Arc::new(cache),
            max_age,
            max_messages: MAX_MESSAGES_ENCRYPTED,
            max_bytes: MAX_BYTES_ENCRYPTED,
            partition_name: None,
            clock: Arc::new(Instant::now),
        }
    }

    /// Starts a manager over a [`DefaultMaterialsManager`] for `keyring`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope::Client;
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(100), Duration::from_secs(60))
    ///     .build()?;
    /// let client = Client::new(cmm);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder_with_keyring(
        keyring: impl Keyring + 'static,
        cache: impl MaterialsCache + 'static,
        max_age: Duration,
    ) -> CachingMaterialsManagerBuilder {
        CachingMaterialsManager::builder(DefaultMaterialsManager::new(keyring), cache, max_age)
    }

    /// The partition name: managers on one cache share entries only when their names are equal.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let cache = LocalMaterialsCache::new(100);
    /// let build = |cache: &LocalMaterialsCache| -> envelope::Result<CachingMaterialsManager> {
    ///     let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    ///     CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(60)).build()
    /// };
    /// // Without a name each manager gets a random one, so nothing is shared by accident.
    /// assert_ne!(build(&cache)?.partition_name(), build(&cache)?.partition_name());
    /// # Ok(())
    /// # }
    /// ```
    pub fn partition_name(&self) -> &str {
        &self.partition_name
    }

    /// How long an entry may be used after it was made.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::from_secs(60))
    ///     .build()?;
    /// assert_eq!(cmm.max_age(), Duration::from_secs(60));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The most messages one cached data key encrypts.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::MAX_MESSAGES_ENCRYPTED;
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::from_secs(60))
    ///     .build()?;
    /// assert_eq!(cmm.max_messages_encrypted(), MAX_MESSAGES_ENCRYPTED);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_messages_encrypted(&self) -> u64 {
        self.max_messages
    }

    /// The most plaintext bytes one cached data key encrypts.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::MAX_BYTES_ENCRYPTED;
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::from_secs(60))
    ///     .build()?;
    /// assert_eq!(cmm.max_bytes_encrypted(), MAX_BYTES_ENCRYPTED);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_bytes_encrypted(&self) -> u64 {
        self.max_bytes
    }

    /// Whether an entry made at `created` may still be used at `now` by this manager (its own
    /// max age applies even to entries another manager on a shared cache made).
    fn young_enough(&self, entry: &CacheEntry, now: Instant) -> bool {
        now.saturating_duration_since(entry.created()) < self.max_age
    }

    /// A new entry for materials made now, unless its expiry cannot be represented.
    fn new_entry(&self, materials: CachedMaterials, now: Instant, usage: Usage) -> Option<CacheEntry> {
        let expires = now.checked_add(self.max_age)?;
        Some(CacheEntry::new(materials, now, expires, usage))
    }
}

impl CachingMaterialsManagerBuilder {
    /// Limits the messages one data key encrypts (1 to 2^32; default 2^32).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let builder = || -> envelope::Result<_> {
    ///     let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    ///     Ok(CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::from_secs(60)))
    /// };
    /// assert_eq!(builder()?.max_messages_encrypted(10).build()?.max_messages_encrypted(), 10);
    /// assert!(builder()?.max_messages_encrypted(0).build().is_err());
    /// assert!(builder()?.max_messages_encrypted((1 << 32) + 1).build().is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_messages_encrypted(mut self, messages: u64) -> Self {
        self.max_messages = messages;
        self
    }

    /// Limits the plaintext bytes one data key encrypts (at most 2^63 - 1, the default).
    /// Messages longer than the limit bypass the cache.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let cmm = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::from_secs(60))
    ///     .max_bytes_encrypted(1 << 30)
    ///     .build()?;
    /// assert_eq!(cmm.max_bytes_encrypted(), 1 << 30);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_bytes_encrypted(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Names the partition: managers on one cache with the same name share entries. Without a
    /// name, the manager takes a random one and shares nothing.
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
    /// // Two services in one process, one cache, one partition: one data key for both.
    /// let cache = LocalMaterialsCache::new(100);
    /// let client = |cache: &LocalMaterialsCache| -> envelope::Result<BlockingClient> {
    ///     let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    ///     let cmm = CachingMaterialsManager::builder_with_keyring(keyring, cache.clone(), Duration::from_secs(60))
    ///         .partition_name("shared")
    ///         .build()?;
    ///     Ok(BlockingClient::new(Client::new(cmm)))
    /// };
    /// client(&cache)?.encrypt(b"a", &EncryptOptions::new())?;
    /// client(&cache)?.encrypt(b"b", &EncryptOptions::new())?;
    /// assert_eq!(cache.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn partition_name(mut self, name: impl Into<String>) -> Self {
        self.partition_name = Some(name.into());
        self
    }

    /// Replaces the clock (unit tests of expiry).
    #[cfg(test)]
    pub(crate) fn clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the settings and builds the manager.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
    /// use envelope::Error;
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
    /// let zero_age = CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(1), Duration::ZERO);
    /// assert!(matches!(zero_age.build(), Err(Error::Usage(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Result<CachingMaterialsManager> {
        if self.max_age.is_zero() {
            return Err(Error::usage("the caching materials manager needs a max age greater than zero"));
        }
        if !(1..=MAX_MESSAGES_ENCRYPTED).contains(&self.max_messages) {
            return Err(Error::usage(format!(
                "max messages encrypted must be between 1 and {MAX_MESSAGES_ENCRYPTED}, not {}",
                self.max_messages
            )));
        }
        if self.max_bytes > MAX_BYTES_ENCRYPTED {
            return Err(Error::usage(format!(
                "max bytes encrypted must be at most {MAX_BYTES_ENCRYPTED}, not {}",
                self.max_bytes
            )));
        }
        let partition_name = match self.partition_name {
            Some(name) => name,
            None => random_partition_name()?,
        };
        Ok(CachingMaterialsManager {
            underlying: self.underlying,
            cache: self.cache,
            partition: PartitionDigest::of(&partition_name),
            partition_name,
            max_age: self.max_age,
            max_messages: self.max_messages,
            max_bytes: self.max_bytes,
            clock: self.clock,
        })
    }
}

/// A random UUID (version 4) as text: unique to one manager.
fn random_partition_name() -> Result<String> {
    let mut bytes = [0u8; 16];
    crate::crypto::rand::fill(&mut bytes)?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

fn uses_identity_kdf(suite: AlgorithmSuite) -> bool {
    suite.key_derivation() == KeyDerivation::Identity
}

#[async_trait]
impl MaterialsManager for CachingMaterialsManager {
    async fn encryption_materials(&self, request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
        // Without a length (a stream) the bytes could not be counted against the limit.
        let Some(length) = request.max_plaintext_length else {
            return self.underlying.encryption_materials(request).await;
        };
        if length > self.max_bytes || request.algorithm_suite.is_some_and(uses_identity_kdf) {
            return self.underlying.encryption_materials(request).await;
        }
        let id = cache_id::for_encryption(&self.partition, request.algorithm_suite, &request.encryption_context)?;
        let terms = EncryptionTerms {
            policy: request.commitment_policy,
            required_keys: request.required_encryption_context_keys.clone(),
        };
        let now = (self.clock)();
        if let Some(entry) = self.cache.get(&id, Usage::new(1, length), now) {
            if let CachedMaterials::Encryption { materials, made_for } = entry.materials() {
                if *made_for == terms {
                    let usage = entry.usage();
                    if self.young_enough(&entry, now)
                        && usage.messages <= self.max_messages
                        && usage.bytes <= self.max_bytes
                    {
                        tracing::trace!(partition = %self.partition_name, "encryption materials from the cache");
                        return Ok(materials.duplicate());
                    }
                    // Past a limit: never reused, and dropped now so its data key is zeroized.
                    self.cache.remove(&id);
                }
            }
        }
        let materials = self.underlying.encryption_materials(request).await?;
        if !uses_identity_kdf(materials.suite()) {
            let cached = CachedMaterials::Encryption { materials: materials.duplicate(), made_for: terms };
            if let Some(entry) = self.new_entry(cached, now, Usage::new(1, length)) {
                self.cache.put(id, entry);
            }
        }
        Ok(materials)
    }

    async fn decryption_materials(&self, request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
        if uses_identity_kdf(request.algorithm_suite) {
            return self.underlying.decryption_materials(request).await;
        }
        let id = cache_id::for_decryption(
            &self.partition,
            request.algorithm_suite,
            &request.encrypted_data_keys,
            &request.encryption_context,
        )?;
        let terms = DecryptionTerms {
            policy: request.commitment_policy,
            // No reproduced context and an empty one ask for the same materials.
            reproduced: request.reproduced_encryption_context.clone().filter(|context| !context.is_empty()),
        };
        let now = (self.clock)();
        if let Some(entry) = self.cache.get(&id, Usage::new(1, 0), now) {
            if let CachedMaterials::Decryption { materials, made_for } = entry.materials() {
                if *made_for == terms {
                    if self.young_enough(&entry, now) {
                        tracing::trace!(partition = %self.partition_name, "decryption materials from the cache");
                        return Ok(materials.duplicate());
                    }
                    self.cache.remove(&id);
                }
            }
        }
        let materials = self.underlying.decryption_materials(request).await?;
        if !uses_identity_kdf(materials.suite()) {
            let cached = CachedMaterials::Decryption { materials: materials.duplicate(), made_for: terms };
            if let Some(entry) = self.new_entry(cached, now, Usage::new(1, 0)) {
                self.cache.put(id, entry);
            }
        }
        Ok(materials)
    }
}

impl fmt::Debug for CachingMaterialsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingMaterialsManager")
            .field("underlying", &self.underlying)
            .field("cache", &self.cache)
            .field("partition_name", &self.partition_name)
            .field("max_age", &self.max_age)
            .field("max_messages_encrypted", &self.max_messages)
            .field("max_bytes_encrypted", &self.max_bytes)
            .finish()
    }
}

impl fmt::Debug for CachingMaterialsManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingMaterialsManagerBuilder")
            .field("underlying", &self.underlying)
            .field("cache", &self.cache)
            .field("partition_name", &self.partition_name)
            .field("max_age", &self.max_age)
            .field("max_messages_encrypted", &self.max_messages)
            .field("max_bytes_encrypted", &self.max_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use super::*;
    use crate::cmm::LocalMaterialsCache;
    use crate::error::{EdkFailure, KeyringError};
    use crate::materials::{DataKey, EncryptedDataKey, EncryptionContext};
    use crate::suite::CommitmentPolicy;

    /// Calls that reached the keyring, i.e. cache misses.
    #[derive(Debug, Default)]
    struct Calls {
        encrypt: AtomicUsize,
        decrypt: AtomicUsize,
    }

    impl Calls {
        fn encrypts(&self) -> usize {
            self.encrypt.load(Ordering::SeqCst)
        }
        fn decrypts(&self) -> usize {
            self.decrypt.load(Ordering::SeqCst)
        }
    }

    /// A test keyring: a fresh random data key per encryption, "wrapped" by storing it in the
    /// clear in the EDK, so decryption works and every miss is visible as a new key.
    #[derive(Debug)]
    struct PlainKeyring(Arc<Calls>);

    #[async_trait]
    impl Keyring for PlainKeyring {
        async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
            self.0.encrypt.fetch_add(1, Ordering::SeqCst);
            let key = DataKey::generate(materials.suite().data_key_len())?;
            materials.push_encrypted_data_key(EncryptedDataKey::new("plain", Vec::new(), key.expose_secret().to_vec()));
            materials.set_data_key(key)?;
            Ok(materials)
        }

        async fn on_decrypt(
            &self,
            mut materials: DecryptionMaterials,
            edks: &[EncryptedDataKey],
        ) -> Result<DecryptionMaterials> {
            self.0.decrypt.fetch_add(1, Ordering::SeqCst);
            match edks.iter().find(|edk| edk.provider_id == "plain") {
                Some(edk) => {
                    materials.set_data_key(DataKey::new(edk.ciphertext.clone()))?;
                    Ok(materials)
                }
                None => Err(KeyringError::NoDataKeyUnwrapped(
                    edks.iter().map(|edk| EdkFailure::not_mine(edk, "plain", "not plain")).collect(),
                )
                .into()),
            }
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);
    const SUITE: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;

    fn builder(calls: &Arc<Calls>, cache: &LocalMaterialsCache) -> CachingMaterialsManagerBuilder {
        CachingMaterialsManager::builder_with_keyring(PlainKeyring(calls.clone()), cache.clone(), MINUTE)
    }

    fn manager(calls: &Arc<Calls>) -> CachingMaterialsManager {
        builder(calls, &LocalMaterialsCache::new(100)).build().unwrap()
    }

    fn context() -> EncryptionContext {
        EncryptionContext::from([("tenant", "acme")])
    }

    fn encrypt_request(length: Option<u64>) -> EncryptionMaterialsRequest {
        EncryptionMaterialsRequest::new(context(), CommitmentPolicy::RequireEncryptAllowDecrypt)
            .with_algorithm_suite(Some(SUITE))
            .with_max_plaintext_length(length)
    }

    fn encrypt(cmm: &CachingMaterialsManager, request: EncryptionMaterialsRequest) -> EncryptionMaterials {
        pollster::block_on(cmm.encryption_materials(request)).unwrap()
    }

    fn decrypt_request(written: &EncryptionMaterials) -> DecryptionMaterialsRequest {
        DecryptionMaterialsRequest::new(
            written.suite(),
            CommitmentPolicy::RequireEncryptAllowDecrypt,
            written.encrypted_data_keys().to_vec(),
            written.encryption_context().clone(),
            None,
        )
    }

    fn decrypt(cmm: &CachingMaterialsManager, request: DecryptionMaterialsRequest) -> DecryptionMaterials {
        pollster::block_on(cmm.decryption_materials(request)).unwrap()
    }

    fn key_of(materials: &EncryptionMaterials) -> Vec<u8> {
        materials.data_key().unwrap().expose_secret().to_vec()
    }

    #[test]
    fn hits_reuse_the_materials_and_the_keyring_runs_once_per_entry() {
        let calls = Arc::new(Calls::default());
        let cmm = manager(&calls);
        let first = encrypt(&cmm, encrypt_request(Some(10)));
        for _ in 0..4 {
            let again = encrypt(&cmm, encrypt_request(Some(10)));
            assert_eq!(key_of(&again), key_of(&first));
            assert_eq!(again.encrypted_data_keys(), first.encrypted_data_keys());
        }
        assert_eq!(calls.encrypts(), 1);

        let other_context = EncryptionMaterialsRequest::new(
            EncryptionContext::from([("tenant", "globex")]),
            CommitmentPolicy::RequireEncryptAllowDecrypt,
        )
        .with_algorithm_suite(Some(SUITE))
        .with_max_plaintext_length(Some(10));
        assert_ne!(key_of(&encrypt(&cmm, other_context)), key_of(&first));
        assert_eq!(calls.encrypts(), 2, "another context is another entry");
    }

    #[test]
    fn signed_suites_are_cached_with_their_signing_key() {
        let calls = Arc::new(Calls::default());
        let cmm = manager(&calls);
        let request = || {
            EncryptionMaterialsRequest::new(context(), CommitmentPolicy::default()).with_max_plaintext_length(Some(1))
        };
        let first = encrypt(&cmm, request());
        let second = encrypt(&cmm, request());
        assert_eq!(first.suite(), AlgorithmSuite::DEFAULT);
        assert_eq!(calls.encrypts(), 1);
        let public_key =
            |materials: &EncryptionMaterials| materials.signing_key().unwrap().public_key_compressed().to_vec();
        assert_eq!(public_key(&first), public_key(&second));
        assert_eq!(first.encryption_context(), second.encryption_context());
    }

    #[test]
    fn the_message_limit_is_never_exceeded_and_spent_entries_are_removed() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(100);
        let cmm = builder(&calls, &cache).max_messages_encrypted(3).build().unwrap();
        let mut uses: HashMap<Vec<u8>, u64> = HashMap::new();
        for _ in 0..10 {
            *uses.entry(key_of(&encrypt(&cmm, encrypt_request(Some(1))))).or_default() += 1;
        }
        assert_eq!(calls.encrypts(), 4, "10 messages at 3 per data key");
        assert!(uses.values().all(|&count| count <= 3), "{uses:?}");
        assert_eq!(cache.len(), 1, "the spent entries were replaced");
    }

    #[test]
    fn the_byte_limit_counts_declared_lengths_and_longer_messages_bypass_the_cache() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(100);
        let cmm = builder(&calls, &cache).max_bytes_encrypted(100).build().unwrap();
        let keys: Vec<Vec<u8>> = (0..5).map(|_| key_of(&encrypt(&cmm, encrypt_request(Some(40))))).collect();
        // 40 + 40 fit in 100 bytes, a third 40 does not.
        assert_eq!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_eq!(keys[2], keys[3]);
        assert_ne!(keys[3], keys[4]);
        assert_eq!(calls.encrypts(), 3);

        let too_long = encrypt(&cmm, encrypt_request(Some(101)));
        assert_eq!(calls.encrypts(), 4);
        assert_eq!(key_of(&encrypt(&cmm, encrypt_request(Some(40)))), keys[4], "the long message left the entry alone");
        assert_ne!(key_of(&too_long), keys[4]);
    }

    #[test]
    fn requests_without_a_plaintext_length_bypass_the_cache() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(100);
        let cmm = builder(&calls, &cache).build().unwrap();
        for _ in 0..3 {
            encrypt(&cmm, encrypt_request(None));
        }
        assert_eq!(calls.encrypts(), 3);
        assert!(cache.is_empty());
    }

    #[test]
    fn identity_kdf_suites_are_never_cached() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(100);
        let cmm = builder(&calls, &cache).build().unwrap();
        let request = || {
            EncryptionMaterialsRequest::new(context(), CommitmentPolicy::ForbidEncryptAllowDecrypt)
                .with_algorithm_suite(Some(AlgorithmSuite::Aes256GcmIv12Tag16NoKdf))
                .with_max_plaintext_length(Some(10))
        };
        let written = encrypt(&cmm, request());
        encrypt(&cmm, request());
        assert_eq!(calls.encrypts(), 2);
        decrypt(&cmm, decrypt_request(&written));
        decrypt(&cmm, decrypt_request(&written));
        assert_eq!(calls.decrypts(), 2);
        assert!(cache.is_empty());
    }

    #[test]
    fn decryption_materials_are_cached_per_message_keys() {
        let calls = Arc::new(Calls::default());
        let cmm = manager(&calls);
        let writer = manager(&Arc::new(Calls::default()));
        let first = encrypt(&writer, encrypt_request(None));
        let second = encrypt(&writer, encrypt_request(None));
        for _ in 0..3 {
            let read = decrypt(&cmm, decrypt_request(&first));
            assert_eq!(read.data_key().unwrap().expose_secret(), first.data_key().unwrap().expose_secret());
        }
        assert_eq!(calls.decrypts(), 1);
        let read = decrypt(&cmm, decrypt_request(&second));
        assert_eq!(read.data_key().unwrap().expose_secret(), second.data_key().unwrap().expose_secret());
        assert_eq!(calls.decrypts(), 2, "other EDKs are another entry");
    }

    #[test]
    fn entries_expire_after_the_max_age() {
        let calls = Arc::new(Calls::default());
        let start = Instant::now();
        let elapsed_ms = Arc::new(AtomicU64::new(0));
        let clock = {
            let elapsed_ms = elapsed_ms.clone();
            move || start + Duration::from_millis(elapsed_ms.load(Ordering::SeqCst))
        };
        let cache = LocalMaterialsCache::new(100);
        let cmm =
            CachingMaterialsManager::builder_with_keyring(PlainKeyring(calls.clone()), cache, Duration::from_secs(10))
                .clock(clock)
                .build()
                .unwrap();
        let written = encrypt(&cmm, encrypt_request(Some(1)));
        decrypt(&cmm, decrypt_request(&written));
        elapsed_ms.store(9_999, Ordering::SeqCst);
        assert_eq!(key_of(&encrypt(&cmm, encrypt_request(Some(1)))), key_of(&written));
        decrypt(&cmm, decrypt_request(&written));
        assert_eq!((calls.encrypts(), calls.decrypts()), (1, 1), "still fresh");
        elapsed_ms.store(10_000, Ordering::SeqCst);
        assert_ne!(key_of(&encrypt(&cmm, encrypt_request(Some(1)))), key_of(&written));
        decrypt(&cmm, decrypt_request(&written));
        assert_eq!((calls.encrypts(), calls.decrypts()), (2, 2), "expired entries were not used");
    }

    #[test]
    fn a_manager_applies_its_own_max_age_to_a_shared_entry() {
        let start = Instant::now();
        let elapsed_ms = Arc::new(AtomicU64::new(0));
        let clock = {
            let elapsed_ms = elapsed_ms.clone();
            move || start + Duration::from_millis(elapsed_ms.load(Ordering::SeqCst))
        };
        let cache = LocalMaterialsCache::new(100);
        let (long_calls, short_calls) = (Arc::new(Calls::default()), Arc::new(Calls::default()));
        let long = builder(&long_calls, &cache).partition_name("p").clock(clock.clone()).build().unwrap();
        let short = CachingMaterialsManager::builder_with_keyring(
            PlainKeyring(short_calls.clone()),
            cache,
            Duration::from_secs(5),
        )
        .partition_name("p")
        .clock(clock)
        .build()
        .unwrap();
        let written = encrypt(&long, encrypt_request(Some(1)));
        elapsed_ms.store(4_000, Ordering::SeqCst);
        assert_eq!(key_of(&encrypt(&short, encrypt_request(Some(1)))), key_of(&written));
        elapsed_ms.store(6_000, Ordering::SeqCst);
        assert_ne!(key_of(&encrypt(&short, encrypt_request(Some(1)))), key_of(&written));
        assert_eq!(short_calls.encrypts(), 1);
    }

    #[test]
    fn partitions_separate_managers_on_a_shared_cache() {
        let cache = LocalMaterialsCache::new(100);
        let (a, b, c) = (Arc::new(Calls::default()), Arc::new(Calls::default()), Arc::new(Calls::default()));
        let unnamed_a = builder(&a, &cache).build().unwrap();
        let unnamed_b = builder(&b, &cache).build().unwrap();
        encrypt(&unnamed_a, encrypt_request(Some(1)));
        encrypt(&unnamed_b, encrypt_request(Some(1)));
        assert_eq!((a.encrypts(), b.encrypts()), (1, 1), "random partitions share nothing");

        let named_a = builder(&a, &cache).partition_name("orders").build().unwrap();
        let named_c = builder(&c, &cache).partition_name("orders").build().unwrap();
        let written = encrypt(&named_a, encrypt_request(Some(1)));
        assert_eq!(key_of(&encrypt(&named_c, encrypt_request(Some(1)))), key_of(&written));
        assert_eq!(c.encrypts(), 0, "the same name shares entries");
    }

    #[test]
    fn entries_serve_only_requests_with_the_same_terms() {
        let calls = Arc::new(Calls::default());
        let cmm = manager(&calls);
        let with_policy =
            |policy| EncryptionMaterialsRequest::new(context(), policy).with_max_plaintext_length(Some(1));
        let legacy = encrypt(&cmm, with_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt));
        let committing = encrypt(&cmm, with_policy(CommitmentPolicy::RequireEncryptRequireDecrypt));
        assert_eq!(calls.encrypts(), 2);
        assert!(!legacy.suite().is_committing());
        assert!(committing.suite().is_committing());

        let mut required = encrypt_request(Some(1));
        required.required_encryption_context_keys = vec!["tenant".into()];
        encrypt(&cmm, encrypt_request(Some(1)));
        let strict = encrypt(&cmm, required);
        assert_eq!(strict.required_encryption_context_keys(), ["tenant"]);
        assert_eq!(calls.encrypts(), 4, "required keys change the materials");

        let mut reproduced = decrypt_request(&strict);
        reproduced.reproduced_encryption_context = Some(EncryptionContext::from([("region", "eu")]));
        decrypt(&cmm, decrypt_request(&strict));
        let mut empty = decrypt_request(&strict);
        empty.reproduced_encryption_context = Some(EncryptionContext::new());
        decrypt(&cmm, empty);
        assert_eq!(calls.decrypts(), 1, "no reproduced context and an empty one are the same request");
        let read = decrypt(&cmm, reproduced);
        assert_eq!(read.encryption_context().get("region").map(String::as_str), Some("eu"));
        assert_eq!(calls.decrypts(), 2);
    }

    #[test]
    fn concurrent_encryptions_stay_within_the_message_limit() {
        let calls = Arc::new(Calls::default());
        let cmm = builder(&calls, &LocalMaterialsCache::new(10)).max_messages_encrypted(7).build().unwrap();
        let uses: Mutex<HashMap<Vec<u8>, u64>> = Mutex::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..500 {
                        let key = key_of(&encrypt(&cmm, encrypt_request(Some(1))));
                        *uses.lock().unwrap().entry(key).or_default() += 1;
                    }
                });
            }
        });
        let uses = uses.into_inner().unwrap();
        assert_eq!(uses.values().sum::<u64>(), 2000);
        assert!(uses.values().all(|&count| count <= 7), "a data key encrypted more than 7 messages: {uses:?}");
        assert!(calls.encrypts() < 2000, "the cache was used at all");
    }

    #[test]
    fn the_builder_checks_its_limits() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(1);
        let usage_error = |result: Result<CachingMaterialsManager>| matches!(result, Err(Error::Usage(_)));
        assert!(usage_error(
            CachingMaterialsManager::builder_with_keyring(PlainKeyring(calls.clone()), cache.clone(), Duration::ZERO)
                .build()
        ));
        assert!(usage_error(builder(&calls, &cache).max_messages_encrypted(0).build()));
        assert!(usage_error(builder(&calls, &cache).max_messages_encrypted(MAX_MESSAGES_ENCRYPTED + 1).build()));
        assert!(usage_error(builder(&calls, &cache).max_bytes_encrypted(MAX_BYTES_ENCRYPTED + 1).build()));
        let most = builder(&calls, &cache)
            .max_messages_encrypted(MAX_MESSAGES_ENCRYPTED)
            .max_bytes_encrypted(MAX_BYTES_ENCRYPTED)
            .build()
            .unwrap();
        assert_eq!(most.max_messages_encrypted(), 1 << 32);
        let name = most.partition_name();
        assert_eq!((name.len(), &name[14..15]), (36, "4"), "a version 4 UUID: {name}");
    }

    #[test]
    fn debug_never_shows_cached_data_keys() {
        let calls = Arc::new(Calls::default());
        let cache = LocalMaterialsCache::new(10);
        let cmm = builder(&calls, &cache).partition_name("debug").build().unwrap();
        let written = encrypt(&cmm, encrypt_request(Some(1)));
        let key_hex: String = key_of(&written)[..8].iter().map(|byte| format!("{byte:02x}")).collect();
        let key_list = format!("{:?}", &key_of(&written)[..4]).replace(['[', ']'], "");
        let id = cache_id::for_encryption(&PartitionDigest::of("debug"), Some(SUITE), &context()).unwrap();
        let entry = cache.get(&id, Usage::default(), Instant::now()).unwrap();
        for shown in
            [format!("{cmm:?}"), format!("{cmm:#?}"), format!("{cache:?}"), format!("{entry:?}"), format!("{entry:#?}")]
        {
            assert!(!shown.contains(&key_hex) && !shown.contains(&key_list), "{shown}");
        }
        assert!(format!("{entry:?}").contains("usage: Usage { messages: 1, bytes: 1 }"), "{entry:?}");
    }
}
