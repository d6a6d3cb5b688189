//! JSON objects of strings: material descriptions, KMS encryption contexts, instruction files.
//!
//! Parsed strictly: a value that is not a string, or a key given twice, is refused instead of
//! being coerced or silently overwritten (a duplicate key could hide a tampered value behind the
//! one a reviewer sees).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};

/// Parses `text` as a JSON object whose values are all strings.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let map = deserializer.deserialize_map(StringMapVisitor).map_err(|error| error.to_string())?;
    deserializer.end().map_err(|error| error.to_string())?;
    Ok(map)
}

/// Writes `map` as a compact JSON object (keys sorted, as the map holds them).
pub(crate) fn write(map: &BTreeMap<String, String>) -> String {
    // A map of strings always serializes; the fallback keeps this function total.
    serde_json::to_string(map).unwrap_or_else(|_| String::from("{}"))
}

struct StringMapVisitor;

impl<'de> Visitor<'de> for StringMapVisitor {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object whose values are strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = BTreeMap::new();
        while let Some((key, value)) = access.next_entry::<String, String>()? {
            if map.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("the key {key:?} appears twice")));
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_only_no_duplicates() {
        assert_eq!(parse(r#"{"a":"1","b":""}"#).unwrap().len(), 2);
        assert!(parse(r#"{"a":1}"#).is_err());
        assert!(parse(r#"{"a":"1","a":"2"}"#).unwrap_err().contains("twice"));
        assert!(parse(r#"["a"]"#).is_err());
        assert!(parse(r#"{"a":"1"} {}"#).is_err(), "trailing input");
        assert_eq!(parse("{}").unwrap(), BTreeMap::new());
    }

    #[test]
    fn round_trips_and_escapes() {
        let map = BTreeMap::from([("k\"".to_string(), "v\n".to_string())]);
        assert_eq!(parse(&write(&map)).unwrap(), map);
    }
}
