//! The committed KMS vectors (`test-vectors/kms`) through the `envelope` binary, against the
//! bundled emulator started on 127.0.0.1:0 from the committed seed file — what a fresh clone can
//! run offline. Every child process gets a scrubbed AWS environment, so nothing but 127.0.0.1 is
//! contacted whatever the developer's machine has configured.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{ServeProcess, TempDir, isolated_envelope};

fn kms_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/kms")
}

/// `envelope kms serve` over a fresh data directory (optionally seeded); killed on drop.
struct Emulator {
    server: ServeProcess,
    _dir: TempDir,
}

impl Emulator {
    fn start(seed: Option<&Path>) -> Emulator {
        let dir = TempDir::new("emulator");
        let mut args: Vec<&OsStr> = Vec::new();
        if let Some(seed) = seed {
            args.extend([OsStr::new("--seed"), seed.as_os_str()]);
        }
        let server = ServeProcess::start(&dir.path().join("kms"), &args, Stdio::inherit());
        Emulator { server, _dir: dir }
    }
}

/// `envelope vectors ...` with no AWS configuration (nor `ENVELOPE_KMS`) from the environment, and
/// with the emulator's endpoint and dummy credentials when `endpoint` is given.
fn vectors(args: &[&str], endpoint: Option<&str>) -> Output {
    let home = TempDir::new("home");
    let mut command = isolated_envelope(home.path());
    command.arg("vectors").args(args);
    if let Some(endpoint) = endpoint {
        command
            .env("AWS_ENDPOINT_URL_KMS", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-west-2");
    }
    command.output().expect("envelope vectors runs")
}

/// The last stdout line, `N passed, M failed, K skipped`, as numbers.
fn summary(output: &Output) -> (usize, usize, usize) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    let numbers: Vec<usize> = last.split(", ").filter_map(|part| part.split(' ').next()?.parse().ok()).collect();
    match numbers[..] {
        [passed, failed, skipped] if last.contains(" passed, ") => (passed, failed, skipped),
        _ => panic!("no summary line; stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&output.stderr)),
    }
}

fn describe(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How many tests the committed decrypt manifest holds.
fn committed_tests() -> usize {
    let text = std::fs::read(kms_vectors().join("decrypt/manifest.json")).expect("committed manifest");
    let manifest: serde_json::Value = serde_json::from_slice(&text).expect("manifest is JSON");
    manifest["tests"].as_object().expect("tests object").len()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn committed_kms_vectors_decrypt_from_the_seed_alone() {
    let n = committed_tests();
    assert!(n >= 30, "the committed manifest holds only {n} tests");
    let emulator = Emulator::start(Some(&kms_vectors().join("seed.json")));
    let decrypt = kms_vectors().join("decrypt");
    let output = vectors(&["decrypt", "--manifest", path(&decrypt)], Some(&emulator.server.endpoint));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{n} passed, 0 failed, 0 skipped").as_str()),
        "{}",
        describe(&output)
    );
    assert!(output.status.success());
}

#[test]
fn an_emulator_without_the_seed_cannot_pass_them() {
    let emulator = Emulator::start(None);
    let decrypt = kms_vectors().join("decrypt");
    let output = vectors(&["decrypt", "--manifest", path(&decrypt), "--verbose"], Some(&emulator.server.endpoint));
    let (passed, failed, skipped) = summary(&output);
    // Keys the emulator does not have are skipped; discovery names no key to look up, so those
    // tests fail; only multi-keyring tests that a raw AES key can read pass.
    assert!(passed < committed_tests() / 4, "{}", describe(&output));
    assert!(failed > 0 && skipped > 0, "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("(NotFoundException)"), "{}", describe(&output));
    assert!(!output.status.success());
}

#[test]
fn a_tampered_ciphertext_fails() {
    let n = committed_tests();
    let copy = TempDir::new("tampered");
    let decrypt = kms_vectors().join("decrypt");
    for sub in ["", "plaintexts", "ciphertexts"] {
        std::fs::create_dir_all(copy.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(decrypt.join(sub)).expect("read dir").flatten() {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), copy.path().join(sub).join(entry.file_name())).expect("copy");
            }
        }
    }
    let victim = copy.path().join("ciphertexts/0578-kms-us-west-2");
    let mut bytes = std::fs::read(&victim).expect("ciphertext");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&victim, bytes).expect("write");

    let emulator = Emulator::start(Some(&kms_vectors().join("seed.json")));
    let output = vectors(&["decrypt", "--manifest", path(copy.path())], Some(&emulator.server.endpoint));
    assert_eq!(summary(&output), (n - 1, 1, 0), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAILED 0578-kms-us-west-2:"), "{}", describe(&output));
}

#[test]
fn encrypt_against_the_emulator_then_decrypt_what_it_wrote() {
    let emulator = Emulator::start(Some(&kms_vectors().join("seed.json")));
    let out = TempDir::new("round-trip");
    let written = out.path().join("written");
    let manifest = kms_vectors().join("encrypt-manifest.json");
    for streaming in [false, true] {
        let _ = std::fs::remove_dir_all(&written);
        let mut args = vec!["encrypt", "--manifest", path(&manifest), "--out", path(&written)];
        if streaming {
            args.push("--streaming");
        }
        let output = vectors(&args, Some(&emulator.server.endpoint));
        let (passed, failed, skipped) = summary(&output);
        assert_eq!((failed, skipped), (0, 0), "{}", describe(&output));
        assert_eq!(passed, committed_tests(), "{}", describe(&output));

        let output = vectors(&["decrypt", "--manifest", path(&written)], Some(&emulator.server.endpoint));
        assert_eq!(summary(&output), (passed, 0, 0), "{}", describe(&output));
    }
}

#[test]
fn without_kms_configuration_kms_tests_are_skipped() {
    let decrypt = kms_vectors().join("decrypt");
    let output = vectors(&["decrypt", "--manifest", path(&decrypt)], None);
    let (passed, failed, skipped) = summary(&output);
    assert_eq!(failed, 0, "{}", describe(&output));
    assert_eq!(passed + skipped, committed_tests());
    assert!(skipped > passed, "{}", describe(&output));

    // --no-kms wins over configuration that is present.
    let emulator = Emulator::start(Some(&kms_vectors().join("seed.json")));
    let output = vectors(&["decrypt", "--manifest", path(&decrypt), "--no-kms"], Some(&emulator.server.endpoint));
    assert_eq!(summary(&output), (passed, 0, skipped), "{}", describe(&output));
}

#[test]
fn official_vectors_keep_their_aws_keys_skipped_with_the_emulator_configured() {
    let zip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/official/v4-Net-4.0.1.zip");
    assert!(zip.is_file(), "{} is missing: the official vectors are part of the repository", zip.display());
    let emulator = Emulator::start(Some(&kms_vectors().join("seed.json")));
    let output = vectors(&["decrypt", "--manifest", path(&zip), "--verbose"], Some(&emulator.server.endpoint));
    assert_eq!(summary(&output), (99, 0, 33), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("does not exist (NotFoundException)").count(), 33, "{stdout}");
}
