//! KMS discovery on read: Decrypt without a key id, so whichever KMS key wrapped the object's
//! data key is used, if the caller may use it; an optional filter restricts it to accounts and
//! Regions. Never wraps (a put needs a key).
//!
//! The S3 formats store no key id for `kms+context` (the KMS ciphertext names its key), so the
//! key used is known only from KMS's answer: the filter is checked on that answer, and a data
//! key from a key outside it is zeroized and refused.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use envelope::DataKey;
use envelope_keyrings::kms::KmsArn;

use super::kms::checked_kms_context;
use super::{S3Keyring, UnwrapRequest, WrapRequest, WrappedDataKey};
use crate::content::DATA_KEY_LEN;
use crate::error::{Error, Result};

/// Which KMS keys a [`KmsDiscoveryKeyring`] may use.
///
/// ```
/// use envelope_s3::wrap::KmsDiscoveryFilter;
///
/// let filter = KmsDiscoveryFilter::accounts("aws", ["111122223333"]).regions(["us-east-1", "eu-west-1"]);
/// assert!(filter.allows("arn:aws:kms:eu-west-1:111122223333:key/k").is_ok());
/// assert!(filter.allows("arn:aws:kms:us-west-2:111122223333:key/k").is_err());
/// assert!(filter.allows("arn:aws:kms:us-east-1:444455556666:key/k").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsDiscoveryFilter {
    partition: String,
    account_ids: Vec<String>,
    regions: Vec<String>,
}

impl KmsDiscoveryFilter {
    /// Keys of `account_ids` in `partition` (e.g. `aws`), in any Region.
    ///
    /// ```
    /// use envelope_s3::wrap::KmsDiscoveryFilter;
    ///
    /// let filter = KmsDiscoveryFilter::accounts("aws", ["111122223333"]);
    /// assert!(filter.allows("arn:aws-cn:kms:cn-north-1:111122223333:key/k").is_err(), "another partition");
    /// ```
    pub fn accounts<I, S>(partition: impl Into<String>, account_ids: I) -> KmsDiscoveryFilter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        KmsDiscoveryFilter {
            partition: partition.into(),
            account_ids: account_ids.into_iter().map(Into::into).collect(),
            regions: Vec::new(),
        }
    }

    /// Restricts the filter to keys in `regions` (an empty list: any Region).
    ///
    /// ```
    /// use envelope_s3::wrap::KmsDiscoveryFilter;
    ///
    /// let filter = KmsDiscoveryFilter::accounts("aws", ["111122223333"]).regions(["us-east-1"]);
    /// assert!(filter.allows("arn:aws:kms:us-east-1:111122223333:key/k").is_ok());
    /// ```
    pub fn regions<I, S>(mut self, regions: I) -> KmsDiscoveryFilter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the key `key_arn` passes; the error says why not.
    ///
    /// ```
    /// use envelope_s3::wrap::KmsDiscoveryFilter;
    ///
    /// let filter = KmsDiscoveryFilter::accounts("aws", ["111122223333"]);
    /// assert!(filter.allows("not an arn").is_err());
    /// ```
    pub fn allows(&self, key_arn: &str) -> Result<()> {
        let refused =
            |why: String| Err(Error::Keyring(format!("KMS key {key_arn} is outside the discovery filter: {why}")));
        let Ok(arn) = KmsArn::parse(key_arn) else {
            return refused("not a KMS key ARN".into());
        };
        if arn.partition() != self.partition {
            return refused(format!("partition {} is not {}", arn.partition(), self.partition));
        }
        if !self.account_ids.iter().any(|account| account == arn.account()) {
            return refused(format!("account {} is not one of {}", arn.account(), self.account_ids.join(", ")));
        }
        if !self.regions.is_empty() && !self.regions.iter().any(|region| region == arn.region()) {
            return refused(format!("Region {} is not one of {}", arn.region(), self.regions.join(", ")));
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        if self.partition.is_empty() || self.account_ids.is_empty() || self.account_ids.iter().any(String::is_empty) {
            return Err(Error::Usage("a KMS discovery filter needs a partition and at least one account id".into()));
        }
        Ok(())
    }
}

/// Unwraps `kms+context` (and, with the legacy opt-in, `kms`) data keys with whichever KMS key
/// wrapped them, as the Java client's discovery keyring does; optionally only keys a
/// [`KmsDiscoveryFilter`] allows. The client's Region is the one KMS is asked in.
///
/// The encryption-context rules are those of [`KmsKeyring`](super::KmsKeyring): the caller's
/// context must equal the stored one minus the reserved keys, and the reserved
/// `aws:x-amz-cek-alg` must name the object's content cipher.
///
/// ```no_run
/// use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
/// use envelope_s3::wrap::{KmsDiscoveryFilter, KmsDiscoveryKeyring};
/// use envelope_s3::{CommitmentPolicy, ObjectCrypto};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = DefaultClientSupplier::from_env().await.client_for_region("us-east-1")?;
/// let keyring = KmsDiscoveryKeyring::new(client)
///     .with_filter(KmsDiscoveryFilter::accounts("aws", ["111122223333"]))?;
/// let reader = ObjectCrypto::new(keyring).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
/// # let _ = reader;
/// # Ok(())
/// # }
/// ```
pub struct KmsDiscoveryKeyring {
    client: aws_sdk_kms::Client,
    filter: Option<KmsDiscoveryFilter>,
}

impl KmsDiscoveryKeyring {
    /// A discovery keyring over `client`, with no filter (any key the caller may use).
    ///
    /// ```
    /// use envelope_s3::wrap::KmsDiscoveryKeyring;
    ///
    /// # let client = aws_sdk_kms::Client::from_conf(
    /// #     aws_sdk_kms::Config::builder().behavior_version(aws_sdk_kms::config::BehaviorVersion::latest()).build());
    /// let keyring = KmsDiscoveryKeyring::new(client);
    /// assert!(format!("{keyring:?}").contains("filter: None"));
    /// ```
    pub fn new(client: aws_sdk_kms::Client) -> KmsDiscoveryKeyring {
        KmsDiscoveryKeyring { client, filter: None }
    }

    /// Only keys `filter` allows.
    ///
    /// ```
    /// use envelope_s3::wrap::{KmsDiscoveryFilter, KmsDiscoveryKeyring};
    ///
    /// # let client = aws_sdk_kms::Client::from_conf(
    /// #     aws_sdk_kms::Config::builder().behavior_version(aws_sdk_kms::config::BehaviorVersion::latest()).build());
    /// let empty = KmsDiscoveryFilter::accounts("aws", Vec::<String>::new());
    /// assert!(KmsDiscoveryKeyring::new(client).with_filter(empty).is_err());
    /// ```
    pub fn with_filter(mut self, filter: KmsDiscoveryFilter) -> Result<KmsDiscoveryKeyring> {
        filter.validate()?;
        self.filter = Some(filter);
        Ok(self)
    }
}

#[async_trait]
impl S3Keyring for KmsDiscoveryKeyring {
    async fn wrap(&self, _: &WrapRequest) -> Result<WrappedDataKey> {
        Err(Error::Usage("a KMS discovery keyring only decrypts; encrypting needs a KMS key ARN".into()))
    }

    async fn unwrap(&self, request: &UnwrapRequest<'_>) -> Result<DataKey> {
        let stored = checked_kms_context(request)?;
        let context: HashMap<String, String> = stored.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let response = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(request.metadata.encrypted_data_key().to_vec()))
            .set_encryption_context(Some(context))
            .send()
            .await
            .map_err(|error| {
                Error::Keyring(format!("KMS Decrypt failed: {}", aws_sdk_kms::error::DisplayErrorContext(error)))
            })?;
        let key_id = response.key_id().unwrap_or_default().to_owned();
        // Take the plaintext first so it is zeroized on every path below.
        let data_key = DataKey::new(response.plaintext.map(Blob::into_inner).unwrap_or_default());
        if let Some(filter) = &self.filter {
            filter.allows(&key_id)?;
        }
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::Keyring(format!("KMS returned a {}-byte data key", data_key.len())));
        }
        tracing::debug!(key_id = %key_id, "unwrapped a data key by KMS discovery");
        Ok(data_key)
    }
}

impl fmt::Debug for KmsDiscoveryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsDiscoveryKeyring").field("filter", &self.filter).finish()
    }
}
