//! The message header: its fields, how they are written, and how they are parsed and bounded.
//!
//! spec: data-format/message-header.md

use super::codec::{Reader, put_u16_prefixed};
use super::context;
use crate::crypto::aead::{IV_LEN, TAG_LEN};
use crate::crypto::kdf::COMMITMENT_LEN;
use crate::error::{Error, Malformed, PolicyViolation, Result};
use crate::materials::{EncryptedDataKey, EncryptionContext};
use crate::suite::{AlgorithmSuite, MessageFormat};

/// v1 header "type" byte: customer authenticated encrypted data.
const V1_MESSAGE_TYPE: u8 = 0x80;

/// Whether the body is one block or a sequence of frames.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, ContentType, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// let info = client.decrypt(&message, &DecryptOptions::new())?.info;
/// // envelope always writes framed messages; other SDKs may send non-framed ones (frame length 0).
/// assert_eq!(info.content_type, ContentType::Framed);
/// # Ok(())
/// # }
/// ```
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
                let commitment = self.commitment.ok_or_else(|| Error::internal("a v2 header needs a commitment"))?;
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

/// Limits applied while parsing untrusted headers (`None`: no limit).
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseLimits {
    /// Maximum number of encrypted data keys (checked before any EDK is read).
    pub max_encrypted_data_keys: Option<usize>,
    /// Longest header accepted, authentication included: refused as soon as the fields read so
    /// far prove the header longer, before the rest of it is read.
    pub max_header_length: Option<usize>,
    /// Longest frame accepted: checked on the frame-length field, before any body byte.
    pub max_frame_length: Option<usize>,
}

/// The shortest header the format allows (v1, empty context, one EDK of empty fields): a reader
/// may always ask for this much without reading past a header.
pub const MIN_HEADER_LEN: usize = 68;

/// Where an incremental parse stands.
#[derive(Debug)]
pub enum Progress {
    /// The header is complete.
    Done(ParsedHeader),
    /// The header continues past the bytes given: it is at least `at_least` bytes long, and
    /// `field` is the first field they cut short.
    NeedMore {
        /// A lower bound on the header's length, larger than the bytes given.
        at_least: usize,
        /// The field being read when the bytes ran out.
        field: &'static str,
    },
}

/// Parses a header from bytes that arrive in pieces, in time linear in the header's length.
///
/// Each call to [`HeaderParser::advance`] gets every byte received so far and resumes at the
/// last complete group of fields (the prefix up to the EDK count, one EDK, the rest), so a
/// header of many EDKs is never parsed again from its first byte. When bytes are missing it says
/// how many the header needs at least, so a reader can read that many (and not more: the bound
/// never reaches past the header).
#[derive(Debug)]
pub struct HeaderParser {
    limits: ParseLimits,
    /// End of the last complete group of fields.
    position: usize,
    stage: Stage,
}

#[derive(Debug)]
enum Stage {
    Prefix,
    EncryptedDataKeys { prefix: Prefix, count: usize, keys: Vec<EncryptedDataKey> },
    Finished,
}

/// The fields before the EDKs.
#[derive(Debug)]
struct Prefix {
    suite: AlgorithmSuite,
    message_id: Vec<u8>,
    encryption_context: EncryptionContext,
}

/// The fields after the EDKs.
struct Tail {
    content_type: ContentType,
    frame_length: u32,
    commitment: Option<[u8; COMMITMENT_LEN]>,
    body_len: usize,
    auth_iv: [u8; IV_LEN],
    auth_tag: [u8; TAG_LEN],
}

/// What one step of the parser completed.
enum Completed {
    Prefix(Prefix, usize),
    EncryptedDataKey(EncryptedDataKey),
    Tail(Tail),
}

/// The smallest EDK: three empty length-prefixed fields.
const MIN_EDK_LEN: usize = 6;

/// Bytes from the content type to the end of the header authentication.
fn tail_len(format: MessageFormat) -> usize {
    match format {
        MessageFormat::V1 => 1 + 4 + 1 + 4 + IV_LEN + TAG_LEN,
        MessageFormat::V2 => 1 + 4 + COMMITMENT_LEN + TAG_LEN,
    }
}

impl HeaderParser {
    /// A parser at the start of a header.
    pub fn new(limits: ParseLimits) -> HeaderParser {
        HeaderParser { limits, position: 0, stage: Stage::Prefix }
    }

    /// Goes on parsing; `bytes` is every byte of the header received so far (from its first).
    pub fn advance(&mut self, bytes: &[u8]) -> Result<Progress> {
        loop {
            let mut reader = Reader::resume(bytes, self.position);
            let completed = match &mut self.stage {
                Stage::Prefix => {
                    parse_prefix(&mut reader, self.limits).map(|(prefix, count)| Completed::Prefix(prefix, count))
                }
                Stage::EncryptedDataKeys { count, keys, .. } if keys.len() < *count => {
                    parse_edk(&mut reader).map(Completed::EncryptedDataKey)
                }
                Stage::EncryptedDataKeys { prefix, .. } => {
                    parse_tail(&mut reader, prefix.suite.message_format(), self.limits).map(Completed::Tail)
                }
                Stage::Finished => return Err(Error::internal("the header parser was resumed after the header ended")),
            };
            let completed = match completed {
                Ok(completed) => completed,
                // A field cut short inside bytes that are all here (a context whose pairs overrun
                // its own length) is malformed: more input cannot complete it.
                Err(Error::Malformed(Malformed::Truncated { field })) if reader.wanted() <= bytes.len() => {
                    return Err(Error::invalid(field, "ends before its length prefix says"));
                }
                Err(Error::Malformed(Malformed::Truncated { field })) => {
                    let at_least = self.at_least(reader.wanted()).max(MIN_HEADER_LEN);
                    self.check_length(at_least)?;
                    return Ok(Progress::NeedMore { at_least, field });
                }
                Err(error) => return Err(error),
            };
            self.position = reader.position();
            self.check_length(self.position)?;
            match completed {
                Completed::Prefix(prefix, count) => {
                    let keys = Vec::with_capacity(count.min(64));
                    self.stage = Stage::EncryptedDataKeys { prefix, count, keys };
                }
                Completed::EncryptedDataKey(edk) => {
                    if let Stage::EncryptedDataKeys { keys, .. } = &mut self.stage {
                        keys.push(edk);
                    }
                }
                Completed::Tail(tail) => {
                    let Stage::EncryptedDataKeys { prefix, keys, .. } =
                        std::mem::replace(&mut self.stage, Stage::Finished)
                    else {
                        return Err(Error::internal("the header parser lost its fields"));
                    };
                    let header = Header {
                        suite: prefix.suite,
                        message_id: prefix.message_id,
                        encryption_context: prefix.encryption_context,
                        encrypted_data_keys: keys,
                        content_type: tail.content_type,
                        frame_length: tail.frame_length,
                        commitment: tail.commitment,
                    };
                    return Ok(Progress::Done(ParsedHeader {
                        header,
                        body_bytes: bytes[..tail.body_len].to_vec(),
                        auth_iv: tail.auth_iv,
                        auth_tag: tail.auth_tag,
                        len: self.position,
                    }));
                }
            }
        }
    }

    /// How long the header is at least, when a field that would end at `wanted` did not fit:
    /// after an EDK field come at least the smallest remaining EDKs and the fixed-size tail; the
    /// tail itself ends a fixed length after its start.
    fn at_least(&self, wanted: usize) -> usize {
        match &self.stage {
            Stage::EncryptedDataKeys { prefix, count, keys } if keys.len() < *count => {
                let later_keys = (count - keys.len() - 1) * MIN_EDK_LEN;
                wanted.saturating_add(later_keys + tail_len(prefix.suite.message_format()))
            }
            Stage::EncryptedDataKeys { prefix, .. } => self.position + tail_len(prefix.suite.message_format()),
            _ => wanted,
        }
    }

    fn check_length(&self, at_least: usize) -> Result<()> {
        match self.limits.max_header_length {
            Some(limit) if at_least > limit => Err(PolicyViolation::HeaderTooLong { limit, at_least }.into()),
            _ => Ok(()),
        }
    }
}

fn parse_prefix(reader: &mut Reader<'_>, limits: ParseLimits) -> Result<(Prefix, usize)> {
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
    if !suite.is_esdk_message_suite() {
        // A DB-ESDK suite: its materials exist, its messages do not.
        return Err(Error::invalid(
            "algorithm suite id",
            format!("{suite} is a DB-ESDK suite (DynamoDB items), not an ESDK message suite"),
        ));
    }
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
    Ok((Prefix { suite, message_id, encryption_context }, edk_count))
}

fn parse_edk(reader: &mut Reader<'_>) -> Result<EncryptedDataKey> {
    let provider_id = String::from_utf8(reader.u16_prefixed("provider id")?.to_vec())
        .map_err(|_| Error::invalid("provider id", "not valid UTF-8"))?;
    let provider_info = reader.u16_prefixed("provider info")?.to_vec();
    let ciphertext = reader.u16_prefixed("encrypted data key")?.to_vec();
    Ok(EncryptedDataKey { provider_id, provider_info, ciphertext })
}

fn parse_tail(reader: &mut Reader<'_>, format: MessageFormat, limits: ParseLimits) -> Result<Tail> {
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
    if let Some(limit) = limits.max_frame_length {
        // A stream buffers one frame: refuse a longer one before reading any of the body.
        if frame_length as usize > limit {
            return Err(PolicyViolation::FrameTooLong { limit, found: frame_length as u64 }.into());
        }
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
    Ok(Tail { content_type, frame_length, commitment, body_len, auth_iv, auth_tag })
}

/// Parses a header from the start of `bytes`.
///
/// Returns a truncation error (see [`Error::is_truncation`]) when `bytes` ends before the header
/// does.
pub fn parse(bytes: &[u8], limits: ParseLimits) -> Result<ParsedHeader> {
    match HeaderParser::new(limits).advance(bytes)? {
        Progress::Done(parsed) => Ok(parsed),
        Progress::NeedMore { field, .. } => Err(Error::truncated(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(suite: AlgorithmSuite) -> Header {
        let mut context = EncryptionContext::new();
        context.insert("purpose", "test");
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
        for suite in AlgorithmSuite::ESDK {
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
    fn a_header_naming_a_db_esdk_suite_is_malformed() {
        for suite in AlgorithmSuite::DB_ESDK {
            // A well-formed v2 header in every other respect (DB-ESDK suites report V2).
            let header = sample(suite);
            let mut bytes = header.serialize_body().unwrap();
            header.append_auth(&mut bytes, &[0; IV_LEN], &[5; TAG_LEN]);
            let error = parse(&bytes, ParseLimits::default()).unwrap_err();
            assert!(matches!(error, Error::Malformed(_)), "{error:?}");
            assert!(error.to_string().contains("DB-ESDK suite"), "{error}");
        }
    }

    #[test]
    fn edk_limit_is_checked_before_edks_are_read() {
        let header = sample(AlgorithmSuite::DEFAULT);
        let bytes = header.serialize_body().unwrap();
        let limits = ParseLimits { max_encrypted_data_keys: Some(0), ..ParseLimits::default() };
        assert!(matches!(parse(&bytes, limits), Err(Error::Policy(PolicyViolation::TooManyEncryptedDataKeys { .. }))));
    }
}
