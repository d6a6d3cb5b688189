//! Equality of secrets (key commitments, digests) in constant time, so how long a comparison
//! takes says nothing about where two values first differ.

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn equal_only_when_every_byte_and_the_length_agree() {
        assert!(eq(b"commitment", b"commitment"));
        assert!(!eq(b"commitment", b"commitmenT"));
        assert!(!eq(b"commit", b"commitment"));
        assert!(eq(b"", b""));
    }
}
