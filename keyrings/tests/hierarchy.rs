//! The hierarchical keyring through the public API: round trips for every suite, rotation,
//! multi-tenant suppliers, refusals, and the cache (TTL, sharing, storm tracking) observed by
//! counting the calls that reach the key store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use envelope::error::{EdkFailureReason, Error, KeyringError};
use envelope::{AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::hierarchy::key_store::parse_version;
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyCache, BranchKeyIdSupplier, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring,
    KeyStore, KeyStoreError, StaticKeyStore,
};

const V1: &str = "11111111-1111-4111-8111-111111111111";
const V2: &str = "22222222-2222-4222-8222-222222222222";

fn materials(id: &str, version: &str, byte: u8) -> BranchKeyMaterials {
    BranchKeyMaterials::new(id, version, BTreeMap::new(), BranchKeySecret::from_slice(&[byte; 32]).unwrap()).unwrap()
}

fn store_with(entries: &[(&str, &str, u8, bool)]) -> StaticKeyStore {
    let mut store = StaticKeyStore::new("test-store");
    for (id, version, byte, active) in entries {
        store.add_branch_key(materials(id, version, *byte), *active).unwrap();
    }
    store
}

fn keyring(store: impl KeyStore + 'static, id: &str) -> HierarchicalKeyring {
    HierarchicalKeyring::builder(store).branch_key_id(id).ttl(Duration::from_secs(60)).build().unwrap()
}

/// A store that counts the calls reaching it, and can be slow, to observe the cache.
#[derive(Debug)]
struct CountingStore {
    inner: StaticKeyStore,
    calls: Arc<AtomicUsize>,
    delay: Duration,
}

#[async_trait]
impl KeyStore for CountingStore {
    fn logical_key_store_name(&self) -> &str {
        self.inner.logical_key_store_name()
    }

    async fn get_active_branch_key(&self, id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.inner.get_active_branch_key(id).await
    }

    async fn get_branch_key_version(&self, id: &str, version: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.inner.get_branch_key_version(id, version).await
    }

    async fn get_beacon_key(&self, id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        self.inner.get_beacon_key(id).await
    }
}

fn counting(entries: &[(&str, &str, u8, bool)], delay: Duration) -> (CountingStore, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (CountingStore { inner: store_with(entries), calls: Arc::clone(&calls), delay }, calls)
}

fn context(tenant: &str) -> EncryptionContext {
    EncryptionContext::from([("tenant".to_owned(), tenant.to_owned())])
}

#[tokio::test]
async fn every_suite_round_trips_and_the_edk_has_the_mpl_layout() {
    for suite in AlgorithmSuite::ESDK {
        let policy = if suite.is_committing() {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        let client = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, true)]), "bk")).commitment_policy(policy);
        let options = EncryptOptions::new().algorithm_suite(suite).encryption_context(context("a"));
        let message = client.encrypt(b"hello", &options).await.unwrap();
        let info = client.decrypt(&message, &DecryptOptions::new()).await.unwrap();
        assert_eq!(info.plaintext, b"hello", "{suite}");
        let edk = &info.info.encrypted_data_keys[0];
        assert_eq!(edk.provider_id, "aws-kms-hierarchy");
        assert_eq!(edk.provider_info, b"bk");
        assert_eq!(edk.ciphertext.len(), 44 + suite.data_key_len() + 16, "{suite}");
        assert_eq!(&edk.ciphertext[28..44], &parse_version(V1).unwrap(), "the version's UUID bytes");
    }
}

#[tokio::test]
async fn rotated_branch_keys_keep_decrypting_with_the_version_the_edk_names() {
    let old = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, true)]), "bk"));
    let before = old.encrypt(b"before", &EncryptOptions::new()).await.unwrap();

    // The store after VersionKey: V2 active, V1 still readable.
    let rotated = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, false), ("bk", V2, 2, true)]), "bk"));
    let after = rotated.encrypt(b"after", &EncryptOptions::new()).await.unwrap();
    assert_eq!(rotated.decrypt(&before, &DecryptOptions::new()).await.unwrap().plaintext, b"before");
    let info = rotated.decrypt(&after, &DecryptOptions::new()).await.unwrap();
    assert_eq!(info.plaintext, b"after");
    assert_eq!(&info.info.encrypted_data_keys[0].ciphertext[28..44], &parse_version(V2).unwrap());

    // The old store does not know V2: a typed failure naming the version, not a panic.
    let error = old.decrypt(&after, &DecryptOptions::new()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains(V2) && text.contains("GetBranchKeyVersion"), "{text}");
}

#[derive(Debug)]
struct TenantSupplier;

impl BranchKeyIdSupplier for TenantSupplier {
    fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
        match context.get("tenant").map(String::as_str) {
            Some("a") => Ok("tenant-a-key".to_owned()),
            Some("b") => Ok("tenant-b-key".to_owned()),
            _ => Err(KeyringError::Configuration("no tenant in the encryption context".into()).into()),
        }
    }
}

#[tokio::test]
async fn a_supplier_picks_each_tenants_branch_key_from_the_context() {
    let store = store_with(&[("tenant-a-key", V1, 1, true), ("tenant-b-key", V2, 2, true)]);
    let keyring = HierarchicalKeyring::builder(store)
        .branch_key_id_supplier(Arc::new(TenantSupplier))
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let client = Client::with_keyring(keyring);
    for (tenant, id) in [("a", "tenant-a-key"), ("b", "tenant-b-key")] {
        let message = client.encrypt(b"x", &EncryptOptions::new().encryption_context(context(tenant))).await.unwrap();
        let info = client.decrypt(&message, &DecryptOptions::new()).await.unwrap();
        assert_eq!(info.info.encrypted_data_keys[0].provider_info, id.as_bytes());
    }
    assert!(client.encrypt(b"x", &EncryptOptions::new()).await.is_err(), "no tenant: the supplier's error");
}

#[tokio::test]
async fn another_branch_key_id_or_branch_key_does_not_decrypt() {
    let writer = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, true)]), "bk"));
    let message = writer.encrypt(b"x", &EncryptOptions::new()).await.unwrap();

    let other_id = Client::with_keyring(keyring(store_with(&[("bk2", V1, 1, true)]), "bk2"));
    match other_id.decrypt(&message, &DecryptOptions::new()).await.unwrap_err() {
        Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => {
            assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(why) if why.contains("bk2")))
        }
        other => panic!("{other}"),
    }
    // Same id and version, another key (a store that is not the writer's): the tag fails.
    let other_key = Client::with_keyring(keyring(store_with(&[("bk", V1, 9, true)]), "bk"));
    match other_key.decrypt(&message, &DecryptOptions::new()).await.unwrap_err() {
        Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => {
            assert!(matches!(&failures[0].reason, EdkFailureReason::Failed(why) if why.contains("tag")))
        }
        other => panic!("{other}"),
    }
}

#[test]
fn configuration_errors_are_refused_at_build() {
    let build = |ttl: Option<Duration>, id: Option<&str>| {
        let mut builder = HierarchicalKeyring::builder(store_with(&[]));
        if let Some(ttl) = ttl {
            builder = builder.ttl(ttl);
        }
        if let Some(id) = id {
            builder = builder.branch_key_id(id);
        }
        builder.build()
    };
    assert!(build(None, Some("bk")).is_err(), "TTL required");
    assert!(build(Some(Duration::ZERO), Some("bk")).is_err(), "TTL > 0");
    assert!(build(Some(Duration::from_secs(1)), None).is_err(), "id or supplier required");
    assert!(build(Some(Duration::from_secs(1)), Some("")).is_err(), "empty id");
    assert!(build(Some(Duration::from_secs(1)), Some("bk")).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decrypts_of_a_cold_key_make_one_store_call() {
    let writer = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, true)]), "bk"));
    let message = Arc::new(writer.encrypt(b"storm", &EncryptOptions::new()).await.unwrap());

    let (store, calls) = counting(&[("bk", V1, 1, true)], Duration::from_millis(200));
    let reader = Arc::new(Client::with_keyring(keyring(store, "bk")));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (reader, message) = (Arc::clone(&reader), Arc::clone(&message));
            tokio::spawn(async move { reader.decrypt(&message, &DecryptOptions::new()).await.map(|d| d.plaintext) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), b"storm");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_ttl_bounds_how_long_a_branch_key_is_reused() {
    let (store, calls) = counting(&[("bk", V1, 1, true)], Duration::ZERO);
    let keyring =
        HierarchicalKeyring::builder(store).branch_key_id("bk").ttl(Duration::from_millis(300)).build().unwrap();
    let client = Client::with_keyring(keyring);
    for _ in 0..20 {
        client.encrypt(b"x", &EncryptOptions::new()).await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one GetActiveBranchKey for 20 messages");
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.encrypt(b"x", &EncryptOptions::new()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "expired: fetched again");
}

#[tokio::test]
async fn a_shared_cache_is_shared_only_within_a_partition() {
    let writer = Client::with_keyring(keyring(store_with(&[("bk", V1, 1, true)]), "bk"));
    let message = writer.encrypt(b"x", &EncryptOptions::new()).await.unwrap();

    let cache = BranchKeyCache::new(100);
    let (store, calls) = counting(&[("bk", V1, 1, true)], Duration::ZERO);
    let store: Arc<dyn KeyStore> = Arc::new(store);
    let make = |partition: Option<&str>| {
        let mut builder = HierarchicalKeyring::builder_shared(Arc::clone(&store))
            .branch_key_id("bk")
            .ttl(Duration::from_secs(60))
            .cache(cache.clone());
        if let Some(partition) = partition {
            builder = builder.partition_id(partition);
        }
        Client::with_keyring(builder.build().unwrap())
    };
    let (first, second) = (make(Some("app")), make(Some("app")));
    first.decrypt(&message, &DecryptOptions::new()).await.unwrap();
    second.decrypt(&message, &DecryptOptions::new()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "same partition: one entry");
    make(Some("other")).decrypt(&message, &DecryptOptions::new()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "another partition: its own entry");
    make(None).decrypt(&message, &DecryptOptions::new()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3, "the default random partition shares nothing");
    assert_eq!(cache.len(), 3);
}
