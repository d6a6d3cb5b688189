//! Small typed readers over `serde_json` values that name the failing member by its path
//! (`search.versions[0].standardBeacons[1].Length`), so every refusal says where it is.

use serde_json::{Map, Value};

use super::ConfigJsonError;

/// An error at `path`.
pub(super) fn bad(path: &str, problem: &'static str) -> ConfigJsonError {
    ConfigJsonError::Invalid { path: path.to_owned(), problem }
}

/// `path.member`, or `member` at the top level.
pub(super) fn member_path(path: &str, member: &str) -> String {
    if path.is_empty() { member.to_owned() } else { format!("{path}.{member}") }
}

/// `path[index]`.
pub(super) fn index_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// An object whose members are all in `known`: an unknown member is refused, as the official
/// runners refuse it, so a misspelt option cannot be silently ignored.
pub(super) fn object<'a>(
    value: &'a Value,
    path: &str,
    known: &[&str],
) -> Result<&'a Map<String, Value>, ConfigJsonError> {
    let map = value.as_object().ok_or_else(|| bad(path, "expected an object"))?;
    if let Some(name) = map.keys().find(|name| !known.contains(&name.as_str())) {
        return Err(ConfigJsonError::UnknownMember { path: member_path(path, name) });
    }
    Ok(map)
}

pub(super) fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, ConfigJsonError> {
    value.as_str().ok_or_else(|| bad(path, "expected a string"))
}

/// A string that must not be empty (names, locations, prefixes).
pub(super) fn name<'a>(value: &'a Value, path: &str) -> Result<&'a str, ConfigJsonError> {
    match string(value, path)? {
        "" => Err(bad(path, "must not be empty")),
        text => Ok(text),
    }
}

/// A string of exactly one character (split characters).
pub(super) fn character(value: &Value, path: &str) -> Result<char, ConfigJsonError> {
    let mut chars = string(value, path)?.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(bad(path, "must be exactly one character")),
    }
}

pub(super) fn boolean(value: &Value, path: &str) -> Result<bool, ConfigJsonError> {
    value.as_bool().ok_or_else(|| bad(path, "expected true or false"))
}

pub(super) fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, ConfigJsonError> {
    value.as_array().ok_or_else(|| bad(path, "expected an array"))
}

/// A whole JSON number that fits `T`.
pub(super) fn integer<T: TryFrom<i64>>(value: &Value, path: &str) -> Result<T, ConfigJsonError> {
    let whole = value.as_i64().ok_or_else(|| bad(path, "expected a whole number"))?;
    T::try_from(whole).map_err(|_| bad(path, "number out of range"))
}

/// The array's elements, each read by `read` with its indexed path.
pub(super) fn each<T>(
    value: &Value,
    path: &str,
    mut read: impl FnMut(&Value, &str) -> Result<T, ConfigJsonError>,
) -> Result<Vec<T>, ConfigJsonError> {
    array(value, path)?.iter().enumerate().map(|(i, element)| read(element, &index_path(path, i))).collect()
}
