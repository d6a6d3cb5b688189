//! The sans-I/O message writer.
//!
//! spec: client-apis/encrypt.md

use crate::crypto::aead::{AesGcmKey, IV_LEN, TAG_LEN};
use crate::crypto::kdf::{self, V1Info};
use crate::crypto::signature::{SignatureHasher, SigningKey};
use crate::error::{Error, PolicyViolation, Result};
use crate::header_auth;
use crate::materials::EncryptionParts;
use crate::message::body::{self, BodyAad, BodyPart};
use crate::message::context;
use crate::message::header::{ContentType, Header};

/// Seals frames with one message's content key. Shared by the streaming writer and the parallel
/// one-shot path, so both write identical bytes.
#[derive(Debug)]
pub struct FrameSealer {
    key: AesGcmKey,
    message_id: Vec<u8>,
}

/// Bytes a regular frame adds around its plaintext.
pub const FRAME_OVERHEAD: usize = 4 + IV_LEN + TAG_LEN;
/// Bytes the final frame adds around its plaintext.
pub const FINAL_FRAME_OVERHEAD: usize = 4 + 4 + IV_LEN + 4 + TAG_LEN;

impl FrameSealer {
    /// Appends one sealed frame (regular or final) to `out`.
    pub fn seal(&self, sequence: u32, is_final: bool, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let overhead = if is_final { FINAL_FRAME_OVERHEAD } else { FRAME_OVERHEAD };
        out.resize(start + overhead + plaintext.len(), 0);
        self.seal_into(sequence, is_final, plaintext, &mut out[start..])
    }

    /// Writes one sealed frame into `out`, which must be exactly the frame's encoded length.
    pub fn seal_into(&self, sequence: u32, is_final: bool, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let content_len = u32::try_from(plaintext.len()).map_err(|_| Error::internal("frame too long"))?;
        let mut prefix = [0u8; 24];
        let prefix_len = body::write_frame_prefix(&mut prefix, sequence, is_final, content_len);
        let (head, rest) = out.split_at_mut(prefix_len);
        head.copy_from_slice(&prefix[..prefix_len]);
        let (content, tag_out) = rest.split_at_mut(plaintext.len());
        let part = if is_final { BodyPart::FinalFrame } else { BodyPart::Frame };
        let aad = BodyAad::new(&self.message_id, part, sequence, plaintext.len() as u64);
        let tag = self.key.seal_into(&body::frame_iv(sequence), aad.as_bytes(), plaintext, content)?;
        tag_out.copy_from_slice(&tag);
        Ok(())
    }
}

/// Writes one message: header at construction, then frames, then the final frame and footer.
#[derive(Debug)]
pub struct Encryptor {
    sealer: FrameSealer,
    frame_length: u32,
    next_sequence: u32,
    signer: Option<(SigningKey, SignatureHasher)>,
}

impl Encryptor {
    /// Starts a message; returns the writer and the serialized header.
    pub(crate) fn start(parts: EncryptionParts, frame_length: u32) -> Result<(Encryptor, Vec<u8>)> {
        if frame_length == 0 {
            return Err(Error::usage("frame length must be at least 1 (envelope never writes non-framed messages)"));
        }
        let suite = parts.suite;
        // The client refuses these first; this keeps every writer honest on its own.
        if !suite.is_esdk_message_suite() {
            return Err(PolicyViolation::NotAMessageSuite { suite: suite.id() }.into());
        }
        let mut message_id = vec![0u8; suite.message_format().message_id_len()];
        crate::crypto::rand::fill(&mut message_id)?;
        let derived = kdf::derive(suite, parts.data_key.expose_secret(), &message_id, V1Info::Standard)?;
        let key = AesGcmKey::new(&derived.encryption_key)?;
        // spec: required-context pairs are authenticated but not stored in the header.
        let required = &parts.required_encryption_context_keys;
        let stored_context = parts
            .encryption_context
            .iter()
            .filter(|(k, _)| !required.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let header = Header {
            suite,
            message_id: message_id.clone(),
            encryption_context: stored_context,
            encrypted_data_keys: parts.encrypted_data_keys,
            content_type: ContentType::Framed,
            frame_length,
            commitment: derived.commitment,
        };
        let mut bytes = header.serialize_body()?;
        let required_context = context::serialize_subset(&parts.encryption_context, required)?;
        let (iv, tag) = header_auth::seal_header(&key, &bytes, &required_context)?;
        header.append_auth(&mut bytes, &iv, &tag);
        let signer = match parts.signing_key {
            Some(signing_key) => {
                let mut hasher = SignatureHasher::new(signing_key.algorithm());
                hasher.update(&bytes);
                Some((signing_key, hasher))
            }
            None => None,
        };
        let encryptor = Encryptor { sealer: FrameSealer { key, message_id }, frame_length, next_sequence: 1, signer };
        Ok((encryptor, bytes))
    }

    /// The frame length.
    pub fn frame_length(&self) -> usize {
        self.frame_length as usize
    }

    /// Lets a long signed message hash on another core (see [`SignatureHasher::hash_in_background`]).
    pub(crate) fn hash_in_background(&mut self) {
        if let Some((_, hasher)) = &mut self.signer {
            hasher.hash_in_background();
        }
    }

    /// Appends one regular frame; `plaintext` must be exactly one frame length.
    pub fn frame(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        debug_assert_eq!(plaintext.len(), self.frame_length as usize);
        let sequence = self.take_sequence()?;
        let start = out.len();
        self.sealer.seal(sequence, false, plaintext, out)?;
        if let Some((_, hasher)) = &mut self.signer {
            hasher.update(&out[start..]);
        }
        Ok(())
    }

    /// Appends the final frame (at most one frame length) and the footer.
    ///
    /// A full last frame goes out as a regular frame followed by an empty final frame, as the
    /// Python and Java SDKs write it: the specification allows a full final frame, but readers of
    /// their 1.x–3.x lines (aws-encryption-cli among them) reject one.
    pub fn finish(mut self, mut plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        debug_assert!(plaintext.len() <= self.frame_length as usize);
        if !plaintext.is_empty() && plaintext.len() == self.frame_length as usize {
            self.frame(plaintext, out)?;
            plaintext = &[];
        }
        let sequence = self.take_sequence()?;
        let start = out.len();
        self.sealer.seal(sequence, true, plaintext, out)?;
        if let Some((signing_key, mut hasher)) = self.signer {
            hasher.update(&out[start..]);
            let signature = signing_key.sign(hasher)?;
            crate::message::codec::put_u16_prefixed(out, &signature, "signature")?;
        }
        Ok(())
    }

    /// Splits the writer for the parallel one-shot path: the sealer, the next sequence number and
    /// the signer (whose hasher has already absorbed the header).
    pub(crate) fn into_parts(self) -> (FrameSealer, u32, Option<(SigningKey, SignatureHasher)>) {
        (self.sealer, self.next_sequence, self.signer)
    }

    fn take_sequence(&mut self) -> Result<u32> {
        let sequence = self.next_sequence;
        // spec: at most 2^32 - 1 frames; the marker value is not a sequence number.
        if sequence == body::FINAL_FRAME_MARKER {
            return Err(Error::usage("the message would exceed 2^32 - 1 frames; use a longer frame length"));
        }
        self.next_sequence += 1;
        Ok(sequence)
    }
}
