//! One named test per official vector (`cargo test -p envelope-vectors --test each_vector --
//! v4-Net-4.0.1/<name>` runs one): each decrypt test of `test-vectors/official/*.zip` becomes a test of
//! its own, checked against its expectation — success with exactly the expected plaintext, or
//! failure — one-shot and streaming. Vectors wrapped only by real AWS KMS keys are listed as
//! ignored, with the reason.
//!
//! `tests/vectors.rs` checks the same zips as a whole (the summary line the CLI prints).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{official_zip, only_kms};
use envelope_vectors::{DecryptRunner, Expectation, Outcome, RunOptions};
use libtest_mimic::{Arguments, Failed, Trial};

/// The official zips and what `envelope vectors decrypt` must say about each.
const ZIPS: [&str; 3] = ["v4-Net-4.0.1.zip", "invalid-Net-4.0.0.zip", "v5-Java-4.1.0.zip"];

fn main() {
    let arguments = Arguments::from_args();
    let mut trials = Vec::new();
    for zip in ZIPS {
        trials.extend(trials_for(&official_zip(zip), zip.trim_end_matches(".zip")));
    }
    libtest_mimic::run(&arguments, trials).exit();
}

fn trials_for(path: &Path, label: &str) -> Vec<Trial> {
    let runner = match DecryptRunner::open(path, &RunOptions::default()) {
        Ok(runner) => Arc::new(runner),
        Err(error) => {
            let message = format!("{} does not open: {error}", path.display());
            return vec![Trial::test(format!("{label}/manifest"), move || Err(Failed::from(message)))];
        }
    };
    (0..runner.manifest().tests.len())
        .map(|index| {
            let test = &runner.manifest().tests[index];
            let name = format!("{label}/{}", test.name);
            let kind = match runner.expectation(test) {
                Ok(Expectation::Success { .. }) => "decrypts",
                Ok(Expectation::Failure { .. }) => "fails",
                Ok(_) | Err(_) => "unknown",
            };
            // Tests that need real AWS KMS keys cannot run offline: listed as ignored.
            let needs_kms = test.keys.as_ref().is_ok_and(only_kms);
            let runner = runner.clone();
            Trial::test(name, move || run_one(&runner, index)).with_kind(kind).with_ignored_flag(needs_kms)
        })
        .collect()
}

fn run_one(runner: &DecryptRunner, index: usize) -> Result<(), Failed> {
    let test = &runner.manifest().tests[index];
    match runner.run_test(test) {
        Outcome::Passed => Ok(()),
        Outcome::Failed { reason } => Err(Failed::from(reason)),
        Outcome::Skipped { reason } => {
            Err(Failed::from(format!("skipped, which an offline vector must not be: {reason}")))
        }
        other => Err(Failed::from(format!("unexpected outcome {other:?}"))),
    }
}
