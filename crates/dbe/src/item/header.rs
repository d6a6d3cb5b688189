//! The `aws_dbe_head` attribute: version, suite flavor, message id, encrypt legend, the stored
//! part of the encryption context, the encrypted data keys and the header commitment.
//!
//! The parser is strict (sorted unique context keys, known legend bytes, at least one EDK,
//! nothing trailing), so a header that parses re-serializes to exactly its bytes. The commitment
//! is carried, not checked: checking it needs the data key (see the decrypt path).
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/structured-encryption/header.md`

use std::collections::BTreeMap;

use envelope::{AlgorithmSuite, EncryptedDataKey};

use super::action::CryptoAction;
use super::error::HeaderError;

/// Length of the random per-item message id.
///
/// ```
/// assert_eq!(envelope_dbe::item::MESSAGE_ID_LEN, 32);
/// ```
pub const MESSAGE_ID_LEN: usize = 32;
/// Length of the header commitment (HMAC-SHA384 truncated to 256 bits).
///
/// ```
/// assert_eq!(envelope_dbe::item::COMMITMENT_LEN, 32);
/// ```
pub const COMMITMENT_LEN: usize = 32;

/// A parsed `aws_dbe_head`.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope::{AlgorithmSuite, EncryptedDataKey};
/// use envelope_dbe::item::{CryptoAction, Header};
///
/// let header = Header {
///     version: 1,
///     suite: AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
///     message_id: [7; 32],
///     legend: vec![CryptoAction::EncryptAndSign, CryptoAction::SignOnly],
///     encryption_context: BTreeMap::new(),
///     encrypted_data_keys: vec![EncryptedDataKey::new("aws-kms-hierarchy", b"id".to_vec(), vec![1; 140])],
///     commitment: [9; 32],
/// };
/// let bytes = header.to_bytes()?;
/// assert_eq!(&bytes[..2], [1, 0]); // version 1, flavor 0 (suite 0x6700)
/// assert_eq!(Header::parse(&bytes)?, header);
/// // The commitment is the header's last 32 bytes, computed over everything before it.
/// assert_eq!(header.serialize_uncommitted()?, bytes[..bytes.len() - 32]);
/// # Ok::<(), envelope_dbe::item::HeaderError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version: 1, or 2 when an attribute is SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT.
    pub version: u8,
    /// The suite, from the flavor byte: 0x6700 (flavor 0) or 0x6701 (flavor 1, ECDSA).
    pub suite: AlgorithmSuite,
    /// Random per item.
    pub message_id: [u8; MESSAGE_ID_LEN],
    /// One action per signed attribute, in canonical-path order (never DO_NOTHING).
    pub legend: Vec<CryptoAction>,
    /// The stored encryption context: only the entries not rebuilt from the item (usually just
    /// `aws-crypto-public-key` under 0x6701).
    pub encryption_context: BTreeMap<String, String>,
    /// At least one.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// First 32 bytes of HMAC-SHA512(commit key, all preceding header bytes).
    pub commitment: [u8; COMMITMENT_LEN],
}

/// The header flavor byte of a DB-ESDK suite, `None` for any other suite.
///
/// ```
/// use envelope::AlgorithmSuite;
/// use envelope_dbe::item::flavor_of;
///
/// assert_eq!(flavor_of(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384), Some(0));
/// assert_eq!(flavor_of(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey), None);
/// ```
pub fn flavor_of(suite: AlgorithmSuite) -> Option<u8> {
    match suite {
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => Some(0),
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => Some(1),
        _ => None,
    }
}

fn suite_of(flavor: u8) -> Option<AlgorithmSuite> {
    match flavor {
        0 => Some(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384),
        1 => Some(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384),
        _ => None,
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], HeaderError> {
        if self.rest.len() < n {
            return Err(HeaderError::Truncated(field));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, HeaderError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<usize, HeaderError> {
        let bytes = self.take(2, field)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]) as usize)
    }

    fn prefixed(&mut self, field: &'static str) -> Result<&'a [u8], HeaderError> {
        let len = self.u16(field)?;
        self.take(len, field)
    }
}

fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8], field: &'static str) -> Result<(), HeaderError> {
    let len = u16::try_from(bytes.len()).map_err(|_| HeaderError::TooLong(field))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

impl Header {
    /// Parses an `aws_dbe_head` value.
    pub fn parse(bytes: &[u8]) -> Result<Header, HeaderError> {
        let mut reader = Reader { rest: bytes };
        let version = reader.u8("version")?;
        if version != 1 && version != 2 {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        let flavor = reader.u8("flavor")?;
        let suite = suite_of(flavor).ok_or(HeaderError::UnknownFlavor(flavor))?;
        let mut message_id = [0; MESSAGE_ID_LEN];
        message_id.copy_from_slice(reader.take(MESSAGE_ID_LEN, "message id")?);

        let legend = reader
            .prefixed("encrypt legend")?
            .iter()
            .map(|&byte| match CryptoAction::from_legend_byte(byte) {
                Some(CryptoAction::SignAndIncludeInEncryptionContext) if version == 1 => {
                    Err(HeaderError::ContextActionInVersion1)
                }
                Some(action) => Ok(action),
                None => Err(HeaderError::BadLegendByte(byte)),
            })
            .collect::<Result<Vec<_>, _>>()?;

        let pairs = reader.u16("encryption context")?;
        let mut encryption_context = BTreeMap::new();
        let mut previous: Option<String> = None;
        for _ in 0..pairs {
            let key = text(reader.prefixed("encryption context")?)?;
            let value = text(reader.prefixed("encryption context")?)?;
            // Strictly ascending UTF-8 bytes (String's order) rules out both disorder and repeats.
            if previous.as_ref().is_some_and(|prev| prev.as_bytes() >= key.as_bytes()) {
                return Err(HeaderError::ContextNotSorted(key));
            }
            previous = Some(key.clone());
            encryption_context.insert(key, value);
        }

        let edk_count = reader.u8("encrypted data keys")?;
        if edk_count == 0 {
            return Err(HeaderError::NoEncryptedDataKeys);
        }
        let mut encrypted_data_keys = Vec::with_capacity(edk_count as usize);
        for _ in 0..edk_count {
            let provider_id = String::from_utf8(reader.prefixed("encrypted data keys")?.to_vec())
                .map_err(|_| HeaderError::ProviderIdNotUtf8)?;
            let provider_info = reader.prefixed("encrypted data keys")?.to_vec();
            let ciphertext = reader.prefixed("encrypted data keys")?.to_vec();
            encrypted_data_keys.push(EncryptedDataKey::new(provider_id, provider_info, ciphertext));
        }

        let mut commitment = [0; COMMITMENT_LEN];
        commitment.copy_from_slice(reader.take(COMMITMENT_LEN, "commitment")?);
        if !reader.rest.is_empty() {
            return Err(HeaderError::TrailingBytes(reader.rest.len()));
        }
        Ok(Header { version, suite, message_id, legend, encryption_context, encrypted_data_keys, commitment })
    }

    /// The header bytes before the commitment: what the commitment is computed over.
    pub fn serialize_uncommitted(&self) -> Result<Vec<u8>, HeaderError> {
        if self.version != 1 && self.version != 2 {
            return Err(HeaderError::UnsupportedVersion(self.version));
        }
        let flavor = flavor_of(self.suite).ok_or(HeaderError::UnknownFlavor(0xFF))?;
        let mut out = vec![self.version, flavor];
        out.extend_from_slice(&self.message_id);
        let mut legend = Vec::with_capacity(self.legend.len());
        for action in &self.legend {
            match action.legend_byte() {
                Some(b'c') if self.version == 1 => return Err(HeaderError::ContextActionInVersion1),
                Some(byte) => legend.push(byte),
                None => return Err(HeaderError::BadLegendByte(0)),
            }
        }
        put_prefixed(&mut out, &legend, "encrypt legend")?;
        let pairs =
            u16::try_from(self.encryption_context.len()).map_err(|_| HeaderError::TooLong("encryption context"))?;
        out.extend_from_slice(&pairs.to_be_bytes());
        // BTreeMap<String, _> iterates in UTF-8 byte order, the order the format requires.
        for (key, value) in &self.encryption_context {
            put_prefixed(&mut out, key.as_bytes(), "encryption context")?;
            put_prefixed(&mut out, value.as_bytes(), "encryption context")?;
        }
        if self.encrypted_data_keys.is_empty() {
            return Err(HeaderError::NoEncryptedDataKeys);
        }
        let count =
            u8::try_from(self.encrypted_data_keys.len()).map_err(|_| HeaderError::TooLong("encrypted data keys"))?;
        out.push(count);
        for edk in &self.encrypted_data_keys {
            put_prefixed(&mut out, edk.provider_id.as_bytes(), "encrypted data keys")?;
            put_prefixed(&mut out, &edk.provider_info, "encrypted data keys")?;
            put_prefixed(&mut out, &edk.ciphertext, "encrypted data keys")?;
        }
        Ok(out)
    }

    /// The whole `aws_dbe_head` value.
    pub fn to_bytes(&self) -> Result<Vec<u8>, HeaderError> {
        let mut out = self.serialize_uncommitted()?;
        out.extend_from_slice(&self.commitment);
        Ok(out)
    }
}

fn text(bytes: &[u8]) -> Result<String, HeaderError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| HeaderError::ContextNotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(version: u8) -> Header {
        let mut encryption_context = BTreeMap::new();
        encryption_context.insert("aws-crypto-public-key".to_owned(), "A".repeat(64));
        encryption_context.insert("b".to_owned(), String::new());
        Header {
            version,
            suite: AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
            message_id: [0xAB; 32],
            legend: vec![CryptoAction::EncryptAndSign, CryptoAction::SignOnly],
            encryption_context,
            encrypted_data_keys: vec![
                EncryptedDataKey::new("p1", vec![1], vec![2, 3]),
                EncryptedDataKey::new("p2", vec![], vec![4]),
            ],
            commitment: [0xCD; 32],
        }
    }

    #[test]
    fn layout_matches_the_spec_table() {
        let bytes = sample(1).to_bytes().unwrap();
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 1);
        assert_eq!(&bytes[2..34], [0xAB; 32]);
        assert_eq!(&bytes[34..38], [0, 2, b'e', b's']);
        assert_eq!(&bytes[38..40], [0, 2]);
        assert_eq!(&bytes[40..42], [0, 21]);
        assert_eq!(&bytes[bytes.len() - 32..], [0xCD; 32]);
        // count (1) + "p1" EDK (2+2 + 2+1 + 2+2) + "p2" EDK (2+2 + 2+0 + 2+1)
        let edks_at = bytes.len() - 32 - 21;
        assert_eq!(&bytes[edks_at..edks_at + 5], [2, 0, 2, b'p', b'1']);
        assert_eq!(Header::parse(&bytes).unwrap(), sample(1));
    }

    #[test]
    fn every_prefix_is_a_truncation_and_extra_bytes_are_refused() {
        let bytes = sample(1).to_bytes().unwrap();
        for end in 0..bytes.len() {
            assert!(matches!(Header::parse(&bytes[..end]), Err(HeaderError::Truncated(_))), "{end}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Header::parse(&long), Err(HeaderError::TrailingBytes(1)));
    }

    #[test]
    fn bad_fields_are_named() {
        let good = sample(1).to_bytes().unwrap();
        let with = |at: usize, byte: u8| {
            let mut bytes = good.clone();
            bytes[at] = byte;
            Header::parse(&bytes)
        };
        assert_eq!(with(0, 3), Err(HeaderError::UnsupportedVersion(3)));
        assert_eq!(with(1, 2), Err(HeaderError::UnknownFlavor(2)));
        assert_eq!(with(36, b'x'), Err(HeaderError::BadLegendByte(b'x')));
        assert_eq!(with(36, b'c'), Err(HeaderError::ContextActionInVersion1));
        let mut v2 = sample(2);
        v2.legend.push(CryptoAction::SignAndIncludeInEncryptionContext);
        assert_eq!(Header::parse(&v2.to_bytes().unwrap()).unwrap(), v2);
        // swap the order of the two context keys: "aws-…" must come before "b"
        let mut unsorted = good[..40].to_vec();
        unsorted.extend_from_slice(&[0, 1, b'b', 0, 0]);
        unsorted.extend_from_slice(&good[40..40 + 2 + 21 + 2 + 64]);
        unsorted.extend_from_slice(&good[40 + 2 + 21 + 2 + 64 + 5..]);
        assert_eq!(Header::parse(&unsorted), Err(HeaderError::ContextNotSorted("aws-crypto-public-key".into())));
        let mut none = sample(1);
        none.encrypted_data_keys.clear();
        assert_eq!(none.to_bytes(), Err(HeaderError::NoEncryptedDataKeys));
        let mut v1_with_c = sample(1);
        v1_with_c.legend.push(CryptoAction::SignAndIncludeInEncryptionContext);
        assert_eq!(v1_with_c.to_bytes(), Err(HeaderError::ContextActionInVersion1));
    }
}
