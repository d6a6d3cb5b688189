//! AES-GCM for wrapping data keys (raw AES and ECDH keyrings), straight over aws-lc-rs.
//!
//! The message core keeps its own AES-GCM wrapper private: its callers choose nonces, which only
//! the message format may do. Here the nonce rules are the keyrings' own (a random IV per EDK for
//! raw AES, a zero IV under a fresh single-use key for ECDH), stated where each keyring seals.

use std::fmt;

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use envelope::Result;
use envelope::error::KeyringError;

/// Length of the IVs the keyrings use.
pub(crate) const IV_LEN: usize = 12;
/// Length of the tags the keyrings write and require.
pub(crate) const TAG_LEN: usize = 16;

/// An AES-GCM key (128, 192 or 256 bits). aws-lc-rs zeroizes its key schedule on drop.
pub(crate) struct WrappingKey(LessSafeKey);

/// The tag did not verify: wrong key, another AAD, or a modified ciphertext.
#[derive(Debug)]
pub(crate) struct TagMismatch;

impl WrappingKey {
    /// A key from 16, 24 or 32 bytes.
    pub(crate) fn new(key: &[u8]) -> Result<WrappingKey> {
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            other => {
                return Err(
                    KeyringError::Configuration(format!("an AES-GCM key is 16, 24 or 32 bytes, not {other}")).into()
                );
            }
        };
        let unbound = UnboundKey::new(algorithm, key)
            .map_err(|_| KeyringError::Configuration("aws-lc-rs rejected the AES-GCM key".into()))?;
        Ok(WrappingKey(LessSafeKey::new(unbound)))
    }

    /// Encrypts `in_out` in place and returns the tag.
    pub(crate) fn seal_in_place(&self, iv: &[u8; IV_LEN], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), in_out)
            .map_err(|_| KeyringError::Wrap("AES-GCM refused to encrypt the data key".into()))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts `in_out` in place after checking `tag`; zeroes it on failure, so no unverified
    /// key bytes survive.
    pub(crate) fn open_in_place(
        &self,
        iv: &[u8; IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8],
    ) -> Result<(), TagMismatch> {
        let opened = self.0.open_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), tag, in_out);
        if opened.is_err() {
            in_out.fill(0);
            return Err(TagMismatch);
        }
        Ok(())
    }
}

impl fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WrappingKey([REDACTED])")
    }
}

/// Fills `out` from the system CSPRNG.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(out)
        .map_err(|_| KeyringError::Wrap("the system random number generator failed".into()).into())
}

/// Equality of secrets (digests, commitment keys) in constant time.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}
