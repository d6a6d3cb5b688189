//! Per-beacon HMAC keys and the basic hash every beacon value is made of.
//!
//! spec: search-config.md "HMAC Key Generation"; beacons.md "basicHash"

use aws_lc_rs::{hkdf, hmac};
use zeroize::Zeroizing;

use super::error::BeaconError;

/// The HKDF `info` prefix; the beacon name follows it.
const SCAN_BEACON_INFO: &[u8] = b"AWS_DBE_SCAN_BEACON";
/// Length in bytes of each derived HMAC key.
const HMAC_KEY_LEN: usize = 64;

/// A beacon length: how many bits of the HMAC are kept (1 to 63).
///
/// ```
/// use envelope_dbe::beacon::BeaconLength;
/// let length = BeaconLength::new(16)?;
/// assert_eq!(length.bits(), 16);
/// assert_eq!(length.hex_chars(), 4);
/// assert!(BeaconLength::new(64).is_err());
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BeaconLength(u8);

impl BeaconLength {
    /// A length of `bits`, refused unless 1 <= bits <= 63.
    pub fn new(bits: u32) -> Result<Self, BeaconError> {
        match u8::try_from(bits) {
            Ok(b @ 1..=63) => Ok(Self(b)),
            _ => Err(BeaconError::InvalidLength(bits)),
        }
    }

    /// The number of bits kept.
    pub fn bits(self) -> u32 {
        u32::from(self.0)
    }

    /// The number of hex characters of a beacon of this length: bits / 4 rounded up.
    pub fn hex_chars(self) -> usize {
        usize::from(self.0).div_ceil(4)
    }
}

/// The HMAC-SHA384 key of one standard beacon.
///
/// Normally derived from the beacon key of a branch key with [`BeaconHmacKey::derive`]; the
/// key lives inside aws-lc, which wipes it on drop, and `Debug` shows nothing of it.
///
/// ```
/// use envelope_dbe::beacon::{BeaconHmacKey, BeaconLength};
/// let key = BeaconHmacKey::derive(&[1, 2, 3, 4, 5], "Name")?;
/// assert_eq!(key.basic_hash(b"MyName", BeaconLength::new(32)?), "7d9bfa40");
/// // The basic hash is the rightmost bits of the first 8 bytes of HMAC-SHA384.
/// assert_eq!(hex::encode(&key.hmac8(b"MyName")[4..]), "7d9bfa40");
///
/// // A key that is already the HMAC key (e.g. from a test vector) is taken as it is.
/// let raw = BeaconHmacKey::from_raw(&[9; 64]);
/// assert_eq!(raw.basic_hash(b"x", BeaconLength::new(8)?).len(), 2);
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Clone)]
pub struct BeaconHmacKey {
    key: hmac::Key,
}

impl std::fmt::Debug for BeaconHmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeaconHmacKey(<redacted>)")
    }
}

/// Tells HKDF how many bytes to expand to.
struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

impl BeaconHmacKey {
    /// Derives the key of beacon `beacon_name` from a beacon (root) key: HKDF-SHA512 without salt,
    /// info = `AWS_DBE_SCAN_BEACON` ‖ UTF-8(beacon_name), 64 bytes.
    pub fn derive(beacon_key: &[u8], beacon_name: &str) -> Result<Self, BeaconError> {
        let failed = || BeaconError::KeyDerivation(beacon_name.to_owned());
        // An empty salt is the HKDF "no salt" (RFC 5869: a string of zeros, which HMAC pads to).
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA512, &[]).extract(beacon_key);
        let info = [SCAN_BEACON_INFO, beacon_name.as_bytes()];
        let okm = prk.expand(&info, OutputLen(HMAC_KEY_LEN)).map_err(|_| failed())?;
        let mut raw = Zeroizing::new([0u8; HMAC_KEY_LEN]);
        okm.fill(raw.as_mut()).map_err(|_| failed())?;
        Ok(Self::from_raw(raw.as_ref()))
    }

    /// A key from raw bytes that are already the beacon's HMAC key (no derivation).
    pub fn from_raw(raw: &[u8]) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA384, raw) }
    }

    /// The first 8 bytes of HMAC-SHA384(key, data).
    pub fn hmac8(&self, data: &[u8]) -> [u8; 8] {
        let tag = hmac::sign(&self.key, data);
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag.as_ref()[..8]);
        first
    }

    /// The basic hash: the rightmost `length` bits of [`Self::hmac8`] as lowercase hex,
    /// `length.hex_chars()` characters long (zero-padded).
    pub fn basic_hash(&self, data: &[u8], length: BeaconLength) -> String {
        truncated_hex(self.hmac8(data), length)
    }
}

/// The rightmost `length` bits of `h8` (big-endian) as lowercase hex of exactly
/// `length.hex_chars()` characters.
fn truncated_hex(h8: [u8; 8], length: BeaconLength) -> String {
    let mask = (1u64 << length.bits()) - 1;
    let kept = u64::from_be_bytes(h8) & mask;
    format!("{kept:0width$x}", width = length.hex_chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(bits: u32) -> BeaconLength {
        BeaconLength::new(bits).unwrap()
    }

    // Known answers: DB-ESDK Beacon.dfy TestBeacon (HMAC key [1, 2] used as is).
    #[test]
    fn hmac8_known_answers() {
        let key = BeaconHmacKey::from_raw(&[1, 2]);
        assert_eq!(key.hmac8(&[1, 2, 3]), [0x27, 0x93, 0x93, 0x8b, 0x26, 0xe9, 0x52, 0x7e]);
        assert_eq!(key.hmac8(&[1, 2, 3, 1]), [42, 100, 242, 20, 188, 0, 33, 0x1d]);
        assert_eq!(key.hmac8(&[1, 2, 3, 2]), [53, 151, 144, 34, 49, 19, 169, 0xef]);
        assert_eq!(key.hmac8(&[])[7], 0x80);
        assert_eq!(key.hmac8(b"123")[7], 0x61);
        assert_eq!(key.basic_hash(&[1, 2, 3], len(8)), "7e");
        assert_eq!(key.basic_hash(&[], len(8)), "80");
    }

    // Known answers: Beacon.dfy TestOneBeaconValue / BeaconTestFixtures (beacon key [1,2,3,4,5]).
    #[test]
    fn derived_key_known_answers() {
        let root = [1u8, 2, 3, 4, 5];
        let cases = [
            ("std2", "1.23", 24, "ac6f5d"),
            ("Name", "MyName", 32, "7d9bfa40"),
            ("Title", "MyTitle", 32, "e4feb833"),
            ("std4", "abc", 24, "0e9064"),
            ("std6", "666", 26, "2d99222"),
            ("NameTitleField", "MyName__mytitle", 28, "4c577d7"),
            ("Name", "", 32, "e0e88994"),
            ("Title", "", 32, "af34f26f"),
        ];
        for (name, value, bits, expected) in cases {
            let key = BeaconHmacKey::derive(&root, name).unwrap();
            assert_eq!(key.basic_hash(value.as_bytes(), len(bits)), expected, "{name}");
        }
    }

    #[test]
    fn truncation_keeps_rightmost_bits_and_pads() {
        let h8 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x05];
        assert_eq!(truncated_hex(h8, len(10)), "205");
        assert_eq!(truncated_hex(h8, len(9)), "005");
        assert_eq!(truncated_hex(h8, len(16)), "0205");
        assert_eq!(truncated_hex(h8, len(1)), "1");
        assert_eq!(truncated_hex([0xff; 8], len(63)), "7fffffffffffffff");
    }

    #[test]
    fn lengths_outside_1_to_63_are_refused() {
        assert_eq!(BeaconLength::new(0), Err(BeaconError::InvalidLength(0)));
        assert_eq!(BeaconLength::new(64), Err(BeaconError::InvalidLength(64)));
        assert_eq!(BeaconLength::new(300), Err(BeaconError::InvalidLength(300)));
        assert_eq!(len(63).hex_chars(), 16);
    }

    #[test]
    fn debug_hides_the_key() {
        let key = BeaconHmacKey::from_raw(&[0x41; 64]);
        assert_eq!(format!("{key:?}"), "BeaconHmacKey(<redacted>)");
    }
}
