//! The raw RSA keyring: wraps data keys with a local RSA public key, unwraps with the private key.
//!
//! spec: framework/raw-rsa-keyring.md

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
};
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Error, Keyring, Result};
use zeroize::Zeroizing;

use crate::{pem, validate_names};

/// The RSA padding a raw RSA keyring uses. OAEP variants use MGF1 with the same hash as OAEP.
///
/// spec: raw-rsa-keyring.md#supported-padding-schemes — these five and no others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RsaPadding {
    /// PKCS #1 v1.5 (legacy; prefer OAEP).
    Pkcs1,
    /// OAEP with SHA-1 and MGF1-SHA-1.
    OaepSha1,
    /// OAEP with SHA-256 and MGF1-SHA-256.
    OaepSha256,
    /// OAEP with SHA-384 and MGF1-SHA-384.
    OaepSha384,
    /// OAEP with SHA-512 and MGF1-SHA-512.
    OaepSha512,
}

impl RsaPadding {
    /// Every supported padding.
    pub const ALL: [RsaPadding; 5] =
        [RsaPadding::Pkcs1, RsaPadding::OaepSha1, RsaPadding::OaepSha256, RsaPadding::OaepSha384, RsaPadding::OaepSha512];

    /// The OAEP parameters, or `None` for PKCS #1 v1.5.
    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        // spec: raw-rsa-keyring.md#padding-scheme — MGF1 MUST use the same hash as OAEP.
        match self {
            RsaPadding::Pkcs1 => None,
            RsaPadding::OaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            RsaPadding::OaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            RsaPadding::OaepSha384 => Some(&OAEP_SHA384_MGF1SHA384),
            RsaPadding::OaepSha512 => Some(&OAEP_SHA512_MGF1SHA512),
        }
    }
}

/// An RSA public key (2048 to 8192 bits).
#[derive(Clone)]
pub struct RsaPublicKey(PublicEncryptingKey);

impl RsaPublicKey {
    /// Loads a DER `SubjectPublicKeyInfo` or PKCS #1 `RSAPublicKey`.
    pub fn from_der(der: &[u8]) -> Result<RsaPublicKey> {
        let spki = PublicEncryptingKey::from_der(der);
        let key = spki
            .or_else(|first| PublicEncryptingKey::from_der(&pem::pkcs1_public_to_spki(der)).map_err(|_| first))
            .map_err(|error| config(format!("not an RSA public key (SPKI or PKCS #1 DER), or one this SDK refuses: {error}")))?;
        Ok(RsaPublicKey(key))
    }

    /// Loads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS #1) block.
    pub fn from_pem(pem_text: &str) -> Result<RsaPublicKey> {
        let blocks = pem::parse(pem_text).map_err(config)?;
        let block = blocks
            .iter()
            .find(|block| matches!(block.label.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY"))
            .ok_or_else(|| config(format!("no PUBLIC KEY block; found {}", labels(&blocks))))?;
        RsaPublicKey::from_der(&block.der)
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let der = self.0.as_der().map_err(|_| config("could not encode the RSA public key".to_owned()))?;
        Ok(der.as_ref().to_vec())
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.0.key_size_bits()
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey").field("bits", &self.bits()).finish()
    }
}

/// An RSA private key (2048 to 8192 bits). Debug output is redacted; aws-lc frees (and clears)
/// the key on drop.
#[derive(Clone)]
pub struct RsaPrivateKey(PrivateDecryptingKey);

impl RsaPrivateKey {
    /// Loads a DER PKCS #8 `PrivateKeyInfo` or PKCS #1 `RSAPrivateKey`.
    pub fn from_der(der: &[u8]) -> Result<RsaPrivateKey> {
        let pkcs8 = PrivateDecryptingKey::from_pkcs8(der);
        let key = pkcs8
            .or_else(|first| PrivateDecryptingKey::from_pkcs8(&pem::pkcs1_private_to_pkcs8(der)).map_err(|_| first))
            .map_err(|error| config(format!("not an RSA private key (PKCS #8 or PKCS #1 DER), or one this SDK refuses: {error}")))?;
        Ok(RsaPrivateKey(key))
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS #8) or `RSA PRIVATE KEY` (PKCS #1) block. Encrypted keys are
    /// not supported.
    pub fn from_pem(pem_text: &str) -> Result<RsaPrivateKey> {
        let blocks = pem::parse(pem_text).map_err(config)?;
        let block = blocks
            .iter()
            .find(|block| matches!(block.label.as_str(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or_else(|| config(format!("no unencrypted PRIVATE KEY block; found {}", labels(&blocks))))?;
        RsaPrivateKey::from_der(&block.der)
    }

    /// A fresh key of 2048, 3072, 4096 or 8192 bits.
    pub fn generate(bits: usize) -> Result<RsaPrivateKey> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(config(format!("RSA keys are generated with 2048, 3072, 4096 or 8192 bits, not {other}"))),
        };
        let key = PrivateDecryptingKey::generate(size).map_err(|_| config("RSA key generation failed".to_owned()))?;
        Ok(RsaPrivateKey(key))
    }

    /// The matching public key. (The keyring itself never derives it: an encrypting keyring is
    /// given its public key explicitly.)
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.public_key())
    }

    /// The DER PKCS #8 `PrivateKeyInfo`, zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let der = self.0.as_der().map_err(|_| config("could not encode the RSA private key".to_owned()))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.0.key_size_bits()
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivateKey").field("bits", &self.bits()).finish_non_exhaustive()
    }
}

/// Wraps data keys with RSA under a local key pair.
///
/// Give it a public key to encrypt, a private key to decrypt, or both. The encryption context is
/// not bound to the EDK (RSA encrypts the bare data key); the message header still authenticates
/// it. EDKs carry the key namespace as provider id and the key name as provider info, so messages
/// interoperate with the other AWS Encryption SDKs' raw RSA keyrings and JCE/raw master keys.
pub struct RawRsaKeyring {
    key_namespace: String,
    key_name: String,
    padding: RsaPadding,
    /// Built once with the padding bound in: no per-message key setup.
    encryptor: Option<Encryptor>,
    decryptor: Option<Decryptor>,
    label: String,
}

enum Encryptor {
    Pkcs1(Pkcs1PublicEncryptingKey),
    Oaep(OaepPublicEncryptingKey, &'static OaepAlgorithm),
}

enum Decryptor {
    Pkcs1(Pkcs1PrivateDecryptingKey),
    Oaep(OaepPrivateDecryptingKey, &'static OaepAlgorithm),
}

impl RawRsaKeyring {
    /// A keyring with either key or both. Fails when both are missing, or when the namespace is
    /// reserved for the AWS KMS keyrings (`aws-kms…`).
    pub fn new(
        key_namespace: impl Into<String>,
        key_name: impl Into<String>,
        padding: RsaPadding,
        public_key: Option<RsaPublicKey>,
        private_key: Option<RsaPrivateKey>,
    ) -> Result<RawRsaKeyring> {
        let key_namespace = key_namespace.into();
        let key_name = key_name.into();
        validate_names("raw RSA", &key_namespace, &key_name, 0)?;
        // spec: raw-rsa-keyring.md#initialization — a public key and/or a private key.
        if public_key.is_none() && private_key.is_none() {
            return Err(config("a raw RSA keyring needs a public key, a private key, or both".to_owned()));
        }
        let unusable = |_| config("aws-lc-rs refused the RSA key for this padding".to_owned());
        let encryptor = match (public_key, padding.oaep()) {
            (None, _) => None,
            (Some(key), None) => Some(Encryptor::Pkcs1(Pkcs1PublicEncryptingKey::new(key.0).map_err(unusable)?)),
            (Some(key), Some(oaep)) => Some(Encryptor::Oaep(OaepPublicEncryptingKey::new(key.0).map_err(unusable)?, oaep)),
        };
        let decryptor = match (private_key, padding.oaep()) {
            (None, _) => None,
            (Some(key), None) => Some(Decryptor::Pkcs1(Pkcs1PrivateDecryptingKey::new(key.0).map_err(unusable)?)),
            (Some(key), Some(oaep)) => {
                Some(Decryptor::Oaep(OaepPrivateDecryptingKey::new(key.0).map_err(unusable)?, oaep))
            }
        };
        let label = format!("raw RSA keyring {key_namespace}/{key_name}");
        Ok(RawRsaKeyring { key_namespace, key_name, padding, encryptor, decryptor, label })
    }

    /// A keyring from PEM text: `PUBLIC KEY`/`RSA PUBLIC KEY` and `PRIVATE KEY`/`RSA PRIVATE KEY`.
    pub fn from_pem(
        key_namespace: impl Into<String>,
        key_name: impl Into<String>,
        padding: RsaPadding,
        public_pem: Option<&str>,
        private_pem: Option<&str>,
    ) -> Result<RawRsaKeyring> {
        let public_key = public_pem.map(RsaPublicKey::from_pem).transpose()?;
        let private_key = private_pem.map(RsaPrivateKey::from_pem).transpose()?;
        RawRsaKeyring::new(key_namespace, key_name, padding, public_key, private_key)
    }

    /// The key namespace: the provider id of the EDKs this keyring writes.
    pub fn key_namespace(&self) -> &str {
        &self.key_namespace
    }

    /// The key name: the provider info of the EDKs this keyring writes.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The padding scheme.
    pub fn padding(&self) -> RsaPadding {
        self.padding
    }

    /// Whether this keyring can encrypt (it holds a public key).
    pub fn can_encrypt(&self) -> bool {
        self.encryptor.is_some()
    }

    /// Whether this keyring can decrypt (it holds a private key).
    pub fn can_decrypt(&self) -> bool {
        self.decryptor.is_some()
    }

    /// Whether `edk` belongs to this keyring's key.
    ///
    /// spec: raw-rsa-keyring.md#ondecrypt — decrypt only if provider info equals the key name and
    /// provider id equals the key namespace.
    fn match_edk(&self, edk: &EncryptedDataKey) -> Result<(), String> {
        if edk.provider_id != self.key_namespace {
            return Err(format!("provider id is not {:?}", self.key_namespace));
        }
        if edk.provider_info != self.key_name.as_bytes() {
            return Err(format!("key name is not {:?}", self.key_name));
        }
        Ok(())
    }
}

impl Encryptor {
    fn encrypt(&self, plaintext: &[u8]) -> std::result::Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        match self {
            Encryptor::Pkcs1(key) => {
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key.encrypt(plaintext, &mut out)?.len();
                out.truncate(len);
                Ok(out)
            }
            Encryptor::Oaep(key, oaep) => {
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key.encrypt(oaep, plaintext, &mut out, None)?.len();
                out.truncate(len);
                Ok(out)
            }
        }
    }
}

impl Decryptor {
    fn decrypt(&self, ciphertext: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, aws_lc_rs::error::Unspecified> {
        let (mut out, len) = match self {
            Decryptor::Pkcs1(key) => {
                let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
                let len = key.decrypt(ciphertext, &mut out)?.len();
                (out, len)
            }
            Decryptor::Oaep(key, oaep) => {
                let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
                let len = key.decrypt(oaep, ciphertext, &mut out, None)?.len();
                (out, len)
            }
        };
        // Truncating keeps the allocation; Zeroizing clears its whole capacity on drop.
        out.truncate(len);
        Ok(out)
    }
}

#[async_trait]
impl Keyring for RawRsaKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: raw-rsa-keyring.md#onencrypt — MUST fail without a public key, and MUST NOT derive
        // one from the private key.
        let Some(encryptor) = &self.encryptor else {
            return Err(KeyringError::Configuration(format!(
                "{} has no public key, so it cannot encrypt (it only decrypts)",
                self.label
            ))
            .into());
        };
        if materials.data_key().is_none() {
            // spec: raw-rsa-keyring.md#onencrypt — generate a random data key when there is none.
            let data_key = DataKey::generate(materials.suite().data_key_len())?;
            materials.set_data_key(data_key)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };
        // spec: raw-rsa-keyring.md#onencrypt — the plaintext data key is the RSA input; the context
        // is not part of it.
        let ciphertext = encryptor
            .encrypt(data_key.expose_secret())
            .map_err(|_| KeyringError::Wrap(format!("{}: RSA encryption of the data key failed", self.label)))?;
        // spec: raw-rsa-keyring.md#onencrypt — provider id = namespace, provider info = key name.
        materials.push_encrypted_data_key(EncryptedDataKey {
            provider_id: self.key_namespace.clone(),
            provider_info: self.key_name.as_bytes().to_vec(),
            ciphertext,
        });
        Ok(materials)
    }

    async fn on_decrypt(&self, mut materials: DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<DecryptionMaterials> {
        // spec: raw-rsa-keyring.md#ondecrypt — MUST fail without a private key.
        let Some(decryptor) = &self.decryptor else {
            return Err(KeyringError::Configuration(format!(
                "{} has no private key, so it cannot decrypt (it only encrypts)",
                self.label
            ))
            .into());
        };
        // spec: raw-rsa-keyring.md#ondecrypt — MUST fail if the materials already hold a data key.
        ensure_no_data_key(&materials)?;
        let data_key_len = materials.suite().data_key_len();
        let mut failures = Vec::new();
        // spec: raw-rsa-keyring.md#ondecrypt — try the EDKs in list order until one decrypts.
        for edk in edks {
            if let Err(why) = self.match_edk(edk) {
                failures.push(EdkFailure::not_mine(edk, self.label.as_str(), why));
                continue;
            }
            let mut plaintext = match decryptor.decrypt(&edk.ciphertext) {
                Ok(plaintext) => plaintext,
                Err(_) => {
                    failures.push(EdkFailure::failed(
                        edk,
                        self.label.as_str(),
                        "RSA decryption failed (another key with this name, another padding, or a modified EDK)",
                    ));
                    continue;
                }
            };
            if plaintext.len() != data_key_len {
                failures.push(EdkFailure::failed(
                    edk,
                    self.label.as_str(),
                    format!("decrypted {} bytes; suite {} needs a {data_key_len}-byte data key", plaintext.len(), materials.suite()),
                ));
                continue;
            }
            // spec: raw-rsa-keyring.md#ondecrypt — the first success sets the data key and returns.
            materials.set_data_key(DataKey::new(std::mem::take(&mut *plaintext)))?;
            return Ok(materials);
        }
        // spec: raw-rsa-keyring.md#ondecrypt — if no decryption succeeds, the keyring MUST fail.
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }
}

impl fmt::Debug for RawRsaKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRsaKeyring")
            .field("key_namespace", &self.key_namespace)
            .field("key_name", &self.key_name)
            .field("padding", &self.padding)
            .field("can_encrypt", &self.can_encrypt())
            .field("can_decrypt", &self.can_decrypt())
            .finish_non_exhaustive()
    }
}

fn config(detail: String) -> Error {
    KeyringError::Configuration(detail).into()
}

fn labels(blocks: &[pem::PemBlock]) -> String {
    blocks.iter().map(|block| block.label.as_str()).collect::<Vec<_>>().join(", ")
}
