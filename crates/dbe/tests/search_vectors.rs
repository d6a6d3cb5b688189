//! The official DB-ESDK query vectors (`test-vectors/dbesdk/{configs,data,records}.json`):
//! every query of `data.json`, built here in the typed query model (the DynamoDB client parses
//! the same strings), run over `records.json` under each table config of `configs.json`. A query
//! returns through beacons exactly what it returns on plaintext, or fails under the configs
//! `data.json` lists (an encrypted attribute without a beacon); the `Complex` compound-beacon
//! queries return their `Pass` records and none of their `Fail` records.

use std::sync::Arc;

use envelope::AlgorithmSuite;
use envelope_dbe::item::{AttributeValue as V, Item};
use envelope_dbe::search::{Condition, SearchError, SearchableTable};
use envelope_keyrings::hierarchy::StaticKeyStore;
use serde_json::Value as Json;

#[path = "common/query_vectors.rs"]
mod query_vectors;
use query_vectors::{query, read, store, value, vector_table};

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

fn table(id: &str, config: &Json, store: &Arc<StaticKeyStore>) -> Option<SearchableTable> {
    let vector = vector_table(id, config, store)?;
    let table = SearchableTable::new(vector.table, vector.cmm, SUITE);
    Some(match vector.beacons {
        Some((beacons, source)) => table.with_beacons(beacons, source).unwrap(),
        None => table,
    })
}

/// RecNum of the records the encrypted table returns for `condition`, re-checked.
async fn through_beacons(
    table: &SearchableTable,
    condition: &Condition,
    stored: &[Item],
) -> Result<Vec<V>, SearchError> {
    let query = table.translate(condition).await?;
    let mut out = Vec::new();
    for item in stored {
        let mut hit = false;
        for partition in &query.partitions {
            hit |= partition.as_ref().map_or(Ok(true), |c| c.evaluate(item))?;
        }
        if hit {
            if let Some(plain) = table.read_matching(&query, item).await? {
                out.push(plain["RecNum"].clone());
            }
        }
    }
    Ok(out)
}

#[tokio::test]
async fn data_json_queries_match_plaintext_under_every_config() {
    let data = read("data.json");
    let values = data["Values"].as_object().unwrap().clone();
    let v = move |name: &str| value(&values[name]);
    let records: Vec<Item> = read("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().iter().map(|(k, j)| (k.clone(), value(j))).collect())
        .collect();
    let configs = read("configs.json")["tableEncryptionConfigs"].as_object().unwrap().clone();
    let store = store();
    let mut checked = 0;
    for (id, config) in &configs {
        let Some(table) = table(id, config, &store) else { continue };
        let mut stored = Vec::new();
        for record in &records {
            stored.push(table.encrypt_for_write(record).await.unwrap());
        }
        for test in data["Queries"].as_array().unwrap() {
            let text = test.get("Filter").or(test.get("Key")).unwrap().as_str().unwrap();
            let condition = query(text, &v);
            let must_fail = test["Fail"].as_array().into_iter().flatten().any(|c| c.as_str() == Some(id.as_str()));
            let result = through_beacons(&table, &condition, &stored).await;
            if must_fail {
                assert!(
                    matches!(result, Err(SearchError::EncryptedWithoutBeacon(_))),
                    "config {id}, {text}: {result:?}"
                );
                continue;
            }
            let expected: Vec<V> =
                records.iter().filter(|r| condition.evaluate(r).unwrap()).map(|r| r["RecNum"].clone()).collect();
            assert_eq!(result.unwrap(), expected, "config {id}, {text}");
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
    let records: Vec<Item> = read("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().iter().map(|(k, j)| (k.clone(), value(j))).collect())
        .collect();
    let configs = read("configs.json")["tableEncryptionConfigs"].as_object().unwrap().clone();
    let store = store();
    for complex in data["Complex"].as_array().unwrap() {
        let id = complex["Config"].as_str().unwrap();
        let table = table(id, &configs[id], &store).unwrap();
        let mut stored = Vec::new();
        for record in &records {
            stored.push(table.encrypt_for_write(record).await.unwrap());
        }
        for test in complex["Queries"].as_array().unwrap() {
            let text = test["Query"].as_str().unwrap();
            let condition = query(text, &v);
            let returned = through_beacons(&table, &condition, &stored).await.unwrap();
            let index = |list: &str| -> Vec<V> {
                test[list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| records[i.as_u64().unwrap() as usize]["RecNum"].clone())
                    .collect()
            };
            for pass in index("Pass") {
                assert!(returned.contains(&pass), "{text}: record {pass:?} missing from {returned:?}");
            }
            for fail in index("Fail") {
                assert!(!returned.contains(&fail), "{text}: record {fail:?} returned");
            }
            let expected: Vec<V> =
                records.iter().filter(|r| table.recheck(&condition, r).unwrap()).map(|r| r["RecNum"].clone()).collect();
            assert_eq!(returned, expected, "{text}");
        }
    }
}
