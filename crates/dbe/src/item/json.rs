//! Items as DynamoDB JSON (`{"name": {"S": "text"}, ...}`), the form the official test vectors,
//! the AWS CLI and DynamoDB exports use. Reading also accepts the vectors' shorthand: a JSON
//! string is S, a JSON number is N, and NS members may be numbers.

use serde_json::{Map, Value};

use super::decrypt::Item;
use super::value::{AttributeValue, MAX_DEPTH};
use base64::Engine as _;

/// A JSON document that is not a DynamoDB item.
///
/// ```
/// use envelope_dbe::item::{item_from_json, JsonError};
///
/// assert!(matches!(item_from_json(b"[1, 2]"), Err(JsonError::NotAnObject)));
/// assert!(matches!(item_from_json(b"{"), Err(JsonError::Syntax(_))));
/// // Every value is tagged with its DynamoDB type.
/// assert!(matches!(item_from_json(br#"{"a": {"X": "1"}}"#), Err(JsonError::Value { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The bytes are not JSON.
    #[error("not JSON: {0}")]
    Syntax(String),
    /// The item is not a JSON object.
    #[error("an item must be a JSON object")]
    NotAnObject,
    /// A value of an attribute is malformed; `path` names it (`attr.inner[2]`).
    #[error("{path}: {problem}")]
    Value {
        /// Where, from the attribute name down.
        path: String,
        /// What is wrong.
        problem: &'static str,
    },
}

fn bad(path: &str, problem: &'static str) -> JsonError {
    JsonError::Value { path: path.to_owned(), problem }
}

/// Parses an item from DynamoDB JSON bytes.
///
/// ```
/// use envelope_dbe::item::{item_from_json, item_to_json, AttributeValue};
///
/// let item = item_from_json(br#"{"RecNum": 1, "Stuff": {"SS": ["a", "b"]}, "Bin": {"B": "AAE="}}"#)?;
/// assert_eq!(item["RecNum"], AttributeValue::N("1".into()));
/// assert_eq!(item["Bin"], AttributeValue::B(vec![0, 1]));
/// assert_eq!(item_to_json(&item)["RecNum"], serde_json::json!({"N": "1"}));
/// # Ok::<(), envelope_dbe::item::JsonError>(())
/// ```
pub fn item_from_json(bytes: &[u8]) -> Result<Item, JsonError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| JsonError::Syntax(e.to_string()))?;
    item_from_value(&value)
}

/// Converts a parsed JSON value to an item.
///
/// ```
/// use envelope_dbe::item::{item_from_value, AttributeValue};
///
/// let item = item_from_value(&serde_json::json!({"id": {"S": "1"}, "n": {"N": "2"}}))?;
/// assert_eq!(item["n"], AttributeValue::N("2".into()));
/// # Ok::<(), envelope_dbe::item::JsonError>(())
/// ```
pub fn item_from_value(value: &Value) -> Result<Item, JsonError> {
    let object = value.as_object().ok_or(JsonError::NotAnObject)?;
    object.iter().map(|(name, value)| Ok((name.clone(), attribute(value, name, 0)?))).collect()
}

fn text(value: &Value, path: &str) -> Result<String, JsonError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(bad(path, "expected a string or number")),
    }
}

fn binary(value: &Value, path: &str) -> Result<Vec<u8>, JsonError> {
    let text = value.as_str().ok_or_else(|| bad(path, "binary must be a base64 string"))?;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad(path, "binary must be base64"))
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, JsonError> {
    value.as_array().ok_or_else(|| bad(path, "expected an array"))
}

fn attribute(value: &Value, path: &str, depth: usize) -> Result<AttributeValue, JsonError> {
    if depth > MAX_DEPTH {
        return Err(bad(path, "nested deeper than 32 levels"));
    }
    match value {
        Value::String(text) => return Ok(AttributeValue::S(text.clone())),
        Value::Number(number) => return Ok(AttributeValue::N(number.to_string())),
        _ => {}
    }
    let object = value.as_object().ok_or_else(|| bad(path, "expected a string, number or one-member type object"))?;
    let mut members = object.iter();
    let (Some((tag, inner)), None) = (members.next(), members.next()) else {
        return Err(bad(path, "a typed value has exactly one member"));
    };
    let member = |i: usize| format!("{path}[{i}]");
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(inner.as_str().ok_or_else(|| bad(path, "S must be a string"))?.to_owned()),
        "N" => AttributeValue::N(text(inner, path)?),
        "B" => AttributeValue::B(binary(inner, path)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or_else(|| bad(path, "BOOL must be true or false"))?),
        "NULL" => AttributeValue::Null,
        "SS" => AttributeValue::Ss(
            array(inner, path)?
                .iter()
                .enumerate()
                .map(|(i, m)| m.as_str().map(str::to_owned).ok_or_else(|| bad(&member(i), "SS members are strings")))
                .collect::<Result<_, _>>()?,
        ),
        "NS" => AttributeValue::Ns(
            array(inner, path)?.iter().enumerate().map(|(i, m)| text(m, &member(i))).collect::<Result<_, _>>()?,
        ),
        "BS" => AttributeValue::Bs(
            array(inner, path)?.iter().enumerate().map(|(i, m)| binary(m, &member(i))).collect::<Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            array(inner, path)?
                .iter()
                .enumerate()
                .map(|(i, m)| attribute(m, &member(i), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(
            inner
                .as_object()
                .ok_or_else(|| bad(path, "M must be an object"))?
                .iter()
                .map(|(k, v)| Ok((k.clone(), attribute(v, &format!("{path}.{k}"), depth + 1)?)))
                .collect::<Result<_, JsonError>>()?,
        ),
        _ => return Err(bad(path, "unknown type tag")),
    })
}

/// An item as strict DynamoDB JSON (every value tagged; binary as standard base64).
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::item::{item_to_json, AttributeValue};
///
/// let item = BTreeMap::from([("flag".to_owned(), AttributeValue::Bool(true))]);
/// assert_eq!(item_to_json(&item), serde_json::json!({"flag": {"BOOL": true}}));
/// ```
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(name, value)| (name.clone(), attribute_to_json(value))).collect())
}

fn tagged(tag: &str, value: Value) -> Value {
    let mut object = Map::new();
    object.insert(tag.to_owned(), value);
    Value::Object(object)
}

fn attribute_to_json(value: &AttributeValue) -> Value {
    let b64 = |bytes: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    let strings = |items: &[String]| Value::Array(items.iter().cloned().map(Value::String).collect());
    match value {
        AttributeValue::S(text) => tagged("S", Value::String(text.clone())),
        AttributeValue::N(number) => tagged("N", Value::String(number.clone())),
        AttributeValue::B(bytes) => tagged("B", b64(bytes)),
        AttributeValue::Bool(flag) => tagged("BOOL", Value::Bool(*flag)),
        AttributeValue::Null => tagged("NULL", Value::Bool(true)),
        AttributeValue::Ss(items) => tagged("SS", strings(items)),
        AttributeValue::Ns(items) => tagged("NS", strings(items)),
        AttributeValue::Bs(items) => tagged("BS", Value::Array(items.iter().map(|b| b64(b)).collect())),
        AttributeValue::L(items) => tagged("L", Value::Array(items.iter().map(attribute_to_json).collect())),
        AttributeValue::M(map) => {
            tagged("M", Value::Object(map.iter().map(|(k, v)| (k.clone(), attribute_to_json(v))).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_and_errors_name_the_path() {
        let json = br#"{"s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": ""}, "t": {"BOOL": true},
            "z": {"NULL": true}, "ss": {"SS": ["a"]}, "ns": {"NS": ["1", 2.5]}, "bs": {"BS": ["AA==", ""]},
            "l": {"L": [1, "two", {"M": {"k": {"NULL": true}}}]}, "m": {"M": {"in": {"L": []}}}}"#;
        let item = item_from_json(json).unwrap();
        assert_eq!(item["ns"], AttributeValue::Ns(vec!["1".into(), "2.5".into()]));
        assert_eq!(item_from_value(&item_to_json(&item)).unwrap(), item);

        for (input, path) in [
            (&br#"{"a": {"L": [1, {"X": 1}]}}"#[..], "a[1]"),
            (br#"{"a": {"M": {"k": {"B": "!"}}}}"#, "a.k"),
            (br#"{"a": {"S": "x", "N": "1"}}"#, "a"),
            (br#"{"a": true}"#, "a"),
            (br#"{"a": {"SS": [1]}}"#, "a[0]"),
        ] {
            match item_from_json(input) {
                Err(JsonError::Value { path: found, .. }) => assert_eq!(found, path),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(input)),
            }
        }
        assert_eq!(item_from_json(b"[]"), Err(JsonError::NotAnObject));
        assert!(matches!(item_from_json(b"{"), Err(JsonError::Syntax(_))));
    }
}
