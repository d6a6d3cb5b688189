//! DB-ESDK item format: arbitrary bytes through `envelope_dbe::__fuzz::check_header` (shared with
//! `crates/dbe/tests/fuzz_corpus.rs`, which replays `corpus/dbe_header/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_dbe::__fuzz::check_header(data);
});
