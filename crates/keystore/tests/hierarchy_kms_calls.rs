//! The hierarchical keyring's promise, counted on the KMS emulator's audit log: 10,000 messages
//! through a keyring with a 60 s TTL make exactly one KMS call per branch key version — on
//! encrypt one Decrypt of the ACTIVE branch key, on decrypt one Decrypt per version the messages
//! name — even with eight tasks encrypting at once (storm tracking shares the one in-flight call).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{temp_dir, Kms};
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
