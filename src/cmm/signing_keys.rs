//! Signing keys generated ahead of time on a background thread.
//!
//! A signed message needs a fresh ECDSA key pair; on P-384 generating it costs about as much as
//! signing. A materials manager that keeps encrypting signed messages gets its keys from a small
//! queue that another core refills, so each message pays only for the signature. The refill thread
//! starts only after a few signed messages (a manager made per request never starts one), stops
//! when the manager is dropped, and never blocks an encryption: an empty queue means the key is
//! generated inline, as without the pool.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Mutex, OnceLock};

use crate::crypto::signature::SigningKey;
use crate::error::Result;
use crate::suite::SignatureAlgorithm;

/// Signed messages after which the refill thread starts.
const WARM_UP: u32 = 16;
/// Keys kept ready.
const DEPTH: usize = 8;

/// Ready-made signing keys for one algorithm (a manager holds one per algorithm it uses).
#[derive(Debug, Default)]
pub(crate) struct SigningKeyPool {
    p256: Queue,
    p384: Queue,
}

#[derive(Debug, Default)]
struct Queue {
    uses: AtomicU32,
    ready: OnceLock<Mutex<Receiver<SigningKey>>>,
}

impl SigningKeyPool {
    /// A fresh key for `algorithm`: from the queue when one is ready, else generated now.
    pub(crate) fn take(&self, algorithm: SignatureAlgorithm) -> Result<SigningKey> {
        let queue = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &self.p256,
            SignatureAlgorithm::EcdsaP384Sha384 => &self.p384,
        };
        if let Some(ready) = queue.ready.get() {
            if let Ok(receiver) = ready.try_lock() {
                if let Ok(key) = receiver.try_recv() {
                    return Ok(key);
                }
            }
        } else if queue.uses.fetch_add(1, Ordering::Relaxed) == WARM_UP {
            queue.ready.get_or_init(|| Mutex::new(spawn_refill(algorithm)));
        }
        SigningKey::generate(algorithm)
    }
}

/// Starts a thread that keeps `DEPTH` keys queued; it ends when the receiver is dropped.
fn spawn_refill(algorithm: SignatureAlgorithm) -> Receiver<SigningKey> {
    let (sender, receiver) = sync_channel(DEPTH);
    let started = std::thread::Builder::new().name("envelope-signing-keys".into()).spawn(move || {
        while let Ok(key) = SigningKey::generate(algorithm) {
            if sender.send(key).is_err() {
                break;
            }
        }
    });
    if let Err(error) = started {
        // Without the thread the queue stays empty and every key is generated inline.
        tracing::debug!("signing key refill thread not started: {error}");
    }
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_and_the_pool_fills_after_warm_up() {
        let pool = SigningKeyPool::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(WARM_UP as usize + 3 * DEPTH) {
            let key = pool.take(SignatureAlgorithm::EcdsaP384Sha384).unwrap();
            assert!(seen.insert(key.public_key_compressed().to_vec()), "a signing key was handed out twice");
        }
        assert!(pool.p384.ready.get().is_some(), "the refill thread started after the warm-up");
        assert!(pool.p256.ready.get().is_none(), "no thread for an unused algorithm");
    }
}
