//! One runtime for every KMS call of a run, and a keyring adapter that keeps the calls on it.
//!
//! Why: the runner checks each test through a `BlockingClient::new`, which polls the materials
//! step on the calling thread with no runtime (the runner does not know which keyrings a test
//! uses), while the KMS clients are cached per Region for the whole run. An `aws-sdk-kms`
//! client's pooled connections and their tasks belong to the runtime that first used them; once
//! that runtime is dropped, later requests on the same client can fail with dispatch errors. So
//! every KMS call of a run — probes, keyring construction, and each keyring's `on_encrypt` /
//! `on_decrypt` through [`OnRuntime`] — runs on one multi-thread runtime owned by [`KmsRuntime`],
//! whoever polls the keyring. (A library cannot borrow the CLI's runtime here: the runner's
//! callers include tests that have none.)

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use envelope::error::KeyringError;
use envelope::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring};
use tokio::runtime::{Handle, Runtime};

/// A multi-thread runtime that owns the KMS clients' connections for a whole run.
pub(crate) struct KmsRuntime {
    /// `None` only while dropping.
    runtime: Option<Runtime>,
}

impl KmsRuntime {
    /// Two worker threads: KMS calls are I/O-bound, and the machines this runs on are small.
    pub(crate) fn new() -> std::io::Result<KmsRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("envelope-vectors-kms")
            .enable_all()
            .build()?;
        Ok(KmsRuntime { runtime: Some(runtime) })
    }

    /// A handle to spawn on.
    pub(crate) fn handle(&self) -> Option<Handle> {
        self.runtime.as_ref().map(|r| r.handle().clone())
    }

    /// Runs `future` on this runtime and waits for it. Waiting happens on a channel rather than
    /// with `block_on`, so this works from any thread, including another runtime's.
    pub(crate) fn run<F>(&self, future: F) -> Result<F::Output, String>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.handle().ok_or("the KMS runtime has stopped")?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        handle.spawn(async move {
            let _ = sender.send(future.await);
        });
        receiver.recv().map_err(|_| "the KMS runtime stopped before answering".to_string())
    }
}

impl Drop for KmsRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context; this never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for KmsRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KmsRuntime")
    }
}

/// A keyring whose `on_encrypt` / `on_decrypt` run on the KMS runtime (see the module docs).
pub(crate) struct OnRuntime {
    inner: Arc<dyn Keyring>,
    handle: Handle,
}

impl OnRuntime {
    pub(crate) fn new(inner: Arc<dyn Keyring>, handle: Handle) -> OnRuntime {
        OnRuntime { inner, handle }
    }
}

fn stopped(error: tokio::task::JoinError) -> envelope::Error {
    KeyringError::Service(format!("the KMS runtime did not finish the call: {error}")).into()
}

#[async_trait]
impl Keyring for OnRuntime {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> envelope::Result<EncryptionMaterials> {
        let inner = self.inner.clone();
        self.handle.spawn(async move { inner.on_encrypt(materials).await }).await.map_err(stopped)?
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> envelope::Result<DecryptionMaterials> {
        let inner = self.inner.clone();
        let edks = edks.to_vec();
        self.handle.spawn(async move { inner.on_decrypt(materials, &edks).await }).await.map_err(stopped)?
    }
}

impl fmt::Debug for OnRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
