//! Encrypted tables in SQLite: DB-ESDK items, one per row, found by their beacons with SQL.
//!
//! [`EncryptedTable`] creates a table from a [`TableConfig`](crate::item::TableConfig): the
//! primary key columns, the `aws_dbe_item` column holding the item in the DB-ESDK format (a row
//! exported as DynamoDB JSON is an item any DB-ESDK decrypts), an indexed column per scalar
//! beacon and a plain column per signed attribute. Set beacons (`asSet`, `sharedSet`) keep their
//! values in a side table, `<table>#aws_dbe_set_beacons`, one row per (item key, beacon, value),
//! whose primary key makes `contains` on them an index lookup; every write and delete rewrites
//! an item's side rows in the same transaction as the row. Reads verify and decrypt; a row
//! whose columns were edited behind the table's back is a typed error.
//!
//! Behind the default-on `sqlite` feature.

mod column;
mod error;
mod ident;
mod render;
mod rows;
mod schema;
mod table;

pub use error::TableError;
/// The SQLite binding the table uses (open connections with it, or with [`open_database`]).
pub use rusqlite;
pub use schema::ITEM_COLUMN;
pub use table::{EncryptedTable, EncryptedTableBuilder, open_database};
