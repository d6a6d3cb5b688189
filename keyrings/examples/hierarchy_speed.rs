//! Hierarchical keyring throughput against the raw AES keyring, in one run: warm branch key
//! cache, 1 KiB messages, suite 0x0478, one message at a time on the calling thread.
//!
//! `cargo run --release -p envelope-keyrings --example hierarchy_speed [SECONDS_PER_MEASURE]`
//!
//! Both keyrings pay for the data key, the message and its key commitment; the hierarchy keyring
//! adds a cache lookup, an HMAC-SHA256 derivation and an AES-256-GCM key schedule per message.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use envelope::blocking::BlockingClient;
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, Keyring};
use envelope_keyrings::RawAesKeyring;
use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let seconds: f64 = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| format!("not a number of seconds: {text:?}"))?,
        None => 2.0,
    };
    let measure = Duration::from_secs_f64(seconds);
    let suite = AlgorithmSuite::from_id(0x0478).ok_or("suite 0x0478 is missing")?;
    let plaintext = vec![0x5a_u8; 1024];

    let mut store = StaticKeyStore::new("speed");
    let branch_key = BranchKeySecret::from_slice(&[7; 32])?;
    let version = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
    store.add_branch_key(BranchKeyMaterials::new("speed-branch-key", version, BTreeMap::new(), branch_key)?, true)?;
    let hierarchy =
        HierarchicalKeyring::builder(store).branch_key_id("speed-branch-key").ttl(Duration::from_secs(600)).build()?;
    let raw_aes = RawAesKeyring::new("speed", "aes-256", vec![9; 32])?;

    println!("1 KiB messages, suite 0x0478, {seconds} s per figure");
    let aes = rates("raw AES", raw_aes, suite, &plaintext, measure)?;
    let hier = rates("hierarchy", hierarchy, suite, &plaintext, measure)?;
    println!(
        "raw AES / hierarchy: encrypt {:.2}x, decrypt {:.2}x (target: at most 1.5x, and >= 50000/s)",
        aes.0 / hier.0,
        aes.1 / hier.1
    );
    Ok(())
}

/// Encrypts and decrypts per second through `keyring`, after one warm-up message (which fills
/// the hierarchy keyring's cache).
fn rates(
    name: &str,
    keyring: impl Keyring + 'static,
    suite: AlgorithmSuite,
    plaintext: &[u8],
    measure: Duration,
) -> Result<(f64, f64), Failure> {
    let client = BlockingClient::new(Client::with_keyring(keyring));
    let options = EncryptOptions::new().algorithm_suite(suite);
    let message = client.encrypt(plaintext, &options)?;
    client.decrypt(&message, &DecryptOptions::new())?;

    let encrypts = per_second(measure, || client.encrypt(plaintext, &options).map(drop))?;
    let decrypt_options = DecryptOptions::new();
    let decrypts = per_second(measure, || client.decrypt(&message, &decrypt_options).map(drop))?;
    println!("{name:>10}: {encrypts:>9.0} encrypts/s  {decrypts:>9.0} decrypts/s");
    Ok((encrypts, decrypts))
}

fn per_second(measure: Duration, mut operation: impl FnMut() -> envelope::Result<()>) -> Result<f64, Failure> {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < measure {
        for _ in 0..100 {
            operation()?;
        }
        count += 100;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}
