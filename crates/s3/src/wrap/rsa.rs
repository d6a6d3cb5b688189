//! `RSA-OAEP-SHA1` (V3 code `22`): RSA-OAEP (SHA-1, MGF1-SHA-1) of a "pseudo data key".
//!
//! Pseudo data key = key length (1 byte, 32) ‖ data key ‖ UTF-8 `115` (committing suite) or
//! `AES/GCM/NoPadding` (any other): the wrap binds the content cipher, and a read checks it.
//!
//! Read only, behind the legacy wrapping opt-in:
//! - `RSA`: PKCS #1 v1.5 of the bare data key (the V1 "encryption only" clients);
//! - `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`: RSA-OAEP of the bare data key (no length byte, no
//!   binding) by the Java v1 client in its authenticated modes, stored base64 in `x-amz-key-v2`.
//!   The JCE default provider behind that name hashes the (empty) label with SHA-256 but runs
//!   MGF1 with SHA-1; aws-lc-rs offers OAEP only with matching hashes, so this unwrap goes through
//!   `envelope-gcm-stream`, which calls aws-lc's EVP interface for it.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use envelope::DataKey;
use envelope_keyrings::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use super::aes_gcm::{check_ascii_description, not_mine};
use super::{S3Keyring, UnwrapRequest, WrapRequest, WrappedDataKey};
use crate::content::DATA_KEY_LEN;
use crate::error::{Error, Result, SecurityError};
use crate::metadata::{KeyDescription, WrapAlgorithm};

/// Wraps data keys with an RSA public key, unwraps with its private key.
///
/// Keys are envelope's [`RsaPublicKey`] / [`RsaPrivateKey`] (PEM or DER, 2048 to 8192 bits).
/// Either may be absent: a writer needs only the public key, a reader the private key.
///
/// ```
/// use envelope_keyrings::RsaPrivateKey;
/// use envelope_s3::wrap::RsaOaepKeyring;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let private_key = RsaPrivateKey::generate(2048)?;
/// let writer = RsaOaepKeyring::new(Some(private_key.public_key()), None, Default::default())?;
/// let reader = RsaOaepKeyring::new(None, Some(&private_key), Default::default())?;
/// # let _ = (writer, reader);
/// # Ok(())
/// # }
/// ```
pub struct RsaOaepKeyring {
    public_key: Option<OaepPublicEncryptingKey>,
    private_key: Option<OaepPrivateDecryptingKey>,
    /// The same private key for the legacy `RSA` (PKCS #1 v1.5) unwrap.
    legacy_private_key: Option<Pkcs1PrivateDecryptingKey>,
    /// The same private key as PKCS #8 DER (zeroized on drop), parsed by aws-lc for each legacy
    /// `RSA/ECB/OAEPWithSHA-256AndMGF1Padding` unwrap: aws-lc-rs keys do not lend themselves to
    /// other OAEP parameters, and that path is rare enough that re-parsing costs nothing that matters.
    legacy_oaep_sha256_pkcs8: Option<Zeroizing<Vec<u8>>>,
    material_description: BTreeMap<String, String>,
}

impl RsaOaepKeyring {
    /// A keyring over a public key, a private key, or both.
    ///
    /// ```
    /// use envelope_s3::wrap::RsaOaepKeyring;
    ///
    /// assert!(RsaOaepKeyring::new(None, None, Default::default()).is_err(), "needs a key");
    /// ```
    pub fn new(
        public_key: Option<RsaPublicKey>,
        private_key: Option<&RsaPrivateKey>,
        material_description: BTreeMap<String, String>,
    ) -> Result<RsaOaepKeyring> {
        if public_key.is_none() && private_key.is_none() {
            return Err(Error::Usage("an RSA keyring needs a public key, a private key, or both".into()));
        }
        let public_key = match public_key {
            Some(key) => {
                let key = PublicEncryptingKey::from_der(&key.to_der()?).map_err(unusable)?;
                Some(OaepPublicEncryptingKey::new(key).map_err(unusable)?)
            }
            None => None,
        };
        let (private_key, legacy_private_key, legacy_oaep_sha256_pkcs8) = match private_key {
            Some(key) => {
                let der = key.to_pkcs8_der()?;
                let oaep = PrivateDecryptingKey::from_pkcs8(&der).map_err(unusable)?;
                let pkcs1 = PrivateDecryptingKey::from_pkcs8(&der).map_err(unusable)?;
                (
                    Some(OaepPrivateDecryptingKey::new(oaep).map_err(unusable)?),
                    Some(Pkcs1PrivateDecryptingKey::new(pkcs1).map_err(unusable)?),
                    Some(der),
                )
            }
            None => (None, None, None),
        };
        Ok(RsaOaepKeyring {
            public_key,
            private_key,
            legacy_private_key,
            legacy_oaep_sha256_pkcs8,
            material_description,
        })
    }
}

#[async_trait]
impl S3Keyring for RsaOaepKeyring {
    async fn wrap(&self, request: &WrapRequest) -> Result<WrappedDataKey> {
        self.wrap_existing(request, &DataKey::generate(DATA_KEY_LEN)?).await
    }

    async fn wrap_existing(&self, request: &WrapRequest, data_key: &DataKey) -> Result<WrappedDataKey> {
        let Some(public_key) = &self.public_key else {
            return Err(Error::Usage("this RSA keyring has no public key, so it cannot encrypt".into()));
        };
        if !request.encryption_context.is_empty() {
            return Err(Error::Usage(
                "an encryption context needs a KMS keyring; raw keys use a material description".into(),
            ));
        }
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::Usage(format!("a {}-byte data key; the formats use {DATA_KEY_LEN}", data_key.len())));
        }
        check_ascii_description(&self.material_description)?;
        let binding = request.suite.wrap_binding().as_bytes();
        let mut pseudo = Zeroizing::new(Vec::with_capacity(1 + DATA_KEY_LEN + binding.len()));
        pseudo.push(DATA_KEY_LEN as u8);
        pseudo.extend_from_slice(data_key.expose_secret());
        pseudo.extend_from_slice(binding);
        let mut out = vec![0u8; public_key.ciphertext_size()];
        let len = public_key
            .encrypt(&OAEP_SHA1_MGF1SHA1, &pseudo, &mut out, None)
            .map_err(|_| Error::internal("RSA-OAEP refused to wrap the data key"))?
            .len();
        out.truncate(len);
        Ok(WrappedDataKey {
            data_key: data_key.clone(),
            encrypted_data_key: out,
            wrap: WrapAlgorithm::RsaOaepSha1,
            description: KeyDescription::MaterialDescription(self.material_description.clone()),
        })
    }

    async fn unwrap(&self, request: &UnwrapRequest<'_>) -> Result<DataKey> {
        let Some(private_key) = &self.private_key else {
            return Err(Error::Usage("this RSA keyring has no private key, so it cannot decrypt".into()));
        };
        let metadata = request.metadata;
        let wrap = request.wrap_algorithm()?;
        match wrap {
            Some(WrapAlgorithm::RsaOaepSha1 | WrapAlgorithm::RsaPkcs1Legacy | WrapAlgorithm::RsaOaepSha256Legacy) => {}
            other => return Err(not_mine(other)),
        }
        if metadata.description().entries() != &self.material_description {
            return Err(Error::Keyring("the object's material description is not this keyring's".into()));
        }
        match wrap {
            Some(WrapAlgorithm::RsaPkcs1Legacy) => return self.unwrap_pkcs1(metadata.encrypted_data_key()),
            Some(WrapAlgorithm::RsaOaepSha256Legacy) => return self.unwrap_oaep_sha256(metadata.encrypted_data_key()),
            _ => {}
        }
        let mut out = Zeroizing::new(vec![0u8; private_key.min_output_size()]);
        let len = private_key
            .decrypt(&OAEP_SHA1_MGF1SHA1, metadata.encrypted_data_key(), &mut out, None)
            .map_err(|_| Error::Keyring("RSA-OAEP unwrap failed: another key, or a modified wrapped key".into()))?
            .len();
        let pseudo = &out[..len];
        // Exactly: length byte 32, the key, the binding; nothing before or after.
        let expected = metadata.suite().wrap_binding().as_bytes();
        if pseudo.first() != Some(&(DATA_KEY_LEN as u8)) || pseudo.len() < 1 + DATA_KEY_LEN {
            return Err(Error::malformed("encrypted data key", "the unwrapped key is not a 32-byte data key"));
        }
        let bound = &pseudo[1 + DATA_KEY_LEN..];
        if bound != expected {
            return Err(SecurityError::CipherBindingMismatch {
                bound: String::from_utf8_lossy(bound).into_owned(),
                stated: metadata.suite().wrap_binding().to_owned(),
            }
            .into());
        }
        Ok(DataKey::new(pseudo[1..1 + DATA_KEY_LEN].to_vec()))
    }
}

impl RsaOaepKeyring {
    /// `RSA`: PKCS #1 v1.5 of the bare data key (no content-cipher binding in this legacy wrap).
    fn unwrap_pkcs1(&self, stored: &[u8]) -> Result<DataKey> {
        let Some(key) = &self.legacy_private_key else {
            return Err(Error::Usage("this RSA keyring has no private key, so it cannot decrypt".into()));
        };
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let len = key
            .decrypt(stored, &mut out)
            .map_err(|_| {
                Error::Keyring("RSA (PKCS #1 v1.5) unwrap failed: another key, or a modified wrapped key".into())
            })?
            .len();
        if len != DATA_KEY_LEN {
            return Err(Error::Keyring(format!("the unwrapped data key is {len} bytes, not {DATA_KEY_LEN}")));
        }
        Ok(DataKey::new(out[..len].to_vec()))
    }
}

impl RsaOaepKeyring {
    /// `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`: OAEP (SHA-256, MGF1-SHA-1, empty label) of the bare
    /// data key, as the Java v1 client wrapped it (no content-cipher binding in this legacy wrap).
    fn unwrap_oaep_sha256(&self, stored: &[u8]) -> Result<DataKey> {
        let Some(der) = &self.legacy_oaep_sha256_pkcs8 else {
            return Err(Error::Usage("this RSA keyring has no private key, so it cannot decrypt".into()));
        };
        let data_key =
            envelope_gcm_stream::rsa_oaep_sha256_mgf1_sha1_decrypt(der, stored).map_err(|error| match error {
                envelope_gcm_stream::Error::DecryptionFailed => Error::Keyring(
                    "RSA-OAEP (SHA-256, MGF1-SHA-1) unwrap failed: another key, or a modified wrapped key".into(),
                ),
                other => Error::Keyring(format!("RSA-OAEP (SHA-256, MGF1-SHA-1) unwrap: {other}")),
            })?;
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::Keyring(format!(
                "the unwrapped data key is {} bytes, not {DATA_KEY_LEN}",
                data_key.len()
            )));
        }
        Ok(DataKey::new(data_key.to_vec()))
    }
}

fn unusable<E>(_: E) -> Error {
    Error::Usage("aws-lc-rs refused the RSA key for OAEP".into())
}

impl fmt::Debug for RsaOaepKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaOaepKeyring")
            .field("can_encrypt", &self.public_key.is_some())
            .field("can_decrypt", &self.private_key.is_some())
            .field("material_description", &self.material_description)
            .finish()
    }
}
