//! `envelope kms serve` takes its resource limits from flags: a server started with a small
//! `--max-body-bytes` refuses a larger request and still serves small ones, and limits that would
//! make the server unusable (zero) are refused before it listens.

mod common;

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use common::{BIN, ServeProcess, TempDir, unsigned_request};

#[test]
fn max_body_bytes_flag_bounds_requests() {
    let dir = TempDir::new("serve-limits");
    let args = [OsStr::new("--max-body-bytes"), OsStr::new("64")];
    let server = ServeProcess::start(&dir.path().join("kms"), &args, Stdio::null());

    let small = unsigned_request(&server.endpoint, "ListKeys", "{}");
    assert!(small.starts_with("HTTP/1.1 200"), "a small request is served: {small}");

    let padded = format!("{{\"Limit\": 10, \"Marker\": \"{}\"}}", "x".repeat(100));
    let large = unsigned_request(&server.endpoint, "ListKeys", &padded);
    assert!(large.starts_with("HTTP/1.1 400") && large.contains("too large"), "refused: {large}");
}

#[test]
fn zero_limits_are_refused_before_listening() {
    let dir = TempDir::new("serve-zero");
    for flag in ["--max-connections", "--header-timeout", "--body-timeout", "--max-body-bytes", "--audit-queue"] {
        let output = Command::new(BIN)
            .args(["kms", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("kms"))
            .args([flag, "0"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flag} 0 refused");
        assert!(stderr.contains(&format!("{flag} must be at least 1")), "{flag}: {stderr}");
        assert!(output.stdout.is_empty(), "never listened: {}", String::from_utf8_lossy(&output.stdout));
    }
}
