//! `envelope vectors ...` (placeholder until implemented).

use std::process::ExitCode;

/// Subcommands of `envelope vectors`.
#[derive(Debug, clap::Subcommand)]
pub enum VectorsCommand {
    /// Not implemented yet.
    Todo,
}

/// Runs one `envelope vectors` subcommand.
pub fn run(_command: VectorsCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
