//! Items in DynamoDB's JSON form (`{"enc": {"B": "<base64>"}, "type": {"S": "branch:ACTIVE"}, …}`),
//! the form `aws dynamodb get-item` prints and `put-item` reads. The SQLite store keeps each item
//! this way, so an item moves between a SQLite store and a DynamoDB table without conversion.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::item::{AttributeValue, RawItem};

/// The item as a DynamoDB JSON object.
///
/// ```
/// use envelope_keystore::ddb_json;
/// use envelope_keystore::item::{AttributeValue, RawItem};
///
/// let item = RawItem::from([
///     ("type".to_owned(), AttributeValue::S("branch:ACTIVE".into())),
///     ("hierarchy-version".to_owned(), AttributeValue::N("1".into())),
///     ("enc".to_owned(), AttributeValue::B(vec![0, 1, 255])),
/// ]);
/// let json = ddb_json::to_json(&item);
/// assert_eq!(json["enc"]["B"], "AAH/");
/// assert_eq!(json["hierarchy-version"]["N"], "1");
/// ```
pub fn to_json(item: &RawItem) -> Value {
    let object: Map<String, Value> = item
        .iter()
        .map(|(name, value)| {
            let (tag, text) = match value {
                AttributeValue::S(s) => ("S", s.clone()),
                AttributeValue::N(n) => ("N", n.clone()),
                AttributeValue::B(b) => ("B", STANDARD.encode(b)),
            };
            (name.clone(), Value::Object(Map::from_iter([(tag.to_owned(), Value::String(text))])))
        })
        .collect();
    Value::Object(object)
}

/// Reads a DynamoDB JSON object holding S, N and B attributes only (the only types a key-store
/// item has).
///
/// ```
/// use envelope_keystore::ddb_json;
/// use envelope_keystore::item::AttributeValue;
///
/// // As `aws dynamodb get-item` prints it.
/// let json = serde_json::json!({"type": {"S": "beacon:ACTIVE"}, "enc": {"B": "AAH/"}});
/// let item = ddb_json::from_json(&json)?;
/// assert_eq!(item["enc"], AttributeValue::B(vec![0, 1, 255]));
/// // Other DynamoDB types are not key-store attributes.
/// assert!(ddb_json::from_json(&serde_json::json!({"tags": {"SS": ["a"]}})).is_err());
/// # Ok::<(), String>(())
/// ```
pub fn from_json(value: &Value) -> Result<RawItem, String> {
    let object = value.as_object().ok_or("the item is not a JSON object")?;
    let mut item = RawItem::new();
    for (name, typed) in object {
        let typed = typed.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
            format!("attribute {name:?} is not a DynamoDB JSON value ({{\"S\": …}}, {{\"N\": …}} or {{\"B\": …}})")
        })?;
        let Some((tag, text)) = typed.iter().next() else {
            return Err(format!("attribute {name:?} has no value"));
        };
        let text = text.as_str().ok_or_else(|| format!("attribute {name:?}: the {tag} value is not a JSON string"))?;
        let value = match tag.as_str() {
            "S" => AttributeValue::S(text.to_owned()),
            "N" => AttributeValue::N(text.to_owned()),
            "B" => AttributeValue::B(
                STANDARD.decode(text).map_err(|e| format!("attribute {name:?}: the B value is not base64: {e}"))?,
            ),
            other => return Err(format!("attribute {name:?} has type {other:?}; key-store items use S, N and B only")),
        };
        item.insert(name.clone(), value);
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let item = RawItem::from([
            ("type".to_owned(), AttributeValue::S("branch:ACTIVE".into())),
            ("hierarchy-version".to_owned(), AttributeValue::N("1".into())),
            ("enc".to_owned(), AttributeValue::B(vec![0, 1, 255])),
        ]);
        let json = to_json(&item);
        assert_eq!(json["enc"]["B"], "AAH/");
        assert_eq!(from_json(&json).unwrap(), item);
        for bad in [r#"[]"#, r#"{"a": "x"}"#, r#"{"a": {"SS": ["x"]}}"#, r#"{"a": {"B": "!"}}"#, r#"{"a": {"S": 1}}"#] {
            assert!(from_json(&serde_json::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
