//! A rewritten query ([`Condition`] on beacon and plaintext columns) as an SQL `WHERE` clause.
//!
//! The clause selects a *superset* of the matching rows, never fewer: whatever SQL cannot
//! decide exactly as DynamoDB would (NOT and `<>` over beacons, number ranges stored as text,
//! `contains`, existence tests, attributes without a column) is left to the plaintext re-check
//! that every result goes through. Equality, IN, `begins_with` and string ranges on a column
//! become index lookups. Values are always bound parameters.

use rusqlite::types::Value;

use super::column::column_value;
use super::schema::TableSchema;
use crate::item::AttributeValue;
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
                _ if !orders_like_dynamodb(value) => return None,
                other => other.symbol(),
            };
            let bound = bindable(value)?;
            Some(Filter { sql: format!("{column} {symbol} ?"), params: vec![bound] })
        }
        Condition::Between(subject, low, high) => {
            let (Operand::Attr(name), Operand::Value(low), Operand::Value(high)) = (subject, low, high) else {
                return None;
            };
            if !orders_like_dynamodb(low) || !orders_like_dynamodb(high) {
                return None;
            }
            let column = column(schema, name)?;
            Some(Filter { sql: format!("{column} BETWEEN ? AND ?"), params: vec![bindable(low)?, bindable(high)?] })
        }
        Condition::In(subject, list) => {
            let Operand::Attr(name) = subject else { return None };
            let column = column(schema, name)?;
            let params = list
                .iter()
                .map(|operand| match operand {
                    Operand::Value(value) => bindable(value),
                    Operand::Attr(_) => None,
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
/// bytes, SQLite's BINARY collation) and binaries do; numbers do not (some are stored as text).
fn orders_like_dynamodb(value: &AttributeValue) -> bool {
    matches!(value, AttributeValue::S(_) | AttributeValue::B(_))
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
        assert_eq!(render(&schema, &Condition::compare("id", CompareOp::Lt, AttributeValue::N("5".into()))), None);
        // AND keeps what it can; OR needs every branch.
        let and = Condition::eq("Status", s("a")).and(Condition::eq("Secret", s("x")));
        assert_eq!(render(&schema, &and).unwrap().sql, "\"Status\" = ?");
        let or = Condition::eq("Status", s("a")).or(Condition::eq("Secret", s("x")));
        assert_eq!(render(&schema, &or), None);
        let or = Condition::eq("Status", s("a")).or(Condition::eq("id", s("x")));
        assert_eq!(render(&schema, &or).unwrap().sql, "(\"Status\" = ?) OR (\"id\" = ?)");
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
