//! The check the `dbe_terminal_location` cargo-fuzz target runs, shared with
//! `tests/fuzz_corpus.rs` so what is fuzzed and what is replayed cannot drift apart.
//! Not part of the public API.

use super::location::TerminalLocation;
use super::virtual_field::VirtualTransform;

/// A terminal location as text (UTF-8, lossy): whatever parses prints back to text that parses
/// to the same location. The text also goes through every virtual transform, which must not
/// panic, with positions taken from the first byte. Returns whether the location parsed.
pub fn check_terminal_location(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let n = i32::from(*data.first().unwrap_or(&0) as i8);
    for transform in [
        VirtualTransform::Upper,
        VirtualTransform::Lower,
        VirtualTransform::Prefix(n),
        VirtualTransform::Suffix(n),
        VirtualTransform::Substring { low: n, high: -n },
        VirtualTransform::Segment { split: '.', index: n },
        VirtualTransform::Segments { split: '[', low: -n, high: n },
    ] {
        let _ = transform.apply(&text);
    }
    let Ok(location) = TerminalLocation::parse(&text) else { return false };
    let printed = location.to_string();
    let again = TerminalLocation::parse(&printed).expect("a printed location parses");
    assert_eq!(again, location, "location changed through its text form");
    true
}
