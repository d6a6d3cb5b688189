//! Replays the `dbe_header`, `dbe_footer`, `dbe_value`, `dbe_item_json` and `dbe_table_config` fuzz corpora (`fuzz/corpus/dbe_*/`, and
//! any crash inputs kept under `fuzz/regressions/dbe_*/`) through the checks the cargo-fuzz
//! targets run, on the stable toolchain. Every input must return normally; inputs named
//! `valid-*` must parse and no other input may.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in [fuzz.join("corpus").join(target), fuzz.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        out.extend(entries.map(|entry| entry.expect("readable directory entry").path()));
    }
    out.sort();
    out
}

fn replay(target: &str, minimum: usize, check: fn(&[u8]) -> bool) {
    let inputs = inputs(target);
    assert!(inputs.len() >= minimum, "fuzz/corpus/{target} is missing seeds (found {})", inputs.len());
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        let parsed = std::panic::catch_unwind(|| check(&data))
            .unwrap_or_else(|_| panic!("{target}/{name} panicked; input {}", hex::encode(&data)));
        // Only the hand-written seeds say whether they should parse; fuzzer finds are named by hash.
        if name.starts_with("valid-") {
            assert!(parsed, "{target}/{name} should parse");
        } else if !(name.len() == 40 && name.chars().all(|c| c.is_ascii_hexdigit())) {
            assert!(!parsed, "{target}/{name} should not parse");
        }
    }
}

#[test]
fn header_corpus() {
    replay("dbe_header", 7, envelope_dbe::__fuzz::check_header);
}

#[test]
fn footer_corpus() {
    replay("dbe_footer", 5, envelope_dbe::__fuzz::check_footer);
}

#[test]
fn value_corpus() {
    replay("dbe_value", 17, envelope_dbe::__fuzz::check_value);
}

#[test]
fn item_json_corpus() {
    replay("dbe_item_json", 8, envelope_dbe::__fuzz::check_item_json);
}

#[test]
fn table_config_corpus() {
    replay("dbe_table_config", 18, envelope_dbe::__fuzz::check_table_config);
}
