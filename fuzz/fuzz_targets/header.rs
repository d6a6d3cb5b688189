//! Header parsing (with and without an EDK limit) and encryption-context parsing on arbitrary
//! bytes. The checks live in `fuzz/checks.rs`, shared with `tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_header(data);
});
