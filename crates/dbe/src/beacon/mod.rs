//! Beacons: truncated HMACs of plaintext values, derived from a beacon key, that a database
//! indexes and matches in place of the encrypted values.
//!
//! - [`BeaconHmacKey`]: the per-beacon HMAC-SHA384 key (HKDF-SHA512 of the beacon key) and the
//!   basic hash, the rightmost [`BeaconLength`] bits of the HMAC as lowercase hex.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/searchable-encryption/`

mod attr;
pub(crate) mod compound;
mod config_error;
mod error;
mod fuzz_check;
mod key;
mod key_source;
mod location;
mod standard;
mod version;
mod virtual_field;

pub use attr::Item;
pub use compound::{CompoundBeacon, Constructor, ConstructorPart, EncryptedPart, SignedPart};
pub use config_error::ConfigError;
pub use error::BeaconError;
pub use key::{BeaconHmacKey, BeaconLength};
pub use key_source::{BeaconKeySource, DEFAULT_TENANT_CAPACITY, MultiKeySource, SingleKeySource};
pub use location::TerminalLocation;
pub use standard::{BEACON_ATTRIBUTE_PREFIX, BeaconStyle, StandardBeacon};
pub use version::{BeaconKeys, BeaconVersion, BeaconVersionConfig, VERSION_TAG_ATTRIBUTE};
pub use virtual_field::{VirtualField, VirtualPart, VirtualTransform};

/// Fuzz entry points (`fuzz/fuzz_targets/dbe_terminal_location.rs`). Not part of the public API.
#[doc(hidden)]
pub mod __fuzz {
    pub use super::fuzz_check::check_terminal_location;
}
