//! Discovery keyrings: decrypt with whatever KMS key the EDK names, within a filter.
//!
//! spec: framework/aws-kms/aws-kms-discovery-keyring.md,
//! framework/aws-kms/aws-kms-mrk-discovery-keyring.md

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};

use super::PROVIDER_ID;
use super::client_supplier::KmsClientSupplier;
use super::edk::{arn_of, decrypt_data_key};
use super::key_arn::KmsArn;

/// Limits discovery to keys of one partition and a set of accounts.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, DefaultClientSupplier, DiscoveryFilter};
///
/// # async fn demo() -> envelope::Result<()> {
/// // Only keys of these two accounts in the commercial partition.
/// let filter = DiscoveryFilter {
///     partition: "aws".to_owned(),
///     account_ids: vec!["111122223333".to_owned(), "444455556666".to_owned()],
/// };
/// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
/// let keyring = AwsKmsDiscoveryKeyring::new(supplier, Some(filter))?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryFilter {
    /// The partition, e.g. `aws`.
    pub partition: String,
    /// Accounts whose keys may be used.
    pub account_ids: Vec<String>,
}

impl DiscoveryFilter {
    fn validate(&self) -> Result<()> {
        if self.partition.is_empty() {
            return Err(KeyringError::Configuration("a discovery filter needs a partition".into()).into());
        }
        if self.account_ids.is_empty() || self.account_ids.iter().any(String::is_empty) {
            return Err(KeyringError::Configuration("a discovery filter needs non-empty account ids".into()).into());
        }
        Ok(())
    }

    /// Why `arn` is outside the filter, if it is.
    fn excludes(&self, arn: &KmsArn) -> Option<String> {
        // spec: aws-kms-discovery-keyring.md#ondecrypt — the partitions MUST match and the filter's
        // accounts MUST contain the provider info account.
        if arn.partition() != self.partition {
            return Some(format!("partition {} is not the discovery filter's {}", arn.partition(), self.partition));
        }
        if !self.account_ids.iter().any(|account| account == arn.account()) {
            return Some(format!(
                "account {} is not in the discovery filter ({})",
                arn.account(),
                self.account_ids.join(", ")
            ));
        }
        None
    }
}

/// Decrypts `aws-kms` EDKs with the key ARN each one names, calling KMS in that key's Region
/// (a client from the supplier). Never encrypts.
///
/// Without a filter it uses any key the caller's credentials may use; a [`DiscoveryFilter`]
/// restricts it to a partition and a set of accounts.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions};
/// use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, DefaultClientSupplier, DiscoveryFilter};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let message: Vec<u8> = Vec::new();
/// let runtime = tokio::runtime::Runtime::new()?;
/// let supplier = Arc::new(runtime.block_on(DefaultClientSupplier::from_env()));
/// let filter = DiscoveryFilter { partition: "aws".to_owned(), account_ids: vec!["111122223333".to_owned()] };
/// let keyring = AwsKmsDiscoveryKeyring::new(supplier, Some(filter))?;
///
/// let reader = BlockingClient::with_runtime(Client::with_keyring(keyring), runtime.handle().clone())?;
/// let plaintext = reader.decrypt(&message, &DecryptOptions::new())?.plaintext;
/// # let _ = plaintext;
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsDiscoveryKeyring {
    supplier: Arc<dyn KmsClientSupplier>,
    filter: Option<DiscoveryFilter>,
    grant_tokens: Vec<String>,
}

impl AwsKmsDiscoveryKeyring {
    /// A discovery keyring. Fails if the filter has an empty partition or no accounts.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, DefaultClientSupplier, DiscoveryFilter};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
    /// let any_key = AwsKmsDiscoveryKeyring::new(supplier.clone(), None)?;
    /// # let _ = any_key;
    ///
    /// let empty = DiscoveryFilter { partition: "aws".to_owned(), account_ids: vec![] };
    /// assert!(AwsKmsDiscoveryKeyring::new(supplier, Some(empty)).is_err(), "a filter names at least one account");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        supplier: Arc<dyn KmsClientSupplier>,
        filter: Option<DiscoveryFilter>,
    ) -> Result<AwsKmsDiscoveryKeyring> {
        if let Some(filter) = &filter {
            filter.validate()?;
        }
        Ok(AwsKmsDiscoveryKeyring { supplier, filter, grant_tokens: Vec::new() })
    }

    /// Grant tokens sent with every KMS request.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, DefaultClientSupplier};
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
    /// let keyring = AwsKmsDiscoveryKeyring::new(supplier, None)?.with_grant_tokens(vec![grant_token]);
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsDiscoveryKeyring {
        self.grant_tokens = grant_tokens;
        self
    }
}

#[async_trait]
impl Keyring for AwsKmsDiscoveryKeyring {
    async fn on_encrypt(&self, _materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: aws-kms-discovery-keyring.md#onencrypt — this function MUST fail.
        Err(KeyringError::Configuration("an AWS KMS discovery keyring only decrypts".into()).into())
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS discovery keyring")?;
        super::require_runtime()?;
        let label = "AWS KMS discovery keyring";
        discover(materials, edks, label, &self.grant_tokens, |arn| {
            if let Some(why) = self.filter.as_ref().and_then(|filter| filter.excludes(arn)) {
                return Target::NotMine(why);
            }
            match self.supplier.client_for_region(arn.region()) {
                // spec: aws-kms-discovery-keyring.md#ondecrypt — KeyId is the ARN from the provider info.
                Ok(client) => Target::Call(client, arn.to_string()),
                Err(error) => Target::Failed(format!("no KMS client for Region {}: {error}", arn.region())),
            }
        })
        .await
    }
}

impl fmt::Debug for AwsKmsDiscoveryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsDiscoveryKeyring").field("filter", &self.filter).finish_non_exhaustive()
    }
}

/// Decrypts `aws-kms` EDKs by calling KMS in one Region: single-Region keys of that Region, and
/// multi-Region keys through their replica in that Region (whatever Region wrote them). Never
/// encrypts.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope::{Client, DecryptOptions};
/// use envelope_keyrings::kms::{AwsKmsMrkDiscoveryKeyring, DefaultClientSupplier, DiscoveryFilter};
///
/// # async fn demo(message: Vec<u8>) -> envelope::Result<()> {
/// // A service in eu-west-1 reads messages written in any Region under multi-Region keys, calling
/// // only its local replicas.
/// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
/// let filter = DiscoveryFilter { partition: "aws".to_owned(), account_ids: vec!["111122223333".to_owned()] };
/// let keyring = AwsKmsMrkDiscoveryKeyring::new(supplier, "eu-west-1".to_owned(), Some(filter))?;
/// let plaintext = Client::with_keyring(keyring).decrypt(&message, &DecryptOptions::new()).await?.plaintext;
/// # let _ = plaintext;
/// # Ok(())
/// # }
/// ```
pub struct AwsKmsMrkDiscoveryKeyring {
    client: aws_sdk_kms::Client,
    region: String,
    filter: Option<DiscoveryFilter>,
    grant_tokens: Vec<String>,
    label: String,
}

impl AwsKmsMrkDiscoveryKeyring {
    /// A keyring calling KMS in `region` (with the supplier's client for that Region).
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use envelope_keyrings::kms::{AwsKmsMrkDiscoveryKeyring, DefaultClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
    /// let keyring = AwsKmsMrkDiscoveryKeyring::new(supplier.clone(), "us-west-2".to_owned(), None)?;
    /// # let _ = keyring;
    /// assert!(AwsKmsMrkDiscoveryKeyring::new(supplier, String::new(), None).is_err(), "a Region is required");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        supplier: Arc<dyn KmsClientSupplier>,
        region: String,
        filter: Option<DiscoveryFilter>,
    ) -> Result<AwsKmsMrkDiscoveryKeyring> {
        // spec: aws-kms-mrk-discovery-keyring.md#initialization — required parameters MUST be present.
        if region.is_empty() {
            return Err(KeyringError::Configuration("an MRK discovery keyring needs a Region".into()).into());
        }
        if let Some(filter) = &filter {
            filter.validate()?;
        }
        let client = supplier.client_for_region(&region)?;
        Ok(AwsKmsMrkDiscoveryKeyring::with_client(client, region, filter))
    }

    /// A keyring over a client the caller built for `region`.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::AwsKmsMrkDiscoveryKeyring;
    ///
    /// # async fn demo() {
    /// // A client the application configured itself (interceptors, retries, …) for us-west-2.
    /// let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
    ///     .region(aws_sdk_kms::config::Region::new("us-west-2"))
    ///     .load()
    ///     .await;
    /// let client = aws_sdk_kms::Client::new(&config);
    /// let keyring = AwsKmsMrkDiscoveryKeyring::with_client(client, "us-west-2".to_owned(), None);
    /// # let _ = keyring;
    /// # }
    /// ```
    pub fn with_client(
        client: aws_sdk_kms::Client,
        region: String,
        filter: Option<DiscoveryFilter>,
    ) -> AwsKmsMrkDiscoveryKeyring {
        let label = format!("AWS KMS MRK discovery keyring ({region})");
        AwsKmsMrkDiscoveryKeyring { client, region, filter, grant_tokens: Vec::new(), label }
    }

    /// Grant tokens sent with every KMS request.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use envelope_keyrings::kms::{AwsKmsMrkDiscoveryKeyring, DefaultClientSupplier};
    ///
    /// # async fn demo(grant_token: String) -> envelope::Result<()> {
    /// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
    /// let keyring = AwsKmsMrkDiscoveryKeyring::new(supplier, "us-west-2".to_owned(), None)?
    ///     .with_grant_tokens(vec![grant_token]);
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> AwsKmsMrkDiscoveryKeyring {
        self.grant_tokens = grant_tokens;
        self
    }
}

#[async_trait]
impl Keyring for AwsKmsMrkDiscoveryKeyring {
    async fn on_encrypt(&self, _materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: aws-kms-mrk-discovery-keyring.md#onencrypt — this function MUST fail.
        Err(KeyringError::Configuration("an AWS KMS MRK discovery keyring only decrypts".into()).into())
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "AWS KMS discovery keyring")?;
        super::require_runtime()?;
        discover(materials, edks, &self.label, &self.grant_tokens, |arn| {
            if let Some(why) = self.filter.as_ref().and_then(|filter| filter.excludes(arn)) {
                return Target::NotMine(why);
            }
            if arn.is_multi_region_key() {
                // spec: aws-kms-mrk-discovery-keyring.md#ondecrypt — for a multi-Region key, KeyId is the
                // provider info with the Region replaced by the client's Region.
                Target::Call(self.client.clone(), arn.with_region(&self.region).to_string())
            } else if arn.region() != self.region {
                // spec: aws-kms-mrk-discovery-keyring.md#ondecrypt — a single-Region key's Region MUST
                // match the client's Region.
                Target::NotMine(format!("single-Region key in {}, this keyring calls {}", arn.region(), self.region))
            } else {
                Target::Call(self.client.clone(), arn.to_string())
            }
        })
        .await
    }
}

impl fmt::Debug for AwsKmsMrkDiscoveryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsMrkDiscoveryKeyring")
            .field("region", &self.region)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

/// What a discovery keyring does with one `aws-kms` EDK.
enum Target {
    NotMine(String),
    Failed(String),
    /// Call Decrypt with this client and KeyId.
    Call(aws_sdk_kms::Client, String),
}

/// The decrypt loop both discovery keyrings share.
async fn discover(
    mut materials: DecryptionMaterials,
    edks: &[EncryptedDataKey],
    label: &str,
    grant_tokens: &[String],
    target: impl Fn(&KmsArn) -> Target,
) -> Result<DecryptionMaterials> {
    // spec: aws-kms-discovery-keyring.md#ondecrypt — MUST fail if the materials already hold a data key.
    ensure_no_data_key(&materials)?;
    let length = materials.suite().data_key_len();
    let mut failures = Vec::new();
    for edk in edks {
        // spec: aws-kms-discovery-keyring.md#ondecrypt — provider id MUST be "aws-kms"; provider info
        // MUST be a valid key ARN or OnDecrypt MUST fail.
        let Some(info) = arn_of(edk, PROVIDER_ID, label, &mut failures)? else {
            continue;
        };
        let arn = match KmsArn::parse(info) {
            Ok(arn) => arn,
            Err(why) => {
                failures.push(EdkFailure::failed(edk, label, why.to_string()));
                return Err(KeyringError::NoDataKeyUnwrapped(failures).into());
            }
        };
        let (client, key_id) = match target(&arn) {
            Target::NotMine(why) => {
                failures.push(EdkFailure::not_mine(edk, label, why));
                continue;
            }
            Target::Failed(why) => {
                failures.push(EdkFailure::failed(edk, label, why));
                continue;
            }
            Target::Call(client, key_id) => (client, key_id),
        };
        // spec: aws-kms-discovery-keyring.md#ondecrypt — the response KeyId MUST equal the requested
        // ARN and the plaintext length MUST fit the suite.
        let context = materials.encryption_context();
        match decrypt_data_key(&client, &key_id, edk, context, grant_tokens, length).await {
            Ok(plaintext) => {
                materials.set_data_key(plaintext)?;
                return Ok(materials);
            }
            Err(why) => failures.push(EdkFailure::failed(edk, label, why)),
        }
    }
    Err(KeyringError::NoDataKeyUnwrapped(failures).into())
}
