//! The AWS KMS RSA keyring: local RSA-OAEP with a KMS key's public key on encrypt, KMS Decrypt on
//! decrypt.
//!
//! spec: framework/aws-kms/aws-kms-rsa-keyring.md

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::digest::{SHA384, SHA384_OUTPUT_LEN, digest};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPublicEncryptingKey, PublicEncryptingKey,
};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::EncryptionAlgorithmSpec;
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::serialize_encryption_context;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};
use zeroize::Zeroizing;

use super::edk::{answered_for, arn_of};
use super::key_arn::{KmsArn, ResourceType, mrk_match, validate_identifier};
use super::{RSA_PROVIDER_ID, describe_error, kms_grant_tokens};
use crate::aes_gcm::constant_time_eq;

/// The KMS RSA encryption algorithms (OAEP with MGF1 over the same hash).
///
/// ```no_run
/// use envelope_keyrings::kms::{AwsKmsRsaKeyring, KmsRsaPadding};
///
/// # fn demo(public_key_der: Vec<u8>) -> envelope::Result<()> {
/// // The padding must be one the KMS key allows (RSAES_OAEP_SHA_256 here).
/// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let keyring = AwsKmsRsaKeyring::new(key, Some(public_key_der), KmsRsaPadding::OaepSha256, None)?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsRsaPadding {
    /// `RSAES_OAEP_SHA_1`
    OaepSha1,
    /// `RSAES_OAEP_SHA_256`
    OaepSha256,
}

impl KmsRsaPadding {
    fn oaep(self) -> &'static OaepAlgorithm {
        // spec: aws-kms-rsa-keyring.md#onencrypt — OAEP with SHA-256 (SHA-1) and MGF1 with the same hash.
        match self {
            KmsRsaPadding::OaepSha1 => &OAEP_SHA1_MGF1SHA1,
            KmsRsaPadding::OaepSha256 => &OAEP_SHA256_MGF1SHA256,
        }
    }

    fn kms(self) -> EncryptionAlgorithmSpec {
        match self {
            KmsRsaPadding::OaepSha1 => EncryptionAlgorithmSpec::RsaesOaepSha1,
            KmsRsaPadding::OaepSha256 => EncryptionAlgorithmSpec::RsaesOaepSha256,
        }
    }
}

/// Wraps data keys for an asymmetric KMS RSA key (`RSA_2048`…`RSA_4096`, `ENCRYPT_DECRYPT`).
///
/// Encrypt needs only the key's public key (fetch it once with [`super::get_public_key`]) and
/// never calls KMS: the data key is RSA-OAEP-encrypted locally together with a SHA-384 digest of
/// the encryption context. Decrypt needs a client and calls KMS Decrypt. Because anyone with the
/// public key can encrypt, this keyring refuses signed algorithm suites (choose an unsigned one,
/// such as `0x0478`). The EDK records the configured identifier: configure a key ARN so that any
/// reader can match it.
///
/// ```no_run
/// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::kms::{
///     get_public_key, AwsKmsRsaKeyring, DefaultClientSupplier, KmsClientSupplier, KmsRsaPadding,
/// };
///
/// # async fn demo() -> envelope::Result<()> {
/// let supplier = DefaultClientSupplier::from_env().await;
/// let client = supplier.client_for_region("us-east-1")?;
/// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let public_key_der = get_public_key(&client, key).await?;
///
/// // Writers need only the public key; this keyring refuses signed suites, so name an unsigned one.
/// let writer = AwsKmsRsaKeyring::new(key, Some(public_key_der), KmsRsaPadding::OaepSha256, None)?;
/// let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// let message = Client::with_keyring(writer).encrypt(b"secret", &options).await?;
///
/// // Readers call KMS Decrypt.
/// let reader = AwsKmsRsaKeyring::new(key, None, KmsRsaPadding::OaepSha256, Some(client))?;
/// assert_eq!(Client::with_keyring(reader).decrypt(&message, &DecryptOptions::new()).await?.plaintext, b"secret");
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsRsaKeyring {
    key_id: String,
    padding: KmsRsaPadding,
    encryptor: Option<OaepPublicEncryptingKey>,
    client: Option<aws_sdk_kms::Client>,
    grant_tokens: Vec<String>,
    label: String,
}

impl AwsKmsRsaKeyring {
    /// A keyring for `key_id`. `public_key_der` (SubjectPublicKeyInfo DER, at least 2048 bits)
    /// enables encrypt; `client` (for the key's Region) enables decrypt.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsRsaKeyring, KmsRsaPadding};
    ///
    /// # fn demo(public_key_der: Vec<u8>) -> envelope::Result<()> {
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let encrypt_only = AwsKmsRsaKeyring::new(key, Some(public_key_der.clone()), KmsRsaPadding::OaepSha256, None)?;
    /// # let _ = encrypt_only;
    /// // An alias cannot be matched against the EDKs later: refused.
    /// let alias = "arn:aws:kms:us-east-1:111122223333:alias/billing";
    /// assert!(AwsKmsRsaKeyring::new(alias, Some(public_key_der), KmsRsaPadding::OaepSha256, None).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        key_id: impl Into<String>,
        public_key_der: Option<Vec<u8>>,
        padding: KmsRsaPadding,
        client: Option<aws_sdk_kms::Client>,
    ) -> Result<AwsKmsRsaKeyring> {
        let key_id = key_id.into();
        // spec: aws-kms-rsa-keyring.md#initialization — a valid identifier, not an alias.
        validate_identifier(&key_id).map_err(KeyringError::Configuration)?;
        let is_alias = key_id.starts_with("alias/")
            || KmsArn::parse(&key_id).map(|arn| arn.resource_type() == ResourceType::Alias).unwrap_or(false);
        if is_alias {
            return Err(KeyringError::Configuration(format!(
                "the AWS KMS RSA keyring needs a key, not the alias {key_id}"
            ))
            .into());
        }
        let encryptor = match public_key_der {
            None => None,
            Some(der) => {
                let key = PublicEncryptingKey::from_der(&der).map_err(|_| {
                    KeyringError::Configuration("the RSA public key is not a DER SubjectPublicKeyInfo".into())
                })?;
                // spec: aws-kms-rsa-keyring.md#initialization — the modulus MUST be at least 2048 bits.
                let bits = key.key_size_bits();
                if bits < 2048 {
                    return Err(KeyringError::Configuration(format!(
                        "the RSA public key has {bits} bits; at least 2048 are required"
                    ))
                    .into());
                }
                Some(
                    OaepPublicEncryptingKey::new(key)
                        .map_err(|_| KeyringError::Configuration("unusable RSA public key".into()))?,
                )
            }
        };
        let label = format!("AWS KMS RSA keyring {key_id}");
        Ok(AwsKmsRsaKeyring { key_id, padding, encryptor, client, grant_tokens: Vec::new(), label })
    }

    /// Grant tokens sent with KMS Decrypt.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsRsaKeyring, DefaultClientSupplier, KmsClientSupplier, KmsRsaPadding};
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let client = supplier.client_for_region("us-east-1")?;
    /// let reader = AwsKmsRsaKeyring::new(key, None, KmsRsaPadding::OaepSha256, Some(client))?
    ///     .with_grant_tokens(vec![grant_token]);
    /// # let _ = reader;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsRsaKeyring {
        self.grant_tokens = grant_tokens;
        self
    }

    fn refuse_signed_suite(&self, suite: envelope::AlgorithmSuite) -> Result<()> {
        if suite.is_signing() {
            return Err(KeyringError::Configuration(format!(
                "{}: suite {suite} signs messages, which adds nothing when the wrapping key is public; use an unsigned suite",
                self.label
            ))
            .into());
        }
        Ok(())
    }
}

/// SHA-384 of the serialized encryption context.
///
/// spec: aws-kms-rsa-keyring.md#onencrypt — the Encryption Context Digest.
fn context_digest(context: &envelope::EncryptionContext) -> Result<[u8; SHA384_OUTPUT_LEN]> {
    let serialized = serialize_encryption_context(context)?;
    let mut out = [0u8; SHA384_OUTPUT_LEN];
    out.copy_from_slice(digest(&SHA384, &serialized).as_ref());
    Ok(out)
}

#[async_trait]
impl Keyring for AwsKmsRsaKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS RSA keyring")?;
        // spec: aws-kms-rsa-keyring.md#onencrypt — MUST fail without a public key.
        let Some(encryptor) = &self.encryptor else {
            return Err(
                KeyringError::Configuration(format!("{} has no public key, so it cannot encrypt", self.label)).into()
            );
        };
        // spec: aws-kms-rsa-keyring.md#onencrypt — MUST fail for suites with an asymmetric signature.
        self.refuse_signed_suite(materials.suite())?;
        if materials.data_key().is_none() {
            // spec: aws-kms-rsa-keyring.md#onencrypt — generate a random data key when there is none.
            materials.set_data_key(DataKey::generate(materials.suite().data_key_len())?)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };
        let digest = context_digest(materials.encryption_context())?;
        // spec: aws-kms-rsa-keyring.md#onencrypt — the plaintext is the context digest ‖ the data key.
        let mut plaintext = Zeroizing::new(Vec::with_capacity(SHA384_OUTPUT_LEN + data_key.len()));
        plaintext.extend_from_slice(&digest);
        plaintext.extend_from_slice(data_key.expose_secret());
        let mut ciphertext = vec![0u8; encryptor.ciphertext_size()];
        let written = encryptor
            .encrypt(self.padding.oaep(), &plaintext, &mut ciphertext, None)
            // spec: aws-kms-rsa-keyring.md#onencrypt — if RSA encryption fails, OnEncrypt MUST fail.
            .map_err(|_| KeyringError::Wrap(format!("{}: RSA-OAEP encryption failed", self.label)))?
            .len();
        ciphertext.truncate(written);
        // spec: aws-kms-rsa-keyring.md#onencrypt — provider id "aws-kms-rsa", info = the configured identifier.
        materials.push_encrypted_data_key(EncryptedDataKey::new(
            RSA_PROVIDER_ID,
            self.key_id.as_bytes().to_vec(),
            ciphertext,
        ));
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS RSA keyring")?;
        super::require_runtime()?;
        // spec: aws-kms-rsa-keyring.md#ondecrypt — MUST fail without a client, for signed suites, and
        // when the materials already hold a data key.
        let Some(client) = &self.client else {
            return Err(
                KeyringError::Configuration(format!("{} has no KMS client, so it cannot decrypt", self.label)).into()
            );
        };
        self.refuse_signed_suite(materials.suite())?;
        ensure_no_data_key(&materials)?;
        let length = materials.suite().data_key_len();
        // spec: aws-kms-rsa-keyring.md#ondecrypt — Encryption Context Digest Prime.
        let expected_digest = context_digest(materials.encryption_context())?;
        let mut failures = Vec::new();
        for edk in edks {
            // spec: aws-kms-rsa-keyring.md#ondecrypt — provider id "aws-kms-rsa", provider info a key ARN
            // (or OnDecrypt MUST fail) that MRK-matches the configured identifier.
            let Some(info) = arn_of(edk, RSA_PROVIDER_ID, &self.label, &mut failures)? else {
                continue;
            };
            if !mrk_match(&self.key_id, info) {
                failures.push(EdkFailure::not_mine(
                    edk,
                    self.label.as_str(),
                    format!("wrapped for {info}, not this keyring's key {}", self.key_id),
                ));
                continue;
            }
            // spec: aws-kms-rsa-keyring.md#ondecrypt — Decrypt with KeyId, CiphertextBlob, grant tokens
            // and EncryptionAlgorithm.
            let response = client
                .decrypt()
                .key_id(&self.key_id)
                .ciphertext_blob(Blob::new(edk.ciphertext.as_slice()))
                .set_grant_tokens(kms_grant_tokens(&self.grant_tokens))
                .encryption_algorithm(self.padding.kms())
                .send()
                .await;
            let response = match response {
                Ok(response) => response,
                Err(error) => {
                    failures.push(EdkFailure::failed(
                        edk,
                        self.label.as_str(),
                        describe_error("Decrypt", &self.key_id, &error),
                    ));
                    continue;
                }
            };
            // spec: aws-kms-rsa-keyring.md#ondecrypt — the response KeyId MUST equal the configured identifier.
            if let Err(why) = answered_for(response.key_id.as_deref(), &self.key_id) {
                failures.push(EdkFailure::failed(edk, self.label.as_str(), why));
                continue;
            }
            let plaintext = Zeroizing::new(response.plaintext.map(Blob::into_inner).unwrap_or_default());
            // spec: aws-kms-rsa-keyring.md#ondecrypt — the first 48 bytes are the context digest, the rest
            // the data key; the digests MUST be equal.
            if plaintext.len() != SHA384_OUTPUT_LEN + length {
                failures.push(EdkFailure::failed(
                    edk,
                    self.label.as_str(),
                    format!(
                        "KMS Decrypt returned {} bytes; expected a 48-byte digest and a {length}-byte data key",
                        plaintext.len()
                    ),
                ));
                continue;
            }
            let (digest, key) = plaintext.split_at(SHA384_OUTPUT_LEN);
            if !constant_time_eq(digest, &expected_digest) {
                failures.push(EdkFailure::failed(
                    edk,
                    self.label.as_str(),
                    "the encryption context digest in the EDK does not match this message's encryption context",
                ));
                continue;
            }
            materials.set_data_key(DataKey::new(key.to_vec()))?;
            return Ok(materials);
        }
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }
}

impl fmt::Debug for AwsKmsRsaKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsRsaKeyring")
            .field("key_id", &self.key_id)
            .field("padding", &self.padding)
            .field("encrypts", &self.encryptor.is_some())
            .field("decrypts", &self.client.is_some())
            .finish()
    }
}
