//! The raw ECDH keyring (`raw-ecdh`): local EC keys, no service. What it shares with the KMS
//! ECDH keyring (curves, keys, the key derivation and wrapping) is in [`crate::ecdh`].
//!
//! spec: framework/raw-ecdh-keyring.md

use std::fmt;

use async_trait::async_trait;
use envelope::error::KeyringError;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};

use crate::ecdh::{
    EcPrivateKey, EcPublicKey, EcdhCurve, Matcher, ProviderInfo, RAW_ECDH_PROVIDER_ID, check_curve, fixed_info, wrap,
};

/// Wraps data keys under an ECDH-derived key, with local EC keys.
///
/// One constructor per key agreement scheme:
/// - [`static_keys`](Self::static_keys) (`RawPrivateKeyToStaticPublicKey`): the sender's private
///   key and the recipient's public key. Encrypts, and decrypts what either party wrote for this
///   pair.
/// - [`ephemeral`](Self::ephemeral) (`EphemeralPrivateKeyToStaticPublicKey`): only the recipient's
///   public key; a fresh key pair per message. Encrypt only.
/// - [`public_key_discovery`](Self::public_key_discovery) (`PublicKeyDiscovery`): the recipient's
///   private key. Decrypts anything wrapped for it, from any sender. Decrypt only.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
///
/// # fn main() -> envelope::Result<()> {
/// // The recipient publishes its public key and keeps the private key.
/// let recipient = EcPrivateKey::generate(EcdhCurve::P256)?;
/// let recipient_public = recipient.public_key().der().to_vec();
///
/// // Anyone can encrypt for it with a fresh key pair per message...
/// let sender_keyring = RawEcdhKeyring::ephemeral(EcdhCurve::P256, &recipient_public)?;
/// let sender = BlockingClient::new(Client::with_keyring(sender_keyring));
/// let message = sender.encrypt(b"for the recipient only", &EncryptOptions::new())?;
///
/// // ...and only the recipient decrypts.
/// let reader_keyring = RawEcdhKeyring::public_key_discovery(EcdhCurve::P256, recipient)?;
/// let reader = BlockingClient::new(Client::with_keyring(reader_keyring));
/// assert_eq!(reader.decrypt(&message, &DecryptOptions::new())?.plaintext, b"for the recipient only");
/// # Ok(())
/// # }
/// ```
pub struct RawEcdhKeyring {
    curve: EcdhCurve,
    scheme: Scheme,
    label: String,
}

enum Scheme {
    Static { sender: EcPrivateKey, recipient: EcPublicKey },
    Ephemeral { recipient: EcPublicKey },
    Discovery { recipient: EcPrivateKey },
}

impl RawEcdhKeyring {
    /// `RawPrivateKeyToStaticPublicKey`: `recipient_public_key` is DER SubjectPublicKeyInfo (or a
    /// SEC 1 point); both keys must be on `curve`.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let alice = EcPrivateKey::generate(EcdhCurve::P384)?;
    /// let bob = EcPrivateKey::generate(EcdhCurve::P384)?;
    /// let bob_public = bob.public_key().der().to_vec();
    /// let alice_public = alice.public_key().der().to_vec();
    ///
    /// // Alice writes for Bob with her own key: only Alice or Bob can have wrapped this data key.
    /// let alice_keyring = RawEcdhKeyring::static_keys(EcdhCurve::P384, alice, &bob_public)?;
    /// let alice_to_bob = BlockingClient::new(Client::with_keyring(alice_keyring));
    /// let message = alice_to_bob.encrypt(b"hello Bob", &EncryptOptions::new())?;
    ///
    /// // Bob reads it with the mirror configuration.
    /// let bob_keyring = RawEcdhKeyring::static_keys(EcdhCurve::P384, bob, &alice_public)?;
    /// let bob_from_alice = BlockingClient::new(Client::with_keyring(bob_keyring));
    /// assert_eq!(bob_from_alice.decrypt(&message, &DecryptOptions::new())?.plaintext, b"hello Bob");
    /// # Ok(())
    /// # }
    /// ```
    pub fn static_keys(
        curve: EcdhCurve,
        sender_private_key: EcPrivateKey,
        recipient_public_key: &[u8],
    ) -> Result<RawEcdhKeyring> {
        // spec: raw-ecdh-keyring.md#initialization — both keys MUST be on the configured curve.
        check_curve(curve, sender_private_key.curve())?;
        let recipient = EcPublicKey::parse(curve, recipient_public_key)?;
        Ok(RawEcdhKeyring::build(curve, Scheme::Static { sender: sender_private_key, recipient }, "static"))
    }

    /// `EphemeralPrivateKeyToStaticPublicKey`: encrypt-only, for the holder of the recipient key.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let recipient = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// // The recipient's public key, as DER SubjectPublicKeyInfo (a SEC 1 point works too).
    /// let recipient_public: &[u8] = recipient.public_key().der();
    /// let keyring = RawEcdhKeyring::ephemeral(EcdhCurve::P256, recipient_public)?;
    /// let client = BlockingClient::new(Client::with_keyring(keyring));
    ///
    /// let message = client.encrypt(b"drop box", &EncryptOptions::new())?;
    /// // Encrypt-only: the writer cannot read back what it wrote.
    /// assert!(client.decrypt(&message, &DecryptOptions::new()).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn ephemeral(curve: EcdhCurve, recipient_public_key: &[u8]) -> Result<RawEcdhKeyring> {
        let recipient = EcPublicKey::parse(curve, recipient_public_key)?;
        Ok(RawEcdhKeyring::build(curve, Scheme::Ephemeral { recipient }, "ephemeral"))
    }

    /// `PublicKeyDiscovery`: decrypt-only, with the recipient's private key.
    ///
    /// ```
    /// use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let pem = EcPrivateKey::generate(EcdhCurve::P521)?.to_pkcs8_pem()?;
    /// // e.g. `let pem = std::fs::read_to_string("recipient-key.pem")?;`
    /// let recipient = EcPrivateKey::from_pem(EcdhCurve::P521, &pem)?;
    /// let keyring = RawEcdhKeyring::public_key_discovery(EcdhCurve::P521, recipient)?;
    /// # let _ = keyring;
    ///
    /// // The key must be on the keyring's curve.
    /// let other_curve = EcPrivateKey::generate(EcdhCurve::P256)?;
    /// assert!(RawEcdhKeyring::public_key_discovery(EcdhCurve::P521, other_curve).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn public_key_discovery(curve: EcdhCurve, recipient_private_key: EcPrivateKey) -> Result<RawEcdhKeyring> {
        check_curve(curve, recipient_private_key.curve())?;
        Ok(RawEcdhKeyring::build(curve, Scheme::Discovery { recipient: recipient_private_key }, "public key discovery"))
    }

    fn build(curve: EcdhCurve, scheme: Scheme, name: &str) -> RawEcdhKeyring {
        RawEcdhKeyring { curve, scheme, label: format!("raw ECDH keyring ({}, {name})", curve.kms_key_spec()) }
    }
}

#[async_trait]
impl Keyring for RawEcdhKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw ECDH keyring")?;
        let ephemeral;
        let (sender, recipient) = match &self.scheme {
            Scheme::Static { sender, recipient } => (sender, recipient),
            Scheme::Ephemeral { recipient } => {
                // spec: key-agreement-schemas.md#ephemeralprivatekeytostaticpublickey — a new key pair
                // on the recipient's curve for every message.
                ephemeral = EcPrivateKey::generate(self.curve)?;
                (&ephemeral, recipient)
            }
            // spec: raw-ecdh-keyring.md#onencrypt — MUST fail with PublicKeyDiscovery.
            Scheme::Discovery { .. } => {
                return Err(KeyringError::Configuration(format!("{} only decrypts", self.label)).into());
            }
        };
        // spec: raw-ecdh-keyring.md#onencrypt — failing to compute the shared secret MUST fail.
        let shared_secret =
            sender.agree(recipient).map_err(|why| KeyringError::Wrap(format!("{}: {why}", self.label)))?;
        let fixed = fixed_info(
            self.curve,
            sender.public_key().compressed(),
            recipient.compressed(),
            materials.encryption_context(),
        )?;
        if materials.data_key().is_none() {
            // spec: raw-ecdh-keyring.md#data-key-wrapping — generate a random data key when there is none.
            materials.set_data_key(DataKey::generate(materials.suite().data_key_len())?)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };
        let ciphertext = wrap(&shared_secret, &fixed, data_key)?;
        let info = ProviderInfo::serialize(recipient.compressed(), sender.public_key().compressed());
        // spec: raw-ecdh-keyring.md#onencrypt — provider id "raw-ecdh".
        materials.push_encrypted_data_key(EncryptedDataKey::new(RAW_ECDH_PROVIDER_ID, info, ciphertext));
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw ECDH keyring")?;
        let (private, matcher) = match &self.scheme {
            Scheme::Static { sender, recipient } => {
                (sender, Matcher::Pair { mine: sender.public_key(), peer: recipient })
            }
            Scheme::Discovery { recipient } => (recipient, Matcher::Recipient(recipient.public_key())),
            // spec: raw-ecdh-keyring.md#ondecrypt — MUST fail with EphemeralPrivateKeyToStaticPublicKey.
            Scheme::Ephemeral { .. } => {
                return Err(KeyringError::Configuration(format!("{} only encrypts", self.label)).into());
            }
        };
        matcher
            .decrypt_first(self.curve, &self.label, materials, edks, |peer| std::future::ready(private.agree(&peer)))
            .await
    }
}

impl fmt::Debug for RawEcdhKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}
