//! SQLite persistence (WAL, `synchronous=FULL`): every key, material version, alias and grant
//! write commits before the request that caused it is answered, so an acknowledged write
//! survives `kill -9`. Key material is stored only sealed under the root key.

mod audit_sink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};

pub use audit_sink::{AuditRecord, AuditSink, AuditSlot};

use crate::keys::Material;
use crate::model::{Alias, GrantRecord, Key, KeyMeta, MaterialInfo, MaterialVersion};
use crate::seal::RootKey;

/// Database file name inside the data directory.
pub const DB_FILE: &str = "kms.sqlite3";

/// Storage failures (all reported to clients as KMSInternalException).
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
}

/// The open database.
pub struct Store {
    conn: Connection,
    root: RootKey,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Everything loaded at startup.
pub struct Loaded {
    /// Keys.
    pub keys: Vec<Key>,
    /// Aliases.
    pub aliases: Vec<Alias>,
    /// Grants.
    pub grants: Vec<GrantRecord>,
    /// When usage tracking began (first start of this data directory).
    pub tracking_start: i64,
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
];

/// Path of the database in a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

impl Store {
    /// Opens (creating and migrating) the database in `data_dir`.
    pub fn open(data_dir: &Path, root: RootKey) -> Result<Self, StoreError> {
        let mut conn = open_conn(&db_path(data_dir))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        conn.execute(
            "INSERT OR IGNORE INTO settings(name, value) VALUES('tracking_start', ?1)",
            params![crate::model::now().to_string()],
        )?;
        Ok(Self { conn, root })
    }

    /// Reads every record, unsealing material.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut keys: BTreeMap<String, Key> = BTreeMap::new();
        let mut stmt = self.conn.prepare("SELECT arn, meta FROM keys")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (arn, meta) = row?;
            let meta: KeyMeta = serde_json::from_str(&meta).map_err(|_| StoreError::Corrupt(format!("keys/{arn}")))?;
            keys.insert(arn.clone(), Key { arn, meta, materials: BTreeMap::new() });
        }
        let mut stmt = self.conn.prepare("SELECT arn, version, info, sealed FROM key_materials")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })?;
        for row in rows {
            let (arn, version, info, sealed) = row?;
            let Some(key) = keys.get_mut(&arn) else { continue };
            let info: MaterialInfo =
                serde_json::from_str(&info).map_err(|_| StoreError::Corrupt(format!("key_materials/{arn}")))?;
            let secret = self
                .root
                .open(&material_label(&arn, version as u32), &sealed)
                .ok_or_else(|| StoreError::Unseal(arn.clone()))?;
            let material = Material::from_secret(key.meta.key_spec, secret)
                .map_err(|_| StoreError::Corrupt(format!("key_materials/{arn}")))?;
            key.materials.insert(version as u32, Arc::new(MaterialVersion { info, material }));
        }
        let aliases = self.load_json("SELECT json FROM aliases", "aliases")?;
        let grants = self.load_json("SELECT json FROM grants", "grants")?;
        let tracking_start = self
            .conn
            .query_row("SELECT value FROM settings WHERE name='tracking_start'", [], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(crate::model::now);
        Ok(Loaded { keys: keys.into_values().collect(), aliases, grants, tracking_start })
    }

    fn load_json<T: serde::de::DeserializeOwned>(&self, sql: &str, table: &str) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?).map_err(|_| StoreError::Corrupt(table.into()))?);
        }
        Ok(out)
    }

    /// Writes a key's metadata and reconciles its material rows with `before` (the previous
    /// version of the key, if any), in one transaction.
    pub fn put_key(&mut self, key: &Key, before: Option<&Key>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let meta = serde_json::to_string(&key.meta).map_err(|_| StoreError::Corrupt("keys".into()))?;
        tx.execute("INSERT OR REPLACE INTO keys(arn, meta) VALUES(?1, ?2)", params![key.arn, meta])?;
        for (v, m) in &key.materials {
            let existed = before.is_some_and(|b| b.materials.get(v).is_some_and(|o| Arc::ptr_eq(o, m)));
            if !existed {
                let info = serde_json::to_string(&m.info).map_err(|_| StoreError::Corrupt("key_materials".into()))?;
                let sealed = self.root.seal(&material_label(&key.arn, *v), m.material.secret().expose());
                tx.execute(
                    "INSERT OR REPLACE INTO key_materials(arn, version, info, sealed) VALUES(?1, ?2, ?3, ?4)",
                    params![key.arn, *v as i64, info, sealed],
                )?;
            }
        }
        if let Some(b) = before {
            for v in b.materials.keys().filter(|v| !key.materials.contains_key(v)) {
                tx.execute("DELETE FROM key_materials WHERE arn=?1 AND version=?2", params![key.arn, *v as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes a key and everything hanging off it.
    pub fn delete_key(&mut self, arn: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM keys WHERE arn=?1", params![arn])?;
        tx.execute("DELETE FROM key_materials WHERE arn=?1", params![arn])?;
        tx.execute("DELETE FROM grants WHERE key_arn=?1", params![arn])?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces an alias.
    pub fn put_alias(&mut self, alias: &Alias) -> Result<(), StoreError> {
        let json = serde_json::to_string(alias).map_err(|_| StoreError::Corrupt("aliases".into()))?;
        self.conn.execute("INSERT OR REPLACE INTO aliases(arn, json) VALUES(?1, ?2)", params![alias.arn, json])?;
        Ok(())
    }

    /// Deletes an alias.
    pub fn delete_alias(&mut self, arn: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM aliases WHERE arn=?1", params![arn])?;
        Ok(())
    }

    /// Inserts or replaces a grant.
    pub fn put_grant(&mut self, grant: &GrantRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(grant).map_err(|_| StoreError::Corrupt("grants".into()))?;
        self.conn.execute(
            "INSERT OR REPLACE INTO grants(grant_id, key_arn, json) VALUES(?1, ?2, ?3)",
            params![grant.grant_id, grant.key_arn, json],
        )?;
        Ok(())
    }

    /// Deletes a grant.
    pub fn delete_grant(&mut self, grant_id: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM grants WHERE grant_id=?1", params![grant_id])?;
        Ok(())
    }

    /// The root key, for sealing import tokens.
    pub fn root(&self) -> &RootKey {
        &self.root
    }

    /// The latest successful tracked use of each key, from the audit table (startup only).
    pub fn read_last_usage(&self, tracked: &[&str]) -> Result<Vec<(String, String, i64, String)>, StoreError> {
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

/// AAD label for one material version: a sealed row only opens in its own slot.
fn material_label(arn: &str, version: u32) -> String {
    format!("envelope-kms-local/material/v1\0{arn}\0{version}")
}

/// Reads audit events from a data directory (for `envelope kms audit`), oldest first.
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
