//! Several processes on one KMS data directory at once — what happens whenever two `envelope`
//! commands (each with its embedded emulator), `envelope kms create-key` and `envelope kms serve`
//! share the default data directory. Real `envelope kms serve` processes on 127.0.0.1:0 start
//! together on an empty directory, then create keys, rotate them on demand, disable and enable
//! them and encrypt under them, all at once and each through its own process, while
//! `envelope kms create-key --data-dir` runs alongside. Afterwards a fresh process on the
//! directory must decrypt every ciphertext any of them returned, know every key any of them
//! created, and list every rotation any of them acknowledged.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use common::{BIN, ServeProcess, TempDir};
const PROCESSES: usize = 4;
const SHARED_KEYS: usize = 3;
const ROUNDS: usize = 4;

/// `envelope kms serve` on the shared directory, in permissive mode (any signature).
fn serve(data_dir: &Path) -> ServeProcess {
    ServeProcess::start(data_dir, &[], Stdio::piped())
}

fn client_of(server: &ServeProcess) -> aws_sdk_kms::Client {
    server.client("AKIDMULTI", "multi-process")
}

/// Everything the emulators acknowledged.
#[derive(Default)]
struct Acknowledged {
    keys: Vec<String>,
    /// (key id, ciphertext, plaintext).
    ciphertexts: Vec<(String, Vec<u8>, Vec<u8>)>,
    rotations: HashMap<String, usize>,
    /// Errors no correct emulator returns here (anything but DisabledException while another
    /// process has the key disabled).
    unexpected: Vec<String>,
}

type Shared = Arc<Mutex<Acknowledged>>;

fn note_error<E: ProvideErrorMetadata + std::fmt::Debug>(
    log: &Shared,
    what: &str,
    key: &str,
    error: &aws_sdk_kms::error::SdkError<E>,
) {
    let code = error.as_service_error().and_then(|e| e.code()).unwrap_or("<transport>").to_owned();
    if code != "DisabledException" {
        log.lock()
            .unwrap()
            .unexpected
            .push(format!("{what} {key}: {code} {:?}", error.as_service_error().and_then(|e| e.message())));
    }
}

/// One process's share of the work: create a key, then for a few rounds rotate, encrypt and
/// generate data keys under every key known so far (its own and the other processes'), and once
/// disable and re-enable one key.
async fn work(process: usize, client: aws_sdk_kms::Client, log: Shared) {
    match client.create_key().send().await {
        Ok(out) => {
            let id = out.key_metadata().map(|m| m.key_id().to_owned()).unwrap_or_default();
            log.lock().unwrap().keys.push(id);
        }
        Err(e) => note_error(&log, "CreateKey", "-", &e),
    }
    for round in 0..ROUNDS {
        let keys = log.lock().unwrap().keys.clone();
        for (index, key) in keys.iter().enumerate() {
            match client.rotate_key_on_demand().key_id(key).send().await {
                Ok(_) => *log.lock().unwrap().rotations.entry(key.clone()).or_default() += 1,
                Err(e) => note_error(&log, "RotateKeyOnDemand", key, &e),
            }
            let plaintext = format!("process {process} round {round} key {key}").into_bytes();
            match client.encrypt().key_id(key).plaintext(Blob::new(plaintext.clone())).send().await {
                Ok(out) => {
                    let blob = out.ciphertext_blob().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                    log.lock().unwrap().ciphertexts.push((key.clone(), blob, plaintext));
                }
                Err(e) => note_error(&log, "Encrypt", key, &e),
            }
            match client.generate_data_key().key_id(key).key_spec(DataKeySpec::Aes256).send().await {
                Ok(out) => {
                    let blob = out.ciphertext_blob().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                    let plain = out.plaintext().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                    log.lock().unwrap().ciphertexts.push((key.clone(), blob, plain));
                }
                Err(e) => note_error(&log, "GenerateDataKey", key, &e),
            }
            if round == 1 && index % PROCESSES == process {
                if let Err(e) = client.disable_key().key_id(key).send().await {
                    note_error(&log, "DisableKey", key, &e);
                }
                if let Err(e) = client.enable_key().key_id(key).send().await {
                    note_error(&log, "EnableKey", key, &e);
                }
            }
        }
    }
}

/// `envelope kms create-key --data-dir` (the offline path, in its own process); the new key id.
fn create_key_offline(data_dir: &Path) -> Result<String, String> {
    let output = Command::new(BIN)
        .args(["kms", "create-key", "--data-dir"])
        .arg(data_dir)
        .env_remove("ENVELOPE_KMS_ROOT_KEY")
        .output()
        .map_err(|e| e.to_string())?;
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("create-key failed: {}", String::from_utf8_lossy(&output.stderr)))?;
    meta["KeyId"].as_str().map(str::to_owned).ok_or_else(|| "no KeyId".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_processes_never_lose_an_acknowledged_change() {
    let dir = TempDir::new("data");
    let data_dir = dir.path().join("kms");
    let log: Shared = Arc::default();

    // Every process starts on the empty directory at once (root key and schema races), and the
    // first one creates keys the others already hold in memory when the work starts.
    let servers: Vec<ServeProcess> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..PROCESSES).map(|_| s.spawn(|| serve(&data_dir))).collect();
        handles.into_iter().map(|h| h.join().expect("server thread")).collect()
    });
    for _ in 0..SHARED_KEYS {
        let out = client_of(&servers[0]).create_key().send().await.expect("CreateKey");
        log.lock().unwrap().keys.push(out.key_metadata().expect("metadata").key_id().to_owned());
    }
    drop(servers);
    let servers: Vec<ServeProcess> = (0..PROCESSES).map(|_| serve(&data_dir)).collect();

    let offline = {
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || (0..2).map(|_| create_key_offline(&data_dir)).collect::<Vec<_>>())
    };
    let tasks: Vec<_> =
        servers.iter().enumerate().map(|(p, server)| tokio::spawn(work(p, client_of(server), log.clone()))).collect();
    for task in tasks {
        task.await.expect("worker");
    }
    for created in offline.await.expect("offline create-key") {
        match created {
            Ok(id) => log.lock().unwrap().keys.push(id),
            Err(e) => log.lock().unwrap().unexpected.push(e),
        }
    }
    // SIGKILL: an acknowledged change must already be durable.
    drop(servers);

    let server = serve(&data_dir);
    let client = client_of(&server);
    let log = Arc::try_unwrap(log).ok().expect("workers done").into_inner().unwrap();
    let mut lost = Vec::new();
    for key in &log.keys {
        if let Err(e) = client.describe_key().key_id(key).send().await {
            lost.push(format!("key {key}: {:?}", e.as_service_error().and_then(|e| e.code())));
        }
    }
    for (key, ciphertext, plaintext) in &log.ciphertexts {
        match client.decrypt().ciphertext_blob(Blob::new(ciphertext.clone())).send().await {
            Ok(out) if out.plaintext().map(|p| p.as_ref()) == Some(plaintext.as_slice()) => {}
            Ok(_) => lost.push(format!("a ciphertext under {key} decrypts to something else")),
            Err(e) => lost.push(format!("a ciphertext under {key}: {:?}", e.as_service_error().and_then(|e| e.code()))),
        }
    }
    for (key, acknowledged) in &log.rotations {
        let listed = client
            .list_key_rotations()
            .key_id(key)
            .limit(1000)
            .send()
            .await
            .map(|out| out.rotations().len())
            .unwrap_or(0);
        if listed != *acknowledged {
            lost.push(format!("key {key}: {acknowledged} rotations acknowledged, {listed} listed"));
        }
    }
    assert!(log.ciphertexts.len() > 50, "the work ran: {} ciphertexts", log.ciphertexts.len());
    assert!(lost.is_empty(), "{} acknowledged changes lost, e.g. {:#?}", lost.len(), &lost[..lost.len().min(10)]);
    assert!(
        log.unexpected.is_empty(),
        "unexpected errors, e.g. {:#?}",
        &log.unexpected[..log.unexpected.len().min(10)]
    );
}

/// Several servers started at once with one seed file on one empty directory (a CI job starting
/// its emulators in parallel): every one starts, and each knows every seeded key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_seeding_one_directory_at_once_all_start() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/kms/seed.json");
    for round in 0..3 {
        let dir = TempDir::new(&format!("seed-{round}"));
        let data_dir = dir.path().join("kms");
        let args = [std::ffi::OsStr::new("--seed"), seed.as_os_str()];
        let servers: Vec<ServeProcess> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..PROCESSES).map(|_| s.spawn(|| ServeProcess::start(&data_dir, &args, Stdio::piped()))).collect();
            handles.into_iter().map(|h| h.join().expect("every server starts")).collect()
        });
        let counts: Vec<usize> = seeded_key_counts(&servers).await;
        assert!(counts.iter().all(|&n| n == counts[0] && n > 0), "every server sees every seeded key: {counts:?}");
    }
}

/// How many keys each server lists in us-west-2, the seed file's Region.
async fn seeded_key_counts(servers: &[ServeProcess]) -> Vec<usize> {
    let mut counts = Vec::new();
    for server in servers {
        let config =
            client_of(server).config().to_builder().region(aws_sdk_kms::config::Region::new("us-west-2")).build();
        let client = aws_sdk_kms::Client::from_conf(config);
        counts.push(client.list_keys().limit(1000).send().await.expect("ListKeys").keys().len());
    }
    counts
}
