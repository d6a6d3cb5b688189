//! DynamoDB number normalization: a beacon of `N("01.50")` must equal the beacon of `N("1.5")`,
//! so numbers are hashed in the canonical form DynamoDB itself stores.
//!
//! Canonical form: no exponent, no leading or trailing zeros, `0` for zero, a leading `-` for
//! negatives. Limits (DynamoDB's): at most 38 significant digits, magnitude from 1e-130 to
//! below 1e126.
//!
//! spec: dynamodb-encryption-client/ddb-attribute-serialization.md "Number"

/// Largest number of significant digits DynamoDB keeps.
const MAX_DIGITS: usize = 38;
/// Highest allowed power of ten of the leading digit.
const MAX_MAGNITUDE: i128 = 125;
/// Lowest allowed power of ten of the leading digit.
const MIN_MAGNITUDE: i128 = -130;

/// The canonical form of a DynamoDB number, or `None` if `text` is not one.
pub(crate) fn normalize(text: &str) -> Option<String> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) || int_part.len() + frac_part.len() == 0 {
        return None;
    }
    // value = digits × 10^scale
    let joined = format!("{int_part}{frac_part}");
    let significant = joined.trim_start_matches('0');
    let digits = significant.trim_end_matches('0');
    if digits.is_empty() {
        return Some("0".to_owned());
    }
    let trailing = (significant.len() - digits.len()) as i128;
    let scale = exponent - frac_part.len() as i128 + trailing;
    let magnitude = digits.len() as i128 - 1 + scale;
    if digits.len() > MAX_DIGITS || !(MIN_MAGNITUDE..=MAX_MAGNITUDE).contains(&magnitude) {
        return None;
    }
    let mut out = String::with_capacity(digits.len() + 140);
    if negative {
        out.push('-');
    }
    if scale >= 0 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', scale as usize));
    } else {
        let before_point = digits.len() as i128 + scale;
        if before_point > 0 {
            let (whole, fraction) = digits.split_at(before_point as usize);
            out.push_str(whole);
            out.push('.');
            out.push_str(fraction);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-before_point) as usize));
            out.push_str(digits);
        }
    }
    Some(out)
}

/// An exponent: optional sign, at least one digit. Huge exponents saturate (the range check
/// refuses them unless the mantissa is zero).
fn parse_exponent(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits
        .bytes()
        .try_fold(0i128, |acc, b| acc.checked_mul(10)?.checked_add(i128::from(b - b'0')))
        .unwrap_or(i128::MAX / 4)
        .min(i128::MAX / 4);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::normalize;

    // Cases from the DB-ESDK's NormalizeNumber tests.
    #[test]
    fn canonical_forms() {
        let cases = [
            ("0", "0"),
            ("000.000", "0"),
            ("-.0e99", "0"),
            ("0e999", "0"),
            ("123e-2", "1.23"),
            ("123e-4", "0.0123"),
            (".123e3", "123"),
            ("123.e1", "1230"),
            ("0.123e4", "1230"),
            ("000001.23000000", "1.23"),
            ("+1.5", "1.5"),
            ("1e+2", "100"),
            ("1E-130", "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"),
            ("12345.67e121", "123456700000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"),
            ("123456789.01234567890123456789012345678", "123456789.01234567890123456789012345678"),
            ("-9.9999999999999999999999999999999999999E+125", "-999999999999999999999999999999999999990000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            ".",
            "+",
            "-",
            "e",
            "1.2.3",
            "1.2e3e4",
            ".e4",
            "e99",
            "1.2e--99",
            "--1.2",
            "+-1.2",
            "1e",
            "1e-",
            "1e1.1",
            "1a1",
            "1-1",
            "1.-2",
            " 1",
            "1E+126",
            "10E+125",
            "9.9999999999999999999999999999999999999E-131",
            "123456789.012345678901234567890123456789",
            "1e99999999999999999999999999999999999999",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }
}
