//! The errors of beacon computation and beacon configuration.
//!
//! Messages name beacons, parts and locations but never plaintext values: a beacon exists to keep
//! those values out of sight, and an error message ends up in logs.

/// Why a beacon could not be computed or a beacon configuration was refused.
///
/// ```
/// use envelope_dbe::beacon::{BeaconError, StandardBeacon};
///
/// // A beacon keeps 1 to 63 bits.
/// assert!(matches!(StandardBeacon::new("Email", 64), Err(BeaconError::InvalidLength(64))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BeaconError {
    /// A beacon length outside 1..=63 bits.
    #[error("beacon length {0} is not between 1 and 63 bits")]
    InvalidLength(u32),
    /// The HMAC key derivation failed (the crypto library refused the request).
    #[error("deriving the HMAC key of beacon {0} failed")]
    KeyDerivation(String),
    /// A terminal location that is not a document path such as `a.b[2].c`.
    #[error("invalid terminal location {location:?}: {reason}")]
    InvalidTerminalLocation {
        /// The location as configured.
        location: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A number attribute that is not a DynamoDB number.
    #[error("invalid number in attribute {0}")]
    InvalidNumber(String),
    /// The value found for a beacon has a type the beacon cannot use.
    #[error("beacon {beacon}: {reason}")]
    UnsupportedValue {
        /// The beacon's name.
        beacon: String,
        /// What is wrong with the value's type.
        reason: &'static str,
    },
    /// A plaintext value used by a compound beacon contains the beacon's split character.
    #[error("part {part} for beacon {beacon} has a value which contains the split character {split:?}")]
    SplitCharacterInValue {
        /// The part's name.
        part: String,
        /// The compound beacon's name.
        beacon: String,
        /// The split character.
        split: char,
    },
    /// The key store could not return the beacon key.
    #[error("getting beacon key {beacon_key_id} from the key store failed: {reason}")]
    KeyStore {
        /// The branch key id asked for.
        beacon_key_id: String,
        /// The key store's error.
        reason: String,
    },
    /// An item's partition number not below the version's maximum number of partitions.
    #[error("partition {partition} is not below the maximum number of partitions {max}")]
    PartitionOutOfRange {
        /// The partition asked for.
        partition: u8,
        /// The version's maximum.
        max: u8,
    },
    /// An item supplies a signed beacon's attribute with a value other than the one its parts
    /// construct.
    #[error("the item's value of signed beacon {0} differs from the value its parts construct")]
    SignedBeaconMismatch(String),
    /// A multi-tenant beacon key source needs a beacon key id, and the item or query names none
    /// in its key field.
    #[error("no beacon key id: the item or query has no value for the key field {0}")]
    MissingBeaconKeyId(String),
    /// No HMAC key was supplied for a beacon that needs one.
    #[error("no HMAC key for beacon {0}")]
    MissingKey(String),
    /// A query value for a compound beacon that no part or constructor accepts.
    #[error("compound beacon {beacon}: {reason}")]
    InvalidQueryValue {
        /// The compound beacon's name.
        beacon: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration the specification forbids.
    #[error("invalid beacon configuration: {0}")]
    Config(#[from] super::config_error::ConfigError),
}
