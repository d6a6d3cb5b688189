//! The official DB-ESDK query vectors (`test-vectors/dbesdk/{configs,data,records}.json`) on the
//! SQLite table: each config of `configs.json` becomes an [`EncryptedTable`], `records.json` is
//! written to it, and every query of `data.json` (built in the typed model, as the search core's
//! own vector test does) returns exactly the records it returns on plaintext, or is refused under
//! the configs `data.json` lists. The `Complex` compound-beacon queries return their `Pass`
//! records and none of their `Fail` records.
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use envelope::AlgorithmSuite;
use envelope_dbe::item::{AttributeValue as V, Item};
use envelope_dbe::search::SearchError;
use envelope_dbe::sqlite::{EncryptedTable, TableError};
use envelope_keyrings::hierarchy::StaticKeyStore;
use serde_json::Value as Json;

#[path = "common/query_vectors.rs"]
mod query_vectors;
use query_vectors::{query, read, records, store, value, vector_table};

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

fn table(id: &str, config: &Json, store: &Arc<StaticKeyStore>) -> Option<EncryptedTable> {
    let vector = vector_table(id, config, store)?;
    let mut builder = EncryptedTable::builder(vector.table, vector.cmm).suite(SUITE);
    if let Some((beacons, source)) = vector.beacons {
        builder = builder.beacons(beacons, source);
    }
    Some(builder.create(rusqlite::Connection::open_in_memory().unwrap()).unwrap())
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
