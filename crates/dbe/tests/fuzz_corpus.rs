//! Replays the envelope-dbe fuzz corpora (`fuzz/corpus/dbe_*/`, and any crash inputs kept under
//! `fuzz/regressions/dbe_*/`) through the checks the cargo-fuzz targets run, with the rules of
//! `fuzz/replay.rs` (no panics; `valid-*` seeds parse, other named seeds do not).

#[path = "../../../fuzz/replay.rs"]
mod replay;
use replay::replay;

#[test]
fn header_corpus() {
    replay("dbe_header", 7, envelope_dbe::__fuzz::check_header);
}

#[test]
fn footer_corpus() {
    replay("dbe_footer", 5, envelope_dbe::__fuzz::check_footer);
}

#[test]
fn value_corpus() {
    replay("dbe_value", 17, envelope_dbe::__fuzz::check_value);
}

#[test]
fn item_json_corpus() {
    replay("dbe_item_json", 8, envelope_dbe::__fuzz::check_item_json);
}

#[test]
fn table_config_corpus() {
    replay("dbe_table_config", 18, envelope_dbe::__fuzz::check_table_config);
}

#[test]
fn ddb_expression_corpus() {
    replay("dbe_ddb_expression", 24, envelope_dbe::__fuzz::check_ddb_expression);
}

#[test]
fn terminal_location_corpus() {
    replay("dbe_terminal_location", 12, envelope_dbe::beacon::__fuzz::check_terminal_location);
}
