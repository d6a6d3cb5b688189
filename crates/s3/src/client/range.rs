//! Ranged reads: the HTTP `Range` forms S3 accepts for one range, resolved against the
//! plaintext length.
//!
//! A GCM body is ciphertext ‖ 16-byte tag, and the ciphertext has the plaintext's length, so
//! plaintext byte `i` is body byte `i`: the range is fetched as is (the CTR decryption starts at
//! any byte offset, so no block alignment is needed) and never reaches into the tag.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::error::{Error, Result};

/// One byte range of an object's plaintext, as in an HTTP `Range` header.
///
/// ```
/// use envelope_s3::client::ByteRange;
///
/// # fn main() -> envelope_s3::Result<()> {
/// assert_eq!("bytes=0-9".parse::<ByteRange>()?, ByteRange::Closed { first: 0, last: 9 });
/// assert_eq!("bytes=100-".parse::<ByteRange>()?, ByteRange::From { first: 100 });
/// assert_eq!("bytes=-16".parse::<ByteRange>()?, ByteRange::Suffix { length: 16 });
/// // An end past the object is clamped; a start past it selects nothing.
/// assert_eq!(ByteRange::Closed { first: 5, last: 1000 }.resolve(10)?, 5..10);
/// assert!(ByteRange::From { first: 10 }.resolve(10).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=FIRST-LAST`, both inclusive.
    Closed {
        /// First byte.
        first: u64,
        /// Last byte (inclusive; clamped to the object's last byte).
        last: u64,
    },
    /// `bytes=FIRST-`: from `first` to the end.
    From {
        /// First byte.
        first: u64,
    },
    /// `bytes=-LENGTH`: the last `length` bytes (the whole object if it is shorter).
    Suffix {
        /// How many bytes at the end.
        length: u64,
    },
}

impl ByteRange {
    /// The plaintext bytes this range selects in an object of `length` bytes, as S3 resolves
    /// a range: the end clamped, [`Error::InvalidRange`] when no byte is selected.
    ///
    /// ```
    /// use envelope_s3::client::ByteRange;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// assert_eq!(ByteRange::Suffix { length: 4 }.resolve(10)?, 6..10);
    /// assert_eq!(ByteRange::Suffix { length: 40 }.resolve(10)?, 0..10);
    /// assert!(ByteRange::Suffix { length: 1 }.resolve(0).is_err(), "an empty object has no byte");
    /// # Ok(())
    /// # }
    /// ```
    pub fn resolve(self, length: u64) -> Result<Range<u64>> {
        let unsatisfiable = || Error::InvalidRange(format!("{self} selects no byte of a {length}-byte object"));
        match self {
            ByteRange::Closed { first, last } => {
                if first >= length {
                    return Err(unsatisfiable());
                }
                Ok(first..last.saturating_add(1).min(length))
            }
            ByteRange::From { first } => {
                if first >= length {
                    return Err(unsatisfiable());
                }
                Ok(first..length)
            }
            ByteRange::Suffix { length: suffix } => {
                if suffix == 0 || length == 0 {
                    return Err(unsatisfiable());
                }
                Ok(length.saturating_sub(suffix)..length)
            }
        }
    }
}

impl FromStr for ByteRange {
    type Err = Error;

    /// Parses `bytes=A-B`, `bytes=A-` or `bytes=-N` (one range; ASCII digits only).
    fn from_str(text: &str) -> Result<ByteRange> {
        let invalid = |why: &str| Error::InvalidRange(format!("{text:?}: {why}"));
        let spec = text.strip_prefix("bytes=").ok_or_else(|| invalid("expected bytes=A-B, bytes=A- or bytes=-N"))?;
        if spec.contains(',') {
            return Err(invalid("only one range is supported"));
        }
        let (first, last) = spec.split_once('-').ok_or_else(|| invalid("expected a '-'"))?;
        let number = |digits: &str| -> Result<u64> {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("positions are decimal digits"));
            }
            digits.parse().map_err(|_| invalid("a position is too large"))
        };
        match (first.is_empty(), last.is_empty()) {
            (true, true) => Err(invalid("no position")),
            (true, false) => Ok(ByteRange::Suffix { length: number(last)? }),
            (false, true) => Ok(ByteRange::From { first: number(first)? }),
            (false, false) => {
                let (first, last) = (number(first)?, number(last)?);
                if last < first {
                    return Err(invalid("the last byte is before the first"));
                }
                Ok(ByteRange::Closed { first, last })
            }
        }
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteRange::Closed { first, last } => write!(f, "bytes={first}-{last}"),
            ByteRange::From { first } => write!(f, "bytes={first}-"),
            ByteRange::Suffix { length } => write!(f, "bytes=-{length}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms_and_prints_them_back() {
        for text in ["bytes=0-0", "bytes=7-100", "bytes=0-", "bytes=99-", "bytes=-1", "bytes=-4096"] {
            assert_eq!(text.parse::<ByteRange>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn refuses_what_is_not_one_range() {
        for text in [
            "",
            "bytes=",
            "bytes=-",
            "0-5",
            "bytes=5-4",
            "bytes=a-b",
            "bytes=1-2,4-5",
            "bytes= 1-2",
            "bytes=+1-2",
            "bytes=99999999999999999999-",
            "items=1-2",
        ] {
            assert!(matches!(text.parse::<ByteRange>(), Err(Error::InvalidRange(_))), "{text:?}");
        }
    }

    #[test]
    fn resolves_like_s3() {
        let cases = [
            ("bytes=0-0", 10, Some(0..1)),
            ("bytes=0-9", 10, Some(0..10)),
            ("bytes=9-9", 10, Some(9..10)),
            ("bytes=9-20", 10, Some(9..10)),
            ("bytes=10-20", 10, None),
            ("bytes=3-", 10, Some(3..10)),
            ("bytes=10-", 10, None),
            ("bytes=-3", 10, Some(7..10)),
            ("bytes=-10", 10, Some(0..10)),
            ("bytes=-11", 10, Some(0..10)),
            ("bytes=-0", 10, None),
            ("bytes=0-0", 0, None),
            ("bytes=-1", 0, None),
            (&*format!("bytes=0-{}", u64::MAX), 5, Some(0..5)),
        ];
        for (text, length, expected) in cases {
            let range: ByteRange = text.parse().unwrap();
            assert_eq!(range.resolve(length).ok(), expected, "{text} of {length}");
        }
    }
}
