//! DynamoDB JSON (`{"S": "..."}`, `{"N": "..."}`, `{"B": base64}`, ...) to and from
//! aws-sdk-dynamodb's `AttributeValue`, for the items the peer reads and prints.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::Blob;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::BoxError;

type Item = HashMap<String, AttributeValue>;

/// One item (an object) or several (an array of objects).
pub fn items_from_json(text: &str) -> Result<Vec<Item>, BoxError> {
    match serde_json::from_str::<Value>(text)? {
        Value::Array(values) => values.iter().map(item_from_value).collect(),
        value => Ok(vec![item_from_value(&value)?]),
    }
}

fn item_from_value(value: &Value) -> Result<Item, BoxError> {
    let map = value.as_object().ok_or("an item must be a JSON object")?;
    map.iter().map(|(name, value)| Ok((name.clone(), attribute(value)?))).collect()
}

fn strings(value: &Value) -> Result<Vec<String>, BoxError> {
    let list = value.as_array().ok_or("a set must be an array")?;
    list.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "a set member must be a string".into())).collect()
}

fn attribute(value: &Value) -> Result<AttributeValue, BoxError> {
    let map = value.as_object().filter(|m| m.len() == 1).ok_or("an attribute value is an object with one member")?;
    let (tag, inner) = map.iter().next().ok_or("empty attribute value")?;
    let text = || inner.as_str().ok_or_else(|| BoxError::from(format!("{tag} takes a string")));
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(text()?.to_owned()),
        "N" => AttributeValue::N(text()?.to_owned()),
        "B" => AttributeValue::B(Blob::new(STANDARD.decode(text()?)?)),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL takes true or false")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings(inner)?),
        "NS" => AttributeValue::Ns(strings(inner)?),
        "BS" => AttributeValue::Bs(
            strings(inner)?.iter().map(|s| Ok(Blob::new(STANDARD.decode(s)?))).collect::<Result<_, BoxError>>()?,
        ),
        "L" => AttributeValue::L(
            inner.as_array().ok_or("L takes an array")?.iter().map(attribute).collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_from_value(inner)?),
        other => return Err(format!("unknown attribute type {other}").into()),
    })
}

/// An item as one line of DynamoDB JSON, members sorted by name.
pub fn item_to_json(item: &Item) -> String {
    Value::Object(to_map(item)).to_string()
}

fn to_map(item: &Item) -> Map<String, Value> {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), value_to_json(&item[name]))).collect()
}

fn value_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": STANDARD.encode(b.as_ref())}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::Ss(list) => json!({"SS": list}),
        AttributeValue::Ns(list) => json!({"NS": list}),
        AttributeValue::Bs(list) => json!({"BS": list.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>()}),
        AttributeValue::L(list) => json!({"L": list.iter().map(value_to_json).collect::<Vec<_>>()}),
        AttributeValue::M(map) => json!({"M": to_map(map)}),
        _ => json!({"UNKNOWN": null}),
    }
}
