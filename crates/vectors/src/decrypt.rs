//! The decrypt runner: every test of an `awses-decrypt` manifest, decrypted one-shot and
//! streaming, checked against its expectation.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::{Client, CommitmentPolicy, DecryptOptions};

use crate::error::{Error, Result};
use crate::keys::{KeySet, KmsKeyrings, Operation, Resolved};
use crate::manifest::decrypt::{DecryptManifest, DecryptTest, DecryptionMethod, ExpectedResult};
use crate::manifest::keys::KeysManifest;
use crate::report::{Outcome, Report};
use crate::source::Source;

/// How to run a manifest.
///
/// ```
/// use envelope::CommitmentPolicy;
/// use envelope_vectors::RunOptions;
///
/// // Only the tests whose name contains "rsa", read under the strictest policy; no KMS (skipped).
/// let options = RunOptions {
///     filter: Some("rsa".into()),
///     commitment_policy: CommitmentPolicy::RequireEncryptRequireDecrypt,
///     ..RunOptions::default()
/// };
/// assert!(options.kms.is_none() && options.net_v4_0_0_retry);
/// ```
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Builds AWS KMS keyrings; `None` skips every test that needs KMS.
    pub kms: Option<Arc<dyn KmsKeyrings>>,
    /// The policy to decrypt with. The default, `REQUIRE_ENCRYPT_ALLOW_DECRYPT`, reads every suite.
    pub commitment_policy: CommitmentPolicy,
    /// Run only the tests whose name contains this.
    pub filter: Option<String>,
    /// Retry header authentication with the .NET ESDK 4.0.0 derivation (on by default, as in
    /// AWS's own readers).
    pub net_v4_0_0_retry: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            kms: None,
            commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
            filter: None,
            net_v4_0_0_retry: true,
        }
    }
}

/// What a decrypt test expects (habit: one expectation per vector).
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
/// use envelope_vectors::{check_decrypt, Expectation, Outcome};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keyring = || RawAesKeyring::new("vectors", "aes-256", vec![7; 32]);
/// let message = BlockingClient::new(Client::with_keyring(keyring()?)).encrypt(b"plaintext", &EncryptOptions::new())?;
///
/// let expected = Expectation::Success { plaintext: b"plaintext".to_vec() };
/// let outcome = check_decrypt(Client::with_keyring(keyring()?), &message, &DecryptOptions::new(), &expected);
/// assert_eq!(outcome, Outcome::Passed);
/// // A negative vector passes when both decryptions fail.
/// let tampered = [&message[..message.len() - 1], &[message[message.len() - 1] ^ 1]].concat();
/// let refused = Expectation::Failure { description: "bad tag".into() };
/// assert_eq!(check_decrypt(Client::with_keyring(keyring()?), &tampered, &DecryptOptions::new(), &refused), Outcome::Passed);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expectation {
    /// Decryption succeeds with exactly this plaintext.
    Success {
        /// The expected plaintext.
        plaintext: Vec<u8>,
    },
    /// Decryption fails (one-shot and streaming both).
    Failure {
        /// The manifest's description of why.
        description: String,
    },
}

/// A decrypt manifest opened and ready to run, test by test.
///
/// ```no_run
/// use std::path::Path;
/// use envelope_vectors::{DecryptRunner, Outcome, RunOptions};
///
/// # fn main() -> Result<(), envelope_vectors::Error> {
/// let runner = DecryptRunner::open(Path::new("v4-Net-4.0.1.zip"), &RunOptions::default())?;
/// let tests = &runner.manifest().tests;
/// println!("{} tests; the first expects {:?}", tests.len(), runner.expectation(&tests[0])?);
/// // Test by test (e.g. to time each), or all at once with run().
/// for test in tests {
///     if let Outcome::Failed { reason } = runner.run_test(test) {
///         eprintln!("{}: {reason}", test.name);
///     }
/// }
/// println!("{}", runner.run().summary());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DecryptRunner {
    source: Source,
    manifest: DecryptManifest,
    keys: KeySet,
    options: RunOptions,
}

/// Runs every test of the decrypt manifest at `path` (a manifest file, a directory holding
/// `manifest.json`, or a `.zip` holding one).
///
/// ```no_run
/// use std::path::Path;
/// use envelope_vectors::{run_decrypt_manifest, RunOptions};
///
/// # fn main() -> Result<(), envelope_vectors::Error> {
/// let report = run_decrypt_manifest(Path::new("test-vectors/official/v4-Net-4.0.1.zip"), &RunOptions::default())?;
/// assert!(report.is_success(), "{report}");
/// # Ok(())
/// # }
/// ```
pub fn run_decrypt_manifest(path: &Path, options: &RunOptions) -> Result<Report> {
    Ok(DecryptRunner::open(path, options)?.run())
}

impl DecryptRunner {
    /// Opens the manifest and its keys manifest.
    pub fn open(path: &Path, options: &RunOptions) -> Result<DecryptRunner> {
        let source = Source::open(path)?;
        let name = source.manifest_name();
        let manifest = DecryptManifest::parse(&name, &source.manifest_bytes()?)?;
        let keys_bytes = source.read(&manifest.keys)?;
        let keys = KeysManifest::parse(&manifest.keys, &keys_bytes)?;
        Ok(DecryptRunner { source, manifest, keys: KeySet::new(keys, options.kms.clone()), options: options.clone() })
    }

    /// The parsed manifest.
    pub fn manifest(&self) -> &DecryptManifest {
        &self.manifest
    }

    /// Runs every (filtered) test.
    pub fn run(&self) -> Report {
        let mut report = Report::new();
        for test in &self.manifest.tests {
            if self.options.filter.as_deref().is_some_and(|f| !test.name.contains(f)) {
                continue;
            }
            report.push(test.name.clone(), self.run_test(test));
        }
        report
    }

    /// The expectation of one test (reads the expected plaintext).
    pub fn expectation(&self, test: &DecryptTest) -> Result<Expectation> {
        Ok(match &test.expected {
            ExpectedResult::Output { plaintext } => Expectation::Success { plaintext: self.source.read(plaintext)? },
            ExpectedResult::Error { description } => Expectation::Failure { description: description.clone() },
        })
    }

    /// Runs one test.
    pub fn run_test(&self, test: &DecryptTest) -> Outcome {
        let description = match &test.keys {
            Ok(description) => description,
            Err(reason) => return Outcome::Skipped { reason: format!("cannot read its keys: {reason}") },
        };
        let (cmm, unreachable) = match self.keys.materials_manager(description, Operation::Decrypt) {
            Resolved::Ready { value, unreachable } => (value, unreachable),
            Resolved::Unreachable(reason) => return Outcome::Skipped { reason },
            Resolved::Invalid(reason) => return Outcome::Failed { reason },
        };
        let ciphertext = match self.source.read(&test.ciphertext) {
            Ok(bytes) => bytes,
            Err(error) => return Outcome::Failed { reason: error.to_string() },
        };
        let expectation = match self.expectation(test) {
            Ok(expectation) => expectation,
            Err(error) => return Outcome::Failed { reason: error.to_string() },
        };
        let mut options = DecryptOptions::new();
        if let Some(context) = &test.reproduced_encryption_context {
            options = options.encryption_context(context.clone());
        }
        if test.method == DecryptionMethod::StreamingUnsignedOnly {
            options = options.unsigned_only();
        }
        let client = Client::from_arc(cmm)
            .commitment_policy(self.options.commitment_policy)
            .net_v4_0_0_retry(self.options.net_v4_0_0_retry);
        let outcome = check_decrypt(client, &ciphertext, &options, &expectation);
        match outcome {
            // Keys we could not build may be the ones this message needs: inconclusive.
            Outcome::Failed { reason } if !unreachable.is_empty() => {
                Outcome::Skipped { reason: format!("{} (without them: {reason})", unreachable.join("; ")) }
            }
            Outcome::Passed if !unreachable.is_empty() && matches!(expectation, Expectation::Failure { .. }) => {
                Outcome::Skipped {
                    reason: format!("{} (a negative test cannot conclude without them)", unreachable.join("; ")),
                }
            }
            other => other,
        }
    }
}

/// Decrypts `ciphertext` one-shot and streaming and compares both with `expectation`.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
/// use envelope_vectors::{check_decrypt, Expectation, Outcome};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let message = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("ns", "k", vec![1; 16])?))
///     .encrypt(b"hi", &EncryptOptions::new())?;
/// // The wrong key: both the one-shot and the streaming decryption must fail for a pass.
/// let wrong = Client::with_keyring(RawAesKeyring::new("ns", "k", vec![2; 16])?);
/// let outcome = check_decrypt(wrong, &message, &DecryptOptions::new(), &Expectation::Success { plaintext: b"hi".to_vec() });
/// assert!(matches!(outcome, Outcome::Failed { .. }));
/// # Ok(())
/// # }
/// ```
pub fn check_decrypt(
    client: Client,
    ciphertext: &[u8],
    options: &DecryptOptions,
    expectation: &Expectation,
) -> Outcome {
    let client = BlockingClient::new(client);
    let one_shot = guarded(|| client.decrypt(ciphertext, options).map(|d| d.plaintext).map_err(|e| e.to_string()));
    let streaming = guarded(|| {
        let mut reader = client.decrypting_reader(ciphertext, options).map_err(|e| e.to_string())?;
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).map_err(|e| e.to_string())?;
        Ok(plaintext)
    });
    judge(expectation, [("one-shot", one_shot), ("streaming", streaming)])
}

/// Runs `f`, turning a panic into an error (a panic is a failed test, not a dead run).
fn guarded(f: impl FnOnce() -> std::result::Result<Vec<u8>, String>) -> std::result::Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        Err(format!("panicked: {message}"))
    })
}

fn judge(expectation: &Expectation, results: [(&str, std::result::Result<Vec<u8>, String>); 2]) -> Outcome {
    let mut problems = Vec::new();
    for (how, result) in results {
        match (expectation, result) {
            (Expectation::Success { plaintext }, Ok(got)) if &got == plaintext => {}
            (Expectation::Success { plaintext }, Ok(got)) => problems.push(format!(
                "{how}: wrong plaintext ({} bytes, expected {}{})",
                got.len(),
                plaintext.len(),
                first_difference(&got, plaintext)
                    .map(|i| format!(", first difference at byte {i}"))
                    .unwrap_or_default()
            )),
            (Expectation::Success { .. }, Err(error)) => problems.push(format!("{how}: {error}")),
            (Expectation::Failure { .. }, Err(_)) => {}
            (Expectation::Failure { description }, Ok(_)) => {
                problems.push(format!("{how} decryption succeeded; expected failure ({description})"))
            }
        }
    }
    if problems.is_empty() { Outcome::Passed } else { Outcome::Failed { reason: problems.join("; ") } }
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y).or(if a.len() == b.len() { None } else { Some(a.len().min(b.len())) })
}

impl From<Error> for Outcome {
    fn from(error: Error) -> Outcome {
        Outcome::Failed { reason: error.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_needs_both_halves() {
        let ok = Expectation::Success { plaintext: b"abc".to_vec() };
        assert_eq!(
            judge(&ok, [("one-shot", Ok(b"abc".to_vec())), ("streaming", Ok(b"abc".to_vec()))]),
            Outcome::Passed
        );
        assert!(matches!(
            judge(&ok, [("one-shot", Ok(b"abc".to_vec())), ("streaming", Ok(b"abd".to_vec()))]),
            Outcome::Failed { reason } if reason.contains("streaming: wrong plaintext") && reason.contains("byte 2")
        ));
        let bad = Expectation::Failure { description: "tampered".into() };
        assert_eq!(judge(&bad, [("one-shot", Err("x".into())), ("streaming", Err("y".into()))]), Outcome::Passed);
        assert!(matches!(
            judge(&bad, [("one-shot", Err("x".into())), ("streaming", Ok(Vec::new()))]),
            Outcome::Failed { .. }
        ));
    }
}
