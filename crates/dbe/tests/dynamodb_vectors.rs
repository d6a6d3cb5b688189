//! The official DB-ESDK query vectors (`test-vectors/dbesdk/{configs,data,records}.json`) on
//! moto DynamoDB, the way upstream runs them: the records go into a plain table through the raw
//! client and into one encrypted table per config of `configs.json` through the encrypted
//! client; every `data.json` query string runs on both (Key queries as Query, Filter queries as
//! Scan) and must return exactly the same records, or be refused under the configs it lists as
//! failing (an encrypted attribute without a beacon). The `Complex` compound-beacon queries
//! return their `Pass` records and none of their `Fail` records.
//!
//! Skipped with a message when moto's Python is missing, unless ENVELOPE_REQUIRE_MOTO is set.

mod common;

use common::query_vectors::{read, store, vector_table};

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use envelope::AlgorithmSuite;
use envelope_dbe::dynamodb::{
    DynamoDbError, EncryptedDynamoDbClient, Expression, QueryRequest, from_sdk_item, to_sdk_item, to_sdk_value,
};
use envelope_dbe::item::{AttributeValue as V, Item, item_from_value};
use envelope_dbe::search::{SearchError, SearchableTable};
use envelope_keyrings::hierarchy::StaticKeyStore;
use serde_json::Value as Json;

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

/// The encrypted table of one config (`None` for the empty config, a plain client upstream).
fn searchable(id: &str, config: &Json, store: &Arc<StaticKeyStore>) -> Option<SearchableTable> {
    let vector = vector_table(id, config, store)?;
    let table = SearchableTable::new(vector.table, vector.cmm, SUITE);
    Some(match vector.beacons {
        Some((beacons, source)) => table.with_beacons(beacons, source).unwrap(),
        None => table,
    })
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(KeySchemaElement::builder().attribute_name("RecNum").key_type(KeyType::Hash).build().unwrap())
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("RecNum")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn rec_nums<'a>(items: impl IntoIterator<Item = &'a Item>) -> BTreeSet<String> {
    items
        .into_iter()
        .map(|item| match &item["RecNum"] {
            V::N(n) => n.clone(),
            other => panic!("RecNum {other:?}"),
        })
        .collect()
}

/// One `data.json` query: Key → Query on the table, Filter → Scan.
enum Kind {
    Key,
    Filter,
}

/// The plain table's answer, through the raw client with the query text as written.
async fn plain_answer(
    raw: &aws_sdk_dynamodb::Client,
    table: &str,
    kind: &Kind,
    text: &str,
    values: &HashMap<String, V>,
) -> BTreeSet<String> {
    let used: HashMap<_, _> = values
        .iter()
        .filter(|(name, _)| text.contains(name.as_str()))
        .map(|(k, v)| (k.clone(), to_sdk_value(v)))
        .collect();
    let used = (!used.is_empty()).then_some(used);
    let items = match kind {
        Kind::Key => {
            let output = raw.query().table_name(table).key_condition_expression(text);
            output.set_expression_attribute_values(used).send().await.unwrap().items.unwrap_or_default()
        }
        Kind::Filter => {
            let output = raw.scan().table_name(table).filter_expression(text);
            output.set_expression_attribute_values(used).send().await.unwrap().items.unwrap_or_default()
        }
    };
    rec_nums(&items.iter().map(|i| from_sdk_item(i).unwrap()).collect::<Vec<_>>())
}

/// The encrypted table's answer through the encrypted client.
async fn encrypted_answer(
    client: &EncryptedDynamoDbClient,
    table: &str,
    kind: &Kind,
    text: &str,
    values: &HashMap<String, V>,
) -> Result<BTreeSet<String>, DynamoDbError> {
    let mut expression = Expression::new(text);
    expression.values = values.clone();
    let items = match kind {
        Kind::Key => {
            client.query(table, &QueryRequest { key_condition: expression, ..QueryRequest::default() }).await?
        }
        Kind::Filter => client.scan(table, Some(&expression)).await?,
    };
    Ok(rec_nums(&items))
}

struct Vectors {
    values: HashMap<String, V>,
    records: Vec<Item>,
    configs: serde_json::Map<String, Json>,
    data: Json,
}

fn vectors() -> Vectors {
    let data = read("data.json");
    let values = data["Values"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, json)| {
            let item = item_from_value(&serde_json::json!({ "v": json })).unwrap();
            (name.clone(), item["v"].clone())
        })
        .collect();
    let records = read("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| item_from_value(record).unwrap())
        .collect();
    let configs = read("configs.json")["tableEncryptionConfigs"].as_object().unwrap().clone();
    Vectors { values, records, configs, data }
}

/// A client serving one encrypted table per config (`Vectors-<id>`), records written, and the
/// plain table `Vectors-plain`.
async fn setup(vectors: &Vectors, prefix: &str) -> Option<(EncryptedDynamoDbClient, Vec<String>)> {
    let moto = common::moto::shared()?;
    let raw = moto.dynamodb();
    let plain = format!("{prefix}-plain");
    create_table(&raw, &plain).await;
    for record in &vectors.records {
        raw.put_item().table_name(&plain).set_item(Some(to_sdk_item(record))).send().await.unwrap();
    }
    let store = store();
    let mut client = EncryptedDynamoDbClient::new(raw.clone());
    let mut ids = Vec::new();
    for (id, config) in &vectors.configs {
        let Some(table) = searchable(id, config, &store) else { continue };
        let name = format!("{prefix}-{id}");
        create_table(&raw, &name).await;
        client = client.with_table(&name, table);
        ids.push(id.clone());
    }
    for id in &ids {
        for record in &vectors.records {
            client.put_item(&format!("{prefix}-{id}"), record, None).await.unwrap();
        }
    }
    Some((client, ids))
}

#[tokio::test]
async fn data_json_queries_return_what_the_plain_table_returns() {
    let vectors = vectors();
    let Some((client, ids)) = setup(&vectors, "Queries").await else { return };
    let mut compared = 0;
    let mut refused = 0;
    let mut non_empty = 0;
    for test in vectors.data["Queries"].as_array().unwrap() {
        let (kind, text) = match (test.get("Key"), test.get("Filter")) {
            (Some(key), _) => (Kind::Key, key.as_str().unwrap()),
            (None, Some(filter)) => (Kind::Filter, filter.as_str().unwrap()),
            _ => panic!("query without Key or Filter: {test}"),
        };
        let expected = plain_answer(client.inner(), "Queries-plain", &kind, text, &vectors.values).await;
        non_empty += usize::from(!expected.is_empty());
        for id in &ids {
            let result = encrypted_answer(&client, &format!("Queries-{id}"), &kind, text, &vectors.values).await;
            let must_fail = test["Fail"].as_array().into_iter().flatten().any(|c| c.as_str() == Some(id.as_str()));
            if must_fail {
                assert!(
                    matches!(result, Err(DynamoDbError::Search(SearchError::EncryptedWithoutBeacon(_)))),
                    "config {id}, {text}: {result:?}"
                );
                refused += 1;
            } else {
                assert_eq!(result.unwrap(), expected, "config {id}, {text}");
                compared += 1;
            }
        }
    }
    assert!(non_empty >= 20, "only {non_empty} queries return records on the plain table");
    assert_eq!(ids.len(), 5, "configs 1-5 encrypt (0 is the plain client)");
    assert_eq!((compared, refused), (5 * 27 - 7, 7), "27 queries under five configs, seven refused under config 4");
}

#[tokio::test]
async fn complex_compound_queries_return_their_pass_records() {
    let vectors = vectors();
    let Some((client, _)) = setup(&vectors, "Complex").await else { return };
    for complex in vectors.data["Complex"].as_array().unwrap() {
        let table = format!("Complex-{}", complex["Config"].as_str().unwrap());
        for test in complex["Queries"].as_array().unwrap() {
            let text = test["Query"].as_str().unwrap();
            let returned = encrypted_answer(&client, &table, &Kind::Filter, text, &vectors.values).await.unwrap();
            let records = |list: &str| -> Vec<Item> {
                let indexes = test[list].as_array().into_iter().flatten();
                indexes.map(|i| vectors.records[i.as_u64().unwrap() as usize].clone()).collect()
            };
            for pass in rec_nums(&records("Pass")) {
                assert!(returned.contains(&pass), "{text}: record {pass} missing from {returned:?}");
            }
            for fail in rec_nums(&records("Fail")) {
                assert!(!returned.contains(&fail), "{text}: record {fail} returned");
            }
        }
    }
}
