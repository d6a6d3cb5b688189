//! The message header: its fields, how they are written, and how they are parsed and bounded.
//!
//! spec: data-format/message-header.md

use super::codec::{put_u16_prefixed, Reader};
use super::context;
use crate::crypto::aead::{IV_LEN, TAG_LEN};
use crate::crypto::kdf::COMMITMENT_LEN;
use crate::error::{Error, PolicyViolation, Result};
use crate::materials::{EncryptedDataKey, EncryptionContext};
use crate::suite::{AlgorithmSuite, MessageFormat};

/// v1 header "type" byte: customer authenticated encrypted data.
const V1_MESSAGE_TYPE: u8 = 0x80;

/// Whether the body is one block or a sequence of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentType {
    /// One AES-GCM block (read, never written).
    NonFramed,
    /// Fixed-length frames and one final frame.
    Framed,
}

impl ContentType {
    fn byte(self) -> u8 {
        match self {
            ContentType::NonFramed => 1,
            ContentType::Framed => 2,
        }
    }
}

/// The header fields (everything before the header authentication tag).
#[derive(Debug, Clone)]
pub struct Header {
    /// The suite.
    pub suite: AlgorithmSuite,
    /// 16 bytes (v1) or 32 bytes (v2).
    pub message_id: Vec<u8>,
    /// The stored encryption context (required-context pairs are not stored).
    pub encryption_context: EncryptionContext,
    /// The encrypted data keys (at least one).
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// Framed or not.
    pub content_type: ContentType,
    /// Frame length (0 when non-framed).
    pub frame_length: u32,
    /// The v2 key commitment.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// A header read from bytes, with the exact bytes its authentication tag covers.
#[derive(Debug, Clone)]
pub struct ParsedHeader {
    /// The fields.
    pub header: Header,
    /// The serialized header body, exactly as read (the header-auth AAD starts with these bytes).
    pub body_bytes: Vec<u8>,
    /// The header-auth IV (zeros for v2, where it is not stored).
    pub auth_iv: [u8; IV_LEN],
    /// The header-auth tag.
    pub auth_tag: [u8; TAG_LEN],
    /// Total header length, authentication included.
    pub len: usize,
}

impl Header {
    /// Serializes the header body (without the authentication part).
    pub fn serialize_body(&self) -> Result<Vec<u8>> {
        let format = self.suite.message_format();
        let mut out =
            Vec::with_capacity(128 + self.encrypted_data_keys.iter().map(|e| e.ciphertext.len() + 64).sum::<usize>());
        out.push(format.version_byte());
        if format == MessageFormat::V1 {
            out.push(V1_MESSAGE_TYPE);
        }
        out.extend_from_slice(&self.suite.id().to_be_bytes());
        out.extend_from_slice(&self.message_id);
        let serialized_context = context::serialize(&self.encryption_context)?;
        put_u16_prefixed(&mut out, &serialized_context, "encryption context")?;
        let count = u16::try_from(self.encrypted_data_keys.len())
            .map_err(|_| Error::usage("a message holds at most 65535 encrypted data keys"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for edk in &self.encrypted_data_keys {
            put_u16_prefixed(&mut out, edk.provider_id.as_bytes(), "provider id")?;
            put_u16_prefixed(&mut out, &edk.provider_info, "provider info")?;
            put_u16_prefixed(&mut out, &edk.ciphertext, "encrypted data key")?;
        }
        out.push(self.content_type.byte());
        match format {
            MessageFormat::V1 => {
                out.extend_from_slice(&[0, 0, 0, 0]);
                out.push(IV_LEN as u8);
                out.extend_from_slice(&self.frame_length.to_be_bytes());
            }
            MessageFormat::V2 => {
                out.extend_from_slice(&self.frame_length.to_be_bytes());
                let commitment = self.commitment.ok_or_else(|| Error::usage("a v2 header needs a commitment"))?;
                out.extend_from_slice(&commitment);
            }
        }
        Ok(out)
    }

    /// Appends the header authentication (v1 stores the IV, v2 only the tag).
    pub fn append_auth(&self, out: &mut Vec<u8>, iv: &[u8; IV_LEN], tag: &[u8; TAG_LEN]) {
        if self.suite.message_format() == MessageFormat::V1 {
            out.extend_from_slice(iv);
        }
        out.extend_from_slice(tag);
    }
}

/// Limits applied while parsing untrusted headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseLimits {
    /// Maximum number of encrypted data keys (checked before any EDK is read).
    pub max_encrypted_data_keys: Option<usize>,
}

/// Parses a header from the start of `bytes`.
///
/// Returns a truncation error (see [`Error::is_truncation`]) when `bytes` ends before the header
/// does, so a streaming reader can read more and try again.
pub fn parse(bytes: &[u8], limits: ParseLimits) -> Result<ParsedHeader> {
    let mut reader = Reader::new(bytes);
    let version = reader.u8("version")?;
    let format = match version {
        1 => MessageFormat::V1,
        2 => MessageFormat::V2,
        other => return Err(Error::invalid("version", format!("unknown message format version {other}"))),
    };
    if format == MessageFormat::V1 {
        let message_type = reader.u8("type")?;
        if message_type != V1_MESSAGE_TYPE {
            return Err(Error::invalid("type", format!("0x{message_type:02X} is not 0x80")));
        }
    }
    let suite_id = reader.u16("algorithm suite id")?;
    let suite = AlgorithmSuite::from_id(suite_id)
        .ok_or_else(|| Error::invalid("algorithm suite id", format!("0x{suite_id:04X} is not a message suite")))?;
    if suite.message_format() != format {
        return Err(Error::invalid(
            "algorithm suite id",
            format!("suite {suite} cannot appear in a v{version} header"),
        ));
    }
    let message_id = reader.take(format.message_id_len(), "message id")?.to_vec();
    let encryption_context = context::parse(reader.u16_prefixed("encryption context")?)?;
    let edk_count = reader.u16("encrypted data key count")? as usize;
    if edk_count == 0 {
        return Err(Error::invalid("encrypted data key count", "a message needs at least one"));
    }
    if let Some(limit) = limits.max_encrypted_data_keys {
        // spec: client-apis/decrypt.md — refuse before reading, let alone unwrapping, any EDK.
        if edk_count > limit {
            return Err(PolicyViolation::TooManyEncryptedDataKeys { limit, found: edk_count }.into());
        }
    }
    let mut encrypted_data_keys = Vec::with_capacity(edk_count.min(64));
    for _ in 0..edk_count {
        let provider_id = String::from_utf8(reader.u16_prefixed("provider id")?.to_vec())
            .map_err(|_| Error::invalid("provider id", "not valid UTF-8"))?;
        let provider_info = reader.u16_prefixed("provider info")?.to_vec();
        let ciphertext = reader.u16_prefixed("encrypted data key")?.to_vec();
        encrypted_data_keys.push(EncryptedDataKey { provider_id, provider_info, ciphertext });
    }
    let content_type = match reader.u8("content type")? {
        1 => ContentType::NonFramed,
        2 => ContentType::Framed,
        other => return Err(Error::invalid("content type", format!("{other} is neither 1 nor 2"))),
    };
    if format == MessageFormat::V1 {
        if reader.array::<4>("reserved")? != [0; 4] {
            return Err(Error::invalid("reserved", "must be zero"));
        }
        let iv_len = reader.u8("IV length")?;
        if iv_len as usize != IV_LEN {
            return Err(Error::invalid("IV length", format!("{iv_len} is not 12")));
        }
    }
    let frame_length = reader.u32("frame length")?;
    match (content_type, frame_length) {
        (ContentType::NonFramed, 0) => {}
        (ContentType::NonFramed, _) => return Err(Error::invalid("frame length", "must be 0 for non-framed content")),
        (ContentType::Framed, 0) => return Err(Error::invalid("frame length", "must not be 0 for framed content")),
        (ContentType::Framed, _) => {}
    }
    let commitment = match format {
        MessageFormat::V1 => None,
        MessageFormat::V2 => Some(reader.array::<COMMITMENT_LEN>("algorithm suite data")?),
    };
    let body_len = reader.position();
    let auth_iv = match format {
        MessageFormat::V1 => reader.array::<IV_LEN>("header IV")?,
        MessageFormat::V2 => [0u8; IV_LEN],
    };
    let auth_tag = reader.array::<TAG_LEN>("header authentication tag")?;
    Ok(ParsedHeader {
        header: Header {
            suite,
            message_id,
            encryption_context,
            encrypted_data_keys,
            content_type,
            frame_length,
            commitment,
        },
        body_bytes: bytes[..body_len].to_vec(),
        auth_iv,
        auth_tag,
        len: reader.position(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(suite: AlgorithmSuite) -> Header {
        let mut context = EncryptionContext::new();
        context.insert("purpose".into(), "test".into());
        Header {
            suite,
            message_id: vec![7; suite.message_format().message_id_len()],
            encryption_context: context,
            encrypted_data_keys: vec![EncryptedDataKey::new("p", b"info".to_vec(), vec![1, 2, 3])],
            content_type: ContentType::Framed,
            frame_length: 4096,
            commitment: suite.is_committing().then_some([9; COMMITMENT_LEN]),
        }
    }

    #[test]
    fn every_suite_round_trips() {
        for suite in AlgorithmSuite::ALL {
            let header = sample(suite);
            let mut bytes = header.serialize_body().unwrap();
            header.append_auth(&mut bytes, &[0; IV_LEN], &[5; TAG_LEN]);
            let parsed = parse(&bytes, ParseLimits::default()).unwrap();
            assert_eq!(parsed.len, bytes.len());
            assert_eq!(parsed.header.encryption_context, header.encryption_context);
            assert_eq!(parsed.header.commitment, header.commitment);
            assert_eq!(parsed.auth_tag, [5; TAG_LEN]);
            for cut in 0..bytes.len() {
                assert!(parse(&bytes[..cut], ParseLimits::default()).unwrap_err().is_truncation(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn edk_limit_is_checked_before_edks_are_read() {
        let header = sample(AlgorithmSuite::DEFAULT);
        let bytes = header.serialize_body().unwrap();
        let limits = ParseLimits { max_encrypted_data_keys: Some(0) };
        assert!(matches!(parse(&bytes, limits), Err(Error::Policy(PolicyViolation::TooManyEncryptedDataKeys { .. }))));
    }
}
