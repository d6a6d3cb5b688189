//! Replays the `dbe_ddb_expression` fuzz corpus (`fuzz/corpus/dbe_ddb_expression/`, and any crash
//! inputs under `fuzz/regressions/dbe_ddb_expression/`) through the check the cargo-fuzz target
//! runs. Every input must return normally; inputs named `valid-*` must parse and no other named
//! seed may (fuzzer finds, named by hash, may do either).

use std::path::Path;

const TARGET: &str = "dbe_ddb_expression";

#[test]
fn ddb_expression_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = Vec::new();
    for dir in [fuzz.join("corpus").join(TARGET), fuzz.join("regressions").join(TARGET)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        inputs.extend(entries.map(|entry| entry.expect("readable directory entry").path()));
    }
    inputs.sort();
    assert!(inputs.len() >= 18, "fuzz/corpus/{TARGET} is missing seeds (found {})", inputs.len());
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        let parsed = std::panic::catch_unwind(|| envelope_dbe::__fuzz::check_ddb_expression(&data))
            .unwrap_or_else(|_| panic!("{TARGET}/{name} panicked; input {}", hex::encode(&data)));
        if name.starts_with("valid-") {
            assert!(parsed, "{TARGET}/{name} should parse");
        } else if !(name.len() == 40 && name.chars().all(|c| c.is_ascii_hexdigit())) {
            assert!(!parsed, "{TARGET}/{name} should not parse");
        }
    }
}
