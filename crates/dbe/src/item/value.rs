//! The DynamoDB attribute model (S, N, B, BOOL, NULL, L, M, SS, NS, BS) and its canonical
//! structured-encryption serialization: a 2-byte type id plus value bytes.
//!
//! The bytes must match the official DB-ESDK exactly: they are what gets encrypted, signed and
//! put into the encryption context, so one differing byte breaks interoperability. Hence the
//! normalization rules: numbers in DynamoDB's normalized form, sets sorted (SS/NS by UTF-16 code
//! units, BS by bytes), map entries sorted by key in UTF-16 order, list order kept.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb
//! `specification/dynamodb-encryption-client/ddb-attribute-serialization.md`

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::error::ValueError;

/// DynamoDB nests documents at most 32 levels deep; the parser refuses deeper input so a hostile
/// value cannot exhaust the stack.
///
/// ```
/// use envelope_dbe::item::{AttributeValue, MAX_DEPTH};
///
/// // A list nested deeper than DynamoDB allows is refused, not parsed recursively.
/// let nested = |depth: usize| (0..depth).fold(AttributeValue::Null, |inner, _| AttributeValue::L(vec![inner]));
/// let deep = nested(MAX_DEPTH + 1).serialize_typed()?;
/// assert!(AttributeValue::deserialize_typed(&deep).is_err());
/// let allowed = nested(MAX_DEPTH).serialize_typed()?;
/// assert_eq!(AttributeValue::deserialize_typed(&allowed)?, nested(MAX_DEPTH));
/// # Ok::<(), envelope_dbe::item::ValueError>(())
/// ```
pub const MAX_DEPTH: usize = 32;

/// The 2-byte type id that precedes every serialized value.
///
/// ```
/// use envelope_dbe::item::TypeId;
///
/// assert_eq!(TypeId::S.to_bytes(), [0x00, 0x01]);
/// assert_eq!(TypeId::from_bytes([0x01, 0xFF]), Some(TypeId::Bs));
/// assert_eq!(TypeId::from_bytes([0xFF, 0x00]), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeId {
    /// `00 00`
    Null,
    /// `00 01`
    S,
    /// `00 02`
    N,
    /// `00 04`
    Bool,
    /// `FF FF` (raw bytes; also the type of the header, footer and encrypted values)
    B,
    /// `01 01`
    Ss,
    /// `01 02`
    Ns,
    /// `01 FF`
    Bs,
    /// `02 00`
    M,
    /// `03 00`
    L,
}

impl TypeId {
    /// The two bytes, big-endian.
    pub fn to_bytes(self) -> [u8; 2] {
        let id: u16 = match self {
            TypeId::Null => 0x0000,
            TypeId::S => 0x0001,
            TypeId::N => 0x0002,
            TypeId::Bool => 0x0004,
            TypeId::B => 0xFFFF,
            TypeId::Ss => 0x0101,
            TypeId::Ns => 0x0102,
            TypeId::Bs => 0x01FF,
            TypeId::M => 0x0200,
            TypeId::L => 0x0300,
        };
        id.to_be_bytes()
    }

    /// The type with these two bytes, if any.
    pub fn from_bytes(bytes: [u8; 2]) -> Option<TypeId> {
        Some(match u16::from_be_bytes(bytes) {
            0x0000 => TypeId::Null,
            0x0001 => TypeId::S,
            0x0002 => TypeId::N,
            0x0004 => TypeId::Bool,
            0xFFFF => TypeId::B,
            0x0101 => TypeId::Ss,
            0x0102 => TypeId::Ns,
            0x01FF => TypeId::Bs,
            0x0200 => TypeId::M,
            0x0300 => TypeId::L,
            _ => return None,
        })
    }
}

/// One DynamoDB attribute value.
///
/// `N` holds the number's text as given; [`AttributeValue::serialize`] normalizes it. Sets are
/// kept in the order given; serialization sorts them.
///
/// ```
/// use envelope_dbe::item::AttributeValue;
///
/// let value = AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::N("010".into())]);
/// let bytes = value.serialize()?;
/// // count, then (type id, length, value) per element; "010" becomes "10"
/// assert_eq!(bytes, [0, 0, 0, 2, 0, 1, 0, 0, 0, 1, b'a', 0, 2, 0, 0, 0, 2, b'1', b'0']);
/// assert_eq!(AttributeValue::deserialize(value.type_id(), &bytes)?,
///            AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::N("10".into())]));
/// # Ok::<(), envelope_dbe::item::ValueError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    /// A string.
    S(String),
    /// A number, as decimal text.
    N(String),
    /// Binary.
    B(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// Null.
    Null,
    /// A list (order matters).
    L(Vec<AttributeValue>),
    /// A map of name to value.
    M(BTreeMap<String, AttributeValue>),
    /// A string set.
    Ss(Vec<String>),
    /// A number set.
    Ns(Vec<String>),
    /// A binary set.
    Bs(Vec<Vec<u8>>),
}

impl AttributeValue {
    /// The type id of this value.
    pub fn type_id(&self) -> TypeId {
        match self {
            AttributeValue::S(_) => TypeId::S,
            AttributeValue::N(_) => TypeId::N,
            AttributeValue::B(_) => TypeId::B,
            AttributeValue::Bool(_) => TypeId::Bool,
            AttributeValue::Null => TypeId::Null,
            AttributeValue::L(_) => TypeId::L,
            AttributeValue::M(_) => TypeId::M,
            AttributeValue::Ss(_) => TypeId::Ss,
            AttributeValue::Ns(_) => TypeId::Ns,
            AttributeValue::Bs(_) => TypeId::Bs,
        }
    }

    /// The canonical value bytes (without the type id).
    ///
    /// Fails on a number that is not a DynamoDB number, a set with duplicate members (after
    /// number normalization), or a length beyond `u32`.
    ///
    /// ```
    /// use envelope_dbe::item::AttributeValue;
    ///
    /// // SS sorts by UTF-16 code units: U+FF61 (one unit, 0xFF61) sorts after U+1F600 (0xD83D ...)
    /// let set = AttributeValue::Ss(vec!["\u{FF61}".into(), "\u{1F600}".into()]);
    /// let bytes = set.serialize()?;
    /// assert_eq!(&bytes[..8], [0, 0, 0, 2, 0, 0, 0, 4]);
    /// assert_eq!(&bytes[8..12], "\u{1F600}".as_bytes());
    /// # Ok::<(), envelope_dbe::item::ValueError>(())
    /// ```
    pub fn serialize(&self) -> Result<Vec<u8>, ValueError> {
        let mut out = Vec::new();
        self.write_value(&mut out)?;
        Ok(out)
    }

    /// Type id followed by the canonical value bytes: what an encrypted attribute and the
    /// version-1 `aws-crypto-attr.*` context values are made of.
    ///
    /// ```
    /// use envelope_dbe::item::AttributeValue;
    ///
    /// // Type id 0x0001 (S), then the UTF-8 bytes.
    /// assert_eq!(AttributeValue::S("hi".into()).serialize_typed()?, [0x00, 0x01, b'h', b'i']);
    /// # Ok::<(), envelope_dbe::item::ValueError>(())
    /// ```
    pub fn serialize_typed(&self) -> Result<Vec<u8>, ValueError> {
        let mut out = self.type_id().to_bytes().to_vec();
        self.write_value(&mut out)?;
        Ok(out)
    }

    fn write_value(&self, out: &mut Vec<u8>) -> Result<(), ValueError> {
        match self {
            AttributeValue::S(text) => out.extend_from_slice(text.as_bytes()),
            AttributeValue::N(number) => out.extend_from_slice(normalize_number(number)?.as_bytes()),
            AttributeValue::B(bytes) => out.extend_from_slice(bytes),
            AttributeValue::Bool(flag) => out.push(u8::from(*flag)),
            AttributeValue::Null => {}
            AttributeValue::Ss(members) => {
                let mut sorted: Vec<&str> = members.iter().map(String::as_str).collect();
                sorted.sort_by(|a, b| utf16_cmp(a, b));
                write_set(out, sorted.iter().map(|m| m.as_bytes()))?;
            }
            AttributeValue::Ns(members) => {
                let mut sorted = members.iter().map(|n| normalize_number(n)).collect::<Result<Vec<_>, _>>()?;
                sorted.sort_by(|a, b| utf16_cmp(a, b));
                write_set(out, sorted.iter().map(|m| m.as_bytes()))?;
            }
            AttributeValue::Bs(members) => {
                let mut sorted: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
                sorted.sort();
                write_set(out, sorted.into_iter())?;
            }
            AttributeValue::L(items) => {
                out.extend_from_slice(&len_u32(items.len())?.to_be_bytes());
                for item in items {
                    write_typed_entry(out, item)?;
                }
            }
            AttributeValue::M(entries) => {
                let mut sorted: Vec<(&String, &AttributeValue)> = entries.iter().collect();
                sorted.sort_by(|a, b| utf16_cmp(a.0, b.0));
                out.extend_from_slice(&len_u32(sorted.len())?.to_be_bytes());
                for (key, value) in sorted {
                    out.extend_from_slice(&TypeId::S.to_bytes());
                    out.extend_from_slice(&len_u32(key.len())?.to_be_bytes());
                    out.extend_from_slice(key.as_bytes());
                    write_typed_entry(out, value)?;
                }
            }
        }
        Ok(())
    }

    /// Parses canonical value bytes of the given type (the inverse of [`serialize`](Self::serialize)).
    ///
    /// Strict: every length must fit, nothing may trail, BOOL is exactly `00` or `01`, strings
    /// are UTF-8, numbers are DynamoDB numbers (returned normalized), nesting stops at
    /// [`MAX_DEPTH`], map keys are strings and unique, sets have no duplicates.
    pub fn deserialize(type_id: TypeId, bytes: &[u8]) -> Result<AttributeValue, ValueError> {
        parse_value(type_id, bytes, 0)
    }

    /// Parses type id + value bytes (the inverse of [`serialize_typed`](Self::serialize_typed)).
    ///
    /// ```
    /// use envelope_dbe::item::AttributeValue;
    ///
    /// let value = AttributeValue::Bool(true);
    /// assert_eq!(AttributeValue::deserialize_typed(&value.serialize_typed()?)?, value);
    /// // BOOL is exactly 00 or 01.
    /// assert!(AttributeValue::deserialize_typed(&[0x00, 0x04, 0x02]).is_err());
    /// # Ok::<(), envelope_dbe::item::ValueError>(())
    /// ```
    pub fn deserialize_typed(bytes: &[u8]) -> Result<AttributeValue, ValueError> {
        let (id, rest) = bytes.split_first_chunk::<2>().ok_or(ValueError::Truncated)?;
        let type_id = TypeId::from_bytes(*id).ok_or(ValueError::UnknownType(*id))?;
        parse_value(type_id, rest, 0)
    }
}

fn len_u32(len: usize) -> Result<u32, ValueError> {
    u32::try_from(len).map_err(|_| ValueError::TooLong)
}

fn write_set<'a>(out: &mut Vec<u8>, sorted: impl Iterator<Item = &'a [u8]>) -> Result<(), ValueError> {
    let members: Vec<&[u8]> = sorted.collect();
    if members.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(ValueError::DuplicateSetMember);
    }
    out.extend_from_slice(&len_u32(members.len())?.to_be_bytes());
    for member in members {
        out.extend_from_slice(&len_u32(member.len())?.to_be_bytes());
        out.extend_from_slice(member);
    }
    Ok(())
}

fn write_typed_entry(out: &mut Vec<u8>, value: &AttributeValue) -> Result<(), ValueError> {
    let bytes = value.serialize()?;
    out.extend_from_slice(&value.type_id().to_bytes());
    out.extend_from_slice(&len_u32(bytes.len())?.to_be_bytes());
    out.extend_from_slice(&bytes);
    Ok(())
}

/// Orders strings by UTF-16 code units, as DynamoDB (and the Java-born spec) does; this differs
/// from byte order for characters above U+FFFF against U+E000..U+FFFF.
///
/// ```
/// use std::cmp::Ordering;
/// use envelope_dbe::item::utf16_cmp;
///
/// // By UTF-16 code units, as the DB-ESDK sorts: U+FF61 is one unit (0xFF61), U+1F600 starts with 0xD83D.
/// assert_eq!(utf16_cmp("\u{FF61}", "\u{1F600}"), Ordering::Greater);
/// assert_eq!("\u{FF61}".cmp("\u{1F600}"), Ordering::Less); // bytewise UTF-8 says the opposite
/// ```
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A cursor over value bytes whose every read is bounds-checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if self.rest.len() < n {
            return Err(ValueError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<usize, ValueError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    }

    fn type_id(&mut self) -> Result<TypeId, ValueError> {
        let bytes = self.take(2)?;
        let id = [bytes[0], bytes[1]];
        TypeId::from_bytes(id).ok_or(ValueError::UnknownType(id))
    }

    fn finish(self) -> Result<(), ValueError> {
        if self.rest.is_empty() { Ok(()) } else { Err(ValueError::TrailingBytes(self.rest.len())) }
    }
}

fn utf8(bytes: &[u8]) -> Result<String, ValueError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ValueError::NotUtf8)
}

fn parse_value(type_id: TypeId, bytes: &[u8], depth: usize) -> Result<AttributeValue, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep);
    }
    let mut reader = Reader { rest: bytes };
    let value = match type_id {
        TypeId::S => return Ok(AttributeValue::S(utf8(bytes)?)),
        TypeId::N => return Ok(AttributeValue::N(normalize_number(&utf8(bytes)?)?)),
        TypeId::B => return Ok(AttributeValue::B(bytes.to_vec())),
        TypeId::Null if bytes.is_empty() => return Ok(AttributeValue::Null),
        TypeId::Null => return Err(ValueError::BadNull),
        TypeId::Bool => match bytes {
            [0] => return Ok(AttributeValue::Bool(false)),
            [1] => return Ok(AttributeValue::Bool(true)),
            _ => return Err(ValueError::BadBool),
        },
        TypeId::Ss | TypeId::Ns | TypeId::Bs => {
            let count = reader.u32()?;
            let mut members: Vec<&[u8]> = Vec::new();
            for _ in 0..count {
                let len = reader.u32()?;
                members.push(reader.take(len)?);
            }
            let mut seen = members.clone();
            seen.sort();
            if seen.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err(ValueError::DuplicateSetMember);
            }
            match type_id {
                TypeId::Ss => AttributeValue::Ss(members.into_iter().map(utf8).collect::<Result<_, _>>()?),
                TypeId::Ns => AttributeValue::Ns(
                    members.into_iter().map(|m| normalize_number(&utf8(m)?)).collect::<Result<_, _>>()?,
                ),
                _ => AttributeValue::Bs(members.into_iter().map(<[u8]>::to_vec).collect()),
            }
        }
        TypeId::L => {
            let count = reader.u32()?;
            let mut items = Vec::new();
            for _ in 0..count {
                let item_type = reader.type_id()?;
                let len = reader.u32()?;
                items.push(parse_value(item_type, reader.take(len)?, depth + 1)?);
            }
            AttributeValue::L(items)
        }
        TypeId::M => {
            let count = reader.u32()?;
            let mut entries = BTreeMap::new();
            for _ in 0..count {
                if reader.type_id()? != TypeId::S {
                    return Err(ValueError::MapKeyNotString);
                }
                let key_len = reader.u32()?;
                let key = utf8(reader.take(key_len)?)?;
                let value_type = reader.type_id()?;
                let len = reader.u32()?;
                let value = parse_value(value_type, reader.take(len)?, depth + 1)?;
                if entries.insert(key.clone(), value).is_some() {
                    return Err(ValueError::DuplicateMapKey(key));
                }
            }
            AttributeValue::M(entries)
        }
    };
    reader.finish()?;
    Ok(value)
}

/// DynamoDB's number limits: 38 significant digits, magnitude 1E-130 ..< 1E+126.
const MAX_DIGITS: usize = 38;
const MIN_EXPONENT: i64 = -130;
const MAX_EXPONENT: i64 = 125;

/// Normalizes a DynamoDB number to the form DynamoDB stores: no exponent, no leading zeros, no
/// trailing fractional zeros, no `+`, `0` for zero (also for `-0`).
///
/// ```
/// use envelope_dbe::item::normalize_number;
///
/// assert_eq!(normalize_number("0800.000e0")?, "800");
/// assert_eq!(normalize_number("00.0011")?, "0.0011");
/// assert_eq!(normalize_number("-1.5E-3")?, "-0.0015");
/// assert_eq!(normalize_number("12e2")?, "1200");
/// assert_eq!(normalize_number("-0.00")?, "0");
/// assert!(normalize_number("1.2.3").is_err());
/// # Ok::<(), envelope_dbe::item::ValueError>(())
/// ```
pub fn normalize_number(text: &str) -> Result<String, ValueError> {
    let bad = || ValueError::BadNumber(text.chars().take(64).collect());
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return Err(bad());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            // Seven digits already lie far outside DynamoDB's range; refusing longer ones keeps
            // the arithmetic below from overflowing.
            if digits.is_empty() || digits.len() > 7 || !all_digits(digits) {
                return Err(bad());
            }
            e.parse().map_err(|_| bad())?
        }
    };
    // digits = whole ‖ fraction, with the decimal point `point` digits from the left.
    let digits: String = format!("{whole}{fraction}");
    let mut point = whole.len() as i64 + exponent;
    let trimmed_front = digits.trim_start_matches('0');
    point -= (digits.len() - trimmed_front.len()) as i64;
    let significant = trimmed_front.trim_end_matches('0');
    if significant.is_empty() {
        return Ok("0".to_owned());
    }
    if significant.len() > MAX_DIGITS {
        return Err(ValueError::NumberOutOfRange(text.chars().take(64).collect()));
    }
    let leading_exponent = point - 1;
    if !(MIN_EXPONENT..=MAX_EXPONENT).contains(&leading_exponent) {
        return Err(ValueError::NumberOutOfRange(text.chars().take(64).collect()));
    }
    let len = significant.len() as i64;
    let mut out = String::with_capacity(significant.len() + 140);
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(significant);
    } else if point >= len {
        out.push_str(significant);
        out.extend(std::iter::repeat_n('0', (point - len) as usize));
    } else {
        let (left, right) = significant.split_at(point as usize);
        out.push_str(left);
        out.push('.');
        out.push_str(right);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &AttributeValue) -> Vec<u8> {
        let bytes = value.serialize_typed().unwrap();
        assert_eq!(AttributeValue::deserialize_typed(&bytes).unwrap().serialize_typed().unwrap(), bytes);
        bytes
    }

    #[test]
    fn scalars_serialize_as_the_spec_says() {
        assert_eq!(round_trip(&AttributeValue::S("abc".into())), [0, 1, b'a', b'b', b'c']);
        assert_eq!(round_trip(&AttributeValue::N("1".into())), [0, 2, b'1']);
        assert_eq!(round_trip(&AttributeValue::B(vec![9, 8])), [0xFF, 0xFF, 9, 8]);
        assert_eq!(round_trip(&AttributeValue::Bool(true)), [0, 4, 1]);
        assert_eq!(round_trip(&AttributeValue::Bool(false)), [0, 4, 0]);
        assert_eq!(round_trip(&AttributeValue::Null), [0, 0]);
    }

    #[test]
    fn version_one_context_value_of_a_numeric_key_is_type_and_text() {
        // The official vectors' `aws-crypto-attr.RecNum` = base64(00 02 "1") = "AAIx".
        use base64::Engine as _;
        let bytes = AttributeValue::N("1".into()).serialize_typed().unwrap();
        assert_eq!(base64::engine::general_purpose::STANDARD.encode(bytes), "AAIx");
    }

    #[test]
    fn sets_sort_and_refuse_duplicates() {
        let ns = AttributeValue::Ns(vec!["10".into(), "9".into(), "1.0".into()]);
        // normalized then sorted as text: "1" < "10" < "9"
        assert_eq!(round_trip(&ns), [1, 2, 0, 0, 0, 3, 0, 0, 0, 1, b'1', 0, 0, 0, 2, b'1', b'0', 0, 0, 0, 1, b'9']);
        let dup = AttributeValue::Ns(vec!["1".into(), "1.0".into()]);
        assert_eq!(dup.serialize(), Err(ValueError::DuplicateSetMember));
        let bs = AttributeValue::Bs(vec![vec![2], vec![], vec![1, 0]]);
        assert_eq!(round_trip(&bs), [1, 0xFF, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 1, 2]);
        let dup_bytes = [0, 0, 0, 2, 0, 0, 0, 1, 7, 0, 0, 0, 1, 7];
        assert_eq!(AttributeValue::deserialize(TypeId::Bs, &dup_bytes), Err(ValueError::DuplicateSetMember));
    }

    #[test]
    fn maps_sort_keys_by_utf16_and_lists_keep_order() {
        let mut map = BTreeMap::new();
        map.insert("b".to_owned(), AttributeValue::Null);
        map.insert("\u{FF61}".to_owned(), AttributeValue::Bool(true));
        map.insert("\u{1F600}".to_owned(), AttributeValue::S("x".into()));
        let bytes = round_trip(&AttributeValue::M(map));
        let mut expected = vec![2, 0, 0, 0, 0, 3];
        for (key, value) in [("b", &[0u8, 0][..]), ("\u{1F600}", &[0, 1]), ("\u{FF61}", &[0, 4])] {
            expected.extend_from_slice(&[0, 1]);
            expected.extend_from_slice(&(key.len() as u32).to_be_bytes());
            expected.extend_from_slice(key.as_bytes());
            expected.extend_from_slice(value);
            match key {
                "b" => expected.extend_from_slice(&[0, 0, 0, 0]),
                "\u{1F600}" => expected.extend_from_slice(&[0, 0, 0, 1, b'x']),
                _ => expected.extend_from_slice(&[0, 0, 0, 1, 1]),
            }
        }
        assert_eq!(bytes, expected);
        let list = AttributeValue::L(vec![AttributeValue::N("2".into()), AttributeValue::N("1".into())]);
        assert_eq!(round_trip(&list), [3, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 1, b'2', 0, 2, 0, 0, 0, 1, b'1']);
    }

    #[test]
    fn numbers_normalize_like_dynamodb() {
        for (input, expected) in [
            ("2000.000", "2000"),
            ("00.0011", "0.0011"),
            ("0000", "0"),
            ("0800.000e0", "800"),
            ("10.01", "10.01"),
            ("+5", "5"),
            ("-0", "0"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1E-130", &format!("0.{}1", "0".repeat(129))),
            ("-12.5e1", "-125"),
        ] {
            assert_eq!(normalize_number(input).unwrap(), expected, "{input}");
        }
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1..2", "1a", " 1", "0x10", "1e99999999", "NaN"] {
            assert!(matches!(normalize_number(bad), Err(ValueError::BadNumber(_))), "{bad}");
        }
        for out_of_range in ["1e126", "1e-131", "1234567890123456789012345678901234567890"] {
            assert!(matches!(normalize_number(out_of_range), Err(ValueError::NumberOutOfRange(_))), "{out_of_range}");
        }
    }

    #[test]
    fn malformed_bytes_are_typed_errors() {
        assert_eq!(AttributeValue::deserialize(TypeId::Bool, &[2]), Err(ValueError::BadBool));
        assert_eq!(AttributeValue::deserialize(TypeId::Null, &[0]), Err(ValueError::BadNull));
        assert_eq!(AttributeValue::deserialize(TypeId::S, &[0xFF]), Err(ValueError::NotUtf8));
        assert_eq!(AttributeValue::deserialize(TypeId::L, &[0, 0, 0, 1, 0, 1]), Err(ValueError::Truncated));
        assert_eq!(AttributeValue::deserialize(TypeId::L, &[0, 0, 0, 0, 9]), Err(ValueError::TrailingBytes(1)));
        assert_eq!(AttributeValue::deserialize_typed(&[0x77, 0x77]), Err(ValueError::UnknownType([0x77, 0x77])));
        let map_with_number_key = [0, 0, 0, 1, 0, 2, 0, 0, 0, 1, b'1', 0, 0, 0, 0, 0, 0];
        assert_eq!(AttributeValue::deserialize(TypeId::M, &map_with_number_key), Err(ValueError::MapKeyNotString));
        // 40 nested lists
        let mut nested = Vec::new();
        for _ in 0..40 {
            let mut outer = vec![0, 0, 0, 1, 3, 0];
            outer.extend_from_slice(&(nested.len() as u32).to_be_bytes());
            outer.extend_from_slice(&nested);
            nested = outer;
        }
        assert_eq!(AttributeValue::deserialize(TypeId::L, &nested), Err(ValueError::TooDeep));
    }
}
