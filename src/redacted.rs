//! How Debug output shows a buffer that may hold plaintext or key bytes: its length only.

use std::fmt;

/// Formats as `[REDACTED; N bytes]`.
pub(crate) struct Redacted(pub(crate) usize);

impl Redacted {
    /// Stands for `bytes` in Debug output.
    pub(crate) fn of(bytes: &[u8]) -> Redacted {
        Redacted(bytes.len())
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED; {} bytes]", self.0)
    }
}
