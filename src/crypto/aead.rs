//! AES-GCM with a 12-byte IV and 16-byte tag, the only AEAD the message format uses.

use std::fmt;

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::{AuthenticationFailure, Error, Result};

/// Length of every IV in the format.
pub const IV_LEN: usize = 12;
/// Length of every authentication tag in the format.
pub const TAG_LEN: usize = 16;

/// An AES-GCM key ready for use. aws-lc-rs zeroizes its key schedule on drop.
pub struct AesGcmKey(LessSafeKey);

impl AesGcmKey {
    /// Builds a key from 16, 24 or 32 bytes.
    pub fn new(key: &[u8]) -> Result<AesGcmKey> {
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            other => return Err(Error::internal(format!("AES-GCM keys are 16, 24 or 32 bytes, not {other}"))),
        };
        let unbound = UnboundKey::new(algorithm, key).map_err(|_| Error::internal("AES-GCM key rejected"))?;
        Ok(AesGcmKey(LessSafeKey::new(unbound)))
    }

    /// Encrypts `in_out` in place and returns the tag.
    pub fn seal_in_place(&self, iv: &[u8; IV_LEN], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), in_out)
            .map_err(|_| Error::internal("AES-GCM refused to encrypt (input too long)"))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Encrypts `plaintext` into `out` (same length) without touching the input; returns the tag.
    pub fn seal_into(&self, iv: &[u8; IV_LEN], aad: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let mut tag = [0u8; TAG_LEN];
        self.0
            .seal_out_of_place_scatter(Nonce::assume_unique_for_key(*iv), Aad::from(aad), plaintext, out, &[], &mut tag)
            .map_err(|_| Error::internal("AES-GCM refused to encrypt (input too long or buffers mismatched)"))?;
        Ok(tag)
    }

    /// Decrypts `ciphertext` into `out` (same length) after checking `tag`. On failure `out` is
    /// zeroed so no unauthenticated plaintext survives.
    pub fn open_into(
        &self,
        iv: &[u8; IV_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        debug_assert_eq!(ciphertext.len(), out.len());
        let result =
            self.0.open_separate_gather(Nonce::assume_unique_for_key(*iv), Aad::from(aad), ciphertext, tag, out);
        if result.is_err() {
            out.fill(0);
            return Err(AuthenticationFailure::BodyTag.into());
        }
        Ok(())
    }

    /// Decrypts in place: `in_out` holds ciphertext and receives plaintext. Zeroed on failure.
    pub fn open_in_place(&self, iv: &[u8; IV_LEN], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        let result = self.0.open_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), tag, in_out);
        if result.is_err() {
            in_out.fill(0);
            return Err(AuthenticationFailure::BodyTag.into());
        }
        Ok(())
    }
}

impl fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesGcmKey([REDACTED])")
    }
}
