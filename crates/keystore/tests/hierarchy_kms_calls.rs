//! The hierarchical keyring's promise, counted on the KMS emulator's audit log: 10,000 messages
//! through a keyring with a 60 s TTL make exactly one KMS call per branch key version — on
//! encrypt one Decrypt of the ACTIVE branch key, on decrypt one Decrypt per version the messages
//! name — even with eight tasks encrypting at once (storm tracking shares the one in-flight call).
//! Also counted: 64 concurrent decrypts of a cold branch key (one call), a TTL expiry (one more
//! call), and tenants chosen by a supplier through two keyrings sharing a cache (one call per
//! tenant's branch key each way).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{Kms, temp_dir};
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keystore::hierarchy::{HierarchicalKeyring, KeyStore};
use envelope_keystore::{CreateKeyRequest, KmsConfiguration, SqliteStorage};

/// Messages per branch key version.
const MESSAGES: usize = 10_000;
/// Tasks encrypting at once (each starts on a cold cache).
const TASKS: usize = 8;
const TTL: Duration = Duration::from_secs(60);

fn keyring(store: Arc<dyn KeyStore>, branch_key_id: &str) -> Arc<Client> {
    let keyring = HierarchicalKeyring::builder_shared(store).branch_key_id(branch_key_id).ttl(TTL).build().unwrap();
    Arc::new(Client::with_keyring(keyring))
}

/// `MESSAGES` messages of 1 KiB (suite 0x0478), encrypted by `TASKS` concurrent tasks.
async fn encrypt_many(client: Arc<Client>, tag: &str) -> Vec<(usize, Vec<u8>)> {
    let suite = AlgorithmSuite::from_id(0x0478).unwrap();
    let options = EncryptOptions::new()
        .algorithm_suite(suite)
        .encryption_context(EncryptionContext::from([("purpose", "kms-call-count")]));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (client, options, tag) = (Arc::clone(&client), options.clone(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut messages = Vec::new();
            for i in (task..MESSAGES).step_by(TASKS) {
                let message = client.encrypt(&plaintext(&tag, i), &options).await.unwrap();
                messages.push((i, message));
            }
            messages
        }));
    }
    let mut all = Vec::with_capacity(MESSAGES);
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), MESSAGES);
    all
}

fn plaintext(tag: &str, i: usize) -> Vec<u8> {
    let mut bytes = format!("{tag} message {i} ").into_bytes();
    bytes.resize(1024, b'.');
    bytes
}

/// The successful KMS Decrypt calls in the audit log, by the item they decrypted:
/// (`type`, `version` attribute of ACTIVE items or "") → count.
fn decrypt_calls(data_dir: &std::path::Path) -> BTreeMap<(String, String), usize> {
    let events = envelope_kms_local::read_audit(data_dir, None, None, 1_000_000).unwrap();
    let mut calls = BTreeMap::new();
    for event in events {
        if event["eventName"] != "Decrypt" || event.get("errorCode").is_some_and(|code| !code.is_null()) {
            continue;
        }
        let context = &event["requestParameters"]["encryptionContext"];
        let item_type = context["type"].as_str().unwrap_or("(no type)").to_owned();
        let version = context["version"].as_str().unwrap_or_default().to_owned();
        *calls.entry((item_type, version)).or_insert(0) += 1;
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_make_one_kms_call_per_branch_key_version() {
    let kms = Kms::start("hierarchy-calls").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("hierarchy-calls").join("keys.sqlite3");
    let store = Arc::new(kms.store(SqliteStorage::new(path), "calls", KmsConfiguration::key_arn(&arn).unwrap()));
    store.create_key_store().await.unwrap();
    let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
    // DescribeKey reads the records without KMS, so it adds no call to the count.
    let active_version = |items: Vec<envelope_keystore::ItemDescription>| {
        items.into_iter().find(|item| item.item_type == "branch:ACTIVE").and_then(|item| item.version).unwrap()
    };
    let first = active_version(store.describe_key(&id).await.unwrap());

    // Encrypt under the first version with a fresh keyring (a cold cache).
    let before = encrypt_many(keyring(Arc::clone(&store) as Arc<dyn KeyStore>, &id), "v1").await;

    // Rotate; a new keyring encrypts under the second version.
    let second = store.version_key(&id).await.unwrap();
    assert_eq!(active_version(store.describe_key(&id).await.unwrap()), second);
    let after = encrypt_many(keyring(Arc::clone(&store) as Arc<dyn KeyStore>, &id), "v2").await;

    // One more keyring decrypts all 20,000 messages, the two versions interleaved.
    let reader = keyring(Arc::clone(&store) as Arc<dyn KeyStore>, &id);
    for ((i, old), (j, new)) in before.iter().zip(after.iter()) {
        let decrypted = reader.decrypt(old, &DecryptOptions::new()).await.unwrap();
        assert_eq!(decrypted.plaintext, plaintext("v1", *i));
        let decrypted = reader.decrypt(new, &DecryptOptions::new()).await.unwrap();
        assert_eq!(decrypted.plaintext, plaintext("v2", *j));
    }
    drop((reader, store));

    let data_dir = kms.data_dir.clone();
    kms.stop().await;
    let active = |version: &str| ("branch:ACTIVE".to_owned(), format!("branch:version:{version}"));
    let version = |version: &str| (format!("branch:version:{version}"), String::new());
    let expected = BTreeMap::from([
        // Encrypt: one Decrypt of the ACTIVE item per version encrypted under (one keyring each).
        (active(&first), 1),
        (active(&second), 1),
        // Decrypt: one Decrypt per version the 20,000 messages name.
        (version(&first), 1),
        (version(&second), 1),
    ]);
    assert_eq!(decrypt_calls(&data_dir), expected, "KMS Decrypt calls by item (type, ACTIVE's version)");
}

/// A store with one new branch key per name in `ids` (created under its own context so the audit
/// log tells them apart); the store and the branch key ids.
async fn store_with_keys(kms: &Kms, tag: &str, count: usize) -> (Arc<envelope_keystore::BranchKeyStore>, Vec<String>) {
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir(tag).join("keys.sqlite3");
    let store = Arc::new(kms.store(SqliteStorage::new(path), tag, KmsConfiguration::key_arn(&arn).unwrap()));
    store.create_key_store().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(store.create_key(CreateKeyRequest::new()).await.unwrap());
    }
    (store, ids)
}

/// Successful KMS Decrypt calls of `item_type` items (`branch:ACTIVE` for encryption,
/// `branch:version:*` for decryption), by branch key id.
fn decrypts_by_branch_key(data_dir: &std::path::Path, active: bool) -> BTreeMap<String, usize> {
    let events = envelope_kms_local::read_audit(data_dir, None, None, 1_000_000).unwrap();
    let mut calls = BTreeMap::new();
    for event in events {
        if event["eventName"] != "Decrypt" || event.get("errorCode").is_some_and(|code| !code.is_null()) {
            continue;
        }
        let context = &event["requestParameters"]["encryptionContext"];
        let item_type = context["type"].as_str().unwrap_or_default();
        if (item_type == "branch:ACTIVE") != active {
            continue;
        }
        let id = context["branch-key-id"].as_str().unwrap_or("(no id)").to_owned();
        *calls.entry(id).or_insert(0) += 1;
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decrypts_of_a_cold_branch_key_make_one_kms_call() {
    let kms = Kms::start("hierarchy-storm").await;
    let (store, ids) = store_with_keys(&kms, "storm", 1).await;
    let writer = keyring(Arc::clone(&store) as Arc<dyn KeyStore>, &ids[0]);
    let message = Arc::new(writer.encrypt(b"storm", &EncryptOptions::new()).await.unwrap());
    // A fresh keyring: 64 decrypts of the same cold branch key version at once.
    let reader = keyring(Arc::clone(&store) as Arc<dyn KeyStore>, &ids[0]);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (reader, message) = (Arc::clone(&reader), Arc::clone(&message));
            tokio::spawn(async move { reader.decrypt(&message, &DecryptOptions::new()).await.unwrap().plaintext })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), b"storm");
    }
    drop((reader, writer, store));
    let data_dir = kms.data_dir.clone();
    kms.stop().await;
    assert_eq!(decrypts_by_branch_key(&data_dir, false), BTreeMap::from([(ids[0].clone(), 1)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_branch_key_is_fetched_again_once() {
    let kms = Kms::start("hierarchy-ttl").await;
    let (store, ids) = store_with_keys(&kms, "ttl", 1).await;
    let keyring = HierarchicalKeyring::builder_shared(Arc::clone(&store) as Arc<dyn KeyStore>)
        .branch_key_id(&ids[0])
        .ttl(Duration::from_millis(500))
        .build()
        .unwrap();
    let client = Client::with_keyring(keyring);
    for _ in 0..100 {
        client.encrypt(b"x", &EncryptOptions::new()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    for _ in 0..100 {
        client.encrypt(b"x", &EncryptOptions::new()).await.unwrap();
    }
    drop((client, store));
    let data_dir = kms.data_dir.clone();
    kms.stop().await;
    // One call per TTL period: 100 messages, the entry expires, 100 more.
    assert_eq!(decrypts_by_branch_key(&data_dir, true), BTreeMap::from([(ids[0].clone(), 2)]));
}

/// Picks the branch key named by the `tenant` pair of the encryption context.
#[derive(Debug)]
struct TenantSupplier(Vec<String>);

impl envelope_keystore::hierarchy::BranchKeyIdSupplier for TenantSupplier {
    fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
        let tenant: usize = context
            .get("tenant")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| envelope::Error::from(envelope::error::KeyringError::Configuration("no tenant".into())))?;
        Ok(self.0[tenant].clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_a_shared_cache_make_one_kms_call_per_branch_key() {
    let kms = Kms::start("hierarchy-tenants").await;
    let (store, ids) = store_with_keys(&kms, "tenants", 3).await;
    let cache = envelope_keystore::hierarchy::BranchKeyCache::new(100);
    // Two keyrings (two services of one application) on one cache and partition, each choosing
    // the tenant's branch key from the encryption context.
    let make = || {
        let keyring = HierarchicalKeyring::builder_shared(Arc::clone(&store) as Arc<dyn KeyStore>)
            .branch_key_id_supplier(Arc::new(TenantSupplier(ids.clone())))
            .ttl(TTL)
            .cache(cache.clone())
            .partition_id("orders")
            .build()
            .unwrap();
        Client::with_keyring(keyring)
    };
    let (first, second) = (make(), make());
    let mut messages = Vec::new();
    for round in 0..300 {
        let tenant = (round % 3).to_string();
        let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", tenant.as_str())]));
        let client = if round % 2 == 0 { &first } else { &second };
        messages.push(client.encrypt(format!("{round}").as_bytes(), &options).await.unwrap());
    }
    for (round, message) in messages.iter().enumerate() {
        let client = if round % 2 == 0 { &second } else { &first };
        assert_eq!(
            client.decrypt(message, &DecryptOptions::new()).await.unwrap().plaintext,
            format!("{round}").as_bytes()
        );
    }
    drop((first, second, store));
    let data_dir = kms.data_dir.clone();
    kms.stop().await;
    let one_each: BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(decrypts_by_branch_key(&data_dir, true), one_each, "encrypt: one ACTIVE Decrypt per tenant");
    assert_eq!(decrypts_by_branch_key(&data_dir, false), one_each, "decrypt: one version Decrypt per tenant");
}
