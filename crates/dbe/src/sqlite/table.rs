//! [`EncryptedTable`]: a DB-ESDK table kept in SQLite.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use envelope::{AlgorithmSuite, MaterialsManager};
use rusqlite::Connection;

use super::error::TableError;
use super::rows;
use super::schema::TableSchema;
use crate::item::{decrypt_item, encrypt_item, Item, TableConfig};

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if missing) a SQLite file for encrypted tables: write-ahead logging, so
/// readers and one writer on other connections proceed together, and a busy timeout.
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
/// primary key columns, one indexed column per beacon, and a plain column per signed plaintext
/// attribute (so `SELECT ... WHERE "Status" = 'open'` works without keys). Every row read is
/// checked against its item, and every item returned has been verified and decrypted.
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
/// assert_eq!(table.get(&key).await?, Some(item));
/// # Ok(())
/// # }
/// ```
pub struct EncryptedTable {
    connection: Mutex<Connection>,
    schema: TableSchema,
    config: TableConfig,
    cmm: Arc<dyn MaterialsManager>,
    suite: AlgorithmSuite,
}

impl std::fmt::Debug for EncryptedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedTable")
            .field("table", &self.schema.name)
            .field("logical_table_name", &self.config.logical_table_name)
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`EncryptedTable`] before it is bound to a connection.
pub struct EncryptedTableBuilder {
    config: TableConfig,
    cmm: Arc<dyn MaterialsManager>,
    suite: AlgorithmSuite,
    sql_name: Option<String>,
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

    /// Creates the table and its indexes on `connection` if they are missing, and checks that
    /// an existing table has every column the config needs.
    pub fn create(self, mut connection: Connection) -> Result<EncryptedTable, TableError> {
        let name = self.sql_name.as_deref().unwrap_or(&self.config.logical_table_name);
        let schema = TableSchema::new(name, &self.config, None)?;
        schema.create(&mut connection)?;
        tracing::debug!(table = schema.name, "encrypted SQLite table ready");
        Ok(EncryptedTable {
            connection: Mutex::new(connection),
            schema,
            config: self.config,
            cmm: self.cmm,
            suite: self.suite,
        })
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
        let stored = encrypt_item(self.cmm.as_ref(), &self.config, item, self.suite).await?;
        self.put_stored(&stored)
    }

    /// Writes an item already in the DB-ESDK format (from another SDK, or an export) as it is.
    /// It is not verified here; reads verify it.
    pub fn put_stored(&self, stored: &Item) -> Result<(), TableError> {
        rows::upsert(&self.lock(), &self.schema, stored)
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
        rows::delete(&self.lock(), &self.schema, values)
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

    async fn decrypt(&self, stored: &Item) -> Result<Item, TableError> {
        Ok(decrypt_item(self.cmm.as_ref(), &self.config, stored).await?)
    }
}
