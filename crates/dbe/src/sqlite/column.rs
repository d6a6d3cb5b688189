//! How attribute values become SQLite column values, and how a whole stored item is kept in its
//! one column.
//!
//! Column values are exact, so a key or beacon column can be compared with the item it came
//! from: S → TEXT, N → INTEGER when the normalized number is an integer that fits 64 bits, else
//! its normalized text, B → BLOB, BOOL → INTEGER 0/1, NULL → NULL. Lists, maps and sets have no
//! column form (NULL).
//!
//! The item column holds the stored item (header, footer, ciphertexts, beacons) as the
//! DB-ESDK's canonical serialization of a map: lossless for everything the footer signs, so the
//! row converts back to exactly the item DynamoDB would hold.

use rusqlite::types::Value;

use super::error::TableError;
use crate::item::{AttributeValue, Item, TypeId, normalize_number};

/// The column form of `value`, `None` for types without one.
pub(crate) fn column_value(value: &AttributeValue) -> Option<Value> {
    Some(match value {
        AttributeValue::S(text) => Value::Text(text.clone()),
        AttributeValue::N(number) => {
            let normalized = normalize_number(number).ok()?;
            match normalized.parse::<i64>() {
                Ok(integer) => Value::Integer(integer),
                Err(_) => Value::Text(normalized),
            }
        }
        AttributeValue::B(bytes) => Value::Blob(bytes.clone()),
        AttributeValue::Bool(flag) => Value::Integer(i64::from(*flag)),
        AttributeValue::Null => Value::Null,
        _ => return None,
    })
}

/// The column form of a primary key attribute of `item`.
pub(crate) fn key_value(item: &Item, name: &str) -> Result<Value, TableError> {
    let value = item.get(name).ok_or_else(|| TableError::MissingKey(name.to_owned()))?;
    match value {
        AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_) => {
            column_value(value).ok_or_else(|| TableError::KeyType(name.to_owned()))
        }
        _ => Err(TableError::KeyType(name.to_owned())),
    }
}

/// The item column's bytes.
pub(crate) fn encode_item(item: &Item) -> Result<Vec<u8>, TableError> {
    AttributeValue::M(item.clone()).serialize().map_err(TableError::StoredItem)
}

/// The item held in an item column.
pub(crate) fn decode_item(bytes: &[u8]) -> Result<Item, TableError> {
    match AttributeValue::deserialize(TypeId::M, bytes).map_err(TableError::StoredItem)? {
        AttributeValue::M(item) => Ok(item),
        _ => Err(TableError::StoredItem(crate::item::ValueError::Truncated)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact() {
        assert_eq!(column_value(&AttributeValue::N("0800.0".into())), Some(Value::Integer(800)));
        assert_eq!(column_value(&AttributeValue::N("1.50".into())), Some(Value::Text("1.5".into())));
        let big = "123456789012345678901234567890";
        assert_eq!(column_value(&AttributeValue::N(big.into())), Some(Value::Text(big.into())));
        assert_eq!(column_value(&AttributeValue::L(vec![])), None);
    }

    #[test]
    fn item_column_round_trips_and_refuses_garbage() {
        let item: Item =
            [("a".to_owned(), AttributeValue::S("x".into())), ("b".to_owned(), AttributeValue::B(vec![0, 1]))].into();
        assert_eq!(decode_item(&encode_item(&item).unwrap()).unwrap(), item);
        assert!(matches!(decode_item(&[0, 0, 0, 1, 9]), Err(TableError::StoredItem(_))));
    }
}
