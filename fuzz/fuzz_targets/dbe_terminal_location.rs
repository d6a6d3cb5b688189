//! Beacon configuration text: arbitrary bytes through
//! `envelope_dbe::beacon::__fuzz::check_terminal_location` (shared with
//! `crates/dbe/tests/fuzz_corpus.rs`, which replays `corpus/dbe_terminal_location/`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_dbe::beacon::__fuzz::check_terminal_location(data);
});
