//! Rows in and out of SQLite: the only code that runs statements on an encrypted table. Values
//! are always bound as parameters; identifiers come quoted from the schema.
//!
//! Every row read is checked against the item it holds: a key, beacon or signed column edited
//! outside this API is a [`TableError::ColumnMismatch`], not a silently wrong answer.
//!
//! With set beacons, a write or delete also rewrites the item's rows in the side table; callers
//! run both in one transaction. (A side row is only a lookup aid: one left behind by a row
//! deleted with plain SQL makes a query select a key that is gone, never a wrong result.)

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::column::{column_value, decode_item, encode_item, key_value};
use super::error::TableError;
use super::schema::{ITEM_COLUMN, SET_BEACON_COLUMN, SET_VALUE_COLUMN, TableSchema};
use crate::item::{AttributeValue, Item};

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

/// Inserts a stored item, replacing the row with the same primary key (and its set beacon
/// rows). Run it inside a transaction when the table has set beacons.
pub(crate) fn upsert(connection: &Connection, schema: &TableSchema, item: &Item) -> Result<(), TableError> {
    let key = key_of(schema, item)?;
    clear_sets(connection, schema, &key)?;
    write_sets(connection, schema, &key, item)?;
    let mut values = key;
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

/// Deletes the row with primary key `key` (and its set beacon rows); whether there was one. Run
/// it inside a transaction when the table has set beacons.
pub(crate) fn delete(connection: &Connection, schema: &TableSchema, key: Vec<Value>) -> Result<bool, TableError> {
    clear_sets(connection, schema, &key)?;
    let sql = format!("DELETE FROM {} WHERE {}", schema.quoted, key_where(schema));
    Ok(connection.prepare_cached(&sql)?.execute(params_from_iter(key))? > 0)
}

/// Removes the set beacon rows of the item with primary key `key`.
fn clear_sets(connection: &Connection, schema: &TableSchema, key: &[Value]) -> Result<(), TableError> {
    let Some((_, side)) = &schema.set_table else { return Ok(()) };
    let sql = format!("DELETE FROM {side} WHERE {}", key_where(schema));
    connection.prepare_cached(&sql)?.execute(params_from_iter(key))?;
    Ok(())
}

/// Adds one side row per value of each set beacon `item` holds. A set beacon attribute that is
/// not a string set (never so in an item a DB-ESDK wrote) gets no rows.
fn write_sets(connection: &Connection, schema: &TableSchema, key: &[Value], item: &Item) -> Result<(), TableError> {
    let Some((_, side)) = &schema.set_table else { return Ok(()) };
    let sql = format!(
        "INSERT OR IGNORE INTO {side} (\"{SET_BEACON_COLUMN}\", \"{SET_VALUE_COLUMN}\", {}) VALUES (?, ?{})",
        schema.key_columns(),
        ", ?".repeat(key.len())
    );
    let mut statement = connection.prepare_cached(&sql)?;
    for attribute in &schema.sets {
        let Some(AttributeValue::Ss(values)) = item.get(attribute) else { continue };
        for value in values {
            let params =
                [Value::Text(attribute.clone()), Value::Text(value.clone())].into_iter().chain(key.iter().cloned());
            statement.execute(params_from_iter(params))?;
        }
    }
    Ok(())
}

/// Fills the side table from every row's item (after the side table was created next to
/// existing rows); the number of rows read.
pub(crate) fn backfill_sets(connection: &Connection, schema: &TableSchema) -> Result<usize, TableError> {
    let sql = format!("SELECT \"{ITEM_COLUMN}\", {} FROM {}", schema.key_columns(), schema.quoted);
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query([])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let item = decode_item(&row.get::<_, Vec<u8>>(0)?)?;
        let key = (1..=schema.keys.len()).map(|index| row.get::<_, Value>(index)).collect::<Result<Vec<_>, _>>()?;
        write_sets(connection, schema, &key, &item)?;
        count += 1;
    }
    Ok(count)
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
