//! `envelope encrypt|decrypt -w branch-key-id=ID key-store=STORE kms-key=KMS_KEY ...` (the
//! hierarchical keyring) on SQLite stores with the embedded KMS emulator: round trips, rotation,
//! the kms-key check, and failures that leave no output file and say what to do next.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TempDir, isolated_envelope};

/// A home, an emulator data directory and a SQLite store of one test.
struct Setup {
    dir: TempDir,
    kms_dir: PathBuf,
    store: String,
}

impl Setup {
    fn new(label: &str) -> Setup {
        let dir = TempDir::new(label);
        let kms_dir = dir.path().join("kms");
        let store = format!("sqlite:{}", dir.path().join("keys.sqlite3").display());
        Setup { dir, kms_dir, store }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        isolated_envelope(self.dir.path())
            .args(args)
            .env("ENVELOPE_KMS_DATA_DIR", &self.kms_dir)
            .env("RUST_LOG", "error")
            .output()
            .expect("envelope runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A new KMS key on the embedded emulator (with `alias` if given); its ARN.
    fn kms_key(&self, alias: Option<&str>) -> String {
        let mut args = vec!["kms", "create-key"];
        if let Some(alias) = alias {
            args.extend(["--alias", alias]);
        }
        let created: serde_json::Value = serde_json::from_str(&self.ok(&args)).expect("JSON key metadata");
        created["Arn"].as_str().expect("Arn").to_owned()
    }

    /// `encrypt` or `decrypt` of `input` into `output` with one hierarchy group.
    fn crypt(&self, verb: &str, input: &Path, output: &Path, group: &[&str], extra: &[&str]) -> Output {
        let (input, output) = (input.display().to_string(), output.display().to_string());
        let mut args = vec![verb, "-i", &input, "-o", &output, "-w"];
        args.extend(group);
        args.extend(extra);
        self.run(&args)
    }
}

/// The successful KMS Decrypt calls of branch key items in the emulator's audit log.
fn branch_key_decrypts(setup: &Setup) -> usize {
    let audit = setup.ok(&["kms", "audit", "--limit", "100000"]);
    audit
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON audit event"))
        .filter(|event| event["eventName"] == "Decrypt" && event.get("errorCode").is_none_or(|code| code.is_null()))
        .filter(|event| {
            event["requestParameters"]["encryptionContext"]["type"].as_str().is_some_and(|t| t.starts_with("branch:"))
        })
        .count()
}

fn last_line(text: &str) -> String {
    text.lines().last().unwrap_or_default().trim().to_owned()
}

/// The 16 bytes a message's EDK carries for a version (a UUID in text form).
fn version_bytes(version: &str) -> Vec<u8> {
    let hex: String = version.chars().filter(|c| *c != '-').collect();
    assert_eq!(hex.len(), 32, "{version}");
    (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Asserts a failure with `code`, stderr containing every one of `says`, and nothing at `output`
/// (nor a temporary file beside it).
fn assert_refused(output: &Output, code: i32, says: &[&str], target: &Path) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    for text in says {
        assert!(stderr.contains(text), "stderr lacks {text:?}: {stderr}");
    }
    assert!(!target.exists(), "{} was written: {stderr}", target.display());
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let leftovers: Vec<String> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|entry| entry.contains(&name))
        .collect();
    assert!(leftovers.is_empty(), "temporary outputs left: {leftovers:?}");
}

#[test]
fn round_trip_rotation_and_the_kms_key_check() {
    let setup = Setup::new("hier-round-trip");
    let arn = setup.kms_key(Some("alias/branch-keys"));
    let other_arn = setup.kms_key(None);
    setup.ok(&["keystore", "create", "--store", &setup.store]);
    let id = last_line(&setup.ok(&["keystore", "create-key", "--store", &setup.store, "--kms-key", &arn]));
    let described = setup.ok(&["keystore", "describe", "--store", &setup.store, "--branch-key-id", &id]);
    let first_version = described.lines().find(|l| l.starts_with("active")).unwrap().split_whitespace().nth(1).unwrap();

    let plain = setup.path("report.txt");
    let text: String = (0..500).map(|i| format!("row {i}: confidential\n")).collect();
    std::fs::write(&plain, &text).unwrap();
    let branch = format!("branch-key-id={id}");
    let key_store = format!("key-store={}", setup.store);
    let kms_key = format!("kms-key={arn}");
    // kms-key= may be an alias: it is resolved to the key ARN the items must name.
    let group = [branch.as_str(), key_store.as_str(), "kms-key=alias/branch-keys", "cache-ttl=60"];

    let before = setup.path("before.enc");
    let output = setup.crypt("encrypt", &plain, &before, &group, &["-c", "dept=finance"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let message = std::fs::read(&before).unwrap();
    assert!(contains(&message, b"aws-kms-hierarchy") && contains(&message, id.as_bytes()), "a hierarchy EDK");
    assert!(contains(&message, &version_bytes(first_version)), "the EDK names the active version");
    let back = setup.path("before.txt");
    let output = setup.crypt("decrypt", &before, &back, &[&branch, &key_store, &kms_key], &["-c", "dept=finance"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), text);

    // Rotation: new messages use the new version; old ones still decrypt.
    let second_version = last_line(&setup.ok(&[
        "keystore",
        "version-key",
        "--store",
        &setup.store,
        "--kms-key",
        &arn,
        "--branch-key-id",
        &id,
    ]));
    let after = setup.path("after.enc");
    let output = setup.crypt("encrypt", &plain, &after, &group, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let message = std::fs::read(&after).unwrap();
    assert!(contains(&message, &version_bytes(&second_version)), "the new message names the new version");
    assert!(!contains(&message, &version_bytes(first_version)), "and not the old one");
    for (input, output) in [(&before, "before-again.txt"), (&after, "after.txt")] {
        let target = setup.path(output);
        let result = setup.crypt("decrypt", input, &target, &group, &[]);
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), text);
    }

    // A directory of files: one keyring, one cache, so one KMS Decrypt of the branch key for the
    // whole run (counted on the emulator's audit log), and one for decrypting them all.
    let tree = setup.path("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for i in 0..5 {
        std::fs::write(tree.join(format!("f{i}")), format!("file {i}")).unwrap();
    }
    let calls = branch_key_decrypts(&setup);
    let sealed = setup.path("sealed");
    let output = setup.crypt("encrypt", &tree, &sealed, &group, &["-r"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(branch_key_decrypts(&setup), calls + 1, "one KMS call for five files");
    let opened = setup.path("opened");
    let output = setup.crypt("decrypt", &sealed, &opened, &group, &["-r"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(opened.join("f3.encrypted.decrypted")).unwrap(), "file 3");
    assert_eq!(branch_key_decrypts(&setup), calls + 2, "one KMS call to decrypt them");

    // kms-key is enforced: items under another KMS key are refused, both ways, before KMS is asked.
    let wrong = format!("kms-key={other_arn}");
    let target = setup.path("wrong-key.txt");
    let output = setup.crypt("decrypt", &before, &target, &[&branch, &key_store, &wrong], &[]);
    assert_refused(&output, 4, &[&arn, &other_arn, "kms-key= must name the KMS key"], &target);
    let target = setup.path("wrong-key.enc");
    let output = setup.crypt("encrypt", &plain, &target, &[&branch, &key_store, &wrong], &[]);
    assert_refused(&output, 4, &[&arn, &other_arn, "kms-key="], &target);
}

#[test]
fn failures_leave_no_output_and_say_what_to_do() {
    let setup = Setup::new("hier-failures");
    let arn = setup.kms_key(None);
    setup.ok(&["keystore", "create", "--store", &setup.store]);
    let id = last_line(&setup.ok(&["keystore", "create-key", "--store", &setup.store, "--kms-key", &arn]));
    let plain = setup.path("plain.txt");
    let text = "the plaintext\n".repeat(800);
    std::fs::write(&plain, &text).unwrap();
    let branch = format!("branch-key-id={id}");
    let key_store = format!("key-store={}", setup.store);
    let kms_key = format!("kms-key={arn}");
    let message = setup.path("message.enc");
    let output = setup.crypt("encrypt", &plain, &message, &[&branch, &key_store, &kms_key], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // Unknown branch key: encrypt cannot get it; decrypt finds no EDK of its branch key.
    let target = setup.path("unknown.enc");
    let output = setup.crypt("encrypt", &plain, &target, &["branch-key-id=nope", &key_store, &kms_key], &[]);
    assert_refused(&output, 4, &["\"nope\"", "no such branch key", "envelope keystore create-key"], &target);
    let target = setup.path("unknown.txt");
    let output = setup.crypt("decrypt", &message, &target, &["branch-key-id=nope", &key_store, &kms_key], &[]);
    assert_refused(&output, 1, &["branch key id is not \"nope\""], &target);

    // The branch key is not in the store named (another, empty store).
    let other_store = format!("sqlite:{}", setup.path("other.sqlite3").display());
    setup.ok(&["keystore", "create", "--store", &other_store]);
    let other = format!("key-store={other_store}");
    let output = setup.crypt("decrypt", &message, &target, &[&branch, &other, &kms_key], &[]);
    assert_refused(&output, 4, &["GetBranchKeyVersion", "no such branch key", "key-store="], &target);

    // A store that does not exist: refused, and not created.
    let missing = setup.path("missing.sqlite3");
    let missing_store = format!("key-store=sqlite:{}", missing.display());
    let output = setup.crypt("decrypt", &message, &target, &[&branch, &missing_store, &kms_key], &[]);
    assert_refused(&output, 4, &["does not exist", "envelope keystore create"], &target);
    assert!(!missing.exists(), "a missing store is not created by decrypt");

    // Another logical name: KMS refuses the item's encryption context.
    let output =
        setup.crypt("decrypt", &message, &target, &[&branch, &key_store, &kms_key, "logical-name=elsewhere"], &[]);
    assert_refused(&output, 4, &["does not authenticate", "logical-name="], &target);

    // A tampered message (a byte of its body): nothing is released.
    let mut bytes = std::fs::read(&message).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = setup.path("tampered.enc");
    std::fs::write(&tampered, &bytes).unwrap();
    let output = setup.crypt("decrypt", &tampered, &target, &[&branch, &key_store, &kms_key], &[]);
    assert_refused(&output, 1, &["no plaintext was released"], &target);

    // Usage errors name the attribute.
    let output = setup.crypt("encrypt", &plain, &target, &[&branch, &key_store], &[]);
    assert_refused(&output, 2, &["kms-key=KMS_KEY"], &target);
    let output = setup.crypt("encrypt", &plain, &target, &[&branch, "key-store=postgres:x", &kms_key], &[]);
    assert_refused(&output, 2, &["sqlite:PATH or dynamodb:TABLE"], &target);
    let output = setup.crypt("encrypt", &plain, &target, &[&branch, &kms_key, "cache-ttl=0"], &[]);
    assert_refused(&output, 2, &["cache-ttl=0"], &target);

    // The original decrypts still (nothing above changed the store).
    let output = setup.crypt("decrypt", &message, &target, &[&branch, &key_store, &kms_key], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);
}

#[test]
fn without_key_store_the_default_store_is_used() {
    let setup = Setup::new("hier-default");
    let arn = setup.kms_key(None);
    setup.ok(&["keystore", "create"]);
    let id = last_line(&setup.ok(&["keystore", "create-key", "--kms-key", &arn]));
    let plain = setup.path("plain.txt");
    std::fs::write(&plain, "default store").unwrap();
    let (branch, kms_key) = (format!("branch-key-id={id}"), format!("kms-key={arn}"));
    let message = setup.path("plain.enc");
    let output = setup.crypt("encrypt", &plain, &message, &[&branch, &kms_key], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let back = setup.path("back.txt");
    let output = setup.crypt("decrypt", &message, &back, &[&branch, &kms_key], &["-q"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "default store");
    assert!(output.stderr.is_empty(), "-q: {}", String::from_utf8_lossy(&output.stderr));
}
