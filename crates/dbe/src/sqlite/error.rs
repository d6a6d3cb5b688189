//! Typed errors of the encrypted SQLite table. Messages name tables, columns and attributes,
//! never attribute values.

use crate::beacon::BeaconError;
use crate::item::{ItemError, ValueError};
use crate::search::SearchError;

/// What went wrong with an [`EncryptedTable`](super::EncryptedTable) operation.
///
/// ```
/// use std::sync::Arc;
/// use envelope::DefaultMaterialsManager;
/// use envelope_dbe::item::{CryptoAction, Item, TableConfig};
/// use envelope_dbe::sqlite::{EncryptedTable, TableError};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let keyring = RawAesKeyring::new("example", "key", vec![7; 32])?;
/// let config = TableConfig::new("Orders", "OrderId").action("OrderId", CryptoAction::SignOnly);
/// let table = EncryptedTable::builder(config, Arc::new(DefaultMaterialsManager::new(keyring)))
///     .create(rusqlite::Connection::open_in_memory()?)?;
/// // A key without the partition key attribute.
/// assert!(matches!(table.delete(&Item::new()), Err(TableError::MissingKey(name)) if name == "OrderId"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// SQLite refused a statement or could not open the file.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file refused write-ahead logging (an in-memory database, for example).
    #[error("SQLite refused WAL mode (journal mode {0})")]
    NotWal(String),
    /// A table, attribute or beacon name SQLite cannot hold (it contains NUL).
    #[error("{what} name {name:?} contains NUL, which SQLite identifiers cannot hold")]
    InvalidName {
        /// What the name is of.
        what: &'static str,
        /// The name, with NUL shown escaped.
        name: String,
    },
    /// Two columns whose names SQLite treats as one (identifiers ignore ASCII case).
    #[error("columns {first:?} and {second:?} would share one SQLite column (names ignore ASCII case)")]
    ColumnCollision {
        /// The column kept first.
        first: String,
        /// The colliding one.
        second: String,
    },
    /// The existing SQLite table lacks a column the config needs.
    #[error("table {table:?} exists without column {column:?}: it was created from another config")]
    SchemaMismatch {
        /// SQLite table name.
        table: String,
        /// The missing column.
        column: String,
    },
    /// An item or key lacks a primary key attribute.
    #[error("the item or key has no primary key attribute {0:?}")]
    MissingKey(String),
    /// A primary key attribute whose type is not S, N or B.
    #[error("primary key attribute {0:?} is not a string, number or binary")]
    KeyType(String),
    /// A stored row's column disagrees with the item it holds: the column was edited outside
    /// this API.
    #[error("column {column:?} of a stored row disagrees with the row's item")]
    ColumnMismatch {
        /// The column (attribute) name.
        column: String,
    },
    /// A stored row's item column does not parse.
    #[error("a stored row's item does not parse: {0}")]
    StoredItem(ValueError),
    /// An item failed to encrypt or decrypt (the error names the attribute).
    #[error(transparent)]
    Item(#[from] ItemError),
    /// A beacon could not be computed, a query value does not fit its beacon, or the beacon
    /// key source failed.
    #[error(transparent)]
    Beacon(#[from] BeaconError),
    /// A query the table's beacons cannot answer (an encrypted attribute without a beacon, a
    /// range on a standard beacon, ...), or an item the search configuration refuses.
    #[error(transparent)]
    Search(SearchError),
}

impl From<SearchError> for TableError {
    /// Item and beacon failures keep their own variants, so callers match one error shape
    /// whichever layer found them.
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Item(error) => TableError::Item(error),
            SearchError::Beacon(error) => TableError::Beacon(error),
            other => TableError::Search(other),
        }
    }
}
