//! `envelope quickstart` end to end: the embedded emulator, a KMS key created once and reused,
//! a sample file encrypted, decrypted and verified; then the hierarchical keyring (a SQLite branch
//! key store, 100 records under one KMS call, a rotation), whose printed CLI commands work.

use std::process::Command;

fn quickstart(data_dir: &std::path::Path, work_dir: &std::path::Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_envelope"))
        .arg("quickstart")
        .arg("--work-dir")
        .arg(work_dir)
        .env("ENVELOPE_KMS_DATA_DIR", data_dir)
        .env_remove("AWS_ENDPOINT_URL_KMS")
        .output()
        .expect("envelope runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn quickstart_creates_then_reuses_its_key_and_round_trips() {
    let root = std::env::temp_dir().join(format!("envelope-quickstart-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, work) = (root.join("kms"), root.join("work"));

    let (ok, stdout, stderr) = quickstart(&data, &work);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("embedded KMS emulator"), "says which KMS it uses: {stderr}");
    assert!(stdout.contains("(created)"), "{stdout}");
    assert!(stdout.contains("verified the round trip"), "{stdout}");
    assert!(stdout.contains("aws-kms arn:aws:kms:us-east-1:111122223333:key/"), "{stdout}");
    let original = std::fs::read(work.join("sample.txt")).unwrap();
    assert_eq!(std::fs::read(work.join("sample.txt.decrypted")).unwrap(), original);
    let encrypted = std::fs::read(work.join("sample.txt.encrypted")).unwrap();
    assert_eq!(&encrypted[..3], &[0x02, 0x05, 0x78], "a v2 message with the default suite");

    // The hierarchy steps: one KMS call for 100 records, and rotation keeps old records readable.
    assert!(stdout.contains("encrypted 100 records with the hierarchical keyring: 1 KMS call "), "{stdout}");
    assert!(stdout.contains("earlier records still decrypt"), "{stdout}");
    assert!(work.join("keystore.sqlite3").is_file(), "the store is in the work directory");
    // The printed encrypt and decrypt commands run as printed (with real file names).
    for (verb, from, to) in [
        ("envelope encrypt", "sample.txt", "sample.txt.hier"),
        ("envelope decrypt", "sample.txt.hier", "sample.txt.back"),
    ] {
        let line = stdout.lines().find(|line| line.trim_start().starts_with(verb)).expect("printed command");
        let group: Vec<&str> = line.split_whitespace().skip_while(|word| *word != "-w").skip(1).collect();
        let output = Command::new(env!("CARGO_BIN_EXE_envelope"))
            .args(&verb.split_whitespace().collect::<Vec<_>>()[1..])
            .arg("-i")
            .arg(work.join(from))
            .arg("-o")
            .arg(work.join(to))
            .arg("-w")
            .args(&group)
            .env("ENVELOPE_KMS_DATA_DIR", &data)
            .env("ENVELOPE_KMS", "embedded")
            .output()
            .expect("envelope runs");
        assert!(output.status.success(), "{line}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(std::fs::read(work.join("sample.txt.back")).unwrap(), original);

    let (ok, stdout, stderr) = quickstart(&data, &work);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("(reused)"), "keys persist between runs: {stdout}");
    let _ = std::fs::remove_dir_all(&root);
}
