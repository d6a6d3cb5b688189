//! Streams a large message through the encrypting writer and the decrypting reader at once and
//! reports throughput and peak memory. Memory must stay O(frame length) whatever the size.
//!
//! `cargo run --release --example stream_memory -- [SIZE_MIB] [SUITE_HEX] [LIMIT_MIB]`
//! (defaults: 1024 MiB, 0578, 32 MiB). Exits 1 if peak RSS exceeds the limit.

use std::io::{self, Read};
use std::time::Instant;

use envelope::blocking::BlockingClient;
use envelope::{AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions};
use envelope_keyrings::RawAesKeyring;

/// Produces `remaining` bytes of a repeating pattern without holding them.
struct Pattern {
    remaining: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.remaining) as usize;
        for (i, byte) in buf[..n].iter_mut().enumerate() {
            *byte = (i % 251) as u8;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let size_mib: u64 = args.get(1).map_or(Ok(1024), |s| s.parse())?;
    let suite_id = u16::from_str_radix(args.get(2).map_or("0578", String::as_str), 16)?;
    let limit_mib: f64 = args.get(3).map_or(Ok(32.0), |s| s.parse())?;
    let suite = AlgorithmSuite::from_id(suite_id).ok_or("unknown suite")?;
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptAllowDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let client = Client::with_keyring(RawAesKeyring::new("bench", "aes-256", vec![7; 32])?).commitment_policy(policy);
    let size = size_mib << 20;
    let (pipe_reader, pipe_writer) = io::pipe()?;

    let start = Instant::now();
    let writer_client = client.clone();
    let encrypting = std::thread::spawn(move || -> envelope::Result<()> {
        let blocking = BlockingClient::new(writer_client);
        let options = EncryptOptions::new().algorithm_suite(suite);
        let mut writer = blocking.encrypting_writer(io::BufWriter::with_capacity(64 << 10, pipe_writer), &options)?;
        io::copy(&mut Pattern { remaining: size }, &mut writer)?;
        writer.finish()?;
        Ok(())
    });
    let blocking = BlockingClient::new(client);
    let mut reader = blocking.decrypting_reader(pipe_reader, &DecryptOptions::new())?;
    let mut buffer = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    encrypting.join().map_err(|_| "encrypting thread panicked")??;
    let seconds = start.elapsed().as_secs_f64();
    let peak = peak_rss_mib();
    println!(
        "{{\"suite\":\"0x{suite_id:04X}\",\"bytes\":{total},\"seconds\":{seconds:.2},\"mb_per_s\":{:.1},\"peak_rss_mib\":{peak:.1}}}",
        total as f64 / seconds / 1e6
    );
    if total != size {
        return Err(format!("decrypted {total} bytes, expected {size}").into());
    }
    if peak > limit_mib {
        eprintln!("peak RSS {peak:.1} MiB exceeds {limit_mib} MiB");
        std::process::exit(1);
    }
    Ok(())
}
