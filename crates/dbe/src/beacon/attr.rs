//! How beacons read the crate's attribute values: the bytes a standard beacon hashes and the
//! string form compound beacons and virtual fields use.
//!
//! spec: dynamodb-encryption-client/ddb-attribute-serialization.md (value part only);
//! the string form follows the DB-ESDK (numbers as written, `true`/`false`, `null`).

use std::collections::BTreeMap;

use crate::item::{AttributeValue, ValueError, normalize_number};

use super::error::BeaconError;

/// An item: attribute name → value.
///
/// ```
/// use envelope_dbe::beacon::Item;
/// use envelope_dbe::item::AttributeValue;
///
/// // The same map as envelope_dbe::item::Item.
/// let item: Item = [("Email".to_owned(), AttributeValue::S("a@example.com".into()))].into();
/// let same: envelope_dbe::item::Item = item.clone();
/// assert_eq!(item, same);
/// ```
pub type Item = BTreeMap<String, AttributeValue>;

/// The string form compound beacons and virtual fields use: a string as is, a number as
/// written, `true`/`false`, `null`; `None` for binary, sets, lists and maps.
pub(crate) fn plain_string(value: &AttributeValue) -> Option<String> {
    match value {
        AttributeValue::S(s) | AttributeValue::N(s) => Some(s.clone()),
        AttributeValue::Bool(b) => Some(b.to_string()),
        AttributeValue::Null => Some("null".to_owned()),
        _ => None,
    }
}

/// The bytes a standard beacon hashes: the canonical value serialization without the type id.
pub(crate) fn beacon_bytes(value: &AttributeValue, beacon: &str) -> Result<Vec<u8>, BeaconError> {
    value.serialize().map_err(|e| value_error(e, beacon))
}

/// For a set: the serialized bytes of each element (numbers normalized). `None` if not a set.
pub(crate) fn set_element_bytes(value: &AttributeValue, beacon: &str) -> Result<Option<Vec<Vec<u8>>>, BeaconError> {
    Ok(Some(match value {
        AttributeValue::Ss(items) => items.iter().map(|s| s.as_bytes().to_vec()).collect(),
        AttributeValue::Ns(items) => items
            .iter()
            .map(|n| normalize_number(n).map(String::into_bytes))
            .collect::<Result<_, _>>()
            .map_err(|e| value_error(e, beacon))?,
        AttributeValue::Bs(items) => items.clone(),
        _ => return Ok(None),
    }))
}

/// A value error without the value: the item model's errors quote numbers, and a beacon's
/// source is plaintext.
fn value_error(error: ValueError, beacon: &str) -> BeaconError {
    match error {
        ValueError::BadNumber(_) | ValueError::NumberOutOfRange(_) => BeaconError::InvalidNumber(beacon.to_owned()),
        ValueError::DuplicateSetMember => {
            BeaconError::UnsupportedValue { beacon: beacon.to_owned(), reason: "a set holds the same member twice" }
        }
        _ => BeaconError::UnsupportedValue { beacon: beacon.to_owned(), reason: "the value cannot be serialized" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_bytes() {
        let bytes = |v: AttributeValue| beacon_bytes(&v, "b");
        assert_eq!(bytes(AttributeValue::S("é".into())).unwrap(), "é".as_bytes());
        assert_eq!(bytes(AttributeValue::N("01.50".into())).unwrap(), b"1.5");
        assert_eq!(bytes(AttributeValue::Bool(true)).unwrap(), [1]);
        assert_eq!(bytes(AttributeValue::Null).unwrap(), b"");
        assert_eq!(bytes(AttributeValue::N("1e999".into())), Err(BeaconError::InvalidNumber("b".into())));
        let error = bytes(AttributeValue::N("secret-42".into())).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn sets() {
        let set = AttributeValue::Ss(vec!["b".into(), "a".into()]);
        assert_eq!(beacon_bytes(&set, "x").unwrap(), [0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'b']);
        let numbers = AttributeValue::Ns(vec!["01".into(), "2.0".into()]);
        assert_eq!(set_element_bytes(&numbers, "x").unwrap(), Some(vec![b"1".to_vec(), b"2".to_vec()]));
        assert_eq!(set_element_bytes(&AttributeValue::S("a".into()), "x").unwrap(), None);
    }

    #[test]
    fn plain_strings() {
        assert_eq!(plain_string(&AttributeValue::N("1984".into())).as_deref(), Some("1984"));
        assert_eq!(plain_string(&AttributeValue::Bool(false)).as_deref(), Some("false"));
        assert_eq!(plain_string(&AttributeValue::B(vec![1])), None);
    }
}
