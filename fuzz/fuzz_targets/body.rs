//! Body framing on arbitrary bytes: frame length and first sequence number come from the first
//! eight bytes. The checks live in `fuzz/checks.rs`, shared with `tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_body(data);
});
