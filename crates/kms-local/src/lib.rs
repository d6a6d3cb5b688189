//! A local AWS KMS emulator speaking the real KMS wire protocol (AWS JSON 1.1 over HTTP), with
//! persistent state in SQLite, key material sealed at rest, optional SigV4 authentication with
//! key-policy and grant authorization, and a CloudTrail-style audit log.
//!
//! ```no_run
//! # async fn demo() -> Result<(), envelope_kms_local::LaunchError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(envelope_kms_local::LaunchError::Io)?;
//! let settings = envelope_kms_local::Settings::new("/tmp/kms-data");
//! envelope_kms_local::launch_with_listener(settings, listener, std::future::pending()).await
//! # }
//! ```
//!
//! Point any AWS SDK at `http://<addr>` with any credentials (or, in strict mode, credentials
//! from the credentials file); the Region comes from the request's SigV4 credential scope.
//! [`Settings::owner_only`] gives an emulator only the data directory's owner can use.
//!
//! Several processes may serve one data directory at once: every change is a SQLite
//! transaction over the latest committed state, and each request first picks up other
//! processes' changes (see `state`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod audit_line;
mod auth;
mod ciphertext;
mod connections;
mod error;
mod http;
mod ids;
mod keys;
mod limits;
mod model;
mod ops;
mod owner;
mod private_fs;
mod seal;
mod seed;
mod server;
mod state;
mod store;
mod wire;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub use audit::parse_iso8601;
pub use error::KmsError;
pub use limits::Limits;
pub use owner::{OwnerCredential, OwnerCredentialError};
pub use seal::RootKeyError;
pub use seed::SeedError;
pub use server::Emulator;
pub use store::{StoreError, db_path, read_audit};

/// Account used when a request's credentials do not name one.
///
/// ```
/// use envelope_kms_local::{Settings, DEFAULT_ACCOUNT};
///
/// assert_eq!(Settings::new("kms-data").default_account, DEFAULT_ACCOUNT);
/// assert_eq!(DEFAULT_ACCOUNT, "111122223333");
/// ```
pub const DEFAULT_ACCOUNT: &str = "111122223333";
/// Region used when a request carries no credential scope.
///
/// ```
/// use envelope_kms_local::{Settings, DEFAULT_REGION};
///
/// assert_eq!(Settings::new("kms-data").default_region, DEFAULT_REGION);
/// assert_eq!(DEFAULT_REGION, "us-east-1");
/// ```
pub const DEFAULT_REGION: &str = "us-east-1";

/// How to run the emulator.
///
/// ```
/// use std::time::Duration;
/// use envelope_kms_local::{Limits, Settings};
///
/// let mut settings = Settings::new("kms-data");
/// settings.seed = Some("seed.json".into()); // keys and aliases created at startup
/// settings.limits = Limits::default().with_header_read_timeout(Duration::from_secs(5));
///
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-owner-{}", std::process::id()));
/// // Or: strict mode whose only credential is the data directory owner's (created 0600).
/// let (strict, credential) = Settings::owner_only(&dir)?;
/// assert!(strict.credentials.is_some());
/// # let _ = credential;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directory for the database and the root key file.
    pub data_dir: PathBuf,
    /// Seed file (JSON or YAML) applied at startup.
    pub seed: Option<PathBuf>,
    /// Credentials file; turns on strict mode (SigV4 verification, policies, grants).
    pub credentials: Option<PathBuf>,
    /// Root key (base64) overriding the key file; defaults to `ENVELOPE_KMS_ROOT_KEY`.
    pub root_key: Option<String>,
    /// Account for permissive-mode callers.
    pub default_account: String,
    /// Region for requests without a credential scope.
    pub default_region: String,
    /// Connection, timeout, body-size and audit-queue limits.
    pub limits: Limits,
}

impl Settings {
    /// Settings for an emulator only the owner of `data_dir` can use: strict mode whose one
    /// credential is the data directory's owner credential (random, created 0600 on first use;
    /// concurrent first uses agree on one). Returns the credential for the client to sign with.
    pub fn owner_only(data_dir: impl Into<PathBuf>) -> Result<(Self, owner::OwnerCredential), LaunchError> {
        let mut settings = Self::new(data_dir);
        let credential = owner::ensure(&settings.data_dir, &settings.default_account)?;
        settings.credentials = Some(owner::credentials_path(&settings.data_dir));
        Ok((settings, credential))
    }

    /// Settings with defaults for everything but the data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            seed: None,
            credentials: None,
            root_key: std::env::var(seal::ROOT_KEY_ENV).ok(),
            default_account: DEFAULT_ACCOUNT.into(),
            default_region: DEFAULT_REGION.into(),
            limits: Limits::default(),
        }
    }
}

/// Why the emulator could not start.
///
/// ```
/// use envelope_kms_local::{Emulator, LaunchError, Settings};
///
/// let mut settings = Settings::new(std::env::temp_dir().join(format!("envelope-doc-launch-{}", std::process::id())));
/// settings.seed = Some("no-such-seed.json".into());
/// match Emulator::open(&settings) {
///     Err(LaunchError::Seed(error)) => println!("seed file: {error}"),
///     other => panic!("unexpected: {other:?}"),
/// }
/// # let _ = std::fs::remove_dir_all(&settings.data_dir);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// Filesystem or socket failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Root key problem.
    #[error(transparent)]
    RootKey(#[from] seal::RootKeyError),
    /// Database problem.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Seed file problem.
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    /// Credentials file problem.
    #[error("credentials file: {0}")]
    Credentials(String),
    /// Owner credential problem.
    #[error("owner credential: {0}")]
    OwnerCredential(#[from] owner::OwnerCredentialError),
}

impl Emulator {
    /// Opens the data directory (creating it 0700, or narrowing it to 0700), loads every record
    /// and applies the seed file.
    pub fn open(settings: &Settings) -> Result<Arc<Self>, LaunchError> {
        private_fs::ensure_private_dir(&settings.data_dir).map_err(|e| {
            std::io::Error::new(e.kind(), format!("data directory {}: {e}", settings.data_dir.display()))
        })?;
        let root = seal::RootKey::load(&settings.data_dir, settings.root_key.clone())?;
        let store = store::Store::open(&settings.data_dir, root)?;
        let loaded = store.load()?;
        let usage = store.read_last_usage(ops::usage::TRACKED)?;
        let reg = state::Registry::new(store, loaded);
        reg.load_usage(
            usage
                .into_iter()
                .map(|(arn, op, t, json)| {
                    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
                    let field = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or_default().to_owned();
                    (
                        arn,
                        state::LastUsage {
                            operation: op,
                            timestamp: t,
                            event_id: field("eventID"),
                            request_id: field("requestID"),
                        },
                    )
                })
                .collect(),
        );
        if let Some(seed) = &settings.seed {
            seed::apply(&reg, seed, &settings.default_account, &settings.default_region)?;
        }
        let credentials = match &settings.credentials {
            Some(p) => Some(auth::Credentials::from_file(p).map_err(|e| LaunchError::Credentials(e.to_string()))?),
            None => None,
        };
        let audit = store::AuditSink::start(&settings.data_dir, settings.limits.audit_queue)?;
        Ok(Arc::new(Self {
            reg,
            credentials,
            signing_keys: auth::signing_keys::SigningKeys::default(),
            audit,
            default_account: settings.default_account.clone(),
            default_region: settings.default_region.clone(),
            limits: settings.limits.clone(),
        }))
    }

    /// Serves requests on `listener` until `shutdown` resolves, then flushes the audit log.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()>) {
        http::serve(self.clone(), listener, shutdown).await;
        self.close();
    }
}

/// Opens the emulator and serves on `listener` until `shutdown` resolves. Tests bind
/// `127.0.0.1:0`, read the address, and pass the listener in.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use envelope_kms_local::{launch_with_listener, Settings};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-listener-{}", std::process::id()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let address = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(launch_with_listener(Settings::new(&dir), listener, async { stopped.await.unwrap_or(()) }));
/// println!("KMS on http://{address}"); // point an AWS SDK client here
/// stop.send(()).ok();
/// server.await??;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub async fn launch_with_listener(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), LaunchError> {
    let emu = Emulator::open(&settings)?;
    emu.serve(listener, shutdown).await;
    Ok(())
}
