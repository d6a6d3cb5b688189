//! Typed comparisons behind the numeric, date and IP-address condition
//! operators, and the interface through which a request supplies the values
//! of condition keys that the key policy evaluator does not know by itself.

use std::fmt;
use std::net::IpAddr;

use super::unix_seconds;

/// What a request says about one condition key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The key is present with these values (one for single-valued keys).
    Present(Vec<String>),
    /// The emulator models the key and this request does not carry it, as
    /// IAM leaves out keys that do not apply to an operation.
    Absent,
    /// The emulator cannot tell what real KMS would put here. A condition on
    /// such a key fails closed: it makes a `Deny` statement apply and keeps an
    /// `Allow` statement from applying.
    Unknown,
}

/// Supplies condition-key values beyond the ones in
/// [`RequestContext`](super::policy::RequestContext) itself (transport,
/// source address, time, request parameters, key properties).
pub(crate) trait FactSource {
    /// The values of `key` (lowercased, e.g. `aws:sourceip`) for this request.
    fn lookup(&self, key: &str) -> Lookup;
}

impl fmt::Debug for dyn FactSource + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The facts may be backed by the request body; never print them.
        f.write_str("FactSource")
    }
}

/// A number as IAM's `Numeric*` operators read it.
pub(crate) fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A point in time as IAM's `Date*` operators read it: Unix seconds, or ISO
/// 8601 `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ssZ` (fractional seconds allowed).
pub(crate) fn date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    if s.len() == 10 {
        let day = time::Date::parse(s, DAY).ok()?;
        return Some(day.midnight().assume_utc().unix_timestamp());
    }
    crate::audit::parse_iso8601(s).map(unix_seconds)
}

/// `YYYY-MM-DD`.
const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Whether `ip` lies in `range`, an address or CIDR block (IPv4 or IPv6) as
/// written for `IpAddress`/`NotIpAddress`.
pub(crate) fn ip_in_range(range: &str, ip: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match range.trim().split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (range.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    // An IPv4 client seen on an IPv6 socket arrives as ::ffff:a.b.c.d.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits.unwrap_or(32)),
        (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits.unwrap_or(128)),
        _ => false,
    }
}

fn prefix_eq(net: &[u8], addr: &[u8], bits: u32) -> bool {
    if bits as usize > net.len() * 8 {
        return false;
    }
    let full = (bits / 8) as usize;
    if net[..full] != addr[..full] {
        return false;
    }
    let rem = bits % 8;
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    net[full] & mask == addr[full] & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number("7"), Some(7.0));
        assert_eq!(number(" 7.5 "), Some(7.5));
        assert_eq!(number("x"), None);
        assert_eq!(number("NaN"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(date("2015-08-30T12:36:00Z"), Some(1_440_938_160));
        assert_eq!(date("2015-08-30T12:36:00.123Z"), Some(1_440_938_160));
        assert_eq!(date("2015-08-30"), Some(1_440_892_800));
        assert_eq!(date("1440938160"), Some(1_440_938_160));
        for bad in ["", "2015-8-30", "2015-08-30T12:36Z", "2015-08-30 12:36:00Z", "soon"] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn ip_ranges() {
        assert!(ip_in_range("10.0.0.0/8", "10.1.2.3"));
        assert!(!ip_in_range("10.0.0.0/8", "11.1.2.3"));
        assert!(ip_in_range("127.0.0.1", "127.0.0.1"));
        assert!(ip_in_range("127.0.0.1/32", "127.0.0.1"));
        assert!(ip_in_range("192.168.1.128/25", "192.168.1.200"));
        assert!(!ip_in_range("192.168.1.128/25", "192.168.1.100"));
        assert!(ip_in_range("0.0.0.0/0", "8.8.8.8"));
        assert!(ip_in_range("2001:db8::/32", "2001:db8::1"));
        assert!(!ip_in_range("2001:db8::/32", "2001:db9::1"));
        assert!(ip_in_range("127.0.0.0/8", "::ffff:127.0.0.1"));
        assert!(!ip_in_range("10.0.0.0/33", "10.0.0.1"));
        assert!(!ip_in_range("garbage", "10.0.0.1"));
        assert!(!ip_in_range("10.0.0.0/8", "garbage"));
        assert!(!ip_in_range("::/0", "10.0.0.1"));
    }
}
