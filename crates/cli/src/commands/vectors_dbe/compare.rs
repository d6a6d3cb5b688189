//! The comparison the official runners make: numbers normalized, sets de-duplicated and sorted,
//! recursively, and the SDK's own `aws_dbe_*` attributes left out.

use envelope_dbe::item::{AttributeValue, Item, RESERVED_PREFIX, normalize_number};

/// `item` without `aws_dbe_*` attributes, every value normalized.
pub fn normalized_item(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| !name.starts_with(RESERVED_PREFIX))
        .map(|(name, value)| (name.clone(), normalized(value)))
        .collect()
}

fn number(text: &str) -> String {
    // A number that does not normalize stays as written: the comparison then fails on it.
    normalize_number(text).unwrap_or_else(|_| text.to_owned())
}

fn set<T: Ord>(mut members: Vec<T>) -> Vec<T> {
    members.sort();
    members.dedup();
    members
}

fn normalized(value: &AttributeValue) -> AttributeValue {
    match value {
        AttributeValue::N(text) => AttributeValue::N(number(text)),
        AttributeValue::Ns(members) => AttributeValue::Ns(set(members.iter().map(|m| number(m)).collect())),
        AttributeValue::Ss(members) => AttributeValue::Ss(set(members.clone())),
        AttributeValue::Bs(members) => AttributeValue::Bs(set(members.clone())),
        AttributeValue::L(items) => AttributeValue::L(items.iter().map(normalized).collect()),
        AttributeValue::M(map) => AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        other => other.clone(),
    }
}

/// The names of the attributes where two normalized items differ (for a failure message that
/// names attributes, never values).
pub fn differing(left: &Item, right: &Item) -> Vec<String> {
    let mut names: Vec<String> =
        left.keys().chain(right.keys()).filter(|name| left.get(*name) != right.get(*name)).cloned().collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sets_normalize_recursively() {
        let v = |json: &str| envelope_dbe::item::item_from_json(json.as_bytes()).unwrap();
        let a =
            v(r#"{"n": {"N": "0800.000e0"}, "s": {"NS": ["2000.000", "2e3", "00.0011"]}, "aws_dbe_head": {"B": ""},
                      "l": {"L": [{"SS": ["b", "a", "a"]}]}}"#);
        let b = v(r#"{"n": 800, "s": {"NS": ["0.0011", "2000"]}, "l": {"L": [{"SS": ["a", "b"]}]}}"#);
        assert_eq!(normalized_item(&a), normalized_item(&b));
        let c = v(r#"{"n": 801, "s": {"NS": ["0.0011", "2000"]}, "l": {"L": [{"SS": ["a", "b"]}]}}"#);
        assert_eq!(differing(&normalized_item(&a), &normalized_item(&c)), ["n"]);
    }
}
