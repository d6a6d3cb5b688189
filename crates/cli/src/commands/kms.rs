//! `envelope kms ...` (placeholder until implemented).

use std::process::ExitCode;

/// Subcommands of `envelope kms`.
#[derive(Debug, clap::Subcommand)]
pub enum KmsCommand {
    /// Not implemented yet.
    Todo,
}

/// Runs one `envelope kms` subcommand.
pub fn run(_command: KmsCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
