//! [`EncryptedTable`]: a DB-ESDK table kept in SQLite.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use envelope::{AlgorithmSuite, MaterialsManager};
use rusqlite::Connection;
use rusqlite::types::Value;

use super::error::TableError;
use super::render::{Filter, render};
use super::rows;
use super::schema::TableSchema;
use crate::beacon::{BeaconKeySource, BeaconVersionConfig};
use crate::item::{Item, TableConfig};
use crate::search::{BeaconQuery, Condition, SearchableTable};

fn render_or(parts: Vec<Filter>) -> Option<Filter> {
    if parts.len() == 1 {
        return parts.into_iter().next();
    }
    let mut params: Vec<Value> = Vec::new();
    let mut texts = Vec::with_capacity(parts.len());
    for part in parts {
        texts.push(format!("({})", part.sql));
        params.extend(part.params);
    }
    Some(Filter { sql: texts.join(" OR "), params })
}

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if missing) a SQLite file for encrypted tables: write-ahead logging, so
/// readers and one writer on other connections proceed together, and a busy timeout.
///
/// ```
/// use envelope_dbe::sqlite::open_database;
///
/// let path = std::env::temp_dir().join(format!("envelope-doc-open-{}.sqlite3", std::process::id()));
/// let connection = open_database(&path)?; // created if missing, in WAL mode
/// let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
/// assert_eq!(mode, "wal");
/// # drop(connection);
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok::<(), envelope_dbe::sqlite::TableError>(())
/// ```
pub fn open_database(path: impl AsRef<Path>) -> Result<Connection, TableError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(TableError::NotWal(mode));
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(connection)
}

/// A table of encrypted items in SQLite, one row per item.
///
/// Each row holds the item exactly as the DB-ESDK stores it (header, footer, ciphertexts,
/// beacons) in the `aws_dbe_item` column, plus copies of what SQL needs to find rows: the
/// primary key columns, one indexed column per scalar beacon, and a plain column per signed
/// plaintext attribute (so `SELECT ... WHERE "Status" = 'open'` works without keys). Set beacons
/// keep one row per value in the side table `<table>#aws_dbe_set_beacons` (written in the same
/// transaction as the item; created and filled from the rows when a table without it is
/// opened). Every row read is checked against its item, and every item returned has been
/// verified and decrypted.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use envelope::DefaultMaterialsManager;
/// use envelope_dbe::item::{AttributeValue, CryptoAction, Item, TableConfig};
/// use envelope_dbe::sqlite::EncryptedTable;
/// use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};
///
/// // A hierarchical keyring over one static branch key (the DB-ESDK suites need one).
/// let secret = BranchKeySecret::from_slice(&[7u8; 32])?;
/// let mut store = StaticKeyStore::new("example");
/// store.add_branch_key(BranchKeyMaterials::new("orders", "5f8d2c1e-0b3a-4c7d-9e6f-1a2b3c4d5e6f", Default::default(), secret)?, true)?;
/// let keyring = HierarchicalKeyring::builder(store)
///     .branch_key_id("orders")
///     .ttl(std::time::Duration::from_secs(60))
///     .build()?;
/// let cmm = Arc::new(DefaultMaterialsManager::new(keyring));
/// let config = TableConfig::new("Orders", "OrderId")
///     .action("OrderId", CryptoAction::SignOnly)
///     .action("Card", CryptoAction::EncryptAndSign);
/// let table = EncryptedTable::builder(config, cmm).create(rusqlite::Connection::open_in_memory()?)?;
///
/// let item: Item = [
///     ("OrderId".to_owned(), AttributeValue::S("o-1".into())),
///     ("Card".to_owned(), AttributeValue::S("4111-1111".into())),
/// ].into();
/// table.put(&item).await?;
/// let key: Item = [("OrderId".to_owned(), AttributeValue::S("o-1".into()))].into();
/// assert_eq!(table.get(&key).await?, Some(item.clone()));
/// assert_eq!(table.sql_table_name(), "Orders");
///
/// // Export and import the stored form (what the DB-ESDK reads and writes), unverified here.
/// let stored = table.get_stored(&key)?.expect("just written");
/// assert!(stored.contains_key("aws_dbe_head") && stored["Card"] != item["Card"]);
/// assert!(table.delete(&key)?);
/// table.put_stored(&stored)?;
///
/// // Several items in one transaction; then every item, verified and decrypted.
/// let second: Item = [("OrderId".to_owned(), AttributeValue::S("o-2".into()))].into();
/// table.put_all(&[second]).await?;
/// assert_eq!(table.scan().await?.len(), 2);
///
/// // How SQLite runs a query (here: by the primary key's index, not a full scan).
/// use envelope_dbe::search::Condition;
/// let plan = table.explain(&Condition::eq("OrderId", AttributeValue::S("o-1".into()))).await?;
/// println!("{plan:?}");
/// # Ok(())
/// # }
/// ```
pub struct EncryptedTable {
    connection: Mutex<Connection>,
    schema: TableSchema,
    search: SearchableTable,
}

impl std::fmt::Debug for EncryptedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedTable")
            .field("table", &self.schema.name)
            .field("logical_table_name", &self.search.config().logical_table_name)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`EncryptedTable`] before it is bound to a connection.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::{sync::Arc, time::Duration};
/// use envelope::{AlgorithmSuite, DefaultMaterialsManager};
/// use envelope_dbe::beacon::{BeaconKeySource, BeaconVersionConfig, SingleKeySource, StandardBeacon};
/// use envelope_dbe::item::{CryptoAction, TableConfig};
/// use envelope_dbe::sqlite::{open_database, EncryptedTable};
/// use envelope_keyrings::hierarchy::*;
///
/// let mut store = StaticKeyStore::new("example");
/// let secret = || BranchKeySecret::from_slice(&[7; 32]);
/// store.add_branch_key(BranchKeyMaterials::new("b", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", Default::default(), secret()?)?, true)?;
/// store.add_beacon_key(BeaconKeyMaterials::new("b", Default::default(), secret()?));
/// let store = Arc::new(store);
/// let keyring = HierarchicalKeyring::builder(Arc::clone(&store)).branch_key_id("b").ttl(Duration::from_secs(60)).build()?;
///
/// let config = TableConfig::new("People", "Id")
///     .action("Id", CryptoAction::SignOnly)
///     .action("Email", CryptoAction::EncryptAndSign);
/// let beacons = BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("Email", 8)?], ..Default::default() };
/// # let path = std::env::temp_dir().join(format!("envelope-doc-people-{}.sqlite3", std::process::id()));
/// let table = EncryptedTable::builder(config, Arc::new(DefaultMaterialsManager::new(keyring)))
///     .sql_table_name("people_v1")
///     .suite(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384) // ECDSA-signed items
///     .beacons(beacons, BeaconKeySource::Single(SingleKeySource::new(store, "b", Duration::from_secs(60))))
///     .create(open_database(&path)?)?; // creates the table and a beacon index if missing
/// assert_eq!(table.sql_table_name(), "people_v1");
/// # drop(table);
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok(())
/// # }
/// ```
pub struct EncryptedTableBuilder {
    config: TableConfig,
    cmm: Arc<dyn MaterialsManager>,
    suite: AlgorithmSuite,
    sql_name: Option<String>,
    beacons: Option<(BeaconVersionConfig, BeaconKeySource)>,
}

impl EncryptedTableBuilder {
    /// The SQLite table name (default: the config's logical table name).
    pub fn sql_table_name(mut self, name: impl Into<String>) -> Self {
        self.sql_name = Some(name.into());
        self
    }

    /// The suite items are written under (default 0x6700, HMAC-signed).
    pub fn suite(mut self, suite: AlgorithmSuite) -> Self {
        self.suite = suite;
        self
    }

    /// Adds beacons (checked against the config's actions), their keys from `source`: each gets
    /// an indexed column (a set beacon: rows in the side table), and [`EncryptedTable::query`]
    /// can search on them.
    pub fn beacons(mut self, beacons: BeaconVersionConfig, source: BeaconKeySource) -> Self {
        self.beacons = Some((beacons, source));
        self
    }

    /// Creates the table and its indexes on `connection` if they are missing, and checks that
    /// an existing table has every column the config needs.
    pub fn create(self, mut connection: Connection) -> Result<EncryptedTable, TableError> {
        let name = self.sql_name.unwrap_or_else(|| self.config.logical_table_name.clone());
        let mut search = SearchableTable::new(self.config, self.cmm, self.suite);
        if let Some((beacons, source)) = self.beacons {
            search = search.with_beacons(beacons, source)?;
        }
        let schema = TableSchema::new(&name, search.config(), search.beacon_version())?;
        schema.create(&mut connection)?;
        tracing::debug!(table = schema.name, beacons = schema.beacons.len(), "encrypted SQLite table ready");
        Ok(EncryptedTable { connection: Mutex::new(connection), schema, search })
    }
}

impl EncryptedTable {
    /// Starts a table over `config`, encrypting and decrypting through `cmm`.
    pub fn builder(config: TableConfig, cmm: Arc<dyn MaterialsManager>) -> EncryptedTableBuilder {
        EncryptedTableBuilder {
            config,
            cmm,
            suite: AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
            sql_name: None,
            beacons: None,
        }
    }

    /// The SQLite table name.
    pub fn sql_table_name(&self) -> &str {
        &self.schema.name
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written row (SQLite statements are
        // atomic), so a poisoned lock is still usable.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Encrypts `item` and writes it, replacing any item with the same primary key.
    pub async fn put(&self, item: &Item) -> Result<(), TableError> {
        rows::key_of(&self.schema, item)?;
        let stored = self.search.encrypt_for_write(item).await?;
        self.put_stored(&stored)
    }

    /// Encrypts `items` and writes them in one transaction (all or none).
    pub async fn put_all(&self, items: &[Item]) -> Result<(), TableError> {
        let mut stored = Vec::with_capacity(items.len());
        for item in items {
            rows::key_of(&self.schema, item)?;
            stored.push(self.search.encrypt_for_write(item).await?);
        }
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        for item in &stored {
            rows::upsert(&transaction, &self.schema, item)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Writes an item already in the DB-ESDK format (from another SDK, or an export) as it is.
    /// It is not verified here; reads verify it.
    pub fn put_stored(&self, stored: &Item) -> Result<(), TableError> {
        // One transaction: the row and its set beacon rows change together.
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        rows::upsert(&transaction, &self.schema, stored)?;
        transaction.commit()?;
        Ok(())
    }

    /// The item with the primary key attributes of `key`, verified and decrypted.
    pub async fn get(&self, key: &Item) -> Result<Option<Item>, TableError> {
        match self.get_stored(key)? {
            Some(stored) => Ok(Some(self.decrypt(&stored).await?)),
            None => Ok(None),
        }
    }

    /// The item with the primary key of `key` exactly as stored (for export: its DynamoDB JSON is
    /// what the DB-ESDK reads). Not decrypted or verified.
    pub fn get_stored(&self, key: &Item) -> Result<Option<Item>, TableError> {
        let values = rows::key_of(&self.schema, key)?;
        rows::get(&self.lock(), &self.schema, values)
    }

    /// Deletes the item with the primary key of `key`; whether there was one.
    pub fn delete(&self, key: &Item) -> Result<bool, TableError> {
        let values = rows::key_of(&self.schema, key)?;
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let deleted = rows::delete(&transaction, &self.schema, values)?;
        transaction.commit()?;
        Ok(deleted)
    }

    /// Every item of the table, verified and decrypted (a full scan).
    pub async fn scan(&self) -> Result<Vec<Item>, TableError> {
        let stored = rows::select(&self.lock(), &self.schema, "", Vec::new())?;
        let mut out = Vec::with_capacity(stored.len());
        for item in &stored {
            out.push(self.decrypt(item).await?);
        }
        Ok(out)
    }

    /// The items matching `query`, verified and decrypted.
    ///
    /// The query is rewritten onto beacons (a condition the beacons cannot answer is a
    /// [`TableError::Search`] naming it), run as SQL on the beacon and plaintext columns, and
    /// every row found is decrypted and re-checked on plaintext: beacon collisions are dropped.
    /// Equality and IN on any beacon, `begins_with` and ranges on compound beacons and string
    /// columns, and `contains` on set beacons (through the side table) use indexes; a number
    /// range on a signed column narrows the rows with a slightly widened comparison of doubles;
    /// what SQL cannot narrow is decided by the re-check alone (a full scan).
    ///
    /// ```no_run
    /// # async fn example(table: envelope_dbe::sqlite::EncryptedTable) -> Result<(), envelope_dbe::sqlite::TableError> {
    /// use envelope_dbe::item::AttributeValue as V;
    /// use envelope_dbe::search::Condition;
    ///
    /// let open_in_may = Condition::eq("Status", V::S("open".into()))
    ///     .and(Condition::begins_with("ByDate", V::S("D_2026-05".into())));
    /// for item in table.query(&open_in_may).await? {
    ///     println!("{:?}", item.get("OrderId"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn query(&self, query: &Condition) -> Result<Vec<Item>, TableError> {
        let translated = self.search.translate(query).await?;
        let filter = self.filter(&translated);
        let (sql, params) = filter.map(|f| (f.sql, f.params)).unwrap_or_default();
        if sql.is_empty() {
            tracing::debug!(table = self.schema.name, "query narrows no column: full scan");
        }
        let stored = rows::select(&self.lock(), &self.schema, &sql, params)?;
        let mut out = Vec::new();
        for item in &stored {
            let Some(plain) = self.search.read_matching(&translated, item).await? else { continue };
            // Without beacons the search core trusts the database's own evaluation; the SQL
            // here may select more than the query, so check every result.
            if translated.uses_beacons || self.search.recheck(query, &plain)? {
                out.push(plain);
            }
        }
        tracing::debug!(table = self.schema.name, candidates = stored.len(), matches = out.len(), "query");
        Ok(out)
    }

    /// SQLite's plan for `query` (`EXPLAIN QUERY PLAN` detail lines): shows which index a
    /// query uses, or `SCAN` for a full scan.
    pub async fn explain(&self, query: &Condition) -> Result<Vec<String>, TableError> {
        let translated = self.search.translate(query).await?;
        let (sql, params) = self.filter(&translated).map(|f| (f.sql, f.params)).unwrap_or_default();
        rows::explain(&self.lock(), &self.schema, &sql, params)
    }

    /// The SQL filter of a translated query: the partitions' conditions joined by OR (each
    /// partition's beacons differ); `None` when any of them cannot narrow the rows.
    fn filter(&self, query: &BeaconQuery) -> Option<Filter> {
        let mut parts = Vec::with_capacity(query.partitions.len());
        for partition in &query.partitions {
            parts.push(render(&self.schema, partition.as_ref()?)?);
        }
        render_or(parts)
    }

    async fn decrypt(&self, stored: &Item) -> Result<Item, TableError> {
        Ok(self.search.decrypt_read(stored).await?)
    }
}
