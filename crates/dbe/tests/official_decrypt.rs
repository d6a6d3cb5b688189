//! Decrypts the items the official Java and .NET DB-ESDKs wrote (`test-vectors/dbesdk/`): every
//! positive record must decrypt to its plaintext (numbers normalized, sets compared as sets),
//! every negative one must fail. Keys: the hierarchical keyring over the static branch key
//! `static-branch-key-1` of `keys.json`, as the official runner does. Then tampering with
//! official items: each change is refused with a typed error, never a partial item.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use envelope::DefaultMaterialsManager;
use envelope_dbe::item::{
    AttributeValue, CryptoAction, Item, ItemError, TableConfig, decrypt_item, item_from_value, normalize_number,
};
use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk")
}

fn read(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(vectors().join(name)).unwrap()).unwrap()
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

fn cmm() -> DefaultMaterialsManager {
    let entry = &read("keys.json")["keys"]["static-branch-key-1"];
    let id = entry["key-id"].as_str().unwrap();
    let key = BranchKeySecret::from_slice(&b64(entry["branchKey"].as_str().unwrap())).unwrap();
    let materials =
        BranchKeyMaterials::new(id, entry["branchKeyVersion"].as_str().unwrap(), BTreeMap::new(), key).unwrap();
    let mut store = StaticKeyStore::new("static");
    store.add_branch_key(materials, true).unwrap();
    let keyring = HierarchicalKeyring::builder(store).branch_key_id(id).ttl(Duration::from_secs(11)).build().unwrap();
    DefaultMaterialsManager::new(keyring)
}

fn item(json: &Value) -> Item {
    item_from_value(json).expect("a DynamoDB JSON item")
}

/// The upstream comparison: numbers normalized, sets de-duplicated and sorted, recursively.
fn normalized(value: &AttributeValue) -> AttributeValue {
    let set = |members: Vec<String>| {
        let mut members = members;
        members.sort();
        members.dedup();
        members
    };
    match value {
        AttributeValue::N(n) => AttributeValue::N(normalize_number(n).unwrap()),
        AttributeValue::Ns(ns) => AttributeValue::Ns(set(ns.iter().map(|n| normalize_number(n).unwrap()).collect())),
        AttributeValue::Ss(ss) => AttributeValue::Ss(set(ss.clone())),
        AttributeValue::Bs(bs) => {
            let mut bs = bs.clone();
            bs.sort();
            bs.dedup();
            AttributeValue::Bs(bs)
        }
        AttributeValue::L(items) => AttributeValue::L(items.iter().map(normalized).collect()),
        AttributeValue::M(map) => AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        other => other.clone(),
    }
}

fn normalized_item(item: &Item) -> Item {
    item.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()
}

fn config(json: &Value) -> TableConfig {
    let mut config = TableConfig::new(
        json["logicalTableName"].as_str().unwrap_or("GazelleVectorTable"),
        json["partitionKeyName"].as_str().unwrap_or("RecNum"),
    );
    if let Some(sort) = json["sortKeyName"].as_str() {
        config = config.sort_key(sort);
    }
    for (name, action) in json["attributeActionsOnEncrypt"].as_object().into_iter().flatten() {
        config = config.action(name, action.as_str().unwrap().parse::<CryptoAction>().unwrap());
    }
    for name in json["allowedUnsignedAttributes"].as_array().into_iter().flatten() {
        config = config.allowed_unsigned(name.as_str().unwrap());
    }
    if let Some(prefix) = json["allowedUnsignedAttributePrefix"].as_str() {
        config = config.allowed_unsigned_prefix(prefix);
    }
    config
}

#[tokio::test]
async fn official_items_decrypt_to_their_plaintext() {
    let cmm = cmm();
    let (mut passed, mut refused) = (0, 0);
    for file in ["decrypt_java_32.json", "decrypt_dotnet_32.json", "decrypt_java_33.json", "decrypt_dotnet_33.json"] {
        let manifest = read(file);
        for (test, record) in manifest["tests"].as_object().unwrap() {
            let label = format!("{file}#{test} ({})", record["description"].as_str().unwrap());
            let result = decrypt_item(&cmm, &config(&record["config"]), &item(&record["encrypted"])).await;
            match record["type"].as_str().unwrap() {
                "positive-decrypt" => {
                    let decrypted = result.unwrap_or_else(|e| panic!("{label}: {e}"));
                    assert_eq!(normalized_item(&decrypted), normalized_item(&item(&record["plaintext"])), "{label}");
                    passed += 1;
                }
                _ => {
                    assert!(result.is_err(), "{label}: a negative record decrypted");
                    refused += 1;
                }
            }
        }
    }
    assert_eq!((passed, refused), (38, 4));
}

#[tokio::test]
async fn all_ten_types_decrypt() {
    let iotest = read("iotest.json");
    let cmm = cmm();
    for test in iotest["DecryptTests"].as_array().unwrap() {
        let decrypted =
            decrypt_item(&cmm, &config(&test["Config"]), &item(&test["EncryptedRecords"][0])).await.unwrap();
        assert_eq!(normalized_item(&decrypted), normalized_item(&item(&test["PlainTextRecords"][0])));
    }
}

/// Test 1 of the Java 3.3 file (0x6701, legend `ees`) and its config.
fn basic() -> (TableConfig, Item) {
    let record = &read("decrypt_java_33.json")["tests"]["1"];
    (config(&record["config"]), item(&record["encrypted"]))
}

#[tokio::test]
async fn tampering_is_refused_with_a_typed_error() {
    let cmm = cmm();
    let (config, original) = basic();
    assert!(decrypt_item(&cmm, &config, &original).await.is_ok());

    // A changed signed plaintext attribute: the footer no longer verifies (and the v1 context
    // holds the partition key value, so the keyring's AAD already differs).
    let mut changed = original.clone();
    changed.insert("RecNum".into(), AttributeValue::N("2".into()));
    assert!(decrypt_item(&cmm, &config, &changed).await.is_err());

    // A flipped byte of an encrypted attribute: recipient tag.
    let mut flipped = original.clone();
    let Some(AttributeValue::B(stuff)) = flipped.get_mut("Stuff") else { panic!() };
    let last = stuff.len() - 1;
    stuff[last] ^= 1;
    assert!(matches!(decrypt_item(&cmm, &config, &flipped).await, Err(ItemError::RecipientTag)));

    // Two encrypted attributes swapped: recipient tag.
    let mut swapped = original.clone();
    let junk = swapped["Junk"].clone();
    swapped.insert("Junk".into(), swapped["Stuff"].clone());
    swapped.insert("Stuff".into(), junk);
    assert!(matches!(decrypt_item(&cmm, &config, &swapped).await, Err(ItemError::RecipientTag)));

    // A missing signed attribute and an extra one: named in the error.
    let mut missing = original.clone();
    missing.remove("Junk");
    match decrypt_item(&cmm, &config, &missing).await {
        Err(ItemError::SignedAttributesMismatch { in_header: 3, in_item: 2, attributes }) => {
            assert_eq!(attributes, ["Stuff", "RecNum"]);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let mut extra = original.clone();
    extra.insert("Sneaky".into(), AttributeValue::S("x".into()));
    match decrypt_item(&cmm, &config, &extra).await {
        Err(ItemError::SignedAttributesMismatch { attributes, .. }) => {
            assert!(attributes.contains(&"Sneaky".to_owned()))
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // ...unless the config allows it unsigned.
    let lenient = config.clone().allowed_unsigned("Sneaky");
    let decrypted = decrypt_item(&cmm, &lenient, &extra).await.unwrap();
    assert_eq!(decrypted["Sneaky"], AttributeValue::S("x".into()));

    // Wrong table: the rebuilt context differs, the keyring's AAD fails.
    let mut other_table = config.clone();
    other_table.logical_table_name = "OtherTable".into();
    assert!(matches!(decrypt_item(&cmm, &other_table, &original).await, Err(ItemError::Materials(_))));

    // Header and footer damage.
    let mut no_footer = original.clone();
    no_footer.remove("aws_dbe_foot");
    assert!(matches!(decrypt_item(&cmm, &config, &no_footer).await, Err(ItemError::MissingAttribute("aws_dbe_foot"))));
    let mut bad_header = original.clone();
    let Some(AttributeValue::B(head)) = bad_header.get_mut("aws_dbe_head") else { panic!() };
    let at = head.len() - 1;
    head[at] ^= 1; // the commitment
    assert!(matches!(decrypt_item(&cmm, &config, &bad_header).await, Err(ItemError::Commitment)));
    let mut bad_signature = original.clone();
    let Some(AttributeValue::B(foot)) = bad_signature.get_mut("aws_dbe_foot") else { panic!() };
    let at = foot.len() - 1;
    foot[at] ^= 1;
    assert!(matches!(decrypt_item(&cmm, &config, &bad_signature).await, Err(ItemError::Signature)));
    let mut short_footer = original;
    let Some(AttributeValue::B(foot)) = short_footer.get_mut("aws_dbe_foot") else { panic!() };
    foot.pop();
    assert!(matches!(decrypt_item(&cmm, &config, &short_footer).await, Err(ItemError::Footer(_))));
}
