//! The SQLite layout of one encrypted table, derived from its config: primary key columns, the
//! item column, one indexed column per beacon, and a plain column per signed attribute.

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
        for (attribute, is_set) in beacons.map(BeaconVersion::beacon_attributes).unwrap_or_default() {
            if is_set {
                // A set has no column form: the item column still holds it.
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
        Ok(Self { name: name.to_owned(), quoted, keys, beacons: beacon_columns, signed })
    }

    /// Every column but the item column, in table order.
    pub fn attribute_columns(&self) -> impl Iterator<Item = &(String, String)> {
        self.keys.iter().chain(&self.beacons).chain(&self.signed)
    }

    /// Creates the table and the beacon indexes if missing, then checks that the table has every
    /// column this layout needs.
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
        transaction.execute_batch(&sql)?;
        transaction.commit()?;
        self.check(connection)
    }

    /// Checks that the existing table has every column of this layout.
    pub fn check(&self, connection: &Connection) -> Result<(), TableError> {
        let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let existing: Vec<String> =
            statement.query_map([&self.name], |row| row.get::<_, String>(0))?.collect::<Result<_, _>>()?;
        let has = |name: &str| existing.iter().any(|column| column.eq_ignore_ascii_case(name));
        let needed = std::iter::once(ITEM_COLUMN).chain(self.attribute_columns().map(|(name, _)| name.as_str()));
        for column in needed {
            if !has(column) {
                return Err(TableError::SchemaMismatch { table: self.name.clone(), column: column.to_owned() });
            }
        }
        Ok(())
    }
}
