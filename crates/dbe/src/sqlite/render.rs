//! A rewritten query ([`Condition`] on beacon and plaintext columns) as an SQL `WHERE` clause.
//!
//! The clause selects a *superset* of the matching rows, never fewer: whatever SQL cannot
//! decide exactly as DynamoDB would (NOT and `<>` over beacons, the exact bounds of number
//! ranges, `contains` except on set beacons, existence tests, attributes without a column,
//! document paths) is left to the plaintext re-check that every result goes through. Equality,
//! IN, `begins_with` and string ranges on a column become index lookups; `contains` on a set
//! beacon looks the value up in the side table's (beacon, value) index; a number range compares
//! the column as a double against bounds widened outward (numbers have up to 38 digits, which
//! doubles round).
//! Values are always bound parameters.

use rusqlite::types::Value;

use super::column::column_value;
use super::schema::{SET_BEACON_COLUMN, SET_VALUE_COLUMN, TableSchema};
use crate::item::{AttributeValue, normalize_number};
use crate::search::{CompareOp, Condition, Operand};

/// SQL text with `?` placeholders and the values to bind, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    /// The condition (no `WHERE`).
    pub sql: String,
    /// Its parameters.
    pub params: Vec<Value>,
}

/// The clause for `condition`; `None` when SQL cannot narrow the rows (every row is a
/// candidate).
pub(crate) fn render(schema: &TableSchema, condition: &Condition) -> Option<Filter> {
    match condition {
        Condition::And(parts) => {
            let rendered: Vec<Filter> = parts.iter().filter_map(|part| render(schema, part)).collect();
            join(rendered, " AND ")
        }
        Condition::Or(parts) => {
            if parts.is_empty() {
                return Some(Filter { sql: "0".to_owned(), params: Vec::new() });
            }
            // One branch SQL cannot narrow makes the whole disjunction unnarrowable.
            let rendered: Option<Vec<Filter>> = parts.iter().map(|part| render(schema, part)).collect();
            join(rendered?, " OR ")
        }
        Condition::Compare(left, op, right) => {
            let (column, op, value) = match (left, right) {
                (Operand::Attr(name), Operand::Value(value)) => (column(schema, name)?, *op, value),
                (Operand::Value(value), Operand::Attr(name)) => (column(schema, name)?, op.flipped(), value),
                _ => return None,
            };
            let symbol = match op {
                CompareOp::Eq => "=",
                // A beacon that differs may still hide an equal value: leave it to the re-check.
                CompareOp::Ne => return None,
                CompareOp::Lt | CompareOp::Le if !orders_like_dynamodb(value) => {
                    return number_range(column, None, Some(value));
                }
                _ if !orders_like_dynamodb(value) => return number_range(column, Some(value), None),
                other => other.symbol(),
            };
            let bound = bindable(value)?;
            Some(Filter { sql: format!("{column} {symbol} ?"), params: vec![bound] })
        }
        Condition::Between(subject, low, high) => {
            let (Operand::Attr(name), Operand::Value(low), Operand::Value(high)) = (subject, low, high) else {
                return None;
            };
            let column = column(schema, name)?;
            if !orders_like_dynamodb(low) || !orders_like_dynamodb(high) {
                return number_range(column, Some(low), Some(high));
            }
            Some(Filter { sql: format!("{column} BETWEEN ? AND ?"), params: vec![bindable(low)?, bindable(high)?] })
        }
        Condition::In(subject, list) => {
            let Operand::Attr(name) = subject else { return None };
            let column = column(schema, name)?;
            let params = list
                .iter()
                .map(|operand| match operand {
                    Operand::Value(value) => bindable(value),
                    Operand::Attr(_) | Operand::Path(_) => None,
                })
                .collect::<Option<Vec<Value>>>()?;
            if params.is_empty() {
                return Some(Filter { sql: "0".to_owned(), params });
            }
            Some(Filter { sql: format!("{column} IN ({})", vec!["?"; params.len()].join(", ")), params })
        }
        Condition::BeginsWith(subject, prefix) => {
            let (Operand::Attr(name), Operand::Value(AttributeValue::S(prefix))) = (subject, prefix) else {
                return None;
            };
            let column = column(schema, name)?;
            let mut params = vec![Value::Text(prefix.clone())];
            let sql = match prefix_upper_bound(prefix) {
                Some(upper) => {
                    params.push(Value::Text(upper));
                    format!("({column} >= ? AND {column} < ?)")
                }
                None => format!("{column} >= ?"),
            };
            Some(Filter { sql, params })
        }
        Condition::Contains(Operand::Attr(name), Operand::Value(AttributeValue::S(value))) => {
            let (_, side) = schema.set_table.as_ref().filter(|_| schema.sets.contains(name))?;
            // The rows whose set holds the beacon value: keys from the side table's index, then
            // the main table's primary key.
            let keys = schema.key_columns();
            let subject = if schema.keys.len() == 1 { keys.clone() } else { format!("({keys})") };
            Some(Filter {
                sql: format!(
                    "{subject} IN (SELECT {keys} FROM {side} WHERE \"{SET_BEACON_COLUMN}\" = ? AND \"{SET_VALUE_COLUMN}\" = ?)"
                ),
                params: vec![Value::Text(name.clone()), Value::Text(value.clone())],
            })
        }
        Condition::Not(_) | Condition::Contains(..) | Condition::Exists(_) | Condition::NotExists(_) => None,
    }
}

/// The quoted column holding attribute `name`, if it has one.
fn column<'a>(schema: &'a TableSchema, name: &str) -> Option<&'a str> {
    schema.attribute_columns().find(|(attribute, _)| attribute == name).map(|(_, quoted)| quoted.as_str())
}

/// A value as the column would hold it; `None` for NULL and types without a column form (SQL
/// `= NULL` never holds).
fn bindable(value: &AttributeValue) -> Option<Value> {
    column_value(value).filter(|bound| *bound != Value::Null)
}

/// Whether SQLite orders this value's column form as DynamoDB orders the value: strings (UTF-8
/// bytes, SQLite's BINARY collation) and binaries do; numbers do not (some are stored as text),
/// and get a widened REAL range instead ([`number_range`]).
fn orders_like_dynamodb(value: &AttributeValue) -> bool {
    matches!(value, AttributeValue::S(_) | AttributeValue::B(_))
}

/// How far a number bound is widened, relative to its magnitude: far more than the rounding of
/// a decimal to the nearest double, here and in SQLite's text-to-REAL conversion (each within
/// 2^-52 relative), so no number inside the exact range falls outside the widened one.
const NUMBER_SLACK: f64 = 1.0 / (1u64 << 40) as f64;

/// A number range on `column` as a superset in SQL: the column's value as REAL (exact integers,
/// and numbers that fit no 64-bit integer as their normalized text) within the bounds as
/// doubles, each widened outward by [`NUMBER_SLACK`]. Strict bounds become inclusive, which only
/// widens further; the exact comparison is the re-check's. A number has at most 38 significant
/// digits but its exponent stays within ±130, well inside the doubles' range, so every bound is
/// finite and its sign exact. `None` when a bound is not a number.
fn number_range(column: &str, low: Option<&AttributeValue>, high: Option<&AttributeValue>) -> Option<Filter> {
    let mut parts = Vec::new();
    let mut params = Vec::new();
    if let Some(low) = low {
        let bound = number_as_f64(low)?;
        parts.push(format!("CAST({column} AS REAL) >= ?"));
        params.push(Value::Real(bound - bound.abs() * NUMBER_SLACK));
    }
    if let Some(high) = high {
        let bound = number_as_f64(high)?;
        parts.push(format!("CAST({column} AS REAL) <= ?"));
        params.push(Value::Real(bound + bound.abs() * NUMBER_SLACK));
    }
    // Values of other types than numbers (S columns holding "12", say) may pass; the re-check
    // drops them. A NULL (missing attribute) never passes, as in DynamoDB.
    Some(Filter { sql: parts.join(" AND "), params }).filter(|filter| !filter.params.is_empty())
}

/// A number value as the nearest double (Rust's parse rounds correctly).
fn number_as_f64(value: &AttributeValue) -> Option<f64> {
    let AttributeValue::N(text) = value else { return None };
    let parsed: f64 = normalize_number(text).ok()?.parse().ok()?;
    parsed.is_finite().then_some(parsed)
}

fn join(parts: Vec<Filter>, separator: &str) -> Option<Filter> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => {
            let mut params = Vec::new();
            let mut texts = Vec::with_capacity(parts.len());
            for part in parts {
                texts.push(format!("({})", part.sql));
                params.extend(part.params);
            }
            Some(Filter { sql: texts.join(separator), params })
        }
    }
}

/// The least string above every string starting with `prefix`, if there is one: the prefix with
/// its last incrementable character incremented (UTF-8 byte order is code point order, which is
/// SQLite's BINARY collation).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{CryptoAction, TableConfig};

    fn schema() -> TableSchema {
        let config = TableConfig::new("T", "id")
            .action("id", CryptoAction::SignOnly)
            .action("Status", CryptoAction::SignOnly)
            .action("Secret", CryptoAction::EncryptAndSign);
        TableSchema::new("T", &config, None).unwrap()
    }

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    #[test]
    fn index_friendly_conditions() {
        let schema = schema();
        let eq = render(&schema, &Condition::eq("Status", s("open"))).unwrap();
        assert_eq!(eq.sql, "\"Status\" = ?");
        assert_eq!(eq.params, [Value::Text("open".into())]);
        let prefix = render(&schema, &Condition::begins_with("id", s("ab"))).unwrap();
        assert_eq!(prefix.sql, "(\"id\" >= ? AND \"id\" < ?)");
        assert_eq!(prefix.params, [Value::Text("ab".into()), Value::Text("ac".into())]);
        let flipped = Condition::Compare(Operand::Value(s("m")), CompareOp::Lt, Operand::attr("id"));
        assert_eq!(render(&schema, &flipped).unwrap().sql, "\"id\" > ?");
        let between = render(&schema, &Condition::between("id", s("a"), s("c"))).unwrap();
        assert_eq!(between.sql, "\"id\" BETWEEN ? AND ?");
    }

    #[test]
    fn what_sql_cannot_decide_widens_never_narrows() {
        let schema = schema();
        // No column, NOT, <>, a number range: no restriction.
        assert_eq!(render(&schema, &Condition::eq("Secret", s("x"))), None);
        assert_eq!(render(&schema, &Condition::eq("Status", s("x")).not()), None);
        assert_eq!(render(&schema, &Condition::compare("Status", CompareOp::Ne, s("x"))), None);
        let range = render(&schema, &Condition::compare("id", CompareOp::Lt, AttributeValue::N("5".into()))).unwrap();
        assert_eq!(range.sql, "CAST(\"id\" AS REAL) <= ?", "a number range is widened to a REAL superset");
        assert_eq!(render(&schema, &Condition::compare("id", CompareOp::Lt, AttributeValue::Bool(true))), None);
        assert_eq!(render(&schema, &Condition::between("id", s("a"), AttributeValue::N("5".into()))), None);
        // AND keeps what it can; OR needs every branch.
        let and = Condition::eq("Status", s("a")).and(Condition::eq("Secret", s("x")));
        assert_eq!(render(&schema, &and).unwrap().sql, "\"Status\" = ?");
        let or = Condition::eq("Status", s("a")).or(Condition::eq("Secret", s("x")));
        assert_eq!(render(&schema, &or), None);
        let or = Condition::eq("Status", s("a")).or(Condition::eq("id", s("x")));
        assert_eq!(render(&schema, &or).unwrap().sql, "(\"Status\" = ?) OR (\"id\" = ?)");
    }

    /// Every number range SQL selects holds every row DynamoDB's exact comparison keeps (a
    /// superset), and differs from it only for values within a hair of a bound.
    #[test]
    fn number_ranges_select_a_tight_superset() {
        let config =
            TableConfig::new("T", "id").action("id", CryptoAction::SignOnly).action("n", CryptoAction::SignOnly);
        let schema = TableSchema::new("T", &config, None).unwrap();
        let numbers = [
            "-9.9999999999999999999999999999999999999e125",
            "-12345678901234567890123456789012345678",
            "-9223372036854775809",
            "-1.5",
            "-1",
            "-0.0000001",
            "-1e-130",
            "0",
            "1e-130",
            "0.5",
            "1",
            "1.0000000000000000000000000000000000001",
            "2",
            "9007199254740993",
            "9223372036854775807",
            "9223372036854775808",
            "12345678901234567890123456789012345678",
            "12345678901234567890123456789012345679",
            "9.9999999999999999999999999999999999999e125",
        ];
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE T (id, n)").unwrap();
        let mut insert = connection.prepare("INSERT INTO T VALUES (?1, ?2)").unwrap();
        for (id, number) in numbers.iter().enumerate() {
            let bound = column_value(&AttributeValue::N((*number).into())).unwrap();
            insert.execute(rusqlite::params![id as i64, bound]).unwrap();
        }
        // A string and a missing number: never DynamoDB matches of a number range.
        insert.execute(rusqlite::params![100, "5"]).unwrap();
        insert.execute(rusqlite::params![101, Value::Null]).unwrap();
        let n = |text: &str| AttributeValue::N(text.into());
        let value = |text: &str| text.parse::<f64>().unwrap();
        let mut conditions = Vec::new();
        for bound in numbers {
            for op in [CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge] {
                conditions.push((Condition::compare("n", op, n(bound)), vec![bound]));
            }
            conditions.push((Condition::between("n", n(bound), n("1")), vec![bound, "1"]));
        }
        for (condition, bounds) in conditions {
            let filter = render(&schema, &condition).expect("a number range narrows");
            let sql = format!("SELECT id FROM T WHERE {}", filter.sql);
            let mut statement = connection.prepare(&sql).unwrap();
            let selected: Vec<i64> = statement
                .query_map(rusqlite::params_from_iter(filter.params), |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for (id, number) in numbers.iter().enumerate() {
                let item = [("n".to_owned(), n(number))].into();
                let matches = condition.evaluate(&item).unwrap();
                let picked = selected.contains(&(id as i64));
                assert!(picked || !matches, "{condition:?} misses {number}");
                if picked && !matches {
                    let near = bounds.iter().any(|b| (value(number) - value(b)).abs() <= value(b).abs() * 1e-9);
                    assert!(near, "{condition:?} selects {number}, far from its bounds");
                }
            }
        }
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
    }
}
