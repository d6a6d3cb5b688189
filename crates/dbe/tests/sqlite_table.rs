//! The encrypted SQLite table: items round-trip through rows, rows hold DB-ESDK items, edits to
//! a stored row are typed errors, and two connections share one file in WAL mode.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use envelope::DefaultMaterialsManager;
use envelope_dbe::beacon::{
    BeaconKeySource, BeaconVersionConfig, CompoundBeacon, EncryptedPart, SignedPart, SingleKeySource, StandardBeacon,
};
use envelope_dbe::item::{
    AttributeValue as V, CryptoAction, Item, ItemError, TableConfig, decrypt_item, item_from_json, item_from_value,
    item_to_json,
};
use envelope_dbe::search::SearchError;
use envelope_dbe::sqlite::{EncryptedTable, ITEM_COLUMN, TableError, open_database};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};
use rusqlite::Connection;

fn cmm() -> Arc<DefaultMaterialsManager> {
    let key = BranchKeySecret::from_slice(&[0x42; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new("tenant", "5f8d2c1e-0b3a-4c7d-9e6f-1a2b3c4d5e6f", BTreeMap::new(), key).unwrap();
    let mut store = StaticKeyStore::new("static");
    store.add_branch_key(materials, true).unwrap();
    Arc::new(DefaultMaterialsManager::new(
        HierarchicalKeyring::builder(store).branch_key_id("tenant").ttl(Duration::from_secs(60)).build().unwrap(),
    ))
}

fn s(text: &str) -> V {
    V::S(text.into())
}

/// A table with awkward attribute names: quotes, spaces, SQL, emoji.
fn config() -> TableConfig {
    TableConfig::new("Orders", "Order \"Id\"")
        .sort_key("line; DROP TABLE x")
        .action("Order \"Id\"", CryptoAction::SignOnly)
        .action("line; DROP TABLE x", CryptoAction::SignOnly)
        .action("Status", CryptoAction::SignOnly)
        .action("Amount", CryptoAction::SignOnly)
        .action("Card \u{1F4B3}", CryptoAction::EncryptAndSign)
        .action("Notes", CryptoAction::EncryptAndSign)
        .allowed_unsigned_prefix(":")
}

fn v2_config() -> TableConfig {
    // SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT makes the keys take that action too.
    config()
        .action("Amount", CryptoAction::SignAndIncludeInEncryptionContext)
        .action("Order \"Id\"", CryptoAction::SignAndIncludeInEncryptionContext)
        .action("line; DROP TABLE x", CryptoAction::SignAndIncludeInEncryptionContext)
}

fn order(id: &str, line: u32) -> Item {
    [
        ("Order \"Id\"".to_owned(), s(id)),
        ("line; DROP TABLE x".to_owned(), V::N(line.to_string())),
        ("Status".to_owned(), s("open")),
        ("Amount".to_owned(), V::N("12.50".into())),
        ("Card \u{1F4B3}".to_owned(), s("4111-1111-1111-1111")),
        ("Notes".to_owned(), V::M([("gift".to_owned(), V::Bool(true))].into())),
        (":cache".to_owned(), V::Null),
    ]
    .into()
}

fn key_of(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| name.as_str() == "Order \"Id\"" || name.as_str() == "line; DROP TABLE x")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("envelope-dbe-sqlite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("table.db")
}

fn normalized(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| match v {
            V::N(n) => (k.clone(), V::N(envelope_dbe::item::normalize_number(n).unwrap())),
            other => (k.clone(), other.clone()),
        })
        .collect()
}

#[tokio::test]
async fn items_round_trip_and_rows_hold_db_esdk_items() {
    let cmm = cmm();
    let config = v2_config();
    let table = EncryptedTable::builder(config.clone(), cmm.clone())
        .sql_table_name("orders \"2026\"")
        .create(Connection::open_in_memory().unwrap())
        .unwrap();
    let first = order("o-1", 1);
    let second = order("o-1", 2);
    table.put(&first).await.unwrap();
    table.put(&second).await.unwrap();
    assert_eq!(table.get(&key_of(&first)).await.unwrap().map(|i| normalized(&i)), Some(normalized(&first)));
    assert_eq!(table.get(&key_of(&second)).await.unwrap().map(|i| normalized(&i)), Some(normalized(&second)));

    // The stored form is a DB-ESDK item: encrypted attribute binary, header and footer present,
    // and it decrypts with decrypt_item alone.
    let stored = table.get_stored(&key_of(&first)).unwrap().unwrap();
    assert!(matches!(stored["Card \u{1F4B3}"], V::B(_)));
    assert!(stored.contains_key("aws_dbe_head") && stored.contains_key("aws_dbe_foot"));
    assert_eq!(normalized(&decrypt_item(cmm.as_ref(), &config, &stored).await.unwrap()), normalized(&first));

    // Replace, then delete.
    let mut changed = first.clone();
    changed.insert("Status".into(), s("shipped"));
    table.put(&changed).await.unwrap();
    assert_eq!(table.get(&key_of(&first)).await.unwrap().unwrap()["Status"], s("shipped"));
    assert!(table.delete(&key_of(&first)).unwrap());
    assert!(!table.delete(&key_of(&first)).unwrap());
    assert_eq!(table.get(&key_of(&first)).await.unwrap(), None);
    assert!(table.get(&key_of(&second)).await.unwrap().is_some());

    // A key without its sort key attribute is a typed error.
    let partial: Item = [("Order \"Id\"".to_owned(), s("o-1"))].into();
    assert!(matches!(table.get(&partial).await, Err(TableError::MissingKey(name)) if name == "line; DROP TABLE x"));
}

#[tokio::test]
async fn signed_attributes_stay_queryable_with_plain_sql() {
    let path = temp_db("plain-sql");
    let table = EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    for line in 1..=3 {
        let mut item = order("o-7", line);
        if line == 2 {
            item.insert("Status".into(), s("shipped"));
        }
        table.put(&item).await.unwrap();
    }
    let plain = Connection::open(&path).unwrap();
    let lines: Vec<i64> = plain
        .prepare("SELECT \"line; DROP TABLE x\" FROM Orders WHERE Status = 'open' ORDER BY 1")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(lines, [1, 3]);
    // The signed number is exact text when it is not an integer; the encrypted card has no column.
    let amount: String = plain.query_row("SELECT Amount FROM Orders LIMIT 1", [], |row| row.get(0)).unwrap();
    assert_eq!(amount, "12.5");
    let columns: Vec<String> = plain
        .prepare("SELECT name FROM pragma_table_info('Orders')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(columns, ["Order \"Id\"", "line; DROP TABLE x", ITEM_COLUMN, "Amount", "Status"]);
}

/// A number range on a signed column is narrowed in SQL (a widened comparison of doubles) and
/// decided exactly on plaintext: 38-digit amounts that one double cannot tell apart, negative and
/// fractional bounds, equal values.
#[tokio::test]
async fn number_ranges_narrow_in_sql_and_stay_exact() {
    use envelope_dbe::search::{CompareOp, Condition};
    let path = temp_db("number-ranges");
    let table = EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    let amounts = [
        "-12345678901234567890123456789012345679",
        "-2.5",
        "-0.000001",
        "0",
        "12.50",
        "12.500000000000000000000000000000000001",
        "12345678901234567890123456789012345678",
        "12345678901234567890123456789012345679",
        "9e125",
    ];
    for (line, amount) in amounts.iter().enumerate() {
        let mut item = order("o-n", line as u32);
        item.insert("Amount".into(), V::N((*amount).into()));
        table.put(&item).await.unwrap();
    }
    let lines = |items: Vec<Item>| -> Vec<String> {
        let mut lines: Vec<String> = items
            .into_iter()
            .map(|item| match &item["line; DROP TABLE x"] {
                V::N(n) => n.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        lines.sort();
        lines
    };
    let n = |text: &str| V::N(text.into());
    let query = |op, bound: &str| Condition::compare("Amount", op, n(bound));
    let big = "12345678901234567890123456789012345678";
    assert_eq!(lines(table.query(&query(CompareOp::Gt, big)).await.unwrap()), ["7", "8"]);
    assert_eq!(lines(table.query(&query(CompareOp::Ge, big)).await.unwrap()), ["6", "7", "8"]);
    assert_eq!(lines(table.query(&query(CompareOp::Lt, "-2.5")).await.unwrap()), ["0"]);
    assert_eq!(lines(table.query(&query(CompareOp::Le, "-2.5")).await.unwrap()), ["0", "1"]);
    assert_eq!(lines(table.query(&query(CompareOp::Gt, "12.5")).await.unwrap()), ["5", "6", "7", "8"]);
    assert_eq!(lines(table.query(&query(CompareOp::Lt, "0")).await.unwrap()), ["0", "1", "2"]);
    let between = Condition::between("Amount", n("-0.000001"), n("12.5"));
    assert_eq!(lines(table.query(&between).await.unwrap()), ["2", "3", "4"]);
    // Flipped operands: 12.5 > Amount.
    let flipped = Condition::Compare(
        envelope_dbe::search::Operand::Value(n("12.5")),
        CompareOp::Gt,
        envelope_dbe::search::Operand::attr("Amount"),
    );
    assert_eq!(lines(table.query(&flipped).await.unwrap()), ["0", "1", "2", "3"]);

    // SQL narrows: a row far outside the range is never read, even with an unreadable item.
    let plain = Connection::open(&path).unwrap();
    plain
        .execute(&format!("UPDATE Orders SET \"{ITEM_COLUMN}\" = x'00' WHERE \"line; DROP TABLE x\" = 8"), [])
        .unwrap();
    assert_eq!(lines(table.query(&query(CompareOp::Lt, "1")).await.unwrap()), ["0", "1", "2", "3"]);
    assert!(matches!(table.query(&query(CompareOp::Gt, "1")).await, Err(TableError::StoredItem(_))));
}

#[tokio::test]
async fn edited_rows_are_typed_errors() {
    let path = temp_db("tamper");
    let table = EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    let item = order("o-9", 1);
    table.put(&item).await.unwrap();
    let key = key_of(&item);
    let plain = Connection::open(&path).unwrap();

    // A plain column edited behind the table's back: the row disagrees with its item.
    plain.execute("UPDATE Orders SET Status = 'shipped'", []).unwrap();
    assert!(matches!(table.get(&key).await, Err(TableError::ColumnMismatch { column }) if column == "Status"));
    plain.execute("UPDATE Orders SET Status = 'open'", []).unwrap();
    assert!(table.get(&key).await.is_ok());

    // The encrypted attribute replaced inside the stored item: decryption names it.
    let mut stored = table.get_stored(&key).unwrap().unwrap();
    let original = stored.clone();
    stored.insert("Card \u{1F4B3}".into(), s("4111-1111-1111-1111"));
    table.put_stored(&stored).unwrap();
    match table.get(&key).await {
        Err(TableError::Item(ItemError::AttributeDecrypt(name))) => assert_eq!(name, "Card \u{1F4B3}"),
        other => panic!("expected AttributeDecrypt, got {other:?}"),
    }

    // One flipped ciphertext byte: the footer no longer verifies.
    let mut stored = original.clone();
    if let Some(V::B(bytes)) = stored.get_mut("Notes") {
        bytes[5] ^= 1;
    }
    table.put_stored(&stored).unwrap();
    assert!(matches!(table.get(&key).await, Err(TableError::Item(ItemError::RecipientTag))));

    // Garbage in the item column.
    table.put_stored(&original).unwrap();
    plain.execute(&format!("UPDATE Orders SET \"{ITEM_COLUMN}\" = x'00000001ff'"), []).unwrap();
    assert!(matches!(table.get(&key).await, Err(TableError::StoredItem(_))));
}

#[tokio::test]
async fn two_connections_share_one_file() {
    let path = temp_db("wal");
    let writer = EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    let reader = EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    let mode: String = Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    for line in 0..20 {
        writer.put(&order("o-w", line)).await.unwrap();
        let got = reader.get(&key_of(&order("o-w", line))).await.unwrap();
        assert_eq!(got.map(|i| i["line; DROP TABLE x"].clone()), Some(V::N(line.to_string())));
    }
    assert!(reader.delete(&key_of(&order("o-w", 0))).unwrap());
    assert_eq!(writer.get(&key_of(&order("o-w", 0))).await.unwrap(), None);
}

#[tokio::test]
async fn a_table_from_another_config_is_refused() {
    let path = temp_db("schema");
    EncryptedTable::builder(config(), cmm()).create(open_database(&path).unwrap()).unwrap();
    let other = config().action("Region", CryptoAction::SignOnly);
    let error = EncryptedTable::builder(other, cmm()).create(open_database(&path).unwrap()).unwrap_err();
    assert!(matches!(error, TableError::SchemaMismatch { column, .. } if column == "Region"));
    // Names SQLite would fold together, and NUL, are refused up front.
    let folded = TableConfig::new("T", "id").sort_key("ID");
    assert!(matches!(
        EncryptedTable::builder(folded, cmm()).create(Connection::open_in_memory().unwrap()),
        Err(TableError::ColumnCollision { .. })
    ));
    let nul = TableConfig::new("T", "i\0d");
    assert!(matches!(
        EncryptedTable::builder(nul, cmm()).create(Connection::open_in_memory().unwrap()),
        Err(TableError::InvalidName { .. })
    ));
}

#[tokio::test]
async fn scan_returns_every_item_decrypted() {
    let table = EncryptedTable::builder(config(), cmm()).create(Connection::open_in_memory().unwrap()).unwrap();
    for line in 0..5 {
        table.put(&order("o-s", line)).await.unwrap();
    }
    let items = table.scan().await.unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|item| item["Card \u{1F4B3}"] == s("4111-1111-1111-1111")));
}

#[tokio::test]
async fn a_row_exported_as_dynamodb_json_decrypts_alone() {
    let cmm = cmm();
    let table =
        EncryptedTable::builder(v2_config(), cmm.clone()).create(Connection::open_in_memory().unwrap()).unwrap();
    let item = order("o-x", 4);
    table.put(&item).await.unwrap();
    let stored = table.get_stored(&key_of(&item)).unwrap().unwrap();
    let exported = serde_json::to_vec(&item_to_json(&stored)).unwrap();
    // What a DB-ESDK reading DynamoDB JSON gets: the same item, which decrypts with the config.
    let imported = item_from_json(&exported).unwrap();
    assert_eq!(imported, stored);
    assert_eq!(normalized(&decrypt_item(cmm.as_ref(), &v2_config(), &imported).await.unwrap()), normalized(&item));
}

/// The official vectors' keys: the hierarchical keyring on `static-branch-key-1`.
fn official_cmm() -> Arc<DefaultMaterialsManager> {
    use base64::Engine as _;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk");
    let keys: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
    let entry = &keys["keys"]["static-branch-key-1"];
    let id = entry["key-id"].as_str().unwrap();
    let secret = base64::engine::general_purpose::STANDARD.decode(entry["branchKey"].as_str().unwrap()).unwrap();
    let materials = BranchKeyMaterials::new(
        id,
        entry["branchKeyVersion"].as_str().unwrap(),
        BTreeMap::new(),
        BranchKeySecret::from_slice(&secret).unwrap(),
    )
    .unwrap();
    let mut store = StaticKeyStore::new("static");
    store.add_branch_key(materials, true).unwrap();
    let keyring = HierarchicalKeyring::builder(store).branch_key_id(id).ttl(Duration::from_secs(11)).build().unwrap();
    Arc::new(DefaultMaterialsManager::new(keyring))
}

#[tokio::test]
async fn an_official_item_stored_as_a_row_decrypts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("decrypt_java_32.json")).unwrap()).unwrap();
    let record = &manifest["tests"]["1"];
    let json = &record["config"];
    let mut config = TableConfig::new(
        json["logicalTableName"].as_str().unwrap_or("GazelleVectorTable"),
        json["partitionKeyName"].as_str().unwrap_or("RecNum"),
    );
    if let Some(sort) = json["sortKeyName"].as_str() {
        config = config.sort_key(sort);
    }
    for (name, action) in json["attributeActionsOnEncrypt"].as_object().unwrap() {
        config = config.action(name, action.as_str().unwrap().parse::<CryptoAction>().unwrap());
    }
    let encrypted = item_from_value(&record["encrypted"]).unwrap();
    let table = EncryptedTable::builder(config, official_cmm()).create(Connection::open_in_memory().unwrap()).unwrap();
    table.put_stored(&encrypted).unwrap();
    let key: Item = [("RecNum".to_owned(), encrypted["RecNum"].clone())].into();
    let decrypted = table.get(&key).await.unwrap().unwrap();
    let plaintext = item_from_value(&record["plaintext"]).unwrap();
    assert_eq!(normalized(&decrypted), normalized(&plaintext));
    // And the row exports back to exactly the official item.
    assert_eq!(
        item_from_json(&serde_json::to_vec(&item_to_json(&table.get_stored(&key).unwrap().unwrap())).unwrap()).unwrap(),
        encrypted
    );
}

// ---- queries on beacons ----

const SUITE: envelope::AlgorithmSuite = envelope::AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

fn people_store() -> Arc<StaticKeyStore> {
    let mut store = StaticKeyStore::new("people");
    let secret = || BranchKeySecret::from_slice(&[9; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new("people-key", "0b7c0e4e-6f4c-4a39-9d53-1f0c3a5b7d21", BTreeMap::new(), secret())
            .unwrap();
    store.add_branch_key(materials, true).unwrap();
    store.add_beacon_key(BeaconKeyMaterials::new("people-key", BTreeMap::new(), secret()));
    Arc::new(store)
}

fn people_config() -> TableConfig {
    TableConfig::new("people", "id")
        .action("id", CryptoAction::SignOnly)
        .action("email", CryptoAction::EncryptAndSign)
        .action("city", CryptoAction::EncryptAndSign)
        .action("secret", CryptoAction::EncryptAndSign)
        .action("year", CryptoAction::SignOnly)
}

/// `email`: `email_bits` bits (4 makes collisions common); `city` (8 bits) feeds the compound
/// beacon `Where` = `Y_<year>.C_<city beacon>`; `YearTag` = `T_<year>` is a signed beacon.
fn people_beacons(email_bits: u32, max_partitions: Option<u8>) -> BeaconVersionConfig {
    BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![
            StandardBeacon::new("email", email_bits).unwrap(),
            StandardBeacon::new("city", 8).unwrap(),
        ],
        compound_beacons: vec![
            CompoundBeacon::new("Where", '.')
                .with_signed(vec![SignedPart::new("year", "Y_").unwrap()])
                .with_encrypted(vec![EncryptedPart::new("city", "C_")]),
            CompoundBeacon::new("YearTag", '.').with_signed(vec![SignedPart::new("year", "T_").unwrap()]),
        ],
        max_partitions,
        ..Default::default()
    }
}

fn people_table(connection: Connection, email_bits: u32, max_partitions: Option<u8>) -> EncryptedTable {
    people_table_with(people_config(), connection, email_bits, max_partitions)
}

fn people_table_with(
    config: TableConfig,
    connection: Connection,
    email_bits: u32,
    max_partitions: Option<u8>,
) -> EncryptedTable {
    let store = people_store();
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id("people-key")
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let source = SingleKeySource::new(store as Arc<dyn KeyStore>, "people-key", Duration::from_secs(60));
    EncryptedTable::builder(config, Arc::new(DefaultMaterialsManager::new(keyring)))
        .suite(SUITE)
        .beacons(people_beacons(email_bits, max_partitions), BeaconKeySource::Single(source))
        .create(connection)
        .unwrap()
}

const CITIES: [&str; 4] = ["Paris", "Lyon", "Oslo", "Lima"];

fn person(i: usize) -> Item {
    [
        ("id", V::N(i.to_string())),
        ("email", s(&format!("user{i}@example.com"))),
        ("city", s(CITIES[i % 4])),
        ("year", s(&format!("{}", 1980 + i % 10))),
        ("secret", s("do not tell")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn ids(items: &[Item]) -> Vec<usize> {
    let mut ids: Vec<usize> = items
        .iter()
        .map(|item| match &item["id"] {
            V::N(n) => n.parse().unwrap(),
            other => panic!("id {other:?}"),
        })
        .collect();
    ids.sort_unstable();
    ids
}

fn expected(filter: impl Fn(usize) -> bool, count: usize) -> Vec<usize> {
    (0..count).filter(|&i| filter(i)).collect()
}

#[tokio::test]
async fn queries_of_each_kind_return_exactly_the_matches() {
    use envelope_dbe::search::{CompareOp, Condition};
    let table = people_table(Connection::open_in_memory().unwrap(), 16, None);
    let people: Vec<Item> = (0..60).map(person).collect();
    table.put_all(&people).await.unwrap();

    // Standard beacon equality, and IN.
    let found = table.query(&Condition::eq("email", s("user7@example.com"))).await.unwrap();
    assert_eq!(ids(&found), [7]);
    // The plaintext item, without aws_dbe_* attributes; the signed beacon is returned, as the
    // DB-ESDK returns it.
    let mut seven = person(7);
    seven.insert("YearTag".into(), s("T_1987"));
    assert_eq!(found[0], seven);
    let found = table
        .query(&Condition::in_list("email", [s("user1@example.com"), s("user2@example.com"), s("nobody@x")]))
        .await
        .unwrap();
    assert_eq!(ids(&found), [1, 2]);
    // Compound beacon: full value, prefix on the signed part, range on the signed part.
    let found = table.query(&Condition::eq("Where", s("Y_1981.C_Lyon"))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 10 == 1 && CITIES[i % 4] == "Lyon", 60));
    let found = table.query(&Condition::begins_with("Where", s("Y_1983"))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 10 == 3, 60));
    let found = table.query(&Condition::between("Where", s("Y_1982"), s("Y_1984"))).await.unwrap();
    // "Y_1984.C_..." sorts after "Y_1984": 1984 is outside, as DynamoDB decides on plaintext.
    assert_eq!(ids(&found), expected(|i| (2..=3).contains(&(i % 10)), 60));
    // Signed beacon and signed attribute: plain columns.
    let found = table.query(&Condition::eq("YearTag", s("T_1985"))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 10 == 5, 60));
    let found = table.query(&Condition::compare("year", CompareOp::Ge, s("1988"))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 10 >= 8, 60));
    // AND of a beacon and a plain condition, OR across beacons, NOT (re-check only).
    let both = Condition::eq("city", s("Oslo")).and(Condition::eq("year", s("1982")));
    assert_eq!(ids(&table.query(&both).await.unwrap()), expected(|i| i % 4 == 2 && i % 10 == 2, 60));
    let either = Condition::eq("email", s("user3@example.com")).or(Condition::eq("city", s("Lima")));
    assert_eq!(ids(&table.query(&either).await.unwrap()), expected(|i| i == 3 || i % 4 == 3, 60));
    let not = Condition::eq("year", s("1980")).not();
    assert_eq!(ids(&table.query(&not).await.unwrap()), expected(|i| i % 10 != 0, 60));

    // Queries beacons cannot answer are typed errors.
    let error = table.query(&Condition::eq("secret", s("do not tell"))).await.unwrap_err();
    assert!(
        matches!(error, TableError::Search(SearchError::EncryptedWithoutBeacon(ref name)) if name == "secret"),
        "{error:?}"
    );
    let error = table.query(&Condition::compare("email", CompareOp::Lt, s("m"))).await.unwrap_err();
    assert!(matches!(error, TableError::Search(SearchError::UnsupportedOperator { .. })), "{error:?}");
    let error = table.query(&Condition::begins_with("email", s("user"))).await.unwrap_err();
    assert!(matches!(error, TableError::Search(SearchError::UnsupportedOperator { .. })), "{error:?}");
}

#[tokio::test]
async fn beacon_collisions_are_dropped() {
    use envelope_dbe::search::Condition;
    let path = temp_db("collisions");
    // 4-bit email beacons: 80 people share 16 values.
    let table = people_table(open_database(&path).unwrap(), 4, None);
    table.put_all(&(0..80).map(person).collect::<Vec<_>>()).await.unwrap();
    let found = table.query(&Condition::eq("email", s("user42@example.com"))).await.unwrap();
    assert_eq!(ids(&found), [42]);
    // The database alone returns every item sharing the beacon.
    let stored = table.get_stored(&[("id".to_owned(), V::N("42".into()))].into()).unwrap().unwrap();
    let V::S(beacon) = &stored["aws_dbe_b_email"] else { panic!("beacon") };
    let sharing: i64 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM people WHERE aws_dbe_b_email = ?1", [beacon], |row| row.get(0))
        .unwrap();
    assert!(sharing > 1, "a 4-bit beacon over 80 values must collide (got {sharing})");
}

#[tokio::test]
async fn partitioned_beacons_are_all_searched() {
    use envelope_dbe::search::Condition;
    let table = people_table(Connection::open_in_memory().unwrap(), 16, Some(3));
    table.put_all(&(0..40).map(person).collect::<Vec<_>>()).await.unwrap();
    let found = table.query(&Condition::eq("city", s("Paris"))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 4 == 0, 40));
    let plan = table.explain(&Condition::eq("city", s("Paris"))).await.unwrap().join("\n");
    assert!(plan.contains("people#aws_dbe_b_city"), "{plan}");
}

#[tokio::test]
async fn a_thousand_rows_are_found_through_the_index() {
    use envelope_dbe::search::Condition;
    let table = people_table(Connection::open_in_memory().unwrap(), 16, None);
    let people: Vec<Item> = (0..1200).map(person).collect();
    for chunk in people.chunks(200) {
        table.put_all(chunk).await.unwrap();
    }
    let query = Condition::eq("email", s("user1111@example.com"));
    let plan = table.explain(&query).await.unwrap().join("\n");
    assert!(plan.contains("USING INDEX") && plan.contains("people#aws_dbe_b_email"), "{plan}");
    let started = std::time::Instant::now();
    assert_eq!(ids(&table.query(&query).await.unwrap()), [1111]);
    eprintln!("beacon equality over 1,200 rows: {:?}", started.elapsed());
    let prefix = Condition::begins_with("Where", s("Y_1987"));
    let plan = table.explain(&prefix).await.unwrap().join("\n");
    assert!(plan.contains("people#aws_dbe_b_Where"), "{plan}");
    assert_eq!(table.query(&prefix).await.unwrap().len(), 120);
    // A condition SQL cannot narrow scans, and the re-check still decides.
    let plan = table.explain(&Condition::eq("year", s("1987")).not()).await.unwrap().join("\n");
    assert!(plan.starts_with("SCAN"), "{plan}");
}

/// A document path into a signed map (`meta`, which has no column) is decided by the
/// plaintext re-check; SQL still narrows on the beacon beside it; into an encrypted attribute it
/// is refused.
#[tokio::test]
async fn document_paths_into_signed_maps_are_answered_exactly() {
    use envelope_dbe::search::{CompareOp, Condition, DocumentPath, Operand, PathStep};
    let config = people_config().action("meta", CryptoAction::SignOnly);
    let table = people_table_with(config, Connection::open_in_memory().unwrap(), 16, None);
    let people: Vec<Item> = (0..24)
        .map(|i| {
            let mut item = person(i);
            let meta = BTreeMap::from([
                ("tier".to_owned(), V::N((i % 3).to_string())),
                ("tags".to_owned(), V::L(vec![s(CITIES[i % 4])])),
            ]);
            item.insert("meta".into(), V::M(meta));
            item
        })
        .collect();
    table.put_all(&people).await.unwrap();
    let tier = || Operand::Path(DocumentPath::new("meta", [PathStep::key("tier")]));
    let first_tag = || Operand::Path(DocumentPath::new("meta", [PathStep::key("tags"), PathStep::Index(0)]));

    let found =
        table.query(&Condition::Compare(tier(), CompareOp::Ge, Operand::Value(V::N("2".into())))).await.unwrap();
    assert_eq!(ids(&found), expected(|i| i % 3 == 2, 24));
    let both = Condition::eq("city", s("Lima")).and(Condition::Compare(
        tier(),
        CompareOp::Eq,
        Operand::Value(V::N("0".into())),
    ));
    assert_eq!(ids(&table.query(&both).await.unwrap()), expected(|i| i % 4 == 3 && i % 3 == 0, 24));
    // The beacon still narrows in SQL (its index), the path is left to the re-check.
    assert!(
        table.explain(&both).await.unwrap().iter().any(|line| line.contains("INDEX")),
        "{:?}",
        table.explain(&both).await
    );
    let tagged = Condition::BeginsWith(first_tag(), Operand::Value(s("L")));
    assert_eq!(ids(&table.query(&tagged).await.unwrap()), expected(|i| CITIES[i % 4].starts_with('L'), 24));

    let into_secret = Condition::Compare(
        Operand::Path(DocumentPath::new("secret", [PathStep::Index(0)])),
        CompareOp::Eq,
        Operand::Value(s("x")),
    );
    let error = table.query(&into_secret).await.unwrap_err();
    assert!(
        matches!(error, TableError::Search(SearchError::EncryptedWithoutBeacon(ref n)) if n == "secret"),
        "{error:?}"
    );
}
