//! Terminal locations: document paths such as `a`, `a.b` or `a.b[2].c` naming a value inside an
//! item.
//!
//! spec: searchable-encryption/virtual.md "Terminal Location"

use std::fmt;

use super::attr::Item;
use super::error::BeaconError;
use crate::item::AttributeValue;

/// One step below the top-level attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Selector {
    /// `.name`: a key of a map.
    Key(String),
    /// `[n]`: an index of a list.
    Index(usize),
}

/// A parsed terminal location: a top-level attribute name and the steps below it.
///
/// ```
/// use envelope_dbe::beacon::TerminalLocation;
/// let location = TerminalLocation::parse("address.lines[1]")?;
/// assert_eq!(location.attribute(), "address");
/// assert_eq!(location.to_string(), "address.lines[1]");
/// assert!(TerminalLocation::parse("a[x]").is_err());
/// assert!(!location.is_top_level() && TerminalLocation::parse("address")?.is_top_level());
///
/// use std::collections::BTreeMap;
/// use envelope_dbe::item::AttributeValue as V;
/// let lines = V::L(vec![V::S("1 Main St".into()), V::S("Apt 2".into())]);
/// let item = BTreeMap::from([("address".to_owned(), V::M(BTreeMap::from([("lines".to_owned(), lines)])))]);
/// assert_eq!(location.find(&item), Some(&V::S("Apt 2".into())));
/// assert_eq!(TerminalLocation::parse("address.zip")?.find(&item), None);
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TerminalLocation {
    attribute: String,
    selectors: Vec<Selector>,
}

impl TerminalLocation {
    /// Parses `text`; names may not be empty and indexes are decimal.
    pub fn parse(text: &str) -> Result<Self, BeaconError> {
        let invalid = |reason| BeaconError::InvalidTerminalLocation { location: text.to_owned(), reason };
        let end = text.find(['.', '[']).unwrap_or(text.len());
        let attribute = &text[..end];
        if attribute.is_empty() {
            return Err(invalid("the attribute name is empty"));
        }
        let mut selectors = Vec::new();
        let mut rest = &text[end..];
        while let Some(first) = rest.chars().next() {
            rest = &rest[1..];
            if first == '.' {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                if end == 0 {
                    return Err(invalid("a map key is empty"));
                }
                selectors.push(Selector::Key(rest[..end].to_owned()));
                rest = &rest[end..];
            } else {
                let close = rest.find(']').ok_or_else(|| invalid("a '[' is not closed"))?;
                let digits = &rest[..close];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("a list index is not a decimal number"));
                }
                let index = digits.parse().map_err(|_| invalid("a list index is too large"))?;
                selectors.push(Selector::Index(index));
                rest = &rest[close + 1..];
            }
        }
        Ok(Self { attribute: attribute.to_owned(), selectors })
    }

    /// The top-level attribute the location starts at.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// True for a location that is just a top-level attribute name.
    pub fn is_top_level(&self) -> bool {
        self.selectors.is_empty()
    }

    /// The value at this location, or `None` if the item has nothing there (a missing
    /// attribute, key or index, or a step into a value that is not a map or list).
    pub fn find<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let mut value = item.get(&self.attribute)?;
        for selector in &self.selectors {
            value = match (selector, value) {
                (Selector::Key(key), AttributeValue::M(map)) => map.get(key)?,
                (Selector::Index(index), AttributeValue::L(list)) => list.get(*index)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

impl fmt::Display for TerminalLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.attribute)?;
        for selector in &self.selectors {
            match selector {
                Selector::Key(key) => write!(f, ".{key}")?,
                Selector::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        let date = AttributeValue::M([("Month".to_owned(), AttributeValue::S("May".into()))].into_iter().collect());
        let list = AttributeValue::L(vec![AttributeValue::S("666".into()), date.clone()]);
        [("Date".to_owned(), date), ("std6".to_owned(), list)].into_iter().collect()
    }

    #[test]
    fn finds_nested_values() {
        let item = item();
        let find = |loc: &str| TerminalLocation::parse(loc).unwrap().find(&item).cloned();
        assert_eq!(find("Date.Month"), Some(AttributeValue::S("May".into())));
        assert_eq!(find("std6[0]"), Some(AttributeValue::S("666".into())));
        assert_eq!(find("std6[1].Month"), Some(AttributeValue::S("May".into())));
        assert_eq!(find("std6[2]"), None);
        assert_eq!(find("Date[0]"), None);
        assert_eq!(find("Date.Year"), None);
        assert_eq!(find("Other"), None);
    }

    #[test]
    fn round_trips_and_refusals() {
        for text in ["a", "a.b", "a[0]", "a.b[12].c", "a[1][2]"] {
            assert_eq!(TerminalLocation::parse(text).unwrap().to_string(), text);
        }
        for bad in ["", ".a", "[0]", "a.", "a..b", "a[", "a[]", "a[-1]", "a[1x]", "a.b[", "a[99999999999999999999999]"]
        {
            assert!(TerminalLocation::parse(bad).is_err(), "{bad:?}");
        }
    }
}
