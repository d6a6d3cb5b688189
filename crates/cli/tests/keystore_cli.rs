//! `envelope keystore create|create-key|version-key|describe` on a SQLite store, with the
//! embedded KMS emulator (its own data directory per test, so no AWS configuration is used).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_envelope");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("envelope-keystore-cli-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn envelope(kms_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("ENVELOPE_KMS", "embedded")
        .env("ENVELOPE_KMS_DATA_DIR", kms_dir)
        .env("RUST_LOG", "error")
        .env_remove("AWS_ENDPOINT_URL_KMS")
        .output()
        .expect("envelope runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn last_line(text: &str) -> String {
    text.lines().last().unwrap_or_default().trim().to_owned()
}

#[test]
fn create_rotate_and_describe_on_sqlite() {
    let dir = TempDir::new("cycle");
    let kms_dir = dir.0.join("kms");
    let created = stdout(&envelope(&kms_dir, &["kms", "create-key"]));
    let meta: serde_json::Value = serde_json::from_str(&created).unwrap();
    let arn = meta["Arn"].as_str().unwrap().to_owned();

    // Without --store: keystore.sqlite3 next to the emulator's data directory.
    let ready = stdout(&envelope(&kms_dir, &["keystore", "create"]));
    assert_eq!(PathBuf::from(last_line(&ready)), dir.0.join("keystore.sqlite3"));
    assert!(dir.0.join("keystore.sqlite3").is_file());

    let id = last_line(&stdout(&envelope(
        &kms_dir,
        &["keystore", "create-key", "--kms-key", &arn, "-c", "department=finance"],
    )));
    assert_eq!(id.len(), 36, "{id}");
    let described = stdout(&envelope(&kms_dir, &["keystore", "describe", "--branch-key-id", &id]));
    assert_eq!(described.lines().filter(|l| l.starts_with("active")).count(), 1, "{described}");
    assert_eq!(described.lines().filter(|l| l.starts_with("version")).count(), 1, "{described}");
    assert_eq!(described.lines().filter(|l| l.starts_with("beacon")).count(), 1, "{described}");
    assert!(described.contains(&arn) && described.contains("department=finance"), "{described}");
    assert!(!described.contains("enc"), "never key material or ciphertext: {described}");

    let version = last_line(&stdout(&envelope(
        &kms_dir,
        &["keystore", "version-key", "--kms-key", &arn, "--branch-key-id", &id],
    )));
    let described = stdout(&envelope(&kms_dir, &["keystore", "describe", "--branch-key-id", &id]));
    assert_eq!(described.lines().filter(|l| l.starts_with("version")).count(), 2, "{described}");
    let active = described.lines().find(|l| l.starts_with("active")).unwrap();
    assert!(active.contains(&version), "ACTIVE names the new version: {described}");

    // An explicit store and a caller-chosen id.
    let path = dir.0.join("tenants.sqlite3");
    let store = format!("sqlite:{}", path.display());
    stdout(&envelope(&kms_dir, &["keystore", "create", "--store", &store]));
    let tenant = stdout(&envelope(
        &kms_dir,
        &[
            "keystore",
            "create-key",
            "--store",
            &store,
            "--kms-key",
            &arn,
            "--branch-key-id",
            "tenant-7",
            "-c",
            "tenant=7",
        ],
    ));
    assert_eq!(last_line(&tenant), "tenant-7");
}

#[test]
fn errors_say_what_to_do() {
    let dir = TempDir::new("errors");
    let kms_dir = dir.0.join("kms");
    let meta: serde_json::Value = serde_json::from_str(&stdout(&envelope(&kms_dir, &["kms", "create-key"]))).unwrap();
    let arn = meta["Arn"].as_str().unwrap().to_owned();
    let other: serde_json::Value = serde_json::from_str(&stdout(&envelope(&kms_dir, &["kms", "create-key"]))).unwrap();
    let other_arn = other["Arn"].as_str().unwrap().to_owned();

    // No store yet.
    let output = envelope(&kms_dir, &["keystore", "describe", "--branch-key-id", "x"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist") && stderr.contains("keystore create"), "{stderr}");

    stdout(&envelope(&kms_dir, &["keystore", "create"]));
    let output = envelope(&kms_dir, &["keystore", "version-key", "--kms-key", &arn, "--branch-key-id", "missing"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"missing\"") && stderr.contains("create-key"), "{stderr}");

    // An alias is not a key ARN.
    let output = envelope(&kms_dir, &["keystore", "create-key", "--kms-key", "alias/x"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--kms-key"));

    // A branch key is rotated only with the KMS key it was created under.
    let id = last_line(&stdout(&envelope(&kms_dir, &["keystore", "create-key", "--kms-key", &arn])));
    let output = envelope(&kms_dir, &["keystore", "version-key", "--kms-key", &other_arn, "--branch-key-id", &id]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&arn) && stderr.contains(&other_arn), "{stderr}");

    let output = envelope(&kms_dir, &["keystore", "create", "--store", "postgres:x"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("sqlite:PATH or dynamodb:TABLE"));
}
