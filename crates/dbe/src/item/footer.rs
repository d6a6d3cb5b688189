//! The `aws_dbe_foot` attribute: one HMAC-SHA384 recipient tag per encrypted data key (same
//! order as the header's EDKs), then, under suite 0x6701, an ECDSA P-384 signature.
//!
//! The official implementations always write a 103-byte DER signature (they re-sign until the
//! DER encoding has that length), so the footer length follows from the header alone.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/structured-encryption/footer.md`

use super::error::FooterError;

/// Length of one recipient tag (HMAC-SHA384).
///
/// ```
/// assert_eq!(envelope_dbe::item::TAG_LEN, 48); // an HMAC-SHA384
/// ```
pub const TAG_LEN: usize = 48;
/// Length of the ECDSA P-384 signature the DB-ESDK writes.
///
/// ```
/// assert_eq!(envelope_dbe::item::SIGNATURE_LEN, 103);
/// ```
pub const SIGNATURE_LEN: usize = 103;

/// A parsed `aws_dbe_foot`.
///
/// ```
/// use envelope_dbe::item::Footer;
///
/// let footer = Footer { tags: vec![[1; 48]], signature: Some(vec![2; 103]) };
/// let bytes = footer.to_bytes()?;
/// assert_eq!(bytes.len(), 151);
/// assert_eq!(bytes.len(), Footer::expected_len(1, true));
/// assert_eq!(Footer::parse(&bytes, 1, true)?, footer);
/// assert!(Footer::parse(&bytes, 1, false).is_err());
/// # Ok::<(), envelope_dbe::item::FooterError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Footer {
    /// One tag per EDK, in header order.
    pub tags: Vec<[u8; TAG_LEN]>,
    /// The DER ECDSA signature (suite 0x6701 only).
    pub signature: Option<Vec<u8>>,
}

impl std::fmt::Debug for Footer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tags are MACs, not secrets, but printing them helps no one; lengths do.
        f.debug_struct("Footer")
            .field("tags", &self.tags.len())
            .field("signature_len", &self.signature.as_ref().map(Vec::len))
            .finish()
    }
}

impl Footer {
    /// The footer length for this many EDKs, with or without a signature.
    pub fn expected_len(edk_count: usize, signed: bool) -> usize {
        edk_count * TAG_LEN + if signed { SIGNATURE_LEN } else { 0 }
    }

    /// Parses an `aws_dbe_foot` for a header with `edk_count` EDKs whose suite is `signed`
    /// (0x6701) or not (0x6700).
    pub fn parse(bytes: &[u8], edk_count: usize, signed: bool) -> Result<Footer, FooterError> {
        let expected = Footer::expected_len(edk_count, signed);
        if bytes.len() != expected {
            return Err(FooterError::WrongLength { expected, found: bytes.len() });
        }
        let (tag_bytes, signature) = bytes.split_at(edk_count * TAG_LEN);
        let tags = tag_bytes
            .chunks_exact(TAG_LEN)
            .map(|chunk| {
                let mut tag = [0; TAG_LEN];
                tag.copy_from_slice(chunk);
                tag
            })
            .collect();
        Ok(Footer { tags, signature: signed.then(|| signature.to_vec()) })
    }

    /// The whole `aws_dbe_foot` value.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FooterError> {
        if let Some(signature) = &self.signature {
            if signature.len() != SIGNATURE_LEN {
                let expected = Footer::expected_len(self.tags.len(), true);
                return Err(FooterError::WrongLength { expected, found: self.tags.len() * TAG_LEN + signature.len() });
            }
        }
        let mut out = self.tags.concat();
        if let Some(signature) = &self.signature {
            out.extend_from_slice(signature);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_the_header() {
        assert_eq!(Footer::expected_len(1, false), 48);
        assert_eq!(Footer::expected_len(1, true), 151);
        assert_eq!(Footer::expected_len(3, true), 247);
        let unsigned = Footer { tags: vec![[5; 48], [6; 48]], signature: None };
        let bytes = unsigned.to_bytes().unwrap();
        assert_eq!(Footer::parse(&bytes, 2, false).unwrap(), unsigned);
        assert_eq!(Footer::parse(&bytes, 1, false), Err(FooterError::WrongLength { expected: 48, found: 96 }));
        assert_eq!(Footer::parse(&bytes[..95], 2, false), Err(FooterError::WrongLength { expected: 96, found: 95 }));
        let short_signature = Footer { tags: vec![[5; 48]], signature: Some(vec![1; 102]) };
        assert!(short_signature.to_bytes().is_err());
        assert!(!format!("{unsigned:?}").contains('5'));
    }
}
