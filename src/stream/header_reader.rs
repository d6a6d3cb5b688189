//! The header half of both decrypting readers, sans-I/O: it says where the next read goes, takes
//! what arrived, and hands back the header once complete. The blocking and async front-ends only
//! move bytes into it.
//!
//! Two properties matter. Time is linear in the header's length: the parser resumes where it left
//! off instead of re-parsing from the first byte (a legal header can be hundreds of MiB of EDKs).
//! And no byte past the header is read: each read asks for exactly what the parser proves the
//! header still needs, so the limits (`max_header_length`, `max_frame_length`) refuse a message
//! before the first byte of its body is read.

use crate::error::{Error, Result};
use crate::message::header::{HeaderParser, ParseLimits, ParsedHeader, Progress};

/// A header being read.
#[derive(Debug)]
pub(crate) struct HeaderReader {
    parser: HeaderParser,
    /// The header bytes received so far, then zeroed room for more.
    bytes: Vec<u8>,
    /// How many of `bytes` hold data.
    filled: usize,
    /// How long the header is at least: read until `bytes` is this long.
    wanted: usize,
}

impl HeaderReader {
    /// A reader at the start of a header (fails only when the limits forbid every header).
    pub(crate) fn new(limits: ParseLimits) -> Result<HeaderReader> {
        let mut parser = HeaderParser::new(limits);
        let Progress::NeedMore { at_least, .. } = parser.advance(&[])? else {
            return Err(Error::internal("the header parser finished a header of no bytes"));
        };
        Ok(HeaderReader { parser, bytes: Vec::new(), filled: 0, wanted: at_least })
    }

    /// Where the next read goes: exactly the bytes the header still needs at least, never fewer
    /// than one and never a byte past the header.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        // The parser's bound always lies past the bytes it saw; the floor only keeps a read from
        // ever being empty (which would read as the end of the input).
        let end = self.wanted.max(self.filled + 1);
        if end > self.bytes.len() {
            // Grow by doubling into a fresh zeroed allocation (zeroed pages come from the
            // allocator, where `resize` would write every byte): amortized linear.
            let mut grown = vec![0u8; end.max(2 * self.bytes.len())];
            grown[..self.filled].copy_from_slice(&self.bytes[..self.filled]);
            self.bytes = grown;
        }
        &mut self.bytes[self.filled..end]
    }

    /// Takes `read` bytes of the last [`HeaderReader::spare`] (0: the input ended). Returns the
    /// parsed header and its bytes once the header is complete.
    pub(crate) fn filled(&mut self, read: usize) -> Result<Option<(ParsedHeader, Vec<u8>)>> {
        self.filled = (self.filled + read).min(self.bytes.len());
        if read > 0 && self.filled < self.wanted {
            return Ok(None);
        }
        // Parse what arrived, also at the end of the input: the error then names the field the
        // input really ends in, not the one the last full read stopped at.
        match self.parser.advance(&self.bytes[..self.filled])? {
            Progress::Done(parsed) => {
                let mut bytes = std::mem::take(&mut self.bytes);
                bytes.truncate(self.filled);
                Ok(Some((parsed, bytes)))
            }
            Progress::NeedMore { field, .. } if read == 0 => Err(Error::truncated(field)),
            Progress::NeedMore { at_least, .. } => {
                self.wanted = at_least;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Malformed, PolicyViolation};
    use crate::materials::{EncryptedDataKey, EncryptionContext};
    use crate::message::header::{ContentType, Header};
    use crate::suite::AlgorithmSuite;

    fn header_bytes(edks: usize, frame_length: u32) -> Vec<u8> {
        let suite = AlgorithmSuite::DEFAULT;
        let header = Header {
            suite,
            message_id: vec![1; 32],
            encryption_context: EncryptionContext::from([("k".to_string(), "v".to_string())]),
            encrypted_data_keys: (0..edks)
                .map(|i| EncryptedDataKey::new("p", vec![i as u8; 3], vec![9; 100]))
                .collect(),
            content_type: ContentType::Framed,
            frame_length,
            commitment: Some([4; 32]),
        };
        let mut bytes = header.serialize_body().unwrap();
        header.append_auth(&mut bytes, &[0; 12], &[5; 16]);
        bytes
    }

    /// Feeds `input` (a header and then a body) through the reader in reads of at most `chunk`
    /// bytes; returns the parsed header and how many input bytes were read.
    fn read(input: &[u8], chunk: usize, limits: ParseLimits) -> (Result<ParsedHeader>, usize) {
        let mut reader = HeaderReader::new(limits).unwrap();
        let mut position = 0;
        loop {
            let spare = reader.spare();
            assert!(!spare.is_empty());
            let n = spare.len().min(chunk).min(input.len() - position);
            spare[..n].copy_from_slice(&input[position..position + n]);
            position += n;
            match reader.filled(n) {
                Ok(Some((parsed, bytes))) => {
                    assert_eq!(bytes.len(), parsed.len);
                    return (Ok(parsed), position);
                }
                Ok(None) => {}
                Err(error) => return (Err(error), position),
            }
        }
    }

    #[test]
    fn reads_exactly_the_header_whatever_the_read_sizes() {
        let header = header_bytes(5, 4096);
        let mut input = header.clone();
        input.extend_from_slice(&[0xEE; 1000]);
        for chunk in [1, 2, 7, 64, 4096, usize::MAX] {
            let (parsed, read) = read(&input, chunk, ParseLimits::default());
            assert_eq!(parsed.unwrap().header.encrypted_data_keys.len(), 5, "chunk {chunk}");
            assert_eq!(read, header.len(), "chunk {chunk}: read past the header");
        }
    }

    #[test]
    fn a_short_input_names_the_field_it_ends_in() {
        let header = header_bytes(2, 4096);
        let (parsed, _) = read(&header[..header.len() - 3], 5, ParseLimits::default());
        let error = parsed.unwrap_err();
        assert!(
            matches!(error, Error::Malformed(Malformed::Truncated { field: "header authentication tag" })),
            "{error}"
        );
    }

    #[test]
    fn limits_refuse_before_the_body_and_before_the_rest_of_a_long_header() {
        let header = header_bytes(50, 8192);
        let limits = ParseLimits { max_frame_length: Some(4096), ..ParseLimits::default() };
        let (parsed, read_bytes) = read(&header, usize::MAX, limits);
        assert!(matches!(parsed, Err(Error::Policy(PolicyViolation::FrameTooLong { limit: 4096, found: 8192 }))));
        assert!(read_bytes <= header.len());

        let limits = ParseLimits { max_header_length: Some(1000), ..ParseLimits::default() };
        let (parsed, read_bytes) = read(&header, usize::MAX, limits);
        assert!(matches!(parsed, Err(Error::Policy(PolicyViolation::HeaderTooLong { limit: 1000, .. }))));
        assert!(read_bytes <= 1000, "read {read_bytes} bytes of a header over the limit");
    }
}
