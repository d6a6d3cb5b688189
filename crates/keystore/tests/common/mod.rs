//! Test harness: the KMS emulator on 127.0.0.1:0 (in this process, over HTTP) and key stores
//! pointed at it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
use envelope_keystore::{BranchKeyStore, KeyStorage, KmsConfiguration};
use tokio::sync::oneshot;

#[cfg(feature = "dynamodb")]
pub mod moto;

/// A running emulator; stops when dropped (its task is aborted with the runtime), or with
/// [`Kms::stop`], which waits for it (audit log flushed).
pub struct Kms {
    pub endpoint: String,
    pub clients: Arc<DefaultClientSupplier>,
    /// The emulator's data directory (database and audit log).
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Kms {
    /// Starts an emulator (permissive mode) on a fresh data directory.
    pub async fn start(tag: &str) -> Kms {
        let data_dir = temp_dir(&format!("kms-{tag}"));
        let mut settings = envelope_kms_local::Settings::new(data_dir.clone());
        settings.root_key = None;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            envelope_kms_local::launch_with_listener(settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let clients = Arc::new(DefaultClientSupplier::with_endpoint(&endpoint).await);
        Kms { endpoint, clients, data_dir, stop: Some(stop), task: Some(task) }
    }

    /// Stops the emulator and waits until it has written its audit log.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// A KMS client for `region`.
    pub fn client(&self, region: &str) -> aws_sdk_kms::Client {
        self.clients.client_for_region(region).unwrap()
    }

    /// A new symmetric key in `region`; its ARN.
    pub async fn create_key(&self, region: &str) -> String {
        let created = self.client(region).create_key().send().await.unwrap();
        created.key_metadata.unwrap().arn.unwrap()
    }

    /// A new multi-Region key in `primary`, replicated to `replica`; both ARNs.
    pub async fn create_mrk(&self, primary: &str, replica: &str) -> (String, String) {
        let created = self.client(primary).create_key().multi_region(true).send().await.unwrap();
        let arn = created.key_metadata.unwrap().arn.unwrap();
        let replicated =
            self.client(primary).replicate_key().key_id(&arn).replica_region(replica).send().await.unwrap();
        (arn, replicated.replica_key_metadata.unwrap().arn.unwrap())
    }

    /// A key store on `storage` with `kms`.
    pub fn store(
        &self,
        storage: impl KeyStorage + 'static,
        logical_name: &str,
        kms: KmsConfiguration,
    ) -> BranchKeyStore {
        BranchKeyStore::new(storage, logical_name, kms, self.clients.clone())
    }
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("keystore-test-{tag}-{hex}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
