//! Replays one fuzz target's corpus in `cargo test`, on the stable toolchain: every file under
//! `fuzz/corpus/TARGET/` and `fuzz/regressions/TARGET/` goes through the same check the cargo-fuzz
//! target runs. The crates' corpus tests load this one file with `#[path]`, so they all apply the
//! same rules:
//! - every input returns normally (a panic is a bug, reported with the input in hex);
//! - hand-written seeds say what they expect by name: `valid-*` must parse, any other named seed
//!   must not; fuzzer finds, named by their 40-hex-digit hash, may do either;
//! - a corpus with fewer than `minimum` inputs fails, so a lost directory cannot pass silently.
#![allow(dead_code)]

use std::panic::RefUnwindSafe;
use std::path::{Path, PathBuf};

/// The corpus and regression inputs of `target`, sorted by path.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().find(|dir| dir.join("fuzz/corpus").is_dir());
    let fuzz = fuzz.expect("the repository's fuzz/corpus directory").join("fuzz");
    let mut found = Vec::new();
    for dir in [fuzz.join("corpus").join(target), fuzz.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        found.extend(entries.map(|entry| entry.expect("readable directory entry").path()));
    }
    found.sort();
    found
}

/// Runs `check` (true when the input parsed) over every input of `target` with the rules above.
pub fn replay(target: &str, minimum: usize, check: impl Fn(&[u8]) -> bool + RefUnwindSafe) {
    let inputs = inputs(target);
    assert!(inputs.len() >= minimum, "fuzz/corpus/{target} is missing seeds (found {})", inputs.len());
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        let parsed = std::panic::catch_unwind(|| check(&data))
            .unwrap_or_else(|_| panic!("{target}/{name} panicked; input {}", hex::encode(&data)));
        let fuzzer_find = name.len() == 40 && name.chars().all(|c| c.is_ascii_hexdigit());
        if name.starts_with("valid-") {
            assert!(parsed, "{target}/{name} should parse");
        } else if !fuzzer_find {
            assert!(!parsed, "{target}/{name} should not parse");
        }
    }
}
