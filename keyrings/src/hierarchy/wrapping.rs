//! The bytes of an `aws-kms-hierarchy` EDK: key derivation, AAD, and the ciphertext layout.
//!
//! Ciphertext = salt (16) ‖ IV (12) ‖ branch key version (16 UUID bytes) ‖ wrapped key ‖ tag (16).
//! The wrapping key is derived per EDK from the branch key and the salt with the NIST SP 800-108
//! KDF in counter mode over HMAC-SHA256, one 32-byte block, label "aws-kms-hierarchy":
//! `HMAC-SHA256(branchKey, 00000001 ‖ label ‖ 00 ‖ salt ‖ 00000100)`. The AAD binds the EDK to its
//! branch key id, version and the message's encryption context.
//!
//! spec: aws-kms-hierarchical-keyring.md#ciphertext, #branch-key-wrapping,
//! #branch-key-wrapping-and-unwrapping-aad; verified against the official vectors
//! (test-vectors/hierarchy/).

use std::fmt;

use aws_lc_rs::hmac;
use envelope::Result;
use envelope::error::KeyringError;
use zeroize::Zeroizing;

use super::key_store::BranchKeySecret;
use crate::aes_gcm::{IV_LEN, TAG_LEN, WrappingKey, fill_random};

/// The provider id of every EDK this keyring writes; also the KDF label and the AAD's first field.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::PROVIDER_ID;
///
/// // An encrypted data key the hierarchical keyring can unwrap is recognised by this id.
/// let edk = envelope::EncryptedDataKey::new(PROVIDER_ID, b"branch-key-id".to_vec(), vec![0; 60]);
/// assert_eq!(edk.provider_id, "aws-kms-hierarchy");
/// ```
pub const PROVIDER_ID: &str = "aws-kms-hierarchy";
/// Salt length of the KDF.
///
/// ```
/// assert_eq!(envelope_keyrings::hierarchy::wrapping::SALT_LEN, 16);
/// ```
pub const SALT_LEN: usize = 16;
/// Length of the version field (a UUID's bytes).
///
/// ```
/// assert_eq!(envelope_keyrings::hierarchy::wrapping::VERSION_LEN, 16);
/// ```
pub const VERSION_LEN: usize = 16;
/// Bytes before the wrapped key: salt, IV, version.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::{HEADER_LEN, SALT_LEN, VERSION_LEN};
///
/// let iv_len = 12; // AES-GCM
/// assert_eq!(HEADER_LEN, SALT_LEN + iv_len + VERSION_LEN);
/// ```
pub const HEADER_LEN: usize = SALT_LEN + IV_LEN + VERSION_LEN;

/// A branch key prepared for derivation: its HMAC-SHA256 key schedule, built once per cached
/// version rather than once per message. aws-lc-rs zeroizes it on drop.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::DerivationKey;
/// use envelope_keyrings::hierarchy::BranchKeySecret;
///
/// let derivation = DerivationKey::new(&BranchKeySecret::from_slice(&[7; 32])?);
/// assert_eq!(format!("{derivation:?}"), "DerivationKey([REDACTED])");
/// # Ok::<(), envelope_keyrings::hierarchy::InvalidBranchKeyMaterials>(())
/// ```
pub struct DerivationKey(hmac::Key);

impl DerivationKey {
    /// Prepares `branch_key`.
    ///
    /// ```
    /// use envelope_keyrings::hierarchy::wrapping::{self, DerivationKey};
    /// use envelope_keyrings::hierarchy::BranchKeySecret;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let derivation = DerivationKey::new(&BranchKeySecret::from_slice(&[7; 32])?);
    /// let version = [0xE9; 16];
    /// let ciphertext = wrapping::wrap(&derivation, "tenant-a", &version, b"", &[1; 32])?;
    /// assert_eq!(wrapping::version_of(&ciphertext), Some(&version));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(branch_key: &BranchKeySecret) -> DerivationKey {
        DerivationKey(hmac::Key::new(hmac::HMAC_SHA256, branch_key.expose_secret()))
    }

    /// The AES-256-GCM key for one EDK: SP 800-108 counter mode, a single HMAC-SHA256 block.
    fn derive(&self, salt: &[u8; SALT_LEN]) -> Result<WrappingKey> {
        // i = 1 ‖ label ‖ 0x00 ‖ context (the salt) ‖ L = 256 bits, all big-endian.
        let mut input = [0u8; 4 + PROVIDER_ID.len() + 1 + SALT_LEN + 4];
        input[..4].copy_from_slice(&1u32.to_be_bytes());
        input[4..4 + PROVIDER_ID.len()].copy_from_slice(PROVIDER_ID.as_bytes());
        let salt_at = 4 + PROVIDER_ID.len() + 1;
        input[salt_at..salt_at + SALT_LEN].copy_from_slice(salt);
        input[salt_at + SALT_LEN..].copy_from_slice(&256u32.to_be_bytes());
        let tag = hmac::sign(&self.0, &input);
        let derived = Zeroizing::new(<[u8; 32]>::try_from(tag.as_ref()).map_err(|_| {
            envelope::Error::from(KeyringError::Wrap("HMAC-SHA256 returned an output of the wrong length".into()))
        })?);
        WrappingKey::new(&*derived)
    }
}

impl fmt::Debug for DerivationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivationKey([REDACTED])")
    }
}

/// `"aws-kms-hierarchy" ‖ branch key id ‖ version (16) ‖ serialized encryption context`.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::wrapping_aad;
///
/// let aad = wrapping_aad("tenant-a", &[0xE9; 16], b"context");
/// assert!(aad.starts_with(b"aws-kms-hierarchytenant-a\xE9"));
/// assert!(aad.ends_with(b"\xE9context"));
/// assert_eq!(aad.len(), 17 + 8 + 16 + 7);
/// ```
pub fn wrapping_aad(branch_key_id: &str, version: &[u8; VERSION_LEN], serialized_context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(PROVIDER_ID.len() + branch_key_id.len() + VERSION_LEN + serialized_context.len());
    aad.extend_from_slice(PROVIDER_ID.as_bytes());
    aad.extend_from_slice(branch_key_id.as_bytes());
    aad.extend_from_slice(version);
    aad.extend_from_slice(serialized_context);
    aad
}

/// Wraps `key` (a data key, or an intermediate key under the DB-ESDK suites) into an EDK
/// ciphertext with a fresh random salt and IV.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::{self, DerivationKey};
/// use envelope_keyrings::hierarchy::BranchKeySecret;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let derivation = DerivationKey::new(&BranchKeySecret::from_slice(&[7; 32])?);
/// let version = [0xE9; 16];
/// let context = envelope::serialize_encryption_context(&envelope::EncryptionContext::new().with("tenant", "a"))?;
/// let ciphertext = wrapping::wrap(&derivation, "tenant-a", &version, &context, &[1; 32])?;
/// assert_eq!(ciphertext.len(), wrapping::HEADER_LEN + 32 + 16);
/// let parsed = wrapping::parse(&ciphertext, 32)?;
/// let data_key = wrapping::unwrap(&derivation, "tenant-a", &parsed, &context)?.expect("the tag verifies");
/// assert_eq!(&data_key[..], &[1; 32]);
/// # Ok(())
/// # }
/// ```
pub fn wrap(
    derivation: &DerivationKey,
    branch_key_id: &str,
    version: &[u8; VERSION_LEN],
    serialized_context: &[u8],
    key: &[u8],
) -> Result<Vec<u8>> {
    // One draw for salt and IV: the RNG's fixed cost per call dominates small draws.
    let mut random = [0u8; SALT_LEN + IV_LEN];
    fill_random(&mut random)?;
    let (salt, iv) = random.split_at(SALT_LEN);
    let salt: &[u8; SALT_LEN] = salt.try_into().map_err(|_| wrap_error("salt length"))?;
    let iv: &[u8; IV_LEN] = iv.try_into().map_err(|_| wrap_error("IV length"))?;

    let wrapping_key = derivation.derive(salt)?;
    let aad = wrapping_aad(branch_key_id, version, serialized_context);
    // Exact capacity: the plaintext key is sealed in place and the buffer never reallocates
    // (which would leave an unzeroized copy behind).
    let mut ciphertext = Vec::with_capacity(HEADER_LEN + key.len() + TAG_LEN);
    ciphertext.extend_from_slice(salt);
    ciphertext.extend_from_slice(iv);
    ciphertext.extend_from_slice(version);
    ciphertext.extend_from_slice(key);
    let tag = match wrapping_key.seal_in_place(iv, &aad, &mut ciphertext[HEADER_LEN..]) {
        Ok(tag) => tag,
        Err(error) => {
            zeroize::Zeroize::zeroize(&mut ciphertext);
            return Err(error);
        }
    };
    ciphertext.extend_from_slice(&tag);
    Ok(ciphertext)
}

fn wrap_error(what: &str) -> envelope::Error {
    KeyringError::Wrap(format!("hierarchical keyring: internal {what} mismatch")).into()
}

/// The fields of an EDK ciphertext, borrowed.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::{self, DerivationKey};
/// use envelope_keyrings::hierarchy::BranchKeySecret;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let derivation = DerivationKey::new(&BranchKeySecret::from_slice(&[7; 32])?);
/// let version = [0xE9; 16];
/// let ciphertext = wrapping::wrap(&derivation, "tenant-a", &version, b"", &[1; 32])?;
/// let parsed = wrapping::parse(&ciphertext, 32)?;
/// assert_eq!(parsed.version, &version);
/// assert_eq!((parsed.salt.len(), parsed.iv.len(), parsed.wrapped.len(), parsed.tag.len()), (16, 12, 32, 16));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ParsedCiphertext<'a> {
    /// KDF salt.
    pub salt: &'a [u8; SALT_LEN],
    /// AES-GCM IV.
    pub iv: &'a [u8; IV_LEN],
    /// Branch key version (UUID bytes).
    pub version: &'a [u8; VERSION_LEN],
    /// The wrapped key.
    pub wrapped: &'a [u8],
    /// The GCM tag.
    pub tag: &'a [u8],
}

/// Splits an EDK ciphertext wrapping a `key_len`-byte key; `Err` says why it does not parse.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping;
///
/// assert!(wrapping::parse(&[0; 92], 32).is_ok());
/// assert_eq!(wrapping::parse(&[0; 91], 32).unwrap_err(), "ciphertext is 91 bytes; a 32-byte key wraps to 92");
/// ```
pub fn parse(ciphertext: &[u8], key_len: usize) -> std::result::Result<ParsedCiphertext<'_>, String> {
    let expected = HEADER_LEN + key_len + TAG_LEN;
    if ciphertext.len() != expected {
        return Err(format!("ciphertext is {} bytes; a {key_len}-byte key wraps to {expected}", ciphertext.len()));
    }
    let (salt, rest) = ciphertext.split_at(SALT_LEN);
    let (iv, rest) = rest.split_at(IV_LEN);
    let (version, rest) = rest.split_at(VERSION_LEN);
    let (wrapped, tag) = rest.split_at(key_len);
    // The lengths were checked above, so these conversions cannot fail; map rather than unwrap.
    let bad = |_| "ciphertext field lengths".to_owned();
    Ok(ParsedCiphertext {
        salt: salt.try_into().map_err(bad)?,
        iv: iv.try_into().map_err(bad)?,
        version: version.try_into().map_err(bad)?,
        wrapped,
        tag,
    })
}

/// The version (UUID bytes) an EDK ciphertext names, without checking its length otherwise.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping;
///
/// let mut ciphertext = [0u8; 92];
/// ciphertext[28..44].copy_from_slice(&[0xE9; 16]); // after the salt (16) and the IV (12)
/// assert_eq!(wrapping::version_of(&ciphertext), Some(&[0xE9; 16]));
/// assert_eq!(wrapping::version_of(&ciphertext[..40]), None);
/// ```
pub fn version_of(ciphertext: &[u8]) -> Option<&[u8; VERSION_LEN]> {
    ciphertext.get(SALT_LEN + IV_LEN..HEADER_LEN)?.try_into().ok()
}

/// Unwraps a parsed ciphertext; `None` when the tag does not verify (wrong branch key, another
/// encryption context, a modified EDK). Unverified bytes never leave this function.
///
/// ```
/// use envelope_keyrings::hierarchy::wrapping::{self, DerivationKey};
/// use envelope_keyrings::hierarchy::BranchKeySecret;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let derivation = DerivationKey::new(&BranchKeySecret::from_slice(&[7; 32])?);
/// let version = [0xE9; 16];
/// let ciphertext = wrapping::wrap(&derivation, "tenant-a", &version, b"context", &[1; 32])?;
/// let parsed = wrapping::parse(&ciphertext, 32)?;
/// assert!(wrapping::unwrap(&derivation, "tenant-a", &parsed, b"context")?.is_some());
/// assert!(wrapping::unwrap(&derivation, "tenant-a", &parsed, b"another context")?.is_none());
/// assert!(wrapping::unwrap(&derivation, "tenant-b", &parsed, b"context")?.is_none());
/// # Ok(())
/// # }
/// ```
pub fn unwrap(
    derivation: &DerivationKey,
    branch_key_id: &str,
    parsed: &ParsedCiphertext<'_>,
    serialized_context: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let wrapping_key = derivation.derive(parsed.salt)?;
    let aad = wrapping_aad(branch_key_id, parsed.version, serialized_context);
    let mut plaintext = Zeroizing::new(parsed.wrapped.to_vec());
    match wrapping_key.open_in_place(parsed.iv, &aad, &mut plaintext, parsed.tag) {
        Ok(()) => Ok(Some(plaintext)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DerivationKey {
        DerivationKey::new(&BranchKeySecret::from_slice(&[byte; 32]).unwrap())
    }

    #[test]
    fn wrap_then_unwrap_round_trips_and_binds_id_version_and_context() {
        let version = [7u8; 16];
        let ciphertext = wrap(&key(1), "bk", &version, b"ctx", &[9; 32]).unwrap();
        assert_eq!(ciphertext.len(), 92);
        let parsed = parse(&ciphertext, 32).unwrap();
        assert_eq!(parsed.version, &version);
        assert_eq!(&*unwrap(&key(1), "bk", &parsed, b"ctx").unwrap().unwrap(), &[9; 32]);
        assert!(unwrap(&key(2), "bk", &parsed, b"ctx").unwrap().is_none(), "another branch key");
        assert!(unwrap(&key(1), "bk2", &parsed, b"ctx").unwrap().is_none(), "another branch key id");
        assert!(unwrap(&key(1), "bk", &parsed, b"ctX").unwrap().is_none(), "another context");
        let mut other_version = ciphertext.clone();
        other_version[SALT_LEN + IV_LEN] ^= 1;
        let parsed = parse(&other_version, 32).unwrap();
        assert!(unwrap(&key(1), "bk", &parsed, b"ctx").unwrap().is_none(), "another version");
    }

    #[test]
    fn ciphertexts_of_the_wrong_length_do_not_parse() {
        assert!(parse(&[0; 91], 32).is_err());
        assert!(parse(&[0; 76], 32).is_err());
        assert!(parse(&[0; 76], 16).is_ok());
        assert!(parse(&[], 16).is_err());
        assert!(version_of(&[0; 43]).is_none());
    }
}
