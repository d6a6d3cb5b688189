//! Keys derived from an item's data key: the header commitment key, the field root key and the
//! per-attribute AES-GCM key and nonce, plus the canonical path every per-attribute operation
//! binds to. All primitives come from aws-lc-rs; derived keys are zeroized on drop.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/structured-encryption/`
//! (header.md "Header Commitment", encrypt-structure.md "Calculate Cipherkey and Nonce")

use aws_lc_rs::cipher::{AES_256, EncryptingKey, EncryptionContext as CipherIv, UnboundCipherKey};
use aws_lc_rs::hkdf::{HKDF_SHA512, KeyType, Salt};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{constant_time, hmac};
use zeroize::Zeroizing;

use super::header::{COMMITMENT_LEN, MESSAGE_ID_LEN};

const COMMIT_KEY_INFO: &[u8] = b"AWS_DBE_COMMIT_KEY";
const FIELD_ROOT_KEY_INFO: &[u8] = b"AWS_DBE_DERIVE_KEY";
/// The first 12 bytes of every field's counter block.
const FIELD_COUNTER_LABEL: &[u8; 12] = b"AwsDbeField,";

/// A 32-byte output length for aws-lc-rs's HKDF.
struct Len32;

impl KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// HKDF-SHA512 with no salt (the spec's "salt: none" is a zero-filled salt, which HMAC treats
/// the same as an empty key), `info = label ‖ message id`, 32 bytes out.
fn hkdf32(data_key: &[u8], label: &[u8], message_id: &[u8; MESSAGE_ID_LEN]) -> Zeroizing<[u8; 32]> {
    let prk = Salt::new(HKDF_SHA512, &[]).extract(data_key);
    let info = [label, &message_id[..]];
    let okm = prk.expand(&info, Len32).expect("32 bytes is within HKDF-SHA512's limit");
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(&mut out[..]).expect("the output buffer has the requested length");
    out
}

/// The header commitment: HMAC under the commit key over the header before the commitment,
/// truncated to 32 bytes. The HMAC is the suite's commit-key KDF hash, SHA-512 for both DB-ESDK
/// suites (older spec text says SHA-384; the implementations and their items use SHA-512).
pub(crate) fn commitment(
    data_key: &[u8],
    message_id: &[u8; MESSAGE_ID_LEN],
    header_body: &[u8],
) -> [u8; COMMITMENT_LEN] {
    let commit_key = hkdf32(data_key, COMMIT_KEY_INFO, message_id);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, &commit_key[..]), header_body);
    let mut out = [0; COMMITMENT_LEN];
    out.copy_from_slice(&tag.as_ref()[..COMMITMENT_LEN]);
    out
}

/// Constant-time equality of two byte strings (MACs, commitments).
pub(crate) fn equal(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// The AES-256-GCM key and nonce of one encrypted attribute.
pub(crate) struct FieldKey {
    bytes: Zeroizing<[u8; 48]>,
}

impl FieldKey {
    pub(crate) fn cipher_key(&self) -> &[u8] {
        &self.bytes[..32]
    }

    pub(crate) fn nonce(&self) -> [u8; 12] {
        let mut nonce = [0; 12];
        nonce.copy_from_slice(&self.bytes[32..44]);
        nonce
    }
}

/// Derives the per-item field root key once; [`FieldKeys::field`] then gives the key of the
/// attribute at `offset` among the item's encrypted attributes in canonical-path order.
pub(crate) struct FieldKeys {
    root: Zeroizing<[u8; 32]>,
}

impl FieldKeys {
    pub(crate) fn new(data_key: &[u8], message_id: &[u8; MESSAGE_ID_LEN]) -> FieldKeys {
        FieldKeys { root: hkdf32(data_key, FIELD_ROOT_KEY_INFO, message_id) }
    }

    /// The first 44 bytes of the AES-256-CTR keystream under the root key, counter block
    /// `"AwsDbeField" ‖ 0x2C ‖ u32be(offset × 3)`: each field owns three counter blocks.
    pub(crate) fn field(&self, offset: usize) -> Result<FieldKey, aws_lc_rs::error::Unspecified> {
        let block = u32::try_from(offset.checked_mul(3).ok_or(aws_lc_rs::error::Unspecified)?)
            .map_err(|_| aws_lc_rs::error::Unspecified)?;
        let mut counter = [0u8; 16];
        counter[..12].copy_from_slice(FIELD_COUNTER_LABEL);
        counter[12..].copy_from_slice(&block.to_be_bytes());
        let key = EncryptingKey::ctr(UnboundCipherKey::new(&AES_256, &self.root[..])?)?;
        let mut bytes = Zeroizing::new([0u8; 48]);
        key.less_safe_encrypt(&mut bytes[..], CipherIv::Iv128(FixedLength::from(counter)))?;
        Ok(FieldKey { bytes })
    }
}

/// The canonical path of a top-level attribute: UTF-8 table name ‖ u64be(depth = 1) ‖ `$` ‖
/// u64be(name length) ‖ name. Sorting attributes by it sorts by name length, then name bytes.
pub(crate) fn canonical_path(table_name: &str, attribute: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(table_name.len() + 17 + attribute.len());
    out.extend_from_slice(table_name.as_bytes());
    out.extend_from_slice(&1u64.to_be_bytes());
    out.push(b'$');
    out.extend_from_slice(&(attribute.len() as u64).to_be_bytes());
    out.extend_from_slice(attribute.as_bytes());
    out
}

/// Canonical-path order of attribute names (the table prefix is shared, so it drops out).
pub(crate) fn canonical_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_layout_and_order() {
        let path = canonical_path("T", "ab");
        assert_eq!(path, [b'T', 0, 0, 0, 0, 0, 0, 0, 1, b'$', 0, 0, 0, 0, 0, 0, 0, 2, b'a', b'b']);
        let mut names = vec!["RecNum", "Stuff", "Junk", "Zz", "Aaaa"];
        names.sort_by(|a, b| canonical_cmp(a, b));
        assert_eq!(names, ["Zz", "Aaaa", "Junk", "Stuff", "RecNum"]);
        let mut paths: Vec<Vec<u8>> =
            ["RecNum", "Stuff", "Junk"].iter().map(|n| canonical_path("GazelleVectorTable", n)).collect();
        paths.sort();
        assert_eq!(paths[0], canonical_path("GazelleVectorTable", "Junk"));
    }

    #[test]
    fn field_keys_differ_per_offset_and_item() {
        let keys = FieldKeys::new(&[1; 32], &[2; 32]);
        let (a, b) = (keys.field(0).unwrap(), keys.field(1).unwrap());
        assert_ne!(a.cipher_key(), b.cipher_key());
        // offset 1 starts three blocks later in the same keystream
        let other = FieldKeys::new(&[1; 32], &[3; 32]).field(0).unwrap();
        assert_ne!(a.cipher_key(), other.cipher_key());
        assert_eq!(commitment(&[1; 32], &[2; 32], b"h").len(), 32);
    }
}
