//! The encrypted SQLite table: items round-trip through rows, rows hold DB-ESDK items, edits to
//! a stored row are typed errors, and two connections share one file in WAL mode.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use envelope::DefaultMaterialsManager;
use envelope_dbe::item::{decrypt_item, AttributeValue as V, CryptoAction, Item, ItemError, TableConfig};
use envelope_dbe::sqlite::{open_database, EncryptedTable, TableError, ITEM_COLUMN};
use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
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
