//! The AWS KMS keyring (strict) and its multi-Region-key-aware twin.
//!
//! spec: framework/aws-kms/aws-kms-keyring.md, framework/aws-kms/aws-kms-mrk-keyring.md

use std::fmt;

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};

use super::edk::{arn_of, decrypt_data_key};
use super::key_arn::{KmsArn, ResourceType, mrk_match, validate_identifier};
use super::{PROVIDER_ID, describe_error, kms_context, kms_grant_tokens};

/// Wraps and unwraps data keys with one symmetric AWS KMS key.
///
/// Encrypt calls GenerateDataKey when the materials have no data key yet, Encrypt otherwise;
/// the EDK records the key ARN KMS answered with. Decrypt tries only EDKs whose provider id is
/// `aws-kms` and whose provider info is exactly the configured key ARN, so configure a key ARN
/// (a key id or alias can encrypt, but never matches an EDK on decrypt). Interoperates with
/// every AWS Encryption SDK's KMS keyring / KMS master key.
///
/// ```no_run
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = tokio::runtime::Runtime::new()?;
/// let supplier = runtime.block_on(DefaultClientSupplier::from_env());
/// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
/// let client = BlockingClient::with_runtime(Client::with_keyring(keyring), runtime.handle().clone())?;
///
/// // KMS binds the encryption context too: CloudTrail logs it with each call.
/// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
/// let message = client.encrypt(b"secret", &options)?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"secret");
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsKeyring {
    inner: SymmetricKeyring,
}

/// Like [`AwsKmsKeyring`], but on decrypt a multi-Region key (`mrk-…`) also unwraps EDKs
/// written under its replicas in other Regions: the configured key (this Region's replica) is
/// asked to decrypt them.
///
/// ```no_run
/// use envelope::{Client, DecryptOptions};
/// use envelope_keyrings::kms::{AwsKmsMrkKeyring, DefaultClientSupplier, KmsClientSupplier};
///
/// # async fn demo(message_written_in_us_east_1: Vec<u8>) -> envelope::Result<()> {
/// let supplier = DefaultClientSupplier::from_env().await;
/// // This Region's replica of a multi-Region key opens what its us-east-1 twin wrapped.
/// let replica = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
/// let keyring = AwsKmsMrkKeyring::new(replica, supplier.client_for_region("eu-west-1")?)?;
/// let decrypted =
///     Client::with_keyring(keyring).decrypt(&message_written_in_us_east_1, &DecryptOptions::new()).await?;
/// # let _ = decrypted;
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsMrkKeyring {
    inner: SymmetricKeyring,
}

impl AwsKmsKeyring {
    /// A keyring over `key_id` (a key ARN, key id, alias name or alias ARN) reached through
    /// `client`, which must be a client for the key's Region.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let client = supplier.client_for_region("us-east-1")?;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = AwsKmsKeyring::new(key, client.clone())?;
    /// # let _ = keyring;
    /// assert!(AwsKmsKeyring::new("", client).is_err(), "an empty key id is refused");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(key_id: impl Into<String>, client: aws_sdk_kms::Client) -> Result<AwsKmsKeyring> {
        Ok(AwsKmsKeyring { inner: SymmetricKeyring::new(key_id.into(), client, false)? })
    }

    /// Grant tokens sent with every KMS request.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// // A grant token lets this caller use a new grant before the grant has propagated.
    /// let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?
    ///     .with_grant_tokens(vec![grant_token]);
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsKeyring {
        self.inner.grant_tokens = grant_tokens;
        self
    }

    /// The configured key identifier.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
    /// assert_eq!(keyring.key_id(), key);
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_id(&self) -> &str {
        &self.inner.key_id
    }
}

impl AwsKmsMrkKeyring {
    /// A keyring over `key_id` reached through `client` (a client for the key's Region).
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsMrkKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
    /// let keyring = AwsKmsMrkKeyring::new(key, supplier.client_for_region("us-west-2")?)?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(key_id: impl Into<String>, client: aws_sdk_kms::Client) -> Result<AwsKmsMrkKeyring> {
        Ok(AwsKmsMrkKeyring { inner: SymmetricKeyring::new(key_id.into(), client, true)? })
    }

    /// Grant tokens sent with every KMS request.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsMrkKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
    /// let keyring = AwsKmsMrkKeyring::new(key, supplier.client_for_region("us-west-2")?)?
    ///     .with_grant_tokens(vec![grant_token]);
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsMrkKeyring {
        self.inner.grant_tokens = grant_tokens;
        self
    }

    /// The configured key identifier.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsMrkKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
    /// let keyring = AwsKmsMrkKeyring::new(key, supplier.client_for_region("us-west-2")?)?;
    /// assert!(keyring.key_id().contains(":key/mrk-"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_id(&self) -> &str {
        &self.inner.key_id
    }
}

#[async_trait]
impl Keyring for AwsKmsKeyring {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        self.inner.on_encrypt(materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        self.inner.on_decrypt(materials, edks).await
    }
}

#[async_trait]
impl Keyring for AwsKmsMrkKeyring {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        self.inner.on_encrypt(materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        self.inner.on_decrypt(materials, edks).await
    }
}

impl fmt::Debug for AwsKmsKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.label)
    }
}

impl fmt::Debug for AwsKmsMrkKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.label)
    }
}

/// What the strict and MRK keyrings share; they differ only in how EDKs are matched.
struct SymmetricKeyring {
    key_id: String,
    client: aws_sdk_kms::Client,
    grant_tokens: Vec<String>,
    mrk_aware: bool,
    label: String,
}

impl SymmetricKeyring {
    fn new(key_id: String, client: aws_sdk_kms::Client, mrk_aware: bool) -> Result<SymmetricKeyring> {
        // spec: aws-kms-keyring.md#initialization — the identifier MUST NOT be empty and MUST be valid.
        validate_identifier(&key_id).map_err(KeyringError::Configuration)?;
        let label = format!("{} {key_id}", if mrk_aware { "AWS KMS MRK keyring" } else { "AWS KMS keyring" });
        Ok(SymmetricKeyring { key_id, client, grant_tokens: Vec::new(), mrk_aware, label })
    }

    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS keyring")?;
        super::require_runtime()?;
        let suite = materials.suite();
        let context = kms_context(materials.encryption_context());
        let (ciphertext, key_arn) = match materials.data_key() {
            None => {
                // spec: aws-kms-keyring.md#onencrypt — GenerateDataKey with KeyId, NumberOfBytes = the
                // suite's key derivation input length, the materials' context and the grant tokens.
                let length = suite.data_key_len();
                let response = self
                    .client
                    .generate_data_key()
                    .key_id(&self.key_id)
                    .number_of_bytes(length as i32)
                    .set_encryption_context(context)
                    .set_grant_tokens(kms_grant_tokens(&self.grant_tokens))
                    .send()
                    .await
                    // spec: aws-kms-keyring.md#onencrypt — on failure, MUST NOT modify the materials and MUST fail.
                    .map_err(|error| KeyringError::Service(describe_error("GenerateDataKey", &self.key_id, &error)))?;
                let plaintext = response.plaintext.map(Blob::into_inner).unwrap_or_default();
                let plaintext = DataKey::new(plaintext);
                // spec: aws-kms-keyring.md#onencrypt — the plaintext length MUST match the suite.
                if plaintext.len() != length {
                    return Err(self.bad_response(
                        "GenerateDataKey",
                        format!("a {}-byte data key, not {length}", plaintext.len()),
                    ));
                }
                let key_arn = self.response_key_arn("GenerateDataKey", response.key_id.as_deref())?;
                let ciphertext = response.ciphertext_blob.map(Blob::into_inner).unwrap_or_default();
                if ciphertext.is_empty() {
                    return Err(self.bad_response("GenerateDataKey", "no ciphertext".into()));
                }
                // spec: aws-kms-keyring.md#onencrypt — set the plaintext data key from the response.
                materials.set_data_key(plaintext)?;
                (ciphertext, key_arn)
            }
            Some(data_key) => {
                // spec: aws-kms-keyring.md#onencrypt — Encrypt with KeyId, the data key, the context, grant tokens.
                let response = self
                    .client
                    .encrypt()
                    .key_id(&self.key_id)
                    .plaintext(Blob::new(data_key.expose_secret()))
                    .set_encryption_context(context)
                    .set_grant_tokens(kms_grant_tokens(&self.grant_tokens))
                    .send()
                    .await
                    // spec: aws-kms-keyring.md#onencrypt — if Encrypt does not succeed, OnEncrypt MUST fail.
                    .map_err(|error| KeyringError::Service(describe_error("Encrypt", &self.key_id, &error)))?;
                let key_arn = self.response_key_arn("Encrypt", response.key_id.as_deref())?;
                let ciphertext = response.ciphertext_blob.map(Blob::into_inner).unwrap_or_default();
                if ciphertext.is_empty() {
                    return Err(self.bad_response("Encrypt", "no ciphertext".into()));
                }
                (ciphertext, key_arn)
            }
        };
        // spec: aws-kms-keyring.md#onencrypt — EDK: ciphertext = CiphertextBlob, provider id "aws-kms",
        // provider info = the response KeyId.
        materials.push_encrypted_data_key(EncryptedDataKey::new(PROVIDER_ID, key_arn.into_bytes(), ciphertext));
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS keyring")?;
        super::require_runtime()?;
        // spec: aws-kms-keyring.md#ondecrypt — MUST fail if the materials already hold a data key.
        ensure_no_data_key(&materials)?;
        let length = materials.suite().data_key_len();
        let mut failures = Vec::new();
        for edk in edks {
            // spec: aws-kms-keyring.md#ondecrypt — filter: provider id "aws-kms", provider info a valid
            // key ARN (or OnDecrypt MUST fail), equal to (MRK: MRK-matching) the configured identifier.
            let Some(info) = arn_of(edk, PROVIDER_ID, &self.label, &mut failures)? else {
                continue;
            };
            let matches = if self.mrk_aware { mrk_match(&self.key_id, info) } else { info == self.key_id };
            if !matches {
                failures.push(EdkFailure::not_mine(
                    edk,
                    self.label.as_str(),
                    format!("wrapped under {info}, not this keyring's key {}", self.key_id),
                ));
                continue;
            }
            // spec: aws-kms-keyring.md#ondecrypt — Decrypt with KeyId = the configured identifier;
            // errors MUST be collected, then the next EDK tried.
            let context = materials.encryption_context();
            match decrypt_data_key(&self.client, &self.key_id, edk, context, &self.grant_tokens, length).await {
                Ok(plaintext) => {
                    // spec: aws-kms-keyring.md#ondecrypt — set the data key and return immediately.
                    materials.set_data_key(plaintext)?;
                    return Ok(materials);
                }
                Err(why) => failures.push(EdkFailure::failed(edk, self.label.as_str(), why)),
            }
        }
        // spec: aws-kms-keyring.md#ondecrypt — MUST yield an error that includes all collected errors.
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }

    /// spec: aws-kms-keyring.md#onencrypt — the response KeyId MUST be a valid AWS KMS key ARN.
    fn response_key_arn(&self, operation: &str, key_id: Option<&str>) -> Result<String> {
        let Some(key_id) = key_id else {
            return Err(self.bad_response(operation, "no KeyId".into()));
        };
        match KmsArn::parse(key_id) {
            Ok(arn) if arn.resource_type() == ResourceType::Key => Ok(key_id.to_owned()),
            _ => Err(self.bad_response(operation, format!("KeyId {key_id:?}, which is not a key ARN"))),
        }
    }

    fn bad_response(&self, operation: &str, what: String) -> envelope::Error {
        KeyringError::Service(format!("KMS {operation} with key {} answered with {what}", self.key_id)).into()
    }
}
