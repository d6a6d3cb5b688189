//! The sans-I/O body reader: body parts released only once authenticated; for signed messages the
//! last part is held until the signature verifies. It starts from a header that
//! [`crate::header_auth`] authenticated.
//!
//! spec: client-apis/decrypt.md

use std::fmt;

use crate::crypto::aead::AesGcmKey;
use crate::crypto::signature::{SignatureHasher, VerificationKey};
use crate::error::{Error, Result};
use crate::header_auth::HeaderAuthenticated;
use crate::message::body::{self, BodyAad, BodyPart, PartLocation};
use crate::message::header::{ContentType, ParsedHeader};
use crate::redacted::Redacted;

/// Opens body parts with one message's content key. Shared by the streaming reader and the
/// one-shot path, so both apply exactly the same checks.
#[derive(Debug)]
pub struct PartOpener {
    key: AesGcmKey,
    message_id: Vec<u8>,
}

impl PartOpener {
    /// Authenticates and decrypts the part located in `input` into `out` (exactly the part's
    /// content length). On failure `out` is zeroed.
    pub fn open(&self, part: &PartLocation, input: &[u8], out: &mut [u8]) -> Result<()> {
        let aad = BodyAad::new(&self.message_id, part.part, part.sequence, part.ciphertext_len as u64);
        self.key.open_into(&part.iv, aad.as_bytes(), part.ciphertext(input), part.tag(input), out)
    }
}

/// What one call to [`BodyDecryptor::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The input holds no complete part: supply more bytes (or fail if there are none).
    NeedMore,
    /// A part was consumed (its authenticated plaintext, if releasable, was appended).
    Consumed(usize),
    /// The message is complete and fully verified.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Frames,
    SingleBlock,
    Footer,
    Done,
}

/// Decrypts a body part by part, for streams.
pub struct BodyDecryptor {
    opener: PartOpener,
    frame_length: u32,
    next_sequence: u32,
    verification_key: Option<VerificationKey>,
    hasher: Option<SignatureHasher>,
    held: Vec<u8>,
    state: State,
    /// Longest non-framed body accepted (frames were checked against it in the header).
    max_frame_length: usize,
}

/// `held` is authenticated plaintext waiting for the signature: shown by length only.
impl fmt::Debug for BodyDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyDecryptor")
            .field("opener", &self.opener)
            .field("frame_length", &self.frame_length)
            .field("next_sequence", &self.next_sequence)
            .field("verification_key", &self.verification_key)
            .field("hasher", &self.hasher)
            .field("held", &Redacted::of(&self.held))
            .field("state", &self.state)
            .field("max_frame_length", &self.max_frame_length)
            .finish()
    }
}

impl BodyDecryptor {
    /// A decryptor for the body that follows `parsed` (whose bytes are `header_bytes`).
    pub fn new(
        parsed: &ParsedHeader,
        header_bytes: &[u8],
        key: AesGcmKey,
        _proof: HeaderAuthenticated,
        verification_key: Option<VerificationKey>,
        max_frame_length: usize,
    ) -> BodyDecryptor {
        let hasher = verification_key.as_ref().map(|key| {
            let mut hasher = SignatureHasher::new(key.algorithm());
            hasher.update(header_bytes);
            hasher
        });
        BodyDecryptor {
            opener: PartOpener { key, message_id: parsed.header.message_id.clone() },
            frame_length: parsed.header.frame_length,
            next_sequence: 1,
            verification_key,
            hasher,
            held: Vec::new(),
            state: match parsed.header.content_type {
                ContentType::Framed => State::Frames,
                ContentType::NonFramed => State::SingleBlock,
            },
            max_frame_length,
        }
    }

    /// Lets a long signed message hash on another core (see [`SignatureHasher::hash_in_background`]).
    pub(crate) fn hash_in_background(&mut self) {
        if let Some(hasher) = &mut self.hasher {
            hasher.hash_in_background();
        }
    }

    /// Whether the message is signed (its last plaintext is held until the footer verifies).
    pub fn is_signed(&self) -> bool {
        self.verification_key.is_some()
    }

    /// Whether the whole message has been read and verified.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes at most one body part (frame, single block or footer) from the start of `input`,
    /// appending plaintext that may be released to `out`.
    pub fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Step> {
        let part = match self.state {
            State::Frames => body::locate_frame(input, self.frame_length, self.next_sequence)?,
            State::SingleBlock => body::locate_single_block(input, self.max_frame_length)?,
            State::Footer => return self.footer(input, out),
            State::Done => return Ok(Step::Done),
        };
        let Some(part) = part else { return Ok(Step::NeedMore) };
        let is_last = part.part != BodyPart::Frame;
        if !is_last && self.next_sequence == body::FINAL_FRAME_MARKER - 1 {
            // spec: the largest sequence number is left for the final frame.
            return Err(Error::invalid("sequence number", "too many frames"));
        }
        // spec: client-apis/decrypt.md — the last part of a signed message is held back until the
        // signature verifies; every other part is released once its tag verifies.
        let target = if is_last && self.is_signed() { &mut self.held } else { &mut *out };
        let start = target.len();
        target.resize(start + part.ciphertext_len, 0);
        if let Err(error) = self.opener.open(&part, input, &mut target[start..]) {
            target.truncate(start);
            return Err(error);
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&input[..part.len]);
        }
        self.next_sequence = self.next_sequence.wrapping_add(1);
        if is_last {
            self.state = if self.is_signed() { State::Footer } else { State::Done };
        }
        Ok(Step::Consumed(part.len))
    }

    fn footer(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Step> {
        let Some((signature, len)) = body::locate_footer(input)? else { return Ok(Step::NeedMore) };
        let (Some(key), Some(hasher)) = (&self.verification_key, self.hasher.take()) else {
            return Err(Error::internal("footer reached without a verifier"));
        };
        if let Err(error) = key.verify(hasher, &input[signature]) {
            zeroize::Zeroize::zeroize(&mut self.held);
            return Err(error);
        }
        out.append(&mut self.held);
        self.state = State::Done;
        Ok(Step::Consumed(len))
    }

    /// Takes the decryptor apart for the one-shot path: the opener, the verification key and the
    /// hasher (which has absorbed the header).
    pub(crate) fn into_parts(self) -> (PartOpener, Option<VerificationKey>, Option<SignatureHasher>) {
        (self.opener, self.verification_key, self.hasher)
    }
}
