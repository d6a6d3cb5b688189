//! The runner against the official vectors (`test-vectors/official/*.zip`), our own
//! interop manifest (encrypt → decrypt round trip), and manifests that must fail.

mod common;

use std::path::{Path, PathBuf};

use common::{official_zip, only_kms};
use std::sync::atomic::{AtomicUsize, Ordering};

use envelope_vectors::{
    DecryptRunner, EncryptMethod, GenerateOptions, Outcome, Report, RunOptions, run_decrypt_manifest,
    run_encrypt_manifest,
};

fn interop_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/interop/encrypt-manifest.json")
}

/// A fresh path under the system temp directory (removed on drop).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("envelope-vectors-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn describe(report: &Report) -> String {
    report.failure_lines().chain(report.skip_lines()).chain([report.summary()]).collect::<Vec<_>>().join("\n")
}

/// Checks every test of an official manifest by name: tests whose keys are all AWS KMS keys
/// are skipped, every other test passes (one-shot and streaming).
fn check_official(zip: &str, summary: &str) {
    let path = official_zip(zip);
    let runner = DecryptRunner::open(&path, &RunOptions::default()).expect("manifest opens");
    let report = runner.run();
    let mut wrong = Vec::new();
    for test in &runner.manifest().tests {
        let needs_kms = test.keys.as_ref().is_ok_and(only_kms);
        let got = report.outcome(&test.name).expect("every test reported");
        let ok = if needs_kms { matches!(got, Outcome::Skipped { .. }) } else { *got == Outcome::Passed };
        if !ok {
            wrong.push(format!(
                "{}: expected {}, got {got:?}",
                test.name,
                if needs_kms { "skipped" } else { "passed" }
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), describe(&report));
    assert_eq!(report.summary(), summary, "{}", describe(&report));
}

#[test]
fn official_v4_net_4_0_1() {
    check_official("v4-Net-4.0.1.zip", "99 passed, 0 failed, 33 skipped");
}

#[test]
fn official_invalid_net_4_0_0() {
    check_official("invalid-Net-4.0.0.zip", "28 passed, 0 failed, 0 skipped");
}

/// The .NET 4.0.0 messages are read only thanks to the retry: switched off, every one fails.
#[test]
fn official_invalid_net_4_0_0_fails_without_the_retry() {
    let options = RunOptions { net_v4_0_0_retry: false, ..RunOptions::default() };
    let report = run_decrypt_manifest(&official_zip("invalid-Net-4.0.0.zip"), &options).expect("manifest opens");
    assert_eq!(report.summary(), "0 passed, 28 failed, 0 skipped", "{}", describe(&report));
}

fn round_trip(method: EncryptMethod) {
    let out = TempDir::new("round-trip");
    let options = GenerateOptions { method, ..GenerateOptions::default() };
    let written = run_encrypt_manifest(&interop_manifest(), &out.0, &options).expect("encrypt manifest runs");
    // The two frame-size-0 tests ask for non-framed messages, which envelope never writes.
    assert_eq!(written.summary(), "148 passed, 0 failed, 2 skipped", "{}", describe(&written));
    for line in written.skip_lines() {
        assert!(line.contains("-f0-") && line.contains("non-framed"), "{line}");
    }
    let read = run_decrypt_manifest(&out.0, &RunOptions::default()).expect("decrypt manifest runs");
    assert_eq!(read.summary(), "148 passed, 0 failed, 0 skipped", "{}", describe(&read));

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.0.join("manifest.json")).expect("manifest written")).expect("json");
    assert_eq!(manifest["manifest"]["version"], 4, "required-EC tests make it a v4 manifest");
    let required = &manifest["tests"]["0578-aes-256-small-f512-ec_ascii3-required_key1"];
    assert_eq!(required["cmm"], "RequiredEncryptionContext");
    assert_eq!(required["encryption-context"], serde_json::json!({"key1": "val1"}));
}

#[test]
fn interop_manifest_round_trips_one_shot() {
    round_trip(EncryptMethod::OneShot);
}

#[test]
fn interop_manifest_round_trips_streaming() {
    round_trip(EncryptMethod::Streaming);
}

/// A manifest with wrong expectations: each wrong one is counted as a failure, by name.
#[test]
fn wrong_expectations_are_failures() {
    let out = TempDir::new("negative");
    let options = GenerateOptions { filter: Some("0578-aes-256-".into()), ..GenerateOptions::default() };
    run_encrypt_manifest(&interop_manifest(), &out.0, &options).expect("encrypt manifest runs");
    let manifest_path = out.0.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("read")).expect("json");
    let tests = manifest["tests"].as_object_mut().expect("tests");

    // 1. Expected plaintext is not what was encrypted.
    tests["0578-aes-256-small-f512-ec_ascii"]["result"] =
        serde_json::json!({"output": {"plaintext": "file://plaintexts/tiny"}});
    // 2. A negative test whose ciphertext is fine: decryption succeeds, so the test fails.
    tests["0578-aes-256-tiny-f512-ec_ascii"]["result"] =
        serde_json::json!({"error": {"error-description": "should not decrypt"}});
    // 3. A negative test whose ciphertext is truncated: decryption fails both ways, so it passes.
    let mut truncated = tests["0578-aes-256-empty-f512-ec_ascii"].clone();
    let ciphertext = std::fs::read(out.0.join("ciphertexts/0578-aes-256-empty-f512-ec_ascii")).expect("read");
    std::fs::write(out.0.join("ciphertexts/truncated"), &ciphertext[..ciphertext.len() - 1]).expect("write");
    truncated["ciphertext"] = "file://ciphertexts/truncated".into();
    truncated["result"] = serde_json::json!({"error": {"error-description": "truncated"}});
    tests.insert("truncated".into(), truncated);
    // 4. A wrong reproduced context on a required-context test: fails.
    tests["0578-aes-256-small-f512-ec_ascii3-required_key1"]["encryption-context"] =
        serde_json::json!({"key1": "other"});
    // 5. A key the keys manifest lacks: a broken manifest fails, it is not skipped.
    tests["0578-aes-256-small-f4096-ec_none"]["master-keys"][0]["key"] = "no-such-key".into();
    // 6. A KMS key: skipped.
    tests["0578-aes-256-small-f4096-ec_unicode"]["master-keys"] =
        serde_json::json!([{"type": "aws-kms", "key": "kms"}]);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).expect("json")).expect("write");
    let keys_path = out.0.join("keys.json");
    let mut keys: serde_json::Value = serde_json::from_slice(&std::fs::read(&keys_path).expect("read")).expect("json");
    keys["keys"]["kms"] = serde_json::json!({"type": "aws-kms", "key-id": "arn:aws:kms:us-west-2:111122223333:key/x"});
    std::fs::write(&keys_path, serde_json::to_vec(&keys).expect("json")).expect("write");

    // Through the manifest file path this time (the round trip uses the directory).
    let report = run_decrypt_manifest(&manifest_path, &RunOptions::default()).expect("decrypt manifest runs");
    let failed: Vec<&str> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "0578-aes-256-small-f4096-ec_none",
            "0578-aes-256-small-f512-ec_ascii",
            "0578-aes-256-small-f512-ec_ascii3-required_key1",
            "0578-aes-256-tiny-f512-ec_ascii",
        ],
        "{}",
        describe(&report)
    );
    assert_eq!(report.outcome("truncated"), Some(&Outcome::Passed));
    assert!(matches!(
        report.outcome("0578-aes-256-small-f4096-ec_unicode"),
        Some(Outcome::Skipped { reason }) if reason.contains("needs AWS KMS")
    ));
    assert!(!report.is_success());
    assert!(report.to_string().ends_with(&report.summary()));
}

#[test]
fn official_v5_java_4_1_0() {
    // 11 hierarchy (static branch key), 99 raw ECDH, and the raw AES/RSA tests run offline; the
    // 190 AWS KMS (and KMS ECDH) tests are skipped.
    check_official("v5-Java-4.1.0.zip", "297 passed, 0 failed, 190 skipped");
}

fn rotation_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/hierarchy/rotation")
}

/// Our hierarchy vectors (two versions of one branch key): the committed messages decrypt, and
/// the generator writes them again as a v5 manifest that reads back.
#[test]
fn hierarchy_rotation_vectors_decrypt_and_regenerate() {
    let read = run_decrypt_manifest(&rotation_vectors().join("decrypt"), &RunOptions::default()).expect("opens");
    assert_eq!(read.summary(), "17 passed, 0 failed, 0 skipped", "{}", describe(&read));

    let out = TempDir::new("hierarchy");
    let written =
        run_encrypt_manifest(&rotation_vectors().join("encrypt-manifest.json"), &out.0, &GenerateOptions::default())
            .expect("encrypt manifest runs");
    assert_eq!(written.summary(), "17 passed, 0 failed, 0 skipped", "{}", describe(&written));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.0.join("manifest.json")).expect("manifest written")).expect("json");
    assert_eq!(manifest["manifest"]["version"], 5, "hierarchy descriptions make it a v5 manifest");
    let read = run_decrypt_manifest(&out.0, &RunOptions::default()).expect("decrypt manifest runs");
    assert_eq!(read.summary(), "17 passed, 0 failed, 0 skipped", "{}", describe(&read));
}

/// A v4 `master-keys` list whose first key cannot decrypt (another raw AES key name) and whose
/// second, a hierarchy key, can: the test passes, as a multi-keyring tries each in turn.
#[test]
fn v4_master_keys_fall_through_to_a_hierarchy_key() {
    let source = rotation_vectors().join("decrypt");
    let out = TempDir::new("hierarchy-v4");
    for dir in ["ciphertexts", "plaintexts"] {
        std::fs::create_dir_all(out.0.join(dir)).expect("mkdir");
        for entry in std::fs::read_dir(source.join(dir)).expect("read dir") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), out.0.join(dir).join(entry.file_name())).expect("copy");
        }
    }
    std::fs::copy(source.join("keys.json"), out.0.join("keys.json")).expect("copy keys");
    let name = "0578-rotation-written-v1-read-after-rotation";
    let manifest = serde_json::json!({
        "manifest": {"type": "awses-decrypt", "version": 4},
        "keys": "file://keys.json",
        "tests": {name: {
            "ciphertext": format!("file://ciphertexts/{name}"),
            "result": {"output": {"plaintext": "file://plaintexts/small"}},
            "master-keys": [
                {"type": "raw", "key": "aes-256", "provider-id": "not-the-writer", "encryption-algorithm": "aes"},
                {"type": "aws-kms-hierarchy", "key": "static-branch-key-1"},
                {"type": "aws-kms-hierarchy", "key": "rotating-branch-key-v2"}
            ]
        }}
    });
    std::fs::write(out.0.join("manifest.json"), serde_json::to_vec(&manifest).expect("json")).expect("write");
    let read = run_decrypt_manifest(&out.0, &RunOptions::default()).expect("opens");
    assert_eq!(read.summary(), "1 passed, 0 failed, 0 skipped", "{}", describe(&read));
}
