//! Interop with the official Python S3 Encryption Client (`amazon-s3-encryption-client-python`
//! 4.0.0, driven by `tests/python/s3ec_driver.py`) over `moto[server]` S3 and the KMS emulator,
//! all on 127.0.0.1, envelope's side through its `S3EncryptionClient` over aws-sdk-s3:
//! - Python writes V3, V2, multipart, edge sizes and objects with an encryption context; envelope
//!   reads them all;
//! - envelope writes V3, V2, multipart and instruction-file objects, and re-wraps an instruction
//!   file under another KMS key; Python reads them all;
//! - raw AES-GCM and RSA-OAEP-SHA1 objects (which the Python client cannot read: it has KMS
//!   keyrings only) are decrypted by `tests/python/format_checker.py`, an independent reader over
//!   the `cryptography` package that follows the specification.
//!
//! The driver's interpreter is `ENVELOPE_S3EC_PYTHON` (a venv with `tests/python/requirements.txt`).
//! When it is missing the tests are skipped with a message, unless `ENVELOPE_REQUIRE_S3EC` is set
//! (CI sets it): then they fail. moto is started as in the other S3 tests (`ENVELOPE_MOTO_PYTHON`).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine as _;
use common::{Emulator, context};
use envelope_keyrings::kms::PERMISSIVE_ACCESS_KEY_ID;
use envelope_s3::client::{PutOptions, S3EncryptionClient};
use envelope_s3::error::{Error, PolicyViolation, SecurityError};
use envelope_s3::rotation::rewrap_instruction_file;
use envelope_s3::wrap::KmsKeyring;
use envelope_s3::{CommitmentPolicy, ContentMetadata, FormatVersion, MetadataLocation, ObjectCrypto};
use serde_json::{Value, json};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const BUCKET: &str = "interop";

/// The interpreter, or `None` (after saying why) when it is not configured and not required.
fn python() -> Option<String> {
    let required = std::env::var("ENVELOPE_REQUIRE_S3EC").is_ok_and(|v| !v.is_empty() && v != "0");
    let python = std::env::var("ENVELOPE_S3EC_PYTHON").ok().filter(|p| !p.is_empty());
    let probe = python.as_deref().map(|python| {
        Command::new(python)
            .args(["-c", "import s3_encryption"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if probe == Some(true) {
        return python;
    }
    let message = format!(
        "the official Python S3 Encryption Client is not available ({}); create a venv with \
         `pip install -r crates/s3/tests/python/requirements.txt` and set ENVELOPE_S3EC_PYTHON to its python",
        match &python {
            None => "ENVELOPE_S3EC_PYTHON is not set".to_owned(),
            Some(python) => format!("{python} cannot import s3_encryption"),
        }
    );
    if required {
        panic!("{message} (ENVELOPE_REQUIRE_S3EC is set, so this test fails)");
    }
    eprintln!("SKIPPED: {message}; set ENVELOPE_REQUIRE_S3EC=1 to make this a failure");
    None
}

/// The Python driver: one JSON request per line, one JSON answer per line.
struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    s3: String,
    kms: String,
    kms_key: String,
}

impl Driver {
    fn start(python: &str, s3: &str, kms: &str, kms_key: &str) -> Driver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/s3ec_driver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the driver");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut driver =
            Driver { child, stdin, stdout, s3: s3.to_owned(), kms: kms.to_owned(), kms_key: kms_key.to_owned() };
        assert_eq!(driver.read()["ready"], true);
        driver
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read from the driver");
        serde_json::from_str(&line).unwrap_or_else(|error| panic!("driver said {line:?}: {error}"))
    }

    /// Sends `request` (plus the endpoints and key); the answer, `Err(message)` when Python raised.
    fn call(&mut self, mut request: Value) -> Result<Value, String> {
        let fields = request.as_object_mut().unwrap();
        fields.insert("s3".into(), json!(self.s3));
        fields.insert("kms".into(), json!(self.kms));
        fields.insert("kms_key".into(), json!(self.kms_key));
        fields.insert("kms_access_key".into(), json!(PERMISSIVE_ACCESS_KEY_ID));
        fields.insert("bucket".into(), json!(BUCKET));
        // Blocking pipe I/O: let the runtime move the emulator's tasks off this thread.
        tokio::task::block_in_place(|| {
            writeln!(self.stdin, "{request}").unwrap();
            self.stdin.flush().unwrap();
            let answer = self.read();
            match answer["ok"].as_bool() {
                Some(true) => Ok(answer),
                _ => Err(answer["error"].as_str().unwrap_or("no error text").to_owned()),
            }
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn plaintext(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

struct Setup {
    moto: common::moto::Moto,
    kms: Emulator,
    driver: Driver,
    key: String,
}

async fn setup() -> Option<Setup> {
    let python = python()?;
    let moto = common::moto::start()?;
    let kms = Emulator::start().await;
    let key = kms.key().await;
    let driver = Driver::start(&python, &moto.endpoint, &kms.endpoint, &key);
    moto.bucket(BUCKET).await;
    Some(Setup { moto, kms, driver, key })
}

impl Setup {
    /// envelope's S3 client over moto with a KMS key, multipart from 5 MiB in 5 MiB parts.
    fn client(&self, key: &str, policy: CommitmentPolicy) -> S3EncryptionClient {
        let crypto =
            ObjectCrypto::new(KmsKeyring::new(key, self.kms.client.clone()).unwrap()).commitment_policy(policy);
        S3EncryptionClient::new(self.moto.s3(), crypto).with_multipart_threshold(5 << 20).part_size(5 << 20).unwrap()
    }

    /// The stored format version, from the object's own metadata.
    async fn version(&self, key: &str) -> FormatVersion {
        let head = self.moto.s3().head_object().bucket(BUCKET).key(key).send().await.unwrap();
        match ContentMetadata::locate(head.metadata().unwrap()).unwrap() {
            MetadataLocation::Object(metadata) => metadata.version(),
            MetadataLocation::InstructionFile(_) => panic!("{key}: the Python client writes object metadata"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_reads_what_python_writes() {
    let Some(mut setup) = setup().await else { return };
    let reader = setup.client(&setup.key, CommitmentPolicy::RequireEncryptAllowDecrypt);
    // JSON-escaped characters too: the stored context is each writer's JSON, parsed by the other.
    let tenant = context(&[("tenant", "acme"), ("purpose", "interop"), ("note", r#"say "hi" \ / ok"#)]);
    let mut cases = Vec::new();
    for format in ["v3", "v2"] {
        for size in [0usize, 1, 15, 16, 17, 1 << 20] {
            cases.push((format, size, BTreeMap::new(), None));
        }
        cases.push((format, 100, tenant.clone(), None));
        // Multipart: parts of 5 MiB (S3's minimum), the tag on the last part.
        cases.push((format, (5 << 20) * 2 + 12_345, tenant.clone(), Some(5usize << 20)));
    }
    for (format, size, stored_context, part_size) in cases {
        let name = format!("python-{format}-{size}-{}-{}", stored_context.len(), part_size.is_some());
        let written = plaintext(size);
        let mut request = json!({"op": "put", "key": name, "format": format, "body": BASE64.encode(&written)});
        if !stored_context.is_empty() {
            request["context"] = json!(stored_context);
        }
        if let Some(part_size) = part_size {
            request["part_size"] = json!(part_size);
        }
        setup.driver.call(request).unwrap_or_else(|error| panic!("{name}: Python put failed: {error}"));
        let expected = if format == "v3" { FormatVersion::V3 } else { FormatVersion::V2 };
        assert_eq!(setup.version(&name).await, expected, "{name}");
        let read = reader.get_bytes(BUCKET, &name, &stored_context).await;
        assert!(read.as_ref().is_ok_and(|read| *read == written), "{name}: {:?}", read.map(|r| r.len()));
        if !stored_context.is_empty() {
            let error = reader.get_bytes(BUCKET, &name, &BTreeMap::new()).await.unwrap_err();
            assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{name}: {error}");
        }
    }
    // The default policy refuses Python's V2 objects, as the Python client's default does.
    let strict = setup.client(&setup.key, CommitmentPolicy::RequireEncryptRequireDecrypt);
    let error = strict.get_bytes(BUCKET, "python-v2-17-0-false", &BTreeMap::new()).await.unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::Commitment { .. })), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reads_what_envelope_writes() {
    let Some(mut setup) = setup().await else { return };
    let tenant = context(&[("tenant", "acme"), ("note", r#"say "hi" \ / ok"#)]);
    for (format, policy) in
        [("v3", CommitmentPolicy::RequireEncryptRequireDecrypt), ("v2", CommitmentPolicy::ForbidEncryptAllowDecrypt)]
    {
        let writer = setup.client(&setup.key, policy);
        for (size, stored_context, instruction_file) in [
            (0usize, BTreeMap::new(), false),
            (1, BTreeMap::new(), false),
            (17, BTreeMap::new(), false),
            (1 << 20, tenant.clone(), false),
            (100, tenant.clone(), true),
            // Above the 5 MiB threshold: a multipart upload, one GCM stream across the parts.
            ((5 << 20) * 2 + 12_345, tenant.clone(), false),
        ] {
            let name = format!("envelope-{format}-{size}-{}-{instruction_file}", stored_context.len());
            let written = plaintext(size);
            let options =
                PutOptions::new().encryption_context(stored_context.clone()).instruction_file(instruction_file);
            writer.put_bytes(BUCKET, &name, written.clone(), &options).await.unwrap();
            let python_policy =
                if format == "v3" { "REQUIRE_ENCRYPT_REQUIRE_DECRYPT" } else { "REQUIRE_ENCRYPT_ALLOW_DECRYPT" };
            let mut get = json!({"op": "get", "key": name, "policy": python_policy});
            if !stored_context.is_empty() {
                get["context"] = json!(stored_context);
            }
            let answer =
                setup.driver.call(get.clone()).unwrap_or_else(|error| panic!("{name}: Python get failed: {error}"));
            assert_eq!(BASE64.decode(answer["body"].as_str().unwrap()).unwrap(), written, "{name}");
            if !stored_context.is_empty() {
                get["context"] = json!({"tenant": "other"});
                assert!(setup.driver.call(get).is_err(), "{name}: Python accepted another context");
            }
        }
    }
    // Python's default policy refuses envelope's V2 objects.
    let refused = setup.driver.call(json!({"op": "get", "key": "envelope-v2-17-0-false"}));
    assert!(refused.is_err_and(|error| error.contains("commit") || error.contains("COMMIT")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reads_an_instruction_file_envelope_rotated_to_another_key() {
    let Some(mut setup) = setup().await else { return };
    let new_key = setup.kms.key().await;
    let tenant = context(&[("tenant", "acme")]);
    let writer = setup.client(&setup.key, CommitmentPolicy::RequireEncryptRequireDecrypt);
    let options = PutOptions::new().encryption_context(tenant.clone()).instruction_file(true);
    writer.put_bytes(BUCKET, "rotated", b"rotated under a new key".to_vec(), &options).await.unwrap();

    // The rotation: the object's metadata and its instruction file in, a new file out.
    let s3 = setup.moto.s3();
    let head = s3.head_object().bucket(BUCKET).key("rotated").send().await.unwrap();
    let object_metadata: BTreeMap<String, String> =
        head.metadata().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let file = s3.get_object().bucket(BUCKET).key("rotated.instruction").send().await.unwrap();
    let file = String::from_utf8(file.body.collect().await.unwrap().to_vec()).unwrap();
    let old = KmsKeyring::new(&setup.key, setup.kms.client.clone()).unwrap();
    let new = KmsKeyring::new(&new_key, setup.kms.client.clone()).unwrap();
    let new_file = rewrap_instruction_file(&object_metadata, &file, &old, &new, &tenant).await.unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key("rotated.instruction")
        .metadata("x-amz-crypto-instr-file", "")
        .body(new_file.into_bytes().into())
        .send()
        .await
        .unwrap();

    let mut rotated = Driver::start(&python().unwrap(), &setup.moto.endpoint, &setup.kms.endpoint, &new_key);
    let answer = rotated.call(json!({"op": "get", "key": "rotated", "context": tenant})).unwrap();
    assert_eq!(BASE64.decode(answer["body"].as_str().unwrap()).unwrap(), b"rotated under a new key");
    // The old key no longer opens it, in either client.
    assert!(setup.driver.call(json!({"op": "get", "key": "rotated", "context": tenant})).is_err());
    assert!(writer.get_bytes(BUCKET, "rotated", &tenant).await.is_err());
}

/// `tests/python/format_checker.py`: an independent reader of raw-key objects (the `cryptography`
/// package, following the specification), since the official Python client has KMS only.
struct Checker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Checker {
    fn start(python: &str) -> Checker {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/format_checker.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the checker");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Checker { child, stdin, stdout }
    }

    /// The plaintext the checker reads from `metadata` and `body`, or why it refused.
    fn decrypt(
        &mut self,
        metadata: &BTreeMap<String, String>,
        body: &[u8],
        key: (&str, String),
    ) -> Result<Vec<u8>, String> {
        let request = json!({"metadata": metadata, "body": BASE64.encode(body), key.0: key.1});
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let answer: Value =
            serde_json::from_str(&line).unwrap_or_else(|error| panic!("checker said {line:?}: {error}"));
        match answer["ok"].as_bool() {
            Some(true) => Ok(BASE64.decode(answer["plaintext"].as_str().unwrap()).unwrap()),
            _ => Err(answer["error"].as_str().unwrap_or_default().to_owned()),
        }
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The checker's key field and value (`aes_key` hex or `rsa_private_key` PEM).
type CheckerKey = (&'static str, String);

fn pem(private_key: &envelope_keyrings::RsaPrivateKey) -> String {
    let der = BASE64.encode(private_key.to_pkcs8_der().unwrap().as_slice());
    let lines: Vec<&str> = der.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

#[tokio::test]
async fn an_independent_reader_decrypts_raw_key_objects() {
    use envelope_s3::wrap::{AesGcmKeyring, RsaOaepKeyring, S3Keyring};
    use std::sync::Arc;
    let Some(python) = python() else { return };
    let mut checker = Checker::start(&python);
    let private_key = envelope_keyrings::RsaPrivateKey::generate(2048).unwrap();
    let description = context(&[("key", "backup-2026")]);
    let keyrings: Vec<(Arc<dyn S3Keyring>, CheckerKey)> = vec![
        (
            Arc::new(AesGcmKeyring::new(vec![0x42; 32], description.clone()).unwrap()),
            ("aes_key", hex::encode([0x42; 32])),
        ),
        (
            Arc::new(AesGcmKeyring::new(vec![0x24; 16], description.clone()).unwrap()),
            ("aes_key", hex::encode([0x24; 16])),
        ),
        (
            Arc::new(RsaOaepKeyring::new(Some(private_key.public_key()), None, description.clone()).unwrap()),
            ("rsa_private_key", pem(&private_key)),
        ),
    ];
    for (keyring, key) in keyrings {
        for policy in [CommitmentPolicy::RequireEncryptRequireDecrypt, CommitmentPolicy::ForbidEncryptAllowDecrypt] {
            let crypto = ObjectCrypto::with_keyring(keyring.clone()).commitment_policy(policy);
            for size in [0usize, 17, 1000] {
                let written = plaintext(size);
                let object = crypto.encrypt(written.clone(), &BTreeMap::new()).await.unwrap();
                let label = format!("{} {policy:?} {size}", object.metadata.wrap().unwrap());
                // In the object's metadata, and split with an instruction file (merged back here as
                // a reader merges them).
                let whole = object.metadata.to_object_metadata();
                let (mut merged, file) = object.metadata.to_instruction_file();
                merged.extend(serde_json::from_str::<BTreeMap<String, String>>(&file).unwrap());
                for stored in [&whole, &merged] {
                    assert_eq!(checker.decrypt(stored, &object.body, key.clone()).unwrap(), written, "{label}");
                }
                // The checker checks: a changed body or V3 commitment is refused.
                let mut body = object.body.clone();
                body[0] ^= 1;
                assert!(checker.decrypt(&whole, &body, key.clone()).is_err(), "{label}: modified body");
                if let Some(commitment) = whole.get("x-amz-d") {
                    let mut forged = whole.clone();
                    let mut bytes = BASE64.decode(commitment).unwrap();
                    bytes[0] ^= 1;
                    forged.insert("x-amz-d".into(), BASE64.encode(bytes));
                    let error = checker.decrypt(&forged, &object.body, key.clone()).unwrap_err();
                    assert!(error.contains("commitment"), "{label}: {error}");
                }
            }
        }
    }
}
