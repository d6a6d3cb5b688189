//! DB-ESDK table configs as JSON: arbitrary bytes through `envelope_dbe::__fuzz::check_table_config`
//! (shared with `crates/dbe/tests/fuzz_corpus.rs`, which replays `corpus/dbe_table_config/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_dbe::__fuzz::check_table_config(data);
});
