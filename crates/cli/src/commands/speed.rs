//! `envelope speed` (placeholder until implemented).

use std::process::ExitCode;

/// Arguments of `envelope speed`.
#[derive(Debug, clap::Args)]
pub struct SpeedArgs {}

/// Runs the speed measurement.
pub fn run(_args: SpeedArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
