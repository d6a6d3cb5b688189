//! S3 put/get throughput and memory, envelope against plain aws-sdk-s3 in the same run, for the
//! figures of issue 12. Not run by CI (built only); see benches/s3/README.md.
//!
//! ```text
//! s3_bench --endpoint http://127.0.0.1:PORT [--bucket NAME] [--size-mib N] [--rounds N] [--json]
//! ```
//!
//! Phases, each timed and with this process's peak RSS growth (Linux `clear_refs`/`VmHWM`):
//! 1. crypto only: the body encrypted and decrypted in memory (one-shot AES-GCM, the input
//!    copied before the clock starts) and streamed (the incremental GCM the client uses for
//!    multipart puts and large gets), no network;
//! 2. plain aws-sdk-s3: PutObject of the same bytes from memory (one request; multipart as
//!    envelope does for large sizes would only add requests), GetObject into a sink;
//! 3. envelope: `put_object` (multipart above 8 MiB in 8 MiB parts) and `get_object` (verified
//!    first: in memory up to 8 MiB, through the spool file above; and with delayed
//!    authentication, streamed), into a sink;
//! 4. the time ratios envelope / plain for put and get (issue 12 asks ≤ 1.10).
//!
//! The key is a raw AES-256 key, so the figures are S3 and the content cipher, not KMS.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use envelope_s3::client::{Authentication, PutOptions, S3EncryptionClient};
use envelope_s3::wrap::AesGcmKeyring;
use envelope_s3::ObjectCrypto;
use tokio::io::AsyncReadExt;

struct Args {
    endpoint: String,
    bucket: String,
    size: usize,
    rounds: usize,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { endpoint: String::new(), bucket: "envelope-bench".into(), size: 256 << 20, rounds: 1, json: false };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => args.endpoint = value()?,
            "--bucket" => args.bucket = value()?,
            "--size-mib" => args.size = value()?.parse::<usize>().map_err(|e| e.to_string())? << 20,
            "--rounds" => args.rounds = value()?.parse().map_err(|e: std::num::ParseIntError| e.to_string())?,
            "--json" => args.json = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.endpoint.is_empty() {
        return Err("--endpoint URL is required (an S3-compatible server, e.g. moto_server)".into());
    }
    Ok(args)
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|line| line.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS; returns the current RSS in KiB (None off Linux).
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

struct Phase {
    name: &'static str,
    seconds: f64,
    bytes: usize,
    peak_growth_mib: Option<f64>,
    peak_rss_mib: Option<f64>,
}

/// Times `rounds` runs of `run`, each on a fresh input from `setup` (untimed; its memory counts
/// in the peak, as the caller of a one-shot call holds its whole body). What `run` returns is
/// dropped after the clock stops.
async fn measure<S, T, Setup, Run, Fut>(
    name: &'static str,
    bytes: usize,
    rounds: usize,
    mut setup: Setup,
    mut run: Run,
) -> Phase
where
    Setup: FnMut() -> S,
    Run: FnMut(S) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let base = reset_peak();
    let mut seconds = 0.0;
    for _ in 0..rounds {
        let input = setup();
        let start = Instant::now();
        let output = run(input).await;
        seconds += start.elapsed().as_secs_f64();
        drop(std::hint::black_box(output));
    }
    let peak = status_kib("VmHWM:");
    Phase {
        name,
        seconds: seconds / rounds as f64,
        bytes,
        peak_growth_mib: base.zip(peak).map(|(base, peak)| peak.saturating_sub(base) as f64 / 1024.0),
        peak_rss_mib: peak.map(|peak| peak as f64 / 1024.0),
    }
}

async fn drain(mut reader: impl tokio::io::AsyncRead + Unpin) -> usize {
    let mut chunk = vec![0u8; 256 << 10];
    let mut total = 0;
    loop {
        let count = reader.read(&mut chunk).await.expect("read");
        if count == 0 {
            return total;
        }
        total += count;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("s3_bench: {error}");
            std::process::exit(2);
        }
    };
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&args.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let _ = s3.create_bucket().bucket(&args.bucket).send().await;
    let plaintext: Vec<u8> = (0..args.size).map(|i| (i as u64).wrapping_mul(2654435761) as u8).collect();
    let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).expect("key"));
    let no_context = BTreeMap::new();
    let size = args.size;
    let rounds = args.rounds;
    let mut phases = Vec::new();

    // 1. Crypto only.
    let sealed = crypto.encrypt(plaintext.clone(), &no_context).await.expect("encrypt");
    phases.push(
        measure(
            "crypto encrypt (one-shot, in memory)",
            size,
            rounds,
            || plaintext.clone(),
            |copy| async { crypto.encrypt(copy, &no_context).await.expect("encrypt") },
        )
        .await,
    );
    phases.push(
        measure(
            "crypto decrypt (one-shot, in memory)",
            size,
            rounds,
            || sealed.body.clone(),
            |copy| async { crypto.decrypt(&sealed.metadata, copy, &no_context).await.expect("decrypt") },
        )
        .await,
    );
    phases.push(
        measure(
            "crypto encrypt (streamed, 8 MiB pieces)",
            size,
            rounds,
            || (),
            |()| async {
                let (_, mut encryptor) = crypto.begin_encrypt(&no_context, None).await.expect("begin");
                let mut piece = vec![0u8; 8 << 20];
                for chunk in plaintext.chunks(8 << 20) {
                    piece[..chunk.len()].copy_from_slice(chunk);
                    encryptor.update(&mut piece[..chunk.len()]).expect("update");
                }
                encryptor.finish().expect("finish")
            },
        )
        .await,
    );
    let (crypto_ref, metadata, context) = (&crypto, &sealed.metadata, &no_context);
    phases.push(
        measure(
            "crypto decrypt (streamed, 8 MiB pieces)",
            size,
            rounds,
            || sealed.body.clone(),
            move |mut body| async move {
                // In place, the tag checked at the end, as the spool pass and the Delayed reader do.
                envelope_s3::__bench::decrypt_streamed_in_place(crypto_ref, metadata, &mut body, context, 8 << 20)
                    .await
                    .expect("decrypt");
                body
            },
        )
        .await,
    );

    // 2. Plain aws-sdk-s3.
    phases.push(
        measure(
            "aws-sdk-s3 PutObject",
            size,
            rounds,
            || ByteStream::from(plaintext.clone()),
            |body| async {
                s3.put_object().bucket(&args.bucket).key("plain").body(body).send().await.expect("put");
            },
        )
        .await,
    );
    phases.push(
        measure(
            "aws-sdk-s3 GetObject",
            size,
            rounds,
            || (),
            |()| async {
                let out = s3.get_object().bucket(&args.bucket).key("plain").send().await.expect("get");
                assert_eq!(drain(out.body.into_async_read()).await, size);
            },
        )
        .await,
    );

    // 3. envelope.
    let client = S3EncryptionClient::new(s3.clone(), crypto.clone());
    phases.push(
        measure(
            "envelope put_object",
            size,
            rounds,
            || (),
            |()| async {
                client.put_object(&args.bucket, "encrypted", &plaintext[..], &PutOptions::new()).await.expect("put");
            },
        )
        .await,
    );
    phases.push(
        measure(
            "envelope get_object (verify first, spool)",
            size,
            rounds,
            || (),
            |()| async {
                let object = client.get_object(&args.bucket, "encrypted", &no_context).await.expect("get");
                assert_eq!(drain(object).await, size);
            },
        )
        .await,
    );
    let delayed = client.clone().authentication(Authentication::Delayed);
    phases.push(
        measure(
            "envelope get_object (delayed auth)",
            size,
            rounds,
            || (),
            |()| async {
                let object = delayed.get_object(&args.bucket, "encrypted", &no_context).await.expect("get");
                assert_eq!(drain(object).await, size);
            },
        )
        .await,
    );

    for phase in &phases {
        let mb_per_s = phase.bytes as f64 / 1e6 / phase.seconds;
        if args.json {
            println!(
                "{{\"phase\":{:?},\"bytes\":{},\"seconds\":{:.4},\"mb_per_s\":{:.1},\"peak_rss_growth_mib\":{},\"peak_rss_mib\":{}}}",
                phase.name,
                phase.bytes,
                phase.seconds,
                mb_per_s,
                phase.peak_growth_mib.map_or("null".into(), |v| format!("{v:.1}")),
                phase.peak_rss_mib.map_or("null".into(), |v| format!("{v:.1}")),
            );
        } else {
            println!(
                "{:<42} {:>9.1} MB/s  peak RSS +{} MiB",
                phase.name,
                mb_per_s,
                phase.peak_growth_mib.map_or("?".into(), |v| format!("{v:.0}"))
            );
        }
    }
    // envelope's time over plain aws-sdk-s3's for the same bytes in this run (issue 12: ≤ 1.10).
    let seconds = |name: &str| phases.iter().find(|phase| phase.name == name).map(|phase| phase.seconds);
    for (label, envelope, plain) in [
        ("put: envelope / plain", "envelope put_object", "aws-sdk-s3 PutObject"),
        ("get: envelope verify first / plain", "envelope get_object (verify first, spool)", "aws-sdk-s3 GetObject"),
        ("get: envelope delayed / plain", "envelope get_object (delayed auth)", "aws-sdk-s3 GetObject"),
    ] {
        if let (Some(envelope), Some(plain)) = (seconds(envelope), seconds(plain)) {
            if args.json {
                println!("{{\"ratio\":{label:?},\"time_ratio\":{:.3}}}", envelope / plain);
            } else {
                println!("{label:<42} {:>9.2}x time", envelope / plain);
            }
        }
    }
}
