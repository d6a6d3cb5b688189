//! `envelope vectors dbe ...`: the DB-ESDK's cross-language item vectors (`aws-dbesdk-decrypt`
//! and `aws-dbesdk-encrypt` manifests, version 1), offline: keys come from the manifest's keys
//! file, the keyring is the hierarchical keyring on a `static-branch-key` entry.
//!
//! One extension to the official format: a record's `config` may carry `search` (the table-config
//! form of `configs.json`); decrypt then checks the item's `aws_dbe_b_*` beacons against those
//! computed from the plaintext, and encrypt writes them.

mod compare;
mod decrypt;
mod encrypt;
mod keys;
mod manifest;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use envelope_vectors::Report;

/// Subcommands of `envelope vectors dbe`.
#[derive(Debug, clap::Subcommand)]
pub enum DbeVectorsCommand {
    /// Decrypt every record of an aws-dbesdk-decrypt manifest (version 1).
    ///
    /// A positive record passes when the decrypted item, without `aws_dbe_*` attributes, equals
    /// its `plaintext` (numbers normalized, sets compared as sets) and, with a `search` config,
    /// its beacons are exactly those the plaintext gives; a negative record passes when it does
    /// not verify. Prints one line per failure and, last, `N passed, M failed, K skipped`; exits
    /// 1 when a record failed.
    Decrypt {
        /// The manifest file (or a directory holding manifest.json).
        #[arg(long, value_name = "PATH")]
        manifest: PathBuf,
        /// Also print one line per skipped record.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Run an aws-dbesdk-encrypt manifest (version 1) and write DIR/manifest.json, an
    /// aws-dbesdk-decrypt manifest of the items written, with the keys file beside it.
    ///
    /// Negative-encrypt tests must be refused and are left out; negative-decrypt tests are written
    /// as negative records with their `decryptConfig`.
    Encrypt {
        /// The aws-dbesdk-encrypt manifest (or a directory holding manifest.json).
        #[arg(long, value_name = "PATH")]
        manifest: PathBuf,
        /// The directory to create (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also print one line per skipped test.
        #[arg(long, short)]
        verbose: bool,
    },
}

/// Runs one `envelope vectors dbe` subcommand.
pub fn run(command: DbeVectorsCommand) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::start().context("could not start the async runtime")?;
    match command {
        DbeVectorsCommand::Decrypt { manifest, verbose } => {
            let report = runtime
                .block_on(decrypt::run(&manifest))
                .with_context(|| format!("could not run the DB-ESDK decrypt manifest {}", manifest.display()))?;
            Ok(print_report(&report, verbose))
        }
        DbeVectorsCommand::Encrypt { manifest, out, verbose } => {
            let report = runtime
                .block_on(encrypt::run(&manifest, &out))
                .with_context(|| format!("could not run the DB-ESDK encrypt manifest {}", manifest.display()))?;
            let code = print_report(&report, verbose);
            eprintln!(
                "wrote {} (check it with: envelope vectors dbe decrypt --manifest {})",
                out.display(),
                out.join("manifest.json").display()
            );
            Ok(code)
        }
    }
}

/// Failure lines (and skip lines when verbose), then the summary as the last line.
fn print_report(report: &Report, verbose: bool) -> ExitCode {
    if verbose {
        for line in report.skip_lines() {
            println!("{line}");
        }
    }
    println!("{report}");
    if report.is_success() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
