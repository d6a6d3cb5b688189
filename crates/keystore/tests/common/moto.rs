//! A local DynamoDB for the key store tests: `moto[server]` started by the test (the launcher,
//! shared with the S3 and database tests, is crates/test-moto).

pub use envelope_test_moto::Moto;

/// Starts moto, or `None` when it is missing and not required (see envelope-test-moto).
pub fn start() -> Option<Moto> {
    envelope_test_moto::start(envelope_test_moto::SERVER_SCRIPT)
}
