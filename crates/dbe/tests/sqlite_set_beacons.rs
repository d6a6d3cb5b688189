//! Set beacons (`asSet`, `sharedSet`) on the SQLite table: their values live in a side table kept
//! in step with every write and delete, `contains` on them is an index lookup, collisions are
//! dropped by the plaintext re-check, and a table created before the side table existed gets
//! one, filled from its rows, when it is opened.
#![cfg(feature = "sqlite")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use envelope::DefaultMaterialsManager;
use envelope_dbe::beacon::{BeaconKeySource, BeaconStyle, BeaconVersionConfig, SingleKeySource, StandardBeacon};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig};
use envelope_dbe::search::Condition;
use envelope_dbe::sqlite::{EncryptedTable, open_database};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};
use rusqlite::Connection;

const SIDE: &str = "\"docs#aws_dbe_set_beacons\"";
/// Words each document may be tagged with: 32 words over 16 four-bit beacon values collide.
const WORDS: usize = 32;

fn table(connection: Connection) -> EncryptedTable {
    let mut store = StaticKeyStore::new("docs");
    let secret = || BranchKeySecret::from_slice(&[5; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new("docs-key", "3c1f6a0e-2b7d-4e59-8f1a-6d2c9b0e4a17", BTreeMap::new(), secret()).unwrap();
    store.add_branch_key(materials, true).unwrap();
    store.add_beacon_key(BeaconKeyMaterials::new("docs-key", BTreeMap::new(), secret()));
    let store = Arc::new(store);
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id("docs-key")
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let config = TableConfig::new("docs", "id")
        .sort_key("rev")
        .action("id", CryptoAction::SignOnly)
        .action("rev", CryptoAction::SignOnly)
        .action("tags", CryptoAction::EncryptAndSign)
        .action("labels", CryptoAction::EncryptAndSign);
    let beacons = BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![
            StandardBeacon::new("tags", 4).unwrap().with_style(BeaconStyle::AsSet),
            StandardBeacon::new("labels", 4).unwrap().with_style(BeaconStyle::SharedSet { other: "tags".into() }),
        ],
        ..Default::default()
    };
    let source = SingleKeySource::new(store as Arc<dyn KeyStore>, "docs-key", Duration::from_secs(60));
    EncryptedTable::builder(config, Arc::new(DefaultMaterialsManager::new(keyring)))
        .beacons(beacons, BeaconKeySource::Single(source))
        .create(connection)
        .unwrap()
}

fn word(k: usize) -> String {
    format!("w{k}")
}

/// Document `i`'s tags: three words (fewer when they coincide).
fn tags_of(i: usize) -> BTreeSet<String> {
    [i % WORDS, (i * 7) % WORDS, (i * 13 + 5) % WORDS].into_iter().map(word).collect()
}

fn doc(i: usize, tags: &BTreeSet<String>) -> Item {
    [
        ("id".to_owned(), V::S(format!("d{i}"))),
        ("rev".to_owned(), V::N("1".into())),
        ("tags".to_owned(), V::Ss(tags.iter().cloned().collect())),
        ("labels".to_owned(), V::Ss(vec![format!("l{}", i % 3)])),
    ]
    .into()
}

fn key(i: usize) -> Item {
    [("id".to_owned(), V::S(format!("d{i}"))), ("rev".to_owned(), V::N("1".into()))].into()
}

fn contains(attribute: &str, text: &str) -> Condition {
    Condition::contains(attribute, V::S(text.into()))
}

async fn found(table: &EncryptedTable, query: &Condition) -> BTreeSet<String> {
    let items = table.query(query).await.unwrap();
    items
        .iter()
        .map(|item| match &item["id"] {
            V::S(id) => id.clone(),
            other => panic!("id {other:?}"),
        })
        .collect()
}

fn ids(range: impl IntoIterator<Item = usize>, keep: impl Fn(usize) -> bool) -> BTreeSet<String> {
    range.into_iter().filter(|&i| keep(i)).map(|i| format!("d{i}")).collect()
}

fn side_rows(path: &std::path::Path, id: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {SIDE} WHERE id = ?1"), [id], |row| row.get(0))
        .unwrap()
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("envelope-dbe-sets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("table.db")
}

#[tokio::test]
async fn sets_are_found_and_kept_in_step_with_writes_and_deletes() {
    let path = temp_db("crud");
    let table = table(open_database(&path).unwrap());
    let docs: Vec<Item> = (0..64).map(|i| doc(i, &tags_of(i))).collect();
    table.put_all(&docs).await.unwrap();
    for k in [0, 3, 17, 31] {
        let expected = ids(0..64, |i| tags_of(i).contains(&word(k)));
        assert!(!expected.is_empty());
        assert_eq!(found(&table, &contains("tags", &word(k))).await, expected, "word {k}");
    }
    // The shared set beacon: its own attribute, hashed with the tags beacon's key.
    assert_eq!(found(&table, &contains("labels", "l2")).await, ids(0..64, |i| i % 3 == 2));
    // AND / OR with set beacons and a plain column.
    let both = contains("tags", "w3").and(contains("labels", "l0"));
    assert_eq!(found(&table, &both).await, ids(0..64, |i| tags_of(i).contains("w3") && i % 3 == 0));
    let either = contains("tags", "w3").or(Condition::eq("id", V::S("d40".into())));
    assert_eq!(found(&table, &either).await, ids(0..64, |i| tags_of(i).contains("w3") || i == 40));

    // Overwrite: d3 (tagged w3) loses w3 and gains "fresh"; its old side rows go.
    assert!(tags_of(3).contains("w3"));
    let before = side_rows(&path, "d3");
    table.put(&doc(3, &["fresh".to_owned()].into())).await.unwrap();
    assert!(!found(&table, &contains("tags", "w3")).await.contains("d3"));
    assert_eq!(found(&table, &contains("tags", "fresh")).await, ids([3], |_| true));
    assert!(side_rows(&path, "d3") < before, "{before} rows before the overwrite");
    // put_stored takes the same path: the stored form of d3 written back changes nothing.
    let stored = table.get_stored(&key(3)).unwrap().unwrap();
    table.put_stored(&stored).unwrap();
    assert_eq!(side_rows(&path, "d3"), 2, "one tags value and one labels value");

    // Delete: the row and its side rows go in one transaction.
    assert!(table.delete(&key(3)).unwrap());
    assert_eq!(side_rows(&path, "d3"), 0);
    assert!(found(&table, &contains("tags", "fresh")).await.is_empty());
    assert!(!table.delete(&key(3)).unwrap());
}

#[tokio::test]
async fn collisions_are_dropped_on_plaintext() {
    let path = temp_db("collisions");
    let table = table(open_database(&path).unwrap());
    table.put_all(&(0..64).map(|i| doc(i, &tags_of(i))).collect::<Vec<_>>()).await.unwrap();
    // One probe document per word tells that word's beacon value.
    let probes: Vec<Item> = (0..WORDS).map(|k| doc(1000 + k, &[word(k)].into())).collect();
    table.put_all(&probes).await.unwrap();
    let sql = Connection::open(&path).unwrap();
    let (mut candidates, mut matches) = (0, 0);
    for k in 0..WORDS {
        let stored = table.get_stored(&key(1000 + k)).unwrap().unwrap();
        let V::Ss(beacon) = &stored["aws_dbe_b_tags"] else { panic!("set beacon") };
        let expected = ids((0..64).chain([1000 + k]), |i| i >= 1000 || tags_of(i).contains(&word(k)));
        assert_eq!(found(&table, &contains("tags", &word(k))).await, expected, "word {k}");
        // What SQL alone selects: every document holding a word with the same beacon value.
        let selected: usize = sql
            .query_row(
                &format!("SELECT count(DISTINCT id) FROM {SIDE} WHERE aws_dbe_beacon = 'aws_dbe_b_tags' AND aws_dbe_value = ?1"),
                [&beacon[0]],
                |row| row.get::<_, i64>(0),
            )
            .unwrap()
            .try_into()
            .unwrap();
        assert!(selected >= expected.len());
        candidates += selected;
        matches += expected.len();
    }
    assert!(candidates > matches, "32 words over 16 beacon values must collide ({candidates} = {matches})");
}

#[tokio::test]
async fn contains_on_a_set_beacon_uses_the_side_index() {
    let table = table(Connection::open_in_memory().unwrap());
    table.put_all(&(0..200).map(|i| doc(i, &tags_of(i))).collect::<Vec<_>>()).await.unwrap();
    let plan = table.explain(&contains("tags", "w5")).await.unwrap().join("\n");
    assert!(!plan.contains("SCAN docs"), "{plan}");
    assert!(plan.contains("docs#aws_dbe_set_beacons USING PRIMARY KEY"), "{plan}");
    let either = contains("tags", "w5").or(contains("labels", "l1"));
    let plan = table.explain(&either).await.unwrap().join("\n");
    assert!(!plan.contains("SCAN docs"), "{plan}");
    assert_eq!(found(&table, &either).await, ids(0..200, |i| tags_of(i).contains("w5") || i % 3 == 1));
}

#[tokio::test]
async fn a_table_without_the_side_table_gets_one_filled_from_its_rows() {
    let path = temp_db("upgrade");
    let first = table(open_database(&path).unwrap());
    first.put_all(&(0..40).map(|i| doc(i, &tags_of(i))).collect::<Vec<_>>()).await.unwrap();
    drop(first);
    let sql = Connection::open(&path).unwrap();
    let count = |sql: &Connection| -> i64 {
        sql.query_row(&format!("SELECT count(*) FROM {SIDE}"), [], |row| row.get(0)).unwrap()
    };
    let written = count(&sql);
    // The layout of a table written before set beacons had a side table.
    sql.execute_batch(&format!("DROP TABLE {SIDE}")).unwrap();

    let reopened = table(open_database(&path).unwrap());
    assert_eq!(count(&sql), written, "every row's set values are back");
    assert_eq!(found(&reopened, &contains("tags", "w9")).await, ids(0..40, |i| tags_of(i).contains("w9")));
    let plan = reopened.explain(&contains("tags", "w9")).await.unwrap().join("\n");
    assert!(plan.contains("docs#aws_dbe_set_beacons USING PRIMARY KEY"), "{plan}");
    // Opening again leaves the filled table as it is.
    drop(reopened);
    table(open_database(&path).unwrap());
    assert_eq!(count(&sql), written);
}
