//! A local S3 for tests: `moto[server]` (Python) on 127.0.0.1:0, started by the test.
//!
//! The interpreter is `ENVELOPE_MOTO_PYTHON` (default `python3`); it must have `moto[server]`
//! installed. When it does not, a test FAILS if `ENVELOPE_REQUIRE_MOTO` is set (CI sets it) and is
//! skipped with a message otherwise, so `cargo test` works on a machine without Python.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// The server script: binds 127.0.0.1:0, prints the address, serves until stdin closes (so the
/// server dies with the test process, whatever way it ends).
///
/// moto 5.2.1 (the version CI pins) names the root element of the CompleteMultipartUpload
/// response `CompleteMultipartUploadResponse` instead of S3's `CompleteMultipartUploadResult`
/// (getmoto/moto#10055, fixed upstream by #10056); boto3 ignores the root, aws-sdk-s3 does not.
/// The script renames it in POST responses (the only requests that can carry it), so the test
/// sees what S3 sends.
const SERVER: &str = include_str!("moto_s3_server.py");

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
    /// An S3 client for this server (static test credentials, us-east-1, path style).
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A fresh bucket.
    pub async fn bucket(&self, name: &str) -> String {
        self.client().create_bucket().bucket(name).send().await.unwrap();
        name.to_owned()
    }
}
