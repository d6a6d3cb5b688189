//! Rows in and out of SQLite: the only code that runs statements on an encrypted table. Values
//! are always bound as parameters; identifiers come quoted from the schema.
//!
//! Every row read is checked against the item it holds: a key, beacon or signed column edited
//! outside this API is a [`TableError::ColumnMismatch`], not a silently wrong answer.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::column::{column_value, decode_item, encode_item, key_value};
use super::error::TableError;
use super::schema::{ITEM_COLUMN, TableSchema};
use crate::item::Item;

/// The column values of a stored item's primary key.
pub(crate) fn key_of(schema: &TableSchema, item: &Item) -> Result<Vec<Value>, TableError> {
    schema.keys.iter().map(|(name, _)| key_value(item, name)).collect()
}

fn select_list(schema: &TableSchema) -> String {
    std::iter::once(format!("\"{ITEM_COLUMN}\""))
        .chain(schema.attribute_columns().map(|(_, quoted)| quoted.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_where(schema: &TableSchema) -> String {
    schema.keys.iter().map(|(_, quoted)| format!("{quoted} = ?")).collect::<Vec<_>>().join(" AND ")
}

/// Reads one row (the select list's order) into its stored item, after checking each column.
fn read_row(schema: &TableSchema, row: &rusqlite::Row<'_>) -> Result<Item, TableError> {
    let bytes: Vec<u8> = row.get(0)?;
    let item = decode_item(&bytes)?;
    for (index, (attribute, _)) in schema.attribute_columns().enumerate() {
        let stored: Value = row.get(index + 1)?;
        let expected = item.get(attribute).and_then(column_value).unwrap_or(Value::Null);
        if stored != expected {
            return Err(TableError::ColumnMismatch { column: attribute.clone() });
        }
    }
    Ok(item)
}

/// Inserts a stored item, replacing the row with the same primary key.
pub(crate) fn upsert(connection: &Connection, schema: &TableSchema, item: &Item) -> Result<(), TableError> {
    let mut values = key_of(schema, item)?;
    values.push(Value::Blob(encode_item(item)?));
    for (attribute, _) in schema.beacons.iter().chain(&schema.signed) {
        values.push(item.get(attribute).and_then(column_value).unwrap_or(Value::Null));
    }
    let columns: Vec<String> = schema
        .keys
        .iter()
        .map(|(_, quoted)| quoted.clone())
        .chain(std::iter::once(format!("\"{ITEM_COLUMN}\"")))
        .chain(schema.beacons.iter().chain(&schema.signed).map(|(_, quoted)| quoted.clone()))
        .collect();
    let sql = format!(
        "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
        schema.quoted,
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    connection.prepare_cached(&sql)?.execute(params_from_iter(values))?;
    Ok(())
}

/// The stored item with primary key `key` (column values), checked.
pub(crate) fn get(connection: &Connection, schema: &TableSchema, key: Vec<Value>) -> Result<Option<Item>, TableError> {
    let sql = format!("SELECT {} FROM {} WHERE {}", select_list(schema), schema.quoted, key_where(schema));
    let mut statement = connection.prepare_cached(&sql)?;
    let row = statement.query_row(params_from_iter(key), |row| Ok(read_row(schema, row))).optional()?;
    row.transpose()
}

/// Deletes the row with primary key `key`; whether there was one.
pub(crate) fn delete(connection: &Connection, schema: &TableSchema, key: Vec<Value>) -> Result<bool, TableError> {
    let sql = format!("DELETE FROM {} WHERE {}", schema.quoted, key_where(schema));
    Ok(connection.prepare_cached(&sql)?.execute(params_from_iter(key))? > 0)
}

/// Every stored item of the rows `filter` (an SQL condition with `?` placeholders, or empty
/// for all rows) selects, checked. `filter` comes from the renderer, never from values.
pub(crate) fn select(
    connection: &Connection,
    schema: &TableSchema,
    filter: &str,
    params: Vec<Value>,
) -> Result<Vec<Item>, TableError> {
    let mut sql = format!("SELECT {} FROM {}", select_list(schema), schema.quoted);
    if !filter.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(filter);
    }
    let mut statement = connection.prepare_cached(&sql)?;
    let mut rows = statement.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_row(schema, row)?);
    }
    Ok(out)
}

/// `EXPLAIN QUERY PLAN` of [`select`] with the same filter: the plan's detail lines.
pub(crate) fn explain(
    connection: &Connection,
    schema: &TableSchema,
    filter: &str,
    params: Vec<Value>,
) -> Result<Vec<String>, TableError> {
    let mut sql = format!("EXPLAIN QUERY PLAN SELECT {} FROM {}", select_list(schema), schema.quoted);
    if !filter.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(filter);
    }
    let mut statement = connection.prepare(&sql)?;
    let lines = statement.query_map(params_from_iter(params), |row| row.get::<_, String>(3))?;
    Ok(lines.collect::<Result<_, _>>()?)
}
