//! The SQLite layout of one encrypted table, derived from its config: primary key columns, the
//! item column, one indexed column per scalar beacon, and a plain column per signed attribute;
//! and, when the config has set beacons (`asSet`, `sharedSet`), a side table holding one row per
//! (item, set beacon, beacon value), indexed so `contains` on a set beacon is an index lookup.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::error::TableError;
use super::ident::quote;
use crate::beacon::BeaconVersion;
use crate::item::{CryptoAction, TableConfig};

/// The column that holds the whole stored item. The `aws_dbe_` prefix is reserved for the SDK,
/// so no attribute can claim this name.
///
/// ```
/// use envelope_dbe::item::RESERVED_PREFIX;
/// use envelope_dbe::sqlite::ITEM_COLUMN;
///
/// assert!(ITEM_COLUMN.starts_with(RESERVED_PREFIX), "no attribute can take this column's name");
/// ```
pub const ITEM_COLUMN: &str = "aws_dbe_item";

/// The side table's column naming the set beacon (its `aws_dbe_b_<name>` attribute).
pub(crate) const SET_BEACON_COLUMN: &str = "aws_dbe_beacon";
/// The side table's column holding one beacon value of the set.
pub(crate) const SET_VALUE_COLUMN: &str = "aws_dbe_value";
/// Suffix of the side table's name (`<table>#aws_dbe_set_beacons`): the reserved prefix keeps it
/// apart from the beacon indexes, which are named `<table>#<attribute>`.
const SET_TABLE_SUFFIX: &str = "#aws_dbe_set_beacons";

/// One table's columns, with their quoted identifiers.
#[derive(Debug, Clone)]
pub(crate) struct TableSchema {
    /// The SQLite table name.
    pub name: String,
    /// Its quoted identifier.
    pub quoted: String,
    /// Partition key, then sort key: (attribute, quoted column).
    pub keys: Vec<(String, String)>,
    /// Beacon columns (scalar beacons only): (attribute, quoted column).
    pub beacons: Vec<(String, String)>,
    /// Plain copies of signed scalar attributes: (attribute, quoted column).
    pub signed: Vec<(String, String)>,
    /// Set beacons' attributes (`aws_dbe_b_<name>`), whose values live in the side table.
    pub sets: Vec<String>,
    /// The side table (name, quoted), when there are set beacons.
    pub set_table: Option<(String, String)>,
}

impl TableSchema {
    /// The layout for `config` (and its beacons), stored in SQLite table `name`.
    pub fn new(name: &str, config: &TableConfig, beacons: Option<&BeaconVersion>) -> Result<Self, TableError> {
        let quoted = quote("table", name)?;
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        taken.insert(ITEM_COLUMN.to_owned(), ITEM_COLUMN.to_owned());
        let mut claim = |attribute: &str| -> Result<String, TableError> {
            let quoted = quote("attribute", attribute)?;
            if let Some(first) = taken.insert(attribute.to_ascii_lowercase(), attribute.to_owned()) {
                return Err(TableError::ColumnCollision { first, second: attribute.to_owned() });
            }
            Ok(quoted)
        };
        let mut keys = Vec::new();
        for key in std::iter::once(&config.partition_key).chain(config.sort_key.as_ref()) {
            keys.push((key.clone(), claim(key)?));
        }
        let mut beacon_columns = Vec::new();
        let mut sets = Vec::new();
        for (attribute, is_set) in beacons.map(BeaconVersion::beacon_attributes).unwrap_or_default() {
            if is_set {
                // A set has no column form: its values go to the side table, one row each.
                sets.push(attribute);
            } else if keys.iter().any(|(key, _)| *key == attribute) {
                // A signed beacon used as a table key already has its column.
            } else {
                let column = claim(&attribute)?;
                beacon_columns.push((attribute, column));
            }
        }
        let mut signed = Vec::new();
        for (attribute, action) in &config.actions {
            let plain = matches!(action, CryptoAction::SignOnly | CryptoAction::SignAndIncludeInEncryptionContext);
            let has_column = keys.iter().chain(&beacon_columns).any(|(name, _)| name == attribute);
            if !plain || has_column {
                continue;
            }
            match claim(attribute) {
                Ok(column) => signed.push((attribute.clone(), column)),
                // A convenience copy only: skip it rather than refuse the config.
                Err(TableError::ColumnCollision { first, .. }) => {
                    tracing::warn!(attribute, first, "signed attribute gets no plain column (name collision)");
                }
                Err(other) => return Err(other),
            }
        }
        let set_table = if sets.is_empty() {
            None
        } else {
            let side = format!("{name}{SET_TABLE_SUFFIX}");
            let quoted = quote("table", &side)?;
            Some((side, quoted))
        };
        Ok(Self { name: name.to_owned(), quoted, keys, beacons: beacon_columns, signed, sets, set_table })
    }

    /// The quoted key columns, comma-separated (partition key first).
    pub fn key_columns(&self) -> String {
        self.keys.iter().map(|(_, quoted)| quoted.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Every column but the item column, in table order.
    pub fn attribute_columns(&self) -> impl Iterator<Item = &(String, String)> {
        self.keys.iter().chain(&self.beacons).chain(&self.signed)
    }

    /// Creates the table, the beacon indexes and the set beacons' side table if missing, then
    /// checks that the tables have every column this layout needs. A side table created here
    /// next to existing rows (a table written before set beacons had one, or before the config
    /// had a set beacon) is filled from their items in the same transaction.
    pub fn create(&self, connection: &mut Connection) -> Result<(), TableError> {
        let columns: Vec<String> = self
            .keys
            .iter()
            .map(|(_, quoted)| format!("{quoted} NOT NULL"))
            .chain(std::iter::once(format!("\"{ITEM_COLUMN}\" BLOB NOT NULL")))
            .chain(self.beacons.iter().chain(&self.signed).map(|(_, quoted)| quoted.clone()))
            .collect();
        let key: Vec<&str> = self.keys.iter().map(|(_, quoted)| quoted.as_str()).collect();
        // Columns without a declared type have no affinity: SQLite stores each value exactly as
        // bound, which the row check on read relies on.
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}));\n",
            self.quoted,
            columns.join(", "),
            key.join(", ")
        );
        for (attribute, column) in &self.beacons {
            let index = quote("index", &format!("{}#{attribute}", self.name))?;
            sql.push_str(&format!("CREATE INDEX IF NOT EXISTS {index} ON {} ({column});\n", self.quoted));
        }
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut backfill = false;
        if let Some((side, quoted_side)) = &self.set_table {
            backfill = !table_exists(&transaction, side)?;
            let key = self.key_columns();
            let key_declared: Vec<String> = self.keys.iter().map(|(_, quoted)| format!("{quoted} NOT NULL")).collect();
            // WITHOUT ROWID: the primary key is the (beacon, value) index itself. Untyped
            // columns keep the key values exactly as the main table holds them.
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {quoted_side} (\"{SET_BEACON_COLUMN}\" NOT NULL, \"{SET_VALUE_COLUMN}\" NOT NULL, {}, \
                 PRIMARY KEY (\"{SET_BEACON_COLUMN}\", \"{SET_VALUE_COLUMN}\", {key})) WITHOUT ROWID;\n",
                key_declared.join(", ")
            ));
            // Rewriting or deleting an item finds its set rows by key.
            let index = quote("index", &format!("{side}#key"))?;
            sql.push_str(&format!("CREATE INDEX IF NOT EXISTS {index} ON {quoted_side} ({key});\n"));
        }
        transaction.execute_batch(&sql)?;
        if backfill {
            let rows = super::rows::backfill_sets(&transaction, self)?;
            tracing::info!(table = self.name, rows, "set beacon table created and filled from existing rows");
        }
        transaction.commit()?;
        self.check(connection)
    }

    /// Checks that the existing tables have every column of this layout.
    pub fn check(&self, connection: &Connection) -> Result<(), TableError> {
        let needed = std::iter::once(ITEM_COLUMN).chain(self.attribute_columns().map(|(name, _)| name.as_str()));
        check_columns(connection, &self.name, needed)?;
        if let Some((side, _)) = &self.set_table {
            let needed = [SET_BEACON_COLUMN, SET_VALUE_COLUMN]
                .into_iter()
                .chain(self.keys.iter().map(|(name, _)| name.as_str()));
            check_columns(connection, side, needed)?;
        }
        Ok(())
    }
}

/// Whether SQLite table `name` exists.
fn table_exists(connection: &Connection, name: &str) -> Result<bool, TableError> {
    let mut statement = connection.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1")?;
    Ok(statement.query_row([name], |row| row.get::<_, i64>(0))? > 0)
}

/// A [`TableError::SchemaMismatch`] naming the first of `needed` that table `name` lacks.
fn check_columns<'a>(
    connection: &Connection,
    name: &str,
    needed: impl IntoIterator<Item = &'a str>,
) -> Result<(), TableError> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let existing: Vec<String> =
        statement.query_map([name], |row| row.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    let has = |column: &str| existing.iter().any(|known| known.eq_ignore_ascii_case(column));
    for column in needed {
        if !has(column) {
            return Err(TableError::SchemaMismatch { table: name.to_owned(), column: column.to_owned() });
        }
    }
    Ok(())
}
