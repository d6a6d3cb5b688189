//! The embedded key store: one SQLite file, safe to share between processes.
//!
//! - One row per item: (`branch-key-id`, `type`) is the primary key, and the whole item is kept in
//!   DynamoDB's JSON form ([`crate::ddb_json`]), the same attributes a DynamoDB table holds.
//! - WAL with `synchronous=FULL`: a committed CreateKey or VersionKey survives a crash or a
//!   `kill -9`; an interrupted one leaves nothing (each is one transaction).
//! - Conditional writes run in `BEGIN IMMEDIATE` transactions: SQLite's write lock excludes every
//!   other writer, in this process or another, between the check and the write. So two rotations
//!   racing on one branch key cannot both replace the ACTIVE item, and a branch key id is never
//!   written twice.
//! - The file is recognized by its `application_id`; opening anything else fails instead of
//!   writing tables into an unrelated database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::ddb_json;
use crate::item::{ACTIVE_TYPE, AttributeValue, BRANCH_KEY_ID, ENC, RawItem, TYPE};
use crate::storage::{KeyStorage, StorageError};

/// `PRAGMA application_id` of a key-store file ("enks").
const APPLICATION_ID: i32 = 0x656e_6b73;
/// `PRAGMA user_version`: the schema below.
const SCHEMA_VERSION: i32 = 1;
/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS branch_key_items (
    branch_key_id TEXT NOT NULL,
    type TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (branch_key_id, type)
) WITHOUT ROWID";

/// A key store in a SQLite file.
///
/// The backend alone keeps items and needs no KMS; [`BranchKeyStore`](crate::BranchKeyStore) puts
/// KMS-protected keys into it.
///
/// ```
/// use envelope_keystore::{KeyStorage, SqliteStorage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join(format!("envelope-doc-sqlite-{}.sqlite3", std::process::id()));
/// let storage = SqliteStorage::new(&path);
/// assert_eq!(storage.create().await?, path.display().to_string());
/// assert!(storage.get_item("tenant-a", "branch:ACTIVE").await?.is_none());
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    path: PathBuf,
    display: String,
    /// Opened on first use; `None` until then (creating a `SqliteStorage` touches no file).
    connection: Arc<Mutex<Option<Connection>>>,
}

impl SqliteStorage {
    /// A store at `path`. Nothing is opened or created until the first call; [`KeyStorage::create`]
    /// creates the file, every other call needs it to exist.
    pub fn new(path: impl Into<PathBuf>) -> SqliteStorage {
        let path = path.into();
        let display = path.display().to_string();
        SqliteStorage { path, display, connection: Arc::new(Mutex::new(None)) }
    }

    /// The file.
    ///
    /// ```
    /// use std::path::Path;
    /// use envelope_keystore::SqliteStorage;
    ///
    /// assert_eq!(SqliteStorage::new("keys.sqlite3").path(), Path::new("keys.sqlite3"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the connection, on the blocking pool (SQLite may wait for another process's
    /// lock; that must not stall the async runtime).
    async fn with_connection<T, F>(&self, create: bool, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let slot = Arc::clone(&self.connection);
        let path = self.path.clone();
        let display = self.display.clone();
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-call; SQLite rolled back whatever it did.
            let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if guard.is_none() {
                *guard = Some(open(&path, &display, create)?);
            }
            match guard.as_mut() {
                Some(connection) => work(connection),
                None => Err(StorageError::Backend(format!("key store {display}: no connection"))),
            }
        })
        .await
        .map_err(|e| StorageError::Backend(format!("key store {}: the SQLite worker failed: {e}", self.display)))?
    }
}

fn backend(display: &str, what: &str, error: rusqlite::Error) -> StorageError {
    StorageError::Backend(format!("key store {display}: {what}: {error}"))
}

/// Opens (and with `create`, creates) the file, and checks that it is a key store.
fn open(path: &Path, display: &str, create: bool) -> Result<Connection, StorageError> {
    if !create && !path.exists() {
        return Err(StorageError::NoSuchStore { store: format!("{display} (no such file)") });
    }
    if create {
        create_private_file(path).map_err(|e| StorageError::Backend(format!("key store {display}: {e}")))?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let mut connection = Connection::open_with_flags(path, flags).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::CannotOpen => {
            StorageError::NoSuchStore { store: format!("{display} (cannot open it)") }
        }
        other => backend(display, "cannot open", other),
    })?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(|e| backend(display, "busy_timeout", e))?;
    connection.pragma_update(None, "synchronous", "FULL").map_err(|e| backend(display, "synchronous", e))?;
    if create {
        // WAL is a property of the file; setting it needs no transaction to be open.
        let mode: String = connection
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| backend(display, "journal_mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Backend(format!("key store {display}: SQLite refused WAL mode ({mode})")));
        }
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend(display, "begin", e))?;
        let application_id: i32 =
            tx.query_row("PRAGMA application_id", [], |row| row.get(0)).map_err(|e| backend(display, "read", e))?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |row| row.get(0))
            .map_err(|e| backend(display, "read", e))?;
        if application_id == 0 && tables == 0 {
            tx.execute_batch(SCHEMA).map_err(|e| backend(display, "create the schema", e))?;
            tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| backend(display, "create", e))?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| backend(display, "create", e))?;
        }
        tx.commit().map_err(|e| backend(display, "commit", e))?;
    }
    check_schema(&connection, display)?;
    Ok(connection)
}

fn check_schema(connection: &Connection, display: &str) -> Result<(), StorageError> {
    let application_id: i32 =
        connection.query_row("PRAGMA application_id", [], |row| row.get(0)).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::NotADatabase => {
                StorageError::NoSuchStore { store: format!("{display} (not a SQLite database)") }
            }
            other => backend(display, "read", other),
        })?;
    let version: i32 =
        connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| backend(display, "read", e))?;
    if application_id != APPLICATION_ID {
        return Err(StorageError::NoSuchStore {
            store: format!("{display} (a SQLite database, but not an envelope key store)"),
        });
    }
    if version != SCHEMA_VERSION {
        return Err(StorageError::Backend(format!(
            "key store {display}: schema version {version}, this build reads version {SCHEMA_VERSION}"
        )));
    }
    Ok(())
}

/// Creates `path` readable by its owner only, unless it exists. The store holds no plaintext key
/// material, but which branch keys exist and under which KMS keys is nobody else's business.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

fn encode(item: &RawItem, display: &str) -> Result<(String, String, String), StorageError> {
    let key = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(StorageError::Backend(format!("key store {display}: an item to write has no string {name:?}"))),
    };
    Ok((key(BRANCH_KEY_ID)?, key(TYPE)?, ddb_json::to_json(item).to_string()))
}

fn decode(text: &str, display: &str) -> Result<RawItem, StorageError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| StorageError::Backend(format!("key store {display}: an item is not JSON: {e}")))?;
    ddb_json::from_json(&value).map_err(|e| StorageError::Backend(format!("key store {display}: {e}")))
}

fn insert(tx: &rusqlite::Transaction<'_>, item: &RawItem, display: &str) -> Result<(), StorageError> {
    let (id, item_type, json) = encode(item, display)?;
    tx.execute(
        "INSERT INTO branch_key_items (branch_key_id, type, item) VALUES (?1, ?2, ?3)",
        params![id, item_type, json],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::ConstraintViolation => {
            StorageError::Conflict(format!("item ({id}, {item_type}) already exists"))
        }
        other => backend(display, "insert", other),
    })?;
    Ok(())
}

#[async_trait]
impl KeyStorage for SqliteStorage {
    fn name(&self) -> &str {
        &self.display
    }

    async fn create(&self) -> Result<String, StorageError> {
        let display = self.display.clone();
        // Opening with `create` makes the file and schema (or checks an existing one).
        self.with_connection(true, move |_| Ok(display)).await
    }

    async fn get_item(&self, branch_key_id: &str, item_type: &str) -> Result<Option<RawItem>, StorageError> {
        let (id, item_type, display) = (branch_key_id.to_owned(), item_type.to_owned(), self.display.clone());
        self.with_connection(false, move |connection| {
            let text: Option<String> = connection
                .query_row(
                    "SELECT item FROM branch_key_items WHERE branch_key_id = ?1 AND type = ?2",
                    params![id, item_type],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| backend(&display, "read", e))?;
            text.map(|text| decode(&text, &display)).transpose()
        })
        .await
    }

    async fn write_new_key(&self, version: RawItem, active: RawItem, beacon: RawItem) -> Result<(), StorageError> {
        let display = self.display.clone();
        self.with_connection(false, move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| backend(&display, "begin", e))?;
            for item in [&version, &active, &beacon] {
                insert(&tx, item, &display)?;
            }
            tx.commit().map_err(|e| backend(&display, "commit", e))
        })
        .await
    }

    async fn write_new_version(
        &self,
        version: RawItem,
        active: RawItem,
        expected_active_enc: &[u8],
    ) -> Result<(), StorageError> {
        let display = self.display.clone();
        let expected = expected_active_enc.to_vec();
        self.with_connection(false, move |connection| {
            let (id, _, active_json) = encode(&active, &display)?;
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| backend(&display, "begin", e))?;
            // The check and the write under one write lock: the condition DynamoDB evaluates
            // as `attribute_exists(branch-key-id) AND enc = :encOld`.
            let current: Option<String> = tx
                .query_row(
                    "SELECT item FROM branch_key_items WHERE branch_key_id = ?1 AND type = ?2",
                    params![id, ACTIVE_TYPE],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| backend(&display, "read", e))?;
            let Some(current) = current else {
                return Err(StorageError::Conflict(format!("the {ACTIVE_TYPE} item of {id} no longer exists")));
            };
            let current_enc = match decode(&current, &display)?.get(ENC) {
                Some(AttributeValue::B(enc)) => enc.clone(),
                _ => Vec::new(),
            };
            if current_enc != expected {
                return Err(StorageError::Conflict(format!(
                    "the {ACTIVE_TYPE} item of {id} changed since it was read (another VersionKey won)"
                )));
            }
            insert(&tx, &version, &display)?;
            tx.execute(
                "UPDATE branch_key_items SET item = ?1 WHERE branch_key_id = ?2 AND type = ?3",
                params![active_json, id, ACTIVE_TYPE],
            )
            .map_err(|e| backend(&display, "update", e))?;
            tx.commit().map_err(|e| backend(&display, "commit", e))
        })
        .await
    }

    async fn list_items(&self, branch_key_id: &str) -> Result<Vec<RawItem>, StorageError> {
        let (id, display) = (branch_key_id.to_owned(), self.display.clone());
        self.with_connection(false, move |connection| {
            let mut statement = connection
                .prepare("SELECT item FROM branch_key_items WHERE branch_key_id = ?1 ORDER BY type")
                .map_err(|e| backend(&display, "read", e))?;
            let rows = statement
                .query_map(params![id], |row| row.get::<_, String>(0))
                .map_err(|e| backend(&display, "read", e))?;
            let mut items = Vec::new();
            for row in rows {
                items.push(decode(&row.map_err(|e| backend(&display, "read", e))?, &display)?);
            }
            Ok(items)
        })
        .await
    }
}
