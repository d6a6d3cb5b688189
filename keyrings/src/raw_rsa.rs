//! The raw RSA keyring: wraps data keys with a local RSA public key, unwraps with the private key.
//!
//! spec: framework/raw-rsa-keyring.md

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512, OaepAlgorithm,
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Error, Keyring, Result};
use zeroize::Zeroizing;

use crate::{pem, validate_names};

/// The RSA padding a raw RSA keyring uses. OAEP variants use MGF1 with the same hash as OAEP.
///
/// spec: raw-rsa-keyring.md#supported-padding-schemes — these five and no others.
///
/// ```
/// use envelope_keyrings::RsaPadding;
///
/// // Every SDK reading the message must be configured with the same padding.
/// let padding = RsaPadding::OaepSha256;
/// assert!(RsaPadding::ALL.contains(&padding));
/// assert_eq!(RsaPadding::ALL.len(), 5);
/// ```
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
    ///
    /// ```
    /// use envelope_keyrings::RsaPadding;
    ///
    /// // E.g. to parse a padding name from configuration.
    /// let configured = "OaepSha256";
    /// let padding = RsaPadding::ALL.into_iter().find(|padding| format!("{padding:?}") == configured);
    /// assert_eq!(padding, Some(RsaPadding::OaepSha256));
    /// ```
    pub const ALL: [RsaPadding; 5] = [
        RsaPadding::Pkcs1,
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha256,
        RsaPadding::OaepSha384,
        RsaPadding::OaepSha512,
    ];

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
///
/// ```
/// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey, RsaPublicKey};
///
/// # fn main() -> envelope::Result<()> {
/// # let der = RsaPrivateKey::generate(2048)?.public_key().to_der()?;
/// // e.g. `let der = std::fs::read("recipient.der")?;`
/// let public_key = RsaPublicKey::from_der(&der)?;
/// assert_eq!(public_key.bits(), 2048);
/// let writer = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, Some(public_key), None)?;
/// assert!(writer.can_encrypt() && !writer.can_decrypt());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RsaPublicKey(PublicEncryptingKey);

impl RsaPublicKey {
    /// Loads a DER `SubjectPublicKeyInfo` or PKCS #1 `RSAPublicKey`.
    ///
    /// ```
    /// use envelope_keyrings::{RsaPrivateKey, RsaPublicKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let spki_der = RsaPrivateKey::generate(2048)?.public_key().to_der()?;
    /// let key = RsaPublicKey::from_der(&spki_der)?;
    /// assert_eq!(key.to_der()?, spki_der);
    ///
    /// assert!(RsaPublicKey::from_der(b"not DER").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_der(der: &[u8]) -> Result<RsaPublicKey> {
        let spki = PublicEncryptingKey::from_der(der);
        let key = spki
            .or_else(|first| PublicEncryptingKey::from_der(&pem::pkcs1_public_to_spki(der)).map_err(|_| first))
            .map_err(|error| {
                config(format!("not an RSA public key (SPKI or PKCS #1 DER), or one this SDK refuses: {error}"))
            })?;
        Ok(RsaPublicKey(key))
    }

    /// Loads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS #1) block.
    ///
    /// ```
    /// use envelope_keyrings::{RsaPrivateKey, RsaPublicKey};
    ///
    /// # fn pem(label: &str, der: &[u8]) -> String {
    /// #     use base64::Engine;
    /// #     let body = base64::engine::general_purpose::STANDARD.encode(der);
    /// #     let lines: Vec<String> =
    /// #         body.as_bytes().chunks(64).map(|line| String::from_utf8_lossy(line).into()).collect();
    /// #     format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    /// # }
    /// # fn main() -> envelope::Result<()> {
    /// # let pem_text = pem("PUBLIC KEY", &RsaPrivateKey::generate(2048)?.public_key().to_der()?);
    /// // e.g. `let pem_text = std::fs::read_to_string("recipient.pem")?;`
    /// assert!(pem_text.starts_with("-----BEGIN PUBLIC KEY-----"));
    /// let key = RsaPublicKey::from_pem(&pem_text)?;
    /// assert_eq!(key.bits(), 2048);
    ///
    /// // A private key's PEM is not taken for a public key.
    /// assert!(RsaPublicKey::from_pem(&pem_text.replace("PUBLIC KEY", "PRIVATE KEY")).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pem(pem_text: &str) -> Result<RsaPublicKey> {
        let blocks = pem::parse(pem_text).map_err(config)?;
        let block = blocks
            .iter()
            .find(|block| matches!(block.label.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY"))
            .ok_or_else(|| config(format!("no PUBLIC KEY block; found {}", labels(&blocks))))?;
        RsaPublicKey::from_der(&block.der)
    }

    /// The DER `SubjectPublicKeyInfo`.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let private = RsaPrivateKey::generate(2048)?;
    /// // Publish the SubjectPublicKeyInfo; the private key stays with the reader.
    /// let spki_der: Vec<u8> = private.public_key().to_der()?;
    /// assert_eq!(spki_der[0], 0x30, "a DER SEQUENCE");
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let der = self.0.as_der().map_err(|_| config("could not encode the RSA public key".to_owned()))?;
        Ok(der.as_ref().to_vec())
    }

    /// Modulus length in bits.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let public = RsaPrivateKey::generate(2048)?.public_key();
    /// assert_eq!(public.bits(), 2048);
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
///
/// # fn main() -> envelope::Result<()> {
/// let private = RsaPrivateKey::generate(2048)?;
/// // Debug never shows key material.
/// assert_eq!(format!("{private:?}"), "RsaPrivateKey { bits: 2048, .. }");
///
/// let reader = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, None, Some(private))?;
/// assert!(reader.can_decrypt());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RsaPrivateKey(PrivateDecryptingKey);

impl RsaPrivateKey {
    /// Loads a DER PKCS #8 `PrivateKeyInfo` or PKCS #1 `RSAPrivateKey`.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let pkcs8_der = RsaPrivateKey::generate(2048)?.to_pkcs8_der()?;
    /// // e.g. from a secrets store, as PKCS #8 or PKCS #1 DER.
    /// let key = RsaPrivateKey::from_der(&pkcs8_der)?;
    /// assert_eq!(key.bits(), 2048);
    /// assert!(RsaPrivateKey::from_der(&[0x30, 0x00]).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_der(der: &[u8]) -> Result<RsaPrivateKey> {
        let pkcs8 = PrivateDecryptingKey::from_pkcs8(der);
        let key = pkcs8
            .or_else(|first| PrivateDecryptingKey::from_pkcs8(&pem::pkcs1_private_to_pkcs8(der)).map_err(|_| first))
            .map_err(|error| {
                config(format!("not an RSA private key (PKCS #8 or PKCS #1 DER), or one this SDK refuses: {error}"))
            })?;
        Ok(RsaPrivateKey(key))
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS #8) or `RSA PRIVATE KEY` (PKCS #1) block. Encrypted keys are
    /// not supported.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn pem(label: &str, der: &[u8]) -> String {
    /// #     use base64::Engine;
    /// #     let body = base64::engine::general_purpose::STANDARD.encode(der);
    /// #     let lines: Vec<String> =
    /// #         body.as_bytes().chunks(64).map(|line| String::from_utf8_lossy(line).into()).collect();
    /// #     format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    /// # }
    /// # fn main() -> envelope::Result<()> {
    /// # let pem_text = pem("PRIVATE KEY", &RsaPrivateKey::generate(2048)?.to_pkcs8_der()?);
    /// // e.g. `let pem_text = std::fs::read_to_string("recipient-key.pem")?;`
    /// let key = RsaPrivateKey::from_pem(&pem_text)?;
    /// assert_eq!(key.bits(), 2048);
    ///
    /// let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
    /// assert!(RsaPrivateKey::from_pem(encrypted).is_err(), "encrypted keys are not supported");
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pem(pem_text: &str) -> Result<RsaPrivateKey> {
        let blocks = pem::parse(pem_text).map_err(config)?;
        let block = blocks
            .iter()
            .find(|block| matches!(block.label.as_str(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or_else(|| config(format!("no unencrypted PRIVATE KEY block; found {}", labels(&blocks))))?;
        RsaPrivateKey::from_der(&block.der)
    }

    /// A fresh key of 2048, 3072, 4096 or 8192 bits.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = RsaPrivateKey::generate(2048)?;
    /// assert_eq!(key.bits(), 2048);
    /// assert!(RsaPrivateKey::generate(1024).is_err(), "2048, 3072, 4096 or 8192 bits only");
    /// # Ok(())
    /// # }
    /// ```
    pub fn generate(bits: usize) -> Result<RsaPrivateKey> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => {
                return Err(config(format!("RSA keys are generated with 2048, 3072, 4096 or 8192 bits, not {other}")));
            }
        };
        let key = PrivateDecryptingKey::generate(size).map_err(|_| config("RSA key generation failed".to_owned()))?;
        Ok(RsaPrivateKey(key))
    }

    /// The matching public key. (The keyring itself never derives it: an encrypting keyring is
    /// given its public key explicitly.)
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let private = RsaPrivateKey::generate(2048)?;
    /// let public = private.public_key();
    ///
    /// let writer = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, Some(public), None)?;
    /// let message = BlockingClient::new(Client::with_keyring(writer)).encrypt(b"secret", &EncryptOptions::new())?;
    ///
    /// let reader = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, None, Some(private))?;
    /// let decrypted = BlockingClient::new(Client::with_keyring(reader)).decrypt(&message, &DecryptOptions::new())?;
    /// assert_eq!(decrypted.plaintext, b"secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.public_key())
    }

    /// The DER PKCS #8 `PrivateKeyInfo`, zeroized on drop.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = RsaPrivateKey::generate(2048)?;
    /// // Zeroized when dropped: store it (e.g. in a secrets manager), never in plaintext on disk.
    /// let pkcs8 = key.to_pkcs8_der()?;
    /// assert_eq!(RsaPrivateKey::from_der(&pkcs8)?.bits(), 2048);
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let der = self.0.as_der().map_err(|_| config("could not encode the RSA private key".to_owned()))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// Modulus length in bits.
    ///
    /// ```
    /// use envelope_keyrings::RsaPrivateKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = RsaPrivateKey::generate(2048)?;
    /// assert_eq!(key.bits(), 2048);
    /// assert_eq!(key.public_key().bits(), key.bits());
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use std::sync::Arc;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, Keyring, MultiKeyring};
/// use envelope_keyrings::{RawAesKeyring, RawRsaKeyring, RsaPadding, RsaPrivateKey};
///
/// # fn main() -> envelope::Result<()> {
/// // The service encrypts under its AES key and, for escrow, under an RSA public key whose private
/// // key is kept offline.
/// let escrow_private = RsaPrivateKey::generate(2048)?;
/// let escrow_public = Some(escrow_private.public_key());
/// let escrow = RawRsaKeyring::new("my-app", "escrow-2026", RsaPadding::OaepSha256, escrow_public, None)?;
/// let service: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "service", vec![0x42; 32])?);
/// let writer = BlockingClient::new(Client::with_keyring(MultiKeyring::new(Some(service), vec![Arc::new(escrow)])?));
/// let message = writer.encrypt(b"recoverable", &EncryptOptions::new())?;
///
/// let recovery = RawRsaKeyring::new("my-app", "escrow-2026", RsaPadding::OaepSha256, None, Some(escrow_private))?;
/// let reader = BlockingClient::new(Client::with_keyring(recovery));
/// assert_eq!(reader.decrypt(&message, &DecryptOptions::new())?.plaintext, b"recoverable");
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let private = RsaPrivateKey::generate(2048)?;
    /// let public = Some(private.public_key());
    /// let both = RawRsaKeyring::new("my-app", "key-1", RsaPadding::OaepSha512, public, Some(private))?;
    /// assert!(both.can_encrypt() && both.can_decrypt());
    ///
    /// assert!(RawRsaKeyring::new("my-app", "key-1", RsaPadding::OaepSha512, None, None).is_err(), "no key at all");
    /// # Ok(())
    /// # }
    /// ```
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
            (Some(key), Some(oaep)) => {
                Some(Encryptor::Oaep(OaepPublicEncryptingKey::new(key.0).map_err(unusable)?, oaep))
            }
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
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn pem(label: &str, der: &[u8]) -> String {
    /// #     use base64::Engine;
    /// #     let body = base64::engine::general_purpose::STANDARD.encode(der);
    /// #     let lines: Vec<String> =
    /// #         body.as_bytes().chunks(64).map(|line| String::from_utf8_lossy(line).into()).collect();
    /// #     format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    /// # }
    /// # fn main() -> envelope::Result<()> {
    /// # let public_pem = pem("PUBLIC KEY", &RsaPrivateKey::generate(2048)?.public_key().to_der()?);
    /// // e.g. `let public_pem = std::fs::read_to_string("recipient.pem")?;`
    /// let writer = RawRsaKeyring::from_pem("my-app", "recipient-1", RsaPadding::OaepSha256, Some(&public_pem), None)?;
    /// assert!(writer.can_encrypt() && !writer.can_decrypt());
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let public = RsaPrivateKey::generate(2048)?.public_key();
    /// let keyring = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, Some(public), None)?;
    /// assert_eq!(keyring.key_namespace(), "my-app");
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_namespace(&self) -> &str {
        &self.key_namespace
    }

    /// The key name: the provider info of the EDKs this keyring writes.
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let public = RsaPrivateKey::generate(2048)?.public_key();
    /// let keyring = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, Some(public), None)?;
    /// // A reader's keyring must use the same namespace and name to recognise the EDK.
    /// assert_eq!(keyring.key_name(), "recipient-1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The padding scheme.
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let public = RsaPrivateKey::generate(2048)?.public_key();
    /// let keyring = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::Pkcs1, Some(public), None)?;
    /// assert_eq!(keyring.padding(), RsaPadding::Pkcs1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn padding(&self) -> RsaPadding {
        self.padding
    }

    /// Whether this keyring can encrypt (it holds a public key).
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let private = RsaPrivateKey::generate(2048)?;
    /// let reader = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, None, Some(private))?;
    /// // A reader given only the private key does not derive the public key: it cannot encrypt.
    /// assert!(!reader.can_encrypt());
    /// # Ok(())
    /// # }
    /// ```
    pub fn can_encrypt(&self) -> bool {
        self.encryptor.is_some()
    }

    /// Whether this keyring can decrypt (it holds a private key).
    ///
    /// ```
    /// use envelope_keyrings::{RawRsaKeyring, RsaPadding, RsaPrivateKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let public = RsaPrivateKey::generate(2048)?.public_key();
    /// let writer = RawRsaKeyring::new("my-app", "recipient-1", RsaPadding::OaepSha256, Some(public), None)?;
    /// assert!(!writer.can_decrypt());
    /// # Ok(())
    /// # }
    /// ```
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
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw RSA keyring")?;
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

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw RSA keyring")?;
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
                    format!(
                        "decrypted {} bytes; suite {} needs a {data_key_len}-byte data key",
                        plaintext.len(),
                        materials.suite()
                    ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, OnceLock};

    use envelope::error::EdkFailureReason;
    use envelope::{AlgorithmSuite, EncryptionContext, MultiKeyring};

    use crate::RawAesKeyring;

    const SUITE: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;

    /// One 2048-bit key for the whole test binary: generation is the slow part.
    fn test_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate(2048).unwrap())
    }

    fn other_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate(2048).unwrap())
    }

    fn keyring(padding: RsaPadding) -> RawRsaKeyring {
        let key = test_key();
        RawRsaKeyring::new("rsa-ns", "rsa-key", padding, Some(key.public_key()), Some(key.clone())).unwrap()
    }

    fn context() -> EncryptionContext {
        EncryptionContext::from([("purpose".to_owned(), "test".to_owned())])
    }

    async fn encrypt(keyring: &dyn Keyring) -> EncryptionMaterials {
        let materials = EncryptionMaterials::new(SUITE, context(), vec![], None).unwrap();
        keyring.on_encrypt(materials).await.unwrap()
    }

    fn decryption_materials() -> DecryptionMaterials {
        DecryptionMaterials::new(SUITE, context(), vec![], None).unwrap()
    }

    fn failures(error: Error) -> Vec<EdkFailure> {
        match error {
            Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => failures,
            other => panic!("expected NoDataKeyUnwrapped, got {other:?}"),
        }
    }

    /// The contents of the DER TLV at the start of `der`, and what follows it (test-only parser).
    fn der_take(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = der[0];
        let (len, header) = match der[1] {
            short if short < 0x80 => (usize::from(short), 2),
            long => {
                let n = usize::from(long & 0x7f);
                (der[2..2 + n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), 2 + n)
            }
        };
        (tag, &der[header..header + len], &der[header + len..])
    }

    /// PKCS #8 → the inner PKCS #1 RSAPrivateKey.
    fn pkcs1_private(pkcs8: &[u8]) -> Vec<u8> {
        let (_, info, _) = der_take(pkcs8);
        let (_, _version, rest) = der_take(info);
        let (_, _algorithm, rest) = der_take(rest);
        let (tag, key, _) = der_take(rest);
        assert_eq!(tag, 0x04);
        key.to_vec()
    }

    /// SPKI → the inner PKCS #1 RSAPublicKey.
    fn pkcs1_public(spki: &[u8]) -> Vec<u8> {
        let (_, info, _) = der_take(spki);
        let (_, _algorithm, rest) = der_take(info);
        let (tag, bits, _) = der_take(rest);
        assert_eq!((tag, bits[0]), (0x03, 0));
        bits[1..].to_vec()
    }

    fn to_pem(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[tokio::test]
    async fn round_trips_with_every_padding() {
        for padding in RsaPadding::ALL {
            let keyring = keyring(padding);
            let encrypted = encrypt(&keyring).await;
            let edk = &encrypted.encrypted_data_keys()[0];
            assert_eq!(edk.provider_id, "rsa-ns");
            // spec: provider info is the key name alone.
            assert_eq!(edk.provider_info, b"rsa-key");
            assert_eq!(edk.ciphertext.len(), 256);
            let decrypted = keyring.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap();
            assert_eq!(
                decrypted.data_key().unwrap().expose_secret(),
                encrypted.data_key().unwrap().expose_secret(),
                "{padding:?}"
            );
        }
    }

    #[tokio::test]
    async fn context_is_not_bound() {
        // RSA wraps the bare data key: another context still unwraps (the header binds it).
        let keyring = keyring(RsaPadding::OaepSha256);
        let encrypted = encrypt(&keyring).await;
        let materials = DecryptionMaterials::new(SUITE, EncryptionContext::new(), vec![], None).unwrap();
        assert!(keyring.on_decrypt(materials, encrypted.encrypted_data_keys()).await.is_ok());
    }

    #[tokio::test]
    async fn another_padding_fails() {
        let encrypted = encrypt(&keyring(RsaPadding::OaepSha256)).await;
        let error = keyring(RsaPadding::OaepSha1)
            .on_decrypt(decryption_materials(), encrypted.encrypted_data_keys())
            .await
            .unwrap_err();
        assert!(matches!(failures(error)[0].reason, EdkFailureReason::Failed(_)));
    }

    #[tokio::test]
    async fn wrong_key_name_or_namespace_is_not_mine() {
        let encrypted = encrypt(&keyring(RsaPadding::OaepSha256)).await;
        let key = test_key();
        for (namespace, name) in [("rsa-ns", "other"), ("rsa-ns", "rsa-ke"), ("other", "rsa-key")] {
            let other = RawRsaKeyring::new(namespace, name, RsaPadding::OaepSha256, None, Some(key.clone())).unwrap();
            let error = other.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap_err();
            let failures = failures(error);
            assert_eq!(failures.len(), 1);
            assert!(matches!(failures[0].reason, EdkFailureReason::NotMine(_)), "{failures:?}");
        }
    }

    #[tokio::test]
    async fn tampered_edk_and_wrong_private_key_fail() {
        let encrypted = encrypt(&keyring(RsaPadding::OaepSha512)).await;
        let mut tampered = encrypted.encrypted_data_keys()[0].clone();
        tampered.ciphertext[10] ^= 1;
        let error = keyring(RsaPadding::OaepSha512).on_decrypt(decryption_materials(), &[tampered]).await.unwrap_err();
        assert!(matches!(failures(error)[0].reason, EdkFailureReason::Failed(_)));

        let wrong =
            RawRsaKeyring::new("rsa-ns", "rsa-key", RsaPadding::OaepSha512, None, Some(other_key().clone())).unwrap();
        let error = wrong.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap_err();
        assert!(matches!(failures(error)[0].reason, EdkFailureReason::Failed(_)));
    }

    #[tokio::test]
    async fn public_only_encrypts_but_cannot_decrypt() {
        let public_only =
            RawRsaKeyring::new("rsa-ns", "rsa-key", RsaPadding::OaepSha1, Some(test_key().public_key()), None).unwrap();
        assert!(public_only.can_encrypt() && !public_only.can_decrypt());
        let encrypted = encrypt(&public_only).await;
        let error = public_only.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Keyring(KeyringError::Configuration(m)) if m.contains("no private key")),
            "{error}"
        );
        // The full keyring reads what the public-only one wrote.
        assert!(
            keyring(RsaPadding::OaepSha1)
                .on_decrypt(decryption_materials(), encrypted.encrypted_data_keys())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn private_only_cannot_encrypt() {
        // spec: the keyring MUST NOT derive the public key from the private key.
        let private_only =
            RawRsaKeyring::new("rsa-ns", "rsa-key", RsaPadding::OaepSha1, None, Some(test_key().clone())).unwrap();
        let materials = EncryptionMaterials::new(SUITE, context(), vec![], None).unwrap();
        let error = private_only.on_encrypt(materials).await.unwrap_err();
        assert!(
            matches!(&error, Error::Keyring(KeyringError::Configuration(m)) if m.contains("no public key")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn refuses_materials_that_already_hold_a_key() {
        let keyring = keyring(RsaPadding::Pkcs1);
        let encrypted = encrypt(&keyring).await;
        let mut materials = decryption_materials();
        materials.set_data_key(DataKey::new(vec![0; 32])).unwrap();
        assert!(matches!(keyring.on_decrypt(materials, encrypted.encrypted_data_keys()).await, Err(Error::Usage(_))));
    }

    #[test]
    fn rejects_bad_configuration() {
        assert!(RawRsaKeyring::new("ns", "key", RsaPadding::Pkcs1, None, None).is_err());
        let public = Some(test_key().public_key());
        assert!(RawRsaKeyring::new("aws-kms", "key", RsaPadding::Pkcs1, public.clone(), None).is_err());
        assert!(RawRsaKeyring::new("aws-kms-rsa", "key", RsaPadding::Pkcs1, public, None).is_err());
        assert!(RsaPrivateKey::generate(1024).is_err());
        assert!(RsaPublicKey::from_der(b"not a key").is_err());
        assert!(RsaPrivateKey::from_der(b"not a key").is_err());
        assert!(RsaPublicKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    }

    #[test]
    fn loads_every_key_encoding() {
        let private = test_key();
        let pkcs8 = private.to_pkcs8_der().unwrap();
        let pkcs1 = pkcs1_private(&pkcs8);
        let spki = private.public_key().to_der().unwrap();
        let pkcs1_pub = pkcs1_public(&spki);

        for der in [&pkcs8[..], &pkcs1[..]] {
            assert_eq!(RsaPrivateKey::from_der(der).unwrap().bits(), 2048);
        }
        for pem in [to_pem("PRIVATE KEY", &pkcs8), to_pem("RSA PRIVATE KEY", &pkcs1)] {
            let key = RsaPrivateKey::from_pem(&pem).unwrap();
            assert_eq!(key.public_key().to_der().unwrap(), spki);
        }
        for der in [&spki[..], &pkcs1_pub[..]] {
            assert_eq!(RsaPublicKey::from_der(der).unwrap().to_der().unwrap(), spki);
        }
        for pem in [to_pem("PUBLIC KEY", &spki), to_pem("RSA PUBLIC KEY", &pkcs1_pub)] {
            assert_eq!(RsaPublicKey::from_pem(&pem).unwrap().to_der().unwrap(), spki);
        }
        // A file holding both blocks: each loader picks its own.
        let both = to_pem("PUBLIC KEY", &spki) + &to_pem("PRIVATE KEY", &pkcs8);
        assert!(RsaPrivateKey::from_pem(&both).is_ok() && RsaPublicKey::from_pem(&both).is_ok());
        assert!(RsaPrivateKey::from_pem(&to_pem("PUBLIC KEY", &spki)).is_err());
    }

    #[tokio::test]
    async fn from_pem_round_trips_between_separate_keyrings() {
        let private = test_key();
        let public_pem = to_pem("PUBLIC KEY", &private.public_key().to_der().unwrap());
        let private_pem = to_pem("PRIVATE KEY", &private.to_pkcs8_der().unwrap());
        let writer = RawRsaKeyring::from_pem("ns", "k", RsaPadding::OaepSha384, Some(&public_pem), None).unwrap();
        let reader = RawRsaKeyring::from_pem("ns", "k", RsaPadding::OaepSha384, None, Some(&private_pem)).unwrap();
        let encrypted = encrypt(&writer).await;
        let decrypted = reader.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap();
        assert_eq!(decrypted.data_key().unwrap().expose_secret(), encrypted.data_key().unwrap().expose_secret());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let shown = format!("{:?} {:?}", keyring(RsaPadding::Pkcs1), test_key());
        assert!(shown.contains("rsa-ns") && shown.contains("2048"), "{shown}");
        assert!(shown.len() < 300, "{shown}");
    }

    fn multi() -> (MultiKeyring, Arc<RawAesKeyring>, Arc<RawRsaKeyring>) {
        let aes = Arc::new(RawAesKeyring::new("aes-ns", "aes-key", vec![3; 32]).unwrap());
        let rsa = Arc::new(keyring(RsaPadding::OaepSha256));
        let multi = MultiKeyring::new(Some(aes.clone()), vec![rsa.clone() as Arc<dyn Keyring>]).unwrap();
        (multi, aes, rsa)
    }

    #[tokio::test]
    async fn multi_keyring_decrypts_through_either_child() {
        let (multi, aes, rsa) = multi();
        let encrypted = encrypt(&multi).await;
        let edks = encrypted.encrypted_data_keys();
        assert_eq!(edks.len(), 2);
        let expected = encrypted.data_key().unwrap().expose_secret();
        for single in [aes.clone() as Arc<dyn Keyring>, rsa.clone()] {
            let decrypted = single.on_decrypt(decryption_materials(), edks).await.unwrap();
            assert_eq!(decrypted.data_key().unwrap().expose_secret(), expected, "{single:?}");
        }
        // Through the multi-keyring: each EDK alone (so each child must do the work).
        for only in [&edks[..1], &edks[1..]] {
            let decrypted = multi.on_decrypt(decryption_materials(), only).await.unwrap();
            assert_eq!(decrypted.data_key().unwrap().expose_secret(), expected);
        }
    }

    #[tokio::test]
    async fn multi_keyring_reports_every_failure() {
        let (writer, _, _) = multi();
        let encrypted = encrypt(&writer).await;
        let aes = Arc::new(RawAesKeyring::new("aes-ns", "aes-key", vec![4; 32]).unwrap());
        let rsa = Arc::new(
            RawRsaKeyring::new("rsa-ns", "other-key", RsaPadding::OaepSha256, None, Some(test_key().clone())).unwrap(),
        );
        let reader = MultiKeyring::new(None, vec![aes as Arc<dyn Keyring>, rsa]).unwrap();
        let error = reader.on_decrypt(decryption_materials(), encrypted.encrypted_data_keys()).await.unwrap_err();
        let failures = failures(error);
        // Two keyrings × two EDKs: AES fails its own EDK and skips RSA's; RSA skips both.
        assert_eq!(failures.len(), 4, "{failures:#?}");
        let failed = failures.iter().filter(|f| matches!(f.reason, EdkFailureReason::Failed(_))).count();
        assert_eq!(failed, 1, "{failures:#?}");
        assert!(failures.iter().any(|f| f.keyring.contains("aes-ns/aes-key")));
        assert!(failures.iter().any(|f| f.keyring.contains("rsa-ns/other-key")));
    }
}
