//! One-shot encryption and decryption of byte slices: the same bytes as the streaming path, with
//! the output sized once and, for large signed messages, the signature hash computed on a second
//! core beside AES-GCM rather than after it.

use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::materials::EncryptionParts;
use crate::message::body;
use crate::message::header::ParsedHeader;
use crate::stream::decryptor::{BodyDecryptor, Step};
use crate::stream::encryptor::{Encryptor, FINAL_FRAME_OVERHEAD, FRAME_OVERHEAD};

/// Below this size a second thread costs more than it saves.
const PARALLEL_THRESHOLD: usize = 512 * 1024;
/// Frames sealed per hand-off to the hashing thread.
const PIPELINE_CHUNK_BYTES: usize = 1024 * 1024;

/// How a plaintext splits into frames: `full` regular frames, then a final frame of `last` bytes
/// (a full final frame when the length is a multiple of the frame length; empty for no plaintext).
fn split(len: usize, frame_length: usize) -> (usize, usize) {
    if len == 0 {
        return (0, 0);
    }
    let full = (len - 1) / frame_length;
    (full, len - full * frame_length)
}

/// Encrypts `plaintext` into one message.
pub(crate) fn encrypt(parts: EncryptionParts, frame_length: u32, plaintext: &[u8]) -> Result<Vec<u8>> {
    let (encryptor, header) = Encryptor::start(parts, frame_length)?;
    let frame = frame_length as usize;
    let (full, last) = split(plaintext.len(), frame);
    let body_len = full * (frame + FRAME_OVERHEAD) + last + FINAL_FRAME_OVERHEAD;
    let mut out = Vec::with_capacity(header.len() + body_len + 2 + 104);
    out.extend_from_slice(&header);
    let signed_and_large = plaintext.len() >= PARALLEL_THRESHOLD && encryptor.is_signing();
    if signed_and_large {
        encrypt_pipelined(encryptor, plaintext, full, last, out)
    } else {
        let mut encryptor = encryptor;
        for chunk in plaintext[..full * frame].chunks_exact(frame) {
            encryptor.frame(chunk, &mut out)?;
        }
        encryptor.finish(&plaintext[full * frame..], &mut out)?;
        Ok(out)
    }
}

/// Seals chunks of frames on this thread while another thread hashes the sealed chunks.
fn encrypt_pipelined(encryptor: Encryptor, plaintext: &[u8], full: usize, last: usize, mut out: Vec<u8>) -> Result<Vec<u8>> {
    let frame = encryptor.frame_length();
    let (sealer, first_sequence, signer) = encryptor.into_parts();
    let (signing_key, mut hasher) = signer.ok_or_else(|| Error::usage("pipelined path needs a signer"))?;
    let header_len = out.len();
    let body_len = full * (frame + FRAME_OVERHEAD) + last + FINAL_FRAME_OVERHEAD;
    // The buffer is sized up front so both threads can work on disjoint parts of it.
    out.resize(header_len + body_len, 0);
    let frames_per_chunk = (PIPELINE_CHUNK_BYTES / frame).max(1);
    let signature = std::thread::scope(|scope| -> Result<Vec<u8>> {
        let (sender, receiver) = mpsc::channel::<&[u8]>();
        let hashing = scope.spawn(move || {
            for chunk in receiver {
                hasher.update(chunk);
            }
            hasher
        });
        let mut rest: &mut [u8] = &mut out[header_len..];
        let mut sequence = first_sequence;
        let mut frame_index = 0;
        let total_frames = full + 1;
        while frame_index < total_frames {
            let count = frames_per_chunk.min(total_frames - frame_index);
            let includes_final = frame_index + count == total_frames;
            let regular = if includes_final { count - 1 } else { count };
            let chunk_len = regular * (frame + FRAME_OVERHEAD) + if includes_final { last + FINAL_FRAME_OVERHEAD } else { 0 };
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(chunk_len);
            rest = tail;
            let mut offset = 0;
            for i in 0..regular {
                let start = (frame_index + i) * frame;
                let encoded = frame + FRAME_OVERHEAD;
                sealer.seal_into(sequence, false, &plaintext[start..start + frame], &mut chunk[offset..offset + encoded])?;
                sequence += 1;
                offset += encoded;
            }
            if includes_final {
                sealer.seal_into(sequence, true, &plaintext[full * frame..], &mut chunk[offset..])?;
            }
            frame_index += count;
            // The chunk is complete: give the hashing thread a shared view of it.
            let done: &[u8] = chunk;
            let _ = sender.send(done);
        }
        drop(sender);
        let hasher = hashing.join().map_err(|_| Error::usage("the hashing thread panicked"))?;
        signing_key.sign(hasher)
    })?;
    crate::message::codec::put_u16_prefixed(&mut out, &signature, "signature")?;
    Ok(out)
}

/// Decrypts the body (and footer) that follows a parsed header in `message`.
pub(crate) fn decrypt_body(parsed: &ParsedHeader, mut body: BodyDecryptor, message: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(message.len());
    let mut position = parsed.len;
    let footer_start = if body.is_signed() && message.len() >= PARALLEL_THRESHOLD && parsed.header.frame_length > 0 {
        locate_footer(message, parsed)
    } else {
        None
    };
    if let Some(footer_start) = footer_start {
        let mut hasher = body.detach_hasher().ok_or_else(|| Error::usage("signed body without a hasher"))?;
        // The detached hasher has already absorbed the header.
        let covered = &message[parsed.len..footer_start];
        std::thread::scope(|scope| -> Result<()> {
            let hashing = scope.spawn(move || {
                hasher.update(covered);
                hasher
            });
            while position < footer_start {
                match body.step(&message[position..footer_start], &mut out)? {
                    Step::Consumed(len) => position += len,
                    Step::NeedMore | Step::Done => break,
                }
            }
            let hasher = hashing.join().map_err(|_| Error::usage("the hashing thread panicked"))?;
            if position != footer_start {
                return Err(Error::truncated("message body"));
            }
            position += body.finish_with(hasher, &message[position..], &mut out)?;
            Ok(())
        })?;
    } else {
        loop {
            match body.step(&message[position..], &mut out)? {
                Step::Consumed(len) => position += len,
                Step::Done => break,
                Step::NeedMore => return Err(Error::truncated("message body")),
            }
        }
    }
    if !body.is_done() {
        return Err(Error::truncated("message body"));
    }
    if position != message.len() {
        return Err(Error::Malformed(crate::error::Malformed::TrailingBytes { count: message.len() - position }));
    }
    Ok(out)
}

/// Walks frame boundaries (no cryptography) to find where the footer starts. `None` when the
/// frames do not parse; the sequential path then reports the precise error.
fn locate_footer(message: &[u8], parsed: &ParsedHeader) -> Option<usize> {
    let mut position = parsed.len;
    let mut sequence = 1;
    loop {
        let part = body::locate_frame(&message[position..], parsed.header.frame_length, sequence).ok()??;
        position += part.len;
        if part.part == body::BodyPart::FinalFrame {
            return Some(position);
        }
        sequence += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn frames_split_with_a_full_final_frame() {
        assert_eq!(split(0, 4), (0, 0));
        assert_eq!(split(1, 4), (0, 1));
        assert_eq!(split(4, 4), (0, 4));
        assert_eq!(split(5, 4), (1, 1));
        assert_eq!(split(8, 4), (1, 4));
    }
}
