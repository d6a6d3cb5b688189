//! `envelope speed`: one-shot encrypt and decrypt throughput with a raw AES-256 keyring, in the
//! style of `openssl speed`. One message at a time; the figures include the materials step
//! (data key generation and wrapping, signing keys for signed suites).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use envelope::blocking::BlockingClient;
use envelope::{AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions};
use envelope_keyrings::RawAesKeyring;

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
}

/// Runs the measurement.
pub fn run(args: SpeedArgs) -> anyhow::Result<ExitCode> {
    let suite = parse_suite(&args.suite)?;
    let size = parse_size(&args.size)?;
    let keyring = RawAesKeyring::new("envelope-speed", "aes-256", (0u8..32).collect())?;
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptAllowDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let client = BlockingClient::new(Client::with_keyring(keyring).commitment_policy(policy));
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
        println!("suite {suite}, {size} bytes, frame length {}", args.frame_length);
        println!("{:>8} {:>14} {:>14}", "", "MB/s", "messages/s");
        println!("{:>8} {:>14.1} {:>14.1}", "encrypt", encrypt_mb, encrypt_ops);
        println!("{:>8} {:>14.1} {:>14.1}", "decrypt", decrypt_mb, decrypt_ops);
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
