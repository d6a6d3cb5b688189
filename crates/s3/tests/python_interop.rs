//! Interop with the official Python S3 Encryption Client (`amazon-s3-encryption-client-python`
//! 4.0.0, driven by `tests/python/s3ec_driver.py`) over `moto[server]` S3 and the KMS emulator,
//! all on 127.0.0.1: Python writes V3, V2, multipart, edge sizes and objects with an encryption
//! context, and envelope reads them; envelope writes V3 and V2, and Python reads them.
//!
//! The S3 side of envelope is the format API here (the raw body and user metadata are moved with
//! plain boto3 calls in the driver); the S3 client's own tests cover the S3 calls.
//!
//! The interpreter is `ENVELOPE_S3EC_PYTHON` (a venv with `tests/python/requirements.txt`). When
//! it is missing the tests are skipped with a message, unless `ENVELOPE_REQUIRE_S3EC` is set
//! (CI sets it): then they fail.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine as _;
use envelope_keyrings::kms::{DefaultClientSupplier, KmsClientSupplier, PERMISSIVE_ACCESS_KEY_ID};
use envelope_s3::error::{Error, PolicyViolation, SecurityError};
use envelope_s3::wrap::KmsKeyring;
use envelope_s3::{CommitmentPolicy, ContentMetadata, FormatVersion, MetadataLocation, ObjectCrypto};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const BUCKET: &str = "interop";

/// moto's S3 on 127.0.0.1:0, stopped when dropped (and when the test process dies: it serves
/// until its stdin closes).
const MOTO: &str = r#"
import sys
try:
    from moto.server import ThreadedMotoServer
except Exception as error:
    print("moto-missing: %s" % error, flush=True)
    sys.exit(3)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print("listening on http://%s:%d" % (host, port), flush=True)
sys.stdin.read()
server.stop()
"#;

/// The interpreter, or `None` (after saying why) when it is not configured and not required.
fn python() -> Option<String> {
    let required = std::env::var("ENVELOPE_REQUIRE_S3EC").is_ok_and(|v| !v.is_empty() && v != "0");
    let python = std::env::var("ENVELOPE_S3EC_PYTHON").ok().filter(|p| !p.is_empty());
    let probe = python.as_deref().map(|python| {
        Command::new(python)
            .args(["-c", "import s3_encryption, moto.server"])
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
            Some(python) => format!("{python} cannot import s3_encryption and moto.server"),
        }
    );
    if required {
        panic!("{message} (ENVELOPE_REQUIRE_S3EC is set, so this test fails)");
    }
    eprintln!("SKIPPED: {message}; set ENVELOPE_REQUIRE_S3EC=1 to make this a failure");
    None
}

/// A child process serving until its stdin closes; killed when dropped.
struct Server {
    child: Child,
    _stdin: ChildStdin,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto(python: &str) -> (Server, String) {
    let mut child = Command::new(python)
        .args(["-c", MOTO])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let endpoint = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("moto: {line}")).to_owned();
    (Server { child, _stdin: stdin }, endpoint)
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

    /// The object as stored: body and user metadata.
    fn raw_get(&mut self, key: &str) -> (Vec<u8>, BTreeMap<String, String>) {
        let answer = self.call(json!({"op": "raw_get", "key": key})).unwrap();
        let body = BASE64.decode(answer["body"].as_str().unwrap()).unwrap();
        (body, serde_json::from_value(answer["metadata"].clone()).unwrap())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The KMS emulator in this process, on 127.0.0.1:0.
struct Kms {
    endpoint: String,
    client: aws_sdk_kms::Client,
    data_dir: std::path::PathBuf,
    _stop: oneshot::Sender<()>,
}

impl Kms {
    async fn start() -> Kms {
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let data_dir = std::env::temp_dir().join(format!("envelope-s3-interop-{}-{unique}", std::process::id()));
        let mut settings = envelope_kms_local::Settings::new(&data_dir);
        settings.root_key = None;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            envelope_kms_local::launch_with_listener(settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = DefaultClientSupplier::with_endpoint(&endpoint).await.client_for_region("us-east-1").unwrap();
        Kms { endpoint, client, data_dir, _stop: stop }
    }

    async fn key(&self) -> String {
        let out = self.client.create_key().send().await.unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }
}

impl Drop for Kms {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn plaintext(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

fn metadata_of(stored: &BTreeMap<String, String>) -> ContentMetadata {
    match ContentMetadata::locate(stored).unwrap() {
        MetadataLocation::Object(metadata) => metadata,
        MetadataLocation::InstructionFile(_) => panic!("the Python client writes object metadata"),
    }
}

struct Setup {
    _moto: Server,
    kms: Kms,
    driver: Driver,
    key: String,
}

async fn setup() -> Option<Setup> {
    let python = python()?;
    let (moto, s3) = start_moto(&python);
    let kms = Kms::start().await;
    let key = kms.key().await;
    let mut driver = Driver::start(&python, &s3, &kms.endpoint, &key);
    driver.call(json!({"op": "create_bucket"})).unwrap();
    Some(Setup { _moto: moto, kms, driver, key })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_reads_what_python_writes() {
    let Some(mut setup) = setup().await else { return };
    let reader = ObjectCrypto::new(KmsKeyring::new(&setup.key, setup.kms.client.clone()).unwrap())
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let tenant = context(&[("tenant", "acme"), ("purpose", "interop")]);
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
        let (body, stored) = setup.driver.raw_get(&name);
        let metadata = metadata_of(&stored);
        let expected = if format == "v3" { FormatVersion::V3 } else { FormatVersion::V2 };
        assert_eq!(metadata.version(), expected, "{name}");
        let read = reader.decrypt(&metadata, body.clone(), &stored_context).await;
        assert!(read.as_ref().is_ok_and(|read| *read == written), "{name}: {:?}", read.map(|r| r.len()));
        if !stored_context.is_empty() {
            let error = reader.decrypt(&metadata, body, &BTreeMap::new()).await.unwrap_err();
            assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{name}: {error}");
        }
    }
    // The default policy refuses Python's V2 objects, as the Python client's default does.
    let (body, stored) = setup.driver.raw_get("python-v2-17-0-false");
    let strict = ObjectCrypto::new(KmsKeyring::new(&setup.key, setup.kms.client.clone()).unwrap());
    let error = strict.decrypt(&metadata_of(&stored), body, &BTreeMap::new()).await.unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::Commitment { .. })), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reads_what_envelope_writes() {
    let Some(mut setup) = setup().await else { return };
    let keyring = || KmsKeyring::new(&setup.key, setup.kms.client.clone()).unwrap();
    let tenant = context(&[("tenant", "acme")]);
    for (format, writer) in [
        ("v3", ObjectCrypto::new(keyring())),
        ("v2", ObjectCrypto::new(keyring()).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt)),
    ] {
        for (size, stored_context) in
            [(0usize, BTreeMap::new()), (1, BTreeMap::new()), (17, BTreeMap::new()), (1 << 20, tenant.clone())]
        {
            let name = format!("envelope-{format}-{size}-{}", stored_context.len());
            let written = plaintext(size);
            let object = writer.encrypt(written.clone(), &stored_context).await.unwrap();
            let request = json!({
                "op": "raw_put", "key": name, "body": BASE64.encode(&object.body),
                "metadata": object.metadata.to_object_metadata(),
            });
            setup.driver.call(request).unwrap();
            let policy =
                if format == "v3" { "REQUIRE_ENCRYPT_REQUIRE_DECRYPT" } else { "REQUIRE_ENCRYPT_ALLOW_DECRYPT" };
            let mut get = json!({"op": "get", "key": name, "policy": policy});
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
    let refused = setup.driver.call(json!({"op": "get", "key": "envelope-v2-17-0"}));
    assert!(refused.is_err_and(|error| error.contains("commit") || error.contains("COMMIT")));
}
