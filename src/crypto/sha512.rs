//! SHA-512 over several byte strings (the caching materials manager's cache ids).

use aws_lc_rs::digest;

/// Bytes in a SHA-512 digest.
pub const SHA512_LEN: usize = 64;

/// SHA-512 of the concatenation of `parts`, without copying them into one buffer.
pub fn sha512(parts: &[&[u8]]) -> [u8; SHA512_LEN] {
    let mut context = digest::Context::new(&digest::SHA512);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; SHA512_LEN];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_hash_as_their_concatenation() {
        assert_eq!(sha512(&[b"ab", b"", b"c"]), sha512(&[b"abc"]));
        // FIPS 180-2 example: SHA-512("abc") starts ddaf35a1.
        assert_eq!(sha512(&[b"abc"])[..4], [0xdd, 0xaf, 0x35, 0xa1]);
    }
}
