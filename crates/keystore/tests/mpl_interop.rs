//! The official Python Material Providers Library and envelope on one DynamoDB table (moto) and
//! one KMS (the emulator): keys created and rotated by either side read the same on the other
//! (same version, same key — compared by SHA-256, same custom context).
//!
//! Needs `ENVELOPE_MPL_PYTHON`: an interpreter with `aws-cryptographic-material-providers` and
//! boto3 (interop/python/requirements.txt), and moto[server] for the table (ENVELOPE_MOTO_PYTHON,
//! often the same interpreter). Skipped when it is unset, unless ENVELOPE_REQUIRE_MPL is set (CI):
//! then the test fails.

#![cfg(feature = "dynamodb")]

mod common;

use std::process::Command;

use common::{Kms, moto};
use envelope_keystore::hierarchy::KeyStore;
use envelope_keystore::{CreateKeyRequest, DynamoDbStorage, KmsConfiguration};

const TABLE: &str = "MplInteropTable";

/// Runs the MPL helper with `args`; its one line of output.
async fn mpl(python: &str, env: &[(&str, String)], args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/mpl_keystore.py");
    let mut command = Command::new(python);
    command.arg(script).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    // The emulator serves from this process's runtime: wait for Python off its threads.
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(output.status.success(), "MPL {args:?} failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_mpl_and_envelope_share_a_table() {
    let python = match std::env::var("ENVELOPE_MPL_PYTHON") {
        Ok(python) if !python.is_empty() => python,
        _ => {
            let message =
                "ENVELOPE_MPL_PYTHON is not set (an interpreter with interop/python/requirements.txt installed)";
            if std::env::var("ENVELOPE_REQUIRE_MPL").is_ok_and(|v| !v.is_empty() && v != "0") {
                panic!("{message}; ENVELOPE_REQUIRE_MPL is set, so this test fails");
            }
            eprintln!("SKIPPED: {message}");
            return;
        }
    };
    let Some(moto) = moto::start() else { return };
    let kms = Kms::start("mpl").await;
    let arn = kms.create_key("us-east-1").await;
    let env = [
        ("DDB_ENDPOINT", moto.endpoint.clone()),
        ("KMS_ENDPOINT", kms.endpoint.clone()),
        ("TABLE", TABLE.to_owned()),
        ("LOGICAL_NAME", TABLE.to_owned()),
        ("KMS_ARN", arn.clone()),
    ];
    let store =
        kms.store(DynamoDbStorage::new(moto.dynamodb(), TABLE), TABLE, KmsConfiguration::key_arn(&arn).unwrap());

    // The MPL creates the table and a key; envelope reads it.
    assert!(mpl(&python, &env, &["create-store"]).await.contains(TABLE));
    store.create_key_store().await.unwrap();
    let id = mpl(&python, &env, &["create-key", "tenant-a", "tenant=a"]).await;
    assert_eq!(id, "tenant-a");
    let ours = store.get_active_branch_key(&id).await.unwrap();
    let theirs = mpl(&python, &env, &["get-active", &id]).await;
    assert_eq!(theirs, format!("{} {} tenant=a", ours.version(), sha256(ours.key().expose_secret())));
    assert_eq!(ours.encryption_context()["tenant"], "a");
    let beacon = store.get_beacon_key(&id).await.unwrap();
    assert_eq!(mpl(&python, &env, &["get-beacon", &id]).await, sha256(beacon.key().expose_secret()));

    // envelope rotates it; the MPL reads the new version and still the old one.
    let first = ours;
    let second_version = store.version_key(&id).await.unwrap();
    let second = store.get_active_branch_key(&id).await.unwrap();
    assert_eq!(
        mpl(&python, &env, &["get-active", &id]).await,
        format!("{second_version} {} tenant=a", sha256(second.key().expose_secret()))
    );
    assert_eq!(
        mpl(&python, &env, &["get-version", &id, first.version()]).await,
        format!("{} {} tenant=a", first.version(), sha256(first.key().expose_secret()))
    );

    // envelope creates a key; the MPL reads it, rotates it, and envelope reads that.
    let mine = store.create_key(CreateKeyRequest::new().context("owner", "envelope")).await.unwrap();
    let created = store.get_active_branch_key(&mine).await.unwrap();
    assert_eq!(
        mpl(&python, &env, &["get-active", &mine]).await,
        format!("{} {} owner=envelope", created.version(), sha256(created.key().expose_secret()))
    );
    assert_eq!(mpl(&python, &env, &["version-key", &mine]).await, "ok");
    let rotated = store.get_active_branch_key(&mine).await.unwrap();
    assert_ne!(rotated.version(), created.version());
    assert_eq!(
        mpl(&python, &env, &["get-active", &mine]).await,
        format!("{} {} owner=envelope", rotated.version(), sha256(rotated.key().expose_secret()))
    );
    assert_eq!(store.describe_key(&mine).await.unwrap().len(), 4);
}
