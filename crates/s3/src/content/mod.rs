//! The content ciphers: the only place in this crate that encrypts or decrypts object bodies.
//!
//! spec: encryption.md, decryption.md, key-derivation.md

pub(crate) mod cbc;
pub(crate) mod committing;
pub(crate) mod ctr;
pub(crate) mod gcm;

use zeroize::Zeroizing;

use crate::error::{Error, Result, SecurityError};
use crate::metadata::{COMMITMENT_LEN, ContentParams, GCM_IV_LEN, MESSAGE_ID_LEN};
use crate::suite::ContentSuite;

/// Length of the AES-256 data key every suite uses.
pub(crate) const DATA_KEY_LEN: usize = 32;
/// Length of the GCM tag appended to the body.
pub(crate) const TAG_LEN: usize = 16;
/// The most plaintext one AES-GCM invocation may encrypt: 2^39 - 256 bits.
pub(crate) const GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// Fresh per-object parameters for `suite`: a random IV (V2) or message id (V3).
///
/// spec: encryption.md#content-encryption — generated at the suite's length, and checked not to
/// be all zeros (a sign of a generator that never ran).
pub(crate) fn fresh_params(suite: ContentSuite, data_key: &[u8]) -> Result<ContentParams> {
    match suite {
        ContentSuite::AesGcm => Ok(ContentParams::Gcm { iv: random::<GCM_IV_LEN>()? }),
        ContentSuite::AesGcmCommitting => {
            let message_id = random::<MESSAGE_ID_LEN>()?;
            let commitment = committing::commitment(data_key, &message_id)?;
            Ok(ContentParams::Committing { message_id, commitment })
        }
        ContentSuite::AesCbcLegacy => Err(Error::Usage("CBC content is never written".into())),
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| Error::internal("the system random number generator failed"))?;
    if out.iter().all(|byte| *byte == 0) {
        return Err(Error::internal("the random number generator returned only zeros"));
    }
    Ok(out)
}

/// Encrypts a whole body: ciphertext ‖ tag.
pub(crate) fn encrypt(params: &ContentParams, data_key: &[u8], plaintext: Vec<u8>) -> Result<Vec<u8>> {
    // spec: encryption.md — the plaintext MUST NOT exceed the cipher's maximum.
    if plaintext.len() as u64 > GCM_MAX_PLAINTEXT {
        return Err(Error::Usage(format!("an object holds at most {GCM_MAX_PLAINTEXT} bytes of plaintext")));
    }
    match params {
        ContentParams::Gcm { iv } => {
            // spec: encryption.md#alg_aes_256_gcm_iv12_tag16_no_kdf — the data key, no AAD.
            gcm::seal(data_key, *iv, &[], plaintext)
        }
        ContentParams::Committing { message_id, .. } => {
            let key = committing::content_key(data_key, message_id)?;
            gcm::seal(key.as_ref(), committing::IV, &committing::AAD, plaintext)
        }
        ContentParams::Cbc { .. } => Err(Error::Usage("CBC content is never written".into())),
    }
}

/// Decrypts a whole body after every check: commitment first (V3), then the GCM tag; nothing
/// is returned unless both pass. CBC (legacy) has nothing to check; the caller opted in.
pub(crate) fn decrypt(params: &ContentParams, data_key: &[u8], body: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
    match params {
        ContentParams::Gcm { iv } => gcm::open(data_key, *iv, &[], body),
        ContentParams::Committing { message_id, commitment } => {
            // spec: decryption.md#decrypting-with-commitment — compare in constant time, and before
            // the content key is derived.
            check_commitment(data_key, message_id, commitment)?;
            let key = committing::content_key(data_key, message_id)?;
            gcm::open(key.as_ref(), committing::IV, &committing::AAD, body)
        }
        ContentParams::Cbc { iv } => cbc::decrypt(data_key, iv, body),
    }
}

/// Decrypts body bytes starting at `offset` with AES-CTR, without authentication (ranged
/// reads). The commitment of a V3 object is still checked first.
pub(crate) fn decrypt_range(
    params: &ContentParams,
    data_key: &[u8],
    offset: u64,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    match params {
        // spec: decryption.md#ranged-gets — 0x0072 ranges with 0x0071: the data key, the stored IV.
        ContentParams::Gcm { iv } => ctr::decrypt_at(data_key, *iv, offset, ciphertext),
        // 0x0073 ranges with 0x0074: the derived content key, IV 12 × 0x01.
        ContentParams::Committing { message_id, commitment } => {
            check_commitment(data_key, message_id, commitment)?;
            let key = committing::content_key(data_key, message_id)?;
            ctr::decrypt_at(key.as_ref(), committing::IV, offset, ciphertext)
        }
        ContentParams::Cbc { .. } => Err(Error::Usage("ranged reads of CBC objects are not supported".into())),
    }
}

/// A body's AES-256-GCM key (zeroized on drop), IV and AAD.
pub(crate) type GcmInputs = (Zeroizing<[u8; DATA_KEY_LEN]>, [u8; GCM_IV_LEN], &'static [u8]);

/// The AES-256-GCM key, IV and AAD of a body, for the incremental cipher (multipart puts,
/// streamed gets). For a V3 object the commitment is checked first, in constant time, as
/// [`decrypt`] does; CBC has no streamed form.
pub(crate) fn gcm_inputs(params: &ContentParams, data_key: &[u8]) -> Result<GcmInputs> {
    match params {
        ContentParams::Gcm { iv } => {
            let key: [u8; DATA_KEY_LEN] = data_key
                .try_into()
                .map_err(|_| Error::Keyring(format!("a {}-byte data key; AES-256 needs 32", data_key.len())))?;
            Ok((Zeroizing::new(key), *iv, &[]))
        }
        ContentParams::Committing { message_id, commitment } => {
            check_commitment(data_key, message_id, commitment)?;
            Ok((committing::content_key(data_key, message_id)?, committing::IV, &committing::AAD))
        }
        ContentParams::Cbc { .. } => Err(Error::Usage("legacy CBC objects are read whole, not streamed".into())),
    }
}

/// Compares the stored commitment with the one derived from `data_key`, in constant time.
pub(crate) fn check_commitment(
    data_key: &[u8],
    message_id: &[u8; MESSAGE_ID_LEN],
    stored: &[u8; COMMITMENT_LEN],
) -> Result<()> {
    let derived = committing::commitment(data_key, message_id)?;
    if aws_lc_rs::constant_time::verify_slices_are_equal(&derived, stored).is_err() {
        return Err(SecurityError::CommitmentMismatch.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Known answers computed independently from the spec's definitions (Python: `hmac`/`hashlib`
    //! HKDF per RFC 5869, the `cryptography` package's AES-GCM and AES-CBC), for data key
    //! 00..1f, message id a0..bb, IV 10..1b (V2) and 50..5f (CBC).
    use super::*;

    const DATA_KEY: [u8; 32] = {
        let mut key = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            key[i] = i as u8;
            i += 1;
        }
        key
    };

    fn message_id() -> [u8; MESSAGE_ID_LEN] {
        std::array::from_fn(|i| 0xa0 + i as u8)
    }

    fn hex_array<const N: usize>(text: &str) -> [u8; N] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    #[test]
    fn v3_commitment_and_content_key_known_answers() {
        let commitment = committing::commitment(&DATA_KEY, &message_id()).unwrap();
        assert_eq!(hex::encode(commitment), "c14b6f5ff01354a12d08225323f8bb6a482599d178c7bc3660be7a3b");
        let key = committing::content_key(&DATA_KEY, &message_id()).unwrap();
        assert_eq!(hex::encode(key.as_ref()), "a8e0c7c35a41d8aaf9ef82a872f31b9e996b7ff6318c3772987ee5470cf89946");
    }

    #[test]
    fn v3_body_known_answer_both_ways() {
        let params = ContentParams::Committing {
            message_id: message_id(),
            commitment: hex_array("c14b6f5ff01354a12d08225323f8bb6a482599d178c7bc3660be7a3b"),
        };
        let expected = hex::decode("a4c9f641c64fb423a350417cb8b82f555bb8689f20f9510b72").unwrap();
        assert_eq!(encrypt(&params, &DATA_KEY, b"hello, S3".to_vec()).unwrap(), expected);
        assert_eq!(&*decrypt(&params, &DATA_KEY, expected).unwrap(), b"hello, S3");
    }

    #[test]
    fn v2_body_known_answer_both_ways() {
        let params = ContentParams::Gcm { iv: std::array::from_fn(|i| 0x10 + i as u8) };
        let expected = hex::decode("159bf47a26e51ae0f9c3c627cdfc7e67a6f9e81fdef66b83b9").unwrap();
        assert_eq!(encrypt(&params, &DATA_KEY, b"hello, S3".to_vec()).unwrap(), expected);
        assert_eq!(&*decrypt(&params, &DATA_KEY, expected).unwrap(), b"hello, S3");
    }

    #[test]
    fn cbc_known_answer_decrypts_and_is_never_written() {
        let params = ContentParams::Cbc { iv: std::array::from_fn(|i| 0x50 + i as u8) };
        let body = hex::decode("053b7061652048ce3bc995954d75e58f8c84edac561057d43d747a5d3afa163d").unwrap();
        assert_eq!(&*decrypt(&params, &DATA_KEY, body).unwrap(), b"hello, S3 legacy");
        assert!(encrypt(&params, &DATA_KEY, b"x".to_vec()).is_err());
        assert!(decrypt(&params, &DATA_KEY, vec![0; 15]).is_err(), "not whole blocks");
    }

    #[test]
    fn every_commitment_byte_is_checked_before_decryption() {
        let data_key = [9u8; 32];
        let params = fresh_params(ContentSuite::AesGcmCommitting, &data_key).unwrap();
        let body = encrypt(&params, &data_key, b"committed".to_vec()).unwrap();
        let ContentParams::Committing { message_id, commitment } = params else { panic!() };
        for index in 0..COMMITMENT_LEN {
            for bit in [0x01, 0x80] {
                let mut forged = commitment;
                forged[index] ^= bit;
                let params = ContentParams::Committing { message_id, commitment: forged };
                let error = decrypt(&params, &data_key, body.clone()).unwrap_err();
                assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)), "byte {index}");
            }
        }
        // Another data key with the stored commitment: refused on the commitment, not the tag.
        let error = decrypt(&ContentParams::Committing { message_id, commitment }, &[8u8; 32], body).unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)));
    }

    #[test]
    fn every_body_byte_and_the_message_id_are_authenticated() {
        let data_key = [9u8; 32];
        for suite in [ContentSuite::AesGcm, ContentSuite::AesGcmCommitting] {
            let params = fresh_params(suite, &data_key).unwrap();
            let body = encrypt(&params, &data_key, b"0123456789".to_vec()).unwrap();
            for index in 0..body.len() {
                let mut forged = body.clone();
                forged[index] ^= 1;
                assert!(matches!(
                    decrypt(&params, &data_key, forged),
                    Err(Error::Security(SecurityError::TagMismatch))
                ));
            }
            assert!(decrypt(&params, &data_key, body[..body.len() - 1].to_vec()).is_err(), "truncated");
            assert!(decrypt(&params, &data_key, Vec::new()).is_err(), "empty");
        }
        let params = fresh_params(ContentSuite::AesGcmCommitting, &data_key).unwrap();
        let body = encrypt(&params, &data_key, b"x".to_vec()).unwrap();
        let ContentParams::Committing { mut message_id, commitment } = params else { panic!() };
        message_id[0] ^= 1;
        assert!(decrypt(&ContentParams::Committing { message_id, commitment }, &data_key, body).is_err());
    }

    #[test]
    fn every_range_matches_whole_body_decryption() {
        let data_key = [5u8; 32];
        let plaintext: Vec<u8> = (0..100u8).collect();
        for suite in [ContentSuite::AesGcm, ContentSuite::AesGcmCommitting] {
            let params = fresh_params(suite, &data_key).unwrap();
            let body = encrypt(&params, &data_key, plaintext.clone()).unwrap();
            for start in 0..=plaintext.len() {
                for end in [start, start + 1, start + 15, start + 16, start + 17, plaintext.len()] {
                    let end = end.min(plaintext.len()).max(start);
                    let range = decrypt_range(&params, &data_key, start as u64, &body[start..end]).unwrap();
                    assert_eq!(&range[..], &plaintext[start..end], "{suite}: bytes {start}..{end}");
                }
            }
        }
    }

    #[test]
    fn ranges_check_the_commitment_and_refuse_cbc() {
        let data_key = [5u8; 32];
        let params = fresh_params(ContentSuite::AesGcmCommitting, &data_key).unwrap();
        let body = encrypt(&params, &data_key, vec![1; 40]).unwrap();
        let error = decrypt_range(&params, &[6u8; 32], 0, &body[..16]).unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)));
        assert!(decrypt_range(&ContentParams::Cbc { iv: [0; 16] }, &data_key, 0, &[0; 16]).is_err());
        assert!(decrypt_range(&params, &data_key, u64::MAX - 3, &[0; 16]).is_err(), "past any object");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let data_key = [3u8; 32];
        for suite in [ContentSuite::AesGcm, ContentSuite::AesGcmCommitting] {
            let params = fresh_params(suite, &data_key).unwrap();
            let body = encrypt(&params, &data_key, Vec::new()).unwrap();
            assert_eq!(body.len(), TAG_LEN);
            assert!(decrypt(&params, &data_key, body).unwrap().is_empty());
        }
    }
}
