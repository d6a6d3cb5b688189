//! The bounds of envelope's throughput on this machine, one core each: SHA-384 (the whole-message
//! hash of the signed suites, which cannot be split) and AES-256-GCM (the content cipher), both
//! from aws-lc-rs as envelope uses them, and RustCrypto's `sha2` SHA-384 for comparison (compare
//! with `openssl speed -evp sha384` for OpenSSL's). Run it in the same minute as `envelope speed` to tell how
//! close a figure is to what the machine allows.
//!
//! ```text
//! cargo run --release --example hash_bound [seconds per measurement, default 2]
//! ```
//!
//! Prints one JSON line per primitive: MB/s over 1 MiB inputs (MB = 10^6 bytes, as `envelope
//! speed` reports).

use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::digest::{Context, SHA384};

const CHUNK: usize = 1 << 20;

/// Runs `work` on 1 MiB chunks for `seconds`; MB/s.
fn rate(seconds: f64, mut work: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut chunks = 0u64;
    while start.elapsed() < budget {
        work();
        chunks += 1;
    }
    (chunks as f64 * CHUNK as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let data = vec![0x5au8; CHUNK];

    // One running hash over many chunks, as a signed message's body is hashed.
    let mut hash = Context::new(&SHA384);
    let sha384 = rate(seconds, || hash.update(&data));
    std::hint::black_box(hash.finish());

    let mut rust_crypto = <sha2::Sha384 as sha2::Digest>::new();
    let sha384_sha2 = rate(seconds, || sha2::Digest::update(&mut rust_crypto, &data));
    std::hint::black_box(sha2::Digest::finalize(rust_crypto));

    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("a 32-byte key"));
    let mut buffer = data.clone();
    let aes_gcm = rate(seconds, || {
        // A measurement only: the ciphertexts are thrown away, so the repeated nonce protects nothing.
        let nonce = Nonce::assume_unique_for_key([0u8; 12]);
        let tag = key.seal_in_place_separate_tag(nonce, Aad::empty(), &mut buffer).expect("seal");
        let _ = std::hint::black_box(tag);
    });

    println!("{{\"primitive\":\"SHA-384 (aws-lc-rs)\",\"mb_per_s\":{sha384:.1}}}");
    println!("{{\"primitive\":\"SHA-384 (sha2)\",\"mb_per_s\":{sha384_sha2:.1}}}");
    println!("{{\"primitive\":\"AES-256-GCM seal (aws-lc-rs)\",\"mb_per_s\":{aes_gcm:.1}}}");
}
