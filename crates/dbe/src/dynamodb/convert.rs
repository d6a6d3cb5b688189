//! Conversions between envelope's attribute model ([`item::AttributeValue`]) and
//! aws-sdk-dynamodb's ([`aws_sdk_dynamodb::types::AttributeValue`]), one value or a whole item.
//!
//! Ours → the SDK's always succeeds. The SDK's → ours can fail: the SDK's enum is open (an
//! `Unknown` variant for types a newer service might add), DynamoDB's NULL is `NULL: true` only,
//! and a server answer could nest deeper than DynamoDB allows (checked here so that recursion over
//! an untrusted answer is bounded).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue as SdkValue;

use crate::item::{self, AttributeValue, MAX_DEPTH};

/// An SDK value that has no equivalent in the DynamoDB attribute model.
///
/// ```
/// use std::collections::HashMap;
/// use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
/// use envelope_dbe::dynamodb::{from_sdk_item, ConversionError};
///
/// // DynamoDB's NULL is always true; NULL false is not a value.
/// let item = HashMap::from([("gone".to_owned(), SdkValue::Null(false))]);
/// assert!(matches!(from_sdk_item(&item), Err(ConversionError::NullFalse(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    /// A value of a type this SDK version does not know (`AttributeValue::Unknown`).
    #[error("attribute {0:?} has a type the DynamoDB SDK does not know")]
    UnknownType(String),
    /// `NULL: false`, which DynamoDB never stores.
    #[error("attribute {0:?} is NULL with the value false")]
    NullFalse(String),
    /// Nesting deeper than DynamoDB's 32 levels.
    #[error("attribute {0:?} is nested deeper than 32 levels")]
    TooDeep(String),
}

/// Converts one of our values into the SDK's.
///
/// ```
/// use envelope_dbe::dynamodb::to_sdk_value;
/// use envelope_dbe::item::AttributeValue;
/// use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
///
/// let sdk = to_sdk_value(&AttributeValue::Ns(vec!["1".into(), "2.5".into()]));
/// assert_eq!(sdk, SdkValue::Ns(vec!["1".into(), "2.5".into()]));
/// ```
pub fn to_sdk_value(value: &AttributeValue) -> SdkValue {
    match value {
        AttributeValue::S(text) => SdkValue::S(text.clone()),
        AttributeValue::N(number) => SdkValue::N(number.clone()),
        AttributeValue::B(bytes) => SdkValue::B(Blob::new(bytes.clone())),
        AttributeValue::Bool(flag) => SdkValue::Bool(*flag),
        AttributeValue::Null => SdkValue::Null(true),
        AttributeValue::L(list) => SdkValue::L(list.iter().map(to_sdk_value).collect()),
        AttributeValue::M(map) => {
            SdkValue::M(map.iter().map(|(name, value)| (name.clone(), to_sdk_value(value))).collect())
        }
        AttributeValue::Ss(members) => SdkValue::Ss(members.clone()),
        AttributeValue::Ns(members) => SdkValue::Ns(members.clone()),
        AttributeValue::Bs(members) => SdkValue::Bs(members.iter().map(|m| Blob::new(m.clone())).collect()),
    }
}

/// Converts an SDK value into ours; `name` only labels errors (the top-level attribute name).
///
/// ```
/// use envelope_dbe::dynamodb::from_sdk_value;
/// use envelope_dbe::item::AttributeValue;
/// use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
///
/// let ours = from_sdk_value("Tags", &SdkValue::L(vec![SdkValue::S("a".into()), SdkValue::Null(true)]))?;
/// assert_eq!(ours, AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::Null]));
/// assert!(from_sdk_value("Bad", &SdkValue::Null(false)).is_err());
/// # Ok::<(), envelope_dbe::dynamodb::ConversionError>(())
/// ```
pub fn from_sdk_value(name: &str, value: &SdkValue) -> Result<AttributeValue, ConversionError> {
    from_sdk_at_depth(name, value, 1)
}

fn from_sdk_at_depth(name: &str, value: &SdkValue, depth: usize) -> Result<AttributeValue, ConversionError> {
    if depth > MAX_DEPTH {
        return Err(ConversionError::TooDeep(name.to_owned()));
    }
    Ok(match value {
        SdkValue::S(text) => AttributeValue::S(text.clone()),
        SdkValue::N(number) => AttributeValue::N(number.clone()),
        SdkValue::B(blob) => AttributeValue::B(blob.as_ref().to_vec()),
        SdkValue::Bool(flag) => AttributeValue::Bool(*flag),
        SdkValue::Null(true) => AttributeValue::Null,
        SdkValue::Null(false) => return Err(ConversionError::NullFalse(name.to_owned())),
        SdkValue::L(list) => {
            AttributeValue::L(list.iter().map(|v| from_sdk_at_depth(name, v, depth + 1)).collect::<Result<_, _>>()?)
        }
        SdkValue::M(map) => AttributeValue::M(
            map.iter()
                .map(|(key, v)| Ok((key.clone(), from_sdk_at_depth(name, v, depth + 1)?)))
                .collect::<Result<_, ConversionError>>()?,
        ),
        SdkValue::Ss(members) => AttributeValue::Ss(members.clone()),
        SdkValue::Ns(members) => AttributeValue::Ns(members.clone()),
        SdkValue::Bs(members) => AttributeValue::Bs(members.iter().map(|m| m.as_ref().to_vec()).collect()),
        _ => return Err(ConversionError::UnknownType(name.to_owned())),
    })
}

/// Converts one of our items into the SDK's item map.
///
/// ```
/// use std::collections::BTreeMap;
/// use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
/// use envelope_dbe::dynamodb::to_sdk_item;
/// use envelope_dbe::item::AttributeValue;
///
/// let item = BTreeMap::from([("id".to_owned(), AttributeValue::S("1".into()))]);
/// assert_eq!(to_sdk_item(&item)["id"], SdkValue::S("1".into()));
/// ```
pub fn to_sdk_item(item: &item::Item) -> HashMap<String, SdkValue> {
    item.iter().map(|(name, value)| (name.clone(), to_sdk_value(value))).collect()
}

/// Converts an SDK item map into ours (sorted by attribute name).
///
/// ```
/// use std::collections::HashMap;
/// use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
/// use envelope_dbe::dynamodb::from_sdk_item;
/// use envelope_dbe::item::AttributeValue;
///
/// let item = HashMap::from([("n".to_owned(), SdkValue::N("7".into()))]);
/// assert_eq!(from_sdk_item(&item)?["n"], AttributeValue::N("7".into()));
/// # Ok::<(), envelope_dbe::dynamodb::ConversionError>(())
/// ```
pub fn from_sdk_item(item: &HashMap<String, SdkValue>) -> Result<item::Item, ConversionError> {
    item.iter()
        .map(|(name, value)| Ok((name.clone(), from_sdk_value(name, value)?)))
        .collect::<Result<BTreeMap<_, _>, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> AttributeValue {
        let mut map = BTreeMap::new();
        map.insert("s".to_owned(), AttributeValue::S("text".into()));
        map.insert("n".to_owned(), AttributeValue::N("-1.5e3".into()));
        map.insert("b".to_owned(), AttributeValue::B(vec![0, 1, 255]));
        map.insert("bool".to_owned(), AttributeValue::Bool(true));
        map.insert("null".to_owned(), AttributeValue::Null);
        map.insert("ss".to_owned(), AttributeValue::Ss(vec!["x".into(), "y".into()]));
        map.insert("ns".to_owned(), AttributeValue::Ns(vec!["1".into(), "2".into()]));
        map.insert("bs".to_owned(), AttributeValue::Bs(vec![vec![1], vec![2, 3]]));
        map.insert("empty list".to_owned(), AttributeValue::L(vec![]));
        map.insert("empty map".to_owned(), AttributeValue::M(BTreeMap::new()));
        AttributeValue::L(vec![AttributeValue::M(map.clone()), AttributeValue::L(vec![AttributeValue::M(map)])])
    }

    #[test]
    fn every_type_round_trips_nested() {
        let value = every_type();
        let sdk = to_sdk_value(&value);
        assert_eq!(from_sdk_value("a", &sdk).unwrap(), value);
    }

    #[test]
    fn each_type_maps_to_the_sdk_variant_of_the_same_name() {
        assert_eq!(to_sdk_value(&AttributeValue::S("a".into())), SdkValue::S("a".into()));
        assert_eq!(to_sdk_value(&AttributeValue::N("1".into())), SdkValue::N("1".into()));
        assert_eq!(to_sdk_value(&AttributeValue::B(vec![7])), SdkValue::B(Blob::new(vec![7])));
        assert_eq!(to_sdk_value(&AttributeValue::Bool(false)), SdkValue::Bool(false));
        assert_eq!(to_sdk_value(&AttributeValue::Null), SdkValue::Null(true));
        assert_eq!(to_sdk_value(&AttributeValue::L(vec![])), SdkValue::L(vec![]));
        assert_eq!(to_sdk_value(&AttributeValue::M(BTreeMap::new())), SdkValue::M(HashMap::new()));
        assert_eq!(to_sdk_value(&AttributeValue::Ss(vec!["a".into()])), SdkValue::Ss(vec!["a".into()]));
        assert_eq!(to_sdk_value(&AttributeValue::Ns(vec!["1".into()])), SdkValue::Ns(vec!["1".into()]));
        assert_eq!(to_sdk_value(&AttributeValue::Bs(vec![vec![1]])), SdkValue::Bs(vec![Blob::new(vec![1])]));
    }

    #[test]
    fn items_round_trip() {
        let mut item = item::Item::new();
        item.insert("pk".into(), AttributeValue::S("k".into()));
        item.insert("all".into(), every_type());
        assert_eq!(from_sdk_item(&to_sdk_item(&item)).unwrap(), item);
    }

    #[test]
    fn null_false_is_refused_with_the_attribute_name() {
        let nested = SdkValue::M(HashMap::from([("x".to_owned(), SdkValue::Null(false))]));
        assert_eq!(from_sdk_value("Top", &nested), Err(ConversionError::NullFalse("Top".into())));
    }

    #[test]
    fn nesting_beyond_dynamodb_limit_is_refused() {
        let mut value = SdkValue::S("leaf".into());
        for _ in 0..MAX_DEPTH - 1 {
            value = SdkValue::L(vec![value]);
        }
        assert!(from_sdk_value("deep", &value).is_ok());
        let too_deep = SdkValue::L(vec![value]);
        assert_eq!(from_sdk_value("deep", &too_deep), Err(ConversionError::TooDeep("deep".into())));
    }
}
