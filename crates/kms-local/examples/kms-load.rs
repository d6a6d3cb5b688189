//! Load generator: drives a KMS endpoint over loopback with aws-sdk-kms and reports requests per
//! second for Encrypt, Decrypt and GenerateDataKey at several concurrency levels.
//!
//! ```text
//! cargo run --release -p envelope-kms-local --example kms-load -- \
//!     --endpoint http://127.0.0.1:4599 --label envelope --seconds 5 --concurrency 1,8,64 \
//!     [--access-key AKID --secret-key SECRET]
//! ```
//!
//! `benches/run-load.sh` runs it against `envelope kms serve` (SigV4 verification on) and against
//! moto's server in the same run. Every request loop is bounded by time; only the given endpoint
//! (meant to be 127.0.0.1) is contacted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::primitives::Blob;

struct Args {
    endpoint: String,
    label: String,
    seconds: u64,
    concurrency: Vec<usize>,
    access_key: String,
    secret_key: String,
    ops: Vec<String>,
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
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => a.endpoint = value,
            "--label" => a.label = value,
            "--seconds" => a.seconds = value.parse().expect("--seconds is a number"),
            "--concurrency" => a.concurrency = value.split(',').map(|c| c.parse().expect("--concurrency is a list of numbers")).collect(),
            "--access-key" => a.access_key = value,
            "--secret-key" => a.secret_key = value,
            "--ops" => a.ops = value.split(',').map(str::to_owned).collect(),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.endpoint.starts_with("http://127.") || a.endpoint.starts_with("http://localhost"), "loopback endpoints only");
    a
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = parse_args();
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&args.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&args.access_key, &args.secret_key, None, None, "static"))
        .load()
        .await;
    let kms = aws_sdk_kms::Client::new(&conf);
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
    println!("| server | operation | clients | requests/s | errors |");
    println!("|---|---|---|---|---|");
    for op in &args.ops {
        for &c in &args.concurrency {
            let done = Arc::new(AtomicU64::new(0));
            let errors = Arc::new(AtomicU64::new(0));
            let deadline = Instant::now() + Duration::from_secs(args.seconds);
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..c {
                let (kms, key, blob, op) = (kms.clone(), key.clone(), blob.clone(), op.clone());
                let (done, errors) = (done.clone(), errors.clone());
                tasks.push(tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let ok = match op.as_str() {
                            "Encrypt" => kms.encrypt().key_id(&key).plaintext(Blob::new(vec![1u8; 32])).send().await.is_ok(),
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
            let rps = done.load(Ordering::Relaxed) as f64 / secs;
            println!("| {} | {op} | {c} | {rps:.0} | {} |", args.label, errors.load(Ordering::Relaxed));
        }
    }
}
