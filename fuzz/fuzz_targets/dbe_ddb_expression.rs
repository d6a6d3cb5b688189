//! DynamoDB condition expressions: arbitrary bytes through
//! `envelope_dbe::__fuzz::check_ddb_expression` (shared with
//! `crates/dbe/tests/fuzz_corpus.rs`, which replays `corpus/dbe_ddb_expression/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_dbe::__fuzz::check_ddb_expression(data);
});
