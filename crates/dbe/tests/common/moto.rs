//! A local DynamoDB for tests: `moto[server]` (Python) on 127.0.0.1:0, started by the test.
//! (The same harness as crates/keystore/tests/common/moto.rs, plus one server shared by a test
//! binary's tests.)
//!
//! The interpreter is `ENVELOPE_MOTO_PYTHON` (default `python3`); it must have `moto[server]`
//! installed. When it does not, a test FAILS if `ENVELOPE_REQUIRE_MOTO` is set (CI sets it) and is
//! skipped with a message otherwise, so `cargo test` works on a machine without Python.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// The server script: binds 127.0.0.1:0, prints the address, serves until stdin closes (so the
/// server dies with the test process, whatever way it ends).
const SERVER: &str = r#"
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

/// A running moto server; stopped when dropped.
pub struct Moto {
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

/// Starts moto, or returns `None` (after saying why) when it is not installed and not required.
pub fn start() -> Option<Moto> {
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
        .args(["-c", SERVER])
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
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

/// One server for every test of this binary: started on first use, stopped when the test
/// process exits (its stdin pipe closes). `None` when moto is missing and not required.
pub fn shared() -> Option<&'static Moto> {
    static SERVER: std::sync::OnceLock<Option<Moto>> = std::sync::OnceLock::new();
    SERVER.get_or_init(start).as_ref()
}
