//! HTTP byte ranges of the S3 client's ranged gets (`bytes=A-B`, `bytes=A-`, `bytes=-N`) through
//! `envelope_s3::__fuzz::check_range` (shared with `crates/s3/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = envelope_s3::__fuzz::check_range(data);
});
