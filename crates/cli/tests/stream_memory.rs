//! A 1 GiB stream through the CLI in constant memory: `envelope encrypt -i - -o -` piped into
//! `envelope decrypt -i - -o -`, each reporting its peak RSS (ENVELOPE_REPORT_PEAK_RSS), both
//! under 32 MiB, and the plaintext out equal to the plaintext in.
//!
//! ENVELOPE_CLI_STREAM_BYTES overrides the size (e.g. for a quick local run).
//!
//! Linux only: the binary reads its peak RSS from /proc/self/status.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::process::{Command, Stdio};

const LIMIT_KIB: u64 = 32 * 1024;

/// A byte pattern with period 251 (prime, so it never lines up with frames or buffers).
fn pattern(offset: u64, buf: &mut [u8]) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = ((offset + i as u64) % 251) as u8;
    }
}

fn peak_kib(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|line| line.contains("peak RSS"))
        .unwrap_or_else(|| panic!("no peak RSS line in {stderr:?}"));
    line.split_whitespace().rev().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("unreadable {line:?}"))
}

#[test]
fn one_gibibyte_through_encrypt_and_decrypt_in_constant_memory() {
    let total: u64 = std::env::var("ENVELOPE_CLI_STREAM_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 30);
    let dir = std::env::temp_dir().join(format!("envelope-cli-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("aes.key");
    std::fs::write(&key, [42u8; 32]).unwrap();
    let keys = ["--wrapping-keys", "provider=memory-test", "key=k", &format!("key-file={}", key.display())];
    let bin = env!("CARGO_BIN_EXE_envelope");

    let mut encrypt = Command::new(bin)
        .args(["encrypt", "--input", "-", "--output", "-", "-q"])
        .args(keys)
        .env("ENVELOPE_REPORT_PEAK_RSS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut decrypt = Command::new(bin)
        .args(["decrypt", "--input", "-", "--output", "-", "-q"])
        .args(keys)
        .env("ENVELOPE_REPORT_PEAK_RSS", "1")
        .stdin(encrypt.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut plaintext_in = encrypt.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        while offset < total {
            let n = (total - offset).min(buf.len() as u64) as usize;
            pattern(offset, &mut buf[..n]);
            plaintext_in.write_all(&buf[..n]).unwrap();
            offset += n as u64;
        }
    });

    let mut plaintext_out = decrypt.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut expected = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    loop {
        let n = plaintext_out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        pattern(offset, &mut expected[..n]);
        assert!(buf[..n] == expected[..n], "plaintext differs near byte {offset}");
        offset += n as u64;
    }
    feeder.join().unwrap();
    let encrypted = encrypt.wait_with_output().unwrap();
    let decrypted = decrypt.wait_with_output().unwrap();
    let (encrypt_err, decrypt_err) = (
        String::from_utf8_lossy(&encrypted.stderr).into_owned(),
        String::from_utf8_lossy(&decrypted.stderr).into_owned(),
    );
    assert!(encrypted.status.success(), "{encrypt_err}");
    assert!(decrypted.status.success(), "{decrypt_err}");
    assert_eq!(offset, total, "all the plaintext came back");
    let (encrypt_peak, decrypt_peak) = (peak_kib(&encrypt_err), peak_kib(&decrypt_err));
    eprintln!("{total} bytes: encrypt peak RSS {encrypt_peak} KiB, decrypt peak RSS {decrypt_peak} KiB");
    assert!(encrypt_peak < LIMIT_KIB, "encrypt peak RSS {encrypt_peak} KiB");
    assert!(decrypt_peak < LIMIT_KIB, "decrypt peak RSS {decrypt_peak} KiB");
    std::fs::remove_dir_all(dir).unwrap();
}
