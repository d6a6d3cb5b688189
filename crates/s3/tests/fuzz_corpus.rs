//! Replays the `s3_metadata` fuzz corpus (`fuzz/corpus/s3_metadata/`, and any crash inputs kept
//! under `fuzz/regressions/s3_metadata/`) through the checks the cargo-fuzz target runs, on the
//! stable toolchain. Every input must return normally; inputs named `valid-*` must also parse.

use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in [fuzz.join("corpus/s3_metadata"), fuzz.join("regressions/s3_metadata")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        out.extend(entries.map(|entry| entry.expect("readable directory entry").path()));
    }
    out.sort();
    out
}

#[test]
fn corpus_replays_without_panics_and_valid_inputs_parse() {
    let inputs = inputs();
    assert!(inputs.len() >= 11, "fuzz/corpus/s3_metadata is missing seeds (found {})", inputs.len());
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let parsed = envelope_s3::__fuzz::check_metadata(&data);
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name.starts_with("valid-") {
            assert!(parsed, "{name} should parse");
        }
    }
}

#[test]
fn range_corpus_replays_without_panics_and_valid_inputs_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/s3_range");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/s3_range") {
        let path = entry.expect("readable directory entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let parsed = envelope_s3::__fuzz::check_range(&data);
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        assert_eq!(parsed, name.starts_with("valid-"), "{name}");
        count += 1;
    }
    assert!(count >= 9, "fuzz/corpus/s3_range is missing seeds (found {count})");
}
