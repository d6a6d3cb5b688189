//! `envelope vectors dbe decrypt|encrypt`: the four official DB-ESDK decrypt manifests pass all
//! 42 records offline; our encrypt manifest (`test-vectors/dbe/`) round-trips through a written
//! decrypt manifest, the committed written manifest still decrypts, and a wrong beacon fails;
//! the items the official Rust crate aws-db-esdk wrote (`test-vectors/dbe-peer/`) decrypt with
//! their beacons checked, and damaged copies of them are refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TempDir, isolated_envelope};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn envelope(home: &Path, args: &[&str]) -> Output {
    isolated_envelope(home).args(args).env("RUST_LOG", "error").output().expect("envelope runs")
}

fn last_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned()
}

fn decrypt(home: &Path, manifest: &Path) -> Output {
    envelope(home, &["vectors", "dbe", "decrypt", "--manifest", manifest.to_str().unwrap()])
}

#[test]
fn official_manifests_pass_offline() {
    let home = TempDir::new("dbe-vectors-official");
    for (file, records) in [
        ("decrypt_java_32.json", 9),
        ("decrypt_dotnet_32.json", 9),
        ("decrypt_java_33.json", 12),
        ("decrypt_dotnet_33.json", 12),
    ] {
        let output = decrypt(home.path(), &repo().join("test-vectors/dbesdk").join(file));
        assert!(output.status.success(), "{file}: {}", String::from_utf8_lossy(&output.stdout));
        assert_eq!(last_line(&output), format!("{records} passed, 0 failed, 0 skipped"), "{file}");
    }
}

/// Our manifest's tests: 27, of which 3 negative-encrypt ones are refused and not written.
const WRITTEN: usize = 24;

#[test]
fn encrypt_then_decrypt_round_trips() {
    let home = TempDir::new("dbe-vectors-round-trip");
    let out = home.path().join("written");
    let manifest = repo().join("test-vectors/dbe/encrypt-manifest.json");
    let output = envelope(
        home.path(),
        &["vectors", "dbe", "encrypt", "--manifest", manifest.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(last_line(&output), "27 passed, 0 failed, 0 skipped");
    assert!(out.join("keys.json").is_file());

    let output = decrypt(home.path(), &out.join("manifest.json"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(last_line(&output), format!("{WRITTEN} passed, 0 failed, 0 skipped"));

    // A written item carries its beacons; one changed beacon fails that record and the run.
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let record = &mut json["tests"]["envelope-beacons-single-sig"]["encrypted"];
    assert!(record.get("aws_dbe_b_Name").is_some() && record.get("aws_dbe_b_YearZip").is_some());
    record["aws_dbe_b_Name"] = serde_json::json!({"S": "0000"});
    std::fs::write(out.join("manifest.json"), json.to_string()).unwrap();
    let output = decrypt(home.path(), &out.join("manifest.json"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(last_line(&output), format!("{} passed, 1 failed, 0 skipped", WRITTEN - 1));

    // Writing into a directory that holds files is refused.
    let again = envelope(
        home.path(),
        &["vectors", "dbe", "encrypt", "--manifest", manifest.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert!(!again.status.success());
}

#[test]
fn committed_written_manifest_decrypts() {
    let home = TempDir::new("dbe-vectors-committed");
    let output = decrypt(home.path(), &repo().join("test-vectors/dbe/decrypt/manifest.json"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(last_line(&output), format!("{WRITTEN} passed, 0 failed, 0 skipped"));
}

/// `test-vectors/dbe-peer/`: 6 items per suite written by aws-db-esdk 1.3.0 through its
/// DynamoDB interceptor (`crates/dbe-peer/make-vectors.sh`), plus damaged copies.
#[test]
fn official_rust_crate_items_decrypt() {
    let home = TempDir::new("dbe-vectors-peer");
    let manifest = repo().join("test-vectors/dbe-peer/manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("test-vectors/dbe-peer/manifest.json is committed");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tests = json["tests"].as_object().unwrap();
    let negative = tests.values().filter(|t| t["type"] == "negative-decrypt").count();
    assert_eq!((tests.len(), negative), (21, 9), "6 positive + 4 or 5 negative records per suite");
    // Every positive record carries the peer's beacons, so the run checks them.
    assert!(tests.values().all(|t| t["encrypted"].get("aws_dbe_b_Email").is_some()));
    let output = decrypt(home.path(), &manifest);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(last_line(&output), "21 passed, 0 failed, 0 skipped");
}
