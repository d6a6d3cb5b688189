//! The aws-lc calls envelope needs and aws-lc-rs does not expose, made safe: incremental
//! AES-256-GCM ([`GcmEncryptor`], [`GcmDecryptor`]) and RSA-OAEP with SHA-256 and MGF1-SHA-1
//! ([`rsa_oaep_sha256_mgf1_sha1_decrypt`], the Java v1 S3 encryption client's legacy RSA wrap).
//! This is the only crate of the workspace with unsafe code, confined to one module per feature.
//!
//! # Incremental AES-256-GCM
//!
//! Encrypt or decrypt a stream piece by piece, with the 16-byte tag produced or verified at the end.
//!
//! aws-lc-rs seals and opens a message in one call, so a body must be in memory whole. This crate
//! drives aws-lc's own GCM (the same library build aws-lc-rs links) through its incremental EVP
//! interface; the output is byte-identical to a one-shot seal with the same key, IV and AAD.
//!
//! **Decryption releases bytes before they are authenticated**: [`GcmDecryptor::update`] returns
//! plaintext that is only known to be genuine once [`GcmDecryptor::finish`] accepted the tag.
//! Callers must keep that plaintext away from users until then (write it to a private temporary
//! file, or decrypt twice: once to verify, once to release), or have the user's explicit opt-in.
//!
//! Key material: the key is copied into aws-lc's context (never into a Rust buffer of this crate)
//! and the context is freed, and its memory cleansed by aws-lc, on drop.
//!
//! ```
//! use envelope_gcm_stream::{GcmDecryptor, GcmEncryptor};
//!
//! # fn main() -> Result<(), envelope_gcm_stream::Error> {
//! let key = [7u8; 32];
//! let iv = [1u8; 12];
//! let mut encryptor = GcmEncryptor::new(&key, &iv, b"aad")?;
//! let mut first = b"hello, ".to_vec();
//! let mut second = b"world".to_vec();
//! encryptor.update(&mut first)?;
//! encryptor.update(&mut second)?;
//! let tag = encryptor.finish()?;
//!
//! let mut decryptor = GcmDecryptor::new(&key, &iv, b"aad")?;
//! let mut body = [first, second].concat();
//! decryptor.update(&mut body)?;
//! decryptor.finish(&tag)?; // only now is `body` authenticated
//! assert_eq!(body, b"hello, world");
//! # Ok(())
//! # }
//! ```

mod ffi;
mod rsa_oaep;

pub use rsa_oaep::{rsa_oaep_sha256_mgf1_sha1_decrypt, rsa_oaep_sha256_mgf1_sha1_encrypt};

/// Length of the AES-256 key.
///
/// ```
/// use envelope_gcm_stream::{GcmEncryptor, IV_LEN, KEY_LEN};
///
/// // The key and IV are arrays, so a wrong length is a compile error rather than a runtime one.
/// let key = [0u8; KEY_LEN];
/// assert!(GcmEncryptor::new(&key, &[0; IV_LEN], b"").is_ok());
/// ```
pub const KEY_LEN: usize = 32;
/// Length of the IV (the 96-bit GCM nonce).
///
/// ```
/// use envelope_gcm_stream::{GcmEncryptor, IV_LEN, KEY_LEN};
///
/// // Never reuse an IV under the same key: draw it at random, or count messages.
/// let iv: [u8; IV_LEN] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// assert!(GcmEncryptor::new(&[0; KEY_LEN], &iv, b"").is_ok());
/// ```
pub const IV_LEN: usize = 12;
/// Length of the authentication tag.
///
/// ```
/// use envelope_gcm_stream::{GcmEncryptor, TAG_LEN};
///
/// # fn main() -> Result<(), envelope_gcm_stream::Error> {
/// let tag: [u8; TAG_LEN] = GcmEncryptor::new(&[7; 32], &[1; 12], b"")?.finish()?;
/// assert_eq!(tag.len(), 16);
/// # Ok(())
/// # }
/// ```
pub const TAG_LEN: usize = 16;

/// A failure of the incremental cipher or of the RSA-OAEP functions.
///
/// ```
/// let error = envelope_gcm_stream::Error::TagMismatch;
/// assert!(error.to_string().contains("authenticate"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tag does not verify: wrong key, IV or AAD, or modified ciphertext or tag.
    #[error("the ciphertext does not authenticate")]
    TagMismatch,
    /// aws-lc refused an operation (out of memory, or more than GCM's 2^36 - 32 bytes).
    #[error("aws-lc refused {0}")]
    Refused(&'static str),
    /// The RSA key is not usable: not DER of the expected kind, trailing bytes, or not RSA.
    #[error("the RSA key is unusable: {0}")]
    KeyRejected(&'static str),
    /// RSA-OAEP decryption failed: another key, other OAEP parameters, or a modified ciphertext.
    #[error("RSA-OAEP decryption failed (another key, other padding, or a modified ciphertext)")]
    DecryptionFailed,
}

/// Encrypts a stream with AES-256-GCM; [`finish`](Self::finish) returns the tag.
///
/// ```
/// use envelope_gcm_stream::GcmEncryptor;
///
/// # fn main() -> Result<(), envelope_gcm_stream::Error> {
/// let mut encryptor = GcmEncryptor::new(&[0; 32], &[0; 12], &[])?;
/// let mut data = vec![0u8; 100];
/// encryptor.update(&mut data)?;
/// assert_eq!(encryptor.finish()?.len(), 16);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct GcmEncryptor {
    ctx: ffi::Context,
    processed: u64,
}

impl GcmEncryptor {
    /// Starts encrypting under `key` and `iv`, authenticating `aad`.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let encryptor = envelope_gcm_stream::GcmEncryptor::new(&[1; 32], &[2; 12], b"header")?;
    /// # let _ = encryptor;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], aad: &[u8]) -> Result<GcmEncryptor, Error> {
        let ctx = ffi::Context::new(ffi::Direction::Encrypt, key, iv, aad)?;
        Ok(GcmEncryptor { ctx, processed: 0 })
    }

    /// Encrypts `data` in place (the next bytes of the stream); any length, any split.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let mut encryptor = envelope_gcm_stream::GcmEncryptor::new(&[1; 32], &[2; 12], &[])?;
    /// let mut data = *b"abc";
    /// encryptor.update(&mut data)?;
    /// assert_ne!(&data, b"abc");
    /// # Ok(())
    /// # }
    /// ```
    pub fn update(&mut self, data: &mut [u8]) -> Result<(), Error> {
        self.ctx.update(data)?;
        self.processed += data.len() as u64;
        Ok(())
    }

    /// How many bytes were encrypted so far.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let mut encryptor = envelope_gcm_stream::GcmEncryptor::new(&[1; 32], &[2; 12], &[])?;
    /// encryptor.update(&mut [0; 5])?;
    /// assert_eq!(encryptor.processed(), 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Ends the stream and returns the 16-byte tag to append.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let encryptor = envelope_gcm_stream::GcmEncryptor::new(&[1; 32], &[2; 12], &[])?;
    /// let tag: [u8; 16] = encryptor.finish()?;
    /// # let _ = tag;
    /// # Ok(())
    /// # }
    /// ```
    pub fn finish(mut self) -> Result<[u8; TAG_LEN], Error> {
        self.ctx.finish_encrypt()
    }
}

/// Decrypts a stream with AES-256-GCM; [`finish`](Self::finish) verifies the tag (compared by
/// aws-lc in constant time). See the crate documentation about the plaintext `update` returns.
///
/// ```
/// use envelope_gcm_stream::{Error, GcmDecryptor};
///
/// # fn main() -> Result<(), Error> {
/// let decryptor = GcmDecryptor::new(&[0; 32], &[0; 12], &[])?;
/// assert_eq!(decryptor.finish(&[0; 16]), Err(Error::TagMismatch));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct GcmDecryptor {
    ctx: ffi::Context,
    processed: u64,
}

impl GcmDecryptor {
    /// Starts decrypting under `key` and `iv`, authenticating `aad`.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let decryptor = envelope_gcm_stream::GcmDecryptor::new(&[1; 32], &[2; 12], b"header")?;
    /// # let _ = decryptor;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], aad: &[u8]) -> Result<GcmDecryptor, Error> {
        let ctx = ffi::Context::new(ffi::Direction::Decrypt, key, iv, aad)?;
        Ok(GcmDecryptor { ctx, processed: 0 })
    }

    /// Decrypts `data` in place (the next ciphertext bytes, without the tag). The result is NOT
    /// authenticated until [`finish`](Self::finish) succeeds.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let mut decryptor = envelope_gcm_stream::GcmDecryptor::new(&[1; 32], &[2; 12], &[])?;
    /// decryptor.update(&mut [0; 7])?;
    /// assert_eq!(decryptor.processed(), 7);
    /// # Ok(())
    /// # }
    /// ```
    pub fn update(&mut self, data: &mut [u8]) -> Result<(), Error> {
        self.ctx.update(data)?;
        self.processed += data.len() as u64;
        Ok(())
    }

    /// How many bytes were decrypted so far.
    ///
    /// ```
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let decryptor = envelope_gcm_stream::GcmDecryptor::new(&[1; 32], &[2; 12], &[])?;
    /// assert_eq!(decryptor.processed(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Ends the stream and checks `tag`; [`Error::TagMismatch`] when it does not verify.
    ///
    /// ```
    /// use envelope_gcm_stream::{GcmDecryptor, GcmEncryptor};
    ///
    /// # fn main() -> Result<(), envelope_gcm_stream::Error> {
    /// let tag = GcmEncryptor::new(&[1; 32], &[2; 12], &[])?.finish()?;
    /// GcmDecryptor::new(&[1; 32], &[2; 12], &[])?.finish(&tag)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn finish(mut self, tag: &[u8; TAG_LEN]) -> Result<(), Error> {
        self.ctx.finish_decrypt(tag)
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

    use super::*;

    fn one_shot(key: &[u8; 32], iv: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
        let mut out = plaintext.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), &mut out).unwrap();
        out
    }

    /// Deterministic pseudo-random split points (no RNG crate needed).
    fn splits(len: usize, seed: u64) -> Vec<usize> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut points = Vec::new();
        let mut at = 0;
        while at < len {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let step = match (state >> 33) % 4 {
                0 => 1 + (state >> 40) as usize % 3,
                1 => 1 + (state >> 40) as usize % 17,
                2 => 16 * (1 + (state >> 40) as usize % 5),
                _ => 1 + (state >> 40) as usize % 1000,
            };
            at = (at + step).min(len);
            points.push(at);
        }
        points
    }

    fn encrypt_split(key: &[u8; 32], iv: &[u8; 12], aad: &[u8], plaintext: &[u8], points: &[usize]) -> Vec<u8> {
        let mut encryptor = GcmEncryptor::new(key, iv, aad).unwrap();
        let mut out = plaintext.to_vec();
        let mut start = 0;
        for &end in points {
            encryptor.update(&mut out[start..end]).unwrap();
            start = end;
        }
        encryptor.update(&mut out[start..]).unwrap();
        assert_eq!(encryptor.processed(), plaintext.len() as u64);
        out.extend_from_slice(&encryptor.finish().unwrap());
        out
    }

    fn decrypt_split(
        key: &[u8; 32],
        iv: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
        points: &[usize],
    ) -> Result<Vec<u8>, Error> {
        let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let mut decryptor = GcmDecryptor::new(key, iv, aad)?;
        let mut out = body.to_vec();
        let mut start = 0;
        for &end in points {
            decryptor.update(&mut out[start..end])?;
            start = end;
        }
        decryptor.update(&mut out[start..])?;
        decryptor.finish(tag.try_into().unwrap())?;
        Ok(out)
    }

    #[test]
    fn byte_identical_to_the_one_shot_seal_for_many_splits() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let iv: [u8; 12] = std::array::from_fn(|i| 0xa0 + i as u8);
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 255, 256, 257, 4096, 10_000] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            for aad in [&b""[..], &[0x00, 0x73][..], &[9u8; 40][..]] {
                let expected = one_shot(&key, &iv, aad, &plaintext);
                for seed in 0..12 {
                    let points = splits(len, seed);
                    assert_eq!(encrypt_split(&key, &iv, aad, &plaintext, &points), expected, "len {len} seed {seed}");
                    assert_eq!(decrypt_split(&key, &iv, aad, &expected, &points).unwrap(), plaintext);
                }
                // Byte by byte, and one update per 16-byte block.
                let bytes: Vec<usize> = (1..=len).collect();
                assert_eq!(encrypt_split(&key, &iv, aad, &plaintext, &bytes), expected);
                let blocks: Vec<usize> = (16..=len).step_by(16).collect();
                assert_eq!(decrypt_split(&key, &iv, aad, &expected, &blocks).unwrap(), plaintext);
            }
        }
    }

    #[test]
    fn any_change_fails_the_tag() {
        let key = [3u8; 32];
        let iv = [4u8; 12];
        let sealed = one_shot(&key, &iv, b"aad", b"sixteen bytes!!!and more");
        for index in 0..sealed.len() {
            let mut forged = sealed.clone();
            forged[index] ^= 0x01;
            assert_eq!(decrypt_split(&key, &iv, b"aad", &forged, &[5]), Err(Error::TagMismatch), "byte {index}");
        }
        assert_eq!(decrypt_split(&[5u8; 32], &iv, b"aad", &sealed, &[]), Err(Error::TagMismatch), "key");
        assert_eq!(decrypt_split(&key, &[5u8; 12], b"aad", &sealed, &[]), Err(Error::TagMismatch), "iv");
        assert_eq!(decrypt_split(&key, &iv, b"aaD", &sealed, &[]), Err(Error::TagMismatch), "aad");
        assert_eq!(decrypt_split(&key, &iv, b"aad", &sealed, &[]).unwrap(), b"sixteen bytes!!!and more");
    }

    #[test]
    fn debug_prints_no_state() {
        let encryptor = GcmEncryptor::new(&[0x42; 32], &[0; 12], &[]).unwrap();
        let text = format!("{encryptor:?}");
        assert!(!text.contains("42") && !text.contains("66"), "{text}");
    }
}
