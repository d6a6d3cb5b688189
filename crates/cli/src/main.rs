//! The `envelope` command line: encrypt and decrypt files and streams, run the local KMS emulator,
//! run cross-language test vectors and measure speed.

mod commands;
mod crypt;
mod embedded_kms;
mod exit_code;
mod key_store_location;
mod kms_choice;
mod peak_memory;
mod runtime;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Client-side encryption compatible with the AWS Encryption SDK message format.
#[derive(Debug, Parser)]
#[command(name = "envelope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Encrypt files, directories or stdin into AWS Encryption SDK messages.
    #[command(after_help = exit_code::HELP)]
    Encrypt(crypt::args::EncryptArgs),
    /// Decrypt AWS Encryption SDK messages from files, directories or stdin.
    #[command(after_help = exit_code::HELP)]
    Decrypt(crypt::args::DecryptArgs),
    /// Run and administer the bundled local KMS emulator.
    #[command(subcommand)]
    Kms(commands::kms::KmsCommand),
    /// Branch key stores for the hierarchical keyring (SQLite or DynamoDB, the MPL's records).
    #[command(subcommand)]
    Keystore(commands::keystore::KeystoreCommand),
    /// Client-side encrypted S3 objects (the Amazon S3 Encryption Client format): put, get, rm, rewrap.
    #[command(subcommand, after_help = exit_code::HELP)]
    S3(commands::s3::S3Command),
    /// Encrypted, searchable database tables (DB-ESDK items with beacons) in a SQLite file.
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Run AWS Encryption SDK test-vector manifests.
    #[command(subcommand)]
    Vectors(commands::vectors::VectorsCommand),
    /// Measure one-shot encrypt and decrypt throughput, in the style of `openssl speed`.
    Speed(commands::speed::SpeedArgs),
    /// Create a KMS key on the embedded emulator, encrypt a sample file, show its header, decrypt it.
    Quickstart(commands::quickstart::QuickstartArgs),
}

fn main() -> std::process::ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // clap's derive flattens repeated multi-value flags; --wrapping-keys groups need the matches.
    match (&mut cli.command, matches.subcommand()) {
        (Command::Encrypt(args), Some((_, sub))) => args.common.group_wrapping_keys(sub),
        (Command::Decrypt(args), Some((_, sub))) => args.common.group_wrapping_keys(sub),
        _ => {}
    }
    let verbosity = match &cli.command {
        Command::Encrypt(args) => args.common.verbose,
        Command::Decrypt(args) => args.common.verbose,
        _ => 0,
    };
    init_tracing(verbosity);
    let result = match cli.command {
        Command::Encrypt(args) => {
            let code = crypt::run_encrypt(args);
            peak_memory::report_if_asked();
            return code;
        }
        Command::Decrypt(args) => {
            let code = crypt::run_decrypt(args);
            peak_memory::report_if_asked();
            return code;
        }
        Command::Kms(cmd) => commands::kms::run(cmd),
        Command::Keystore(cmd) => commands::keystore::run(cmd),
        Command::S3(cmd) => commands::s3::run(cmd),
        Command::Db(cmd) => commands::db::run(cmd),
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

/// Logs go to stderr through `tracing`; `RUST_LOG` chooses the level, else `-v`s (default: warnings).
/// `-v` lists each file done, `-vv` adds envelope's info logs, `-vvv` its debug logs, `-vvvv`
/// everyone's (the AWS SDK's too).
fn init_tracing(verbosity: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbosity {
        0 | 1 => "warn",
        2 => "warn,envelope=info,envelope_keyrings=info,envelope_cli=info,envelope_kms_local=info",
        3 => "warn,envelope=debug,envelope_keyrings=debug,envelope_cli=debug,envelope_kms_local=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
