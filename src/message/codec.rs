//! A bounds-checked big-endian cursor. Every read names the field it reads, so a short input
//! produces an error that says where the message ended.

use crate::error::{Error, Result};

/// Reads fields from a byte slice, front to back.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Where the field that did not fit would have ended: how long the input must be at least.
    wanted: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader::resume(bytes, 0)
    }

    /// A reader at `position` of `bytes`, where an earlier reader left off (clamped to the end).
    pub fn resume(bytes: &'a [u8], position: usize) -> Reader<'a> {
        let position = position.min(bytes.len());
        Reader { bytes, position, wanted: position }
    }

    /// After a truncation error: the input length the failed read needed.
    pub fn wanted(&self) -> usize {
        self.wanted
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8]> {
        if self.remaining() < len {
            self.wanted = self.position.saturating_add(len);
            return Err(Error::truncated(field));
        }
        let out = &self.bytes[self.position..self.position + len];
        self.position += len;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self, field: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self, field: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A u16 length followed by that many bytes.
    pub fn u16_prefixed(&mut self, field: &'static str) -> Result<&'a [u8]> {
        let len = self.u16(field)? as usize;
        self.take(len, field)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(Error::Malformed(crate::error::Malformed::TrailingBytes { count })),
        }
    }
}

/// Appends a u16 length and the bytes, refusing fields too long for the format.
pub fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8], field: &'static str) -> Result<()> {
    let len = u16::try_from(bytes.len())
        .map_err(|_| Error::usage(format!("{field} is {} bytes; the format allows 65535", bytes.len())))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_names_the_field() {
        let mut reader = Reader::new(&[0, 5, 1, 2]);
        let error = reader.u16_prefixed("provider id").unwrap_err();
        assert!(error.is_truncation());
        assert!(error.to_string().contains("provider id"), "{error}");
    }

    #[test]
    fn finish_reports_trailing_bytes() {
        let mut reader = Reader::new(&[1, 2, 3]);
        reader.u8("x").unwrap();
        assert!(reader.finish().is_err());
    }
}
