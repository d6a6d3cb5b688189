//! Searchable client-side encryption of database items, compatible with the AWS Database
//! Encryption SDK (DB-ESDK) item format.
//!
//! - [`item`]: structured encryption of one item (attribute name → typed value): crypto actions,
//!   the `aws_dbe_head` / `aws_dbe_foot` attributes, suites 0x6700 / 0x6701.
//! - [`beacon`]: beacons, truncated HMACs of plaintext values that a database can index and
//!   match without seeing the values.
//! - [`dynamodb`]: the DynamoDB encrypted client over aws-sdk-dynamodb (feature `dynamodb`, on
//!   by default) and the condition-expression language it parses.
//! - [`sqlite`] (feature `sqlite`, on by default): encrypted tables in SQLite, queried by beacon.
//! - [`search`]: a searchable table independent of any database: writes with beacons, reads,
//!   typed queries rewritten onto beacons and re-checked on plaintext.
//! - [`config_json`]: table configs (actions, beacons) as JSON, the test vectors' format.
//!
//! ```
//! use envelope_dbe::item::{AttributeValue, Header};
//!
//! // The canonical bytes the DB-ESDK encrypts and signs: type id, then the value.
//! let number = AttributeValue::N("0800.000e0".into());
//! assert_eq!(number.serialize_typed().unwrap(), [0x00, 0x02, b'8', b'0', b'0']);
//!
//! // A malformed aws_dbe_head is a typed error, never a panic.
//! assert!(Header::parse(&[0x01, 0x07]).is_err());
//! ```
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/`

pub mod beacon;
pub mod config_json;
pub mod dynamodb;
pub mod item;
pub mod search;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[doc(hidden)]
pub mod __fuzz;
