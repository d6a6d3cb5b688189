//! Checks the `dbe_*` cargo-fuzz targets run, shared with `tests/fuzz_corpus.rs` so what is
//! fuzzed and what is replayed cannot drift apart. Not part of the public API.

use crate::item::{AttributeValue, Footer, Header, item_from_json, item_from_value, item_to_json};

/// `aws_dbe_head`: whatever parses re-serializes to exactly the input (the parser admits one
/// encoding per header), and every shorter prefix fails. Returns whether it parsed.
pub fn check_header(data: &[u8]) -> bool {
    let Ok(header) = Header::parse(data) else { return false };
    let bytes = header.to_bytes().expect("a parsed header serializes");
    assert_eq!(bytes, data, "re-serialized header differs");
    for end in [0, data.len() / 2, data.len() - 1] {
        assert!(Header::parse(&data[..end]).is_err(), "prefix of {end} bytes parsed");
    }
    true
}

/// `aws_dbe_foot`: first byte = EDK count, second byte's low bit = signed suite, the rest the
/// footer. Whatever parses re-serializes to the input. Returns whether it parsed.
pub fn check_footer(data: &[u8]) -> bool {
    let [count, flags, footer @ ..] = data else { return false };
    let Ok(parsed) = Footer::parse(footer, *count as usize, flags & 1 == 1) else { return false };
    assert_eq!(parsed.to_bytes().expect("a parsed footer serializes"), footer);
    true
}

/// A typed attribute value (type id + canonical bytes): whatever parses serializes, and its
/// serialization is a fixed point (parses back to a value with the same bytes; sets may come back
/// in canonical order). Returns whether it parsed.
pub fn check_value(data: &[u8]) -> bool {
    let Ok(value) = AttributeValue::deserialize_typed(data) else { return false };
    let bytes = value.serialize_typed().expect("a parsed value serializes");
    let again = AttributeValue::deserialize_typed(&bytes).expect("a serialized value parses");
    assert_eq!(again.serialize_typed().expect("serializes"), bytes);
    true
}

/// DynamoDB JSON items: whatever parses writes back as strict DynamoDB JSON that parses to the
/// same item. Returns whether it parsed.
pub fn check_item_json(data: &[u8]) -> bool {
    let Ok(item) = item_from_json(data) else { return false };
    let again = item_from_value(&item_to_json(&item)).expect("written JSON parses");
    assert_eq!(again, item);
    true
}

/// Table configs as JSON: whatever parses has beacon versions that build against its actions,
/// and computing the beacons of a small item under each never panics. Returns whether it parsed.
pub fn check_table_config(data: &[u8]) -> bool {
    use crate::beacon::{BeaconKeys, BeaconVersion};
    let Ok(parsed) = crate::config_json::table_config_from_json(data) else { return false };
    let item: crate::beacon::Item =
        parsed.table.actions.keys().map(|name| (name.clone(), AttributeValue::S(format!("{name}-value")))).collect();
    for version in parsed.search.iter().flat_map(|search| &search.versions) {
        let built = BeaconVersion::new(version.config.clone(), &parsed.table.actions).expect("parsed versions build");
        let keys = BeaconKeys::derive(&[1, 2, 3, 4, 5], &built).expect("keys derive");
        let _ = built.beacons(&item, &keys, 0);
    }
    true
}

/// DynamoDB condition expressions (`dbe_ddb_expression`): the input, as lossy UTF-8, parsed with
/// fixed placeholders (`#a`, `#b` names; `:s`, `:n`, `:b`, `:l` values). Whatever parses renders
/// back to an expression that parses to the same condition. Returns whether it parsed.
pub fn check_ddb_expression(data: &[u8]) -> bool {
    use crate::dynamodb::{Expression, parse};
    use std::collections::HashMap;

    let text = String::from_utf8_lossy(data);
    let names = HashMap::from([("#a".to_owned(), "Email".to_owned()), ("#b".to_owned(), "a.b c".to_owned())]);
    let values = HashMap::from([
        (":s".to_owned(), AttributeValue::S("text".into())),
        (":n".to_owned(), AttributeValue::N("12".into())),
        (":b".to_owned(), AttributeValue::B(vec![1, 2])),
        (":l".to_owned(), AttributeValue::L(vec![AttributeValue::Null])),
    ]);
    let condition = match parse(&text, &names, &values) {
        Ok(condition) => condition,
        Err(error) => {
            let _ = error.to_string();
            return false;
        }
    };
    let rendered = Expression::render(&condition).expect("a parsed condition renders");
    let again = rendered.parse().expect("a rendered expression parses");
    assert_eq!(again, condition, "rendered as {:?}", rendered.text);
    true
}
