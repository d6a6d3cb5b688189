//! Which KMS a command talks to: AWS (or whatever endpoint the AWS configuration names) when
//! one is configured, else the embedded emulator over the user's data directory. Every command
//! that may use KMS takes [`KmsArgs`] and says on stderr which KMS it is using.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use envelope_keyrings::kms::{DefaultClientSupplier, KmsArn, KmsClientSupplier};

use crate::embedded_kms::{self, EmbeddedKms};

/// Environment variables whose presence means "the user has configured AWS".
const AWS_CONFIGURATION_ENV: [&str; 8] = [
    "AWS_ENDPOINT_URL_KMS",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SHARED_CREDENTIALS_FILE",
];

/// How a command chooses its KMS.
#[derive(Debug, Clone, clap::Args)]
pub struct KmsArgs {
    /// Data directory of the embedded KMS emulator (implies --kms embedded). Default:
    /// $ENVELOPE_KMS_DATA_DIR, else $XDG_DATA_HOME/envelope/kms, else ~/.local/share/envelope/kms.
    #[arg(long, value_name = "DIR")]
    pub kms_data_dir: Option<PathBuf>,
    /// auto: AWS when an AWS configuration exists (AWS_* variables, ~/.aws), else the embedded
    /// emulator; embedded; aws.
    #[arg(long = "kms", value_name = "MODE", env = "ENVELOPE_KMS", default_value = "auto")]
    pub mode: KmsMode,
}

/// The `--kms` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KmsMode {
    /// AWS if configured, else the embedded emulator.
    Auto,
    /// The embedded emulator.
    Embedded,
    /// The AWS configuration chain (which may name another endpoint, e.g. `envelope kms serve`).
    Aws,
}

impl KmsArgs {
    /// Whether these arguments select the embedded emulator.
    pub fn uses_embedded(&self) -> bool {
        match self.mode {
            KmsMode::Embedded => true,
            KmsMode::Aws => false,
            KmsMode::Auto => self.kms_data_dir.is_some() || aws_configuration().is_none(),
        }
    }
}

/// Why we believe AWS is configured, if we do.
pub fn aws_configuration() -> Option<String> {
    if let Some(name) = AWS_CONFIGURATION_ENV.iter().find(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
    {
        return Some(format!("${name} is set"));
    }
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from)?;
    let config_file =
        std::env::var_os("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or_else(|| home.join(".aws").join("config"));
    for file in [home.join(".aws").join("credentials"), config_file] {
        if file.is_file() {
            return Some(format!("{} exists", file.display()));
        }
    }
    None
}

/// A connection to the chosen KMS for the length of one command.
pub struct KmsSession {
    supplier: Arc<dyn KmsClientSupplier>,
    default_region: Option<String>,
    embedded: Option<EmbeddedKms>,
    description: String,
}

impl KmsSession {
    /// Connects (starting the embedded emulator if it is the one chosen).
    pub async fn open(args: &KmsArgs) -> anyhow::Result<KmsSession> {
        if args.uses_embedded() {
            let data_dir = embedded_kms::data_dir(args.kms_data_dir.clone())?;
            let kms = EmbeddedKms::start(data_dir.clone()).await?;
            let description = format!("the embedded KMS emulator (keys in {})", data_dir.display());
            return Ok(KmsSession {
                supplier: kms.supplier().await,
                default_region: Some(envelope_kms_local::DEFAULT_REGION.to_owned()),
                embedded: Some(kms),
                description,
            });
        }
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let default_region = config.region().map(|region| region.to_string());
        let endpoint = std::env::var("AWS_ENDPOINT_URL_KMS").ok().or_else(|| config.endpoint_url().map(str::to_owned));
        let description = match (&endpoint, &default_region) {
            (Some(endpoint), _) => format!("the KMS at {endpoint}"),
            (None, Some(region)) => format!("AWS KMS (default Region {region})"),
            (None, None) => "AWS KMS (no default Region; key ARNs name theirs)".to_owned(),
        };
        Ok(KmsSession {
            supplier: Arc::new(DefaultClientSupplier::from_sdk_config(config)),
            default_region,
            embedded: None,
            description,
        })
    }

    /// Clients per Region.
    pub fn supplier(&self) -> Arc<dyn KmsClientSupplier> {
        self.supplier.clone()
    }

    /// What to tell the user about where keys live.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The Region to call for `key_id`: the ARN's own, else `explicit`, else the default.
    pub fn region_for(&self, key_id: &str, explicit: Option<&str>) -> anyhow::Result<String> {
        if key_id.starts_with("arn:") {
            let arn =
                KmsArn::parse(key_id).map_err(|error| anyhow::anyhow!("{key_id:?} is not a valid KMS ARN: {error}"))?;
            return Ok(arn.region().to_owned());
        }
        self.region(explicit).with_context(|| {
            format!("no AWS Region for the key {key_id:?}: give its ARN, add region=REGION to --wrapping-keys, or set AWS_REGION")
        })
    }

    /// `explicit`, else the configuration's (or the embedded emulator's) default Region.
    pub fn region(&self, explicit: Option<&str>) -> Option<String> {
        explicit.map(str::to_owned).or_else(|| self.default_region.clone())
    }

    /// A client for `region`.
    pub fn client(&self, region: &str) -> anyhow::Result<aws_sdk_kms::Client> {
        self.supplier.client_for_region(region).map_err(|error| anyhow::anyhow!("no KMS client for {region}: {error}"))
    }

    /// Disconnects (stopping the embedded emulator and flushing its audit log).
    pub async fn close(self) {
        if let Some(kms) = self.embedded {
            kms.stop().await;
        }
    }
}

/// The service's error code and message when there is one, else the transport error.
pub fn service_message<E, R>(error: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: std::error::Error + aws_sdk_kms::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => format!("{}: {}", service.code().unwrap_or("error"), service.message().unwrap_or_default()),
        None => format!("{}", aws_sdk_kms::error::DisplayErrorContext(error)),
    }
}
