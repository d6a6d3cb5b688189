//! The embedded KMS: the bundled emulator started in-process on loopback over a data directory in
//! the user's data dir, so keys persist between runs. Commands that may use KMS start it when no
//! KMS endpoint or AWS credentials are configured.
//!
//! It is strict: it accepts only requests signed with the data directory's owner credential
//! (random, in a 0600 file of the 0700 data directory), which only the in-process client holds.
//! Another local user or process that finds the port cannot use the keys.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
use tokio::sync::oneshot;

/// Environment variable that chooses the embedded emulator's data directory.
pub const DATA_DIR_ENV: &str = "ENVELOPE_KMS_DATA_DIR";

/// A running in-process emulator; stops (and flushes its audit log) when dropped or stopped.
pub struct EmbeddedKms {
    pub endpoint: String,
    credential: envelope_kms_local::OwnerCredential,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmbeddedKms {
    /// Starts the emulator on 127.0.0.1 (a free port) over `data_dir`, accepting only the data
    /// directory's owner credential.
    pub async fn start(data_dir: PathBuf) -> anyhow::Result<EmbeddedKms> {
        let (settings, credential) = envelope_kms_local::Settings::owner_only(&data_dir)
            .with_context(|| format!("could not set up the KMS emulator's data directory {}", data_dir.display()))?;
        let emulator = envelope_kms_local::Emulator::open(&settings)
            .with_context(|| format!("could not open the KMS emulator's data in {}", data_dir.display()))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("could not bind 127.0.0.1")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        tracing::info!("embedded KMS emulator listening on {endpoint} (owner credential only)");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(emulator.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(EmbeddedKms { endpoint, credential, stop: Some(stop), task: Some(task) })
    }

    /// A client supplier pointed at this emulator, signing with the owner credential.
    pub async fn supplier(&self) -> Arc<dyn KmsClientSupplier> {
        let credentials = aws_sdk_kms::config::Credentials::new(
            self.credential.access_key_id(),
            self.credential.secret_access_key(),
            None,
            None,
            "envelope-embedded-kms-owner",
        );
        Arc::new(DefaultClientSupplier::with_endpoint_and_credentials(&self.endpoint, credentials).await)
    }

    /// Stops serving and waits for the audit log to be flushed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// The data directory: `--kms-data-dir`, else `$ENVELOPE_KMS_DATA_DIR`, else
/// `$XDG_DATA_HOME/envelope/kms`, else `~/.local/share/envelope/kms`.
pub fn data_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir).join("envelope").join("kms"));
    }
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .context("no HOME directory; choose a data directory with --kms-data-dir or ENVELOPE_KMS_DATA_DIR")?;
    Ok(PathBuf::from(home).join(".local").join("share").join("envelope").join("kms"))
}
