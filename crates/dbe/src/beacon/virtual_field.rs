//! Virtual fields: strings computed from parts of an item (never stored) that a standard beacon
//! can hash, e.g. the lowercase first initial followed by the lowercase last name.
//!
//! Positions and lengths count Unicode scalar values (`char`s). The DB-ESDK counts UTF-16 code
//! units; the two agree on every string without characters beyond U+FFFF.
//!
//! spec: searchable-encryption/virtual.md

use super::attr::{Item, plain_string};
use super::config_error::ConfigError;
use super::error::BeaconError;
use super::location::TerminalLocation;

/// One transform of a virtual part's string.
///
/// ```
/// use envelope_dbe::beacon::{Item, VirtualField, VirtualPart, VirtualTransform as T};
/// use envelope_dbe::item::AttributeValue;
///
/// // The year of an ISO date, then "-", then the upper-cased country code's first two letters.
/// let field = VirtualField::new("YearCountry", vec![
///     VirtualPart::new("Date", vec![T::Segment { split: '-', index: 0 }, T::Insert("-".into())])?,
///     VirtualPart::new("Country", vec![T::Prefix(2), T::Upper])?,
/// ])?;
/// let item: Item = [
///     ("Date".to_owned(), AttributeValue::S("2026-05-17".into())),
///     ("Country".to_owned(), AttributeValue::S("fra".into())),
/// ].into();
/// assert_eq!(field.evaluate(&item)?.as_deref(), Some("2026-FR"));
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VirtualTransform {
    /// ASCII lowercase letters to uppercase.
    Upper,
    /// ASCII uppercase letters to lowercase.
    Lower,
    /// Appends the literal.
    Insert(String),
    /// The first `n` characters; negative `n`: all but the last `-n`.
    Prefix(i32),
    /// The last `n` characters; negative `n`: all but the first `-n`.
    Suffix(i32),
    /// Characters from position `low` (inclusive) to `high` (exclusive); negative positions
    /// count from the end (-1 is the last), all positions are clamped.
    Substring {
        /// First position kept.
        low: i32,
        /// First position dropped.
        high: i32,
    },
    /// The piece at position `index` after splitting on `split` (empty past the end).
    Segment {
        /// The separator.
        split: char,
        /// Which piece.
        index: i32,
    },
    /// The pieces from `low` (inclusive) to `high` (exclusive) after splitting on `split`,
    /// joined again with `split`.
    Segments {
        /// The separator.
        split: char,
        /// First piece kept.
        low: i32,
        /// First piece dropped.
        high: i32,
    },
}

/// A position in a list of `len` items: from the start if non-negative, from the end if
/// negative, clamped to `0..=len`.
fn position(pos: i32, len: usize) -> usize {
    if pos >= 0 { (pos as usize).min(len) } else { len.saturating_sub(pos.unsigned_abs() as usize) }
}

impl VirtualTransform {
    /// Applies the transform to `input`.
    ///
    /// ```
    /// use envelope_dbe::beacon::VirtualTransform;
    /// assert_eq!(VirtualTransform::Prefix(-2).apply("abcde"), "abc");
    /// assert_eq!(VirtualTransform::Segment { split: '-', index: -1 }.apply("a-b-c"), "c");
    /// ```
    pub fn apply(&self, input: &str) -> String {
        let chars: Vec<char> = input.chars().collect();
        let len = chars.len();
        let slice = |low: usize, high: usize| -> String {
            if high > low { chars[low..high].iter().collect() } else { String::new() }
        };
        match self {
            Self::Upper => input.to_ascii_uppercase(),
            Self::Lower => input.to_ascii_lowercase(),
            Self::Insert(literal) => format!("{input}{literal}"),
            Self::Prefix(n) if *n >= 0 => slice(0, (*n as usize).min(len)),
            Self::Prefix(n) => slice(0, len.saturating_sub(n.unsigned_abs() as usize)),
            Self::Suffix(n) if *n >= 0 => slice(len.saturating_sub(*n as usize), len),
            Self::Suffix(n) => slice((n.unsigned_abs() as usize).min(len), len),
            Self::Substring { low, high } => slice(position(*low, len), position(*high, len)),
            Self::Segment { split, index } => {
                let pieces: Vec<&str> = input.split(*split).collect();
                pieces.get(position(*index, pieces.len())).map(|piece| (*piece).to_owned()).unwrap_or_default()
            }
            Self::Segments { split, low, high } => {
                let pieces: Vec<&str> = input.split(*split).collect();
                let (low, high) = (position(*low, pieces.len()), position(*high, pieces.len()));
                if high > low { pieces[low..high].join(&split.to_string()) } else { String::new() }
            }
        }
    }
}

/// One part of a virtual field: the string at a location, transformed in order.
///
/// ```
/// use envelope_dbe::beacon::{VirtualPart, VirtualTransform};
///
/// // The last 4 characters of a nested value.
/// let part = VirtualPart::new("Card.Number", vec![VirtualTransform::Suffix(4)])?;
/// assert_eq!(part.location().to_string(), "Card.Number");
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualPart {
    location: TerminalLocation,
    transforms: Vec<VirtualTransform>,
}

impl VirtualPart {
    /// A part reading `location` (a document path) with `transforms` applied in order.
    pub fn new(location: &str, transforms: Vec<VirtualTransform>) -> Result<Self, BeaconError> {
        Ok(Self { location: TerminalLocation::parse(location)?, transforms })
    }

    /// Where the part reads from.
    pub fn location(&self) -> &TerminalLocation {
        &self.location
    }
}

/// A virtual field: the concatenation of its parts.
///
/// ```
/// use envelope_dbe::beacon::{Item, VirtualField, VirtualPart, VirtualTransform};
/// use envelope_dbe::item::AttributeValue;
/// let field = VirtualField::new(
///     "NameTag",
///     vec![
///         VirtualPart::new("First", vec![VirtualTransform::Prefix(1), VirtualTransform::Lower])?,
///         VirtualPart::new("Last", vec![VirtualTransform::Lower])?,
///     ],
/// )?;
/// let item: Item = [
///     ("First".to_owned(), AttributeValue::S("John".into())),
///     ("Last".to_owned(), AttributeValue::S("Smith".into())),
/// ]
/// .into();
/// assert_eq!(field.evaluate(&item)?.as_deref(), Some("jsmith"));
/// assert_eq!((field.name(), field.parts().len()), ("NameTag", 2));
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualField {
    name: String,
    parts: Vec<VirtualPart>,
}

impl VirtualField {
    /// A virtual field named `name`; refused without parts.
    pub fn new(name: impl Into<String>, parts: Vec<VirtualPart>) -> Result<Self, BeaconError> {
        let name = name.into();
        if parts.is_empty() {
            return Err(ConfigError::VirtualFieldWithoutParts(name).into());
        }
        Ok(Self { name, parts })
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's parts.
    pub fn parts(&self) -> &[VirtualPart] {
        &self.parts
    }

    /// The field's value for `item`: `None` when a part's location is absent; an error when a
    /// part's value has no string form (binary, set, list, map).
    pub fn evaluate(&self, item: &Item) -> Result<Option<String>, BeaconError> {
        let mut out = String::new();
        for part in &self.parts {
            let Some(value) = part.location.find(item) else {
                return Ok(None);
            };
            let mut text = plain_string(value).ok_or_else(|| BeaconError::UnsupportedValue {
                beacon: self.name.clone(),
                reason: "a virtual part's value is not a string, number, boolean or null",
            })?;
            for transform in &part.transforms {
                text = transform.apply(&text);
            }
            out.push_str(&text);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::VirtualTransform::*;
    use super::*;
    use crate::item::AttributeValue;

    #[test]
    fn case_and_insert() {
        assert_eq!(Upper.apply("aBc-é"), "ABC-é");
        assert_eq!(Lower.apply("AbC-É"), "abc-É");
        assert_eq!(Insert("__".into()).apply("x"), "x__");
    }

    #[test]
    fn prefix_and_suffix() {
        assert_eq!(Prefix(2).apply("abcde"), "ab");
        assert_eq!(Prefix(9).apply("abcde"), "abcde");
        assert_eq!(Prefix(-2).apply("abcde"), "abc");
        assert_eq!(Prefix(-9).apply("abcde"), "");
        assert_eq!(Suffix(2).apply("abcde"), "de");
        assert_eq!(Suffix(9).apply("abcde"), "abcde");
        assert_eq!(Suffix(-2).apply("abcde"), "cde");
        assert_eq!(Suffix(-9).apply("abcde"), "");
        assert_eq!(Prefix(1).apply("éa"), "é");
    }

    #[test]
    fn substring_positions() {
        let sub = |low, high| Substring { low, high }.apply("abcdef");
        assert_eq!(sub(1, 3), "bc");
        assert_eq!(sub(-3, -1), "de");
        assert_eq!(sub(-999, 2), "ab");
        assert_eq!(sub(4, 999), "ef");
        assert_eq!(sub(3, 3), "");
        assert_eq!(sub(4, 2), "");
    }

    #[test]
    fn segments() {
        let seg = |index| Segment { split: '.', index }.apply("a.b.c");
        assert_eq!(seg(0), "a");
        assert_eq!(seg(-1), "c");
        assert_eq!(seg(-999), "a");
        assert_eq!(seg(3), "");
        let segs = |low, high| Segments { split: '.', low, high }.apply("a.b.c.d");
        assert_eq!(segs(1, 3), "b.c");
        assert_eq!(segs(-2, 999), "c.d");
        assert_eq!(segs(2, 1), "");
    }

    // BeaconTestFixtures NameTitleField: Name ++ "__", lower(Title) → "MyName__mytitle".
    #[test]
    fn fixture_field_and_missing_parts() {
        let field = VirtualField::new(
            "NameTitleField",
            vec![
                VirtualPart::new("Name", vec![Insert("__".into())]).unwrap(),
                VirtualPart::new("Title", vec![Lower]).unwrap(),
            ],
        )
        .unwrap();
        let mut item: Item = [
            ("Name".to_owned(), AttributeValue::S("MyName".into())),
            ("Title".to_owned(), AttributeValue::S("MyTitle".into())),
        ]
        .into();
        assert_eq!(field.evaluate(&item).unwrap().as_deref(), Some("MyName__mytitle"));
        item.insert("Title".into(), AttributeValue::B(vec![1]));
        assert!(matches!(field.evaluate(&item), Err(BeaconError::UnsupportedValue { .. })));
        item.remove("Title");
        assert_eq!(field.evaluate(&item).unwrap(), None);
        assert!(VirtualField::new("empty", vec![]).is_err());
    }
}
