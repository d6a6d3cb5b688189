//! Shared by the S3 integration tests: `moto[server]` S3 and the KMS emulator, both on
//! 127.0.0.1, started by the test.
#![allow(dead_code)]

pub mod moto;

use std::collections::BTreeMap;

use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier};
use tokio::sync::oneshot;

/// The KMS emulator, stopped when dropped.
pub struct Emulator {
    data_dir: std::path::PathBuf,
    /// `http://127.0.0.1:PORT`, for clients in other processes.
    pub endpoint: String,
    pub client: aws_sdk_kms::Client,
    _stop: oneshot::Sender<()>,
}

impl Emulator {
    pub async fn start() -> Emulator {
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let data_dir = std::env::temp_dir().join(format!("envelope-s3-test-kms-{}-{unique}", std::process::id()));
        let mut settings = envelope_kms_local::Settings::new(&data_dir);
        settings.root_key = None;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            envelope_kms_local::launch_with_listener(settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let supplier = DefaultClientSupplier::with_endpoint(&endpoint).await;
        let client = supplier.client_for_region("us-east-1").unwrap();
        Emulator { data_dir, endpoint, client, _stop: stop }
    }

    pub async fn key(&self) -> String {
        let out = self.client.create_key().send().await.unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }

    /// Objects wrapped by `key` (an ARN) through this emulator.
    pub fn crypto(&self, key: &str) -> envelope_s3::ObjectCrypto {
        envelope_s3::ObjectCrypto::new(envelope_s3::wrap::KmsKeyring::new(key, self.client.clone()).unwrap())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Deterministic bytes (a different pattern per seed), no RNG needed.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i as u64).wrapping_mul(2654435761) >> 7) as u8 ^ seed).collect()
}
