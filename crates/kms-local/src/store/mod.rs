//! SQLite persistence (WAL, `synchronous=FULL`): every key, material version, alias and grant
//! write commits before the request that caused it is answered, so an acknowledged write
//! survives `kill -9`. Key material is stored only sealed under the root key.
//!
//! Several processes may open one data directory at once (every CLI run embeds an emulator).
//! Every change runs in a `BEGIN IMMEDIATE` transaction that also increments the single-row
//! `generation` counter, so a process can tell, with one indexed read, whether anyone else
//! committed since it last loaded (see `state::Registry` and docs/ARCHITECTURE.md). Material rows
//! are only ever inserted (a version that exists is never overwritten, except by re-importing the
//! same external material) so no interleaving can replace one rotation's material with another's.

mod audit_sink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

pub(crate) use audit_sink::{AuditRecord, AuditSink, AuditSlot};

use crate::keys::Material;
use crate::model::{Alias, GrantRecord, Key, KeyMeta, MaterialInfo, MaterialVersion};
use crate::seal::RootKey;

/// Database file name inside the data directory.
pub(crate) const DB_FILE: &str = "kms.sqlite3";

/// Storage failures (all reported to clients as KMSInternalException).
///
/// ```
/// use envelope_kms_local::{StoreError, read_audit};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-store-error-{}", std::process::id()));
/// // No emulator ever ran here, so there is no database to read.
/// match read_audit(&dir, None, None, 10) {
///     Err(StoreError::Sql(error)) => println!("{error}"),
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored row does not parse.
    #[error("corrupt row in {0}")]
    Corrupt(String),
    /// Sealed material does not open under this root key.
    #[error("key material for {0} does not open under this root key (wrong root key?)")]
    Unseal(String),
    /// A write was attempted outside a write transaction (a bug, never silently allowed).
    #[error("write outside a write transaction")]
    NoTransaction,
    /// A write would have replaced material another writer stored (a bug; refused).
    #[error("material version {1} of {0} already exists and is not replaced")]
    MaterialExists(String, u32),
    /// Filesystem failure on the database file.
    #[error("database file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The open database: the connection that writes (and loads), with its transaction state.
pub(crate) struct Store {
    conn: Connection,
    root: Arc<RootKey>,
    in_write: bool,
    probe: Option<GenerationProbe>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// A second, read-only connection whose only job is the per-request "did anyone write?" check,
/// so that check never waits behind this process's own writer (which holds its lock across an
/// fsync).
pub(crate) struct GenerationProbe {
    conn: std::sync::Mutex<Connection>,
}

impl std::fmt::Debug for GenerationProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GenerationProbe")
    }
}

impl GenerationProbe {
    /// The generation last committed by any process.
    pub(crate) fn current(&self) -> Result<i64, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        read_generation(&conn)
    }
}

/// Everything loaded from one consistent snapshot.
pub(crate) struct Loaded {
    /// Keys.
    pub(crate) keys: Vec<Key>,
    /// Aliases.
    pub(crate) aliases: Vec<Alias>,
    /// Grants.
    pub(crate) grants: Vec<GrantRecord>,
    /// When usage tracking began (first start of this data directory).
    pub(crate) tracking_start: i64,
    /// The generation this snapshot reflects.
    pub(crate) generation: i64,
}

const MIGRATIONS: &[&str] = &[
    // v1
    "CREATE TABLE keys(arn TEXT PRIMARY KEY, meta TEXT NOT NULL);
     CREATE TABLE key_materials(arn TEXT NOT NULL, version INTEGER NOT NULL, info TEXT NOT NULL,
                                sealed BLOB NOT NULL, PRIMARY KEY(arn, version));
     CREATE TABLE aliases(arn TEXT PRIMARY KEY, json TEXT NOT NULL);
     CREATE TABLE grants(grant_id TEXT PRIMARY KEY, key_arn TEXT NOT NULL, json TEXT NOT NULL);
     CREATE TABLE audit_events(id INTEGER PRIMARY KEY, event_time INTEGER, key_arn TEXT, json TEXT,
                               event_name TEXT, ok INTEGER);
     CREATE INDEX audit_by_key ON audit_events(key_arn, id);
     CREATE TABLE settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v2: the change counter every write transaction increments.
    "CREATE TABLE generation(id INTEGER PRIMARY KEY CHECK (id = 0), value INTEGER NOT NULL);
     INSERT INTO generation(id, value) VALUES(0, 0);",
];

/// Path of the database in a data directory (a SQLite file; whether it exists tells whether an
/// emulator ever ran there).
///
/// ```
/// use envelope_kms_local::{Emulator, Settings, db_path};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-db-path-{}", std::process::id()));
/// assert!(!db_path(&dir).exists());
/// Emulator::open(&Settings::new(&dir))?.close();
/// assert!(db_path(&dir).starts_with(&dir) && db_path(&dir).exists());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    // Another process may hold the write lock for a commit (an fsync); wait for it.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn read_generation(conn: &Connection) -> Result<i64, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT value FROM generation WHERE id = 0")?;
    Ok(stmt.query_row([], |r| r.get(0))?)
}

/// Creates the database file owner-only before SQLite first opens it: SQLite gives its `-wal`
/// and `-shm` files the database file's permissions, so they are private too. An existing file
/// is narrowed to 0600.
fn prepare_private_file(path: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: path.display().to_string(), source };
    crate::private_fs::create_or_narrow_file(path).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        crate::private_fs::narrow_if_exists(&side).map_err(io)?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating and migrating) the database in `data_dir`. Safe while other processes
    /// open, migrate or write the same database.
    pub(crate) fn open(data_dir: &Path, root: RootKey) -> Result<Self, StoreError> {
        let path = db_path(data_dir);
        prepare_private_file(&path)?;
        let mut conn = open_conn(&path)?;
        {
            // The write lock first, then the version: two processes starting on a new directory
            // at once must not both run a migration.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            for sql in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(usize::MAX)) {
                tx.execute_batch(sql)?;
            }
            tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
            tx.execute(
                "INSERT OR IGNORE INTO settings(name, value) VALUES('tracking_start', ?1)",
                params![crate::model::now().to_string()],
            )?;
            tx.commit()?;
        }
        prepare_private_file(&path)?;
        let probe_conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        probe_conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Self {
            conn,
            root: Arc::new(root),
            in_write: false,
            probe: Some(GenerationProbe { conn: std::sync::Mutex::new(probe_conn) }),
        })
    }

    /// Hands over the read-only probe connection (once).
    pub(crate) fn take_probe(&mut self) -> Option<GenerationProbe> {
        self.probe.take()
    }

    /// Starts a write transaction, taking SQLite's write lock (waiting for another process's
    /// commit if needed), and returns the generation committed so far.
    pub(crate) fn begin_write(&mut self) -> Result<i64, StoreError> {
        self.rollback();
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_write = true;
        match read_generation(&self.conn) {
            Ok(g) => Ok(g),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// The generation committed so far (outside a transaction: the latest).
    pub(crate) fn generation(&self) -> Result<i64, StoreError> {
        read_generation(&self.conn)
    }

    /// True inside a write transaction.
    pub(crate) fn in_write(&self) -> bool {
        self.in_write
    }

    /// Increments the generation and commits; returns the new generation.
    pub(crate) fn commit(&mut self) -> Result<i64, StoreError> {
        if !self.in_write {
            return Err(StoreError::NoTransaction);
        }
        let result = (|| {
            self.conn.execute("UPDATE generation SET value = value + 1 WHERE id = 0", [])?;
            let g = read_generation(&self.conn)?;
            self.conn.execute_batch("COMMIT")?;
            Ok(g)
        })();
        if result.is_err() {
            self.rollback();
        }
        self.in_write = false;
        result
    }

    /// Abandons the write transaction, if one is open.
    pub(crate) fn rollback(&mut self) {
        if self.in_write || !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!("rollback failed: {e}");
            }
        }
        self.in_write = false;
    }

    fn writing(&self) -> Result<(), StoreError> {
        if self.in_write { Ok(()) } else { Err(StoreError::NoTransaction) }
    }

    /// Reads every record from one snapshot (the open write transaction's, else a read
    /// transaction of its own), unsealing material. `reuse` may return an already unsealed
    /// version with the same material id, which saves the AES-GCM open on reloads.
    pub(crate) fn load_with(
        &self,
        reuse: &dyn Fn(&str, &MaterialInfo) -> Option<Arc<MaterialVersion>>,
    ) -> Result<Loaded, StoreError> {
        let own_txn = self.conn.is_autocommit();
        if own_txn {
            self.conn.execute_batch("BEGIN")?;
        }
        let result = self.load_in_snapshot(reuse);
        if own_txn {
            // A read transaction: ending it cannot lose anything.
            let _ = self.conn.execute_batch("COMMIT");
        }
        result
    }

    /// Reads every record (startup).
    pub(crate) fn load(&self) -> Result<Loaded, StoreError> {
        self.load_with(&|_, _| None)
    }

    fn load_in_snapshot(
        &self,
        reuse: &dyn Fn(&str, &MaterialInfo) -> Option<Arc<MaterialVersion>>,
    ) -> Result<Loaded, StoreError> {
        let generation = read_generation(&self.conn)?;
        let mut keys: BTreeMap<String, Key> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached("SELECT arn, meta FROM keys")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (arn, meta) = row?;
            let meta: KeyMeta = serde_json::from_str(&meta).map_err(|_| StoreError::Corrupt(format!("keys/{arn}")))?;
            keys.insert(arn.clone(), Key { arn, meta, materials: BTreeMap::new() });
        }
        let mut stmt = self.conn.prepare_cached("SELECT arn, version, info, sealed FROM key_materials")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })?;
        for row in rows {
            let (arn, version, info, sealed) = row?;
            let Some(key) = keys.get_mut(&arn) else { continue };
            let version = u32::try_from(version).map_err(|_| StoreError::Corrupt(format!("key_materials/{arn}")))?;
            let info: MaterialInfo =
                serde_json::from_str(&info).map_err(|_| StoreError::Corrupt(format!("key_materials/{arn}")))?;
            let entry = match reuse(&arn, &info) {
                Some(known) => known,
                None => {
                    let secret = self
                        .root
                        .open(&material_label(&arn, version), &sealed)
                        .ok_or_else(|| StoreError::Unseal(arn.clone()))?;
                    let material = Material::from_secret(key.meta.key_spec, secret)
                        .map_err(|_| StoreError::Corrupt(format!("key_materials/{arn}")))?;
                    Arc::new(MaterialVersion { info, material })
                }
            };
            key.materials.insert(version, entry);
        }
        let aliases = self.load_json("SELECT json FROM aliases", "aliases")?;
        let grants = self.load_json("SELECT json FROM grants", "grants")?;
        let tracking_start = self
            .conn
            .query_row("SELECT value FROM settings WHERE name='tracking_start'", [], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(crate::model::now);
        Ok(Loaded { keys: keys.into_values().collect(), aliases, grants, tracking_start, generation })
    }

    fn load_json<T: serde::de::DeserializeOwned>(&self, sql: &str, table: &str) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?).map_err(|_| StoreError::Corrupt(table.into()))?);
        }
        Ok(out)
    }

    /// Writes a key's metadata and its material rows (inside a write transaction). `before` is
    /// the key as this transaction read it (`None` for a new key): versions it lacks are
    /// inserted (never replacing a row), versions it had and `key` lacks are deleted, and only
    /// re-imported external material replaces a version in place.
    pub(crate) fn put_key(&mut self, key: &Key, before: Option<&Key>) -> Result<(), StoreError> {
        self.writing()?;
        let meta = serde_json::to_string(&key.meta).map_err(|_| StoreError::Corrupt("keys".into()))?;
        match before {
            None => self.conn.execute("INSERT INTO keys(arn, meta) VALUES(?1, ?2)", params![key.arn, meta])?,
            Some(_) => self.conn.execute("UPDATE keys SET meta = ?2 WHERE arn = ?1", params![key.arn, meta])?,
        };
        for (v, m) in &key.materials {
            let old = before.and_then(|b| b.materials.get(v));
            if old.is_some_and(|o| Arc::ptr_eq(o, m)) {
                continue;
            }
            let info = serde_json::to_string(&m.info).map_err(|_| StoreError::Corrupt("key_materials".into()))?;
            let sealed = self.root.seal(&material_label(&key.arn, *v), m.material.secret().expose());
            match old {
                None => {
                    let inserted = self.conn.execute(
                        "INSERT OR IGNORE INTO key_materials(arn, version, info, sealed) VALUES(?1, ?2, ?3, ?4)",
                        params![key.arn, i64::from(*v), info, sealed],
                    )?;
                    if inserted == 0 {
                        return Err(StoreError::MaterialExists(key.arn.clone(), *v));
                    }
                }
                Some(_) if m.info.imported => {
                    self.conn.execute(
                        "UPDATE key_materials SET info = ?3, sealed = ?4 WHERE arn = ?1 AND version = ?2",
                        params![key.arn, i64::from(*v), info, sealed],
                    )?;
                }
                Some(_) => return Err(StoreError::MaterialExists(key.arn.clone(), *v)),
            }
        }
        if let Some(b) = before {
            for v in b.materials.keys().filter(|v| !key.materials.contains_key(v)) {
                self.conn.execute(
                    "DELETE FROM key_materials WHERE arn=?1 AND version=?2",
                    params![key.arn, i64::from(*v)],
                )?;
            }
        }
        Ok(())
    }

    /// Deletes a key and everything hanging off it (inside a write transaction).
    pub(crate) fn delete_key(&mut self, arn: &str) -> Result<(), StoreError> {
        self.writing()?;
        self.conn.execute("DELETE FROM keys WHERE arn=?1", params![arn])?;
        self.conn.execute("DELETE FROM key_materials WHERE arn=?1", params![arn])?;
        self.conn.execute("DELETE FROM grants WHERE key_arn=?1", params![arn])?;
        Ok(())
    }

    /// Inserts or replaces an alias (inside a write transaction).
    pub(crate) fn put_alias(&mut self, alias: &Alias) -> Result<(), StoreError> {
        self.writing()?;
        let json = serde_json::to_string(alias).map_err(|_| StoreError::Corrupt("aliases".into()))?;
        self.conn.execute("INSERT OR REPLACE INTO aliases(arn, json) VALUES(?1, ?2)", params![alias.arn, json])?;
        Ok(())
    }

    /// Deletes an alias (inside a write transaction).
    pub(crate) fn delete_alias(&mut self, arn: &str) -> Result<(), StoreError> {
        self.writing()?;
        self.conn.execute("DELETE FROM aliases WHERE arn=?1", params![arn])?;
        Ok(())
    }

    /// Inserts or replaces a grant (inside a write transaction).
    pub(crate) fn put_grant(&mut self, grant: &GrantRecord) -> Result<(), StoreError> {
        self.writing()?;
        let json = serde_json::to_string(grant).map_err(|_| StoreError::Corrupt("grants".into()))?;
        self.conn.execute(
            "INSERT OR REPLACE INTO grants(grant_id, key_arn, json) VALUES(?1, ?2, ?3)",
            params![grant.grant_id, grant.key_arn, json],
        )?;
        Ok(())
    }

    /// Deletes a grant (inside a write transaction).
    pub(crate) fn delete_grant(&mut self, grant_id: &str) -> Result<(), StoreError> {
        self.writing()?;
        self.conn.execute("DELETE FROM grants WHERE grant_id=?1", params![grant_id])?;
        Ok(())
    }

    /// The root key, shared, for sealing import tokens without holding the store (see
    /// [`crate::state::Registry::root`]).
    pub(crate) fn root(&self) -> Arc<RootKey> {
        self.root.clone()
    }

    /// The latest successful tracked use of each key, from the audit table (startup only).
    pub(crate) fn read_last_usage(&self, tracked: &[&str]) -> Result<Vec<(String, String, i64, String)>, StoreError> {
        let list = tracked.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT key_arn, event_name, event_time, json FROM audit_events WHERE id IN \
             (SELECT MAX(id) FROM audit_events WHERE ok = 1 AND key_arn IS NOT NULL AND event_name IN ({list}) GROUP BY key_arn)"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// AAD label for one material version: a sealed row only opens in its own slot.
fn material_label(arn: &str, version: u32) -> String {
    format!("envelope-kms-local/material/v1\0{arn}\0{version}")
}

/// Reads audit events from a data directory (for `envelope kms audit`), oldest first: the
/// newest `limit` events at or after `since` (epoch seconds), only those on key `key` (an ARN or
/// a key id) when given. Each event is a CloudTrail-style JSON object (`eventName`,
/// `requestParameters`, `errorCode`, ...). An emulator that is still serving may not have written
/// its latest events yet; one whose `serve` has returned has.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use envelope_kms_local::{Emulator, Settings, read_audit};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-read-audit-{}", std::process::id()));
/// let emulator = Emulator::open(&Settings::new(&dir))?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let address = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(emulator.serve(listener, async { stopped.await.unwrap_or(()) }));
///
/// // One ListKeys request as an AWS SDK sends it (without credentials the emulator takes no
/// // signature: permissive mode).
/// let mut stream = tokio::net::TcpStream::connect(address).await?;
/// stream
///     .write_all(
///         b"POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.ListKeys\r\n\
///           Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
///     )
///     .await?;
/// let mut response = Vec::new();
/// stream.read_to_end(&mut response).await?;
/// assert!(response.starts_with(b"HTTP/1.1 200"));
///
/// stop.send(()).ok();
/// server.await?; // serving ended: the audit log is on disk
/// let events = read_audit(&dir, None, None, 100)?;
/// assert_eq!(events.last().map(|event| &event["eventName"]), Some(&serde_json::json!("ListKeys")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub fn read_audit(
    data_dir: &Path,
    key: Option<&str>,
    since: Option<i64>,
    limit: usize,
) -> Result<Vec<serde_json::Value>, StoreError> {
    let conn = Connection::open_with_flags(db_path(data_dir), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut sql = String::from("SELECT json FROM audit_events WHERE event_time >= ?1");
    if key.is_some() {
        sql.push_str(" AND (key_arn = ?2 OR key_arn LIKE '%/' || ?2)");
    }
    sql.push_str(" ORDER BY id DESC LIMIT ");
    sql.push_str(&limit.to_string());
    let mut stmt = conn.prepare(&sql)?;
    let since = since.unwrap_or(0);
    let rows: Vec<String> = match key {
        Some(k) => stmt.query_map(params![since, k], |r| r.get(0))?.collect::<Result<_, _>>()?,
        None => stmt.query_map(params![since], |r| r.get(0))?.collect::<Result<_, _>>()?,
    };
    let mut out: Vec<serde_json::Value> = rows.iter().filter_map(|j| serde_json::from_str(j).ok()).collect();
    out.reverse();
    Ok(out)
}
