//! What the ECDH keyrings share: curves, EC keys, and the wrapping of a data key under a key both
//! parties derive from an ECDH shared secret.
//!
//! [`RawEcdhKeyring`](crate::RawEcdhKeyring) (`raw-ecdh`) holds its private keys locally; the AWS
//! KMS ECDH keyring (`aws-kms-ecdh`, `kms` feature) keeps its private key in KMS (`KEY_AGREEMENT`
//! keys) and calls DeriveSharedSecret. Both write and read the same EDKs, so either can decrypt what
//! the other wrote for the same key pair.
//!
//! Construction (byte-compatible with the AWS Cryptographic Material Providers Library):
//! - shared secret Z = ECDH(sender private, recipient public) — the x-coordinate;
//! - FixedInfo = `"ecdh-key-derivation" 00 curve 00 "HMAC_SHA384" 00 S‖R 00 01 00 EC`, with S and R
//!   the compressed sender and recipient public keys, curve `p256`/`p384`/`p521` and EC the
//!   serialized encryption context;
//! - 64 bytes from NIST SP 800-108 counter-mode KDF with HMAC-SHA-384 over Z:
//!   `HMAC(Z, i ‖ FixedInfo ‖ 00 ‖ salt ‖ 512)` for i = 1, 2, with a random 32-byte salt; the first
//!   32 bytes are a commitment key, the last 32 the wrapping key;
//! - EDK ciphertext = salt ‖ commitment key ‖ AES-256-GCM(wrapping key, IV = 0, AAD = FixedInfo);
//! - provider info = `01 ‖ len ‖ R ‖ len ‖ S` (u32 big-endian lengths).
//!
//! spec: framework/raw-ecdh-keyring.md, framework/aws-kms/aws-kms-ecdh-keyring.md,
//! framework/key-agreement-schemas.md

use std::fmt;
use std::future::Future;

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionContext, Result};
use zeroize::Zeroizing;

use crate::aes_gcm::{TAG_LEN, WrappingKey, constant_time_eq, fill_random};

/// Provider id of EDKs written by the raw ECDH keyring.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::ecdh::RAW_ECDH_PROVIDER_ID;
/// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
///
/// # fn main() -> envelope::Result<()> {
/// let recipient = EcPrivateKey::generate(EcdhCurve::P256)?;
/// let writer = RawEcdhKeyring::ephemeral(EcdhCurve::P256, recipient.public_key().der())?;
/// let writer = BlockingClient::new(Client::with_keyring(writer));
/// let message = writer.encrypt(b"secret", &EncryptOptions::new())?;
///
/// let reader = RawEcdhKeyring::public_key_discovery(EcdhCurve::P256, recipient)?;
/// let info = BlockingClient::new(Client::with_keyring(reader)).decrypt(&message, &DecryptOptions::new())?.info;
/// assert_eq!(info.encrypted_data_keys[0].provider_id, RAW_ECDH_PROVIDER_ID);
/// # Ok(())
/// # }
/// ```
pub const RAW_ECDH_PROVIDER_ID: &str = "raw-ecdh";
/// Provider id of EDKs written by the AWS KMS ECDH keyring.
///
/// ```
/// use envelope::EncryptedDataKey;
/// use envelope_keyrings::ecdh::{KMS_ECDH_PROVIDER_ID, RAW_ECDH_PROVIDER_ID};
///
/// // The raw and KMS ECDH keyrings write the same EDK format under two provider ids.
/// # let edks = vec![EncryptedDataKey::new("aws-kms-ecdh", vec![1], vec![])];
/// let is_ecdh = |id: &str| id == RAW_ECDH_PROVIDER_ID || id == KMS_ECDH_PROVIDER_ID;
/// assert_eq!(edks.iter().filter(|edk| is_ecdh(&edk.provider_id)).count(), 1);
/// ```
pub const KMS_ECDH_PROVIDER_ID: &str = "aws-kms-ecdh";

/// The keyring version in the provider info and the FixedInfo.
pub(crate) const VERSION: u8 = 0x01;
pub(crate) const SALT_LEN: usize = 32;
pub(crate) const COMMITMENT_LEN: usize = 32;
const KDF_OUTPUT_LEN: usize = 64;

/// The NIST curves the ECDH keyrings support.
///
/// ```
/// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
///
/// # fn main() -> envelope::Result<()> {
/// for curve in EcdhCurve::ALL {
///     let key = EcPrivateKey::generate(curve)?;
///     assert_eq!(key.curve(), curve);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcdhCurve {
    /// NIST P-256 (KMS key spec `ECC_NIST_P256`).
    P256,
    /// NIST P-384 (`ECC_NIST_P384`).
    P384,
    /// NIST P-521 (`ECC_NIST_P521`).
    P521,
}

impl EcdhCurve {
    /// Every supported curve.
    ///
    /// ```
    /// use envelope_keyrings::EcdhCurve;
    ///
    /// let specs: Vec<&str> = EcdhCurve::ALL.into_iter().map(EcdhCurve::kms_key_spec).collect();
    /// assert_eq!(specs, ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]);
    /// ```
    pub const ALL: [EcdhCurve; 3] = [EcdhCurve::P256, EcdhCurve::P384, EcdhCurve::P521];

    fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            EcdhCurve::P256 => &agreement::ECDH_P256,
            EcdhCurve::P384 => &agreement::ECDH_P384,
            EcdhCurve::P521 => &agreement::ECDH_P521,
        }
    }

    /// Only used to parse and re-encode public keys (aws-lc-rs validates the point on the curve).
    fn parsing(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            EcdhCurve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            EcdhCurve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            EcdhCurve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }

    /// The name in the FixedInfo.
    fn spec_name(self) -> &'static str {
        match self {
            EcdhCurve::P256 => "p256",
            EcdhCurve::P384 => "p384",
            EcdhCurve::P521 => "p521",
        }
    }

    /// The KMS key spec of keys on this curve.
    ///
    /// ```
    /// use envelope_keyrings::EcdhCurve;
    ///
    /// // The KeySpec of a KMS KEY_AGREEMENT key to use with this curve.
    /// assert_eq!(EcdhCurve::P384.kms_key_spec(), "ECC_NIST_P384");
    /// ```
    pub fn kms_key_spec(self) -> &'static str {
        match self {
            EcdhCurve::P256 => "ECC_NIST_P256",
            EcdhCurve::P384 => "ECC_NIST_P384",
            EcdhCurve::P521 => "ECC_NIST_P521",
        }
    }

    /// Bytes of one coordinate (and of the shared secret).
    pub(crate) fn field_len(self) -> usize {
        match self {
            EcdhCurve::P256 => 32,
            EcdhCurve::P384 => 48,
            EcdhCurve::P521 => 66,
        }
    }

    fn compressed_len(self) -> usize {
        1 + self.field_len()
    }

    fn provider_info_len(self) -> usize {
        1 + 2 * (4 + self.compressed_len())
    }
}

/// An EC public key, kept both as DER SubjectPublicKeyInfo (what KMS takes) and compressed (what
/// the EDKs carry).
///
/// ```
/// use envelope_keyrings::{EcPrivateKey, EcPublicKey, EcdhCurve};
///
/// # fn main() -> envelope::Result<()> {
/// let private = EcPrivateKey::generate(EcdhCurve::P256)?;
/// let public: &EcPublicKey = private.public_key();
/// // The same key from either encoding.
/// let from_der = EcPublicKey::parse(EcdhCurve::P256, public.der())?;
/// let from_point = EcPublicKey::parse(EcdhCurve::P256, public.compressed())?;
/// assert_eq!(&from_der, public);
/// assert_eq!(from_der, from_point);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    curve: EcdhCurve,
    der: Vec<u8>,
    compressed: Vec<u8>,
}

impl EcPublicKey {
    /// Parses a public key on `curve` from DER SubjectPublicKeyInfo or a SEC 1 point (compressed
    /// or uncompressed). Fails for points not on the curve.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcPublicKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let der = EcPrivateKey::generate(EcdhCurve::P384)?.public_key().der().to_vec();
    /// // e.g. the recipient's published SubjectPublicKeyInfo, or KMS GetPublicKey's answer.
    /// let key = EcPublicKey::parse(EcdhCurve::P384, &der)?;
    /// assert_eq!(key.curve(), EcdhCurve::P384);
    ///
    /// assert!(EcPublicKey::parse(EcdhCurve::P256, &der).is_err(), "a P-384 key is not on P-256");
    /// let mut off_curve = key.compressed().to_vec();
    /// off_curve[0] = 0x05;
    /// assert!(EcPublicKey::parse(EcdhCurve::P384, &off_curve).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn parse(curve: EcdhCurve, bytes: &[u8]) -> Result<EcPublicKey> {
        let invalid = || KeyringError::Configuration(format!("not a valid {} public key", curve.kms_key_spec()));
        let parsed = ParsedPublicKey::new(curve.parsing(), bytes).map_err(|_| invalid())?;
        let der: PublicKeyX509Der<'static> = parsed.as_der().map_err(|_| invalid())?;
        let der = der.as_ref().to_vec();
        // The DER ends with the BIT STRING holding the uncompressed point 04 ‖ X ‖ Y.
        let point_len = 1 + 2 * curve.field_len();
        let point = der.get(der.len().saturating_sub(point_len)..).filter(|p| p.len() == point_len && p[0] == 0x04);
        let Some(point) = point else {
            return Err(invalid().into());
        };
        let (x, y) = point[1..].split_at(curve.field_len());
        let mut compressed = Vec::with_capacity(curve.compressed_len());
        compressed.push(if y[y.len() - 1] & 1 == 1 { 0x03 } else { 0x02 });
        compressed.extend_from_slice(x);
        Ok(EcPublicKey { curve, der, compressed })
    }

    /// The curve.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = EcPrivateKey::generate(EcdhCurve::P521)?;
    /// assert_eq!(key.public_key().curve(), EcdhCurve::P521);
    /// # Ok(())
    /// # }
    /// ```
    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    /// DER SubjectPublicKeyInfo.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let recipient = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// // The DER SubjectPublicKeyInfo is what to publish, and what the ECDH keyrings take.
    /// let published: Vec<u8> = recipient.public_key().der().to_vec();
    /// let writer = RawEcdhKeyring::ephemeral(EcdhCurve::P256, &published)?;
    /// # let _ = writer;
    /// # Ok(())
    /// # }
    /// ```
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The compressed SEC 1 point.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// let point = key.public_key().compressed();
    /// assert_eq!(point.len(), 33, "one prefix byte and the 32-byte x-coordinate");
    /// assert!(point[0] == 0x02 || point[0] == 0x03);
    /// # Ok(())
    /// # }
    /// ```
    pub fn compressed(&self) -> &[u8] {
        &self.compressed
    }
}

impl fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.compressed.iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "EcPublicKey({:?}, {hex})", self.curve)
    }
}

/// An EC private key for ECDH. Its Debug output is redacted.
///
/// ```
/// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
///
/// # fn main() -> envelope::Result<()> {
/// let key = EcPrivateKey::generate(EcdhCurve::P384)?;
/// let shown = format!("{key:?}");
/// assert!(shown.contains("P384"));
/// let pem = key.to_pkcs8_pem()?;
/// let body = pem.lines().nth(1).unwrap();
/// assert!(!shown.contains(body), "Debug never shows the private key");
/// # Ok(())
/// # }
/// ```
pub struct EcPrivateKey {
    curve: EcdhCurve,
    key: PrivateKey,
    public: EcPublicKey,
}

impl EcPrivateKey {
    /// A fresh random key.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let first = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// let second = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// assert_ne!(first.public_key(), second.public_key());
    /// # Ok(())
    /// # }
    /// ```
    pub fn generate(curve: EcdhCurve) -> Result<EcPrivateKey> {
        let key = PrivateKey::generate(curve.agreement())
            .map_err(|_| KeyringError::Configuration("EC key generation failed".into()))?;
        EcPrivateKey::from_key(curve, key)
    }

    /// Parses a PKCS #8 (or RFC 5915) DER private key on `curve`.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let original = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// # let pkcs8_der = pem_der(&original.to_pkcs8_pem()?)?;
    /// # fn pem_der(pem: &str) -> Result<Vec<u8>, base64::DecodeError> {
    /// #     use base64::Engine;
    /// #     let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    /// #     base64::engine::general_purpose::STANDARD.decode(body)
    /// # }
    /// // e.g. from a secrets store, as PKCS #8 or RFC 5915 DER.
    /// let key = EcPrivateKey::from_der(EcdhCurve::P256, &pkcs8_der)?;
    /// assert_eq!(key.public_key(), original.public_key());
    /// assert!(EcPrivateKey::from_der(EcdhCurve::P384, &pkcs8_der).is_err(), "the curve must match");
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_der(curve: EcdhCurve, der: &[u8]) -> Result<EcPrivateKey> {
        let key = PrivateKey::from_private_key_der(curve.agreement(), der).map_err(|_| {
            KeyringError::Configuration(format!("not a {} private key (PKCS #8 or RFC 5915 DER)", curve.kms_key_spec()))
        })?;
        EcPrivateKey::from_key(curve, key)
    }

    /// Parses a PEM `PRIVATE KEY` (PKCS #8) or `EC PRIVATE KEY` block on `curve`.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let pem = EcPrivateKey::generate(EcdhCurve::P384)?.to_pkcs8_pem()?;
    /// // e.g. `let pem = std::fs::read_to_string("recipient-key.pem")?;`
    /// let key = EcPrivateKey::from_pem(EcdhCurve::P384, &pem)?;
    /// assert_eq!(key.curve(), EcdhCurve::P384);
    /// assert!(EcPrivateKey::from_pem(EcdhCurve::P384, "no PEM here").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pem(curve: EcdhCurve, pem: &str) -> Result<EcPrivateKey> {
        let blocks =
            crate::pem::parse(pem).map_err(|why| KeyringError::Configuration(format!("EC private key PEM: {why}")))?;
        let block = blocks
            .iter()
            .find(|block| block.label == "PRIVATE KEY" || block.label == "EC PRIVATE KEY")
            .ok_or_else(|| KeyringError::Configuration("no PRIVATE KEY block in the PEM".into()))?;
        EcPrivateKey::from_der(curve, &block.der)
    }

    fn from_key(curve: EcdhCurve, key: PrivateKey) -> Result<EcPrivateKey> {
        let public = key
            .compute_public_key()
            .map_err(|_| KeyringError::Configuration("cannot compute the EC public key".into()))?;
        let der: PublicKeyX509Der<'static> =
            public.as_der().map_err(|_| KeyringError::Configuration("cannot encode the EC public key".into()))?;
        let public = EcPublicKey::parse(curve, der.as_ref())?;
        Ok(EcPrivateKey { curve, key, public })
    }

    /// The curve.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// assert_eq!(key.curve().kms_key_spec(), "ECC_NIST_P256");
    /// # Ok(())
    /// # }
    /// ```
    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    /// The matching public key.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// let public = key.public_key().clone();
    /// assert_eq!(public.curve(), key.curve());
    /// # Ok(())
    /// # }
    /// ```
    pub fn public_key(&self) -> &EcPublicKey {
        &self.public
    }

    /// PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), e.g. to hand the key to another SDK.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// // Zeroized on drop; keep it in a secrets store, not in plaintext on disk.
    /// let pem = key.to_pkcs8_pem()?;
    /// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    /// assert_eq!(EcPrivateKey::from_pem(EcdhCurve::P256, &pem)?.public_key(), key.public_key());
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        let der: Pkcs8V1Der<'static> =
            self.key.as_der().map_err(|_| KeyringError::Configuration("cannot encode the EC private key".into()))?;
        crate::pem::encode("PRIVATE KEY", der.as_ref())
            .map_err(|why| KeyringError::Configuration(format!("cannot encode the EC private key: {why}")).into())
    }

    /// ECDH with `peer`: the x-coordinate of the shared point.
    pub(crate) fn agree(&self, peer: &EcPublicKey) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        if peer.curve != self.curve {
            return Err(format!("the peer key is on {:?}, this key on {:?}", peer.curve, self.curve));
        }
        agreement::agree(&self.key, UnparsedPublicKey::new(self.curve.agreement(), peer.der()), (), |z| {
            Ok(Zeroizing::new(z.to_vec()))
        })
        .map_err(|()| "ECDH key agreement failed".to_owned())
    }
}

impl fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EcPrivateKey({:?}, public {:?}, [REDACTED])", self.curve, self.public)
    }
}

/// Fails unless a key is on the curve the keyring is configured for.
pub(crate) fn check_curve(configured: EcdhCurve, actual: EcdhCurve) -> Result<()> {
    if configured != actual {
        return Err(KeyringError::Configuration(format!(
            "the key is on {actual:?}, the keyring is configured for {configured:?}"
        ))
        .into());
    }
    Ok(())
}

/// The two public keys an ECDH EDK's provider info names.
pub(crate) struct ProviderInfo<'a> {
    recipient: &'a [u8],
    sender: &'a [u8],
}

impl<'a> ProviderInfo<'a> {
    /// spec: raw-ecdh-keyring.md#key-provider-information — version ‖ len ‖ recipient ‖ len ‖ sender.
    pub(crate) fn serialize(recipient: &[u8], sender: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 8 + recipient.len() + sender.len());
        out.push(VERSION);
        out.extend_from_slice(&(recipient.len() as u32).to_be_bytes());
        out.extend_from_slice(recipient);
        out.extend_from_slice(&(sender.len() as u32).to_be_bytes());
        out.extend_from_slice(sender);
        out
    }

    fn parse(curve: EcdhCurve, info: &'a [u8]) -> std::result::Result<ProviderInfo<'a>, String> {
        if info.len() != curve.provider_info_len() {
            return Err(format!(
                "provider info is {} bytes; {} keys make {}",
                info.len(),
                curve.kms_key_spec(),
                curve.provider_info_len()
            ));
        }
        // spec: raw-ecdh-keyring.md#ondecrypt — the version MUST be 0x01.
        if info[0] != VERSION {
            return Err(format!("provider info version is {}, not {VERSION}", info[0]));
        }
        let key_len = curve.compressed_len();
        let length_at = |at: usize| info.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        if length_at(1) != Some(key_len) || length_at(5 + key_len) != Some(key_len) {
            return Err("provider info public key lengths do not fit the curve".into());
        }
        Ok(ProviderInfo { recipient: &info[5..5 + key_len], sender: &info[9 + key_len..] })
    }
}

/// spec: key-agreement-schemas.md#key-derivation — the FixedInfo.
pub(crate) fn fixed_info(
    curve: EcdhCurve,
    sender: &[u8],
    recipient: &[u8],
    context: &EncryptionContext,
) -> Result<Vec<u8>> {
    let context = envelope::serialize_encryption_context(context)?;
    let mut out = Vec::with_capacity(64 + sender.len() + recipient.len() + context.len());
    out.extend_from_slice(b"ecdh-key-derivation");
    out.push(0);
    out.extend_from_slice(curve.spec_name().as_bytes());
    out.push(0);
    out.extend_from_slice(b"HMAC_SHA384");
    out.push(0);
    out.extend_from_slice(sender);
    out.extend_from_slice(recipient);
    out.push(0);
    out.push(VERSION);
    out.push(0);
    out.extend_from_slice(&context);
    Ok(out)
}

/// NIST SP 800-108 counter-mode KDF, HMAC-SHA-384, 512 bits: commitment key ‖ wrapping key.
///
/// spec: key-agreement-schemas.md#key-derivation
fn derive(shared_secret: &[u8], fixed_info: &[u8], salt: &[u8]) -> Zeroizing<[u8; KDF_OUTPUT_LEN]> {
    let key = hmac::Key::new(hmac::HMAC_SHA384, shared_secret);
    let mut okm = Zeroizing::new([0u8; KDF_OUTPUT_LEN]);
    let mut filled = 0;
    let mut counter: u32 = 1;
    while filled < KDF_OUTPUT_LEN {
        let mut context = hmac::Context::with_key(&key);
        context.update(&counter.to_be_bytes());
        context.update(fixed_info);
        context.update(&[0x00]);
        context.update(salt);
        context.update(&((KDF_OUTPUT_LEN * 8) as u32).to_be_bytes());
        let block = context.sign();
        let take = block.as_ref().len().min(KDF_OUTPUT_LEN - filled);
        okm[filled..filled + take].copy_from_slice(&block.as_ref()[..take]);
        filled += take;
        counter += 1;
    }
    okm
}

/// Wraps `data_key`: salt ‖ commitment key ‖ AES-256-GCM ciphertext ‖ tag.
///
/// spec: raw-ecdh-keyring.md#data-key-wrapping
pub(crate) fn wrap(shared_secret: &[u8], fixed_info: &[u8], data_key: &DataKey) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    // spec: key-agreement-schemas.md#key-derivation — a 32-byte random salt; failure MUST fail.
    fill_random(&mut salt)?;
    let okm = derive(shared_secret, fixed_info, &salt);
    let (commitment, wrapping_key) = okm.split_at(COMMITMENT_LEN);
    let key = WrappingKey::new(wrapping_key)?;
    let mut out = Vec::with_capacity(SALT_LEN + COMMITMENT_LEN + data_key.len() + TAG_LEN);
    out.extend_from_slice(&salt);
    out.extend_from_slice(commitment);
    let start = out.len();
    out.extend_from_slice(data_key.expose_secret());
    // spec: raw-ecdh-keyring.md#data-key-wrapping — zero IV, AAD = FixedInfo.
    let tag = key.seal_in_place(&[0u8; 12], fixed_info, &mut out[start..])?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Unwraps an EDK ciphertext, checking the commitment key first (constant time).
///
/// spec: raw-ecdh-keyring.md#ondecrypt, #data-key-unwrapping
fn unwrap(
    shared_secret: &[u8],
    fixed_info: &[u8],
    ciphertext: &[u8],
    key_len: usize,
) -> std::result::Result<DataKey, String> {
    if ciphertext.len() != SALT_LEN + COMMITMENT_LEN + key_len + TAG_LEN {
        return Err(format!(
            "ciphertext is {} bytes; a {key_len}-byte data key wraps to {}",
            ciphertext.len(),
            SALT_LEN + COMMITMENT_LEN + key_len + TAG_LEN
        ));
    }
    let (salt, rest) = ciphertext.split_at(SALT_LEN);
    let (stored_commitment, rest) = rest.split_at(COMMITMENT_LEN);
    let (wrapped, tag) = rest.split_at(key_len);
    let okm = derive(shared_secret, fixed_info, salt);
    let (commitment, wrapping_key) = okm.split_at(COMMITMENT_LEN);
    // spec: raw-ecdh-keyring.md#ondecrypt — the commitment keys MUST be compared in constant time.
    if !constant_time_eq(commitment, stored_commitment) {
        return Err("commitment key does not match (another key pair or another encryption context)".into());
    }
    let key = WrappingKey::new(wrapping_key).map_err(|e| e.to_string())?;
    let mut plaintext = Zeroizing::new(wrapped.to_vec());
    key.open_in_place(&[0u8; 12], fixed_info, &mut plaintext, tag)
        .map_err(|_| "AES-GCM tag does not verify (modified EDK or another encryption context)".to_owned())?;
    Ok(DataKey::new(std::mem::take(&mut *plaintext)))
}

/// How an ECDH keyring decides an EDK is its own: by the public keys in the provider info.
pub(crate) enum Matcher<'a> {
    /// Decrypt-only: any sender, this recipient.
    Recipient(&'a EcPublicKey),
    /// Both static keys, in either role.
    Pair { mine: &'a EcPublicKey, peer: &'a EcPublicKey },
}

/// An EDK an ECDH keyring will try: its parsed public keys and which one to agree with.
pub(crate) struct Candidate {
    sender: Vec<u8>,
    recipient: Vec<u8>,
    /// The other party's public key.
    pub(crate) peer: EcPublicKey,
}

impl Candidate {
    /// Unwraps the EDK's `ciphertext` with the shared secret agreed with this candidate's peer.
    pub(crate) fn unwrap(
        &self,
        curve: EcdhCurve,
        shared_secret: &[u8],
        context: &EncryptionContext,
        ciphertext: &[u8],
        key_len: usize,
    ) -> std::result::Result<DataKey, String> {
        let fixed = fixed_info(curve, &self.sender, &self.recipient, context).map_err(|e| e.to_string())?;
        unwrap(shared_secret, &fixed, ciphertext, key_len)
    }
}

impl Matcher<'_> {
    /// The decrypt loop both ECDH keyrings share: the first of `edks` that is this keyring's and
    /// unwraps under the secret `agree` derives with its peer sets the data key; when none does,
    /// every EDK's reason is reported. `agree` is local ECDH for the raw keyring and a KMS
    /// DeriveSharedSecret call for the KMS one.
    pub(crate) async fn decrypt_first<F, Fut>(
        &self,
        curve: EcdhCurve,
        label: &str,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
        agree: F,
    ) -> Result<DecryptionMaterials>
    where
        F: Fn(EcPublicKey) -> Fut,
        Fut: Future<Output = std::result::Result<Zeroizing<Vec<u8>>, String>>,
    {
        ensure_no_data_key(&materials)?;
        let key_len = materials.suite().data_key_len();
        let mut failures = Vec::new();
        for edk in edks {
            let Some(candidate) = self.try_edk(curve, edk, label, &mut failures) else {
                continue;
            };
            let attempt = match agree(candidate.peer.clone()).await {
                Ok(secret) => {
                    candidate.unwrap(curve, &secret, materials.encryption_context(), &edk.ciphertext, key_len)
                }
                Err(why) => Err(why),
            };
            match attempt {
                Ok(key) => {
                    materials.set_data_key(key)?;
                    return Ok(materials);
                }
                Err(why) => failures.push(EdkFailure::failed(edk, label, why)),
            }
        }
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }

    /// The EDK as a candidate to unwrap, or `None` after recording in `failures` why not (not
    /// this keyring's, or its peer public key unparseable).
    pub(crate) fn try_edk(
        &self,
        curve: EcdhCurve,
        edk: &EncryptedDataKey,
        label: &str,
        failures: &mut Vec<EdkFailure>,
    ) -> Option<Candidate> {
        match self.candidate(curve, edk) {
            Ok(candidate) => Some(candidate),
            Err((false, why)) => {
                failures.push(EdkFailure::not_mine(edk, label, why));
                None
            }
            Err((true, why)) => {
                failures.push(EdkFailure::failed(edk, label, why));
                None
            }
        }
    }

    /// `Err((false, why))`: not ours; `Err((true, why))`: ours by provider id but unparseable.
    fn candidate(&self, curve: EcdhCurve, edk: &EncryptedDataKey) -> std::result::Result<Candidate, (bool, String)> {
        // spec: raw-ecdh-keyring.md#ondecrypt — the provider id MUST be "raw-ecdh" or "aws-kms-ecdh".
        if edk.provider_id != RAW_ECDH_PROVIDER_ID && edk.provider_id != KMS_ECDH_PROVIDER_ID {
            return Err((false, "provider id is neither \"raw-ecdh\" nor \"aws-kms-ecdh\"".into()));
        }
        let info = ProviderInfo::parse(curve, &edk.provider_info).map_err(|why| (false, why))?;
        let (matches, peer) = match self {
            Matcher::Recipient(me) => (info.recipient == me.compressed(), info.sender),
            Matcher::Pair { mine, peer } => {
                let forward = info.sender == mine.compressed() && info.recipient == peer.compressed();
                let backward = info.recipient == mine.compressed() && info.sender == peer.compressed();
                (forward || backward, if forward { info.recipient } else { info.sender })
            }
        };
        if !matches {
            return Err((false, "its public keys are not this keyring's".into()));
        }
        let peer = EcPublicKey::parse(curve, peer).map_err(|e| (true, format!("peer public key: {e}")))?;
        Ok(Candidate { sender: info.sender.to_vec(), recipient: info.recipient.to_vec(), peer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_round_trip_through_every_encoding() {
        for curve in EcdhCurve::ALL {
            let private = EcPrivateKey::generate(curve).unwrap();
            let public = private.public_key();
            assert_eq!(public.compressed().len(), curve.compressed_len());
            assert_eq!(&EcPublicKey::parse(curve, public.compressed()).unwrap(), public);
            assert_eq!(&EcPublicKey::parse(curve, public.der()).unwrap(), public);
            let pem = private.to_pkcs8_pem().unwrap();
            assert_eq!(EcPrivateKey::from_pem(curve, &pem).unwrap().public_key(), public);
            let other = EcdhCurve::ALL.into_iter().find(|c| *c != curve).unwrap();
            assert!(EcPublicKey::parse(other, public.der()).is_err());
        }
    }

    #[test]
    fn both_sides_agree_and_wrap_unwraps() {
        for curve in EcdhCurve::ALL {
            let a = EcPrivateKey::generate(curve).unwrap();
            let b = EcPrivateKey::generate(curve).unwrap();
            let z = a.agree(b.public_key()).unwrap();
            assert_eq!(z.len(), curve.field_len());
            assert_eq!(*z, *b.agree(a.public_key()).unwrap());
            let context = EncryptionContext::from([("k".to_owned(), "v".to_owned())]);
            let fixed = fixed_info(curve, a.public_key().compressed(), b.public_key().compressed(), &context).unwrap();
            let key = DataKey::new(vec![9; 32]);
            let wrapped = wrap(&z, &fixed, &key).unwrap();
            assert_eq!(unwrap(&z, &fixed, &wrapped, 32).unwrap().expose_secret(), key.expose_secret());
            let other =
                fixed_info(curve, a.public_key().compressed(), b.public_key().compressed(), &EncryptionContext::new())
                    .unwrap();
            assert!(unwrap(&z, &other, &wrapped, 32).unwrap_err().contains("commitment"));
        }
    }

    #[test]
    fn provider_info_layout() {
        let curve = EcdhCurve::P256;
        let r = [2u8; 33];
        let s = [3u8; 33];
        let info = ProviderInfo::serialize(&r, &s);
        assert_eq!(info.len(), 75);
        assert_eq!(&info[..5], &[1, 0, 0, 0, 33]);
        let parsed = ProviderInfo::parse(curve, &info).unwrap();
        assert_eq!((parsed.recipient, parsed.sender), (&r[..], &s[..]));
        assert!(ProviderInfo::parse(EcdhCurve::P384, &info).is_err());
    }
}
