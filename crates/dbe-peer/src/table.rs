//! The one table both sides use (the item of envelope-dbe's `dbe_bench`), its official
//! DB-ESDK configuration and the same configuration in envelope's JSON form.

use std::collections::HashMap;

use aws_db_esdk::dynamodb::types::{
    BeaconKeySource, BeaconVersion, CompoundBeacon, DynamoDbTableEncryptionConfig, EncryptedPart, SearchConfig,
    SignedPart, SingleKeyStore, StandardBeacon,
};
use aws_db_esdk::key_store::client as keystore_client;
use aws_db_esdk::key_store::types::key_store_config::KeyStoreConfig;
use aws_db_esdk::key_store::types::KmsConfiguration;
use aws_db_esdk::material_providers::client as mpl_client;
use aws_db_esdk::material_providers::types::material_providers_config::MaterialProvidersConfig;
use aws_db_esdk::material_providers::types::DbeAlgorithmSuiteId;
use aws_db_esdk::{CryptoAction, DynamoDbTablesEncryptionConfig};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::BoxError;

/// The partition key.
pub const PARTITION_KEY: &str = "Id";
/// The logical table name of `bench` (dbe_bench's).
pub const BENCH_TABLE: &str = "BenchItems";
const SIGNED: [&str; 4] = ["Id", "Date", "Status", "Count"];
const ENCRYPTED: [&str; 6] = ["Email", "Ssn", "Name", "Card", "Address", "Notes"];
/// Standard beacons and their lengths in bits.
const STANDARD: [(&str, i32); 2] = [("Email", 16), ("Ssn", 20)];
/// Cache lifetimes (seconds): longer than any run, so caches stay warm.
const CACHE_TTL: i32 = 3_600;

/// Where the branch key is.
pub struct Keys {
    /// The key store's DynamoDB table (also its logical name).
    pub key_store_table: String,
    /// The KMS key protecting the branch keys.
    pub kms_key_arn: String,
    /// The branch key (and beacon key) id.
    pub branch_key_id: String,
}

/// `0x6700` / `0x6701` (or the suites' names) to the SDK's id.
pub fn suite(name: &str) -> Result<DbeAlgorithmSuiteId, BoxError> {
    match name {
        "0x6700" | "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384" => {
            Ok(DbeAlgorithmSuiteId::AlgAes256GcmHkdfSha512CommitKeySymsigHmacSha384)
        }
        "0x6701" | "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384" => {
            Ok(DbeAlgorithmSuiteId::AlgAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384)
        }
        other => Err(format!("unknown suite {other} (0x6700 or 0x6701)").into()),
    }
}

fn key_store(sdk: &aws_config::SdkConfig, table: &str, kms_key_arn: &str) -> Result<keystore_client::Client, BoxError> {
    let config = KeyStoreConfig::builder()
        .kms_client(aws_sdk_kms::Client::new(sdk))
        .ddb_client(aws_sdk_dynamodb::Client::new(sdk))
        .ddb_table_name(table)
        .logical_key_store_name(table)
        .kms_configuration(KmsConfiguration::KmsKeyArn(kms_key_arn.to_owned()))
        .build()?;
    Ok(keystore_client::Client::from_conf(config)?)
}

/// Creates the key store's table when it does not exist, then a branch key (and its beacon
/// key); returns the branch key id.
pub async fn create_branch_key(
    sdk: &aws_config::SdkConfig,
    table: &str,
    kms_key_arn: &str,
) -> Result<String, BoxError> {
    let store = key_store(sdk, table, kms_key_arn)?;
    let exists = aws_sdk_dynamodb::Client::new(sdk).describe_table().table_name(table).send().await.is_ok();
    if !exists {
        store.create_key_store().send().await?;
    }
    let created = store.create_key().send().await?;
    created.branch_key_identifier.ok_or_else(|| "CreateKey returned no branch key id".into())
}

/// The active branch key and the beacon key of `keys.branch_key_id`, unwrapped by the official
/// key store (GetActiveBranchKey, GetBeaconKey), as a `static-branch-key` entry of a DB-ESDK
/// vectors keys file: what lets items the peer wrote be decrypted offline, without the key store
/// or KMS (test vectors only; these keys protect nothing else).
pub async fn export_branch_key(sdk: &aws_config::SdkConfig, keys: &Keys) -> Result<serde_json::Value, BoxError> {
    use base64::Engine as _;
    let store = key_store(sdk, &keys.key_store_table, &keys.kms_key_arn)?;
    let active = store.get_active_branch_key().branch_key_identifier(&keys.branch_key_id).send().await?;
    let branch = active.branch_key_materials.ok_or("GetActiveBranchKey returned no materials")?;
    let beacon = store.get_beacon_key().branch_key_identifier(&keys.branch_key_id).send().await?;
    let beacon = beacon.beacon_key_materials.ok_or("GetBeaconKey returned no materials")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(json!({
        "type": "static-branch-key",
        "encrypt": true,
        "decrypt": true,
        "key-id": keys.branch_key_id,
        "branchKeyVersion": branch.branch_key_version.ok_or("no branch key version")?,
        "branchKey": b64.encode(branch.branch_key.ok_or("no branch key")?.as_ref()),
        "beaconKey": b64.encode(beacon.beacon_key.ok_or("no beacon key")?.as_ref()),
    }))
}

/// The DB-ESDK configuration of the table `name`: the hierarchical keyring on `keys`, the
/// beacons on the same branch key's beacon key, items written under `suite`.
pub async fn tables_config(
    sdk: &aws_config::SdkConfig,
    keys: &Keys,
    name: &str,
    suite: DbeAlgorithmSuiteId,
) -> Result<DynamoDbTablesEncryptionConfig, BoxError> {
    let store = key_store(sdk, &keys.key_store_table, &keys.kms_key_arn)?;
    let mpl = mpl_client::Client::from_conf(MaterialProvidersConfig::builder().build()?)?;
    let keyring = mpl
        .create_aws_kms_hierarchical_keyring()
        .branch_key_id(&keys.branch_key_id)
        .key_store(store.clone())
        .ttl_seconds(i64::from(CACHE_TTL))
        .send()
        .await?;

    let mut standard = Vec::new();
    for (beacon, length) in STANDARD {
        standard.push(StandardBeacon::builder().name(beacon).length(length).build()?);
    }
    let compound = CompoundBeacon::builder()
        .name("EmailDate")
        .split("#")
        .encrypted(vec![EncryptedPart::builder().name("Email").prefix("E-").build()?])
        .signed(vec![SignedPart::builder().name("Date").prefix("D-").build()?])
        .build()?;
    let version = BeaconVersion::builder()
        .version(1)
        .standard_beacons(standard)
        .compound_beacons(vec![compound])
        .key_store(store)
        .key_source(BeaconKeySource::Single(
            SingleKeyStore::builder().key_id(&keys.branch_key_id).cache_ttl(CACHE_TTL).build()?,
        ))
        .build()?;

    let mut actions = HashMap::new();
    for attribute in SIGNED {
        actions.insert(attribute.to_owned(), CryptoAction::SignOnly);
    }
    for attribute in ENCRYPTED {
        actions.insert(attribute.to_owned(), CryptoAction::EncryptAndSign);
    }
    let table = DynamoDbTableEncryptionConfig::builder()
        .logical_table_name(name)
        .partition_key_name(PARTITION_KEY)
        .attribute_actions_on_encrypt(actions)
        .keyring(keyring)
        .algorithm_suite_id(suite)
        .search(SearchConfig::builder().write_version(1).versions(vec![version]).build()?)
        .build()?;
    Ok(DynamoDbTablesEncryptionConfig::builder()
        .table_encryption_configs(HashMap::from([(name.to_owned(), table)]))
        .build()?)
}

/// The same table as `tables_config`, in the DB-ESDK vectors' JSON form (`envelope db
/// --table-config`), with `name` as the logical table name (the peer's is the table's name).
pub fn config_json(name: &str, branch_key_id: &str, suite_name: &str) -> Result<serde_json::Value, BoxError> {
    let suite_id = match suite(suite_name)? {
        DbeAlgorithmSuiteId::AlgAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => {
            "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"
        }
        _ => "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384",
    };
    let mut actions = serde_json::Map::new();
    for attribute in SIGNED {
        actions.insert(attribute.to_owned(), json!("SIGN_ONLY"));
    }
    for attribute in ENCRYPTED {
        actions.insert(attribute.to_owned(), json!("ENCRYPT_AND_SIGN"));
    }
    let standard: Vec<_> = STANDARD.iter().map(|(name, length)| json!({"Name": name, "Length": length})).collect();
    Ok(json!({
        "logicalTableName": name,
        "partitionKeyName": PARTITION_KEY,
        "attributeActionsOnEncrypt": actions,
        "algorithmSuiteId": suite_id,
        "search": {"writeVersion": 1, "versions": [{
            "version": 1,
            "keySource": {"keyId": branch_key_id, "cacheTTL": CACHE_TTL},
            "standardBeacons": standard,
            "compoundBeacons": [{
                "Name": "EmailDate", "Split": "#",
                "Encrypted": [{"Name": "Email", "Prefix": "E-"}],
                "Signed": [{"Name": "Date", "Prefix": "D-"}]
            }]
        }]}
    }))
}

fn ssn(i: usize) -> String {
    format!("{:03}-{:02}-{:04}", 100 + i / 1_000_000 % 900, i / 10_000 % 100, i % 10_000)
}

/// Item number `i`, exactly dbe_bench's `item(i)` (about 400 bytes of values).
pub fn bench_item(i: usize) -> HashMap<String, AttributeValue> {
    let strings = [
        ("Id", format!("item-{i:08}")),
        ("Date", format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
        ("Status", if i.is_multiple_of(3) { "shipped" } else { "open" }.to_owned()),
        ("Email", format!("user{}@example.com", i % 5_000)),
        ("Ssn", ssn(i)),
        ("Name", format!("Customer Number {i}")),
        ("Card", format!("4111-{:04}-{:04}-1111", i / 10_000 % 10_000, i % 10_000)),
        ("Address", format!("{} Long Street, Apartment {}, Springfield, 12345", i % 997, i % 89)),
    ];
    let mut item: HashMap<String, AttributeValue> =
        strings.into_iter().map(|(name, value)| (name.to_owned(), AttributeValue::S(value))).collect();
    item.insert("Count".to_owned(), AttributeValue::N((i % 1_000).to_string()));
    let notes: Vec<u8> = (0..96).map(|b: usize| (b ^ i) as u8).collect();
    item.insert("Notes".to_owned(), AttributeValue::B(aws_smithy_types::Blob::new(notes)));
    item
}
