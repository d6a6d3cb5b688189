//! Searchable encryption, independent of any database: a [`SearchableTable`] writes items as
//! the DB-ESDK does (signed beacons signed, no `aws_dbe_v_1` tag, `aws_dbe_b_*` beacons
//! added after encryption), reads them back, rewrites a typed plaintext query ([`Condition`])
//! onto beacons ([`BeaconQuery`]), and re-checks results on plaintext so beacon collisions are
//! dropped. The DynamoDB client and the SQLite table build on it.
//!
//! Which operators each target answers:
//!
//! | target | `=` / `IN` | `<>` | `<` `<=` `>` `>=` / BETWEEN | begins_with | contains |
//! |---|---|---|---|---|---|
//! | signed or unsigned attribute, signed beacon | yes | yes | yes | yes | yes |
//! | standard beacon | yes | no | no | no | set beacons only |
//! | compound beacon | yes | no | signed parts, then at most a bare encrypted prefix | yes | yes |
//! | ENCRYPT_AND_SIGN attribute without beacon, virtual field | no | no | no | no | no |
//! | document path (`Meta.region`) into a signed or unsigned attribute | yes | yes | yes | yes | yes |
//!
//! A document path into an encrypted attribute, a beacon or a virtual field is refused: query
//! the beacon whose location it is.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/dynamodb-encryption-client/ddb-support.md`,
//! `specification/searchable-encryption/`

mod error;
mod eval;
mod query;
mod table;
mod translate;

pub use error::SearchError;
pub use query::{CompareOp, Condition, DocumentPath, Operand, PathStep};
pub use table::SearchableTable;
pub use translate::BeaconQuery;
