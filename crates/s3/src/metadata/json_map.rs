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

/// Writes `map` as compact JSON with every non-ASCII character as a `\uXXXX` escape (UTF-16,
/// surrogate pairs above U+FFFF), so the text is US-ASCII and any JSON reader gets the same map.
pub(crate) fn write_ascii(map: &BTreeMap<String, String>) -> String {
    let text = write(map);
    if text.is_ascii() {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut units = [0u16; 2];
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            // Non-ASCII characters only occur inside JSON strings, where escapes are allowed.
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
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
    fn ascii_writing_escapes_and_round_trips() {
        let map = BTreeMap::from([("clé".to_string(), "équipe 我 😀".to_string())]);
        let text = write_ascii(&map);
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains("\\u00e9") && text.contains("\\ud83d\\ude00"), "{text}");
        assert_eq!(parse(&text).unwrap(), map);
        let plain = BTreeMap::from([("a".to_string(), "b".to_string())]);
        assert_eq!(write_ascii(&plain), write(&plain));
    }

    #[test]
    fn round_trips_and_escapes() {
        let map = BTreeMap::from([("k\"".to_string(), "v\n".to_string())]);
        assert_eq!(parse(&write(&map)).unwrap(), map);
    }
}
