//! Replays the envelope-s3 fuzz corpora (`fuzz/corpus/s3_metadata/`, `fuzz/corpus/s3_range/`,
//! and any crash inputs kept under `fuzz/regressions/`) through the checks the cargo-fuzz targets
//! run, with the rules of `fuzz/replay.rs` (no panics; `valid-*` seeds parse, other named seeds
//! do not).

#[path = "../../../fuzz/replay.rs"]
mod replay;
use replay::replay;

#[test]
fn metadata_corpus() {
    replay("s3_metadata", 11, envelope_s3::__fuzz::check_metadata);
}

#[test]
fn range_corpus() {
    replay("s3_range", 9, envelope_s3::__fuzz::check_range);
}
