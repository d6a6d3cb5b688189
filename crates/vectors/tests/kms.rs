//! [`AwsKmsKeyrings`] against the emulator started in-process on 127.0.0.1:0 from the committed
//! seed file: the committed KMS vectors decrypt, and one keyring serves callers on runtimes that
//! come and go (the runner's per-test `BlockingClient`s).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use envelope::blocking::BlockingClient;
use envelope::cmm::DefaultMaterialsManager;
use envelope::{Client, DecryptOptions, EncryptOptions, Keyring};
use envelope_vectors::manifest::{KeyDescription, KeysManifest};
use envelope_vectors::{AwsKmsKeyrings, KmsKeyrings, Operation, Resolved, RunOptions, run_decrypt_manifest};
use tokio::sync::oneshot;

fn kms_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/kms")
}

/// The emulator on its own runtime, serving until dropped (the runtime goes with it).
struct InProcessKms {
    endpoint: String,
    stop: Option<oneshot::Sender<()>>,
    /// Runs the emulator; held only to keep it alive.
    _runtime: tokio::runtime::Runtime,
    dir: PathBuf,
}

impl InProcessKms {
    fn start() -> InProcessKms {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("envelope-vectors-kms-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut settings = envelope_kms_local::Settings::new(dir.join("kms"));
        settings.seed = Some(kms_vectors().join("seed.json"));
        let emulator = envelope_kms_local::Emulator::open(&settings).expect("emulator opens with the seed");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(emulator.serve(listener, async move {
            let _ = stopped.await;
        }));
        InProcessKms { endpoint, stop: Some(stop), _runtime: runtime, dir }
    }
}

impl Drop for InProcessKms {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn committed_kms_vectors_pass() {
    let kms = InProcessKms::start();
    let keyrings = AwsKmsKeyrings::with_endpoint(&kms.endpoint).expect("keyrings");
    let options = RunOptions { kms: Some(Arc::new(keyrings)), ..RunOptions::default() };
    let report = run_decrypt_manifest(&kms_vectors().join("decrypt"), &options).expect("manifest runs");
    let lines: Vec<String> = report.failure_lines().chain(report.skip_lines()).collect();
    assert_eq!((report.failed(), report.skipped()), (0, 0), "{}", lines.join("\n"));
    assert!(report.passed() >= 30, "{}", report.summary());
}

#[test]
fn one_keyring_outlives_the_runtimes_that_await_it() {
    let kms = InProcessKms::start();
    let keyrings = AwsKmsKeyrings::with_endpoint(&kms.endpoint).expect("keyrings");
    let keys_bytes = std::fs::read(kms_vectors().join("keys.json")).expect("keys.json");
    let keys = KeysManifest::parse("keys.json", &keys_bytes).expect("keys manifest");
    let description = KeyDescription::parse(&serde_json::json!({"type": "aws-kms", "key": "us-west-2-symmetric"}))
        .expect("description");
    let entry = keys.entry("us-west-2-symmetric").expect("entry");
    let keyring: Arc<dyn Keyring> =
        match keyrings.keyring(&description, Some(("us-west-2-symmetric", entry)), &keys, Operation::Encrypt) {
            Resolved::Ready { value, .. } => value,
            other => panic!("{other:?}"),
        };
    // Each BlockingClient polls on this thread, which has no runtime: the keyring's KMS calls must
    // hop onto the run's own runtime (the contract of kms/runtime.rs), in every client in turn.
    let client = || BlockingClient::new(Client::from_arc(Arc::new(DefaultMaterialsManager::from_arc(keyring.clone()))));
    let message = client().encrypt(b"three runtimes", &EncryptOptions::new()).expect("encrypt");
    for _ in 0..2 {
        assert_eq!(client().decrypt(&message, &DecryptOptions::new()).expect("decrypt").plaintext, b"three runtimes");
    }
}

#[test]
fn keys_the_emulator_lacks_are_unreachable_not_invalid() {
    let kms = InProcessKms::start();
    let keyrings = AwsKmsKeyrings::with_endpoint(&kms.endpoint).expect("keyrings");
    let keys = KeysManifest::parse(
        "keys.json",
        br#"{"manifest":{"type":"keys","version":3},"keys":{"elsewhere":{"type":"aws-kms","encrypt":true,"decrypt":true,
            "key-id":"arn:aws:kms:us-west-2:658956600833:key/b3537ef1-d8dc-4780-9f5a-55776cbb2f7f"},
            "alias":{"type":"aws-kms","encrypt":true,"decrypt":true,"key-id":"alias/no-region"}}}"#,
    )
    .expect("keys manifest");
    let description =
        |key: &str| KeyDescription::parse(&serde_json::json!({"type": "aws-kms", "key": key})).expect("description");
    let entry = |key: &'static str| Some((key, keys.entry(key).expect("entry")));
    match keyrings.keyring(&description("elsewhere"), entry("elsewhere"), &keys, Operation::Decrypt) {
        Resolved::Unreachable(reason) => assert!(reason.contains("NotFoundException"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Without an ARN the Region is unknown: the manifest is wrong for this runner.
    assert!(matches!(
        keyrings.keyring(&description("alias"), entry("alias"), &keys, Operation::Decrypt),
        Resolved::Invalid(_)
    ));
}
