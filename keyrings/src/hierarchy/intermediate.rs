//! Intermediate-key wrapping: what the hierarchical keyring does under the DB-ESDK suites
//! 0x6700/0x6701 (and that the MPL applies to any keyring under suites that need a symmetric
//! signing key).
//!
//! The branch key wraps a fresh 32-byte *intermediate key* `ik` (the 92-byte hierarchy
//! ciphertext); `ik` yields two keys by HKDF-SHA512 (salt empty): the symmetric signing key
//! (info `AWS_MPL_INTERMEDIATE_KEYWRAP_MAC`) and the key that encrypts the data key (info
//! `AWS_MPL_INTERMEDIATE_KEYWRAP_ENC`), AES-256-GCM with a zero IV — safe because that key is
//! used once — and the serialized encryption context as AAD. EDK ciphertext =
//! encrypted data key (32 + 16 tag) ‖ hierarchy ciphertext (92) = 140 bytes.
//!
//! The hierarchical keyring calls this when the materials' suite says
//! `EdkWrapping::Intermediate`; the MPL's 0x6700/0x6701 keyring vectors go through the keyring
//! (keyrings/tests/hierarchy_vectors.rs). The other keyrings refuse those suites instead.
//!
//! spec: framework/algorithm-suites.md (DBE suites); MPL IntermediateKeyWrapping.

use aws_lc_rs::hkdf;
use envelope::Result;
use envelope::error::KeyringError;
use zeroize::Zeroizing;

use crate::aes_gcm::{IV_LEN, TAG_LEN, WrappingKey};

/// Length of the intermediate key (and of the keys derived from it).
///
/// ```
/// assert_eq!(envelope_keyrings::hierarchy::intermediate::INTERMEDIATE_KEY_LEN, 32);
/// ```
pub const INTERMEDIATE_KEY_LEN: usize = 32;
const MAC_INFO: &[u8] = b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC";
const ENC_INFO: &[u8] = b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC";

/// The two keys an intermediate key yields.
///
/// ```
/// use envelope_keyrings::hierarchy::intermediate;
///
/// let keys = intermediate::derive(&[5; 32])?;
/// assert_eq!(keys.signing_key.len(), 32);
/// assert_eq!(format!("{keys:?}"), "DerivedKeys([REDACTED])");
/// # Ok::<(), envelope::Error>(())
/// ```
pub struct DerivedKeys {
    /// The symmetric signing key (the DB-ESDK's per-EDK HMAC key).
    pub signing_key: Zeroizing<[u8; 32]>,
    encryption_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKeys([REDACTED])")
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// HKDF-SHA512 (empty salt) of the intermediate key into the signing and encryption keys.
///
/// ```
/// use envelope_keyrings::hierarchy::intermediate;
///
/// // Deterministic: whoever unwraps the intermediate key gets the same signing key.
/// let (a, b) = (intermediate::derive(&[5; 32])?, intermediate::derive(&[5; 32])?);
/// assert_eq!(a.signing_key, b.signing_key);
/// assert_ne!(a.signing_key, intermediate::derive(&[6; 32])?.signing_key);
/// # Ok::<(), envelope::Error>(())
/// ```
pub fn derive(intermediate_key: &[u8]) -> Result<DerivedKeys> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA512, &[]).extract(intermediate_key);
    let expand = |info: &[u8]| -> Result<Zeroizing<[u8; 32]>> {
        let mut out = Zeroizing::new([0u8; 32]);
        let infos = [info];
        prk.expand(&infos, Len32)
            .and_then(|okm| okm.fill(&mut *out))
            .map_err(|_| envelope::Error::from(KeyringError::Wrap("HKDF-SHA512 failed".into())))?;
        Ok(out)
    };
    Ok(DerivedKeys { signing_key: expand(MAC_INFO)?, encryption_key: expand(ENC_INFO)? })
}

/// Encrypts `data_key` under the keys of `intermediate_key`: `encrypted data key ‖ tag`.
///
/// ```
/// use envelope_keyrings::hierarchy::intermediate;
///
/// let keys = intermediate::derive(&[5; 32])?;
/// let encrypted = intermediate::wrap(&keys, &[9; 32], b"serialized context")?;
/// assert_eq!(encrypted.len(), 32 + 16);
/// # Ok::<(), envelope::Error>(())
/// ```
pub fn wrap(keys: &DerivedKeys, data_key: &[u8], serialized_context: &[u8]) -> Result<Vec<u8>> {
    let key = WrappingKey::new(&*keys.encryption_key)?;
    let mut out = Vec::with_capacity(data_key.len() + TAG_LEN);
    out.extend_from_slice(data_key);
    // A zero IV: the encryption key is derived from a fresh random intermediate key per EDK.
    let tag = key.seal_in_place(&[0; IV_LEN], serialized_context, &mut out)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts `encrypted` (`encrypted data key ‖ tag`); `None` when the tag does not verify.
///
/// ```
/// use envelope_keyrings::hierarchy::intermediate;
///
/// let keys = intermediate::derive(&[5; 32])?;
/// let encrypted = intermediate::wrap(&keys, &[9; 32], b"context")?;
/// assert_eq!(&intermediate::unwrap(&keys, &encrypted, b"context")?.expect("verifies")[..], &[9; 32]);
/// assert!(intermediate::unwrap(&keys, &encrypted, b"another context")?.is_none());
/// # Ok::<(), envelope::Error>(())
/// ```
pub fn unwrap(keys: &DerivedKeys, encrypted: &[u8], serialized_context: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(split) = encrypted.len().checked_sub(TAG_LEN) else { return Ok(None) };
    let (ciphertext, tag) = encrypted.split_at(split);
    let key = WrappingKey::new(&*keys.encryption_key)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    Ok(key.open_in_place(&[0; IV_LEN], serialized_context, &mut plaintext, tag).ok().map(|()| plaintext))
}

/// Splits a DB-ESDK hierarchy EDK ciphertext wrapping a `key_len`-byte data key into the
/// encrypted data key and the hierarchy ciphertext of the intermediate key.
///
/// ```
/// use envelope_keyrings::hierarchy::intermediate;
///
/// let ciphertext = [0u8; 140]; // 48 + 92: a 32-byte data key under the DB-ESDK suites
/// let (encrypted_data_key, wrapped_intermediate_key) = intermediate::split(&ciphertext, 32).expect("long enough");
/// assert_eq!((encrypted_data_key.len(), wrapped_intermediate_key.len()), (48, 92));
/// assert!(intermediate::split(&ciphertext[..48], 32).is_none());
/// ```
pub fn split(ciphertext: &[u8], key_len: usize) -> Option<(&[u8], &[u8])> {
    let at = key_len.checked_add(TAG_LEN)?;
    (ciphertext.len() > at).then(|| ciphertext.split_at(at))
}
