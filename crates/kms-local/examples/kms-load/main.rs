//! Load generator: drives a KMS endpoint over loopback with aws-sdk-kms and reports requests per
//! second for Encrypt, Decrypt and GenerateDataKey at several concurrency levels.
//!
//! ```text
//! cargo run --release -p envelope-kms-local --example kms-load -- \
//!     --endpoint http://127.0.0.1:4599 --label envelope --seconds 5 --concurrency 1,8,64 \
//!     [--access-key AKID --secret-key SECRET] [--server-pid PID] [--client sdk|raw] \
//!     [--raw-secret-key WRONG]   # raw client signs with WRONG: every request must then fail
//! ```
//!
//! `--client sdk` (the default) sends every request through aws-sdk-kms. `--client raw` (see
//! `raw.rs`) sends the same SigV4-signed requests over kept-alive connections with a minimal HTTP
//! client, at a fraction of the SDK's CPU per request, so that on a machine shared by client and
//! server the figure shows the server's capacity. Setup (CreateKey, the Decrypt input) always goes
//! through the SDK.
//!
//! Wall-clock requests per second are noisy on a shared 2-core machine, so each cell also reports
//! CPU time per request (utime+stime from `/proc/<pid>/stat`, divided by requests served) for this
//! client and, given `--server-pid`, for the server: those numbers say what an idle machine would
//! do, whatever else was running.
//!
//! `benches/run-load.sh` runs it against `envelope kms serve` (SigV4 verification on) and against
//! moto's server in the same run. Every request loop is bounded by time; only the given endpoint
//! (meant to be 127.0.0.1) is contacted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig};
use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;

mod raw;

struct Args {
    endpoint: String,
    label: String,
    seconds: u64,
    concurrency: Vec<usize>,
    access_key: String,
    secret_key: String,
    ops: Vec<String>,
    server_pid: Option<u32>,
    raw: bool,
    /// The secret the raw client signs with (default `secret_key`): a wrong one shows that the
    /// server rejects every request of the loop, i.e. that it verifies the reused signatures.
    raw_secret_key: Option<String>,
}

/// CPU time (user + system, all threads) a process has used so far, in microseconds; `None` where
/// `/proc` is not there.
fn cpu_micros(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name, which may itself contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux ABI Rust targets.
    Some(ticks * 10_000)
}

/// CPU microseconds of (client, server) used since `start`, per request.
fn per_request(start: (Option<u64>, Option<u64>), end: (Option<u64>, Option<u64>), requests: u64) -> (String, String) {
    let fmt = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if requests > 0 => format!("{:.0}", (b - a) as f64 / requests as f64),
        _ => "-".to_owned(),
    };
    (fmt(start.0, end.0), fmt(start.1, end.1))
}

fn parse_args() -> Args {
    let mut a = Args {
        endpoint: "http://127.0.0.1:4599".into(),
        label: "kms".into(),
        seconds: 5,
        concurrency: vec![1, 8, 64],
        access_key: "AKIDLOAD".into(),
        secret_key: "load-secret".into(),
        ops: vec!["Encrypt".into(), "Decrypt".into(), "GenerateDataKey".into()],
        server_pid: None,
        raw: false,
        raw_secret_key: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => a.endpoint = value,
            "--label" => a.label = value,
            "--seconds" => a.seconds = value.parse().expect("--seconds is a number"),
            "--concurrency" => {
                a.concurrency =
                    value.split(',').map(|c| c.parse().expect("--concurrency is a list of numbers")).collect()
            }
            "--access-key" => a.access_key = value,
            "--secret-key" => a.secret_key = value,
            "--ops" => a.ops = value.split(',').map(str::to_owned).collect(),
            "--server-pid" => a.server_pid = Some(value.parse().expect("--server-pid is a number")),
            "--raw-secret-key" => a.raw_secret_key = Some(value),
            "--client" => {
                a.raw = match value.as_str() {
                    "sdk" => false,
                    "raw" => true,
                    other => panic!("--client is sdk or raw, not {other}"),
                }
            }
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        a.endpoint.starts_with("http://127.") || a.endpoint.starts_with("http://localhost"),
        "loopback endpoints only"
    );
    a
}

// Multi-threaded runtime, one worker per core: the aws-sdk-kms client costs about twice the
// server's CPU per request, so a current-thread runtime would cap the client at one core and leave
// the other half idle whenever the server is waiting on it.
#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = parse_args();
    // Built directly rather than through `aws_config::defaults`: nothing here should depend on the
    // environment or the profile files of whoever runs the benchmark.
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&args.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&args.access_key, &args.secret_key, None, None, "static"))
        // Stalled-stream protection wraps every request and response body in a throughput monitor
        // with its own timer; KMS bodies are a few hundred bytes on loopback, so it can only cost
        // CPU here (about 7% of the client's in a profile).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        // No retries: a failed request is counted as an error rather than hidden by a retry, and
        // the retry token bucket and classifiers drop out of every call.
        .retry_config(RetryConfig::disabled())
        .build();
    // One client for every task: it owns the connection pool, so each task's connection stays
    // open and is reused (keep-alive) instead of a TCP handshake per request.
    let kms = aws_sdk_kms::Client::from_conf(conf);
    let key = kms.create_key().send().await.expect("CreateKey").key_metadata.expect("metadata").key_id;
    let blob = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(vec![7u8; 32]))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob
        .expect("blob");
    let server_pid = args.server_pid.map(|p| p.to_string());
    let cpu = || (cpu_micros("self"), server_pid.as_deref().and_then(cpu_micros));
    let client = if args.raw { "raw" } else { "aws-sdk-kms" };
    println!("| server | client | operation | clients | requests/s | errors | client CPU µs/req | server CPU µs/req |");
    println!("|---|---|---|---|---|---|---|---|");
    for op in &args.ops {
        for &c in &args.concurrency {
            if args.raw {
                let signer = raw_signer(&args, op, &key, blob.as_ref());
                let deadline = Instant::now() + Duration::from_secs(args.seconds);
                let start = Instant::now();
                let cpu_start = cpu();
                let tasks: Vec<_> = (0..c).map(|_| tokio::spawn(raw::run(signer.clone(), deadline))).collect();
                let (mut done, mut errors) = (0, 0);
                for t in tasks {
                    let (d, e) = t.await.unwrap_or((0, 1));
                    done += d;
                    errors += e;
                }
                let secs = start.elapsed().as_secs_f64();
                let (client_us, server_us) = per_request(cpu_start, cpu(), done + errors);
                let rps = done as f64 / secs;
                println!(
                    "| {} | {client} | {op} | {c} | {rps:.0} | {errors} | {client_us} | {server_us} |",
                    args.label
                );
                continue;
            }
            let done = Arc::new(AtomicU64::new(0));
            let errors = Arc::new(AtomicU64::new(0));
            let deadline = Instant::now() + Duration::from_secs(args.seconds);
            let start = Instant::now();
            let cpu_start = cpu();
            let mut tasks = Vec::new();
            for _ in 0..c {
                let (kms, key, blob, op) = (kms.clone(), key.clone(), blob.clone(), op.clone());
                let (done, errors) = (done.clone(), errors.clone());
                tasks.push(tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let ok = match op.as_str() {
                            "Encrypt" => {
                                kms.encrypt().key_id(&key).plaintext(Blob::new(vec![1u8; 32])).send().await.is_ok()
                            }
                            "Decrypt" => kms.decrypt().ciphertext_blob(blob.clone()).send().await.is_ok(),
                            _ => kms.generate_data_key().key_id(&key).number_of_bytes(32).send().await.is_ok(),
                        };
                        if ok {
                            done.fetch_add(1, Ordering::Relaxed);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
            let secs = start.elapsed().as_secs_f64();
            let served = done.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed);
            let (client_us, server_us) = per_request(cpu_start, cpu(), served);
            let rps = done.load(Ordering::Relaxed) as f64 / secs;
            println!(
                "| {} | {client} | {op} | {c} | {rps:.0} | {} | {client_us} | {server_us} |",
                args.label,
                errors.load(Ordering::Relaxed)
            );
        }
    }
}

/// The raw client's request for `op`: the same JSON body aws-sdk-kms sends for the SDK loop's call.
fn raw_signer(args: &Args, op: &str, key: &str, blob: &[u8]) -> raw::Signer {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let body = match op {
        "Encrypt" => serde_json::json!({"KeyId": key, "Plaintext": b64(&[1u8; 32])}),
        "Decrypt" => serde_json::json!({"CiphertextBlob": b64(blob)}),
        _ => serde_json::json!({"KeyId": key, "NumberOfBytes": 32}),
    };
    let operation = match op {
        "Encrypt" | "Decrypt" => op,
        _ => "GenerateDataKey",
    };
    raw::Signer {
        access_key: args.access_key.clone(),
        secret_key: args.raw_secret_key.clone().unwrap_or_else(|| args.secret_key.clone()),
        region: "us-east-1".into(),
        authority: args.endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned(),
        target: format!("TrentService.{operation}"),
        body: serde_json::to_vec(&body).expect("JSON body"),
    }
}
