//! One-shot encryption and decryption of byte slices: the same bytes as the streaming path, with
//! the output sized once, AES-GCM working out of place (no copy of the input), and large
//! messages spread over two cores — two AES workers, or, for signed suites, AES on one core and
//! the signature hash on the other (the hash cannot be split, so it runs beside AES, not after).

use std::sync::mpsc;

use zeroize::Zeroize;

use crate::crypto::signature::SignatureHasher;
use crate::error::{Error, Malformed, Result};
use crate::materials::EncryptionParts;
use crate::message::body::{self, BodyPart, PartLocation};
use crate::message::header::{ContentType, ParsedHeader};
use crate::stream::decryptor::{BodyDecryptor, PartOpener};
use crate::stream::encryptor::{Encryptor, FINAL_FRAME_OVERHEAD, FRAME_OVERHEAD, FrameSealer};

/// Below this size a second thread costs more than it saves.
const PARALLEL_THRESHOLD: usize = 256 * 1024;
/// A footer's length field and the longest DER ECDSA signature of the suites (P-384: 104 bytes).
const FOOTER_ROOM: usize = 2 + 104;
/// Bytes handed to the hashing thread at a time.
const PIPELINE_CHUNK_BYTES: usize = 512 * 1024;

/// How a plaintext splits into frames: `full` regular frames, then a final frame of `last` bytes,
/// always shorter than a frame (empty when the length is a multiple of the frame length, as
/// [`Encryptor::finish`] writes it for readers that refuse a full final frame).
fn split(len: usize, frame_length: usize) -> (usize, usize) {
    (len / frame_length, len % frame_length)
}

/// Encrypts `plaintext` into one message.
pub(crate) fn encrypt(parts: EncryptionParts, frame_length: u32, plaintext: &[u8]) -> Result<Vec<u8>> {
    let (encryptor, header) = Encryptor::start(parts, frame_length)?;
    let frame = frame_length as usize;
    let (full, last) = split(plaintext.len(), frame);
    if full >= (body::FINAL_FRAME_MARKER - 1) as usize {
        // spec: at most 2^32 - 1 frames (the marker value is not a sequence number).
        return Err(Error::usage("the message would exceed 2^32 - 1 frames; use a longer frame length"));
    }
    let body_len = full * (frame + FRAME_OVERHEAD) + last + FINAL_FRAME_OVERHEAD;
    let (sealer, first_sequence, signer) = encryptor.into_parts();
    // Room for the footer too, so appending the signature never moves a large message. (Zeroed
    // allocation, then truncated: zeroed pages arrive lazily, where a resize would write every
    // byte before the work starts.)
    let footer_room = if signer.is_some() { FOOTER_ROOM } else { 0 };
    let mut out = vec![0u8; header.len() + body_len + footer_room];
    out.truncate(header.len() + body_len);
    let (header_out, body_out) = out.split_at_mut(header.len());
    header_out.copy_from_slice(&header);
    let frames = Frames { sealer: &sealer, plaintext, frame, full, last, first_sequence };
    let large = plaintext.len() >= PARALLEL_THRESHOLD;
    let signature = match signer {
        Some((signing_key, mut hasher)) => {
            if large {
                hasher = frames.seal_while_hashing(body_out, hasher)?;
            } else {
                frames.seal(0, full + 1, body_out)?;
                hasher.update(body_out);
            }
            Some(signing_key.sign(hasher)?)
        }
        None if large => {
            frames.seal_on_two_cores(body_out)?;
            None
        }
        None => {
            frames.seal(0, full + 1, body_out)?;
            None
        }
    };
    if let Some(signature) = signature {
        crate::message::codec::put_u16_prefixed(&mut out, &signature, "signature")?;
    }
    Ok(out)
}

/// The frames of one plaintext, sealed into a pre-sized body buffer.
struct Frames<'a> {
    sealer: &'a FrameSealer,
    plaintext: &'a [u8],
    frame: usize,
    full: usize,
    last: usize,
    first_sequence: u32,
}

impl Frames<'_> {
    /// Encoded length of frames `from..to` (index `full` is the final frame).
    fn encoded_len(&self, from: usize, to: usize) -> usize {
        let regular = to.min(self.full) - from.min(self.full);
        let final_frame = if to > self.full { self.last + FINAL_FRAME_OVERHEAD } else { 0 };
        regular * (self.frame + FRAME_OVERHEAD) + final_frame
    }

    /// Seals frames `from..to` into `out` (exactly their encoded length).
    fn seal(&self, from: usize, to: usize, out: &mut [u8]) -> Result<()> {
        let mut offset = 0;
        for index in from..to {
            let is_final = index == self.full;
            let start = index * self.frame;
            let content = if is_final { &self.plaintext[start..] } else { &self.plaintext[start..start + self.frame] };
            let encoded = content.len() + if is_final { FINAL_FRAME_OVERHEAD } else { FRAME_OVERHEAD };
            let sequence = self.first_sequence + index as u32;
            self.sealer.seal_into(sequence, is_final, content, &mut out[offset..offset + encoded])?;
            offset += encoded;
        }
        Ok(())
    }

    /// Splits the frames in two halves sealed on two threads.
    fn seal_on_two_cores(&self, out: &mut [u8]) -> Result<()> {
        let total = self.full + 1;
        let middle = total / 2;
        let (first, second) = out.split_at_mut(self.encoded_len(0, middle));
        std::thread::scope(|scope| {
            let helper = scope.spawn(|| self.seal(middle, total, second));
            let mine = self.seal(0, middle, first);
            let theirs = helper.join().map_err(|_| Error::internal("an encryption thread panicked"))?;
            mine.and(theirs)
        })
    }

    /// Seals chunk after chunk on this thread while another thread hashes the finished chunks.
    fn seal_while_hashing(&self, out: &mut [u8], mut hasher: SignatureHasher) -> Result<SignatureHasher> {
        let total = self.full + 1;
        let per_chunk = (PIPELINE_CHUNK_BYTES / self.frame).max(1);
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel::<&[u8]>();
            let hashing = scope.spawn(move || {
                for chunk in receiver {
                    hasher.update(chunk);
                }
                hasher
            });
            let mut rest = out;
            let mut index = 0;
            let sealing = loop {
                if index == total {
                    break Ok(());
                }
                let end = (index + per_chunk).min(total);
                let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(self.encoded_len(index, end));
                rest = tail;
                if let Err(error) = self.seal(index, end, chunk) {
                    break Err(error);
                }
                index = end;
                // The chunk is final: the hashing thread gets a shared view of it.
                let done: &[u8] = chunk;
                if sender.send(done).is_err() {
                    break Err(Error::internal("the hashing thread stopped"));
                }
            };
            drop(sender);
            let hasher = hashing.join().map_err(|_| Error::internal("the hashing thread panicked"))?;
            sealing.map(|()| hasher)
        })
    }
}

/// Decrypts the body (and footer) that follows a parsed header in `message`.
pub(crate) fn decrypt_body(
    parsed: &ParsedHeader,
    body: BodyDecryptor,
    message: &[u8],
    max_frame_length: usize,
) -> Result<Vec<u8>> {
    let (opener, verification_key, hasher) = body.into_parts();
    let (parts, body_end) = locate_parts(parsed, message, max_frame_length)?;
    let footer = match &verification_key {
        Some(_) => {
            let (signature, len) =
                body::locate_footer(&message[body_end..])?.ok_or_else(|| Error::truncated("footer"))?;
            Some((body_end + signature.start..body_end + signature.end, body_end + len))
        }
        None => None,
    };
    let end = footer.as_ref().map_or(body_end, |(_, end)| *end);
    if end != message.len() {
        return Err(Error::Malformed(Malformed::TrailingBytes { count: message.len() - end }));
    }
    let total: usize = parts.iter().map(|part| part.ciphertext_len).sum();
    let mut out = vec![0u8; total];
    let large = message.len() >= PARALLEL_THRESHOLD;
    let opened = match (hasher, &verification_key, &footer) {
        (Some(mut hasher), Some(key), Some((signature, _))) => {
            let covered = &message[parsed.len..body_end];
            let opened = if large {
                std::thread::scope(|scope| {
                    let hashing = scope.spawn(move || {
                        hasher.update(covered);
                        hasher
                    });
                    let opened = open_parts(&opener, &parts, message, &mut out);
                    let hasher = hashing.join().map_err(|_| Error::internal("the hashing thread panicked"))?;
                    opened.map(|()| hasher)
                })
            } else {
                open_parts(&opener, &parts, message, &mut out).map(|()| {
                    hasher.update(covered);
                    hasher
                })
            };
            // spec: nothing is released unless the signature verifies.
            opened.and_then(|hasher| key.verify(hasher, &message[signature.clone()]))
        }
        (None, None, None) if large => open_on_two_cores(&opener, &parts, message, &mut out),
        (None, None, None) => open_parts(&opener, &parts, message, &mut out),
        _ => Err(Error::internal("signature state does not match the suite")),
    };
    if let Err(error) = opened {
        out.zeroize();
        return Err(error);
    }
    Ok(out)
}

/// Walks the body (no cryptography) and returns every part with absolute offsets, and where the
/// body ends.
fn locate_parts(parsed: &ParsedHeader, message: &[u8], max_frame_length: usize) -> Result<(Vec<PartLocation>, usize)> {
    let mut position = parsed.len;
    let mut parts = Vec::new();
    let header = &parsed.header;
    if header.content_type == ContentType::NonFramed {
        let part = body::locate_single_block(&message[position..], max_frame_length)?
            .ok_or_else(|| Error::truncated("message body"))?;
        position += part.len;
        parts.push(absolute(part, parsed.len));
        return Ok((parts, position));
    }
    parts.reserve((message.len() - position) / (header.frame_length as usize + FRAME_OVERHEAD) + 1);
    let mut sequence = 1u32;
    loop {
        let part = body::locate_frame(&message[position..], header.frame_length, sequence)?
            .ok_or_else(|| Error::truncated("message body"))?;
        let start = position;
        position += part.len;
        let is_final = part.part == BodyPart::FinalFrame;
        parts.push(absolute(part, start));
        if is_final {
            return Ok((parts, position));
        }
        if sequence == body::FINAL_FRAME_MARKER - 1 {
            return Err(Error::invalid("sequence number", "too many frames"));
        }
        sequence += 1;
    }
}

fn absolute(mut part: PartLocation, offset: usize) -> PartLocation {
    part.ciphertext_start += offset;
    part
}

fn open_parts(opener: &PartOpener, parts: &[PartLocation], message: &[u8], out: &mut [u8]) -> Result<()> {
    let mut offset = 0;
    for part in parts {
        opener.open(part, message, &mut out[offset..offset + part.ciphertext_len])?;
        offset += part.ciphertext_len;
    }
    Ok(())
}

fn open_on_two_cores(opener: &PartOpener, parts: &[PartLocation], message: &[u8], out: &mut [u8]) -> Result<()> {
    let middle = parts.len() / 2;
    let (first_parts, second_parts) = parts.split_at(middle);
    let first_len: usize = first_parts.iter().map(|part| part.ciphertext_len).sum();
    let (first, second) = out.split_at_mut(first_len);
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| open_parts(opener, second_parts, message, second));
        let mine = open_parts(opener, first_parts, message, first);
        let theirs = helper.join().map_err(|_| Error::internal("a decryption thread panicked"))?;
        mine.and(theirs)
    })
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn frames_split_with_a_final_frame_shorter_than_a_frame() {
        assert_eq!(split(0, 4), (0, 0));
        assert_eq!(split(1, 4), (0, 1));
        assert_eq!(split(4, 4), (1, 0));
        assert_eq!(split(5, 4), (1, 1));
        assert_eq!(split(8, 4), (2, 0));
    }
}
