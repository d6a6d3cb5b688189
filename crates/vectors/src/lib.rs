//! # envelope-vectors
//!
//! Runs AWS Encryption SDK cross-language test-vector manifests against envelope — the same
//! runner behind `envelope vectors decrypt` and `envelope vectors encrypt`.
//!
//! - **Decrypt** ([`run_decrypt_manifest`]): reads `awses-decrypt` manifests versions 1–5 and keys
//!   manifests versions 1–4, from a manifest file, a directory or a `.zip` (read in place).
//!   Every test is decrypted both one-shot and streaming; a positive test passes when both yield
//!   the expected plaintext, a negative test (`result.error`) when both fail. Tests that need a
//!   key this runner cannot reach (AWS KMS without [`AwsKmsKeyrings`], or a key KMS says does
//!   not exist) are skipped, not failed.
//! - **Encrypt** ([`run_encrypt_manifest`]): reads `awses-encrypt` manifests versions 1–2 and
//!   writes a directory any other implementation can check: `manifest.json` (awses-decrypt v2,
//!   or v4 when a test uses the required-encryption-context CMM), `keys.json`, `plaintexts/`,
//!   `ciphertexts/`.
//!
//! The outcome is a [`Report`] whose [`Report::summary`] is `N passed, M failed, K skipped`.
//!
//! ```no_run
//! use std::path::Path;
//! use envelope_vectors::{run_decrypt_manifest, RunOptions};
//!
//! # fn main() -> Result<(), envelope_vectors::Error> {
//! let report = run_decrypt_manifest(Path::new("v4-Net-4.0.1.zip"), &RunOptions::default())?;
//! for line in report.failure_lines() {
//!     eprintln!("{line}");
//! }
//! println!("{}", report.summary());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decrypt;
mod encrypt;
mod error;
mod keys;
mod kms;
pub mod manifest;
mod report;
mod source;

pub use decrypt::{DecryptRunner, Expectation, RunOptions, check_decrypt, run_decrypt_manifest};
pub use encrypt::{EncryptMethod, GenerateOptions, run_encrypt_manifest};
pub use error::{Error, Result};
pub use keys::{KeySet, KmsKeyrings, Operation, Resolved};
pub use kms::AwsKmsKeyrings;
pub use report::{Outcome, Report, TestResult};
pub use source::Source;
