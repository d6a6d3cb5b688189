//! Where the KMS keyrings get their clients: one `aws_sdk_kms::Client` per Region.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_sdk_kms::config::Region;
use envelope::error::KeyringError;

/// The access key id (and secret) [`DefaultClientSupplier::with_endpoint`] signs with: not a
/// credential, only something for a permissive emulator to ignore.
///
/// ```no_run
/// use envelope_keyrings::kms::{DefaultClientSupplier, PERMISSIVE_ACCESS_KEY_ID};
///
/// # async fn demo() {
/// // Requests are signed with this placeholder key id; a permissive emulator accepts them unchecked.
/// let supplier = DefaultClientSupplier::with_endpoint("http://127.0.0.1:4000").await;
/// # let _ = (supplier, PERMISSIVE_ACCESS_KEY_ID);
/// # }
/// ```
pub const PERMISSIVE_ACCESS_KEY_ID: &str = "permissive-placeholder";

/// Hands out an AWS KMS client for a Region (the Region of a key ARN).
///
/// Implement it to share clients with the rest of an application, to add interceptors or to
/// route some Regions elsewhere; [`DefaultClientSupplier`] covers the usual cases.
///
/// A supplier that sends one Region to a local emulator and every other Region to AWS:
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, DefaultClientSupplier, KmsClientSupplier};
///
/// #[derive(Debug)]
/// struct LocalTesting {
///     aws: DefaultClientSupplier,
///     emulator: DefaultClientSupplier,
/// }
///
/// impl KmsClientSupplier for LocalTesting {
///     fn client_for_region(&self, region: &str) -> Result<aws_sdk_kms::Client, envelope::Error> {
///         match region {
///             "local-1" => self.emulator.client_for_region(region),
///             _ => self.aws.client_for_region(region),
///         }
///     }
/// }
///
/// # async fn demo() -> envelope::Result<()> {
/// let supplier = LocalTesting {
///     aws: DefaultClientSupplier::from_env().await,
///     emulator: DefaultClientSupplier::with_endpoint("http://127.0.0.1:4000").await,
/// };
/// let keyring = AwsKmsDiscoveryKeyring::new(Arc::new(supplier), None)?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
pub trait KmsClientSupplier: Send + Sync + fmt::Debug {
    /// A client whose requests are signed for, and sent to, `region`.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsArn, KmsClientSupplier};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let key = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// // The client must be for the key's Region.
    /// let client = supplier.client_for_region(KmsArn::parse(key)?.region())?;
    /// let keyring = AwsKmsKeyring::new(key, client)?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    fn client_for_region(&self, region: &str) -> Result<aws_sdk_kms::Client, envelope::Error>;
}

/// Builds one client per Region from a shared configuration and caches it.
///
/// - [`from_env`](Self::from_env): the usual AWS configuration — environment variables, shared
///   config and credentials files, profiles, SSO, instance roles — including
///   `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL`, so the same code talks to AWS or to an emulator.
/// - [`with_endpoint_and_credentials`](Self::with_endpoint_and_credentials): a fixed endpoint
///   and the credentials you give, reading nothing from the environment: for an emulator that
///   checks signatures (`envelope kms serve --credentials`, the CLI's embedded emulator).
/// - [`with_endpoint`](Self::with_endpoint): a fixed endpoint and a placeholder credential, for
///   an emulator in permissive mode (`envelope kms serve` without `--credentials`) and tests.
/// - [`from_sdk_config`](Self::from_sdk_config): a configuration the application already loaded.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::{kms_multi_keyring, DefaultClientSupplier, KmsClientSupplier};
///
/// # async fn demo() -> envelope::Result<()> {
/// // One supplier for the whole program: it builds each Region's client once and caches it.
/// let supplier: Arc<dyn KmsClientSupplier> = Arc::new(DefaultClientSupplier::from_env().await);
/// let keyring = kms_multi_keyring(
///     Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
///     &["arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321".to_owned()],
///     supplier,
/// )?;
/// # let _ = keyring;
/// # Ok(())
/// # }
/// ```
pub struct DefaultClientSupplier {
    template: aws_sdk_kms::config::Builder,
    clients: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    origin: &'static str,
}

impl DefaultClientSupplier {
    /// Loads the default AWS configuration chain (environment, profiles, …).
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// // Reads AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_KMS, … like every AWS SDK.
    /// let supplier = DefaultClientSupplier::from_env().await;
    /// let client = supplier.client_for_region("us-east-1")?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_env() -> DefaultClientSupplier {
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        DefaultClientSupplier::with_template(aws_sdk_kms::config::Builder::from(&config), "environment")
    }

    /// Clients that send every request to `endpoint_url` (e.g. `http://127.0.0.1:4000`), for an
    /// emulator in permissive mode, which accepts any signature: requests are signed with the
    /// placeholder access key [`PERMISSIVE_ACCESS_KEY_ID`]. Reads no environment variable or
    /// profile. An emulator that checks signatures (strict mode, or the CLI's embedded emulator)
    /// needs [`with_endpoint_and_credentials`](Self::with_endpoint_and_credentials).
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # async fn demo() -> envelope::Result<()> {
    /// // An emulator started with `envelope kms serve` (permissive mode) on port 4000.
    /// let supplier = DefaultClientSupplier::with_endpoint("http://127.0.0.1:4000").await;
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
    /// # let _ = keyring;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_endpoint(endpoint_url: &str) -> DefaultClientSupplier {
        let placeholder = Credentials::new(
            PERMISSIVE_ACCESS_KEY_ID,
            PERMISSIVE_ACCESS_KEY_ID,
            None,
            None,
            "envelope-permissive-placeholder",
        );
        let mut supplier = DefaultClientSupplier::with_endpoint_and_credentials(endpoint_url, placeholder).await;
        supplier.origin = "fixed endpoint, placeholder credentials";
        supplier
    }

    /// Clients that send every request to `endpoint_url`, signed with `credentials` (e.g. the
    /// owner credential of an emulator's data directory). Reads no environment variable or
    /// profile.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::{Credentials, DefaultClientSupplier};
    ///
    /// # async fn demo(access_key_id: String, secret_access_key: String) {
    /// // The owner credential of an emulator that checks signatures (from its data directory).
    /// let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "emulator-owner");
    /// let supplier = DefaultClientSupplier::with_endpoint_and_credentials("http://127.0.0.1:4000", credentials).await;
    /// # let _ = supplier;
    /// # }
    /// ```
    pub async fn with_endpoint_and_credentials(endpoint_url: &str, credentials: Credentials) -> DefaultClientSupplier {
        let template = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials);
        DefaultClientSupplier::with_template(template, "fixed endpoint")
    }

    /// Clients built from an already loaded configuration.
    ///
    /// ```no_run
    /// use envelope_keyrings::kms::DefaultClientSupplier;
    ///
    /// # async fn demo() {
    /// // Reuse the configuration the application loaded for its other AWS clients.
    /// let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    /// let supplier = DefaultClientSupplier::from_sdk_config(config);
    /// # let _ = supplier;
    /// # }
    /// ```
    pub fn from_sdk_config(config: aws_types::SdkConfig) -> DefaultClientSupplier {
        DefaultClientSupplier::with_template(aws_sdk_kms::config::Builder::from(&config), "SDK config")
    }

    fn with_template(template: aws_sdk_kms::config::Builder, origin: &'static str) -> DefaultClientSupplier {
        DefaultClientSupplier { template, clients: Mutex::new(HashMap::new()), origin }
    }
}

impl KmsClientSupplier for DefaultClientSupplier {
    fn client_for_region(&self, region: &str) -> Result<aws_sdk_kms::Client, envelope::Error> {
        if region.is_empty() {
            return Err(KeyringError::Configuration("an AWS KMS client needs a Region".into()).into());
        }
        // A poisoned lock only means another thread panicked while inserting; the map is intact.
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let client = clients.entry(region.to_owned()).or_insert_with(|| {
            let config = self.template.clone().region(Region::new(region.to_owned())).build();
            aws_sdk_kms::Client::from_conf(config)
        });
        Ok(client.clone())
    }
}

impl fmt::Debug for DefaultClientSupplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let regions: Vec<String> = match self.clients.lock() {
            Ok(clients) => clients.keys().cloned().collect(),
            Err(_) => Vec::new(),
        };
        f.debug_struct("DefaultClientSupplier").field("origin", &self.origin).field("regions", &regions).finish()
    }
}
