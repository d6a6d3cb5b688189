//! Standard beacons: the truncated HMAC of one value, stored as `aws_dbe_b_<name>`.
//!
//! spec: searchable-encryption/beacons.md "Standard Beacon", "Beacon Style Initialization",
//! "value for a standard beacon", "Beacon Partition Encoding"

use super::attr::{beacon_bytes, set_element_bytes};
use super::error::BeaconError;
use super::key::{BeaconHmacKey, BeaconLength};
use super::location::TerminalLocation;
use crate::item::AttributeValue;

/// The prefix of the attribute a standard (or encrypted compound) beacon is stored in.
///
/// ```
/// use envelope_dbe::beacon::BEACON_ATTRIBUTE_PREFIX;
///
/// // A standard beacon named "email" is stored in this attribute:
/// assert_eq!(format!("{BEACON_ATTRIBUTE_PREFIX}email"), "aws_dbe_b_email");
/// ```
pub const BEACON_ATTRIBUTE_PREFIX: &str = "aws_dbe_b_";

/// How a standard beacon is stored and which key it hashes with.
///
/// ```
/// use envelope_dbe::beacon::{BeaconStyle, StandardBeacon};
///
/// // Compare the beacons of two fields: hash BillingCity with ShippingCity's key and length.
/// let shipping = StandardBeacon::new("ShippingCity", 16)?;
/// let billing = StandardBeacon::new("BillingCity", 16)?.with_style(BeaconStyle::Shared { other: "ShippingCity".into() });
/// assert_eq!(billing.key_name(), shipping.name());
/// // Only used inside compound beacons: never stored on its own.
/// assert!(!StandardBeacon::new("Ssn", 8)?.with_style(BeaconStyle::PartOnly).is_stored());
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum BeaconStyle {
    /// Stored as a string, hashed with its own key.
    #[default]
    Plain,
    /// Never stored: only usable as an encrypted part of a compound beacon.
    PartOnly,
    /// Hashed as if it were the beacon named `other` (same key, same length), so values of two
    /// fields can be compared.
    Shared {
        /// The beacon whose key is used.
        other: String,
    },
    /// The value must be a set; stored as a string set of the beacons of its elements.
    AsSet,
    /// [`BeaconStyle::Shared`] and [`BeaconStyle::AsSet`] at once.
    SharedSet {
        /// The beacon whose key is used.
        other: String,
    },
}

/// A standard beacon's configuration.
///
/// ```
/// use envelope_dbe::beacon::{BeaconHmacKey, BeaconStyle, StandardBeacon};
/// use envelope_dbe::item::AttributeValue;
/// let beacon = StandardBeacon::new("Name", 32)?;
/// let key = BeaconHmacKey::derive(&[1, 2, 3, 4, 5], beacon.key_name())?;
/// let value = beacon.hash_value(&key, &AttributeValue::S("MyName".into()), 0)?;
/// assert_eq!(value, Some(AttributeValue::S("7d9bfa40".into())));
/// assert_eq!(beacon.attribute_name(), "aws_dbe_b_Name");
///
/// let tags = StandardBeacon::new("tags", 8)?.with_style(BeaconStyle::AsSet);
/// assert!(tags.hash_value(&key, &AttributeValue::S("x".into()), 0).is_err());
/// assert!(tags.is_set() && tags.is_stored() && !beacon.is_set());
///
/// // Queries hash the string form, which for a string attribute is the same beacon.
/// assert_eq!(beacon.hash_string(&key, "MyName", 0), "7d9bfa40");
/// assert_eq!(beacon.hash_bytes(&key, b"MyName", 0), "7d9bfa40");
///
/// // A nested value, spread over 2 partitions.
/// let city = StandardBeacon::new("City", 16)?.with_location("Address.City")?.with_partitions(2);
/// assert_eq!((city.name(), city.length().bits(), city.partitions()), ("City", 16, Some(2)));
/// assert_eq!(city.location().to_string(), "Address.City");
/// assert_eq!(city.style(), &BeaconStyle::Plain);
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardBeacon {
    name: String,
    length: BeaconLength,
    location: TerminalLocation,
    style: BeaconStyle,
    partitions: Option<u8>,
}

impl StandardBeacon {
    /// A beacon named `name` of `length_bits` bits (1–63) over the top-level attribute `name`.
    pub fn new(name: impl Into<String>, length_bits: u32) -> Result<Self, BeaconError> {
        let name = name.into();
        Ok(Self {
            location: TerminalLocation::parse(&name)?,
            length: BeaconLength::new(length_bits)?,
            name,
            style: BeaconStyle::Plain,
            partitions: None,
        })
    }

    /// Reads the value at `location` (a document path or a virtual field name) instead.
    pub fn with_location(mut self, location: &str) -> Result<Self, BeaconError> {
        self.location = TerminalLocation::parse(location)?;
        Ok(self)
    }

    /// Sets the beacon's style.
    pub fn with_style(mut self, style: BeaconStyle) -> Self {
        self.style = style;
        self
    }

    /// Restricts the beacon to `count` partitions (the item's partition is taken modulo it).
    pub fn with_partitions(mut self, count: u8) -> Self {
        self.partitions = Some(count);
        self
    }

    /// The beacon's name, used in queries.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of bits kept.
    pub fn length(&self) -> BeaconLength {
        self.length
    }

    /// Where the value comes from.
    pub fn location(&self) -> &TerminalLocation {
        &self.location
    }

    /// The beacon's style.
    pub fn style(&self) -> &BeaconStyle {
        &self.style
    }

    /// The configured partition count, if any.
    pub fn partitions(&self) -> Option<u8> {
        self.partitions
    }

    /// The name whose HMAC key this beacon uses: its own, or the other beacon's when shared.
    pub fn key_name(&self) -> &str {
        match &self.style {
            BeaconStyle::Shared { other } | BeaconStyle::SharedSet { other } => other,
            _ => &self.name,
        }
    }

    /// True for the set styles.
    pub fn is_set(&self) -> bool {
        matches!(self.style, BeaconStyle::AsSet | BeaconStyle::SharedSet { .. })
    }

    /// True when the beacon is written into items (every style but part-only).
    pub fn is_stored(&self) -> bool {
        self.style != BeaconStyle::PartOnly
    }

    /// The attribute the beacon is stored in: `aws_dbe_b_<name>`.
    pub fn attribute_name(&self) -> String {
        format!("{BEACON_ATTRIBUTE_PREFIX}{}", self.name)
    }

    /// The beacon of serialized bytes: the basic hash after partition encoding (for partition
    /// `partition` of the item, reduced modulo the beacon's partition count).
    pub fn hash_bytes(&self, key: &BeaconHmacKey, bytes: &[u8], partition: u8) -> String {
        let effective = match self.partitions {
            Some(count) if count > 0 => partition % count,
            _ => partition,
        };
        if effective == 0 {
            key.basic_hash(bytes, self.length)
        } else {
            let mut extended = bytes.to_vec();
            extended.push(effective);
            key.basic_hash(&extended, self.length)
        }
    }

    /// The beacon of a string (UTF-8), as compound beacons and queries use it.
    pub fn hash_string(&self, key: &BeaconHmacKey, text: &str, partition: u8) -> String {
        self.hash_bytes(key, text.as_bytes(), partition)
    }

    /// The stored beacon of an attribute value: a string, or for the set styles a string set of
    /// the distinct element beacons (sorted). Part-only beacons give `None`.
    pub fn hash_value(
        &self,
        key: &BeaconHmacKey,
        value: &AttributeValue,
        partition: u8,
    ) -> Result<Option<AttributeValue>, BeaconError> {
        if !self.is_stored() {
            return Ok(None);
        }
        if !self.is_set() {
            let bytes = beacon_bytes(value, &self.name)?;
            return Ok(Some(AttributeValue::S(self.hash_bytes(key, &bytes, partition))));
        }
        let elements = set_element_bytes(value, &self.name)?.ok_or_else(|| BeaconError::UnsupportedValue {
            beacon: self.name.clone(),
            reason: "a set beacon's attribute is not a set",
        })?;
        let mut beacons: Vec<String> =
            elements.iter().map(|element| self.hash_bytes(key, element, partition)).collect();
        beacons.sort();
        beacons.dedup();
        Ok(Some(AttributeValue::Ss(beacons)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key12() -> BeaconHmacKey {
        BeaconHmacKey::from_raw(&[1, 2])
    }

    // Beacon.dfy TestBeacon: partition n appends the byte n; hmac8 last bytes 7e, 1d, ef.
    #[test]
    fn partitions_append_one_byte() {
        let beacon = StandardBeacon::new("foo", 8).unwrap();
        assert_eq!(beacon.hash_bytes(&key12(), &[1, 2, 3], 0), "7e");
        assert_eq!(beacon.hash_bytes(&key12(), &[1, 2, 3], 1), "1d");
        assert_eq!(beacon.hash_bytes(&key12(), &[1, 2, 3], 2), "ef");
        assert_eq!(beacon.hash_bytes(&key12(), &[], 0), "80");
        let two = beacon.clone().with_partitions(2);
        assert_eq!(two.hash_bytes(&key12(), &[1, 2, 3], 3), "1d");
        assert_eq!(two.hash_bytes(&key12(), &[1, 2, 3], 4), "7e");
    }

    // BeaconTestFixtures: std2 = N("1.23") at 24 bits → "ac6f5d", whatever the number's spelling.
    #[test]
    fn numbers_are_normalized_before_hashing() {
        let beacon = StandardBeacon::new("std2", 24).unwrap();
        let key = BeaconHmacKey::derive(&[1, 2, 3, 4, 5], "std2").unwrap();
        for spelling in ["1.23", "000001.23000000", "123e-2"] {
            let value = beacon.hash_value(&key, &AttributeValue::N(spelling.into()), 0).unwrap();
            assert_eq!(value, Some(AttributeValue::S("ac6f5d".into())), "{spelling}");
        }
    }

    // A list or map is hashed over its canonical serialization (value part, no type id).
    #[test]
    fn lists_and_maps_hash_their_serialization() {
        let beacon = StandardBeacon::new("doc", 32).unwrap();
        let key = BeaconHmacKey::derive(&[1, 2, 3, 4, 5], "doc").unwrap();
        let list = AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::N("01".into())]);
        let expected = key.basic_hash(&list.serialize().unwrap(), beacon.length());
        assert_eq!(beacon.hash_value(&key, &list, 0).unwrap(), Some(AttributeValue::S(expected)));
        let other = AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::N("1".into())]);
        assert_eq!(beacon.hash_value(&key, &other, 0), beacon.hash_value(&key, &list, 0));
    }

    #[test]
    fn set_styles() {
        let key = BeaconHmacKey::derive(&[1, 2, 3, 4, 5], "Name").unwrap();
        let set = StandardBeacon::new("Names", 32).unwrap().with_style(BeaconStyle::SharedSet { other: "Name".into() });
        assert_eq!(set.key_name(), "Name");
        let value = AttributeValue::Ss(vec!["MyName".into(), "".into(), "MyName".into()]);
        assert_eq!(
            set.hash_value(&key, &value, 0).unwrap(),
            Some(AttributeValue::Ss(vec!["7d9bfa40".into(), "e0e88994".into()]))
        );
        assert!(matches!(
            set.hash_value(&key, &AttributeValue::S("MyName".into()), 0),
            Err(BeaconError::UnsupportedValue { .. })
        ));
        let shared = StandardBeacon::new("Alias", 32).unwrap().with_style(BeaconStyle::Shared { other: "Name".into() });
        assert_eq!(
            shared.hash_value(&key, &AttributeValue::S("MyName".into()), 0).unwrap(),
            Some(AttributeValue::S("7d9bfa40".into()))
        );
        let part_only = StandardBeacon::new("P", 8).unwrap().with_style(BeaconStyle::PartOnly);
        assert_eq!(part_only.hash_value(&key, &AttributeValue::S("x".into()), 0).unwrap(), None);
        assert_eq!(part_only.hash_string(&key, "MyName", 0).len(), 2);
    }
}
