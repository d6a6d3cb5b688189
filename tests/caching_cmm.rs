//! The caching materials manager through the public API: round trips through `Client` with raw
//! AES, the message and byte limits, expiry, streams and identity-KDF suites bypassing the cache,
//! partitions on a shared cache, and concurrent encryptions within the message limit.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use envelope::blocking::BlockingClient;
use envelope::cmm::{CachingMaterialsManager, CachingMaterialsManagerBuilder, LocalMaterialsCache};
use envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, DecryptionMaterials, EncryptOptions, EncryptedDataKey,
    EncryptionContext, EncryptionMaterials, Keyring,
};
use envelope_keyrings::RawAesKeyring;

/// How often the keyring behind the cache ran: one call per cache miss.
#[derive(Debug, Default)]
struct Calls {
    encrypt: AtomicUsize,
    decrypt: AtomicUsize,
}

impl Calls {
    fn counts(&self) -> (usize, usize) {
        (self.encrypt.load(Ordering::SeqCst), self.decrypt.load(Ordering::SeqCst))
    }
}

/// The test's raw AES keyring, counting its calls.
#[derive(Debug)]
struct Counted {
    inner: RawAesKeyring,
    calls: Arc<Calls>,
}

#[async_trait]
impl Keyring for Counted {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> envelope::Result<EncryptionMaterials> {
        self.calls.encrypt.fetch_add(1, Ordering::SeqCst);
        self.inner.on_encrypt(materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> envelope::Result<DecryptionMaterials> {
        self.calls.decrypt.fetch_add(1, Ordering::SeqCst);
        self.inner.on_decrypt(materials, edks).await
    }
}

fn counted(calls: &Arc<Calls>) -> Counted {
    Counted { inner: common::aes_keyring(), calls: calls.clone() }
}

fn builder(calls: &Arc<Calls>, cache: &LocalMaterialsCache, max_age: Duration) -> CachingMaterialsManagerBuilder {
    CachingMaterialsManager::builder_with_keyring(counted(calls), cache.clone(), max_age)
}

fn client_over(cmm: CachingMaterialsManager, policy: CommitmentPolicy) -> BlockingClient {
    BlockingClient::new(Client::new(cmm).commitment_policy(policy))
}

fn options(suite: AlgorithmSuite) -> EncryptOptions {
    EncryptOptions::new().encryption_context(common::context()).algorithm_suite(suite)
}

/// The EDKs a message carries: equal EDKs mean one cached data key.
fn edks(message: &[u8]) -> Vec<EncryptedDataKey> {
    let reader = BlockingClient::new(common::permissive_client());
    reader
        .decrypt(message, &DecryptOptions::new())
        .expect("a plain client reads cached messages")
        .info
        .encrypted_data_keys
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn every_suite_round_trips_and_the_keyring_runs_once_per_direction() {
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256,
    ] {
        let calls = Arc::new(Calls::default());
        let policy = if suite.is_committing() {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        let client = client_over(builder(&calls, &LocalMaterialsCache::new(10), MINUTE).build().unwrap(), policy);
        let plaintexts: Vec<Vec<u8>> = (0..5).map(|n| common::plaintext(100 + n)).collect();
        let messages: Vec<Vec<u8>> =
            plaintexts.iter().map(|plaintext| client.encrypt(plaintext, &options(suite)).unwrap()).collect();
        for (message, plaintext) in messages.iter().zip(&plaintexts) {
            assert_eq!(&client.decrypt(message, &DecryptOptions::new()).unwrap().plaintext, plaintext, "suite {suite}");
            // Messages of a cached data key are ordinary messages: a client without a cache reads them.
            assert_eq!(edks(message), edks(&messages[0]));
        }
        assert_eq!(calls.counts(), (1, 1), "suite {suite}: one wrap and one unwrap for five messages");
    }
}

#[test]
fn the_message_limit_bounds_each_data_key() {
    let calls = Arc::new(Calls::default());
    let cmm = builder(&calls, &LocalMaterialsCache::new(10), MINUTE).max_messages_encrypted(4).build().unwrap();
    let client = client_over(cmm, CommitmentPolicy::default());
    let mut uses: HashMap<Vec<EncryptedDataKey>, usize> = HashMap::new();
    for _ in 0..10 {
        let message = client.encrypt(b"record", &options(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey)).unwrap();
        *uses.entry(edks(&message)).or_default() += 1;
    }
    assert_eq!(calls.counts().0, 3);
    let mut counts: Vec<usize> = uses.into_values().collect();
    counts.sort_unstable();
    assert_eq!(counts, [2, 4, 4]);
}

#[test]
fn the_byte_limit_counts_plaintext_and_larger_messages_bypass_the_cache() {
    let calls = Arc::new(Calls::default());
    let cache = LocalMaterialsCache::new(10);
    let cmm = builder(&calls, &cache, MINUTE).max_bytes_encrypted(1000).build().unwrap();
    let client = client_over(cmm, CommitmentPolicy::default());
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let messages: Vec<Vec<u8>> =
        (0..4).map(|_| client.encrypt(&common::plaintext(400), &options(suite)).unwrap()).collect();
    assert_eq!(edks(&messages[0]), edks(&messages[1]));
    assert_ne!(edks(&messages[1]), edks(&messages[2]), "a third 400 bytes would pass 1000");
    assert_eq!(edks(&messages[2]), edks(&messages[3]));
    assert_eq!(calls.counts().0, 2);

    let large = client.encrypt(&common::plaintext(1001), &options(suite)).unwrap();
    assert_eq!(calls.counts().0, 3);
    assert_ne!(edks(&large), edks(&messages[3]));
    assert_eq!(cache.len(), 1, "the bypass stored nothing");
}

#[test]
fn streams_bypass_the_cache() {
    use std::io::Write;

    let calls = Arc::new(Calls::default());
    let cache = LocalMaterialsCache::new(10);
    let client = client_over(builder(&calls, &cache, MINUTE).build().unwrap(), CommitmentPolicy::default());
    for _ in 0..3 {
        let mut writer = client.encrypting_writer(Vec::new(), &options(AlgorithmSuite::DEFAULT)).unwrap();
        writer.write_all(b"streamed").unwrap();
        writer.finish().unwrap();
    }
    assert_eq!(calls.counts().0, 3, "a stream declares no length, so its bytes could not be counted");
    assert!(cache.is_empty());
}

#[test]
fn entries_expire_after_the_max_age() {
    let calls = Arc::new(Calls::default());
    let client = client_over(
        builder(&calls, &LocalMaterialsCache::new(10), Duration::from_millis(300)).build().unwrap(),
        CommitmentPolicy::default(),
    );
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let first = client.encrypt(b"one", &options(suite)).unwrap();
    client.decrypt(&first, &DecryptOptions::new()).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let second = client.encrypt(b"two", &options(suite)).unwrap();
    client.decrypt(&first, &DecryptOptions::new()).unwrap();
    assert_ne!(edks(&first), edks(&second));
    assert_eq!(calls.counts(), (2, 2), "both expired entries were replaced");
}

#[test]
fn identity_kdf_suites_are_never_cached() {
    let calls = Arc::new(Calls::default());
    let cache = LocalMaterialsCache::new(10);
    let client =
        client_over(builder(&calls, &cache, MINUTE).build().unwrap(), CommitmentPolicy::ForbidEncryptAllowDecrypt);
    for suite in [AlgorithmSuite::Aes128GcmIv12Tag16NoKdf, AlgorithmSuite::Aes256GcmIv12Tag16NoKdf] {
        let messages: Vec<Vec<u8>> = (0..2).map(|_| client.encrypt(b"legacy", &options(suite)).unwrap()).collect();
        assert_ne!(edks(&messages[0]), edks(&messages[1]), "suite {suite}");
        for message in &messages {
            assert_eq!(client.decrypt(message, &DecryptOptions::new()).unwrap().plaintext, b"legacy");
        }
    }
    assert_eq!(calls.counts(), (4, 4));
    assert!(cache.is_empty());
}

#[test]
fn managers_share_entries_only_within_a_partition() {
    let cache = LocalMaterialsCache::new(10);
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let calls: Vec<Arc<Calls>> = (0..4).map(|_| Arc::new(Calls::default())).collect();
    let client = |calls: &Arc<Calls>, partition: Option<&str>| {
        let mut builder = builder(calls, &cache, MINUTE);
        if let Some(name) = partition {
            builder = builder.partition_name(name);
        }
        client_over(builder.build().unwrap(), CommitmentPolicy::default())
    };
    let unnamed = [client(&calls[0], None), client(&calls[1], None)];
    let a = unnamed[0].encrypt(b"x", &options(suite)).unwrap();
    let b = unnamed[1].encrypt(b"x", &options(suite)).unwrap();
    assert_ne!(edks(&a), edks(&b), "each manager has its own random partition");

    let named = [client(&calls[2], Some("billing")), client(&calls[3], Some("billing"))];
    let c = named[0].encrypt(b"x", &options(suite)).unwrap();
    let d = named[1].encrypt(b"x", &options(suite)).unwrap();
    assert_eq!(edks(&c), edks(&d));
    named[1].decrypt(&c, &DecryptOptions::new()).unwrap();
    named[0].decrypt(&d, &DecryptOptions::new()).unwrap();
    assert_eq!((calls[2].counts(), calls[3].counts()), ((1, 0), (0, 1)), "one wrap and one unwrap for both");
}

#[test]
fn a_wrong_reader_context_still_fails_after_a_cached_read() {
    let calls = Arc::new(Calls::default());
    let client = client_over(
        builder(&calls, &LocalMaterialsCache::new(10), MINUTE).build().unwrap(),
        CommitmentPolicy::default(),
    );
    let message = client.encrypt(b"secret", &options(AlgorithmSuite::DEFAULT)).unwrap();
    client.decrypt(&message, &DecryptOptions::new().encryption_context(common::context())).unwrap();
    let wrong = EncryptionContext::from([("purpose", "other")]);
    assert!(client.decrypt(&message, &DecryptOptions::new().encryption_context(wrong)).is_err());
    let missing = EncryptionContext::from([("region", "eu")]);
    assert!(
        client.decrypt(&message, &DecryptOptions::new().encryption_context(missing)).is_err(),
        "an extra pair fails the header tag"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_encryptions_never_pass_the_message_limit() {
    let calls = Arc::new(Calls::default());
    let cmm = builder(&calls, &LocalMaterialsCache::new(10), MINUTE).max_messages_encrypted(10).build().unwrap();
    let client = Arc::new(Client::new(cmm));
    let options = options(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, options) = (client.clone(), options.clone());
            tokio::spawn(async move {
                let mut messages = Vec::new();
                for _ in 0..100 {
                    messages.push(client.encrypt(b"concurrent", &options).await.unwrap());
                }
                messages
            })
        })
        .collect();
    let mut uses: HashMap<Vec<EncryptedDataKey>, usize> = HashMap::new();
    for task in tasks {
        for message in task.await.unwrap() {
            let info = client.decrypt(&message, &DecryptOptions::new()).await.unwrap().info;
            *uses.entry(info.encrypted_data_keys).or_default() += 1;
        }
    }
    assert_eq!(uses.values().sum::<usize>(), 800);
    assert!(uses.values().all(|&count| count <= 10), "{uses:?}");
    assert!(calls.counts().0 >= 80, "800 messages at 10 per data key need 80 data keys");
}
