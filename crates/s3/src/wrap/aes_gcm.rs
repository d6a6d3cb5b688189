//! `AES/GCM` (V3 code `02`): the data key sealed with AES-GCM under a raw AES key.
//!
//! Stored key = IV (12 random bytes) ‖ ciphertext (32) ‖ tag (16); AAD = UTF-8 `115` for the
//! committing suite, `AES/GCM/NoPadding` otherwise (as the Java client writes and checks).
//!
//! Read only, behind the legacy wrapping opt-in: `AESWrap` (RFC 3394 key wrap) and `AES`
//! (AES-ECB with PKCS #5 padding, the V1 "encryption only" clients). Neither binds the content
//! cipher.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::key_wrap::{self, KeyEncryptionKey, KeyWrap as _};
use envelope::DataKey;
use zeroize::Zeroizing;

use super::{S3Keyring, UnwrapRequest, WrapRequest, WrappedDataKey};
use crate::content::{DATA_KEY_LEN, TAG_LEN};
use crate::error::{Error, Result};
use crate::metadata::{KeyDescription, WrapAlgorithm};

const IV_LEN: usize = 12;

/// Wraps data keys under a local AES key (128, 192 or 256 bits) with a material description.
///
/// The material description is stored with the object (`x-amz-m` / `x-amz-matdesc`); on read
/// it must equal this keyring's, so a keyring only opens objects written for its key.
/// With the legacy wrapping opt-in it also reads `AESWrap` (128- and 256-bit keys) and the V1
/// `AES` (ECB) wraps.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::wrap::AesGcmKeyring;
///
/// # fn main() -> envelope_s3::Result<()> {
/// let description = BTreeMap::from([("key".to_string(), "backup-2026".to_string())]);
/// let keyring = AesGcmKeyring::new(vec![0x42; 32], description)?;
/// assert!(format!("{keyring:?}").contains("REDACTED"));
/// assert!(AesGcmKeyring::new(vec![0; 20], BTreeMap::new()).is_err());
/// # Ok(())
/// # }
/// ```
pub struct AesGcmKeyring {
    key: LessSafeKey,
    /// The key bytes, for the legacy unwraps (aws-lc-rs binds a key to one mode).
    raw: Zeroizing<Vec<u8>>,
    material_description: BTreeMap<String, String>,
}

impl AesGcmKeyring {
    /// A keyring over `key` (16, 24 or 32 bytes; the bytes are zeroized after use).
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    ///
    /// assert!(AesGcmKeyring::new(vec![1; 16], Default::default()).is_ok());
    /// ```
    pub fn new(key: Vec<u8>, material_description: BTreeMap<String, String>) -> Result<AesGcmKeyring> {
        let key = Zeroizing::new(key);
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            other => return Err(Error::Usage(format!("an AES wrapping key is 16, 24 or 32 bytes, not {other}"))),
        };
        let unbound = UnboundKey::new(algorithm, &key).map_err(|_| Error::internal("aws-lc-rs refused an AES key"))?;
        Ok(AesGcmKeyring { key: LessSafeKey::new(unbound), raw: key, material_description })
    }
}

#[async_trait]
impl S3Keyring for AesGcmKeyring {
    async fn wrap(&self, request: &WrapRequest) -> Result<WrappedDataKey> {
        self.wrap_existing(request, &DataKey::generate(DATA_KEY_LEN)?).await
    }

    async fn wrap_existing(&self, request: &WrapRequest, data_key: &DataKey) -> Result<WrappedDataKey> {
        if !request.encryption_context.is_empty() {
            return Err(Error::Usage(
                "an encryption context needs a KMS keyring; raw keys use a material description".into(),
            ));
        }
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::Usage(format!("a {}-byte data key; the formats use {DATA_KEY_LEN}", data_key.len())));
        }
        check_ascii_description(&self.material_description)?;
        let mut iv = [0u8; IV_LEN];
        aws_lc_rs::rand::fill(&mut iv).map_err(|_| Error::internal("the system random number generator failed"))?;
        let mut sealed = Vec::with_capacity(IV_LEN + DATA_KEY_LEN + TAG_LEN);
        sealed.extend_from_slice(&iv);
        sealed.extend_from_slice(data_key.expose_secret());
        let aad = request.suite.wrap_binding().as_bytes();
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut sealed[IV_LEN..])
            .map_err(|_| Error::internal("AES-GCM refused to wrap the data key"))?;
        sealed.extend_from_slice(tag.as_ref());
        Ok(WrappedDataKey {
            data_key: data_key.clone(),
            encrypted_data_key: sealed,
            wrap: WrapAlgorithm::AesGcm,
            description: KeyDescription::MaterialDescription(self.material_description.clone()),
        })
    }

    async fn unwrap(&self, request: &UnwrapRequest<'_>) -> Result<DataKey> {
        let metadata = request.metadata;
        let wrap = request.wrap_algorithm()?;
        if !matches!(wrap, Some(WrapAlgorithm::AesGcm | WrapAlgorithm::AesWrapLegacy | WrapAlgorithm::AesEcbLegacy)) {
            return Err(not_mine(wrap));
        }
        if metadata.description().entries() != &self.material_description {
            return Err(Error::Keyring("the object's material description is not this keyring's".into()));
        }
        match wrap {
            Some(WrapAlgorithm::AesWrapLegacy) => return self.unwrap_key_wrap(metadata.encrypted_data_key()),
            Some(WrapAlgorithm::AesEcbLegacy) => return self.unwrap_ecb(metadata.encrypted_data_key()),
            _ => {}
        }
        let stored = metadata.encrypted_data_key();
        if stored.len() != IV_LEN + DATA_KEY_LEN + TAG_LEN {
            return Err(Error::malformed(
                "encrypted data key",
                format!("{} bytes; AES/GCM wraps are 60", stored.len()),
            ));
        }
        let (iv, sealed) = stored.split_at(IV_LEN);
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| Error::internal("IV split"))?;
        let mut opened = Zeroizing::new(sealed.to_vec());
        let aad = metadata.suite().wrap_binding().as_bytes();
        let len = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), opened.as_mut_slice())
            .map(|plaintext| plaintext.len())
            .map_err(|_| {
                Error::Keyring("AES/GCM unwrap failed: another key, or a modified wrapped key or content cipher".into())
            })?;
        Ok(DataKey::new(opened[..len].to_vec()))
    }
}

impl AesGcmKeyring {
    /// `AESWrap`: RFC 3394 key wrap (aws-lc-rs has it for 128- and 256-bit keys only).
    fn unwrap_key_wrap(&self, stored: &[u8]) -> Result<DataKey> {
        let cipher = match self.raw.len() {
            16 => &key_wrap::AES_128,
            32 => &key_wrap::AES_256,
            bits => {
                return Err(Error::Unsupported(format!(
                    "AESWrap under a {}-bit key (aws-lc-rs wraps with 128- and 256-bit keys only)",
                    bits * 8
                )));
            }
        };
        if stored.len() != DATA_KEY_LEN + 8 {
            return Err(Error::malformed(
                "encrypted data key",
                format!("{} bytes; AESWrap of a data key is 40", stored.len()),
            ));
        }
        let kek =
            KeyEncryptionKey::new(cipher, &self.raw).map_err(|_| Error::internal("aws-lc-rs refused an AES key"))?;
        let mut out = Zeroizing::new(vec![0u8; stored.len()]);
        let len = kek
            .unwrap(stored, &mut out)
            .map_err(|_| Error::Keyring("AESWrap unwrap failed: another key, or a modified wrapped key".into()))?
            .len();
        Ok(DataKey::new(out[..len].to_vec()))
    }

    /// `AES`: AES-ECB with PKCS #5 padding (V1 "encryption only" objects).
    fn unwrap_ecb(&self, stored: &[u8]) -> Result<DataKey> {
        let algorithm = match self.raw.len() {
            16 => &AES_128,
            24 => &AES_192,
            _ => &AES_256,
        };
        let unbound =
            UnboundCipherKey::new(algorithm, &self.raw).map_err(|_| Error::internal("aws-lc-rs refused an AES key"))?;
        let key =
            PaddedBlockDecryptingKey::ecb_pkcs7(unbound).map_err(|_| Error::internal("AES-ECB key setup failed"))?;
        let mut buffer = Zeroizing::new(stored.to_vec());
        let len = key
            .decrypt(buffer.as_mut_slice(), DecryptionContext::None)
            .map_err(|_| Error::Keyring("AES (ECB) unwrap failed: another key, or a modified wrapped key".into()))?
            .len();
        if len != DATA_KEY_LEN {
            return Err(Error::Keyring(format!("the unwrapped data key is {len} bytes, not {DATA_KEY_LEN}")));
        }
        Ok(DataKey::new(buffer[..len].to_vec()))
    }
}

/// S3 sends metadata in HTTP headers: a material description to be written must be ASCII, as
/// the official clients require (the Java client's put fails, the Python client refuses). Reads
/// accept any (S3's double encoding is decoded), so a keyring may be configured with one.
pub(super) fn check_ascii_description(description: &BTreeMap<String, String>) -> Result<()> {
    if description.iter().any(|(k, v)| !k.is_ascii() || !v.is_ascii()) {
        return Err(Error::Usage(
            "material description keys and values must be US-ASCII (S3 object metadata travels in HTTP \
             headers; the official clients refuse other characters too)"
                .into(),
        ));
    }
    Ok(())
}

pub(super) fn not_mine(wrap: Option<WrapAlgorithm>) -> Error {
    match wrap {
        Some(wrap) => Error::Keyring(format!("the data key is wrapped with {wrap}, which this keyring does not use")),
        None => Error::Keyring("the object (V1) does not record its wrapping algorithm".into()),
    }
}

impl fmt::Debug for AesGcmKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcmKeyring")
            .field("key", &"[REDACTED]")
            .field("material_description", &self.material_description)
            .finish()
    }
}
