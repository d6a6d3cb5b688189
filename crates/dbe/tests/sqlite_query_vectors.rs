//! The official DB-ESDK query vectors (`test-vectors/dbesdk/{configs,data,records}.json`) on the
//! SQLite table: each config of `configs.json` becomes an [`EncryptedTable`], `records.json` is
//! written to it, and every query of `data.json` (built in the typed model, as the search core's
//! own vector test does) returns exactly the records it returns on plaintext, or is refused under
//! the configs `data.json` lists. The `Complex` compound-beacon queries return their `Pass`
//! records and none of their `Fail` records.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use envelope::{AlgorithmSuite, DefaultMaterialsManager};
use envelope_dbe::beacon::{
    BeaconKeySource, BeaconVersionConfig, CompoundBeacon, EncryptedPart, SignedPart, SingleKeySource, StandardBeacon,
};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig};
use envelope_dbe::search::{CompareOp, Condition, Operand, SearchError};
use envelope_dbe::sqlite::{EncryptedTable, TableError};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};
use serde_json::Value as Json;

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

fn read(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A value in the vectors' shorthand: a bare string is S, else one typed DynamoDB JSON member.
fn value(json: &Json) -> V {
    match json {
        Json::String(text) => V::S(text.clone()),
        Json::Object(map) => match map.iter().next().unwrap() {
            (t, Json::String(n)) if t == "N" => V::N(n.clone()),
            (t, Json::Array(items)) if t == "SS" => V::Ss(items.iter().map(|i| i.as_str().unwrap().into()).collect()),
            (t, Json::Array(items)) if t == "L" => V::L(items.iter().map(value).collect()),
            other => panic!("unexpected value {other:?}"),
        },
        other => panic!("unexpected value {other}"),
    }
}

fn table(id: &str, config: &Json, store: &Arc<StaticKeyStore>) -> Option<EncryptedTable> {
    let actions = config.get("attributeActionsOnEncrypt")?.as_object()?;
    let mut table_config = TableConfig::new(format!("vectors-{id}"), "RecNum");
    for (name, action) in actions {
        table_config = table_config.action(name, action.as_str().unwrap().parse::<CryptoAction>().unwrap());
    }
    for name in config["allowedUnsignedAttributes"].as_array().into_iter().flatten() {
        table_config = table_config.allowed_unsigned(name.as_str().unwrap());
    }
    let keyring = HierarchicalKeyring::builder(Arc::clone(store))
        .branch_key_id("vectors")
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut builder =
        EncryptedTable::builder(table_config, Arc::new(DefaultMaterialsManager::new(keyring))).suite(SUITE);
    if let Some(version) = config.pointer("/search/versions/0") {
        let text = |j: &Json, key: &str| j[key].as_str().unwrap().to_owned();
        let beacons = BeaconVersionConfig {
            version: 1,
            standard_beacons: version["standardBeacons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| StandardBeacon::new(text(b, "Name"), b["Length"].as_u64().unwrap() as u32).unwrap())
                .collect(),
            compound_beacons: version["compoundBeacons"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let split = text(c, "Split").chars().next().unwrap();
                    let encrypted = c["Encrypted"].as_array().unwrap().iter();
                    let signed = c["Signed"].as_array().unwrap().iter();
                    CompoundBeacon::new(text(c, "Name"), split)
                        .with_encrypted(
                            encrypted.map(|p| EncryptedPart::new(text(p, "Name"), text(p, "Prefix"))).collect(),
                        )
                        .with_signed(
                            signed.map(|p| SignedPart::new(text(p, "Name"), text(p, "Prefix")).unwrap()).collect(),
                        )
                })
                .collect(),
            ..Default::default()
        };
        let source = SingleKeySource::new(Arc::clone(store) as Arc<dyn KeyStore>, "vectors", Duration::from_secs(60));
        builder = builder.beacons(beacons, BeaconKeySource::Single(source));
    }
    Some(builder.create(rusqlite::Connection::open_in_memory().unwrap()).unwrap())
}

/// data.json's query strings in the typed model (`v` looks up data.json's `Values`).
fn query(text: &str, v: &dyn Fn(&str) -> V) -> Condition {
    use CompareOp::*;
    let cmp = |a: &str, op, b: &str| Condition::compare(a, op, v(b));
    let attr = Operand::attr;
    let val = |name: &str| Operand::Value(v(name));
    match text {
        "RecNum = :zero" => cmp("RecNum", Eq, ":zero"),
        "RecNum = :one" => cmp("RecNum", Eq, ":one"),
        "RecNum <= :zero" => cmp("RecNum", Le, ":zero"),
        "RecNum > :zero" => cmp("RecNum", Gt, ":zero"),
        "RecNum >= :zero" => cmp("RecNum", Ge, ":zero"),
        "RecNum <> :zero" => cmp("RecNum", Ne, ":zero"),
        "Nine between :zeroD and :three" => Condition::between("Nine", v(":zeroD"), v(":three")),
        "Nine between :nineD and :nine" => Condition::between("Nine", v(":nineD"), v(":nine")),
        "Nine between :nine and :three" => Condition::between("Nine", v(":nine"), v(":three")),
        "Nine between :nine and :nine" => Condition::between("Nine", v(":nine"), v(":nine")),
        "NumberTest = :NumberTest" => cmp("NumberTest", Eq, ":NumberTest"),
        "RecNum in (:zero, :one)" => Condition::in_list("RecNum", [v(":zero"), v(":one")]),
        "Two = :two" => cmp("Two", Eq, ":two"),
        "Two = :two or Three = :three or Four = :four OR Five = :five" => cmp("Two", Eq, ":two")
            .or(cmp("Three", Eq, ":three"))
            .or(cmp("Four", Eq, ":four"))
            .or(cmp("Five", Eq, ":five")),
        "Two = :two and Three = :three and Four = :four and Five = :five" => cmp("Two", Eq, ":two")
            .and(cmp("Three", Eq, ":three"))
            .and(cmp("Four", Eq, ":four"))
            .and(cmp("Five", Eq, ":five")),
        "Two in (:two, :three, :four, :five)" => {
            Condition::in_list("Two", [v(":two"), v(":three"), v(":four"), v(":five")])
        }
        "Five in (:two, :three, :four, :five)" => {
            Condition::in_list("Five", [v(":two"), v(":three"), v(":four"), v(":five")])
        }
        "Five in (:strset)" => Condition::in_list("Five", [v(":strset")]),
        "Five in (:strlist)" => Condition::in_list("Five", [v(":strlist")]),
        "contains(One, :oneA)" => Condition::contains("One", v(":oneA")),
        "contains(One, :oneB)" => Condition::contains("One", v(":oneB")),
        "contains(:oneA, One)" => Condition::Contains(val(":oneA"), attr("One")),
        "contains(:oneB, One)" => Condition::Contains(val(":oneB"), attr("One")),
        "contains(:strset, One)" => Condition::Contains(val(":strset"), attr("One")),
        // Complex (config 5, compound beacon Comp1 = F_<Four>.S_<Stuff>)
        "Comp1 = :cmp1a" => cmp("Comp1", Eq, ":cmp1a"),
        "Comp1 = :cmp1b" => cmp("Comp1", Eq, ":cmp1b"),
        "begins_with(Comp1, :cmp1c)" => Condition::begins_with("Comp1", v(":cmp1c")),
        "begins_with(Comp1, :cmp1d)" => Condition::begins_with("Comp1", v(":cmp1d")),
        ":cmp1c <= Comp1" => Condition::Compare(val(":cmp1c"), Le, attr("Comp1")),
        "cmp1c < Comp1" => Condition::Compare(attr("cmp1c"), Lt, attr("Comp1")),
        "cmp1c = Comp1" => Condition::Compare(attr("cmp1c"), Eq, attr("Comp1")),
        "contains(Comp1, :cmp1c)" => Condition::contains("Comp1", v(":cmp1c")),
        "contains(Comp1, :cmp1d)" => Condition::contains("Comp1", v(":cmp1d")),
        other => panic!("query {other:?} of data.json has no translation here"),
    }
}

fn store() -> Arc<StaticKeyStore> {
    let mut store = StaticKeyStore::new("vectors");
    let secret = || BranchKeySecret::from_slice(&[0x5a; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new("vectors", "3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", BTreeMap::new(), secret());
    store.add_branch_key(materials.unwrap(), true).unwrap();
    store.add_beacon_key(BeaconKeyMaterials::new("vectors", BTreeMap::new(), secret()));
    Arc::new(store)
}

fn records() -> Vec<Item> {
    read("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().iter().map(|(k, j)| (k.clone(), value(j))).collect())
        .collect()
}

/// RecNum of every item, sorted.
fn rec_nums(items: &[Item]) -> Vec<String> {
    let mut nums: Vec<String> = items
        .iter()
        .map(|item| match &item["RecNum"] {
            V::N(n) => envelope_dbe::item::normalize_number(n).unwrap(),
            other => panic!("RecNum {other:?}"),
        })
        .collect();
    nums.sort();
    nums
}

#[tokio::test]
async fn data_json_queries_return_what_plaintext_returns() {
    let data = read("data.json");
    let values = data["Values"].as_object().unwrap().clone();
    let v = move |name: &str| value(&values[name]);
    let records = records();
    let configs = read("configs.json")["tableEncryptionConfigs"].as_object().unwrap().clone();
    let store = store();
    let mut checked = 0;
    for (id, config) in &configs {
        let Some(table) = table(id, config, &store) else { continue };
        table.put_all(&records).await.unwrap();
        for test in data["Queries"].as_array().unwrap() {
            let text = test.get("Filter").or(test.get("Key")).unwrap().as_str().unwrap();
            let condition = query(text, &v);
            let must_fail = test["Fail"].as_array().into_iter().flatten().any(|c| c.as_str() == Some(id.as_str()));
            let result = table.query(&condition).await;
            if must_fail {
                assert!(
                    matches!(result, Err(TableError::Search(SearchError::EncryptedWithoutBeacon(_)))),
                    "config {id}, {text}: {result:?}"
                );
                continue;
            }
            let expected: Vec<Item> = records.iter().filter(|r| condition.evaluate(r).unwrap()).cloned().collect();
            assert_eq!(rec_nums(&result.unwrap()), rec_nums(&expected), "config {id}, {text}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 27 - 7, "five configs, 27 queries, seven refused under config 4");
}

#[tokio::test]
async fn complex_compound_queries_return_their_pass_records() {
    let data = read("data.json");
    let values = data["Values"].as_object().unwrap().clone();
    let v = move |name: &str| value(&values[name]);
    let records = records();
    let configs = read("configs.json")["tableEncryptionConfigs"].as_object().unwrap().clone();
    let store = store();
    for complex in data["Complex"].as_array().unwrap() {
        let id = complex["Config"].as_str().unwrap();
        let table = table(id, &configs[id], &store).unwrap();
        table.put_all(&records).await.unwrap();
        for test in complex["Queries"].as_array().unwrap() {
            let text = test["Query"].as_str().unwrap();
            let returned = rec_nums(&table.query(&query(text, &v)).await.unwrap());
            let index = |list: &str| -> Vec<Item> {
                test[list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| records[i.as_u64().unwrap() as usize].clone())
                    .collect()
            };
            for pass in rec_nums(&index("Pass")) {
                assert!(returned.contains(&pass), "{text}: record {pass} missing from {returned:?}");
            }
            for fail in rec_nums(&index("Fail")) {
                assert!(!returned.contains(&fail), "{text}: record {fail} returned");
            }
        }
    }
}
