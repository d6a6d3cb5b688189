//! Encryption context serialization for keyrings that bind the context (raw AES).
//!
//! Stand-in until the core crate exposes its own serializer; then this forwards to it.
//!
//! spec: framework/structures.md#serialization

use envelope::error::{Error, Malformed};
use envelope::EncryptionContext;

/// `count(2) ‖ (keyLen(2) key valueLen(2) value)*` in key order; the empty context is zero bytes.
///
/// A `BTreeMap<String, String>` iterates in `str` order, which is UTF-8 byte order — the order
/// the spec requires — and cannot hold duplicate keys.
pub(crate) fn serialize_encryption_context(context: &EncryptionContext) -> Result<Vec<u8>, Error> {
    // spec: structures.md#serialization — an empty context serializes to an empty byte sequence.
    if context.is_empty() {
        return Ok(Vec::new());
    }
    let count = u16::try_from(context.len()).map_err(|_| too_long("pair count", context.len()))?;
    let size = 2 + context.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&count.to_be_bytes());
    for (key, value) in context {
        for field in [key, value] {
            let len = u16::try_from(field.len()).map_err(|_| too_long("key or value", field.len()))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
    }
    Ok(out)
}

fn too_long(what: &str, len: usize) -> Error {
    Error::Malformed(Malformed::InvalidField {
        field: "encryption context",
        detail: format!("{what} is {len}; the format allows at most 65535"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_sorted_by_utf8_bytes() {
        let context = EncryptionContext::from([
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "1".to_owned()),
            ("é".to_owned(), "".to_owned()),
        ]);
        let bytes = serialize_encryption_context(&context).unwrap();
        assert_eq!(hex::encode(bytes), "00030001610001310001620001320002c3a90000");
    }

    #[test]
    fn empty_context_is_zero_bytes() {
        assert!(serialize_encryption_context(&EncryptionContext::new()).unwrap().is_empty());
    }

    #[test]
    fn overlong_value_is_refused() {
        let context = EncryptionContext::from([("k".to_owned(), "v".repeat(65536))]);
        assert!(serialize_encryption_context(&context).is_err());
    }
}
