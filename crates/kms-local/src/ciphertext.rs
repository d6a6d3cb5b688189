//! The symmetric ciphertext blob: self-describing, versioned, and bound to its encryption context.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! u8  format version (1)
//! u8  key reference length L (1..=64)
//! L   key reference `<account>:<key id>` (ASCII; no Region, so multi-Region replicas match, and
//!     with the account, so a grantee in another account can decrypt without naming the key)
//! u32 key material version (0 = original material, n = n-th rotation)
//! 12  AES-GCM IV
//! ..  ciphertext ‖ 16-byte tag
//! ```
//!
//! The AEAD additional data is a domain label, the header bytes above (everything before the IV
//! is bound, so editing the key id or version fails authentication), and the canonical encoding of
//! the encryption context: a pair count, then each pair sorted by key, each string length-prefixed.
//! Length prefixes make the encoding unambiguous: `{"a":"bc"}` and `{"ab":"c"}` differ.

use std::collections::BTreeMap;

use crate::error::{KmsError, KmsResult};

const FORMAT_V1: u8 = 1;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_LABEL: &[u8] = b"envelope-kms-local/ciphertext/v1";

/// A parsed blob, borrowing from the request bytes.
#[derive(Debug)]
pub(crate) struct Blob<'a> {
    /// Account owning the key that encrypted it.
    pub(crate) account: &'a str,
    /// Key id that encrypted it.
    pub(crate) key_id: &'a str,
    /// Material version within that key.
    pub(crate) version: u32,
    /// AES-GCM IV.
    pub(crate) iv: [u8; IV_LEN],
    /// Ciphertext and tag.
    pub(crate) sealed: &'a [u8],
    header: &'a [u8],
}

impl<'a> Blob<'a> {
    /// Parses a blob; anything malformed is `InvalidCiphertextException`.
    pub(crate) fn parse(bytes: &'a [u8]) -> KmsResult<Self> {
        let bad = KmsError::invalid_ciphertext;
        let (&version_byte, rest) = bytes.split_first().ok_or_else(bad)?;
        if version_byte != FORMAT_V1 {
            return Err(bad());
        }
        let (&len, rest) = rest.split_first().ok_or_else(bad)?;
        let len = usize::from(len);
        if len == 0 || len > 64 || rest.len() < len + 4 + IV_LEN + TAG_LEN {
            return Err(bad());
        }
        let key_ref = std::str::from_utf8(&rest[..len]).map_err(|_| bad())?;
        let (account, key_id) = key_ref.split_once(':').ok_or_else(bad)?;
        let rest = &rest[len..];
        let version = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&rest[4..4 + IV_LEN]);
        let header_len = 2 + len + 4;
        Ok(Self { account, key_id, version, iv, sealed: &rest[4 + IV_LEN..], header: &bytes[..header_len] })
    }

    /// Additional data for opening this blob under `context`.
    pub(crate) fn aad(&self, context: &BTreeMap<String, String>) -> Vec<u8> {
        aad(self.header, context)
    }
}

/// The header bytes for a new blob, which are also its AAD prefix.
pub(crate) fn header(account: &str, key_id: &str, version: u32) -> KmsResult<Vec<u8>> {
    let key_ref = format!("{account}:{key_id}");
    let len = u8::try_from(key_ref.len())
        .ok()
        .filter(|l| *l <= 64)
        .ok_or_else(|| KmsError::internal("key id too long for blob"))?;
    let mut out = Vec::with_capacity(2 + key_ref.len() + 4);
    out.push(FORMAT_V1);
    out.push(len);
    out.extend_from_slice(key_ref.as_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    Ok(out)
}

/// Assembles a blob from its header, IV and sealed bytes.
pub(crate) fn assemble(header: &[u8], iv: &[u8; IV_LEN], sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + IV_LEN + sealed.len());
    out.extend_from_slice(header);
    out.extend_from_slice(iv);
    out.extend_from_slice(sealed);
    out
}

/// AAD = label ‖ header ‖ canonical(context).
pub(crate) fn aad(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + header.len() + 4 + context.len() * 16);
    out.extend_from_slice(AAD_LABEL);
    out.extend_from_slice(header);
    canonical_context(context, &mut out);
    out
}

/// Appends the canonical encoding of an encryption context (BTreeMap iterates in key order).
pub(crate) fn canonical_context(context: &BTreeMap<String, String>, out: &mut Vec<u8>) {
    out.extend_from_slice(&(context.len() as u32).to_be_bytes());
    for (k, v) in context {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn context_encoding_is_unambiguous() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        canonical_context(&ctx(&[("a", "bc")]), &mut a);
        canonical_context(&ctx(&[("ab", "c")]), &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn parse_round_trip_and_rejects_garbage() {
        let h = header("111122223333", "1234abcd-12ab-34cd-56ef-1234567890ab", 3).unwrap();
        let blob = assemble(&h, &[9; 12], &[1; 20]);
        let p = Blob::parse(&blob).unwrap();
        assert_eq!(p.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(p.account, "111122223333");
        assert_eq!(p.version, 3);
        assert_eq!(p.sealed.len(), 20);
        assert!(Blob::parse(&blob[..blob.len() - 10]).is_err());
        assert!(Blob::parse(&[2, 1, 0]).is_err());
        assert!(Blob::parse(&[]).is_err());
    }
}
