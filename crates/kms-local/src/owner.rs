//! The data directory's owner credential: what makes an emulator usable only by the user who
//! owns its data directory (the CLI's embedded mode).
//!
//! On first use a random access key id and secret are written to
//! `<data-dir>/owner-credentials.json` (mode 0600, in a 0700 directory, race-free: concurrent
//! first uses end with one credential). The file is in the strict-mode credentials format and
//! maps the credential to the account's root principal, so default key policies allow it. An
//! emulator started with it as its credentials file refuses every request not signed with it.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use zeroize::Zeroizing;

use crate::auth::Credentials;
use crate::keys::fill_random;
use crate::private_fs;

/// The owner credential's file name in the data directory.
pub(crate) const OWNER_CREDENTIALS_FILE: &str = "owner-credentials.json";

/// The owner's access key pair, for the in-process client: what
/// [`Settings::owner_only`](crate::Settings::owner_only) returns.
///
/// ```
/// use envelope_kms_local::Settings;
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-owner-credential-{}", std::process::id()));
/// let (_settings, credential) = Settings::owner_only(&dir)?;
/// // An AWS SDK client signs with these as static credentials.
/// assert!(credential.access_key_id().starts_with("AKIA"));
/// assert!(!credential.secret_access_key().is_empty());
/// assert!(!format!("{credential:?}").contains(credential.secret_access_key()), "Debug hides the secret");
/// // The same pair on every later start over this directory.
/// assert_eq!(Settings::owner_only(&dir)?.1.access_key_id(), credential.access_key_id());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OwnerCredential {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
}

impl fmt::Debug for OwnerCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerCredential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl OwnerCredential {
    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

/// Why the owner credential could not be had.
///
/// ```
/// use envelope_kms_local::{LaunchError, OwnerCredentialError, Settings};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-owner-error-{}", std::process::id()));
/// Settings::owner_only(&dir)?;
/// std::fs::write(dir.join("owner-credentials.json"), "not a credentials file")?;
/// match Settings::owner_only(&dir) {
///     Err(LaunchError::OwnerCredential(OwnerCredentialError::Invalid { path, why })) => {
///         println!("{path}: {why}");
///     }
///     other => panic!("unexpected: {other:?}"),
/// }
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum OwnerCredentialError {
    /// Filesystem failure.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file exists but is not one credential in the credentials format.
    #[error("{path} is not a valid owner credential file ({why}); delete it to make a new one")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// The path of the owner credential file in `data_dir`.
pub(crate) fn credentials_path(data_dir: &Path) -> PathBuf {
    data_dir.join(OWNER_CREDENTIALS_FILE)
}

fn random_text(bytes: usize) -> Zeroizing<String> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    fill_random(&mut raw);
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*raw))
}

fn new_access_key_id() -> String {
    let mut raw = [0u8; 8];
    fill_random(&mut raw);
    let hex: String = raw.iter().map(|b| format!("{b:02X}")).collect();
    format!("AKIA{hex}")
}

/// Loads the owner credential of `data_dir`, creating the directory (0700) and the credential
/// (0600) on first use. The credential acts as `arn:aws:iam::<account>:root`.
pub(crate) fn ensure(data_dir: &Path, account: &str) -> Result<OwnerCredential, OwnerCredentialError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| OwnerCredentialError::Io { path, source }
    };
    private_fs::ensure_private_dir(data_dir).map_err(io(data_dir))?;
    let path = credentials_path(data_dir);
    if !path.exists() {
        let secret = random_text(30);
        let file = Zeroizing::new(
            serde_json::json!({
                "credentials": [{
                    "access_key_id": new_access_key_id(),
                    "secret_access_key": secret.as_str(),
                    "principal": crate::auth::account_root_arn(account),
                }]
            })
            .to_string(),
        );
        private_fs::create_once(&path, file.as_bytes()).map_err(io(&path))?;
    }
    let text = Zeroizing::new(private_fs::read_private(&path).map_err(io(&path))?);
    let invalid = |why: String| OwnerCredentialError::Invalid { path: path.display().to_string(), why };
    let text = std::str::from_utf8(&text).map_err(|_| invalid("not UTF-8".into()))?;
    let credentials = Credentials::from_json(text).map_err(|e| invalid(e.to_string()))?;
    let mut entries = credentials.iter();
    match (entries.next(), entries.next()) {
        (Some(c), None) => Ok(OwnerCredential {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: Zeroizing::new(c.secret_access_key.clone()),
        }),
        _ => Err(invalid("it must hold exactly one credential".into())),
    }
}
