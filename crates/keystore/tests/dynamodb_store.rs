//! The DynamoDB key store against moto (a local DynamoDB, see common/moto.rs) and the KMS
//! emulator: the MPL's table schema and records, rotation with the conditional ACTIVE write,
//! items copied from a SQLite store, and the errors.
//!
//! Without moto these tests are skipped, unless ENVELOPE_REQUIRE_MOTO is set (CI): then they fail.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use aws_sdk_dynamodb::types::{AttributeValue as Ddb, KeyType, ScalarAttributeType};
use common::{Kms, moto, temp_dir};
use envelope_keystore::hierarchy::{KeyStore, KeyStoreErrorKind};
use envelope_keystore::item::{ACTIVE_TYPE, AttributeValue, BEACON_TYPE, ENC};
use envelope_keystore::{
    BranchKeyStore, CreateKeyRequest, DynamoDbStorage, KeyStorage, KmsConfiguration, SqliteStorage, StorageError,
};

const ENV_WORKER: &str = "KEYSTORE_TEST_DYNAMODB_FROM_ENV";

#[tokio::test]
async fn create_table_keys_and_rotate() {
    let Some(moto) = moto::start() else { return };
    let kms = Kms::start("ddb-rotate").await;
    let arn = kms.create_key("us-east-1").await;
    let ddb = moto.dynamodb();
    let store = kms.store(
        DynamoDbStorage::new(ddb.clone(), "KeyStoreTable"),
        "KeyStoreTable",
        KmsConfiguration::key_arn(&arn).unwrap(),
    );

    // CreateKeyStore: the official key schema; a second call accepts the existing table.
    let table_arn = store.create_key_store().await.unwrap();
    assert!(table_arn.contains("KeyStoreTable"), "{table_arn}");
    assert_eq!(store.create_key_store().await.unwrap(), table_arn);
    let table = ddb.describe_table().table_name("KeyStoreTable").send().await.unwrap().table.unwrap();
    let mut schema: Vec<(String, KeyType)> =
        table.key_schema().iter().map(|k| (k.attribute_name().to_owned(), k.key_type().clone())).collect();
    schema.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(schema, vec![("branch-key-id".to_owned(), KeyType::Hash), ("type".to_owned(), KeyType::Range)]);
    assert!(table.attribute_definitions().iter().all(|d| d.attribute_type() == &ScalarAttributeType::S));

    let id = store.create_key(CreateKeyRequest::new().context("tenant", "blue")).await.unwrap();
    let first = store.get_active_branch_key(&id).await.unwrap();
    assert_eq!(first.encryption_context()["tenant"], "blue");
    let beacon = store.get_beacon_key(&id).await.unwrap();
    let second_version = store.version_key(&id).await.unwrap();
    let second = store.get_active_branch_key(&id).await.unwrap();
    assert_eq!(second.version(), second_version);
    assert_ne!(second.key().expose_secret(), first.key().expose_secret());
    let old = store.get_branch_key_version(&id, first.version()).await.unwrap();
    assert_eq!(old.key().expose_secret(), first.key().expose_secret());
    assert_eq!(store.get_beacon_key(&id).await.unwrap().key().expose_secret(), beacon.key().expose_secret());
    assert_eq!(store.describe_key(&id).await.unwrap().len(), 4);

    // The records as DynamoDB holds them: S everywhere, N for hierarchy-version, B for enc.
    let item = ddb
        .get_item()
        .table_name("KeyStoreTable")
        .key("branch-key-id", Ddb::S(id.clone()))
        .key("type", Ddb::S(ACTIVE_TYPE.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let names: BTreeSet<&str> = item.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "aws-crypto-ec:tenant",
            "branch-key-id",
            "create-time",
            "enc",
            "hierarchy-version",
            "kms-arn",
            "type",
            "version"
        ])
    );
    assert_eq!(item["hierarchy-version"], Ddb::N("1".into()));
    assert_eq!(item["version"], Ddb::S(format!("branch:version:{second_version}")));
    assert_eq!(item["kms-arn"], Ddb::S(arn.clone()));
    assert!(matches!(item["enc"], Ddb::B(_)));
}

/// Items move between the two backends unchanged: a branch key created in SQLite, its records
/// written into DynamoDB, reads the same there (same logical name, same KMS contexts).
#[tokio::test]
async fn items_copy_between_sqlite_and_dynamodb() {
    let Some(moto) = moto::start() else { return };
    let kms = Kms::start("ddb-copy").await;
    let arn = kms.create_key("us-east-1").await;
    let config = KmsConfiguration::key_arn(&arn).unwrap();
    let sqlite = SqliteStorage::new(temp_dir("ddb-copy").join("keys.sqlite3"));
    let from = kms.store(sqlite.clone(), "shared-name", config.clone());
    from.create_key_store().await.unwrap();
    let id = from.create_key(CreateKeyRequest::new()).await.unwrap();
    let original = from.get_active_branch_key(&id).await.unwrap();

    let ddb = DynamoDbStorage::new(moto.dynamodb(), "Copied");
    let to = kms.store(ddb.clone(), "shared-name", config.clone());
    to.create_key_store().await.unwrap();
    let mut items = sqlite.list_items(&id).await.unwrap();
    items.sort_by_key(|i| format!("{:?}", i.get("type")));
    let [active, beacon, version] = <[_; 3]>::try_from(items).unwrap();
    ddb.write_new_key(version, active, beacon).await.unwrap();
    let copied = to.get_active_branch_key(&id).await.unwrap();
    assert_eq!(copied.key().expose_secret(), original.key().expose_secret());
    assert_eq!(copied.version(), original.version());
    // And back: rotated in DynamoDB, the new records read from SQLite after a copy.
    to.version_key(&id).await.unwrap();
    let rotated = to.get_active_branch_key(&id).await.unwrap();
    let again = sqlite.get_item(&id, ACTIVE_TYPE).await.unwrap().unwrap();
    let Some(AttributeValue::B(old_enc)) = again.get(ENC).cloned() else { panic!() };
    let new_active = ddb.get_item(&id, ACTIVE_TYPE).await.unwrap().unwrap();
    let new_version = ddb.get_item(&id, &format!("branch:version:{}", rotated.version())).await.unwrap().unwrap();
    sqlite.write_new_version(new_version, new_active, &old_enc).await.unwrap();
    assert_eq!(from.get_active_branch_key(&id).await.unwrap().key().expose_secret(), rotated.key().expose_secret());

    // Under another logical name the copy is refused by KMS.
    let renamed = kms.store(ddb, "another-name", config);
    let error = renamed.get_active_branch_key(&id).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");
}

#[tokio::test]
async fn conditional_writes_and_errors() {
    // One request at a time: the rotations below race, and threaded moto's failed transactions
    // roll back the other's committed one (see envelope_test_moto::SERIAL_SERVER_SCRIPT).
    let Some(moto) = envelope_test_moto::start(envelope_test_moto::SERIAL_SERVER_SCRIPT) else { return };
    let kms = Kms::start("ddb-errors").await;
    let arn = kms.create_key("us-east-1").await;
    let config = KmsConfiguration::key_arn(&arn).unwrap();
    let client = moto.dynamodb();

    // No table: a clear error, and reads create nothing.
    let missing = kms.store(DynamoDbStorage::new(client.clone(), "Missing"), "Missing", config.clone());
    let error = missing.get_active_branch_key("x").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::NoSuchStore { .. }), "{error}");
    assert!(error.to_string().contains("Missing"), "{error}");

    // A table with another schema is not taken for a key store.
    client
        .create_table()
        .table_name("Other")
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let other = kms.store(DynamoDbStorage::new(client.clone(), "Other"), "Other", config.clone());
    assert!(other.create_key_store().await.unwrap_err().to_string().contains("key schema"));

    let storage = DynamoDbStorage::new(client.clone(), "Keys");
    let store = kms.store(storage.clone(), "Keys", config.clone());
    store.create_key_store().await.unwrap();
    let error = store.get_active_branch_key("nope").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::NoSuchKey), "{error}");
    store.create_key(CreateKeyRequest::new().branch_key_id("fixed").context("a", "b")).await.unwrap();
    let error = store.create_key(CreateKeyRequest::new().branch_key_id("fixed").context("a", "c")).await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::Conflict { .. }), "{error}");

    // A rotation that read an ACTIVE item since replaced loses (enc = :encOld).
    let stale_active = storage.get_item("fixed", ACTIVE_TYPE).await.unwrap().unwrap();
    let Some(AttributeValue::B(stale_enc)) = stale_active.get(ENC).cloned() else { panic!() };
    store.version_key("fixed").await.unwrap();
    let winner = store.get_active_branch_key("fixed").await.unwrap();
    let mut late = stale_active.clone();
    late.remove("version");
    late.insert("type".into(), AttributeValue::S("branch:version:00000000-0000-4000-8000-000000000000".into()));
    let error = storage.write_new_version(late, stale_active, &stale_enc).await.unwrap_err();
    assert!(matches!(error, StorageError::Conflict(_)), "{error}");
    assert_eq!(store.get_active_branch_key("fixed").await.unwrap().version(), winner.version());

    // Two stores rotating one key at once: every call wins or reports a conflict.
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let store = kms.store(DynamoDbStorage::new(client.clone(), "Keys"), "Keys", config.clone());
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            for _ in 0..4 {
                match store.version_key("fixed").await {
                    Ok(_) => won += 1,
                    Err(e) if matches!(e.kind(), KeyStoreErrorKind::Conflict { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            won
        }));
    }
    let mut won = 0;
    for task in tasks {
        won += task.await.unwrap();
    }
    let versions = store
        .describe_key("fixed")
        .await
        .unwrap()
        .iter()
        .filter(|d| d.item_type.starts_with("branch:version:"))
        .count();
    assert_eq!(versions, 2 + won, "one version per winning rotation");
    let active = store.get_active_branch_key("fixed").await.unwrap();
    assert_eq!(
        store.get_branch_key_version("fixed", active.version()).await.unwrap().key().expose_secret(),
        active.key().expose_secret()
    );

    // A changed attribute fails KMS's context check.
    client
        .update_item()
        .table_name("Keys")
        .key("branch-key-id", Ddb::S("fixed".into()))
        .key("type", Ddb::S(BEACON_TYPE.into()))
        .update_expression("SET #ec = :v")
        .expression_attribute_names("#ec", "aws-crypto-ec:a")
        .expression_attribute_values(":v", Ddb::S("changed".into()))
        .send()
        .await
        .unwrap();
    let error = store.get_beacon_key("fixed").await.unwrap_err();
    assert!(matches!(error.kind(), KeyStoreErrorKind::ItemTampered { .. }), "{error}");
    assert!(error.to_string().contains("fixed"), "{error}");
}

/// Not a test on its own: `DynamoDbStorage::from_env` in a child process whose environment names
/// the endpoint (`AWS_ENDPOINT_URL_DYNAMODB`), run by `endpoint_from_aws_configuration`.
#[tokio::test]
async fn from_env_worker() {
    if std::env::var(ENV_WORKER).is_err() {
        return;
    }
    let storage = DynamoDbStorage::from_env("FromEnv").await;
    storage.create().await.unwrap();
    assert!(storage.get_item("nothing", ACTIVE_TYPE).await.unwrap().is_none());
    println!("from-env-ok");
}

#[tokio::test]
async fn endpoint_from_aws_configuration() {
    let Some(moto) = moto::start() else { return };
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "from_env_worker", "--nocapture"])
        .env(ENV_WORKER, "1")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && stdout.contains("from-env-ok"), "{stdout}");
    let tables = moto.dynamodb().list_tables().send().await.unwrap();
    assert!(tables.table_names().iter().any(|t| t == "FromEnv"));
}

#[allow(dead_code)]
fn _uses(_: BranchKeyStore) {}
