//! What the CLI's integration tests share: private temporary directories, `envelope kms serve`
//! child processes on 127.0.0.1:0, and aws-sdk-kms clients pointed at them. Each test binary uses
//! a different part, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};

/// The `envelope` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_envelope");

/// `envelope` with no AWS configuration from the developer's environment (every `AWS_*` variable
/// and `ENVELOPE_KMS` removed, instance metadata off) and `home` as its home directory, so a test
/// contacts nothing but 127.0.0.1 whatever the machine has configured.
pub fn isolated_envelope(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env_remove("ENVELOPE_KMS")
        .env_remove("ENVELOPE_KMS_ROOT_KEY")
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// A fresh directory under the system temp directory, unique per process and call; removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("envelope-cli-test-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `envelope kms serve --listen 127.0.0.1:0 --data-dir DIR [extra args]`, started once it printed
/// where it listens; killed (SIGKILL) on drop, as a crash would.
pub struct ServeProcess {
    child: Child,
    pub endpoint: String,
}

impl ServeProcess {
    /// `stderr` is where the server's log goes (`Stdio::piped()` keeps the test output quiet and
    /// lets a failed start show it).
    pub fn start(data_dir: &Path, extra_args: &[&std::ffi::OsStr], stderr: Stdio) -> ServeProcess {
        let mut child = Command::new(BIN)
            .args(["kms", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .env_remove("ENVELOPE_KMS_ROOT_KEY")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the emulator starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line).expect("emulator stdout");
        match line.trim().strip_prefix("listening on ") {
            Some(endpoint) => ServeProcess { endpoint: endpoint.to_owned(), child },
            None => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("emulator output");
                panic!("the emulator did not start: {line:?} {}", String::from_utf8_lossy(&output.stderr));
            }
        }
    }

    /// An aws-sdk-kms client for this server, signing with the given credential.
    pub fn client(&self, access_key_id: &str, secret: &str) -> aws_sdk_kms::Client {
        kms_client(&self.endpoint, access_key_id, secret)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An aws-sdk-kms client for `endpoint` in us-east-1 that reads nothing from the environment.
pub fn kms_client(endpoint: &str, access_key_id: &str, secret: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key_id, secret, None, None, "static"))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// Sends one unsigned KMS request (what `curl` would send) to `endpoint` (`http://HOST:PORT` or
/// `HOST:PORT`) and returns the raw HTTP response.
pub fn unsigned_request(endpoint: &str, target: &str, body: &str) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.{target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}
