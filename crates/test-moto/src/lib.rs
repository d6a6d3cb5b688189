//! `moto[server]` (Python, from PyPI) on 127.0.0.1:0 for integration tests: a local DynamoDB and
//! S3 that the tests start themselves, shared by the key store, S3, database and CLI tests.
//!
//! The interpreter is `ENVELOPE_MOTO_PYTHON` (default `python3`); it must have `moto[server]`
//! installed. When it does not, [`start`] FAILS the test if `ENVELOPE_REQUIRE_MOTO` is set (CI
//! sets it) and otherwise returns `None` after printing why, so `cargo test` works on a machine
//! without Python.
//!
//! ```no_run
//! let Some(moto) = envelope_test_moto::start(envelope_test_moto::SERVER_SCRIPT) else { return };
//! assert!(moto.endpoint.starts_with("http://127.0.0.1:"));
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The plain server script: binds 127.0.0.1:0, prints `listening on URL`, and serves until its
/// stdin closes, so the server dies with the test process however that ends. A script given to
/// [`start`] instead (e.g. one that patches a response) must keep that contract.
pub const SERVER_SCRIPT: &str = r#"
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

/// The server script of [`SERVER_SCRIPT`], but answering one request at a time. For tests that
/// race writers on purpose: moto runs a DynamoDB transaction by deep-copying the tables and, when
/// a condition fails, restoring that copy, which on the threaded server also undoes any other
/// transaction that committed meanwhile (real DynamoDB never does). Serialised, the racers still
/// interleave between requests (read, then conditional write), so conflicts still happen.
pub const SERIAL_SERVER_SCRIPT: &str = r#"
import sys, threading
try:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except Exception as error:
    print("moto-missing: %s" % error, flush=True)
    sys.exit(3)
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=False)
threading.Thread(target=server.serve_forever, daemon=True).start()
host, port = server.server_address[:2]
print("listening on http://%s:%d" % (host, port), flush=True)
sys.stdin.read()
server.shutdown()
"#;

/// A running moto server; stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto with `script` (Python source), or returns `None` (after saying why) when moto is
/// not installed and not required.
pub fn start(script: &str) -> Option<Moto> {
    let python = std::env::var("ENVELOPE_MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let required = std::env::var("ENVELOPE_REQUIRE_MOTO").is_ok_and(|v| !v.is_empty() && v != "0");
    let unavailable = |why: String| -> Option<Moto> {
        let message = format!(
            "moto[server] is not available ({why}). Install it with `{python} -m pip install 'moto[server]'` \
             or point ENVELOPE_MOTO_PYTHON at an interpreter that has it"
        );
        if required {
            panic!("{message} (ENVELOPE_REQUIRE_MOTO is set, so this test fails)");
        }
        eprintln!("SKIPPED: {message}; set ENVELOPE_REQUIRE_MOTO=1 to make this a failure");
        None
    };
    let mut child = match Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return unavailable(format!("cannot run {python}: {error}")),
    };
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    let read = BufReader::new(stdout).read_line(&mut first);
    let line = first.trim();
    match (read, line.strip_prefix("listening on ")) {
        (Ok(_), Some(endpoint)) if endpoint.starts_with("http://127.0.0.1:") => {
            Some(Moto { endpoint: endpoint.to_owned(), child, _stdin: stdin })
        }
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            unavailable(if line.is_empty() { "the server printed nothing".into() } else { line.to_owned() })
        }
    }
}

impl Moto {
    /// A DynamoDB client for this server (static test credentials, us-east-1).
    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// An S3 client for this server (static test credentials, us-east-1, path style).
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Creates the bucket `name` and returns its name.
    #[cfg(feature = "s3")]
    pub async fn bucket(&self, name: &str) -> String {
        self.s3().create_bucket().bucket(name).send().await.expect("CreateBucket on moto");
        name.to_owned()
    }
}
