//! The embedded KMS emulator (every command's fallback KMS) serves only the owner of its data
//! directory: while `envelope encrypt` runs on it, another process that finds its port — here
//! this test, from the endpoint the CLI logs — is refused whether it signs with its own
//! credentials, guesses, or does not sign at all, and the command itself still works.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use aws_sdk_kms::error::ProvideErrorMetadata;
use common::{TempDir, isolated_envelope, kms_client, unsigned_request};

/// `envelope ARGS` with a scrubbed AWS environment and the embedded emulator forced.
fn envelope(home: &Path, args: &[&str]) -> Command {
    let mut command = isolated_envelope(home);
    command.args(args).env("ENVELOPE_KMS", "embedded");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_processes_cannot_use_the_embedded_emulator() {
    let dir = TempDir::new("embedded-auth");
    let data_dir = dir.path().join("kms");
    let data = data_dir.to_str().unwrap();
    let created =
        envelope(dir.path(), &["kms", "create-key", "--alias", "alias/app", "--kms-data-dir", data]).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let output = dir.path().join("note.encrypted");
    let mut encrypt = envelope(
        dir.path(),
        &["encrypt", "--input", "-", "--wrapping-keys", "key=alias/app", "--kms-data-dir", data, "--output"],
    )
    .arg(&output)
    .env("RUST_LOG", "envelope=info")
    .stdin(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Read stderr on a thread: the endpoint line, then everything else (for the failure message).
    let stderr = BufReader::new(encrypt.stderr.take().unwrap());
    let (found, endpoint_rx) = std::sync::mpsc::channel::<String>();
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let _ = found
                    .send(line[at + "listening on ".len()..].split_whitespace().next().unwrap_or_default().to_owned());
            }
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    });
    let Ok(endpoint) = endpoint_rx.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = encrypt.kill();
        panic!("the CLI did not log its embedded emulator's endpoint: {}", log.join().unwrap());
    };

    let stranger = kms_client(&endpoint, "AKIDSTRANGER", "secret");
    let e = stranger.list_keys().send().await.expect_err("another credential is refused");
    assert_eq!(e.as_service_error().and_then(|e| e.code()), Some("UnrecognizedClientException"), "{e:?}");
    let e = stranger.schedule_key_deletion().key_id("alias/app").send().await.expect_err("refused");
    assert_eq!(e.as_service_error().and_then(|e| e.code()), Some("UnrecognizedClientException"), "{e:?}");
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let response = tokio::task::spawn_blocking(move || unsigned_request(&addr, "ListKeys", "{}")).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "an unsigned request is refused: {response}");
    assert!(response.contains("MissingAuthenticationToken"), "{response}");

    // The owner's own command is unaffected.
    let mut stdin = encrypt.stdin.take().unwrap();
    stdin.write_all(b"only mine").unwrap();
    drop(stdin);
    let status = encrypt.wait().unwrap();
    let rest = log.join().unwrap();
    assert!(status.success(), "encrypt failed: {rest}");
    let decrypted = envelope(
        dir.path(),
        &["decrypt", "--output", "-", "--wrapping-keys", "key=alias/app", "--kms-data-dir", data, "--input"],
    )
    .arg(&output)
    .output()
    .unwrap();
    assert_eq!(decrypted.stdout, b"only mine", "{}", String::from_utf8_lossy(&decrypted.stderr));
}
