//! Encryption context serialization.
//!
//! spec: framework/structures.md#serialization — count(2), then pairs sorted by the UTF-8 bytes
//! of their keys, each as keyLen(2) key valueLen(2) value; an empty context is zero bytes.

use super::codec::{Reader, put_u16_prefixed};
use crate::error::{Error, Result};
use crate::materials::EncryptionContext;

/// Serializes an encryption context as messages store it, and as keyrings that bind the context
/// (raw AES: the AAD of each wrapped data key) must: a pair count, then each key and value with a
/// two-byte length, sorted by key bytes; an empty context is zero bytes.
///
/// Fails when the context cannot fit a message (more than 65535 pairs, a key or value longer
/// than 65535 bytes, or more than 65535 bytes in all).
///
/// ```
/// let context = envelope::EncryptionContext::from([("purpose".to_string(), "demo".to_string())]);
/// let bytes = envelope::serialize_encryption_context(&context)?;
/// assert_eq!(bytes, b"\x00\x01\x00\x07purpose\x00\x04demo");
/// # Ok::<(), envelope::Error>(())
/// ```
pub fn serialize(context: &EncryptionContext) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    serialize_into(context.iter(), &mut out)?;
    Ok(out)
}

/// Serializes the given pairs (which must be sorted and unique) onto `out`.
pub fn serialize_into<'a>(
    pairs: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    out: &mut Vec<u8>,
) -> Result<()> {
    if pairs.len() == 0 {
        return Ok(());
    }
    let count =
        u16::try_from(pairs.len()).map_err(|_| Error::usage("an encryption context holds at most 65535 pairs"))?;
    let start = out.len();
    out.extend_from_slice(&count.to_be_bytes());
    for (key, value) in pairs {
        put_u16_prefixed(out, key.as_bytes(), "encryption context key")?;
        put_u16_prefixed(out, value.as_bytes(), "encryption context value")?;
    }
    if out.len() - start > u16::MAX as usize {
        return Err(Error::usage("the serialized encryption context exceeds 65535 bytes"));
    }
    Ok(())
}

/// Serializes only the pairs whose keys are listed (the required-context AAD).
pub fn serialize_subset(context: &EncryptionContext, keys: &[String]) -> Result<Vec<u8>> {
    let subset: EncryptionContext =
        context.iter().filter(|(key, _)| keys.contains(key)).map(|(k, v)| (k.clone(), v.clone())).collect();
    serialize(&subset)
}

/// Parses a serialized context (the bytes after the header's AAD length field).
pub fn parse(bytes: &[u8]) -> Result<EncryptionContext> {
    let mut context = EncryptionContext::new();
    if bytes.is_empty() {
        return Ok(context);
    }
    let mut reader = Reader::new(bytes);
    let count = reader.u16("encryption context count")?;
    if count == 0 {
        // spec: an empty context is serialized as zero bytes, never as a zero count.
        return Err(Error::invalid("encryption context", "non-empty field with a pair count of zero"));
    }
    for _ in 0..count {
        let key = utf8(reader.u16_prefixed("encryption context key")?, "encryption context key")?;
        let value = utf8(reader.u16_prefixed("encryption context value")?, "encryption context value")?;
        if context.insert(key, value).is_some() {
            return Err(Error::invalid("encryption context", "duplicate key"));
        }
    }
    reader.finish().map_err(|_| Error::invalid("encryption context", "bytes follow the last pair"))?;
    Ok(context)
}

fn utf8(bytes: &[u8], field: &'static str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::invalid(field, "not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_utf8_byte_order() {
        let mut context = EncryptionContext::new();
        context.insert("b", "2");
        context.insert("a", "1");
        context.insert("é", "3");
        let bytes = serialize(&context).unwrap();
        assert_eq!(&bytes[..2], &[0, 3]);
        assert_eq!(&bytes[2..7], &[0, 1, b'a', 0, 1]);
        assert_eq!(parse(&bytes).unwrap(), context);
    }

    #[test]
    fn empty_context_is_zero_bytes() {
        assert!(serialize(&EncryptionContext::new()).unwrap().is_empty());
        assert!(parse(&[]).unwrap().is_empty());
        assert!(parse(&[0, 0]).is_err());
    }

    #[test]
    fn rejects_duplicates_and_bad_utf8() {
        let dup = [0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0];
        assert!(parse(&dup).is_err());
        let bad = [0, 1, 0, 1, 0xff, 0, 0];
        assert!(parse(&bad).is_err());
    }
}
