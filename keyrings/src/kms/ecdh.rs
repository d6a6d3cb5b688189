//! The AWS KMS ECDH keyring (`aws-kms-ecdh`): the private key stays in KMS.
//!
//! spec: framework/aws-kms/aws-kms-ecdh-keyring.md, framework/key-agreement-schemas.md

use std::fmt;

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeyAgreementAlgorithmSpec, KeyUsageType};
use envelope::error::KeyringError;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};
use zeroize::Zeroizing;

use crate::ecdh::{EcPublicKey, EcdhCurve, KMS_ECDH_PROVIDER_ID, Matcher, ProviderInfo, fixed_info, wrap};
use crate::kms::key_arn::{KmsArn, validate_identifier};
use crate::kms::{describe_error, kms_grant_tokens};

/// Wraps data keys under an ECDH-derived key whose private half is a KMS `KEY_AGREEMENT` key.
///
/// One constructor per scheme:
/// - [`static_keys`](Self::static_keys) (`KmsPrivateKeyToStaticPublicKey`): the sender's KMS key
///   and the recipient's public key. Encrypts, and decrypts what either party wrote for the pair.
/// - [`public_key_discovery`](Self::public_key_discovery) (`KmsPublicKeyDiscovery`): the
///   recipient's KMS key. Decrypts anything wrapped for it; never encrypts.
///
/// Both fetch the KMS key's public key with GetPublicKey when it is not given, and check that the
/// key is a `KEY_AGREEMENT` key on the configured curve.
///
/// ```no_run
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::kms::{get_public_key, AwsKmsEcdhKeyring, DefaultClientSupplier, KmsClientSupplier};
/// use envelope_keyrings::{EcdhCurve, RawEcdhKeyring};
///
/// # async fn demo() -> envelope::Result<()> {
/// // The recipient's private key lives in KMS (a KEY_AGREEMENT key on P-256).
/// let supplier = DefaultClientSupplier::from_env().await;
/// let client = supplier.client_for_region("us-east-1")?;
/// let recipient_key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let recipient_public_der = get_public_key(&client, recipient_key).await?;
/// let recipient =
///     AwsKmsEcdhKeyring::public_key_discovery(EcdhCurve::P256, recipient_key, Some(&recipient_public_der), client)
///         .await?;
///
/// // A sender without KMS access encrypts for it with the recipient's public key alone.
/// let sender = RawEcdhKeyring::ephemeral(EcdhCurve::P256, &recipient_public_der)?;
/// let message = Client::with_keyring(sender).encrypt(b"for KMS", &EncryptOptions::new()).await?;
/// let decrypted = Client::with_keyring(recipient).decrypt(&message, &DecryptOptions::new()).await?;
/// assert_eq!(decrypted.plaintext, b"for KMS");
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsEcdhKeyring {
    curve: EcdhCurve,
    client: aws_sdk_kms::Client,
    /// The KMS key (the sender's for static keys, the recipient's for discovery).
    kms_key_id: String,
    /// The KMS key's public key.
    kms_public: EcPublicKey,
    /// The other party's public key (static keys only).
    peer: Option<EcPublicKey>,
    grant_tokens: Vec<String>,
    label: String,
}

impl AwsKmsEcdhKeyring {
    /// `KmsPrivateKeyToStaticPublicKey`. `sender_public_key` (DER) saves a GetPublicKey call.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsEcdhKeyring, DefaultClientSupplier, KmsClientSupplier};
    /// use envelope_keyrings::EcdhCurve;
    ///
    /// # async fn demo(recipient_public_der: Vec<u8>) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let sender_key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = AwsKmsEcdhKeyring::static_keys(
    ///     EcdhCurve::P384,
    ///     sender_key,
    ///     &recipient_public_der,
    ///     None, // the sender's public key: fetched with GetPublicKey when not given
    ///     supplier.client_for_region("us-east-1")?,
    /// )
    /// .await?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn static_keys(
        curve: EcdhCurve,
        sender_kms_key_id: impl Into<String>,
        recipient_public_key: &[u8],
        sender_public_key: Option<&[u8]>,
        client: aws_sdk_kms::Client,
    ) -> Result<AwsKmsEcdhKeyring> {
        let recipient = EcPublicKey::parse(curve, recipient_public_key)?;
        AwsKmsEcdhKeyring::build(curve, sender_kms_key_id.into(), sender_public_key, Some(recipient), client, "static")
            .await
    }

    /// `KmsPublicKeyDiscovery`. `recipient_public_key` (DER) saves a GetPublicKey call.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsEcdhKeyring, DefaultClientSupplier, KmsClientSupplier};
    /// use envelope_keyrings::EcdhCurve;
    ///
    /// # async fn demo(cached_public_der: Vec<u8>) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// // With the public key already at hand, building the keyring makes no KMS call.
    /// let keyring = AwsKmsEcdhKeyring::public_key_discovery(
    ///     EcdhCurve::P256,
    ///     key,
    ///     Some(&cached_public_der),
    ///     supplier.client_for_region("us-east-1")?,
    /// )
    /// .await?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn public_key_discovery(
        curve: EcdhCurve,
        recipient_kms_key_id: impl Into<String>,
        recipient_public_key: Option<&[u8]>,
        client: aws_sdk_kms::Client,
    ) -> Result<AwsKmsEcdhKeyring> {
        AwsKmsEcdhKeyring::build(
            curve,
            recipient_kms_key_id.into(),
            recipient_public_key,
            None,
            client,
            "public key discovery",
        )
        .await
    }

    /// Grant tokens sent with every KMS request.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsEcdhKeyring, DefaultClientSupplier, KmsClientSupplier};
    /// use envelope_keyrings::EcdhCurve;
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let client = supplier.client_for_region("us-east-1")?;
    /// let keyring = AwsKmsEcdhKeyring::public_key_discovery(EcdhCurve::P256, key, None, client)
    ///     .await?
    ///     .with_grant_tokens(vec![grant_token]);
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsEcdhKeyring {
        self.grant_tokens = grant_tokens;
        self
    }

    async fn build(
        curve: EcdhCurve,
        kms_key_id: String,
        kms_public_key: Option<&[u8]>,
        peer: Option<EcPublicKey>,
        client: aws_sdk_kms::Client,
        scheme: &str,
    ) -> Result<AwsKmsEcdhKeyring> {
        validate_identifier(&kms_key_id).map_err(KeyringError::Configuration)?;
        let kms_public =
            match kms_public_key {
                Some(der) => EcPublicKey::parse(curve, der)?,
                None => {
                    // spec: key-agreement-schemas.md — without a public key, MUST call GetPublicKey; the
                    // response MUST show KeyUsage KEY_AGREEMENT and the configured curve.
                    let response =
                        client.get_public_key().key_id(&kms_key_id).send().await.map_err(|error| {
                            KeyringError::Service(describe_error("GetPublicKey", &kms_key_id, &error))
                        })?;
                    if response.key_usage() != Some(&KeyUsageType::KeyAgreement) {
                        return Err(KeyringError::Configuration(format!(
                            "KMS key {kms_key_id} has key usage {:?}, not KEY_AGREEMENT",
                            response.key_usage().map(|u| u.as_str())
                        ))
                        .into());
                    }
                    let spec = response.key_spec().map(|s| s.as_str()).unwrap_or("(none)");
                    if spec != curve.kms_key_spec() {
                        return Err(KeyringError::Configuration(format!(
                            "KMS key {kms_key_id} is a {spec} key; the keyring is configured for {}",
                            curve.kms_key_spec()
                        ))
                        .into());
                    }
                    let der = response.public_key().map(|b| b.as_ref()).unwrap_or_default();
                    EcPublicKey::parse(curve, der)?
                }
            };
        let label = format!("AWS KMS ECDH keyring {kms_key_id} ({}, {scheme})", curve.kms_key_spec());
        Ok(AwsKmsEcdhKeyring { curve, client, kms_key_id, kms_public, peer, grant_tokens: Vec::new(), label })
    }

    /// DeriveSharedSecret with the KMS key and `peer`.
    async fn derive_shared_secret(&self, peer: &EcPublicKey) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        let response = self
            .client
            .derive_shared_secret()
            .key_id(&self.kms_key_id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(peer.der()))
            .set_grant_tokens(kms_grant_tokens(&self.grant_tokens))
            .send()
            .await
            .map_err(|error| describe_error("DeriveSharedSecret", &self.kms_key_id, &error))?;
        // The answer must be for our key (exactly, when we know its ARN) and ECDH.
        let answered = response.key_id().unwrap_or_default();
        let expected_arn = KmsArn::parse(&self.kms_key_id).is_ok();
        if answered.is_empty() || (expected_arn && answered != self.kms_key_id) {
            return Err(format!("KMS DeriveSharedSecret answered for key {answered:?}, not {}", self.kms_key_id));
        }
        if response.key_agreement_algorithm() != Some(&KeyAgreementAlgorithmSpec::Ecdh) {
            return Err("KMS DeriveSharedSecret did not answer with ECDH".into());
        }
        let secret = Zeroizing::new(response.shared_secret.map(Blob::into_inner).unwrap_or_default());
        if secret.len() != self.curve.field_len() {
            return Err(format!(
                "KMS DeriveSharedSecret returned {} bytes; {} secrets are {}",
                secret.len(),
                self.curve.kms_key_spec(),
                self.curve.field_len()
            ));
        }
        Ok(secret)
    }
}

#[async_trait]
impl Keyring for AwsKmsEcdhKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS ECDH keyring")?;
        crate::kms::require_runtime()?;
        // spec: aws-kms-ecdh-keyring.md#onencrypt — MUST fail with KmsPublicKeyDiscovery.
        let Some(recipient) = &self.peer else {
            return Err(KeyringError::Configuration(format!("{} only decrypts", self.label)).into());
        };
        // spec: key-agreement-schemas.md#kmsprivatekeytostaticpublickey — DeriveSharedSecret with the
        // sender's KMS key and the recipient's public key.
        let shared_secret = self.derive_shared_secret(recipient).await.map_err(KeyringError::Service)?;
        let sender = &self.kms_public;
        let fixed =
            fixed_info(self.curve, sender.compressed(), recipient.compressed(), materials.encryption_context())?;
        if materials.data_key().is_none() {
            materials.set_data_key(DataKey::generate(materials.suite().data_key_len())?)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };
        let ciphertext = wrap(&shared_secret, &fixed, data_key)?;
        let info = ProviderInfo::serialize(recipient.compressed(), sender.compressed());
        // spec: aws-kms-ecdh-keyring.md#onencrypt — provider id "aws-kms-ecdh".
        materials.push_encrypted_data_key(EncryptedDataKey::new(KMS_ECDH_PROVIDER_ID, info, ciphertext));
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS ECDH keyring")?;
        crate::kms::require_runtime()?;
        let matcher = match &self.peer {
            Some(peer) => Matcher::Pair { mine: &self.kms_public, peer },
            None => Matcher::Recipient(&self.kms_public),
        };
        let agree = |peer: EcPublicKey| async move { self.derive_shared_secret(&peer).await };
        matcher.decrypt_first(self.curve, &self.label, materials, edks, agree).await
    }
}

impl fmt::Debug for AwsKmsEcdhKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}
