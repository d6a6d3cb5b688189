//! S3 content metadata: object user metadata (`key\tvalue` lines) and an instruction file (the
//! text after a `--` line) through `envelope_s3::ContentMetadata::locate` / `complete`, with the
//! round-trip checks of `envelope_s3::__fuzz::check_metadata` (shared with
//! `crates/s3/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_s3::__fuzz::check_metadata(data);
});
