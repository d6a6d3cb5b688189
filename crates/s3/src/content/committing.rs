//! The V3 suite's key derivation: content key and key commitment from the data key.
//!
//! spec: key-derivation.md#hkdf-operation — HKDF-SHA512, salt = the 28-byte message id,
//! IKM = the 32-byte data key; info = suite id (2 bytes, big-endian) ‖ `DERIVEKEY` for the
//! 32-byte content key, suite id ‖ `COMMITKEY` for the 28-byte commitment.

use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use super::DATA_KEY_LEN;
use crate::error::{Error, Result};
use crate::metadata::{COMMITMENT_LEN, MESSAGE_ID_LEN};
use crate::suite::ContentSuite;

/// The suite id as bytes: both HKDF infos start with it, and it is the content AAD.
pub(crate) const AAD: [u8; 2] = 0x0073u16.to_be_bytes();
/// spec: key-derivation.md — the V3 content IV is twelve 0x01 bytes (each key encrypts once).
pub(crate) const IV: [u8; 12] = [0x01; 12];

const _: () = assert!(u16::from_be_bytes(AAD) == 0x0073);

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(data_key: &[u8], message_id: &[u8; MESSAGE_ID_LEN], label: &[u8], out: &mut [u8]) -> Result<()> {
    // spec: key-derivation.md — the IKM length MUST equal the suite's derivation input length.
    if data_key.len() != DATA_KEY_LEN {
        return Err(Error::Keyring(format!("a {}-byte data key; the suite needs {DATA_KEY_LEN}", data_key.len())));
    }
    debug_assert_eq!(ContentSuite::AesGcmCommitting.id().to_be_bytes(), AAD);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA512, message_id).extract(data_key);
    prk.expand(&[&AAD, label], Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::internal("HKDF-SHA512 expansion failed"))
}

/// The key commitment stored in `x-amz-d`.
pub(crate) fn commitment(data_key: &[u8], message_id: &[u8; MESSAGE_ID_LEN]) -> Result<[u8; COMMITMENT_LEN]> {
    let mut out = [0u8; COMMITMENT_LEN];
    expand(data_key, message_id, b"COMMITKEY", &mut out)?;
    Ok(out)
}

/// The AES-256-GCM key of the object body.
pub(crate) fn content_key(data_key: &[u8], message_id: &[u8; MESSAGE_ID_LEN]) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    expand(data_key, message_id, b"DERIVEKEY", out.as_mut())?;
    Ok(out)
}
