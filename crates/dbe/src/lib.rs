//! Searchable client-side encryption of database items, compatible with the AWS Database
//! Encryption SDK (DB-ESDK) item format.
//!
//! - [`item`]: structured encryption of one item (attribute name → typed value): crypto actions,
//!   the `aws_dbe_head` / `aws_dbe_foot` attributes, suites 0x6700 / 0x6701.
//! - [`beacon`]: beacons, truncated HMACs of plaintext values that a database can index and
//!   match without seeing the values.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/`

pub mod beacon;
pub mod item;
