//! AWS KMS keyrings for the runner: the [`KmsKeyrings`] hook over `aws-sdk-kms` clients from a
//! [`KmsClientSupplier`] (one client per Region), so the same manifests run against AWS or against
//! the bundled emulator (`AWS_ENDPOINT_URL_KMS`).
//!
//! | description | encrypt | decrypt |
//! |---|---|---|
//! | `aws-kms` | [`AwsKmsKeyring`](envelope_keyrings::AwsKmsKeyring) | the same, for that key |
//! | `aws-kms-mrk-aware` | [`AwsKmsMrkKeyring`](envelope_keyrings::AwsKmsMrkKeyring) | the same (also replicas' EDKs) |
//! | `aws-kms-mrk-aware-discovery` | — (invalid) | MRK discovery multi-keyring over `default-mrk-region`, with `aws-kms-discovery-filter` |
//! | `aws-kms-rsa` | [`AwsKmsRsaKeyring`](envelope_keyrings::AwsKmsRsaKeyring) with the entry's PEM public key | the same, with a client |
//! | `aws-kms-ecdh` | `static`: [`AwsKmsEcdhKeyring::static_keys`](envelope_keyrings::AwsKmsEcdhKeyring::static_keys) | `static`, or `discovery` (recipient's key) |
//! | `aws-kms-hierarchy` | skipped (no hierarchical keyring) | skipped |
//!
//! **Unreachable keys are skipped, not failed.** Before building a keyring for a named key, the
//! key is looked up once per run with DescribeKey. When KMS answers `NotFoundException`, or does
//! not answer at all (no endpoint, no credentials), the test is skipped with that reason: the
//! official vectors name keys of AWS's own accounts, which an emulator cannot have. Any other
//! answer — including `AccessDeniedException`, since AWS's public test keys allow Decrypt to
//! everyone but not DescribeKey — lets the test run and pass or fail on its merits. Discovery
//! keyrings name no key: their Region is probed with ListKeys, and only a KMS that does not
//! answer skips the test (a key missing there makes the test fail, as a keyring bug would).

mod build;
mod runtime;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;
use aws_sdk_kms::config::Region;
use aws_sdk_kms::error::SdkError;
use envelope::Keyring;
use envelope_keyrings::kms::{DefaultClientSupplier, KmsArn, KmsClientSupplier};

use crate::error::{Error, Result};
use crate::keys::{KmsKeyrings, Operation, Resolved};
use crate::manifest::key_description::KeyDescription;
use crate::manifest::keys::{KeyEntry, KeysManifest};

use runtime::{KmsRuntime, OnRuntime};

/// Builds AWS KMS keyrings for the runner, with clients that live on the runner's own KMS runtime.
///
/// ```no_run
/// use std::path::Path;
/// use std::sync::Arc;
/// use envelope_vectors::{AwsKmsKeyrings, RunOptions, run_decrypt_manifest};
///
/// // The usual AWS configuration (environment, profiles; `AWS_ENDPOINT_URL_KMS` for an emulator).
/// let kms = AwsKmsKeyrings::from_env()?;
/// // Or a KMS emulator at a known address, whatever the environment says:
/// let local = AwsKmsKeyrings::with_endpoint("http://127.0.0.1:4566")?;
/// # let _ = local;
/// let options = RunOptions { kms: Some(Arc::new(kms)), ..RunOptions::default() };
/// let report = run_decrypt_manifest(Path::new("v4-Net-4.0.1.zip"), &options)?;
/// println!("{}", report.summary());
/// # Ok::<(), envelope_vectors::Error>(())
/// ```
pub struct AwsKmsKeyrings {
    // Field order matters: the supplier (and its clients) drop before the runtime they use.
    supplier: Arc<dyn KmsClientSupplier>,
    /// Key ARN → why it is unreachable (`None`: reachable), so each key is probed once.
    probes: Mutex<HashMap<String, Option<String>>>,
    runtime: KmsRuntime,
}

impl AwsKmsKeyrings {
    /// Clients from the usual AWS configuration chain: environment variables (including
    /// `AWS_ENDPOINT_URL_KMS`), shared config and credentials files, profiles.
    ///
    /// Every client is built for its key's Region, so the configuration's own Region only serves
    /// credential providers: `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1` — never a
    /// lookup on the instance metadata service.
    pub fn from_env() -> Result<AwsKmsKeyrings> {
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|r| !r.is_empty()))
            .unwrap_or_else(|| "us-east-1".to_owned());
        AwsKmsKeyrings::start(move || async move {
            let config = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region)).load().await;
            Arc::new(DefaultClientSupplier::from_sdk_config(config)) as Arc<dyn KmsClientSupplier>
        })
    }

    /// Clients that send every request to `endpoint_url` (e.g. an emulator on 127.0.0.1) with
    /// static dummy credentials, reading nothing from the environment.
    pub fn with_endpoint(endpoint_url: &str) -> Result<AwsKmsKeyrings> {
        let endpoint_url = endpoint_url.to_owned();
        AwsKmsKeyrings::start(move || async move {
            Arc::new(DefaultClientSupplier::with_endpoint(&endpoint_url).await) as Arc<dyn KmsClientSupplier>
        })
    }

    /// Starts the KMS runtime and builds the supplier on it (loading AWS configuration may spawn
    /// tasks, which must live as long as the clients).
    fn start<F, Fut>(make: F) -> Result<AwsKmsKeyrings>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Arc<dyn KmsClientSupplier>> + Send + 'static,
    {
        let runtime = KmsRuntime::new().map_err(|e| Error::Kms(format!("could not start the KMS runtime: {e}")))?;
        let supplier = runtime.run(async move { make().await }).map_err(Error::Kms)?;
        Ok(AwsKmsKeyrings { supplier, probes: Mutex::new(HashMap::new()), runtime })
    }

    /// A client for `region`, or why not (an unreachable key).
    fn client(&self, region: &str) -> std::result::Result<aws_sdk_kms::Client, String> {
        self.supplier.client_for_region(region).map_err(|e| e.to_string())
    }

    /// `Some(reason)` when KMS says the key does not exist or does not answer (see module docs).
    fn unreachable(&self, arn: &KmsArn) -> Option<String> {
        let key = arn.to_string();
        self.probe(key.clone(), arn.region(), move |client| async move {
            match client.describe_key().key_id(&key).send().await {
                Ok(_) => None,
                Err(SdkError::ServiceError(e)) if e.err().is_not_found_exception() => {
                    Some(format!("KMS says {key} does not exist (NotFoundException)"))
                }
                Err(SdkError::ServiceError(_)) => None,
                Err(other) => Some(format!("KMS in {} did not answer DescribeKey: {}", region_of(&key), chain(&other))),
            }
        })
    }

    /// `Some(reason)` when KMS in `region` does not answer at all (discovery keyrings name no
    /// key to look up; any answer, even a refusal, counts as reachable).
    fn region_unreachable(&self, region: &str) -> Option<String> {
        let region_name = region.to_owned();
        self.probe(format!("region {region}"), region, move |client| async move {
            match client.list_keys().limit(1).send().await {
                Ok(_) | Err(SdkError::ServiceError(_)) => None,
                Err(other) => Some(format!("KMS in {region_name} did not answer ListKeys: {}", chain(&other))),
            }
        })
    }

    /// Runs a probe once per `cache_key` on the KMS runtime; `Some(reason)`: unreachable.
    fn probe<F, Fut>(&self, cache_key: String, region: &str, probe: F) -> Option<String>
    where
        F: FnOnce(aws_sdk_kms::Client) -> Fut,
        Fut: std::future::Future<Output = Option<String>> + Send + 'static,
    {
        // A poisoned lock only means a probe panicked; the cache itself is intact.
        if let Some(known) = self.probes.lock().unwrap_or_else(|p| p.into_inner()).get(&cache_key) {
            return known.clone();
        }
        let outcome = match self.client(region) {
            Err(why) => Some(why),
            Ok(client) => self.runtime.run(probe(client)).unwrap_or_else(Some),
        };
        self.probes.lock().unwrap_or_else(|p| p.into_inner()).insert(cache_key, outcome.clone());
        outcome
    }

    /// Wraps a keyring so that its KMS calls run on the KMS runtime.
    fn bind(&self, keyring: Arc<dyn Keyring>) -> build::Built {
        let handle =
            self.runtime.handle().ok_or_else(|| build::Problem::Unreachable("the KMS runtime has stopped".into()))?;
        Ok(Arc::new(OnRuntime::new(keyring, handle)))
    }
}

/// An error and its sources, `: `-separated (the SDK's own Display says only "dispatch failure").
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(next) = source {
        parts.push(next.to_string());
        source = next.source();
    }
    parts.join(": ")
}

/// The Region of a key ARN, for messages.
fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or("?")
}

impl KmsKeyrings for AwsKmsKeyrings {
    fn keyring(
        &self,
        description: &KeyDescription,
        entry: Option<(&str, &KeyEntry)>,
        keys: &KeysManifest,
        operation: Operation,
    ) -> Resolved<Arc<dyn Keyring>> {
        match build::keyring(self, description, entry, keys, operation).and_then(|k| self.bind(k)) {
            Ok(value) => Resolved::Ready { value, unreachable: Vec::new() },
            Err(build::Problem::Unreachable(reason)) => Resolved::Unreachable(reason),
            Err(build::Problem::Invalid(reason)) => Resolved::Invalid(reason),
        }
    }
}

impl std::fmt::Debug for AwsKmsKeyrings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsKeyrings").field("supplier", &self.supplier).finish_non_exhaustive()
    }
}
