//! One-shot AES-256-GCM over a whole body, tag appended.
//!
//! aws-lc-rs has no incremental GCM, so a body is sealed or opened in one call; that is also
//! what guarantees no plaintext exists before the tag verifies.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::TAG_LEN;
use crate::error::{Error, Result, SecurityError};

fn key(bytes: &[u8]) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes)
        .map_err(|_| Error::Keyring(format!("a {}-byte content key; AES-256 needs 32", bytes.len())))?;
    Ok(LessSafeKey::new(unbound))
}

/// Encrypts `plaintext` in place and appends the tag.
pub(crate) fn seal(key_bytes: &[u8], iv: [u8; 12], aad: &[u8], mut plaintext: Vec<u8>) -> Result<Vec<u8>> {
    plaintext.reserve_exact(TAG_LEN);
    key(key_bytes)?
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut plaintext)
        .map_err(|_| Error::internal("AES-GCM refused to encrypt"))?;
    Ok(plaintext)
}

/// Checks the tag and decrypts; on failure the buffer is zeroed and dropped.
pub(crate) fn open(key_bytes: &[u8], iv: [u8; 12], aad: &[u8], body: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
    let mut body = Zeroizing::new(body);
    if body.len() < TAG_LEN {
        return Err(SecurityError::TagMismatch.into());
    }
    let opened = key(key_bytes)?
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), body.as_mut_slice())
        .map(|p| p.len());
    match opened {
        Ok(len) => {
            body.truncate(len);
            Ok(body)
        }
        Err(_) => {
            body.fill(0);
            Err(SecurityError::TagMismatch.into())
        }
    }
}
