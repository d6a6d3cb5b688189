//! Content-key derivation and key commitment.
//!
//! spec: framework/transitive-requirements.md, data-format/message-header.md#algorithm-suite-data

use aws_lc_rs::{hkdf, hmac};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::suite::{AlgorithmSuite, KeyDerivation};

/// Length of the v2 commitment key.
pub const COMMITMENT_LEN: usize = 32;

/// The content key and, for committing suites, the commitment value.
pub struct DerivedKeys {
    /// AES-GCM key bytes for the header tag and the body.
    pub encryption_key: Zeroizing<Vec<u8>>,
    /// The commitment value stored in (or compared with) the v2 header.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// How the v1 HKDF info is built: the standard form, or the form .NET ESDK 4.0.0 wrote by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Info {
    /// info = suite id ‖ message id.
    Standard,
    /// info = suite id (the message id was left out by .NET ESDK 4.0.0).
    NetV400,
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    prk.expand(info, Len(out.len())).and_then(|okm| okm.fill(out)).map_err(|_| Error::internal("HKDF expansion failed"))
}

/// Derives the content key (and commitment) for `suite` from the data key and message id.
pub fn derive(suite: AlgorithmSuite, data_key: &[u8], message_id: &[u8], v1_info: V1Info) -> Result<DerivedKeys> {
    let key_len = suite.encryption_key_len();
    let mut encryption_key = Zeroizing::new(vec![0u8; key_len]);
    let suite_id = suite.id().to_be_bytes();
    let v1 = |algorithm: hkdf::Algorithm, out: &mut [u8]| -> Result<()> {
        // spec: v1 HKDF uses no salt (a zero-filled salt of the hash length is equivalent).
        let prk = hkdf::Salt::new(algorithm, &[]).extract(data_key);
        match v1_info {
            V1Info::Standard => expand(&prk, &[&suite_id, message_id], out),
            V1Info::NetV400 => expand(&prk, &[&suite_id], out),
        }
    };
    let commitment = match suite.key_derivation() {
        KeyDerivation::Identity => {
            encryption_key.copy_from_slice(data_key);
            None
        }
        KeyDerivation::HkdfSha256 => {
            v1(hkdf::HKDF_SHA256, &mut encryption_key)?;
            None
        }
        KeyDerivation::HkdfSha384 => {
            v1(hkdf::HKDF_SHA384, &mut encryption_key)?;
            None
        }
        KeyDerivation::HkdfSha512 => {
            // spec: v2 salts with the 32-byte message id and expands twice from one PRK.
            // HKDF-Extract is HMAC(salt, IKM) (RFC 5869 §2.2); computing it once and expanding from
            // the PRK bytes avoids aws-lc-rs re-running the extract step for each expansion.
            let extracted = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, message_id), data_key);
            let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA512, extracted.as_ref());
            expand(&prk, &[&suite_id, b"DERIVEKEY"], &mut encryption_key)?;
            let mut commitment = [0u8; COMMITMENT_LEN];
            expand(&prk, &[b"COMMITKEY"], &mut commitment)?;
            Some(commitment)
        }
    };
    Ok(DerivedKeys { encryption_key, commitment })
}
