//! `peer-bench`: one-shot encrypt and decrypt throughput of the official Rust AWS Encryption SDK
//! (`aws-esdk`) with a raw AES-256 keyring, under the same contract as `envelope speed`:
//!
//! ```text
//! peer-bench --suite HEX --size BYTES [--frame-length N] [--iterations N] [--json]
//!            [--keyring raw-aes | --keyring hierarchy --table T --branch-key-id ID --kms-key ARN
//!             [--logical-name NAME]]
//! ```
//!
//! With `--keyring hierarchy` the keyring is the SDK's AWS KMS hierarchical keyring over its
//! DynamoDB key store (clients from the usual AWS configuration, so `AWS_ENDPOINT_URL_DYNAMODB` and
//! `AWS_ENDPOINT_URL_KMS` point it at a local DynamoDB and KMS), with a 600 s cache TTL: after the
//! warm-up message every message is served from the branch key cache, as in `envelope speed
//! --keyring hierarchy`.
//!
//! Method (kept identical to `envelope speed` so the figures compare): one warm-up encrypt and
//! decrypt, then encrypt the same plaintext repeatedly for about two seconds (at least three
//! messages) or exactly `--iterations` messages, then decrypt the warm-up message the same way.
//! One message at a time, timing includes the materials step (data key generation and wrapping,
//! signing keys for signed suites). The key is the same 32 bytes (0, 1, ..., 31) under the same
//! provider namespace and key name as `envelope speed`, and the encryption context is empty.
//!
//! When the SDK refuses a message (for example a plaintext it considers too large) the JSON output
//! carries `"refused": "<reason>"` instead of rates, and the exit status is 2.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_esdk::client as esdk_client;
use aws_esdk::key_store::client as keystore_client;
use aws_esdk::key_store::types::key_store_config::KeyStoreConfig;
use aws_esdk::key_store::types::KmsConfiguration;
use aws_esdk::material_providers::client as mpl_client;
use aws_esdk::material_providers::types::keyring::KeyringRef;
use aws_esdk::material_providers::types::material_providers_config::MaterialProvidersConfig;
use aws_esdk::material_providers::types::{AesWrappingAlg, EsdkAlgorithmSuiteId, EsdkCommitmentPolicy};
use aws_esdk::types::aws_encryption_sdk_config::AwsEncryptionSdkConfig;
use aws_smithy_types::Blob;

/// Stack for the thread that runs the SDK: the Dafny-generated code recurses deeply on large
/// messages (the SDK's own guidance is `RUST_MIN_STACK=104857600`).
const STACK_BYTES: usize = 256 << 20;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    suite: String,
    size: String,
    frame_length: u32,
    iterations: Option<u64>,
    json: bool,
    keyring: String,
    hierarchy: HierarchyArgs,
}

/// Where the hierarchical keyring's branch key lives (`--keyring hierarchy`).
#[derive(Default)]
struct HierarchyArgs {
    table: Option<String>,
    logical_name: Option<String>,
    branch_key_id: Option<String>,
    kms_key: Option<String>,
}

const USAGE: &str = "usage: peer-bench [--suite HEX] [--size BYTES] [--frame-length N] [--iterations N] [--json] \
                     [--keyring raw-aes|hierarchy] [--table T --branch-key-id ID --kms-key ARN [--logical-name NAME]]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        suite: "0578".into(),
        size: "1M".into(),
        frame_length: 4096,
        iterations: None,
        json: false,
        keyring: "raw-aes".into(),
        hierarchy: HierarchyArgs::default(),
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (word.clone(), None),
        };
        let mut value =
            |name: &str| inline.clone().or_else(|| words.next()).ok_or(format!("{name} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--suite" => args.suite = value("--suite")?,
            "--size" => args.size = value("--size")?,
            "--frame-length" => {
                args.frame_length =
                    value("--frame-length")?.parse().map_err(|_| "--frame-length takes a number".to_string())?
            }
            "--iterations" => {
                args.iterations =
                    Some(value("--iterations")?.parse().map_err(|_| "--iterations takes a number".to_string())?)
            }
            "--json" => args.json = true,
            "--keyring" => args.keyring = value("--keyring")?,
            "--table" => args.hierarchy.table = Some(value("--table")?),
            "--logical-name" => args.hierarchy.logical_name = Some(value("--logical-name")?),
            "--branch-key-id" => args.hierarchy.branch_key_id = Some(value("--branch-key-id")?),
            "--kms-key" => args.hierarchy.kms_key = Some(value("--kms-key")?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// Parses `0578`, `0x0578` or `578` into the SDK's suite enum and the numeric id.
fn parse_suite(text: &str) -> Result<(u16, EsdkAlgorithmSuiteId), String> {
    use EsdkAlgorithmSuiteId::*;
    let digits = text.trim_start_matches("0x").trim_start_matches("0X");
    let id = u16::from_str_radix(digits, 16).map_err(|_| format!("{text:?} is not a hex suite id such as 0578"))?;
    let suite = match id {
        0x0014 => AlgAes128GcmIv12Tag16NoKdf,
        0x0046 => AlgAes192GcmIv12Tag16NoKdf,
        0x0078 => AlgAes256GcmIv12Tag16NoKdf,
        0x0114 => AlgAes128GcmIv12Tag16HkdfSha256,
        0x0146 => AlgAes192GcmIv12Tag16HkdfSha256,
        0x0178 => AlgAes256GcmIv12Tag16HkdfSha256,
        0x0214 => AlgAes128GcmIv12Tag16HkdfSha256EcdsaP256,
        0x0346 => AlgAes192GcmIv12Tag16HkdfSha384EcdsaP384,
        0x0378 => AlgAes256GcmIv12Tag16HkdfSha384EcdsaP384,
        0x0478 => AlgAes256GcmHkdfSha512CommitKey,
        0x0578 => AlgAes256GcmHkdfSha512CommitKeyEcdsaP384,
        _ => return Err(format!("0x{id:04X} is not an AWS Encryption SDK message suite")),
    };
    Ok((id, suite))
}

/// Parses `1024`, `1K`, `100M`, `1G` (binary multiples), like `envelope speed`.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.chars().last() {
        Some('K' | 'k') => (&text[..text.len() - 1], 1usize << 10),
        Some('M' | 'm') => (&text[..text.len() - 1], 1 << 20),
        Some('G' | 'g') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    let value: usize = digits.parse().map_err(|_| format!("{text:?} is not a size such as 1024, 64K or 100M"))?;
    value.checked_mul(multiplier).ok_or_else(|| format!("{text:?} is too large"))
}

struct Measured {
    count: u64,
    elapsed: Duration,
}

/// Same loop as `envelope speed`: exactly `iterations` runs, or at least three and two seconds.
async fn measure<F, Fut>(iterations: Option<u64>, mut operation: F) -> Result<Measured, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut count = 0u64;
    loop {
        operation().await?;
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

enum Outcome {
    Measured { encrypt: Measured, decrypt: Measured },
    Refused(String),
}

async fn bench(suite: EsdkAlgorithmSuiteId, committing: bool, size: usize, args: &Args) -> Result<Outcome, Error> {
    let policy = if committing {
        EsdkCommitmentPolicy::RequireEncryptAllowDecrypt
    } else {
        EsdkCommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let client = esdk_client::Client::from_conf(AwsEncryptionSdkConfig::builder().commitment_policy(policy).build()?)?;
    let keyring = match args.keyring.as_str() {
        "raw-aes" => raw_aes_keyring().await?,
        "hierarchy" => hierarchical_keyring(&args.hierarchy).await?,
        other => return Err(format!("unknown keyring {other:?} (raw-aes or hierarchy)").into()),
    };
    // The SDK takes its input as an owned Blob, so every call below pays one copy of the input;
    // that copy is part of what a caller of this API pays too.
    let plaintext = Blob::new(vec![0xA5u8; size]);
    let encrypt_once = || async {
        client
            .encrypt()
            .plaintext(plaintext.clone())
            .keyring(keyring.clone())
            .algorithm_suite_id(suite)
            .frame_length(i64::from(args.frame_length))
            .send()
            .await
    };
    let message = match encrypt_once().await {
        Ok(output) => output.ciphertext.ok_or("encrypt returned no ciphertext")?,
        Err(refusal) => return Ok(Outcome::Refused(refusal.to_string())),
    };
    let decrypt_once = || async { client.decrypt().ciphertext(message.clone()).keyring(keyring.clone()).send().await };
    let decrypted = match decrypt_once().await {
        Ok(output) => output.plaintext.ok_or("decrypt returned no plaintext")?,
        Err(refusal) => return Ok(Outcome::Refused(refusal.to_string())),
    };
    if decrypted.as_ref() != plaintext.as_ref() {
        return Err("warm-up round trip did not return the plaintext".into());
    }
    let encrypt = measure(args.iterations, || async { encrypt_once().await.map(drop).map_err(Error::from) }).await?;
    let decrypt = measure(args.iterations, || async { decrypt_once().await.map(drop).map_err(Error::from) }).await?;
    Ok(Outcome::Measured { encrypt, decrypt })
}

/// The raw AES-256 keyring of `envelope speed`: same key, namespace and name.
async fn raw_aes_keyring() -> Result<KeyringRef, Error> {
    let mpl = mpl_client::Client::from_conf(MaterialProvidersConfig::builder().build()?)?;
    Ok(mpl
        .create_raw_aes_keyring()
        .key_namespace("envelope-speed")
        .key_name("aes-256")
        .wrapping_key((0u8..32).collect::<Vec<u8>>())
        .wrapping_alg(AesWrappingAlg::AlgAes256GcmIv12Tag16)
        .send()
        .await?)
}

/// The SDK's hierarchical keyring over its DynamoDB key store, 600 s cache TTL.
async fn hierarchical_keyring(hierarchy: &HierarchyArgs) -> Result<KeyringRef, Error> {
    let needed = |value: &Option<String>, flag: &str| {
        value.clone().ok_or_else(|| format!("--keyring hierarchy needs {flag}\n{USAGE}"))
    };
    let table = needed(&hierarchy.table, "--table")?;
    let branch_key_id = needed(&hierarchy.branch_key_id, "--branch-key-id")?;
    let kms_key = needed(&hierarchy.kms_key, "--kms-key")?;
    let logical_name = hierarchy.logical_name.clone().unwrap_or_else(|| table.clone());
    let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let key_store = keystore_client::Client::from_conf(
        KeyStoreConfig::builder()
            .kms_client(aws_sdk_kms::Client::new(&sdk_config))
            .ddb_client(aws_sdk_dynamodb::Client::new(&sdk_config))
            .ddb_table_name(table)
            .logical_key_store_name(logical_name)
            .kms_configuration(KmsConfiguration::KmsKeyArn(kms_key))
            .build()?,
    )?;
    let mpl = mpl_client::Client::from_conf(MaterialProvidersConfig::builder().build()?)?;
    Ok(mpl
        .create_aws_kms_hierarchical_keyring()
        .key_store(key_store)
        .branch_key_id(branch_key_id)
        .ttl_seconds(600)
        .send()
        .await?)
}

fn run() -> Result<ExitCode, Error> {
    let args = parse_args()?;
    let (id, suite) = parse_suite(&args.suite)?;
    let size = parse_size(&args.size)?;
    let committing = id >= 0x0478;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(bench(suite, committing, size, &args))?;
    let suite_text = format!("0x{id:04X}");
    match outcome {
        Outcome::Refused(reason) => {
            if args.json {
                let report = serde_json::json!({
                    "implementation": "aws-esdk 1.2.4",
                    "suite": suite_text,
                    "size": size,
                    "frame_length": args.frame_length,
                    "refused": reason,
                });
                println!("{report}");
            } else {
                println!("aws-esdk refused: {reason}");
            }
            Ok(ExitCode::from(2))
        }
        Outcome::Measured { encrypt, decrypt } => {
            let rate = |m: &Measured| {
                (
                    m.count as f64 / m.elapsed.as_secs_f64(),
                    (m.count as f64 * size as f64) / m.elapsed.as_secs_f64() / 1e6,
                )
            };
            let (encrypt_ops, encrypt_mb) = rate(&encrypt);
            let (decrypt_ops, decrypt_mb) = rate(&decrypt);
            if args.json {
                let report = serde_json::json!({
                    "implementation": "aws-esdk 1.2.4",
                    "keyring": args.keyring,
                    "suite": suite_text,
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
                println!(
                    "aws-esdk 1.2.4, {} keyring, suite {suite_text}, {size} bytes, frame length {}",
                    args.keyring, args.frame_length
                );
                println!("{:>8} {:>14} {:>14}", "", "MB/s", "messages/s");
                println!("{:>8} {:>14.1} {:>14.1}", "encrypt", encrypt_mb, encrypt_ops);
                println!("{:>8} {:>14.1} {:>14.1}", "decrypt", decrypt_mb, decrypt_ops);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let worker = std::thread::Builder::new().name("peer-bench".into()).stack_size(STACK_BYTES).spawn(|| match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("peer-bench: {error}");
            ExitCode::FAILURE
        }
    });
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("peer-bench: the benchmark thread failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_suites_parse() {
        assert_eq!(parse_size("1K").unwrap(), 1024);
        assert_eq!(parse_size("100M").unwrap(), 100 << 20);
        assert!(parse_size("ten").is_err());
        assert_eq!(parse_suite("0x0578").unwrap().0, 0x0578);
        assert_eq!(parse_suite("14").unwrap().0, 0x0014);
        assert!(parse_suite("0070").is_err());
    }
}
