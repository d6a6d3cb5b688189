//! The configuration errors the searchable-encryption specification requires initialization to
//! fail with, one variant per rule.
//!
//! spec: search-config.md "Beacon Version Initialization"; beacons.md "Initialization Failure";
//! virtual.md "Virtual Field Initialization"

/// A beacon configuration the specification forbids.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::beacon::{BeaconError, BeaconVersion, BeaconVersionConfig, ConfigError, StandardBeacon};
/// use envelope_dbe::item::CryptoAction;
///
/// let actions = BTreeMap::from([("Email".to_owned(), CryptoAction::EncryptAndSign)]);
/// // Beacon version 1 is the only one the DB-ESDK defines.
/// let config = BeaconVersionConfig { version: 2, standard_beacons: vec![StandardBeacon::new("Email", 8)?], ..Default::default() };
/// let error = BeaconVersion::new(config, &actions).unwrap_err();
/// assert!(matches!(error, BeaconError::Config(ConfigError::UnsupportedVersion(2))));
/// # Ok::<(), BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The beacon version number is not 1.
    #[error("beacon version {0} is not supported (only version 1 is)")]
    UnsupportedVersion(u32),
    /// A beacon version without standard beacons.
    #[error("a beacon version needs at least one standard beacon")]
    NoStandardBeacons,
    /// Two beacons (standard or compound) share a name.
    #[error("the beacon name {0} is used twice")]
    DuplicateBeaconName(String),
    /// Two standard beacons read the same location.
    #[error("standard beacons {first} and {second} both read location {location}")]
    DuplicateLocation {
        /// The first beacon.
        first: String,
        /// The second beacon.
        second: String,
        /// The shared location.
        location: String,
    },
    /// A beacon or virtual field is named like a configured attribute it may not shadow.
    #[error("{kind} {name} has the name of a configured attribute")]
    NameIsConfiguredAttribute {
        /// "standard beacon", "compound beacon", "signed beacon" or "virtual field".
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A standard beacon whose location is not an encrypted attribute.
    #[error("standard beacon {beacon} reads {location}, which is not encrypted")]
    BeaconNotEncrypted {
        /// The beacon.
        beacon: String,
        /// Its location.
        location: String,
    },
    /// A signed part whose location is encrypted or not signed.
    #[error("signed part {part} reads {location}, which is not a signed, unencrypted attribute")]
    SignedPartNotSignOnly {
        /// The part.
        part: String,
        /// Its location.
        location: String,
    },
    /// A virtual field reading an attribute that is not signed.
    #[error("virtual field {field} reads {location}, which is not signed")]
    VirtualFieldNotSigned {
        /// The field.
        field: String,
        /// The unsigned location.
        location: String,
    },
    /// A virtual field without parts.
    #[error("virtual field {0} has no parts")]
    VirtualFieldWithoutParts(String),
    /// Two virtual fields share a name.
    #[error("the virtual field name {0} is used twice")]
    DuplicateVirtualField(String),
    /// Two virtual fields read the same set of locations.
    #[error("virtual fields {0} and {1} read the same locations")]
    VirtualFieldsSameLocations(String, String),
    /// A one-location virtual field that a standard beacon already reads directly.
    #[error("virtual field {field} reads only {location}, which standard beacon {beacon} reads")]
    VirtualFieldShadowsBeacon {
        /// The field.
        field: String,
        /// The location.
        location: String,
        /// The beacon.
        beacon: String,
    },
    /// A shared beacon naming a beacon that does not exist.
    #[error("beacon {beacon} shares the key of {other}, which is not a standard beacon")]
    UnknownSharedBeacon {
        /// The shared beacon.
        beacon: String,
        /// The missing one.
        other: String,
    },
    /// A shared beacon whose length differs from the beacon it shares with.
    #[error("beacon {beacon} has length {length} but shares the key of {other} of length {other_length}")]
    SharedLengthMismatch {
        /// The shared beacon.
        beacon: String,
        /// Its length.
        length: u32,
        /// The other beacon.
        other: String,
        /// The other's length.
        other_length: u32,
    },
    /// A part-only beacon no compound beacon uses.
    #[error("part-only beacon {0} is not a part of any compound beacon")]
    PartOnlyUnused(String),
    /// A set beacon used as a compound beacon part.
    #[error("compound beacon {compound} uses set beacon {beacon} as a part")]
    SetBeaconAsPart {
        /// The compound beacon.
        compound: String,
        /// The set beacon.
        beacon: String,
    },
    /// An encrypted part naming no standard beacon.
    #[error("encrypted part {0} is not the name of a standard beacon")]
    UnknownEncryptedPart(String),
    /// Two parts (local or global) share a name.
    #[error("the part name {0} is defined twice")]
    DuplicatePart(String),
    /// Two parts whose prefixes would make a value ambiguous.
    #[error(
        "compound beacon {beacon} defines part {part} with prefix {prefix} which is incompatible with part {other} which has a prefix of {other_prefix}"
    )]
    PrefixConflict {
        /// The compound beacon.
        beacon: String,
        /// One part.
        part: String,
        /// Its prefix.
        prefix: String,
        /// The other part.
        other: String,
        /// The other's prefix.
        other_prefix: String,
    },
    /// A compound beacon without constructors and without parts of its own.
    #[error("compound beacon {0} has neither constructors nor parts")]
    NoParts(String),
    /// A constructor with no parts.
    #[error("compound beacon {0} has a constructor without parts")]
    EmptyConstructor(String),
    /// A constructor whose parts are all optional.
    #[error("compound beacon {0} has a constructor without a required part")]
    NoRequiredPart(String),
    /// A constructor naming an undefined part.
    #[error("compound beacon {beacon} has a constructor naming undefined part {part}")]
    UnknownConstructorPart {
        /// The compound beacon.
        beacon: String,
        /// The undefined part.
        part: String,
    },
    /// Two constructors with the same set of required parts.
    #[error("compound beacon {0} has two constructors with the same required parts")]
    DuplicateConstructor(String),
    /// A default partition count not below the maximum.
    #[error("default number of partitions {default} must be below the maximum number of partitions {max}")]
    DefaultPartitions {
        /// The default count.
        default: u8,
        /// The maximum count.
        max: u8,
    },
    /// A beacon's partition count not below the maximum.
    #[error("beacon {beacon} has {count} partitions but must have fewer than the maximum number of partitions {max}")]
    BeaconPartitions {
        /// The beacon.
        beacon: String,
        /// Its count.
        count: u8,
        /// The maximum count.
        max: u8,
    },
}
