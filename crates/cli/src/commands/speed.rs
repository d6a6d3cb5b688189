//! `envelope speed`: one-shot encrypt and decrypt throughput with a raw AES-256 keyring (or the
//! hierarchical keyring over a key store, warm cache), in the style of `openssl speed`. One message
//! at a time; the figures include the materials step (data key generation and wrapping, signing
//! keys for signed suites).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use envelope::blocking::BlockingClient;
use envelope::{AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions, Keyring};
use envelope_keyrings::RawAesKeyring;
use envelope_keyrings::hierarchy::HierarchicalKeyring;

use crate::commands::keystore::{StoreArgs, open_store};
use crate::kms_choice::{KmsMode, KmsSession};

/// Cache TTL of the hierarchical keyring under measurement: long enough that every measured
/// message is served from the branch key cache.
const HIERARCHY_CACHE_TTL: Duration = Duration::from_secs(600);

/// Arguments of `envelope speed`.
#[derive(Debug, clap::Args)]
pub struct SpeedArgs {
    /// Algorithm suite id in hex, e.g. 0578 or 0x0478.
    #[arg(long, default_value = "0578")]
    suite: String,
    /// Plaintext size in bytes (suffixes K, M, G for KiB, MiB, GiB are accepted).
    #[arg(long, default_value = "1M")]
    size: String,
    /// Frame length in bytes.
    #[arg(long, default_value_t = envelope::client::DEFAULT_FRAME_LENGTH)]
    frame_length: u32,
    /// Messages per direction; by default, as many as fit in about two seconds.
    #[arg(long)]
    iterations: Option<u64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// raw-aes (a fixed local key) or hierarchy (a branch key from --store, warm cache).
    #[arg(long, value_name = "KEYRING", default_value = "raw-aes")]
    keyring: String,
    /// With --keyring hierarchy: the key store (sqlite:PATH or dynamodb:TABLE), as in `envelope keystore`.
    #[command(flatten)]
    store: StoreArgs,
    /// With --keyring hierarchy: the branch key to use.
    #[arg(long, value_name = "ID")]
    branch_key_id: Option<String>,
    /// With --keyring hierarchy: the KMS key ARN that protects the branch key.
    #[arg(long, value_name = "KMS_KEY")]
    kms_key: Option<String>,
    /// With --keyring hierarchy: auto (AWS when configured, else the embedded emulator), embedded or aws.
    #[arg(long = "kms", value_name = "MODE", env = "ENVELOPE_KMS", default_value = "auto")]
    kms_mode: KmsMode,
}

/// Runs the measurement.
pub fn run(args: SpeedArgs) -> anyhow::Result<ExitCode> {
    let suite = parse_suite(&args.suite)?;
    let size = parse_size(&args.size)?;
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptAllowDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let with_policy = |keyring: Arc<dyn Keyring>| Client::with_keyring(keyring).commitment_policy(policy);
    // The hierarchy keyring reaches its store and KMS through the AWS SDK, which needs a runtime;
    // the session keeps the embedded emulator (if any) alive while the measurement runs.
    let mut hierarchy_session: Option<(tokio::runtime::Runtime, KmsSession)> = None;
    let client = match args.keyring.as_str() {
        "raw-aes" => BlockingClient::new(with_policy(Arc::new(RawAesKeyring::new(
            "envelope-speed",
            "aes-256",
            (0u8..32).collect(),
        )?))),
        "hierarchy" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let (Some(branch_key_id), Some(kms_key)) = (&args.branch_key_id, &args.kms_key) else {
                anyhow::bail!("--keyring hierarchy needs --branch-key-id ID and --kms-key KMS_KEY (and --store STORE)");
            };
            let (store, session) = runtime.block_on(open_store(&args.store, kms_key, args.kms_mode))?;
            let keyring =
                HierarchicalKeyring::builder(store).branch_key_id(branch_key_id).ttl(HIERARCHY_CACHE_TTL).build()?;
            let client = BlockingClient::with_runtime(with_policy(Arc::new(keyring)), runtime.handle().clone())?;
            hierarchy_session = Some((runtime, session));
            client
        }
        other => anyhow::bail!("--keyring {other:?}: expected raw-aes or hierarchy"),
    };
    let plaintext = vec![0xA5u8; size];
    let options = EncryptOptions::new().algorithm_suite(suite).frame_length(args.frame_length);
    let decrypt_options = DecryptOptions::new();
    let message = client.encrypt(&plaintext, &options).context("warm-up encrypt")?;
    client.decrypt(&message, &decrypt_options).context("warm-up decrypt")?;

    let encrypt = measure(args.iterations, || client.encrypt(&plaintext, &options).map(drop))?;
    let decrypt = measure(args.iterations, || client.decrypt(&message, &decrypt_options).map(drop))?;
    let rate = |m: &Measured| {
        (m.count as f64 / m.elapsed.as_secs_f64(), (m.count as f64 * size as f64) / m.elapsed.as_secs_f64() / 1e6)
    };
    let (encrypt_ops, encrypt_mb) = rate(&encrypt);
    let (decrypt_ops, decrypt_mb) = rate(&decrypt);
    if args.json {
        let report = serde_json::json!({
            "keyring": args.keyring,
            "suite": format!("0x{:04X}", suite.id()),
            "size": size,
            "frame_length": args.frame_length,
            "encrypt_iterations": encrypt.count,
            "decrypt_iterations": decrypt.count,
            "encrypt_mb_per_s": round(encrypt_mb),
            "decrypt_mb_per_s": round(decrypt_mb),
            "encrypt_ops_per_s": round(encrypt_ops),
            "decrypt_ops_per_s": round(decrypt_ops),
        });
        println!("{report}");
    } else {
        println!("{} keyring, suite {suite}, {size} bytes, frame length {}", args.keyring, args.frame_length);
        println!("{:>8} {:>14} {:>14}", "", "MB/s", "messages/s");
        println!("{:>8} {:>14.1} {:>14.1}", "encrypt", encrypt_mb, encrypt_ops);
        println!("{:>8} {:>14.1} {:>14.1}", "decrypt", decrypt_mb, decrypt_ops);
    }
    if let Some((runtime, session)) = hierarchy_session {
        runtime.block_on(session.close());
    }
    Ok(ExitCode::SUCCESS)
}

struct Measured {
    count: u64,
    elapsed: Duration,
}

fn measure(iterations: Option<u64>, mut operation: impl FnMut() -> envelope::Result<()>) -> anyhow::Result<Measured> {
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut count = 0u64;
    loop {
        operation()?;
        count += 1;
        let done = match iterations {
            Some(limit) => count >= limit,
            None => count >= 3 && start.elapsed() >= budget,
        };
        if done {
            return Ok(Measured { count, elapsed: start.elapsed() });
        }
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Parses `0578`, `0x0578` or `578`.
pub fn parse_suite(text: &str) -> anyhow::Result<AlgorithmSuite> {
    crate::crypt::settings::parse_suite(text).map_err(|failure| failure.error)
}

/// Parses `1024`, `1K`, `100M`, `1G` (binary multiples).
pub fn parse_size(text: &str) -> anyhow::Result<usize> {
    let text = text.trim();
    let (digits, multiplier) = match text.chars().last() {
        Some('K' | 'k') => (&text[..text.len() - 1], 1usize << 10),
        Some('M' | 'm') => (&text[..text.len() - 1], 1 << 20),
        Some('G' | 'g') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    let value: usize = digits.parse().map_err(|_| anyhow!("{text:?} is not a size such as 1024, 64K or 100M"))?;
    value.checked_mul(multiplier).ok_or_else(|| anyhow!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_suites_parse() {
        assert_eq!(parse_size("1K").unwrap(), 1024);
        assert_eq!(parse_size("100M").unwrap(), 100 << 20);
        assert!(parse_size("ten").is_err());
        assert_eq!(parse_suite("0x0578").unwrap(), AlgorithmSuite::DEFAULT);
        assert_eq!(parse_suite("14").unwrap().id(), 0x0014);
        assert!(parse_suite("0070").is_err());
    }
}
