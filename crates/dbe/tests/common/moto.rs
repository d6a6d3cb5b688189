//! A local DynamoDB for the database tests: `moto[server]` started by the tests (the launcher,
//! shared with the key store and S3 tests, is crates/test-moto).

pub use envelope_test_moto::Moto;

/// Starts moto, or `None` when it is missing and not required (see envelope-test-moto).
pub fn start() -> Option<Moto> {
    envelope_test_moto::start(envelope_test_moto::SERVER_SCRIPT)
}

/// One server for every test of this binary: started on first use, stopped when the test
/// process exits (its stdin pipe closes). `None` when moto is missing and not required.
pub fn shared() -> Option<&'static Moto> {
    static SERVER: std::sync::OnceLock<Option<Moto>> = std::sync::OnceLock::new();
    SERVER.get_or_init(start).as_ref()
}
