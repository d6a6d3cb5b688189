//! `kms+context` (V3 code `12`): the data key from KMS GenerateDataKey under the caller's
//! context plus the reserved `aws:x-amz-cek-alg`; unwrapped with KMS Decrypt under the stored
//! context, after checking it against the caller's.
//!
//! The KMS calls are envelope's [`AwsKmsKeyring`]: the stored key is its EDK ciphertext (the
//! CiphertextBlob), and the EDK the keyring needs on read is rebuilt with this keyring's key ARN
//! as provider info, since the S3 formats store no provider info.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata};
use envelope::{
    AlgorithmSuite, DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, Keyring,
};
use envelope_keyrings::kms::{AwsKmsKeyring, KmsArn, PROVIDER_ID};

use super::aes_gcm::not_mine;
use super::{RESERVED_CEK_ALG_KEY, RESERVED_KMS_KEY_ID_KEY};
use super::{S3Keyring, UnwrapRequest, WrapRequest, WrappedDataKey, check_caller_context, check_stored_context};
use crate::content::DATA_KEY_LEN;
use crate::error::{Error, Result, SecurityError};
use crate::metadata::{KeyDescription, WrapAlgorithm};

/// An unsigned ESDK suite with a 32-byte data key: only its key length reaches KMS
/// (GenerateDataKey NumberOfBytes); the S3 content suite is separate.
const KMS_MATERIALS_SUITE: AlgorithmSuite = AlgorithmSuite::Aes256GcmIv12Tag16NoKdf;

/// Wraps data keys with one symmetric AWS KMS key (`kms+context`).
///
/// Configure a key ARN: the same key is named in every Decrypt. The client is envelope's
/// aws-sdk-kms path (AWS, `AWS_ENDPOINT_URL_KMS`, or the emulator).
///
/// ```no_run
/// use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
/// use envelope_s3::wrap::KmsKeyring;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let supplier = DefaultClientSupplier::from_env().await;
/// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let keyring = KmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
pub struct KmsKeyring {
    key_arn: String,
    inner: AwsKmsKeyring,
}

impl KmsKeyring {
    /// A keyring for the key `key_arn` (a key ARN, not an alias or bare id).
    ///
    /// ```
    /// use envelope_s3::wrap::KmsKeyring;
    ///
    /// # let client = aws_sdk_kms::Client::from_conf(
    /// #     aws_sdk_kms::Config::builder().behavior_version(aws_sdk_kms::config::BehaviorVersion::latest()).build());
    /// assert!(KmsKeyring::new("alias/my-key", client).is_err(), "a key ARN is required");
    /// ```
    pub fn new(key_arn: impl Into<String>, client: aws_sdk_kms::Client) -> Result<KmsKeyring> {
        let key_arn = key_arn.into();
        match KmsArn::parse(&key_arn) {
            Ok(arn) if arn.resource_type().as_str() == "key" => {}
            _ => return Err(Error::Usage(format!("{key_arn:?} is not a KMS key ARN"))),
        }
        let inner = AwsKmsKeyring::new(key_arn.clone(), client)?;
        Ok(KmsKeyring { key_arn, inner })
    }

    /// A keyring for any identifier of a key: key ARN, key id, alias name (`alias/...`) or alias
    /// ARN. Anything but a key ARN is resolved once, here, with KMS DescribeKey, so that every
    /// later Decrypt names the key itself (an alias re-pointed later keeps reading the objects
    /// wrapped under the key it named when this keyring was made).
    ///
    /// ```no_run
    /// # async fn demo(client: aws_sdk_kms::Client) -> Result<(), envelope_s3::Error> {
    /// use envelope_s3::wrap::KmsKeyring;
    ///
    /// let keyring = KmsKeyring::resolve("alias/backups", client).await?;
    /// assert!(keyring.key_arn().starts_with("arn:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resolve(key_id: &str, client: aws_sdk_kms::Client) -> Result<KmsKeyring> {
        if matches!(KmsArn::parse(key_id), Ok(arn) if arn.resource_type().as_str() == "key") {
            return KmsKeyring::new(key_id, client);
        }
        let described = client.describe_key().key_id(key_id).send().await.map_err(|error| {
            let detail = match error.message() {
                Some(message) => message.to_owned(),
                None => DisplayErrorContext(&error).to_string(),
            };
            Error::Keyring(format!("KMS DescribeKey {key_id}: {detail}"))
        })?;
        let arn = described.key_metadata().and_then(|metadata| metadata.arn()).map(str::to_owned);
        let arn = arn.ok_or_else(|| Error::Keyring(format!("KMS DescribeKey {key_id} named no key ARN")))?;
        KmsKeyring::new(arn, client)
    }

    /// The ARN of the key this keyring names in every KMS call.
    ///
    /// ```
    /// use envelope_s3::wrap::KmsKeyring;
    ///
    /// # let client = aws_sdk_kms::Client::from_conf(
    /// #     aws_sdk_kms::Config::builder().behavior_version(aws_sdk_kms::config::BehaviorVersion::latest()).build());
    /// let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = KmsKeyring::new(arn, client)?;
    /// assert_eq!(keyring.key_arn(), arn);
    /// # Ok::<(), envelope_s3::Error>(())
    /// ```
    pub fn key_arn(&self) -> &str {
        &self.key_arn
    }
}

#[async_trait]
impl S3Keyring for KmsKeyring {
    async fn wrap(&self, request: &WrapRequest) -> Result<WrappedDataKey> {
        self.wrap_with(request, None).await
    }

    async fn wrap_existing(&self, request: &WrapRequest, data_key: &DataKey) -> Result<WrappedDataKey> {
        self.wrap_with(request, Some(data_key)).await
    }

    async fn unwrap(&self, request: &UnwrapRequest<'_>) -> Result<DataKey> {
        let metadata = request.metadata;
        let stored = checked_kms_context(request)?;
        let materials =
            DecryptionMaterials::new(KMS_MATERIALS_SUITE, EncryptionContext::from(stored.clone()), vec![], None)?;
        let edk = EncryptedDataKey::new(
            PROVIDER_ID,
            self.key_arn.as_bytes().to_vec(),
            metadata.encrypted_data_key().to_vec(),
        );
        let materials = self.inner.on_decrypt(materials, &[edk]).await?;
        let data_key = materials.data_key().ok_or_else(|| Error::internal("the KMS keyring returned no data key"))?;
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::Keyring(format!("KMS returned a {}-byte data key", data_key.len())));
        }
        Ok(DataKey::new(data_key.expose_secret().to_vec()))
    }
}

impl KmsKeyring {
    /// GenerateDataKey, or Encrypt of `existing` (spec: s3-kms-keyring.md#encryptdatakey).
    async fn wrap_with(&self, request: &WrapRequest, existing: Option<&DataKey>) -> Result<WrappedDataKey> {
        check_caller_context(&request.encryption_context)?;
        let mut context = request.encryption_context.clone();
        // spec: s3-kms-keyring.md, Java KmsKeyring — the reserved key names the content cipher.
        context.insert(RESERVED_CEK_ALG_KEY.to_owned(), request.suite.cek_alg().to_owned());
        let mut materials =
            EncryptionMaterials::new(KMS_MATERIALS_SUITE, EncryptionContext::from(context.clone()), vec![], None)?;
        if let Some(existing) = existing {
            materials.set_data_key(existing.clone())?;
        }
        let materials = self.inner.on_encrypt(materials).await?;
        let (Some(data_key), [edk]) = (materials.data_key(), materials.encrypted_data_keys()) else {
            return Err(Error::internal("the KMS keyring returned no data key or not exactly one wrapped key"));
        };
        Ok(WrappedDataKey {
            data_key: DataKey::new(data_key.expose_secret().to_vec()),
            encrypted_data_key: edk.ciphertext.clone(),
            wrap: WrapAlgorithm::KmsContext,
            description: KeyDescription::EncryptionContext(context),
        })
    }
}

/// Every check a KMS unwrap makes before calling KMS; returns the stored context to send.
///
/// `kms+context`: the reserved key must name the stated content cipher, and the stored context
/// minus the reserved keys must equal the caller's. Legacy `kms` (opt-in): the description is
/// the KMS context (`{"kms_cmk_id": ...}`).
pub(super) fn checked_kms_context<'a>(request: &UnwrapRequest<'a>) -> Result<&'a BTreeMap<String, String>> {
    let metadata = request.metadata;
    let wrap = request.wrap_algorithm()?;
    let KeyDescription::EncryptionContext(stored) = metadata.description() else {
        return Err(not_mine(wrap));
    };
    {
        match wrap {
            Some(WrapAlgorithm::KmsContext) => {
                // The reserved key binds the content cipher under KMS's authentication of the
                // context: a changed x-amz-c / x-amz-cek-alg no longer matches it.
                let stated = metadata.suite().cek_alg();
                match stored.get(RESERVED_CEK_ALG_KEY) {
                    Some(bound) if bound == stated => {}
                    bound => {
                        return Err(SecurityError::CipherBindingMismatch {
                            bound: bound.cloned().unwrap_or_else(|| "(none)".into()),
                            stated: stated.to_owned(),
                        }
                        .into());
                    }
                }
            }
            // Legacy `kms`: the stored description ({"kms_cmk_id": ...}) is the KMS context.
            Some(WrapAlgorithm::KmsLegacy) if stored.contains_key(RESERVED_KMS_KEY_ID_KEY) => {}
            other => return Err(not_mine(other)),
        }
    }
    check_stored_context(stored, request.encryption_context)?;
    Ok(stored)
}

impl fmt::Debug for KmsKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKeyring").field("key_arn", &self.key_arn).finish()
    }
}
