//! `envelope vectors ...`: run AWS Encryption SDK cross-language test-vector manifests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use envelope::CommitmentPolicy;
use envelope_vectors::{
    AwsKmsKeyrings, EncryptMethod, GenerateOptions, KmsKeyrings, Report, RunOptions, run_decrypt_manifest,
    run_encrypt_manifest,
};

use crate::kms_choice::aws_configuration;

/// Subcommands of `envelope vectors`.
#[derive(Debug, clap::Subcommand)]
pub enum VectorsCommand {
    /// Decrypt every test of an awses-decrypt manifest (versions 1–5), one-shot and streaming.
    ///
    /// Prints one line per failure and, last, `N passed, M failed, K skipped`. Exits 1 when a
    /// test failed. Tests that need AWS KMS use the AWS configuration (`AWS_ENDPOINT_URL_KMS`,
    /// credentials, profiles) when there is one, and are skipped otherwise or when KMS says their
    /// key does not exist.
    Decrypt {
        /// A manifest.json, a directory holding one, or a .zip holding one.
        #[arg(long, value_name = "PATH")]
        manifest: PathBuf,
        /// Run only the tests whose name contains this.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Decrypt under this policy instead of REQUIRE_ENCRYPT_ALLOW_DECRYPT (which reads every suite).
        #[arg(long, value_name = "POLICY")]
        commitment_policy: Option<String>,
        /// Do not retry header authentication with the .NET ESDK 4.0.0 key derivation.
        #[arg(long)]
        no_net_v4_retry: bool,
        /// Skip tests that need AWS KMS even when AWS configuration is present.
        #[arg(long)]
        no_kms: bool,
        /// Also print one line per skipped test.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Run an awses-encrypt manifest (versions 1–2) and write a decrypt manifest, keys.json,
    /// plaintexts/ and ciphertexts/ into a new directory, for other implementations to check.
    ///
    /// Tests that need AWS KMS use the AWS configuration (`AWS_ENDPOINT_URL_KMS`, credentials,
    /// profiles) when there is one, and are skipped otherwise.
    Encrypt {
        /// The awses-encrypt manifest (a file, a directory holding manifest.json, or a .zip).
        #[arg(long, value_name = "PATH")]
        manifest: PathBuf,
        /// The directory to create (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write messages through the streaming writer instead of one-shot.
        #[arg(long)]
        streaming: bool,
        /// Skip tests that need AWS KMS even when AWS configuration is present.
        #[arg(long)]
        no_kms: bool,
        /// Run only the tests whose name contains this.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Also print one line per skipped test.
        #[arg(long, short)]
        verbose: bool,
    },
    /// The AWS Database Encryption SDK's item vectors (aws-dbesdk-decrypt and
    /// aws-dbesdk-encrypt manifests), offline.
    #[command(subcommand)]
    Dbe(super::vectors_dbe::DbeVectorsCommand),
}

/// Runs one `envelope vectors` subcommand.
pub fn run(command: VectorsCommand) -> anyhow::Result<ExitCode> {
    match command {
        VectorsCommand::Decrypt { manifest, filter, commitment_policy, no_net_v4_retry, no_kms, verbose } => {
            let kms = kms_keyrings(no_kms)?;
            let mut options = RunOptions { kms, filter, net_v4_0_0_retry: !no_net_v4_retry, ..RunOptions::default() };
            if let Some(name) = commitment_policy {
                options.commitment_policy = CommitmentPolicy::from_name(&name).with_context(|| {
                    format!(
                        "unknown commitment policy {name:?}; use FORBID_ENCRYPT_ALLOW_DECRYPT, \
                         REQUIRE_ENCRYPT_ALLOW_DECRYPT or REQUIRE_ENCRYPT_REQUIRE_DECRYPT"
                    )
                })?;
            }
            let report = run_decrypt_manifest(&manifest, &options)
                .with_context(|| format!("could not run the decrypt manifest {}", manifest.display()))?;
            Ok(print_report(&report, verbose))
        }
        VectorsCommand::Encrypt { manifest, out, streaming, no_kms, filter, verbose } => {
            let options = GenerateOptions {
                kms: kms_keyrings(no_kms)?,
                method: if streaming { EncryptMethod::Streaming } else { EncryptMethod::OneShot },
                filter,
            };
            let report = run_encrypt_manifest(&manifest, &out, &options)
                .with_context(|| format!("could not run the encrypt manifest {}", manifest.display()))?;
            let code = print_report(&report, verbose);
            eprintln!("wrote {} (check it with: envelope vectors decrypt --manifest {})", out.display(), out.display());
            Ok(code)
        }
        VectorsCommand::Dbe(command) => super::vectors_dbe::run(command),
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

/// KMS keyrings through the usual AWS configuration chain when the environment has one (the same
/// path talks to AWS or, with `AWS_ENDPOINT_URL_KMS`, to an emulator such as `envelope kms serve`);
/// `None` skips KMS tests. `ENVELOPE_KMS` (the other commands' `--kms`) is honoured: `embedded`
/// skips them (the embedded emulator holds none of the vectors' keys), `aws` uses the AWS chain
/// even without configuration that says so.
fn kms_keyrings(disabled: bool) -> anyhow::Result<Option<Arc<dyn KmsKeyrings>>> {
    if disabled {
        return Ok(None);
    }
    let why = match std::env::var("ENVELOPE_KMS").as_deref() {
        Ok("embedded") => return Ok(None),
        Ok("aws") => "ENVELOPE_KMS=aws".to_owned(),
        _ => match aws_configuration() {
            Some(why) => why,
            None => return Ok(None),
        },
    };
    eprintln!("note: AWS KMS keyrings use the AWS configuration ({why}); --no-kms skips KMS tests instead");
    let keyrings = AwsKmsKeyrings::from_env().context("could not set up AWS KMS keyrings")?;
    Ok(Some(Arc::new(keyrings)))
}
