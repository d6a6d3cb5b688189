//! The `envelope` command line: encrypt and decrypt files and streams, run the local KMS emulator,
//! run cross-language test vectors and measure speed.

mod commands;
mod embedded_kms;

use clap::{Parser, Subcommand};

/// Client-side encryption compatible with the AWS Encryption SDK message format.
#[derive(Debug, Parser)]
#[command(name = "envelope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run and administer the bundled local KMS emulator.
    #[command(subcommand)]
    Kms(commands::kms::KmsCommand),
    /// Run AWS Encryption SDK test-vector manifests.
    #[command(subcommand)]
    Vectors(commands::vectors::VectorsCommand),
    /// Measure one-shot encrypt and decrypt throughput, in the style of `openssl speed`.
    Speed(commands::speed::SpeedArgs),
    /// Create a KMS key on the embedded emulator, encrypt a sample file, show its header, decrypt it.
    Quickstart(commands::quickstart::QuickstartArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Kms(cmd) => commands::kms::run(cmd),
        Command::Vectors(cmd) => commands::vectors::run(cmd),
        Command::Speed(args) => commands::speed::run(args),
        Command::Quickstart(args) => commands::quickstart::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("envelope: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Logs go to stderr through `tracing`; `RUST_LOG` chooses the level (default: warnings).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
