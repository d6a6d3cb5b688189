//! Errors of the searchable table: writes, reads and query translation.

use crate::beacon::BeaconError;
use crate::item::ItemError;

/// Why a searchable write, read or query failed. Messages name attributes and beacons, never
/// plaintext values.
///
/// ```
/// use std::sync::Arc;
/// use envelope::{AlgorithmSuite, DefaultMaterialsManager};
/// use envelope_dbe::item::{AttributeValue as V, CryptoAction, TableConfig};
/// use envelope_dbe::search::{Condition, SearchError, SearchableTable};
/// use envelope_keyrings::RawAesKeyring;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = TableConfig::new("People", "Id").action("Id", CryptoAction::SignOnly).action("Email", CryptoAction::EncryptAndSign);
/// # let keyring = RawAesKeyring::new("example", "key", vec![7; 32])?;
/// let table = SearchableTable::new(config, Arc::new(DefaultMaterialsManager::new(keyring)),
///     AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384);
/// // The database only sees Email's ciphertext, and no beacon was configured for it.
/// let refused = table.translate(&Condition::eq("Email", V::S("a@example.com".into()))).await;
/// assert!(matches!(refused, Err(SearchError::EncryptedWithoutBeacon(name)) if name == "Email"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A beacon could not be computed, or the beacon configuration or key source failed.
    #[error(transparent)]
    Beacon(#[from] BeaconError),
    /// Item encryption or decryption failed.
    #[error(transparent)]
    Item(#[from] ItemError),
    /// A query condition names an ENCRYPT_AND_SIGN attribute that has no beacon: the database
    /// only sees its ciphertext.
    #[error("attribute {0} is encrypted and has no beacon, so it cannot be queried")]
    EncryptedWithoutBeacon(String),
    /// A query applies an operator a beacon cannot answer (for example a range on a standard
    /// beacon, whose hashes keep no order).
    #[error("beacon {beacon} cannot answer {operator}: {reason}")]
    UnsupportedOperator {
        /// The beacon (or attribute) named in the condition.
        beacon: String,
        /// The operator, as DynamoDB spells it.
        operator: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// A query names a virtual field, which is never stored.
    #[error("{0} is a virtual field: query the standard beacon built on it instead")]
    VirtualFieldQueried(String),
    /// An item to write carries an attribute the SDK reserves (`aws_dbe_*`), or named like a
    /// compound beacon or virtual field.
    #[error("attribute {0} is reserved for the searchable encryption configuration")]
    ReservedAttribute(String),
    /// A multi-tenant query names two different beacon key ids, or names one in a way that is
    /// not a plain `keyField = value` condition joined by AND.
    #[error("the query's beacon key id in {0} is ambiguous: one `{0} = value` condition, joined by AND, is required")]
    AmbiguousBeaconKeyId(String),
    /// The item's key field and its header's branch key disagree.
    #[error("the item's beacon key id in {0} differs from the branch key that encrypted it")]
    BeaconKeyIdMismatch(String),
    /// The item's key field is not a string.
    #[error("the key field {0} must hold a string")]
    BeaconKeyIdNotString(String),
    /// The key field of a multi-tenant source is configured ENCRYPT_AND_SIGN.
    #[error("the key field {0} may not be ENCRYPT_AND_SIGN")]
    EncryptedKeyField(String),
}
