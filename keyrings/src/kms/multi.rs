//! Multi-keyrings built from lists of KMS key ARNs.
//!
//! spec: framework/aws-kms/aws-kms-multi-keyrings.md, framework/aws-kms/aws-kms-mrk-multi-keyrings.md

use std::sync::Arc;

use envelope::error::KeyringError;
use envelope::{Keyring, MultiKeyring, Result};

use super::client_supplier::KmsClientSupplier;
use super::discovery::{AwsKmsMrkDiscoveryKeyring, DiscoveryFilter};
use super::key_arn::{KmsArn, ensure_mrks_unique};
use super::symmetric::{AwsKmsKeyring, AwsKmsMrkKeyring};

/// A multi-keyring of [`AwsKmsKeyring`]s: `generator` generates the data key, every key in
/// `key_ids` also wraps it. Each keyring gets the supplier's client for its key's Region.
///
/// Every identifier must be a key (or alias) ARN, so that its Region is known.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope::{Client, EncryptOptions};
/// use envelope_keyrings::kms::{kms_multi_keyring, DefaultClientSupplier};
///
/// # async fn demo() -> envelope::Result<()> {
/// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
/// // The us-east-1 key generates the data key; the eu-west-1 key wraps a second copy, so either
/// // Region can decrypt.
/// let keyring = kms_multi_keyring(
///     Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
///     &["arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321".to_owned()],
///     supplier,
/// )?;
/// let message = Client::with_keyring(keyring).encrypt(b"replicated", &EncryptOptions::new()).await?;
/// # let _ = message;
/// # Ok(())
/// # }
/// ```
pub fn kms_multi_keyring(
    generator: Option<&str>,
    key_ids: &[String],
    supplier: Arc<dyn KmsClientSupplier>,
) -> Result<MultiKeyring> {
    build(generator, key_ids, &*supplier, |key_id, client| Ok(Arc::new(AwsKmsKeyring::new(key_id, client)?)))
}

/// A multi-keyring of [`AwsKmsMrkKeyring`]s. Fails when two identifiers name the same
/// multi-Region key (in different Regions): which Region to call would be ambiguous.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::{kms_mrk_multi_keyring, DefaultClientSupplier};
///
/// # async fn demo() -> envelope::Result<()> {
/// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
/// let east = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
/// let keyring = kms_mrk_multi_keyring(Some(east), &[], supplier.clone())?;
/// # let _ = keyring;
///
/// // Two replicas of one multi-Region key: refused.
/// let west = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
/// assert!(kms_mrk_multi_keyring(Some(east), &[west.to_owned()], supplier).is_err());
/// # Ok(())
/// # }
/// ```
pub fn kms_mrk_multi_keyring(
    generator: Option<&str>,
    key_ids: &[String],
    supplier: Arc<dyn KmsClientSupplier>,
) -> Result<MultiKeyring> {
    // spec: aws-kms-mrk-multi-keyrings.md — all identifiers MUST pass "AWS KMS MRK are unique".
    ensure_mrks_unique(generator.into_iter().chain(key_ids.iter().map(String::as_str)))
        .map_err(KeyringError::Configuration)?;
    build(generator, key_ids, &*supplier, |key_id, client| Ok(Arc::new(AwsKmsMrkKeyring::new(key_id, client)?)))
}

/// A multi-keyring of [`AwsKmsMrkDiscoveryKeyring`]s, one per Region.
///
/// spec: aws-kms-mrk-multi-keyrings.md#aws-kms-mrk-discovery-multi-keyring
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::{kms_mrk_discovery_multi_keyring, DefaultClientSupplier, DiscoveryFilter};
///
/// # async fn demo() -> envelope::Result<()> {
/// let supplier = Arc::new(DefaultClientSupplier::from_env().await);
/// let filter = DiscoveryFilter { partition: "aws".to_owned(), account_ids: vec!["111122223333".to_owned()] };
/// // Try the eu-west-1 replicas first, then the us-east-1 ones.
/// let regions = ["eu-west-1".to_owned(), "us-east-1".to_owned()];
/// let keyring = kms_mrk_discovery_multi_keyring(&regions, Some(filter), supplier)?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
pub fn kms_mrk_discovery_multi_keyring(
    regions: &[String],
    filter: Option<DiscoveryFilter>,
    supplier: Arc<dyn KmsClientSupplier>,
) -> Result<MultiKeyring> {
    // spec: aws-kms-mrk-multi-keyrings.md — an empty set of Regions, or an empty Region, MUST fail.
    if regions.is_empty() {
        return Err(
            KeyringError::Configuration("an MRK discovery multi-keyring needs at least one Region".into()).into()
        );
    }
    let children = regions
        .iter()
        .map(|region| {
            let keyring = AwsKmsMrkDiscoveryKeyring::new(supplier.clone(), region.clone(), filter.clone())?;
            Ok(Arc::new(keyring) as Arc<dyn Keyring>)
        })
        .collect::<Result<Vec<_>>>()?;
    MultiKeyring::new(None, children)
}

fn build(
    generator: Option<&str>,
    key_ids: &[String],
    supplier: &dyn KmsClientSupplier,
    make: impl Fn(&str, aws_sdk_kms::Client) -> Result<Arc<dyn Keyring>>,
) -> Result<MultiKeyring> {
    let keyring = |key_id: &str| -> Result<Arc<dyn Keyring>> {
        // spec: aws-kms-multi-keyrings.md — an identifier that is not a valid AWS KMS ARN MUST fail.
        let arn = KmsArn::parse(key_id).map_err(|error| KeyringError::Configuration(error.to_string()))?;
        // spec: aws-kms-multi-keyrings.md — the client comes from the supplier for the ARN's Region.
        make(key_id, supplier.client_for_region(arn.region())?)
    };
    let generator = generator.map(keyring).transpose()?;
    let children = key_ids.iter().map(|key_id| keyring(key_id)).collect::<Result<Vec<_>>>()?;
    MultiKeyring::new(generator, children)
}
