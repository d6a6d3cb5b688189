//! DB-ESDK items as DynamoDB JSON: arbitrary bytes through `envelope_dbe::__fuzz::check_item_json`
//! (shared with `crates/dbe/tests/fuzz_corpus.rs`, which replays `corpus/dbe_item_json/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_dbe::__fuzz::check_item_json(data);
});
