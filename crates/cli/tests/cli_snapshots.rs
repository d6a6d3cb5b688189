//! The CLI's behaviour as snapshots (trycmd): each `tests/cmd/*.md` file is a session of
//! commands, run in a sandbox copied from its `*.in` directory, with exact stdout, stderr and
//! exit status (`[..]` and `...` stand for what varies: key ids, temporary paths, ciphertext).
//!
//! The embedded KMS emulator is forced (ENVELOPE_KMS=embedded) and keeps its keys in the
//! sandbox, so no AWS configuration of the machine running the tests is used.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .env("ENVELOPE_KMS", "embedded")
        .env("ENVELOPE_KMS_DATA_DIR", "kms-data")
        .env("RUST_LOG", "error")
        .register_bin("cat", std::path::Path::new("/bin/cat"))
        .register_bin("ls", std::path::Path::new("/bin/ls"))
        .register_bin("cmp", std::path::Path::new("/usr/bin/cmp"))
        .case("tests/cmd/*.md");
}
