//! An encrypted, searchable SQLite table in a few lines, offline.
//!
//! Orders are written with their card number encrypted and a beacon on the customer's email;
//! the example then finds an order by email (the database matches beacons, envelope re-checks
//! the plaintext), reads one by key, shows that the signed `Status` column answers plain SQL,
//! and exports a row as DynamoDB JSON, the form any DB-ESDK decrypts.
//!
//! Keys: a hierarchical keyring over one branch key made up for the run (in memory only). In an
//! application the branch key comes from a key store (`envelope keystore create-key`) whose
//! records KMS protects.
//!
//! Run: `cargo run -p envelope-dbe --example sqlite_quickstart`

use std::sync::Arc;
use std::time::Duration;

use envelope::DefaultMaterialsManager;
use envelope_dbe::beacon::{
    BeaconKeySource, BeaconVersionConfig, CompoundBeacon, SignedPart, SingleKeySource, StandardBeacon,
};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig, item_to_json};
use envelope_dbe::search::Condition;
use envelope_dbe::sqlite::{EncryptedTable, open_database};
use envelope_keyrings::hierarchy::{HierarchicalKeyring, KeyStore, StaticKeyStore};

const BRANCH_KEY_ID: &str = "orders-branch-key";

/// A key store holding one random branch key and its beacon key, for this run only.
fn key_store() -> Result<Arc<StaticKeyStore>, Box<dyn std::error::Error>> {
    let mut store = StaticKeyStore::new("quickstart");
    store.add_random_key(BRANCH_KEY_ID)?;
    Ok(Arc::new(store))
}

fn order(id: &str, email: &str, card: &str, status: &str, date: &str) -> Item {
    [("OrderId", id), ("Email", email), ("Card", card), ("Status", status), ("Date", date)]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), V::S(value.to_owned())))
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = key_store()?;
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id(BRANCH_KEY_ID)
        .ttl(Duration::from_secs(300))
        .build()?;
    let cmm = Arc::new(DefaultMaterialsManager::new(keyring));

    // What is encrypted, what is only signed, and what the database may match on.
    let config = TableConfig::new("Orders", "OrderId")
        .action("OrderId", CryptoAction::SignOnly)
        .action("Email", CryptoAction::EncryptAndSign)
        .action("Card", CryptoAction::EncryptAndSign)
        .action("Status", CryptoAction::SignOnly)
        .action("Date", CryptoAction::SignOnly);
    let beacons = BeaconVersionConfig {
        version: 1,
        // 8 bits: few enough values that the beacon does not single out an email.
        standard_beacons: vec![StandardBeacon::new("Email", 8)?],
        // A signed beacon "D_<date>" for date ranges and prefixes.
        compound_beacons: vec![CompoundBeacon::new("ByDate", '.').with_signed(vec![SignedPart::new("Date", "D_")?])],
        ..Default::default()
    };
    let source = SingleKeySource::new(store as Arc<dyn KeyStore>, BRANCH_KEY_ID, Duration::from_secs(300));

    let dir = std::env::temp_dir().join(format!("envelope-sqlite-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("orders.db");
    let table = EncryptedTable::builder(config, cmm)
        .beacons(beacons, BeaconKeySource::Single(source))
        .create(open_database(&path)?)?;

    table
        .put_all(&[
            order("o-1", "ana@example.com", "4111-1111-1111-1111", "open", "2026-05-02"),
            order("o-2", "bo@example.com", "5500-0000-0000-0004", "shipped", "2026-05-17"),
            order("o-3", "ana@example.com", "3400-0000-0000-009", "open", "2026-06-01"),
        ])
        .await?;

    let by_email = table.query(&Condition::eq("Email", V::S("ana@example.com".into()))).await?;
    println!("orders of ana@example.com: {}", by_email.len());
    let in_may = table.query(&Condition::begins_with("ByDate", V::S("D_2026-05".into()))).await?;
    println!("orders in May 2026: {}", in_may.len());

    let key: Item = [("OrderId".to_owned(), V::S("o-2".into()))].into();
    if let Some(item) = table.get(&key).await? {
        println!("o-2 card (decrypted): {:?}", item["Card"]);
    }

    // Signed attributes are plain columns: SQL reads them without keys. The card is not there.
    let plain = envelope_dbe::sqlite::rusqlite::Connection::open(&path)?;
    let open: i64 = plain.query_row("SELECT count(*) FROM Orders WHERE Status = 'open'", [], |row| row.get(0))?;
    println!("open orders, by plain SQL: {open}");

    // The row as DynamoDB JSON: what the official DB-ESDK reads back.
    if let Some(stored) = table.get_stored(&key)? {
        let json = serde_json::to_string(&item_to_json(&stored))?;
        println!("o-2 as stored (DynamoDB JSON, {} bytes): {}…", json.len(), &json[..json.len().min(120)]);
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
