//! Ctrl-C in the middle of a decrypt leaves nothing behind: neither the output nor its temporary
//! file, and the exit status is 130.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(unix)]
#[test]
fn an_interrupted_decrypt_leaves_no_file() {
    let dir = std::env::temp_dir().join(format!("envelope-cli-interrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let key = dir.join("aes.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    std::fs::write(dir.join("plain"), vec![b'p'; 4 << 20]).unwrap();
    let bin = env!("CARGO_BIN_EXE_envelope");
    let keys =
        ["--wrapping-keys".to_owned(), "provider=t".into(), "key=k".into(), format!("key-file={}", key.display())];
    let status = Command::new(bin)
        .args(["encrypt", "-q", "--input"])
        .arg(dir.join("plain"))
        .arg("--output")
        .arg(dir.join("message"))
        .args(&keys)
        .status()
        .unwrap();
    assert!(status.success());
    let message = std::fs::read(dir.join("message")).unwrap();

    let mut decrypt = Command::new(bin)
        .args(["decrypt", "-q", "--input", "-", "--output"])
        .arg(dir.join("out").join("plain"))
        .args(&keys)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = decrypt.stdin.take().unwrap();
    stdin.write_all(&message[..message.len() / 2]).unwrap();
    stdin.flush().unwrap();
    // Wait until the temporary output exists and has plaintext in it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let written: u64 =
            std::fs::read_dir(dir.join("out")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        if written > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "decrypt wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill").args(["-INT", &decrypt.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = decrypt.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; removed 1 partial output"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
