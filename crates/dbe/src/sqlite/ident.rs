//! SQL identifiers from attribute names, which may hold any character: always double-quoted,
//! inner quotes doubled; NUL is refused (SQLite identifiers are C strings).

use super::error::TableError;

/// `name` as a quoted SQLite identifier.
pub(crate) fn quote(what: &'static str, name: &str) -> Result<String, TableError> {
    if name.contains('\0') {
        return Err(TableError::InvalidName { what, name: name.replace('\0', "\\0") });
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_character() {
        assert_eq!(quote("t", "a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(quote("t", "x; DROP TABLE y; --").unwrap(), "\"x; DROP TABLE y; --\"");
        assert!(matches!(quote("t", "a\0b"), Err(TableError::InvalidName { .. })));
    }
}
