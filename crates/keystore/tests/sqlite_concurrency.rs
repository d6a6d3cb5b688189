//! Several writers on one SQLite key store: connections in one process, separate processes, and
//! a process killed with SIGKILL in the middle of writing. The store must stay consistent: every
//! branch key has its ACTIVE item, its beacon key and the version ACTIVE names; rotations that
//! raced either won or reported a conflict, never both won.
//!
//! The multi-process tests re-run this test binary as workers (`worker_process`, which does
//! nothing unless `KEYSTORE_TEST_WORKER` is set).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Kms, temp_dir};
use envelope_keystore::hierarchy::{KeyStore, KeyStoreErrorKind};
use envelope_keystore::item::{ACTIVE_TYPE, AttributeValue, BEACON_TYPE, ENC};
use envelope_keystore::{BranchKeyStore, CreateKeyRequest, KeyStorage, KmsConfiguration, SqliteStorage};

const WORKER_ENV: &str = "KEYSTORE_TEST_WORKER";

/// Rotates until one rotation wins (a conflict means another writer won this round).
async fn rotate(store: &BranchKeyStore, id: &str) -> (String, u32) {
    let mut conflicts = 0;
    loop {
        match store.version_key(id).await {
            Ok(version) => return (version, conflicts),
            Err(error) if matches!(error.kind(), KeyStoreErrorKind::Conflict { .. }) => conflicts += 1,
            Err(error) => panic!("rotation failed: {error}"),
        }
    }
}

/// Checks every branch key in the file: ACTIVE, beacon and the ACTIVE version exist and decrypt,
/// ACTIVE holds the same key as its version. Returns (branch key id → number of versions).
async fn check_consistent(store: &BranchKeyStore, path: &Path) -> Vec<(String, usize)> {
    let ids: BTreeSet<String> = {
        let connection = rusqlite::Connection::open(path).unwrap();
        let ok: String = connection.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        let mut statement = connection.prepare("SELECT DISTINCT branch_key_id FROM branch_key_items").unwrap();
        // Edition 2024 drops the tail expression's temporaries before `statement`, so no `let`.
        statement.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let mut counts = Vec::new();
    for id in ids {
        let items = store.describe_key(&id).await.unwrap();
        let types: BTreeSet<&str> = items.iter().map(|i| i.item_type.as_str()).collect();
        assert!(types.contains(ACTIVE_TYPE) && types.contains(BEACON_TYPE), "{id}: {types:?}");
        let active = store.get_active_branch_key(&id).await.unwrap();
        assert!(types.contains(format!("branch:version:{}", active.version()).as_str()), "{id}: {types:?}");
        let same = store.get_branch_key_version(&id, active.version()).await.unwrap();
        assert_eq!(same.key().expose_secret(), active.key().expose_secret());
        store.get_beacon_key(&id).await.unwrap();
        let versions: Vec<&ItemVersion> = items.iter().filter_map(|i| i.version.as_ref()).collect();
        for version in &versions {
            store.get_branch_key_version(&id, version).await.unwrap();
        }
        // ACTIVE carries a version too; the distinct versions are the version records.
        counts.push((id, types.len() - 2));
    }
    counts
}

type ItemVersion = String;

/// Two stores (two connections) in one process, rotating one key and creating others at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_in_one_process() {
    let kms = Kms::start("threads").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("threads").join("keys.sqlite3");
    let config = KmsConfiguration::key_arn(&arn).unwrap();
    let first = kms.store(SqliteStorage::new(&path), "s", config.clone());
    first.create_key_store().await.unwrap();
    let shared = first.create_key(CreateKeyRequest::new()).await.unwrap();

    let mut tasks = Vec::new();
    for _ in 0..2 {
        let store = kms.store(SqliteStorage::new(&path), "s", config.clone());
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..6 {
                store.create_key(CreateKeyRequest::new()).await.unwrap();
                conflicts += rotate(&store, &shared).await.1;
            }
            conflicts
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let counts = check_consistent(&first, &path).await;
    assert_eq!(counts.len(), 1 + 12);
    let shared_versions = counts.iter().find(|(id, _)| *id == shared).unwrap().1;
    assert_eq!(shared_versions, 1 + 12, "every winning rotation added exactly one version");
}

/// A rotation that read an ACTIVE item another rotation has since replaced loses.
#[tokio::test]
async fn a_stale_rotation_cannot_win() {
    let kms = Kms::start("stale").await;
    let arn = kms.create_key("us-east-1").await;
    let storage = SqliteStorage::new(temp_dir("stale").join("keys.sqlite3"));
    let store = kms.store(storage.clone(), "s", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let stale_active = storage.get_item(&id, ACTIVE_TYPE).await.unwrap().unwrap();
    let Some(AttributeValue::B(stale_enc)) = stale_active.get(ENC).cloned() else { panic!("no enc") };
    store.version_key(&id).await.unwrap();
    let winner = store.get_active_branch_key(&id).await.unwrap();

    let mut late_version = stale_active.clone();
    late_version.remove("version");
    late_version.insert("type".into(), AttributeValue::S("branch:version:00000000-0000-4000-8000-000000000000".into()));
    let error = storage.write_new_version(late_version, stale_active, &stale_enc).await.unwrap_err();
    assert!(matches!(error, envelope_keystore::StorageError::Conflict(_)), "{error}");
    // Nothing of the losing write is there.
    assert_eq!(store.get_active_branch_key(&id).await.unwrap().version(), winner.version());
    assert!(storage.get_item(&id, "branch:version:00000000-0000-4000-8000-000000000000").await.unwrap().is_none());
}

/// Not a test on its own: the worker the multi-process tests start. Creates keys and rotates the
/// shared key, `rounds` times each, printing each id it created.
#[tokio::test]
async fn worker_process() {
    let Ok(spec) = std::env::var(WORKER_ENV) else { return };
    let parts: Vec<&str> = spec.split('|').collect();
    let [path, endpoint, arn, shared, rounds] = parts[..] else { panic!("bad {WORKER_ENV}: {spec}") };
    let clients = std::sync::Arc::new(envelope_keyrings::kms::DefaultClientSupplier::with_endpoint(endpoint).await);
    let store = BranchKeyStore::new(SqliteStorage::new(path), "s", KmsConfiguration::key_arn(arn).unwrap(), clients);
    let rounds: usize = rounds.parse().unwrap();
    for _ in 0..rounds {
        let id = store.create_key(CreateKeyRequest::new()).await.unwrap();
        println!("created {id}");
        let (version, _) = rotate(&store, shared).await;
        println!("rotated {version}");
    }
}

fn start_worker(spec: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "worker_process", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_create_and_rotate_at_once() {
    let kms = Kms::start("processes").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("processes").join("keys.sqlite3");
    let store = kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let shared = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let spec = format!("{}|{}|{arn}|{shared}|5", path.display(), kms.endpoint);
    let workers = [start_worker(&spec), start_worker(&spec)];
    let outputs = tokio::task::spawn_blocking(move || workers.map(|w| w.wait_with_output().unwrap())).await.unwrap();
    let mut created = BTreeSet::new();
    for output in &outputs {
        assert!(output.status.success(), "a worker failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // libtest may print "test worker_process ... " in front of the first line.
        let after = |l: &'static str| move |line: &str| line.split_once(l).map(|(_, rest)| rest.to_owned());
        created.extend(stdout.lines().filter_map(after("created ")));
        assert_eq!(stdout.lines().filter_map(after("rotated ")).count(), 5, "{stdout}");
    }
    assert_eq!(created.len(), 10);
    let counts = check_consistent(&store, &path).await;
    assert_eq!(counts.len(), 11);
    assert_eq!(counts.iter().find(|(id, _)| *id == shared).unwrap().1, 1 + 10);
}

/// SIGKILL in the middle of CreateKey and VersionKey: whatever was committed is whole, and
/// nothing half-written is visible.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_leaves_a_consistent_store() {
    let kms = Kms::start("kill").await;
    let arn = kms.create_key("us-east-1").await;
    let path = temp_dir("kill").join("keys.sqlite3");
    let store = kms.store(SqliteStorage::new(&path), "s", KmsConfiguration::key_arn(&arn).unwrap());
    store.create_key_store().await.unwrap();
    let shared = store.create_key(CreateKeyRequest::new()).await.unwrap();
    let spec = format!("{}|{}|{arn}|{shared}|1000", path.display(), kms.endpoint);
    for delay_ms in [150u64, 400, 900] {
        let mut worker = start_worker(&spec);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        worker.kill().unwrap();
        tokio::task::spawn_blocking(move || worker.wait().unwrap()).await.unwrap();
        check_consistent(&store, &path).await;
    }
    // The store keeps working after the kills.
    store.version_key(&shared).await.unwrap();
    store.create_key(CreateKeyRequest::new()).await.unwrap();
    check_consistent(&store, &path).await;
}
