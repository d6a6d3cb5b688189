//! The checks the fuzz targets run, shared with the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Both sides load this one file with `#[path]`, so what `cargo fuzz` explores and what
//! `cargo test` replays cannot drift apart. Every check must return normally for any input: a
//! panic is either a panic inside envelope or a broken property asserted here, and both are bugs.
#![allow(dead_code)]

use std::io::Read;

use envelope::__fuzz::{self as wire, BodyPart, IV_LEN, ParseLimits, ParsedHeader, PartLocation, TAG_LEN};
use envelope::ContentType;
use envelope::blocking::BlockingClient;
use envelope::error::{Error, PolicyViolation};
use envelope::suite::MessageFormat;
use envelope::{Client, CommitmentPolicy, DecryptOptions};

/// Key namespace (provider id) of the fixed fuzzing keyring.
pub const KEY_NAMESPACE: &str = "fuzz";
/// Key name of the fixed fuzzing keyring.
pub const KEY_NAME: &str = "aes-256";
/// The fixed raw AES-256 wrapping key every decrypt corpus message is written under.
pub const WRAPPING_KEY: [u8; 32] = *b"envelope-fuzz-raw-aes-256-key-01";

/// The raw AES keyring over [`WRAPPING_KEY`].
pub fn keyring() -> envelope_keyrings::RawAesKeyring {
    envelope_keyrings::RawAesKeyring::new(KEY_NAMESPACE, KEY_NAME, WRAPPING_KEY.to_vec())
        .expect("the fixed fuzz key is valid")
}

/// The reader the decrypt target exercises: every suite may be read.
pub fn client() -> BlockingClient {
    let client = Client::with_keyring(keyring()).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    BlockingClient::new(client)
}

// ---------------------------------------------------------------------------------------------
// header target
// ---------------------------------------------------------------------------------------------

/// Parses `data` as a header with and without an EDK limit, and as an encryption context.
/// Returns the header when it parses without a limit.
pub fn check_header(data: &[u8]) -> Option<ParsedHeader> {
    check_context(data);
    let unlimited = wire::parse_header(data, ParseLimits::default());
    // The limit comes from the input, so the fuzzer explores both sides of it.
    let limit = data.last().map_or(0, |byte| usize::from(byte % 4));
    let limited =
        wire::parse_header(data, ParseLimits { max_encrypted_data_keys: Some(limit), ..ParseLimits::default() });
    match (&unlimited, &limited) {
        (Ok(full), Ok(bounded)) => {
            assert_eq!(full.len, bounded.len, "an EDK limit changed the header length");
            assert!(bounded.header.encrypted_data_keys.len() <= limit, "the EDK limit {limit} was not applied");
        }
        (Ok(full), Err(error)) => {
            let found = full.header.encrypted_data_keys.len();
            assert!(
                matches!(error, Error::Policy(PolicyViolation::TooManyEncryptedDataKeys { limit: l, found: f }) if *l == limit && *f == found),
                "a header with {found} EDKs under a limit of {limit} failed with: {error}"
            );
        }
        (Err(error), Ok(_)) => panic!("a header parses only under an EDK limit; without one: {error}"),
        (Err(full), Err(bounded)) => {
            let _ = (full.to_string(), bounded.to_string(), full.is_truncation());
        }
    }
    let parsed = unlimited.ok()?;
    check_parsed_header(data, &parsed);
    Some(parsed)
}

/// What must hold of any header that parses.
fn check_parsed_header(data: &[u8], parsed: &ParsedHeader) {
    let fields = &parsed.header;
    let format = fields.suite.message_format();
    let v1 = format == MessageFormat::V1;
    let body_len = parsed.body_bytes.len();
    assert!(parsed.len <= data.len(), "header length {} past the input ({})", parsed.len, data.len());
    assert_eq!(parsed.body_bytes[..], data[..body_len], "body bytes are not the input's prefix");
    assert_eq!(body_len + if v1 { IV_LEN + TAG_LEN } else { TAG_LEN }, parsed.len, "header auth length");
    if v1 {
        assert_eq!(parsed.auth_iv[..], data[body_len..body_len + IV_LEN], "v1 header IV");
    } else {
        assert_eq!(parsed.auth_iv, [0; IV_LEN], "v2 headers store no IV");
    }
    assert_eq!(parsed.auth_tag[..], data[parsed.len - TAG_LEN..parsed.len], "header tag");
    assert_eq!(fields.message_id.len(), format.message_id_len(), "message id length");
    assert!(!fields.encrypted_data_keys.is_empty(), "a header without EDKs parsed");
    assert_eq!(fields.commitment.is_some(), !v1, "commitment present in exactly the v2 headers");
    assert_eq!(fields.suite.is_committing(), !v1, "committing suites are exactly the v2 suites");
    match fields.content_type {
        ContentType::NonFramed => assert_eq!(fields.frame_length, 0, "non-framed with a frame length"),
        ContentType::Framed => assert_ne!(fields.frame_length, 0, "framed with frame length 0"),
        _ => {}
    }

    // Writing the parsed fields again gives the same bytes, except that a context whose pairs were
    // stored out of order comes back sorted (same length, same pairs).
    let again = fields.serialize_body().expect("a parsed header serializes again");
    assert_eq!(again.len(), body_len, "re-serialized header has another length");
    let context_start = if v1 { 2 } else { 1 } + 2 + format.message_id_len();
    let context_len = usize::from(u16::from_be_bytes([data[context_start], data[context_start + 1]]));
    let context_end = context_start + 2 + context_len;
    assert_eq!(again[..context_start + 2], parsed.body_bytes[..context_start + 2], "re-serialized prefix differs");
    assert_eq!(again[context_end..], parsed.body_bytes[context_end..], "re-serialized fields after the context differ");
    let stored_context = &data[context_start + 2..context_end];
    let canonical =
        wire::serialize_encryption_context(&fields.encryption_context).expect("a parsed context serializes");
    if canonical == stored_context {
        assert_eq!(again, parsed.body_bytes, "a canonical header did not re-serialize byte for byte");
    }
    let mut whole = again;
    fields.append_auth(&mut whole, &parsed.auth_iv, &parsed.auth_tag);
    let reparsed = wire::parse_header(&whole, ParseLimits::default()).expect("a re-serialized header parses");
    assert_eq!(reparsed.len, whole.len());
    let same = &reparsed.header;
    assert_eq!(same.suite, fields.suite);
    assert_eq!(same.message_id, fields.message_id);
    assert_eq!(same.encryption_context, fields.encryption_context);
    assert_eq!(same.encrypted_data_keys, fields.encrypted_data_keys);
    assert_eq!(same.content_type, fields.content_type);
    assert_eq!(same.frame_length, fields.frame_length);
    assert_eq!(same.commitment, fields.commitment);

    // Streaming readers rely on this: a header's own bytes parse to the same header, and every
    // shorter prefix fails as a truncation (never as a malformed field).
    let exact = wire::parse_header(&data[..parsed.len], ParseLimits::default()).expect("the header's own bytes parse");
    assert_eq!(exact.len, parsed.len);
    for cut in [parsed.len - 1, parsed.len / 2, body_len, usize::from(data[parsed.len - 1]) % parsed.len] {
        match wire::parse_header(&data[..cut], ParseLimits::default()) {
            Ok(short) => panic!("a {cut}-byte prefix of a {}-byte header parsed ({} bytes)", parsed.len, short.len),
            Err(error) => assert!(error.is_truncation(), "a {cut}-byte prefix failed as not truncated: {error}"),
        }
    }
}

/// Parses `data` as a serialized encryption context; what parses serializes back to as many bytes
/// and parses again to the same pairs.
pub fn check_context(data: &[u8]) {
    match wire::parse_encryption_context(data) {
        Ok(pairs) => match wire::serialize_encryption_context(&pairs) {
            Ok(bytes) => {
                assert_eq!(bytes.len(), data.len(), "re-serialized context has another length");
                assert_eq!(wire::parse_encryption_context(&bytes).expect("a re-serialized context parses"), pairs);
            }
            // A context field is u16-length-prefixed in a header; a longer input can hold one that
            // no header could.
            Err(error) => assert!(data.len() > usize::from(u16::MAX), "a parsed context does not serialize: {error}"),
        },
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// body target
// ---------------------------------------------------------------------------------------------

/// How far [`check_body`] walked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BodyWalk {
    /// Frames located, the final frame included.
    pub frames: usize,
    /// Whether the walk ended on a final frame.
    pub reached_final: bool,
    /// Bytes of the body the located frames cover.
    pub end: usize,
}

/// Input layout: frame length (u32 BE) ‖ first sequence number (u32 BE) ‖ body bytes. Locates
/// frames from the start of the body until one is final or none parses; also reads the body's
/// start as a non-framed prefix and as a footer.
pub fn check_body(data: &[u8]) -> BodyWalk {
    let mut walk = BodyWalk::default();
    if data.len() < 8 {
        return walk;
    }
    let frame_length = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let first_sequence = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    let bytes = &data[8..];

    match wire::parse_single_block_prefix(bytes) {
        Ok(Some((iv, len))) => {
            assert!(bytes.len() >= wire::SINGLE_BLOCK_PREFIX_LEN);
            assert_eq!(iv[..], bytes[..IV_LEN]);
            assert_eq!(len.to_be_bytes()[..], bytes[IV_LEN..IV_LEN + 8]);
            assert!(len <= wire::MAX_NON_FRAMED_LEN);
        }
        Ok(None) => {
            assert!(bytes.len() < wire::SINGLE_BLOCK_PREFIX_LEN, "a complete non-framed prefix reported as short")
        }
        Err(error) => {
            assert!(bytes.len() >= wire::SINGLE_BLOCK_PREFIX_LEN, "a short non-framed prefix failed: {error}");
        }
    }

    match wire::locate_footer(bytes) {
        Ok(Some((signature, len))) => {
            let stored = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            assert_eq!((signature.start, signature.end, len), (2, 2 + stored, 2 + stored));
            assert!(stored > 0 && len <= bytes.len());
        }
        Ok(None) => assert!(bytes.len() < 2 || bytes.len() < 2 + usize::from(u16::from_be_bytes([bytes[0], bytes[1]]))),
        Err(error) => assert!(bytes.len() >= 2 && bytes[..2] == [0, 0], "footer error on a non-zero length: {error}"),
    }

    let mut position = 0;
    let mut sequence = first_sequence;
    while let Some(part) = check_part(&bytes[position..], frame_length, sequence) {
        position += part.len;
        walk.frames += 1;
        walk.end = position;
        if part.part == BodyPart::FinalFrame {
            walk.reached_final = true;
            break;
        }
        match sequence.checked_add(1) {
            Some(next) => sequence = next,
            None => break,
        }
    }
    walk
}

/// Locates one frame and checks the location against the bytes.
fn check_part(bytes: &[u8], frame_length: u32, sequence: u32) -> Option<PartLocation> {
    let part = match wire::locate_frame(bytes, frame_length, sequence) {
        Ok(Some(part)) => part,
        Ok(None) => return None,
        Err(error) => {
            let _ = error.to_string();
            return None;
        }
    };
    assert!(part.len <= bytes.len(), "frame of {} bytes located in {}", part.len, bytes.len());
    assert_eq!(part.sequence, sequence);
    assert_eq!(part.ciphertext_start + part.ciphertext_len + TAG_LEN, part.len);
    let iv_start = match part.part {
        BodyPart::Frame => {
            assert_eq!(part.ciphertext_start, 4 + IV_LEN);
            assert_eq!(part.ciphertext_len as u64, u64::from(frame_length));
            4
        }
        BodyPart::FinalFrame => {
            assert_eq!(part.ciphertext_start, 8 + IV_LEN + 4);
            assert!(part.ciphertext_len as u64 <= u64::from(frame_length), "final frame longer than the frame length");
            8
        }
        BodyPart::SingleBlock => panic!("locate_frame returned a single block"),
    };
    assert_eq!(part.iv[..], bytes[iv_start..iv_start + IV_LEN]);
    assert_eq!(part.ciphertext(bytes).len(), part.ciphertext_len);
    assert_eq!(part.tag(bytes).len(), TAG_LEN);
    // Exactly the frame's bytes locate the same frame; one byte fewer asks for more.
    match wire::locate_frame(&bytes[..part.len], frame_length, sequence) {
        Ok(Some(same)) => assert_eq!(same, part),
        other => panic!("the frame's own bytes did not locate it: {other:?}"),
    }
    match wire::locate_frame(&bytes[..part.len - 1], frame_length, sequence) {
        Ok(None) => {}
        other => panic!("a frame missing its last byte was not reported as short: {other:?}"),
    }
    Some(part)
}

// ---------------------------------------------------------------------------------------------
// decrypt target
// ---------------------------------------------------------------------------------------------

/// Decrypts `data` one-shot, streaming from a slice, and streaming from a reader that hands out a
/// few bytes per call. All three must agree: all fail, or all return the same plaintext.
/// Returns the plaintext when they succeed.
pub fn check_decrypt(client: &BlockingClient, data: &[u8]) -> Option<Vec<u8>> {
    let options = DecryptOptions::new();
    let oneshot = client.decrypt(data, &options);
    let streamed = stream_decrypt(client, data);
    let chunked = stream_decrypt(client, Trickle { data, chunk: 1 + data.len() % 61 });
    match (&streamed, &chunked) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "streaming decrypt depends on how the input is split"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => {
            panic!("streaming decrypt succeeds from a slice but fails from a trickling reader: {error}")
        }
        (Err(error), Ok(_)) => {
            panic!("streaming decrypt fails from a slice ({error}) but succeeds from a trickling reader")
        }
    }
    match (oneshot, streamed) {
        (Ok(decrypted), Ok(plaintext)) => {
            assert_eq!(decrypted.plaintext, plaintext, "one-shot and streaming decrypt return different plaintext");
            let parsed = wire::parse_header(data, ParseLimits::default())
                .expect("a message that decrypts has a header that parses");
            let fields = &parsed.header;
            assert_eq!(decrypted.info.algorithm_suite, fields.suite);
            assert_eq!(decrypted.info.message_id, fields.message_id);
            assert_eq!(decrypted.info.frame_length, fields.frame_length);
            assert_eq!(decrypted.info.encryption_context, fields.encryption_context);
            // Readers that must release plaintext early refuse exactly the signed suites.
            let unsigned_only = client.decrypt(data, &DecryptOptions::new().unsigned_only());
            match (fields.suite.is_signing(), unsigned_only) {
                (false, Ok(again)) => assert_eq!(again.plaintext, plaintext),
                (true, Err(Error::Policy(PolicyViolation::SignedMessageRefused))) => {}
                (signing, other) => panic!(
                    "unsigned-only decrypt of a message (signed: {signing}) gave {:?}",
                    other.map(|d| d.plaintext.len())
                ),
            }
            Some(plaintext)
        }
        (Err(oneshot), Err(streaming)) => {
            let _ = (oneshot.to_string(), streaming);
            None
        }
        (Ok(decrypted), Err(error)) => {
            panic!(
                "one-shot decrypt returned {} bytes but streaming decrypt failed: {error}",
                decrypted.plaintext.len()
            )
        }
        (Err(error), Ok(plaintext)) => {
            panic!("streaming decrypt returned {} bytes but one-shot decrypt failed: {error}", plaintext.len())
        }
    }
}

/// Streams `inner` through a decrypting reader; once a read fails, later reads must fail too.
fn stream_decrypt<R: Read>(client: &BlockingClient, inner: R) -> Result<Vec<u8>, String> {
    let mut reader = client.decrypting_reader(inner, &DecryptOptions::new()).map_err(|error| error.to_string())?;
    let mut plaintext = Vec::new();
    match reader.read_to_end(&mut plaintext) {
        Ok(_) => {
            let mut probe = [0u8; 16];
            assert_eq!(reader.read(&mut probe).expect("a finished reader reads again"), 0, "bytes after the end");
            Ok(plaintext)
        }
        Err(error) => {
            let mut probe = [0u8; 16];
            assert!(reader.read(&mut probe).is_err(), "a read after a failed read succeeded");
            Err(error.to_string())
        }
    }
}

/// A reader that returns at most `chunk` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
