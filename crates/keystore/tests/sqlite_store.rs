//! The SQLite key store against the KMS emulator (over HTTP): the MPL's records and KMS calls,
//! rotation, the checks that refuse a tampered or foreign item, and the errors.

mod common;

use std::collections::HashMap;

use common::{Kms, temp_dir};
use envelope_keystore::hierarchy::{KeyStore, KeyStoreErrorKind, KeyStoreOperation};
use envelope_keystore::item::{ACTIVE_TYPE, AttributeValue, BEACON_TYPE};
use envelope_keystore::{CreateKeyRequest, KeyStorage, KmsConfiguration, SqliteStorage};

#[tokio::test]
async fn create_read_and_rotate() {
    let kms = Kms::start("rotate").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("rotate").join("keys.sqlite3");
    let store = kms.store(SqliteStorage::new(&path), "my-store", KmsConfiguration::key_arn(&arn).unwrap());
    assert_eq!(store.create_key_store().await.unwrap(), path.display().to_string());
    // A second CreateKeyStore finds the store and leaves it as it is.
    store.create_key_store().await.unwrap();

    let id = store.create_key(CreateKeyRequest::new().context("department", "admin")).await.unwrap();
    assert_eq!(id.len(), 36, "a generated id is a UUID: {id}");
    let first = store.get_active_branch_key(&id).await.unwrap();
    assert_eq!(first.branch_key_id(), id);
    assert_eq!(first.encryption_context().get("department").map(String::as_str), Some("admin"));
    let same = store.get_branch_key_version(&id, first.version()).await.unwrap();
    assert_eq!(same.key().expose_secret(), first.key().expose_secret());
    let beacon = store.get_beacon_key(&id).await.unwrap();
    assert_ne!(beacon.key().expose_secret(), first.key().expose_secret());

    let second_version = store.version_key(&id).await.unwrap();
    let second = store.get_active_branch_key(&id).await.unwrap();
    assert_eq!(second.version(), second_version);
    assert_ne!(second.version(), first.version());
    assert_ne!(second.key().expose_secret(), first.key().expose_secret());
    assert_eq!(second.encryption_context(), first.encryption_context(), "rotation keeps the custom context");
    // The old version still decrypts (messages name their version); the beacon key never rotates.
    let old = store.get_branch_key_version(&id, first.version()).await.unwrap();
    assert_eq!(old.key().expose_secret(), first.key().expose_secret());
    assert_eq!(store.get_beacon_key(&id).await.unwrap().key().expose_secret(), beacon.key().expose_secret());

    let described = store.describe_key(&id).await.unwrap();
    let mut types: Vec<&str> = described.iter().map(|d| d.item_type.as_str()).collect();
    types.sort();
    let mut expected =
        vec![ACTIVE_TYPE.to_owned(), BEACON_TYPE.to_owned(), format!("branch:version:{}", first.version())];
    expected.push(format!("branch:version:{second_version}"));
    expected.sort();
    assert_eq!(types, expected);
    assert!(described.iter().all(|d| d.kms_arn == arn));

    // Debug never shows key bytes.
    let debug = format!("{second:?} {beacon:?} {store:?}");
    assert!(debug.contains("REDACTED"), "{debug}");
    let hex: String = second.key().expose_secret().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!debug.contains(&hex) && !debug.contains(&format!("{:?}", second.key().expose_secret())));
}

/// The records and the KMS encryption context are the MPL's, attribute for attribute: KMS
/// decrypts each `enc` with a context built here by hand from the spec.
#[tokio::test]
async fn records_and_kms_context_are_the_mpls() {
    let kms = Kms::start("records").await;
    let arn = kms.create_key("us-east-1").await;
    let storage = SqliteStorage::new(temp_dir("records").join("keys.sqlite3"));
    let store = kms.store(storage.clone(), "logical", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let id = store.create_key(CreateKeyRequest::new().branch_key_id("tenant-1").context("k", "v")).await.unwrap();
    assert_eq!(id, "tenant-1");
    let version = store.get_active_branch_key(&id).await.unwrap().version().to_owned();

    let active = storage.get_item(&id, ACTIVE_TYPE).await.unwrap().unwrap();
    let decrypt_only = storage.get_item(&id, &format!("branch:version:{version}")).await.unwrap().unwrap();
    let beacon = storage.get_item(&id, BEACON_TYPE).await.unwrap().unwrap();
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let create_time = match &active["create-time"] {
        AttributeValue::S(t) => t.clone(),
        other => panic!("create-time is {other:?}"),
    };
    // ISO 8601 UTC to the microsecond: 2026-12-07T01:02:03.123456Z.
    assert_eq!(create_time.len(), 27, "{create_time}");
    assert!(create_time.ends_with('Z') && create_time.as_bytes()[10] == b'T' && create_time.as_bytes()[19] == b'.');
    for (item, item_type) in [
        (&active, ACTIVE_TYPE.to_owned()),
        (&decrypt_only, format!("branch:version:{version}")),
        (&beacon, BEACON_TYPE.to_owned()),
    ] {
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort();
        let mut expected =
            vec!["aws-crypto-ec:k", "branch-key-id", "create-time", "enc", "hierarchy-version", "kms-arn", "type"];
        if item_type == ACTIVE_TYPE {
            expected.push("version");
            expected.sort();
        }
        assert_eq!(names, expected, "{item_type}");
        assert_eq!(item["branch-key-id"], s(&id));
        assert_eq!(item["type"], s(&item_type));
        assert_eq!(item["kms-arn"], s(&arn));
        assert_eq!(item["hierarchy-version"], AttributeValue::N("1".into()));
        assert_eq!(item["create-time"], s(&create_time), "one timestamp for the three records");
        assert_eq!(item["aws-crypto-ec:k"], s("v"));

        let mut context: HashMap<String, String> = HashMap::from([
            ("branch-key-id".into(), id.clone()),
            ("type".into(), item_type.clone()),
            ("create-time".into(), create_time.clone()),
            ("tablename".into(), "logical".into()),
            ("kms-arn".into(), arn.clone()),
            ("hierarchy-version".into(), "1".into()),
            ("aws-crypto-ec:k".into(), "v".into()),
        ]);
        if item_type == ACTIVE_TYPE {
            context.insert("version".into(), format!("branch:version:{version}"));
        }
        let AttributeValue::B(enc) = &item["enc"] else { panic!("enc is not B") };
        let decrypted = kms
            .client("us-east-1")
            .decrypt()
            .key_id(&arn)
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(enc.clone()))
            .set_encryption_context(Some(context))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{item_type}: KMS refused the MPL's context: {e:?}"));
        assert_eq!(decrypted.plaintext.unwrap().as_ref().len(), 32);
    }
    // ACTIVE and DECRYPT_ONLY wrap the same key (ReEncrypt), the beacon another.
    assert_eq!(active["version"], s(&format!("branch:version:{version}")));
}

#[tokio::test]
async fn tampered_or_foreign_items_are_refused() {
    let kms = Kms::start("tamper").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("tamper").join("keys.sqlite3");
    let store = kms.store(SqliteStorage::new(&path), "store-a", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let id2 = store.create_key(CreateKeyRequest::new()).await.unwrap();

    // The same file under another logical name: every item's KMS context names "store-a".
    let foreign = kms.store(SqliteStorage::new(&path), "store-b", KmsConfiguration::key_arn(&arn).unwrap());
    let error = foreign.get_active_branch_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");
    assert_eq!(error.branch_key_id(), Some(id.as_str()));
    assert_eq!(error.operation(), KeyStoreOperation::GetActiveBranchKey);
    // VersionKey authenticates the ACTIVE item before copying its attributes.
    let error = foreign.version_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");

    // A changed attribute: the custom context of one key's ACTIVE item edited in the file.
    let connection = rusqlite::Connection::open(&path).unwrap();
    let item: String = connection
        .query_row(
            "SELECT item FROM branch_key_items WHERE branch_key_id = ?1 AND type = ?2",
            [&id, ACTIVE_TYPE],
            |r| r.get(0),
        )
        .unwrap();
    let edited = item.replace("\"create-time\":{\"S\":\"2", "\"create-time\":{\"S\":\"1");
    assert_ne!(edited, item);
    connection
        .execute(
            "UPDATE branch_key_items SET item = ?1 WHERE branch_key_id = ?2 AND type = ?3",
            [&edited, &id, ACTIVE_TYPE],
        )
        .unwrap();
    let error = store.get_active_branch_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");
    assert!(error.to_string().contains(&id), "{error}");
    // Another key's `enc` pasted into this item: KMS refuses it too.
    let other: String = connection
        .query_row(
            "SELECT item FROM branch_key_items WHERE branch_key_id = ?1 AND type = ?2",
            [&id2, BEACON_TYPE],
            |r| r.get(0),
        )
        .unwrap();
    let other_enc = other.split("\"enc\":{\"B\":\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let beacon: String = connection
        .query_row(
            "SELECT item FROM branch_key_items WHERE branch_key_id = ?1 AND type = ?2",
            [&id, BEACON_TYPE],
            |r| r.get(0),
        )
        .unwrap();
    let own_enc = beacon.split("\"enc\":{\"B\":\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    connection
        .execute(
            "UPDATE branch_key_items SET item = ?1 WHERE branch_key_id = ?2 AND type = ?3",
            [&beacon.replace(&own_enc, &other_enc), &id, BEACON_TYPE],
        )
        .unwrap();
    let error = store.get_beacon_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");
    // The untouched key still works.
    store.get_active_branch_key(&id2).await.unwrap();
}

#[tokio::test]
async fn errors_name_the_key_and_the_next_step() {
    let kms = Kms::start("errors").await;
    let arn = kms.create_key("us-east-1").await;
    let other_arn = kms.create_key("us-east-1").await;
    let dir = temp_dir("errors");
    let config = KmsConfiguration::key_arn(&arn).unwrap();

    // No such file: nothing is created by a read.
    let missing = kms.store(SqliteStorage::new(dir.join("missing.sqlite3")), "s", config.clone());
    let error = missing.get_active_branch_key("abc").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::NoSuchStore { .. }), "{error}");
    assert!(!dir.join("missing.sqlite3").exists());
    // A file that is not a key store is refused, not written to.
    std::fs::write(dir.join("other.sqlite3"), b"").unwrap();
    rusqlite::Connection::open(dir.join("other.sqlite3")).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    let other_file = kms.store(SqliteStorage::new(dir.join("other.sqlite3")), "s", config.clone());
    assert!(other_file.create_key_store().await.is_err());

    let store = kms.store(SqliteStorage::new(dir.join("keys.sqlite3")), "s", config.clone());
    store.create_key_store().await.unwrap();
    let error = store.get_active_branch_key("nope").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::NoSuchKey), "{error}");
    assert!(error.to_string().contains("nope"), "{error}");
    let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let error = store.get_branch_key_version(&id, "00000000-0000-4000-8000-000000000000").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::NoSuchKey), "{error}");
    assert_eq!(error.version(), Some("00000000-0000-4000-8000-000000000000"));
    assert!(store.version_key("nope").await.is_err());

    // The MPL's rules for CreateKey: a caller's id needs a custom context; ids are never reused.
    let error = store.create_key(CreateKeyRequest::new().branch_key_id("mine")).await.unwrap_err();
    assert!(error.to_string().contains("encryption context"), "{error}");
    store.create_key(CreateKeyRequest::new().branch_key_id("mine").context("a", "b")).await.unwrap();
    let error = store.create_key(CreateKeyRequest::new().branch_key_id("mine").context("a", "c")).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::Conflict { .. }), "{error}");
    assert_eq!(store.get_active_branch_key("mine").await.unwrap().encryption_context()["a"], "b");

    // An item of another KMS key is refused before any KMS call.
    let wrong =
        kms.store(SqliteStorage::new(dir.join("keys.sqlite3")), "s", KmsConfiguration::key_arn(&other_arn).unwrap());
    let error = wrong.get_active_branch_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::KmsKeyMismatch { .. }), "{error}");
    assert!(matches!(wrong.version_key(&id).await.unwrap_err().kind(), KeyStoreErrorKind::KmsKeyMismatch { .. }));

    // Discovery reads any key, and cannot create or rotate.
    let discovery = kms.store(SqliteStorage::new(dir.join("keys.sqlite3")), "s", KmsConfiguration::Discovery);
    discovery.get_active_branch_key(&id).await.unwrap();
    assert!(discovery.create_key(CreateKeyRequest::new()).await.is_err());
    assert!(discovery.version_key(&id).await.is_err());

    // KMS says no: the key is disabled.
    kms.client("us-east-1").disable_key().key_id(&arn).send().await.unwrap();
    let error = store.get_active_branch_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::KmsDenied { .. }), "{error}");
    assert!(error.to_string().contains(&arn), "{error}");
    let error = store.create_key(CreateKeyRequest::new()).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::KmsDenied { .. }), "{error}");
}

/// A multi-Region key: created in one Region, read through its replica in another.
#[tokio::test]
async fn multi_region_keys_and_discovery() {
    let kms = Kms::start("mrk").await;
    let (east, west) = kms.create_mrk("us-east-1", "us-west-2").await;
    let path = temp_dir("mrk").join("keys.sqlite3");
    let writer = kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::key_arn(&east).unwrap());
    writer.create_key_store().await.unwrap();
    let id = writer.create_key(CreateKeyRequest::new()).await.unwrap();
    let original = writer.get_active_branch_key(&id).await.unwrap();

    let replica = kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::mrk_key_arn(&west).unwrap());
    let read = replica.get_active_branch_key(&id).await.unwrap();
    assert_eq!(read.key().expose_secret(), original.key().expose_secret());
    // Rotating through the replica keeps the stored (east) ARN.
    replica.version_key(&id).await.unwrap();
    assert!(replica.describe_key(&id).await.unwrap().iter().all(|d| d.kms_arn == east));
    writer.get_active_branch_key(&id).await.unwrap();

    let strict_west = kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::key_arn(&west).unwrap());
    assert!(matches!(
        strict_west.get_active_branch_key(&id).await.unwrap_err().kind(),
        KeyStoreErrorKind::KmsKeyMismatch { .. }
    ));
    let mrk_discovery =
        kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::mrk_discovery("us-west-2").unwrap());
    mrk_discovery.get_beacon_key(&id).await.unwrap();
}

/// An item of the MPL's newer hierarchy version is refused with its own error, naming the branch
/// key, before KMS is called: this store reads version 1 only.
#[tokio::test]
async fn hierarchy_version_2_items_are_refused_by_name() {
    let kms = Kms::start("hv2").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("hv2").join("keys.sqlite3");
    let store = kms.store(SqliteStorage::new(&path), "my-store", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let version = store.get_active_branch_key(&id).await.unwrap().version().to_owned();

    let connection = rusqlite::Connection::open(&path).unwrap();
    let changed = connection
        .execute(
            "UPDATE branch_key_items SET item = replace(item, '\"hierarchy-version\":{\"N\":\"1\"}', '\"hierarchy-version\":{\"N\":\"2\"}') WHERE branch_key_id = ?1",
            [&id],
        )
        .unwrap();
    assert_eq!(changed, 3, "branch:ACTIVE, branch:version:<uuid> and beacon:ACTIVE");

    let check = |error: envelope_keystore::hierarchy::KeyStoreError, operation| {
        assert_eq!(
            error.kind(),
            &KeyStoreErrorKind::UnsupportedHierarchyVersion { version: "2".into() },
            "{operation:?}: {error}"
        );
        assert_eq!(error.operation(), operation);
        assert_eq!(error.branch_key_id(), Some(id.as_str()));
        let text = error.to_string();
        assert!(text.contains(&id) && text.contains("only version 1 is supported"), "{text}");
    };
    check(store.get_active_branch_key(&id).await.unwrap_err(), KeyStoreOperation::GetActiveBranchKey);
    check(store.get_branch_key_version(&id, &version).await.unwrap_err(), KeyStoreOperation::GetBranchKeyVersion);
    check(store.get_beacon_key(&id).await.unwrap_err(), KeyStoreOperation::GetBeaconKey);
    check(store.version_key(&id).await.unwrap_err(), KeyStoreOperation::VersionKey);
    check(store.describe_key(&id).await.unwrap_err(), KeyStoreOperation::DescribeKey);
}
