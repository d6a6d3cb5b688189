//! The attribute values beacons read: the DynamoDB value model, kept minimal here until the
//! crate's item model is shared.
//!
//! spec: dynamodb-encryption-client/ddb-attribute-serialization.md (value part only)

use std::collections::BTreeMap;

use super::error::BeaconError;
use super::number;

/// One attribute value, as DynamoDB types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A string.
    S(String),
    /// A number, as its decimal text.
    N(String),
    /// Binary data.
    B(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// The null value.
    Null,
    /// A list of values.
    L(Vec<AttrValue>),
    /// A map of names to values.
    M(BTreeMap<String, AttrValue>),
    /// A string set.
    Ss(Vec<String>),
    /// A number set.
    Ns(Vec<String>),
    /// A binary set.
    Bs(Vec<Vec<u8>>),
}

/// An item: attribute name → value.
pub type Item = BTreeMap<String, AttrValue>;

impl AttrValue {
    /// The string form compound beacons and virtual fields use: a string as is, a number as
    /// written, `true`/`false`, `null`; `None` for binary, sets, lists and maps.
    pub(crate) fn as_plain_string(&self) -> Option<String> {
        match self {
            Self::S(s) | Self::N(s) => Some(s.clone()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Null => Some("null".to_owned()),
            _ => None,
        }
    }

    /// The bytes a standard beacon hashes: the value part of the DB-ESDK attribute
    /// serialization (no type id). Lists and maps are not supported yet.
    pub(crate) fn beacon_bytes(&self, beacon: &str) -> Result<Vec<u8>, BeaconError> {
        match self {
            Self::S(s) => Ok(s.as_bytes().to_vec()),
            Self::N(n) => Ok(normalized(n, beacon)?.into_bytes()),
            Self::B(b) => Ok(b.clone()),
            Self::Bool(b) => Ok(vec![u8::from(*b)]),
            Self::Null => Ok(Vec::new()),
            Self::Ss(_) | Self::Ns(_) | Self::Bs(_) => {
                let entries = self.set_element_bytes(beacon)?.unwrap_or_default();
                Ok(serialize_set(entries))
            }
            Self::L(_) | Self::M(_) => Err(BeaconError::UnsupportedValue {
                beacon: beacon.to_owned(),
                reason: "beacons over lists and maps are not supported yet",
            }),
        }
    }

    /// For a set: the serialized bytes of each distinct element, in the set's canonical order
    /// (strings and numbers by UTF-16 code units, binaries by bytes). `None` if not a set.
    pub(crate) fn set_element_bytes(&self, beacon: &str) -> Result<Option<Vec<Vec<u8>>>, BeaconError> {
        let mut entries: Vec<Vec<u8>> = match self {
            Self::Ss(items) => {
                let mut sorted: Vec<&String> = items.iter().collect();
                sorted.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
                sorted.into_iter().map(|s| s.as_bytes().to_vec()).collect()
            }
            Self::Ns(items) => {
                // Normalized numbers are ASCII, so byte order is UTF-16 order.
                let mut normal = items.iter().map(|n| normalized(n, beacon).map(String::into_bytes)).collect::<Result<
                    Vec<_>,
                    _,
                >>(
                )?;
                normal.sort();
                normal
            }
            Self::Bs(items) => {
                let mut sorted = items.clone();
                sorted.sort();
                sorted
            }
            _ => return Ok(None),
        };
        entries.dedup();
        Ok(Some(entries))
    }
}

fn normalized(number: &str, beacon: &str) -> Result<String, BeaconError> {
    number::normalize(number).ok_or_else(|| BeaconError::InvalidNumber(beacon.to_owned()))
}

/// Set serialization: a 4-byte big-endian count, then each entry as a 4-byte big-endian length
/// followed by its bytes.
fn serialize_set(entries: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for entry in entries {
        out.extend_from_slice(&(entry.len() as u32).to_be_bytes());
        out.extend_from_slice(&entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_bytes() {
        assert_eq!(AttrValue::S("é".into()).beacon_bytes("b").unwrap(), "é".as_bytes());
        assert_eq!(AttrValue::N("01.50".into()).beacon_bytes("b").unwrap(), b"1.5");
        assert_eq!(AttrValue::Bool(true).beacon_bytes("b").unwrap(), [1]);
        assert_eq!(AttrValue::Null.beacon_bytes("b").unwrap(), b"");
        assert_eq!(AttrValue::N("x".into()).beacon_bytes("b"), Err(BeaconError::InvalidNumber("b".into())));
    }

    #[test]
    fn sets_are_sorted_deduplicated_and_length_prefixed() {
        let set = AttrValue::Ss(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(set.beacon_bytes("x").unwrap(), [0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'b']);
        // U+1F600 (surrogates 0xD83D 0xDE00) sorts before U+FF61 in UTF-16, after it in UTF-8.
        let set = AttrValue::Ss(vec!["\u{1F600}".into(), "\u{FF61}".into()]);
        let entries = set.set_element_bytes("x").unwrap().unwrap();
        assert_eq!(entries[0], "\u{1F600}".as_bytes());
    }

    #[test]
    fn plain_strings() {
        assert_eq!(AttrValue::N("1984".into()).as_plain_string().as_deref(), Some("1984"));
        assert_eq!(AttrValue::Bool(false).as_plain_string().as_deref(), Some("false"));
        assert_eq!(AttrValue::B(vec![1]).as_plain_string(), None);
    }
}
