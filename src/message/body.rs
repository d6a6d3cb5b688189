//! Body framing: frame layout, per-frame IV and AAD, and the signature footer.
//!
//! spec: data-format/message-body.md, data-format/message-body-aad.md, data-format/message-footer.md

use super::codec::Reader;
use crate::crypto::aead::{IV_LEN, TAG_LEN};
use crate::error::{Error, PolicyViolation, Result};

/// Sequence-number marker that opens the final frame.
pub const FINAL_FRAME_MARKER: u32 = 0xFFFF_FFFF;

/// Largest plaintext a non-framed body may hold (2^36 - 32 bytes, a GCM limit).
pub const MAX_NON_FRAMED_LEN: u64 = (1 << 36) - 32;

/// Which kind of body part an AAD is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyPart {
    /// A regular frame.
    Frame,
    /// The final frame.
    FinalFrame,
    /// The single block of a non-framed body.
    SingleBlock,
}

impl BodyPart {
    fn content_string(self) -> &'static [u8] {
        match self {
            BodyPart::Frame => b"AWSKMSEncryptionClient Frame",
            BodyPart::FinalFrame => b"AWSKMSEncryptionClient Final Frame",
            BodyPart::SingleBlock => b"AWSKMSEncryptionClient Single Block",
        }
    }
}

/// The body AAD, built on the stack: message id ‖ content string ‖ seq(4) ‖ length(8).
pub struct BodyAad {
    bytes: [u8; 96],
    len: usize,
}

impl BodyAad {
    /// The AAD for one body part.
    pub fn new(message_id: &[u8], part: BodyPart, sequence: u32, content_len: u64) -> BodyAad {
        let content = part.content_string();
        let mut bytes = [0u8; 96];
        let mut len = 0;
        for piece in [message_id, content, &sequence.to_be_bytes(), &content_len.to_be_bytes()] {
            bytes[len..len + piece.len()].copy_from_slice(piece);
            len += piece.len();
        }
        BodyAad { bytes, len }
    }

    /// The AAD bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The IV of a frame: 8 zero bytes and the sequence number.
pub fn frame_iv(sequence: u32) -> [u8; IV_LEN] {
    let mut iv = [0u8; IV_LEN];
    iv[8..].copy_from_slice(&sequence.to_be_bytes());
    iv
}

/// Writes the bytes that precede a frame's ciphertext into `out`; returns how many.
pub fn write_frame_prefix(out: &mut [u8; 24], sequence: u32, is_final: bool, content_len: u32) -> usize {
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if is_final {
        put(&FINAL_FRAME_MARKER.to_be_bytes());
    }
    put(&sequence.to_be_bytes());
    put(&frame_iv(sequence));
    if is_final {
        put(&content_len.to_be_bytes());
    }
    len
}

/// One body part located in a buffer (offsets relative to the slice given to the parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartLocation {
    /// Frame, final frame or single block.
    pub part: BodyPart,
    /// Sequence number (1 for the single block).
    pub sequence: u32,
    /// The IV as stored.
    pub iv: [u8; IV_LEN],
    /// Where the ciphertext starts.
    pub ciphertext_start: usize,
    /// Ciphertext length (equal to the plaintext length).
    pub ciphertext_len: usize,
    /// Total bytes of this part, tag included.
    pub len: usize,
}

impl PartLocation {
    /// The ciphertext within the slice the part was located in.
    pub fn ciphertext<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.ciphertext_start..self.ciphertext_start + self.ciphertext_len]
    }

    /// The tag within the slice the part was located in.
    pub fn tag<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let start = self.ciphertext_start + self.ciphertext_len;
        &bytes[start..start + TAG_LEN]
    }
}

/// Locates the next frame at the start of `bytes`. `Ok(None)` means more bytes are needed.
pub fn locate_frame(bytes: &[u8], frame_length: u32, expected_sequence: u32) -> Result<Option<PartLocation>> {
    let mut reader = Reader::new(bytes);
    let Ok(first) = reader.u32("sequence number") else { return Ok(None) };
    let is_final = first == FINAL_FRAME_MARKER;
    let sequence = if is_final {
        match reader.u32("final frame sequence number") {
            Ok(sequence) => sequence,
            Err(_) => return Ok(None),
        }
    } else {
        first
    };
    if sequence != expected_sequence {
        return Err(Error::invalid("sequence number", format!("expected {expected_sequence}, found {sequence}")));
    }
    let Ok(iv) = reader.array::<IV_LEN>("frame IV") else { return Ok(None) };
    let content_len = if is_final {
        let Ok(len) = reader.u32("final frame content length") else { return Ok(None) };
        // spec: the final frame holds at most one frame length (a full final frame is allowed).
        if len > frame_length {
            return Err(Error::invalid(
                "final frame content length",
                format!("{len} exceeds the frame length {frame_length}"),
            ));
        }
        len
    } else {
        frame_length
    };
    let ciphertext_start = reader.position();
    let len = ciphertext_start as u64 + content_len as u64 + TAG_LEN as u64;
    if (bytes.len() as u64) < len {
        return Ok(None);
    }
    Ok(Some(PartLocation {
        part: if is_final { BodyPart::FinalFrame } else { BodyPart::Frame },
        sequence,
        iv,
        ciphertext_start,
        ciphertext_len: content_len as usize,
        len: len as usize,
    }))
}

/// Length of a non-framed body's fixed prefix: IV(12) and content length(8).
pub const SINGLE_BLOCK_PREFIX_LEN: usize = IV_LEN + 8;

/// Locates a non-framed body (IV, content length, ciphertext, tag) at the start of `bytes`.
/// `Ok(None)` means more bytes are needed. A content length over `max_content_len` is refused as
/// soon as the length field is in, before a reader buffers the block.
pub fn locate_single_block(bytes: &[u8], max_content_len: usize) -> Result<Option<PartLocation>> {
    let Some((iv, content_len)) = parse_single_block_prefix(bytes)? else { return Ok(None) };
    if content_len > max_content_len as u64 {
        return Err(PolicyViolation::FrameTooLong { limit: max_content_len, found: content_len }.into());
    }
    let len = SINGLE_BLOCK_PREFIX_LEN as u64 + content_len + TAG_LEN as u64;
    if (bytes.len() as u64) < len {
        return Ok(None);
    }
    Ok(Some(PartLocation {
        part: BodyPart::SingleBlock,
        sequence: 1,
        iv,
        ciphertext_start: SINGLE_BLOCK_PREFIX_LEN,
        ciphertext_len: content_len as usize,
        len: len as usize,
    }))
}

/// Reads only the prefix of a non-framed body: its IV and bounded content length.
pub fn parse_single_block_prefix(bytes: &[u8]) -> Result<Option<([u8; IV_LEN], u64)>> {
    let mut reader = Reader::new(bytes);
    let (Ok(iv), Ok(len)) = (reader.array::<IV_LEN>("body IV"), reader.u64("content length")) else {
        return Ok(None);
    };
    if len > MAX_NON_FRAMED_LEN {
        return Err(Error::invalid("content length", format!("{len} exceeds the non-framed limit of 2^36-32")));
    }
    Ok(Some((iv, len)))
}

/// Parses a footer at the start of `bytes`: `Ok(None)` means more bytes are needed.
pub fn locate_footer(bytes: &[u8]) -> Result<Option<(std::ops::Range<usize>, usize)>> {
    let mut reader = Reader::new(bytes);
    let Ok(len) = reader.u16("signature length") else { return Ok(None) };
    let len = len as usize;
    if len == 0 {
        return Err(Error::invalid("signature length", "must not be zero"));
    }
    if reader.remaining() < len {
        return Ok(None);
    }
    Ok(Some((2..2 + len, 2 + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_frame_prefix(out: &mut Vec<u8>, sequence: u32, is_final: bool, content_len: u32) {
        let mut prefix = [0u8; 24];
        let len = write_frame_prefix(&mut prefix, sequence, is_final, content_len);
        out.extend_from_slice(&prefix[..len]);
    }

    #[test]
    fn aad_layout_matches_the_spec() {
        let aad = BodyAad::new(&[1; 16], BodyPart::FinalFrame, 3, 10);
        let bytes = aad.as_bytes();
        assert_eq!(bytes.len(), 16 + 34 + 4 + 8);
        assert_eq!(&bytes[16..50], b"AWSKMSEncryptionClient Final Frame");
        assert_eq!(&bytes[50..54], &[0, 0, 0, 3]);
        assert_eq!(&bytes[54..], &[0, 0, 0, 0, 0, 0, 0, 10]);
    }

    #[test]
    fn frames_are_located_and_bounded() {
        let mut bytes = Vec::new();
        put_frame_prefix(&mut bytes, 1, false, 4);
        bytes.extend_from_slice(&[0; 4 + TAG_LEN]);
        let part = locate_frame(&bytes, 4, 1).unwrap().unwrap();
        assert_eq!((part.part, part.len, part.ciphertext_len), (BodyPart::Frame, bytes.len(), 4));
        assert_eq!(locate_frame(&bytes[..bytes.len() - 1], 4, 1).unwrap(), None);
        assert!(locate_frame(&bytes, 4, 2).is_err());
        let mut last = Vec::new();
        put_frame_prefix(&mut last, 2, true, 5);
        assert!(locate_frame(&last, 4, 2).is_err(), "final frame longer than the frame length");
    }
}
