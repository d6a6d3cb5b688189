//! S3 put/get throughput and memory, envelope against plain aws-sdk-s3 in the same run, for the
//! figures of issue 12. Not run by CI (built only); see benches/s3/README.md.
//!
//! ```text
//! s3_bench --endpoint http://127.0.0.1:PORT [--bucket NAME] [--size-mib N] [--rounds N] [--dir DIR] [--json] [--gets-only]
//! ```
//!
//! Phases, each timed and with this process's peak RSS growth (Linux `clear_refs`/`VmHWM`):
//! 1. crypto only: the body encrypted and decrypted in memory (one-shot AES-GCM, the input
//!    copied before the clock starts) and streamed (the incremental GCM the client uses for
//!    multipart puts and large gets), no network;
//! 2. plain aws-sdk-s3: PutObject of the same bytes from memory (one request), a multipart
//!    upload in parts of envelope's size with as many in flight (what a user uploading large
//!    objects would run), GetObject into a sink, and GetObject written to a file in the
//!    `--dir` directory (1 MiB writes overlapping the download, then with an fsync), and
//!    GetObject through an unnamed temporary file read back once the last byte arrived: the
//!    floor of any stream that releases nothing before the whole body is in (no crypto at all);
//! 3. envelope: `put_object` (multipart above 8 MiB in 8 MiB parts) and `get_object` (verified
//!    first: in memory up to 8 MiB, through the spool file above; and with delayed
//!    authentication, streamed), into a sink; `get_to_path` (verified first, decrypted straight
//!    into a temporary file renamed into place) without and with the fsync;
//! 4. the time ratios envelope / plain (issue 12 asks ≤ 1.10), each against its fair baseline,
//!    and the verified-first stream against its floor (the floor over a plain get shows how much
//!    of that stream's ratio no implementation can avoid on the machine).
//!
//! The key is a raw AES-256 key, so the figures are S3 and the content cipher, not KMS.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use envelope_s3::ObjectCrypto;
use envelope_s3::client::{Authentication, DEFAULT_PART_SIZE, DownloadOptions, PutOptions, S3EncryptionClient};
use envelope_s3::wrap::AesGcmKeyring;
use tokio::io::AsyncReadExt;

struct Args {
    endpoint: String,
    bucket: String,
    size: usize,
    rounds: usize,
    dir: std::path::PathBuf,
    json: bool,
    gets_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        endpoint: String::new(),
        bucket: "envelope-bench".into(),
        size: 256 << 20,
        rounds: 1,
        dir: std::env::temp_dir(),
        json: false,
        gets_only: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => args.endpoint = value()?,
            "--bucket" => args.bucket = value()?,
            "--size-mib" => args.size = value()?.parse::<usize>().map_err(|e| e.to_string())? << 20,
            "--rounds" => args.rounds = value()?.parse().map_err(|e: std::num::ParseIntError| e.to_string())?,
            "--dir" => args.dir = value()?.into(),
            "--json" => args.json = true,
            "--gets-only" => args.gets_only = true,
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
    /// The fastest round.
    best: f64,
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
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let input = setup();
        let start = Instant::now();
        let output = run(input).await;
        let elapsed = start.elapsed().as_secs_f64();
        seconds += elapsed;
        best = best.min(elapsed);
        drop(std::hint::black_box(output));
    }
    let peak = status_kib("VmHWM:");
    Phase {
        name,
        seconds: seconds / rounds as f64,
        best,
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

/// Writes `reader` to a new file at `path` in 1 MiB writes on the blocking pool, each write
/// overlapping the download of the next piece (a plain get's fair baseline for `get_to_path`,
/// which overlaps the same way), optionally with an fsync; returns the bytes written.
async fn plain_to_file(reader: impl tokio::io::AsyncRead + Unpin, path: &std::path::Path, sync: bool) -> usize {
    let file = std::fs::File::create(path).expect("create");
    let (file, total) = plain_into(reader, file).await;
    if sync {
        tokio::task::spawn_blocking(move || file.sync_all().expect("fsync")).await.expect("writer");
    }
    total
}

/// The floor of any verified-first stream in bounded memory, with no cryptography at all: the
/// whole body stored in an unnamed temporary file (as `plain_to_file` writes), then read back
/// in 1 MiB reads for the consumer. Nothing may reach the consumer before the last byte
/// arrived, so no stream that verifies first can take less than this; returns the bytes read.
async fn plain_through_spool(reader: impl tokio::io::AsyncRead + Unpin) -> usize {
    use std::io::{Read, Seek};
    let (mut file, written) = plain_into(reader, tempfile::tempfile().expect("temporary file")).await;
    let read = tokio::task::spawn_blocking(move || {
        file.rewind().expect("rewind");
        let mut chunk = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            let count = file.read(&mut chunk).expect("read");
            if count == 0 {
                return total;
            }
            total += count;
            std::hint::black_box(&chunk[..count]);
        }
    })
    .await
    .expect("reader");
    assert_eq!(read, written);
    read
}

/// Writes `reader` into `file` (see `plain_to_file`); returns the file and the bytes written.
async fn plain_into(mut reader: impl tokio::io::AsyncRead + Unpin, file: std::fs::File) -> (std::fs::File, usize) {
    use std::io::Write;
    type Job = tokio::task::JoinHandle<(std::fs::File, Vec<u8>)>;
    let mut file = Some(file);
    let mut pending: Option<Job> = None;
    let mut spare: Option<Vec<u8>> = None;
    let mut chunk = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let mut filled = 0;
        while filled < chunk.len() {
            let count = reader.read(&mut chunk[filled..]).await.expect("read");
            if count == 0 {
                break;
            }
            filled += count;
        }
        if let Some(job) = pending.take() {
            let (done, emptied) = job.await.expect("writer");
            file = Some(done);
            spare = Some(emptied);
        }
        if filled == 0 {
            break;
        }
        let full = std::mem::replace(&mut chunk, spare.take().unwrap_or_else(|| vec![0u8; 1 << 20]));
        let mut current = file.take().expect("returned by the job");
        pending = Some(tokio::task::spawn_blocking(move || {
            current.write_all(&full[..filled]).expect("write");
            (current, full)
        }));
        total += filled;
    }
    (file.expect("returned by the job"), total)
}

/// A plain multipart upload of `body` in `part_size` parts, `in_flight` at once.
async fn plain_multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    part_size: usize,
    in_flight: usize,
) {
    let created = s3.create_multipart_upload().bucket(bucket).key(key).send().await.expect("create");
    let upload_id = created.upload_id().expect("upload id").to_owned();
    let mut running = std::collections::VecDeque::new();
    let mut parts = Vec::new();
    for (index, chunk) in body.chunks(part_size).enumerate() {
        if running.len() >= in_flight {
            let handle: tokio::task::JoinHandle<CompletedPart> = running.pop_front().expect("running");
            parts.push(handle.await.expect("part"));
        }
        let number = index as i32 + 1;
        // The part is copied out of the caller's buffer, as envelope's encryption copies it.
        let request = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()));
        running.push_back(tokio::spawn(async move {
            let output = request.send().await.expect("upload part");
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(output.e_tag().map(str::to_owned))
                .set_checksum_crc32(output.checksum_crc32().map(str::to_owned))
                .build()
        }));
    }
    for handle in running {
        parts.push(handle.await.expect("part"));
    }
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .expect("complete");
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
    if !args.gets_only {
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
    }

    // 2. Plain aws-sdk-s3 (--gets-only: the object uploaded untimed, for more get rounds).
    if args.gets_only {
        let body = ByteStream::from(plaintext.clone());
        s3.put_object().bucket(&args.bucket).key("plain").body(body).send().await.expect("put");
    } else {
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
                "aws-sdk-s3 multipart upload (8 MiB parts)",
                size,
                rounds,
                || (),
                |()| plain_multipart(&s3, &args.bucket, "plain-multipart", &plaintext, DEFAULT_PART_SIZE, 2),
            )
            .await,
        );
    }
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
    phases.push(
        measure(
            "aws-sdk-s3 GetObject through a spool file",
            size,
            rounds,
            || (),
            |()| async {
                let out = s3.get_object().bucket(&args.bucket).key("plain").send().await.expect("get");
                assert_eq!(plain_through_spool(out.body.into_async_read()).await, size);
            },
        )
        .await,
    );

    let plain_file = args.dir.join("s3_bench-plain.bin");
    for (name, sync) in [("aws-sdk-s3 GetObject to a file", false), ("aws-sdk-s3 GetObject to a file + fsync", true)] {
        phases.push(
            measure(
                name,
                size,
                rounds,
                // Each round writes a new file: the last round's is deleted off the clock.
                || drop(std::fs::remove_file(&plain_file)),
                |()| async {
                    let out = s3.get_object().bucket(&args.bucket).key("plain").send().await.expect("get");
                    assert_eq!(plain_to_file(out.body.into_async_read(), &plain_file, sync).await, size);
                },
            )
            .await,
        );
        let _ = std::fs::remove_file(&plain_file);
    }

    // 3. envelope.
    let client = S3EncryptionClient::new(s3.clone(), crypto.clone());
    // Where a verified get's time goes: until get_object returns (download, spool write and tag
    // check, overlapped) and after (the release pass the caller reads).
    let split = std::cell::RefCell::new(Vec::<(f64, f64)>::new());
    if args.gets_only {
        client.put_object(&args.bucket, "encrypted", &plaintext[..], &PutOptions::new()).await.expect("put");
    } else {
        phases.push(
            measure(
                "envelope put_object",
                size,
                rounds,
                || (),
                |()| async {
                    client
                        .put_object(&args.bucket, "encrypted", &plaintext[..], &PutOptions::new())
                        .await
                        .expect("put");
                },
            )
            .await,
        );
    }
    phases.push(
        measure(
            "envelope get_object (verify first, spool)",
            size,
            rounds,
            || (),
            |()| async {
                let start = Instant::now();
                let object = client.get_object(&args.bucket, "encrypted", &no_context).await.expect("get");
                let returned = start.elapsed().as_secs_f64();
                assert_eq!(drain(object).await, size);
                split.borrow_mut().push((returned, start.elapsed().as_secs_f64() - returned));
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

    let envelope_file = args.dir.join("s3_bench-envelope.bin");
    for (name, sync) in [("envelope get_to_path", false), ("envelope get_to_path + fsync", true)] {
        let options = DownloadOptions::new().sync(sync);
        phases.push(
            measure(
                name,
                size,
                rounds,
                || drop(std::fs::remove_file(&envelope_file)),
                |()| async {
                    let download = client
                        .get_to_path(&args.bucket, "encrypted", &envelope_file, &no_context, &options)
                        .await
                        .expect("get_to_path");
                    assert_eq!(download.plaintext_length, size as u64);
                },
            )
            .await,
        );
        let _ = std::fs::remove_file(&envelope_file);
    }

    for phase in &phases {
        let mb_per_s = phase.bytes as f64 / 1e6 / phase.seconds;
        if args.json {
            println!(
                "{{\"phase\":{:?},\"bytes\":{},\"seconds\":{:.4},\"best_seconds\":{:.4},\"mb_per_s\":{:.1},\"peak_rss_growth_mib\":{},\"peak_rss_mib\":{}}}",
                phase.name,
                phase.bytes,
                phase.seconds,
                phase.best,
                mb_per_s,
                phase.peak_growth_mib.map_or("null".into(), |v| format!("{v:.1}")),
                phase.peak_rss_mib.map_or("null".into(), |v| format!("{v:.1}")),
            );
        } else {
            println!(
                "{:<42} {:>9.1} MB/s (best {:>7.1})  peak RSS +{} MiB",
                phase.name,
                mb_per_s,
                phase.bytes as f64 / 1e6 / phase.best,
                phase.peak_growth_mib.map_or("?".into(), |v| format!("{v:.0}"))
            );
        }
    }
    for (returned, released) in split.borrow().iter() {
        if args.json {
            println!(
                "{{\"split\":\"envelope get_object (verify first, spool)\",\"download_and_check_s\":{returned:.4},\"release_s\":{released:.4}}}"
            );
        } else {
            println!("get_object verify first: download + check {returned:.3} s, release {released:.3} s");
        }
    }
    // envelope's time over plain aws-sdk-s3's for the same bytes in this run (issue 12: ≤ 1.10).
    let seconds = |name: &str| phases.iter().find(|phase| phase.name == name).map(|phase| (phase.seconds, phase.best));
    for (label, envelope, plain) in [
        ("put: envelope / plain PutObject", "envelope put_object", "aws-sdk-s3 PutObject"),
        ("put: envelope / plain multipart", "envelope put_object", "aws-sdk-s3 multipart upload (8 MiB parts)"),
        ("get: envelope verify first / plain", "envelope get_object (verify first, spool)", "aws-sdk-s3 GetObject"),
        ("get: plain through a spool / plain", "aws-sdk-s3 GetObject through a spool file", "aws-sdk-s3 GetObject"),
        (
            "get: envelope verify first / spool floor",
            "envelope get_object (verify first, spool)",
            "aws-sdk-s3 GetObject through a spool file",
        ),
        ("get: envelope delayed / plain", "envelope get_object (delayed auth)", "aws-sdk-s3 GetObject"),
        ("get to file: envelope / plain", "envelope get_to_path", "aws-sdk-s3 GetObject to a file"),
        (
            "get to file + fsync: envelope / plain",
            "envelope get_to_path + fsync",
            "aws-sdk-s3 GetObject to a file + fsync",
        ),
    ] {
        if let (Some(envelope), Some(plain)) = (seconds(envelope), seconds(plain)) {
            if args.json {
                println!(
                    "{{\"ratio\":{label:?},\"time_ratio\":{:.3},\"best_time_ratio\":{:.3}}}",
                    envelope.0 / plain.0,
                    envelope.1 / plain.1
                );
            } else {
                println!(
                    "{label:<42} {:>9.2}x time (best over best {:.2}x)",
                    envelope.0 / plain.0,
                    envelope.1 / plain.1
                );
            }
        }
    }
}
