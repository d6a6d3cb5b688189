//! S3 put/get throughput and memory, envelope against plain aws-sdk-s3 in the same run, for the
//! figures of issue 12. Not run by CI (built only); see benches/s3/README.md.
//!
//! ```text
//! s3_bench --endpoint http://127.0.0.1:PORT [--bucket NAME] [--size-mib N] [--rounds N] [--dir DIR] [--json] [--gets-only]
//!          [--link-mb-per-s N]
//! ```
//!
//! `--link-mb-per-s N` puts every request (plain and envelope alike) through a loopback proxy
//! that paces each direction to N MB/s, shared by all connections: the network as the bound, as
//! with a remote S3, instead of moto's CPU on this machine.
//!
//! Phases, each timed and with this process's peak RSS growth (Linux `clear_refs`/`VmHWM`):
//! 1. crypto only: the body encrypted and decrypted in memory (one-shot AES-GCM, the input
//!    copied before the clock starts) and streamed (the incremental GCM the client uses for
//!    multipart puts and large gets), no network;
//! 2. the network, in passes that each run every phase below once, `--rounds` passes: plain
//!    aws-sdk-s3 PutObject of the same bytes from memory (one request), a plain multipart upload
//!    in parts of envelope's size with as many in flight (what a user uploading large objects
//!    would run), envelope's `put_object` (multipart above 8 MiB in 8 MiB parts); plain
//!    GetObject into a sink, envelope's `get_object` into a sink (verified first: in memory up
//!    to 8 MiB, through the spool file above; then with delayed authentication, streamed);
//!    plain GetObject written to a new file in `--dir` (1 MiB writes overlapping the download)
//!    beside envelope's `get_to_path` (verified first, decrypted straight into a temporary file
//!    named once the tag verified), both without and then with the fsync;
//! 3. the time ratios envelope / plain (issue 12 asks ≤ 1.10), each against its fair baseline:
//!    of the means, and the median of the passes' own ratios (both sides of one pass ran within
//!    the same seconds, so it is the figure a noisy machine disturbs least). The verified
//!    `get_object` also reports, per pass, the time until it returned (download, spool write and
//!    tag check) and the release after it: the part no verified-first stream can overlap with
//!    the download.
//!
//! The key is a raw AES-256 key, so the figures are S3 and the content cipher, not KMS.
//!
//! A failed step (a request the server refuses, a short body, a file that cannot be written)
//! ends the run through `expect`, whose message names the step: a bench has no partial result
//! worth returning, and a figure measured around a failure would be wrong.

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
    link_mb_per_s: Option<f64>,
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
        link_mb_per_s: None,
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
            "--link-mb-per-s" => {
                let rate = value()?.parse::<f64>().map_err(|e| e.to_string())?;
                if !rate.is_finite() || rate <= 0.0 {
                    return Err("--link-mb-per-s needs a positive rate".into());
                }
                args.link_mb_per_s = Some(rate);
            }
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
    /// Each round's time, in the order run (pass by pass for the network phases).
    rounds: Vec<f64>,
    bytes: usize,
    peak_growth_mib: Option<f64>,
    peak_rss_mib: Option<f64>,
}

impl Phase {
    fn mean(&self) -> f64 {
        self.rounds.iter().sum::<f64>() / self.rounds.len() as f64
    }

    fn best(&self) -> f64 {
        self.rounds.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() % 2 {
        0 if middle > 0 => (values[middle - 1] + values[middle]) / 2.0,
        _ => values.get(middle).copied().unwrap_or(f64::NAN),
    }
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
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let input = setup();
        let start = Instant::now();
        let output = run(input).await;
        let elapsed = start.elapsed().as_secs_f64();
        times.push(elapsed);
        drop(std::hint::black_box(output));
    }
    let peak = status_kib("VmHWM:");
    Phase {
        name,
        rounds: times,
        bytes,
        peak_growth_mib: base.zip(peak).map(|(base, peak)| peak.saturating_sub(base) as f64 / 1024.0),
        peak_rss_mib: peak.map(|peak| peak as f64 / 1024.0),
    }
}

/// One direction of a paced link: each chunk passes at the earliest when the chunks before it
/// (on any connection) have had their time at the link's rate. Up to [`PACER_BURST`] of unused
/// time carries over, since the timer wakes a sleeper up to a millisecond late (without it, a
/// fast link would run at one chunk per timer tick).
struct Pacer {
    next_free: std::sync::Mutex<Instant>,
    bytes_per_s: f64,
}

const PACER_BURST: std::time::Duration = std::time::Duration::from_millis(5);

impl Pacer {
    async fn pass(&self, bytes: usize) {
        let due = {
            // Nothing in this block panics, so the lock is never poisoned; the time is valid either way.
            let mut next_free = self.next_free.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let start = (*next_free).max(now.checked_sub(PACER_BURST).unwrap_or(now));
            *next_free = start + std::time::Duration::from_secs_f64(bytes as f64 / self.bytes_per_s);
            *next_free
        };
        tokio::time::sleep_until(due.into()).await;
    }
}

/// Starts a loopback TCP proxy to `endpoint` (`http://HOST:PORT`) whose two directions are each
/// paced to `mb_per_s`; returns its endpoint URL.
async fn paced_link(endpoint: &str, mb_per_s: f64) -> String {
    let upstream = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the link");
    let address = listener.local_addr().expect("link address");
    let pacer = || std::sync::Arc::new(Pacer { next_free: Instant::now().into(), bytes_per_s: mb_per_s * 1e6 });
    let (up, down) = (pacer(), pacer());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { continue };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let ((client_in, client_out), (server_in, server_out)) = (client.into_split(), server.into_split());
            tokio::spawn(pump(client_in, server_out, up.clone()));
            tokio::spawn(pump(server_in, client_out, down.clone()));
        }
    });
    format!("http://{address}")
}

/// Copies one direction of a proxied connection through `pacer` until either side closes.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    pacer: std::sync::Arc<Pacer>,
) {
    use tokio::io::AsyncWriteExt;
    let mut chunk = vec![0u8; 64 << 10];
    while let Ok(count @ 1..) = from.read(&mut chunk).await {
        pacer.pass(count).await;
        if to.write_all(&chunk[..count]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// The larger of two peaks, either of which may be unknown (off Linux).
fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// One pass's phases, each a single round.
type PhaseRun<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Phase> + 'a>>;

/// Runs `phases` in the order given rotated by `pass`, so that each phase of a group runs first
/// as often as the others over the passes: the first phase of a group is the one that pays for
/// what came before (moto growing its memory again after the gets, say, which costs a put up to
/// a third of its time here).
async fn in_turn(pass: usize, mut phases: Vec<PhaseRun<'_>>, into: &mut Vec<Phase>) {
    let count = phases.len().max(1);
    phases.rotate_left(pass % count);
    for phase in phases {
        into.push(phase.await);
    }
}

/// One phase per name out of the passes' single-round phases, in first-run order: every
/// round's time, the largest peak.
fn merge_passes(passes: Vec<Phase>) -> Vec<Phase> {
    let mut merged: Vec<Phase> = Vec::new();
    for phase in passes {
        match merged.iter_mut().find(|seen| seen.name == phase.name) {
            Some(seen) => {
                seen.rounds.extend(phase.rounds);
                seen.peak_growth_mib = larger(seen.peak_growth_mib, phase.peak_growth_mib);
                seen.peak_rss_mib = larger(seen.peak_rss_mib, phase.peak_rss_mib);
            }
            None => merged.push(phase),
        }
    }
    merged
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

/// Writes `reader` into `file` (see `plain_to_file`): one job on the blocking pool writes the
/// 1 MiB pieces in order while the next ones download (at most four pieces exist, reused), the
/// shape of envelope's own file pipeline; returns the file and the bytes written.
async fn plain_into(mut reader: impl tokio::io::AsyncRead + Unpin, file: std::fs::File) -> (std::fs::File, usize) {
    use std::io::Write;
    const PIECES: usize = 4;
    let (to_writer, mut pieces) = tokio::sync::mpsc::channel::<(Vec<u8>, usize)>(1);
    let (give_back, mut returned) = tokio::sync::mpsc::channel::<Vec<u8>>(PIECES);
    let writer = tokio::task::spawn_blocking(move || {
        let mut file = file;
        while let Some((piece, count)) = pieces.blocking_recv() {
            file.write_all(&piece[..count]).expect("write");
            let _ = give_back.try_send(piece);
        }
        file
    });
    let (mut allocated, mut total) = (0, 0);
    loop {
        let mut piece = match returned.try_recv() {
            Ok(piece) => piece,
            Err(_) if allocated < PIECES => {
                allocated += 1;
                vec![0u8; 1 << 20]
            }
            Err(_) => match returned.recv().await {
                Some(piece) => piece,
                None => break, // the writer stopped: its join below reports why
            },
        };
        let mut filled = 0;
        while filled < piece.len() {
            let count = reader.read(&mut piece[filled..]).await.expect("read");
            if count == 0 {
                break;
            }
            filled += count;
        }
        if filled == 0 {
            break;
        }
        total += filled;
        if to_writer.send((piece, filled)).await.is_err() {
            break; // the writer stopped: its join below reports why
        }
    }
    drop(to_writer);
    (writer.await.expect("writer"), total)
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
    let endpoint = match args.link_mb_per_s {
        Some(rate) => paced_link(&args.endpoint, rate).await,
        None => args.endpoint.clone(),
    };
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
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

    // 2. The network phases, plain aws-sdk-s3 beside envelope. Each pass runs every phase once,
    // and the passes repeat `--rounds` times, so a slow minute of a noisy machine falls on both
    // sides of a ratio instead of on one phase's rounds. (--gets-only: the gets alone, for more
    // passes in a short quiet window.)
    let client = S3EncryptionClient::new(s3.clone(), crypto.clone());
    let delayed = client.clone().authentication(Authentication::Delayed);
    let plain_file = args.dir.join("s3_bench-plain.bin");
    let envelope_file = args.dir.join("s3_bench-envelope.bin");
    // Where a verified get's time goes: until get_object returns (download, spool write and tag
    // check, overlapped) and after (the release pass the caller reads).
    let split = std::cell::RefCell::new(Vec::<(f64, f64)>::new());
    // The objects the gets read, uploaded once, untimed. The timed puts write other keys, each
    // overwriting its own object of the pass before: overwriting an object moto has served
    // costs more (its spooled copy is discarded), and no put should pay for the gets.
    {
        let body = ByteStream::from(plaintext.clone());
        s3.put_object().bucket(&args.bucket).key("plain").body(body).send().await.expect("put");
        client.put_object(&args.bucket, "encrypted", &plaintext[..], &PutOptions::new()).await.expect("put");
    }
    // Before each pass and after the last, off the clock: the file gets' files deleted and the
    // file system brought to rest (their writeback, the journal commit and the discards of the
    // fsync'd ones), so that it does not fall on the next pass's first phases; every file get
    // thus writes a new file.
    let settle = || {
        let _ = (std::fs::remove_file(&plain_file), std::fs::remove_file(&envelope_file));
        let _ = std::process::Command::new("sync").status();
    };
    let mut passes = Vec::new();
    for pass in 0..rounds {
        settle();
        if !args.gets_only {
            in_turn(
                pass,
                vec![
                    Box::pin(measure(
                        "aws-sdk-s3 PutObject",
                        size,
                        1,
                        || ByteStream::from(plaintext.clone()),
                        |body| async {
                            s3.put_object().bucket(&args.bucket).key("plain-put").body(body).send().await.expect("put");
                        },
                    )),
                    Box::pin(measure(
                        "aws-sdk-s3 multipart upload (8 MiB parts)",
                        size,
                        1,
                        || (),
                        |()| plain_multipart(&s3, &args.bucket, "plain-multipart", &plaintext, DEFAULT_PART_SIZE, 2),
                    )),
                    Box::pin(measure(
                        "envelope put_object",
                        size,
                        1,
                        || (),
                        |()| async {
                            client
                                .put_object(&args.bucket, "encrypted-put", &plaintext[..], &PutOptions::new())
                                .await
                                .expect("put");
                        },
                    )),
                ],
                &mut passes,
            )
            .await;
        }
        in_turn(
            pass,
            vec![
                Box::pin(measure(
                    "aws-sdk-s3 GetObject",
                    size,
                    1,
                    || (),
                    |()| async {
                        let out = s3.get_object().bucket(&args.bucket).key("plain").send().await.expect("get");
                        assert_eq!(drain(out.body.into_async_read()).await, size);
                    },
                )),
                Box::pin(measure(
                    "envelope get_object (verify first, spool)",
                    size,
                    1,
                    || (),
                    |()| async {
                        let start = Instant::now();
                        let object = client.get_object(&args.bucket, "encrypted", &no_context).await.expect("get");
                        let returned = start.elapsed().as_secs_f64();
                        assert_eq!(drain(object).await, size);
                        split.borrow_mut().push((returned, start.elapsed().as_secs_f64() - returned));
                    },
                )),
                Box::pin(measure(
                    "envelope get_object (delayed auth)",
                    size,
                    1,
                    || (),
                    |()| async {
                        let object = delayed.get_object(&args.bucket, "encrypted", &no_context).await.expect("get");
                        assert_eq!(drain(object).await, size);
                    },
                )),
            ],
            &mut passes,
        )
        .await;
        for sync in [false, true] {
            let (plain_name, envelope_name) = match sync {
                false => ("aws-sdk-s3 GetObject to a file", "envelope get_to_path"),
                true => ("aws-sdk-s3 GetObject to a file + fsync", "envelope get_to_path + fsync"),
            };
            let options = DownloadOptions::new().sync(sync);
            in_turn(
                pass,
                vec![
                    Box::pin(measure(
                        plain_name,
                        size,
                        1,
                        || (),
                        |()| async {
                            let out = s3.get_object().bucket(&args.bucket).key("plain").send().await.expect("get");
                            assert_eq!(plain_to_file(out.body.into_async_read(), &plain_file, sync).await, size);
                        },
                    )),
                    Box::pin(measure(
                        envelope_name,
                        size,
                        1,
                        || (),
                        |()| async {
                            let download = client
                                .get_to_path(&args.bucket, "encrypted", &envelope_file, &no_context, &options)
                                .await
                                .expect("get_to_path");
                            assert_eq!(download.plaintext_length, size as u64);
                        },
                    )),
                ],
                &mut passes,
            )
            .await;
        }
    }
    settle();
    phases.extend(merge_passes(passes));

    for phase in &phases {
        let rate = |seconds: f64| phase.bytes as f64 / 1e6 / seconds;
        let (mean, best, middle) = (phase.mean(), phase.best(), median(phase.rounds.clone()));
        if args.json {
            println!(
                "{{\"phase\":{:?},\"bytes\":{},\"seconds\":{mean:.4},\"median_seconds\":{middle:.4},\"best_seconds\":{best:.4},\"mb_per_s\":{:.1},\"peak_rss_growth_mib\":{},\"peak_rss_mib\":{}}}",
                phase.name,
                phase.bytes,
                rate(mean),
                phase.peak_growth_mib.map_or("null".into(), |v| format!("{v:.1}")),
                phase.peak_rss_mib.map_or("null".into(), |v| format!("{v:.1}")),
            );
        } else {
            println!(
                "{:<42} {:>7.1} MB/s (median {:>7.1}, best {:>7.1})  peak RSS +{} MiB",
                phase.name,
                rate(mean),
                rate(middle),
                rate(best),
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
    // envelope's time over plain aws-sdk-s3's for the same bytes in this run (issue 12: ≤ 1.10):
    // over the means, and the median of the passes' own ratios (each pass runs both phases within
    // the same seconds, so that one is the least disturbed by a noisy machine).
    let phase = |name: &str| phases.iter().find(|phase| phase.name == name);
    for (label, envelope, plain) in [
        ("put: envelope / plain PutObject", "envelope put_object", "aws-sdk-s3 PutObject"),
        ("put: envelope / plain multipart", "envelope put_object", "aws-sdk-s3 multipart upload (8 MiB parts)"),
        ("get: envelope verify first / plain", "envelope get_object (verify first, spool)", "aws-sdk-s3 GetObject"),
        ("get: envelope delayed / plain", "envelope get_object (delayed auth)", "aws-sdk-s3 GetObject"),
        ("get to file: envelope / plain", "envelope get_to_path", "aws-sdk-s3 GetObject to a file"),
        (
            "get to file + fsync: envelope / plain",
            "envelope get_to_path + fsync",
            "aws-sdk-s3 GetObject to a file + fsync",
        ),
    ] {
        let (Some(envelope), Some(plain)) = (phase(envelope), phase(plain)) else { continue };
        let of_means = envelope.mean() / plain.mean();
        let per_pass = median(envelope.rounds.iter().zip(&plain.rounds).map(|(e, p)| e / p).collect());
        if args.json {
            println!("{{\"ratio\":{label:?},\"time_ratio\":{of_means:.3},\"median_pass_ratio\":{per_pass:.3}}}");
        } else {
            println!("{label:<42} {of_means:>6.2}x time (median of the passes' ratios {per_pass:.2}x)");
        }
    }
}
