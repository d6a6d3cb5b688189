//! `envelope kms ...`: run and administer the bundled local KMS emulator.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use envelope_kms_local::{Emulator, Limits, Settings};

use super::kms_api;
use crate::embedded_kms;
use crate::kms_choice::{KmsArgs, KmsMode};

/// Subcommands of `envelope kms`.
#[derive(Debug, clap::Subcommand)]
pub enum KmsCommand {
    /// Serve the KMS wire protocol (AWS JSON 1.1) until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Create a key: in --data-dir (offline; a server running on it sees the key at once), else in the KMS
    /// that `envelope encrypt` would use (AWS when configured, else the embedded emulator).
    CreateKey(CreateKeyArgs),
    /// List keys: of --data-dir, else of the KMS that `envelope encrypt` would use.
    ListKeys(DataArgs),
    /// Print audit events (CloudTrail-style JSON, one per line, oldest first).
    Audit(AuditArgs),
}

/// Arguments of `envelope kms serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4599")]
    listen: String,
    /// Directory for the database and root key (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Seed file (JSON or YAML) with keys and aliases to create at startup.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Credentials file: turns on strict mode (SigV4 verification, key policies, grants).
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Serve in permissive mode (no --credentials: any request is accepted) on an address other
    /// than loopback, letting anyone who can reach it use the keys.
    #[arg(long)]
    allow_anonymous: bool,
    /// Connections open at once; at the cap the longest-idle connection is closed for a new one.
    #[arg(long, default_value_t = Limits::default().max_connections, value_name = "N")]
    max_connections: usize,
    /// Seconds a client has to send a request's headers (also the keep-alive idle timeout).
    #[arg(long, default_value_t = Limits::default().header_read_timeout.as_secs(), value_name = "SECONDS")]
    header_timeout: u64,
    /// Seconds a client has to send a request's body once its headers have arrived.
    #[arg(long, default_value_t = Limits::default().body_read_timeout.as_secs(), value_name = "SECONDS")]
    body_timeout: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Audit events waiting for the disk before new requests wait for room (back-pressure).
    #[arg(long, default_value_t = Limits::default().audit_queue, value_name = "EVENTS")]
    audit_queue: usize,
}

impl ServeArgs {
    /// The resource limits the flags ask for (zero timeouts or sizes are refused: they would
    /// make the server unusable rather than safe).
    fn limits(&self) -> anyhow::Result<Limits> {
        for (flag, value) in [
            ("--max-connections", self.max_connections as u64),
            ("--header-timeout", self.header_timeout),
            ("--body-timeout", self.body_timeout),
            ("--max-body-bytes", self.max_body_bytes as u64),
            ("--audit-queue", self.audit_queue as u64),
        ] {
            if value == 0 {
                anyhow::bail!("{flag} must be at least 1");
            }
        }
        Ok(Limits::default()
            .with_max_connections(self.max_connections)
            .with_header_read_timeout(Duration::from_secs(self.header_timeout))
            .with_body_read_timeout(Duration::from_secs(self.body_timeout))
            .with_max_body_bytes(self.max_body_bytes)
            .with_audit_queue(self.audit_queue))
    }
}

/// Arguments naming the KMS to act on.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// An emulator data directory to act on offline.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Region to act in (default: the emulator's us-east-1, or the AWS configuration's).
    #[arg(long)]
    region: Option<String>,
    #[command(flatten)]
    kms: KmsArgs,
}

impl DataArgs {
    /// The KMS to act on: the emulator over --data-dir when given (started in-process on
    /// loopback, like the embedded one), else the one `envelope encrypt` would use.
    fn kms_args(&self) -> KmsArgs {
        match &self.data_dir {
            Some(dir) => KmsArgs { kms_data_dir: Some(dir.clone()), mode: KmsMode::Embedded },
            None => self.kms.clone(),
        }
    }
}

/// Arguments of `envelope kms create-key`.
#[derive(Debug, clap::Args)]
pub struct CreateKeyArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Alias to point at the new key, e.g. alias/app.
    #[arg(long)]
    alias: Option<String>,
    /// Key spec, e.g. SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, ML_DSA_65.
    #[arg(long, default_value = "SYMMETRIC_DEFAULT")]
    key_spec: String,
    /// Key usage; defaults to the spec's first usage (ENCRYPT_DECRYPT, SIGN_VERIFY, ...).
    #[arg(long)]
    key_usage: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
}

/// Arguments of `envelope kms audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The emulator's data directory (default: the embedded emulator's, as for --kms-data-dir).
    #[arg(long, visible_alias = "kms-data-dir")]
    data_dir: Option<PathBuf>,
    /// Only events about this key (key id or key ARN).
    #[arg(long)]
    key: Option<String>,
    /// Only events at or after T: epoch seconds, an ISO 8601 time (2026-01-02T03:04:05Z),
    /// or an age such as 30s, 15m, 2h, 7d.
    #[arg(long)]
    since: Option<String>,
    /// At most this many events (the most recent ones).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
}

/// Runs one `envelope kms` subcommand.
pub fn run(command: KmsCommand) -> anyhow::Result<ExitCode> {
    match command {
        KmsCommand::Serve(args) => serve(args),
        KmsCommand::CreateKey(args) => create_key(args),
        KmsCommand::ListKeys(args) => list_keys(args),
        KmsCommand::Audit(args) => audit(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::new(&args.data_dir);
    settings.limits = args.limits()?;
    settings.seed = args.seed;
    settings.credentials = args.credentials;
    if settings.credentials.is_none() {
        // Checked before binding, so a refused address is never exposed even briefly.
        check_anonymous_exposure(&args.listen, args.allow_anonymous)?;
    }
    let runtime = crate::runtime::start().context("starting the async runtime")?;
    runtime.block_on(async move {
        let emu = Emulator::open(&settings)
            .with_context(|| format!("opening the KMS data directory {}", settings.data_dir.display()))?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {} (is the port in use? try --listen 127.0.0.1:0)", args.listen))?;
        let addr = listener.local_addr()?;
        if !emu.strict() {
            eprintln!(
                "envelope: warning: permissive mode (no --credentials): requests are not authenticated, so any process \
                 that can connect to http://{addr} can use, change and delete the keys in {}",
                settings.data_dir.display()
            );
        }
        let mode = if emu.strict() {
            "strict: SigV4, key policies and grants enforced"
        } else {
            "permissive: any signature accepted"
        };
        tracing::info!("kms emulator mode: {mode}");
        println!("listening on http://{addr}");
        std::io::stdout().flush()?;
        emu.serve(listener, shutdown_signal()).await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Refuses permissive mode on an address other machines may reach unless `--allow-anonymous`:
/// `listen` must resolve only to loopback addresses.
fn check_anonymous_exposure(listen: &str, allow_anonymous: bool) -> anyhow::Result<()> {
    use std::net::ToSocketAddrs as _;
    if allow_anonymous {
        return Ok(());
    }
    let addrs: Vec<std::net::SocketAddr> = listen
        .to_socket_addrs()
        .with_context(|| format!("--listen {listen} is not an address to listen on"))?
        .collect();
    if !addrs.is_empty() && addrs.iter().all(|addr| addr.ip().is_loopback()) {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to serve in permissive mode on {listen}, which is not a loopback address: anyone who can reach it \
         could use and delete the keys. Pass --credentials FILE for strict mode, listen on 127.0.0.1, or pass \
         --allow-anonymous"
    )
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn create_key(args: CreateKeyArgs) -> anyhow::Result<ExitCode> {
    let request = kms_api::NewKey {
        key_spec: &args.key_spec,
        key_usage: args.key_usage.as_deref(),
        description: args.description.as_deref(),
        alias: args.alias.as_deref(),
    };
    kms_api::create_key(&args.data.kms_args(), args.data.region.as_deref(), &request)
}

/// The usage a key spec gets when --key-usage is not given (KMS itself defaults to
/// ENCRYPT_DECRYPT, which most specs other than symmetric and RSA do not allow).
pub(super) fn default_key_usage(key_spec: &str) -> Option<&'static str> {
    if key_spec.starts_with("ECC_") || key_spec.starts_with("ML_DSA") {
        Some("SIGN_VERIFY")
    } else if key_spec.starts_with("HMAC_") {
        Some("GENERATE_VERIFY_MAC")
    } else if key_spec.starts_with("ML_KEM") {
        Some("ENCAPSULATE_DECAPSULATE")
    } else {
        None
    }
}

fn list_keys(args: DataArgs) -> anyhow::Result<ExitCode> {
    kms_api::list_keys(&args.kms_args(), args.region.as_deref())
}

fn parse_since(s: &str) -> anyhow::Result<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    if let Some(unit) = s.chars().last().filter(|c| "smhd".contains(*c)) {
        if let Ok(n) = s[..s.len() - 1].parse::<i64>() {
            let mult = match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => 86_400,
            };
            return Ok(now - n * mult);
        }
    }
    let t = envelope_kms_local::parse_iso8601(s)
        .ok_or_else(|| anyhow::anyhow!("--since {s:?} is not epoch seconds, an ISO 8601 time or an age like 15m"))?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64)
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let data_dir = embedded_kms::data_dir(args.data_dir)?;
    if !envelope_kms_local::db_path(&data_dir).exists() {
        anyhow::bail!(
            "{} holds no KMS database; pass the --data-dir that `envelope kms serve` used",
            data_dir.display()
        );
    }
    let events = envelope_kms_local::read_audit(&data_dir, args.key.as_deref(), since, args.limit)
        .with_context(|| format!("reading the audit log in {}", data_dir.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for e in events {
        writeln!(out, "{}", serde_json::to_string(&e)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
