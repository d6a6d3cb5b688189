//! A local S3 for the S3 tests: `moto[server]` started by the test (the launcher, shared with the
//! key store and database tests, is crates/test-moto).
//!
//! moto 5.2.1 (the version CI pins) names the root element of the CompleteMultipartUpload
//! response `CompleteMultipartUploadResponse` instead of S3's `CompleteMultipartUploadResult`
//! (getmoto/moto#10055, fixed upstream by #10056); boto3 ignores the root, aws-sdk-s3 does not.
//! The server script renames it in POST responses (the only requests that can carry it), so the
//! tests see what S3 sends.

pub use envelope_test_moto::Moto;

/// Starts moto with the multipart fix, or `None` when it is missing and not required.
pub fn start() -> Option<Moto> {
    envelope_test_moto::start(include_str!("moto_s3_server.py"))
}
