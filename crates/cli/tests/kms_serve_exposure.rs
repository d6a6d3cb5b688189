//! `envelope kms serve` without `--credentials` accepts every request, so it warns every time,
//! and refuses an address other machines may reach unless told `--allow-anonymous`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_envelope");

fn data_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("envelope-serve-{tag}-{}", std::process::id()))
}

#[test]
fn permissive_serve_refuses_a_non_loopback_address() {
    let dir = data_dir("any");
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let output =
            Command::new(BIN).args(["kms", "serve", "--listen", listen, "--data-dir"]).arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{listen}: refused");
        assert!(
            stderr.contains("refusing to serve in permissive mode") && stderr.contains("--allow-anonymous"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "never listened: {}", String::from_utf8_lossy(&output.stdout));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn permissive_serve_on_loopback_warns() {
    let dir = data_dir("loopback");
    let mut child = Command::new(BIN)
        .args(["kms", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(line.contains("warning: permissive mode"), "{line}");
}
