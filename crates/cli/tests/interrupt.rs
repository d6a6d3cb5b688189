//! An interrupted decrypt leaves nothing behind: Ctrl-C removes the temporary output (exit
//! status 130), and on Linux, where the temporary output has no name (`O_TMPFILE`), not even
//! SIGKILL leaves a file.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Bytes written so far under `dir`: its files, and on Linux the files `pid` holds open there
/// (an unnamed temporary file is only visible as `/proc/PID/fd/N -> DIR/#INODE (deleted)`).
fn written_under(dir: &Path, pid: u32) -> u64 {
    let named: u64 = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    let mut unnamed = 0;
    if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for fd in fds.flatten() {
            let inside = std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dir));
            if inside {
                unnamed += std::fs::metadata(fd.path()).map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    named + unnamed
}

/// A decrypt of half a message into `dir/out/plain`, stopped once it has written plaintext.
fn half_decrypt(dir: &Path) -> (Child, std::process::ChildStdin) {
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
    while written_under(&dir.join("out"), decrypt.id()) == 0 {
        assert!(Instant::now() < deadline, "decrypt wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    (decrypt, stdin)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("envelope-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

fn left_in(dir: &Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect()
}

#[cfg(unix)]
#[test]
fn an_interrupted_decrypt_leaves_no_file() {
    let dir = scratch("interrupt");
    let (decrypt, stdin) = half_decrypt(&dir);
    let killed = Command::new("kill").args(["-INT", &decrypt.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = decrypt.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; removed 1 partial output"), "{stderr}");
    let left = left_in(&dir.join("out"));
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_decrypt_leaves_no_file_where_the_output_is_unnamed() {
    let dir = scratch("killed");
    let probe =
        envelope_partial_file::PartialFile::create(&dir.join("out"), "probe", envelope_partial_file::Mode::Private)
            .unwrap();
    if !probe.is_unnamed() {
        eprintln!("skipped: this filesystem has no O_TMPFILE, so a killed process leaves a hidden file");
        return;
    }
    drop(probe);
    let (mut decrypt, stdin) = half_decrypt(&dir);
    decrypt.kill().unwrap(); // SIGKILL: no handler runs
    decrypt.wait().unwrap();
    drop(stdin);
    let left = left_in(&dir.join("out"));
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
