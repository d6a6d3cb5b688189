//! Test harness: the KMS emulator in-process on 127.0.0.1:0 and clients for it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
use tokio::sync::oneshot;

/// A running emulator; stopped when dropped (the task ends with the runtime).
pub struct Emulator {
    pub endpoint: String,
    pub data_dir: PathBuf,
    pub supplier: Arc<DefaultClientSupplier>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator with a fresh data directory. Requests never leave 127.0.0.1: clients get
    /// the explicit endpoint and static credentials, and read no AWS_* variable.
    pub async fn start() -> Emulator {
        let data_dir = std::env::temp_dir().join(format!("envelope-kms-keyrings-{}-{}", std::process::id(), unique()));
        let mut settings = envelope_kms_local::Settings::new(&data_dir);
        settings.root_key = None;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            envelope_kms_local::launch_with_listener(settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let supplier = Arc::new(DefaultClientSupplier::with_endpoint(&endpoint).await);
        Emulator { endpoint, data_dir, supplier, stop: Some(stop), server: Some(server) }
    }

    /// Stops the emulator, waits until its audit log is flushed, and returns the names of the
    /// KMS operations it served (`GenerateDataKey`, `Decrypt`, ...), oldest first.
    pub async fn stop_and_read_audit(mut self) -> Vec<String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        let events = envelope_kms_local::read_audit(&self.data_dir, None, None, 1_000_000).unwrap();
        events.iter().map(|event| event["eventName"].as_str().unwrap_or_default().to_owned()).collect()
    }

    pub fn client(&self, region: &str) -> aws_sdk_kms::Client {
        self.supplier.client_for_region(region).unwrap()
    }

    /// A symmetric ENCRYPT_DECRYPT key in `region`; returns its ARN.
    pub async fn symmetric_key(&self, region: &str) -> String {
        let out = self.client(region).create_key().send().await.unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }

    /// A multi-Region key in us-east-1 and its replica in us-west-2; returns both ARNs.
    pub async fn multi_region_key(&self) -> (String, String) {
        let out = self.client("us-east-1").create_key().multi_region(true).send().await.unwrap();
        let primary = out.key_metadata().unwrap().arn().unwrap().to_owned();
        let replica =
            self.client("us-east-1").replicate_key().key_id(&primary).replica_region("us-west-2").send().await.unwrap();
        (primary, replica.replica_key_metadata().unwrap().arn().unwrap().to_owned())
    }

    /// An asymmetric key; returns its ARN.
    pub async fn asymmetric_key(&self, region: &str, spec: KeySpec, usage: KeyUsageType) -> String {
        let out = self.client(region).create_key().key_spec(spec).key_usage(usage).send().await.unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn unique() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    nanos ^ u128::from(NEXT.fetch_add(1, Ordering::Relaxed))
}
