//! A hash that runs on another core.
//!
//! SHA-384 is the slowest step of a signed stream (about a tenth of AES-GCM's speed) and cannot be
//! split, so a stream that hashes on its own thread runs at AES speed plus the hash, one after the
//! other. Here the caller copies its bytes into a batch (a copy is some twenty times cheaper than
//! hashing them) and a worker thread hashes full batches in order while the caller goes on
//! sealing or opening frames. Memory stays bounded: at most `BATCHES` batches exist, and the
//! caller waits for the worker when all of them are in use.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use aws_lc_rs::digest;

use crate::error::{Error, Result};

/// Bytes handed to the worker at a time.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches in existence at most (being filled, queued, or being hashed).
const BATCHES: usize = 4;

/// A running digest whose updates are hashed on a worker thread, in order.
pub(crate) struct BackgroundHasher {
    batch: Vec<u8>,
    batches_made: usize,
    to_worker: Option<SyncSender<Vec<u8>>>,
    /// In a mutex only so that streams holding this stay `Sync` (a receiver is not); it is only
    /// reached through `&mut self`, so it is never locked.
    returned: Mutex<Receiver<Vec<u8>>>,
    worker: Option<JoinHandle<digest::Context>>,
    /// Set when the worker went away early; `finish` reports it.
    broken: bool,
}

impl BackgroundHasher {
    /// Moves `context` to a new worker thread; `None` if no thread can start.
    pub(crate) fn start(context: digest::Context) -> Option<BackgroundHasher> {
        let (to_worker, incoming) = mpsc::sync_channel::<Vec<u8>>(BATCHES);
        let (give_back, returned) = mpsc::channel::<Vec<u8>>();
        let mut worker_context = context;
        let spawned = std::thread::Builder::new().name("envelope-hash".into()).spawn(move || {
            for mut batch in incoming {
                worker_context.update(&batch);
                batch.clear();
                // The caller may be gone already (an abandoned stream); the batch is then dropped.
                let _ = give_back.send(batch);
            }
            worker_context
        });
        match spawned {
            Ok(worker) => Some(BackgroundHasher {
                batch: Vec::with_capacity(BATCH_BYTES),
                batches_made: 1,
                to_worker: Some(to_worker),
                returned: Mutex::new(returned),
                worker: Some(worker),
                broken: false,
            }),
            Err(error) => {
                tracing::debug!("hashing stays on the calling thread: {error}");
                None
            }
        }
    }

    /// Adds bytes (copied; the worker hashes them later, in order).
    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (BATCH_BYTES - self.batch.len()).min(bytes.len());
            self.batch.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.batch.len() == BATCH_BYTES {
                self.hand_over();
            }
        }
    }

    /// Waits for the worker to hash everything and returns the context.
    pub(crate) fn finish(mut self) -> Result<digest::Context> {
        if !self.batch.is_empty() {
            self.hand_over();
        }
        drop(self.to_worker.take());
        let joined = self.worker.take().map(JoinHandle::join);
        match joined {
            Some(Ok(context)) if !self.broken => Ok(context),
            _ => Err(Error::internal("the hashing thread stopped before the message ended")),
        }
    }

    /// Queues the filled batch and takes an empty one: a returned one, a new one while fewer than
    /// `BATCHES` exist, or else the next one the worker returns.
    fn hand_over(&mut self) {
        let returned = self.returned.get_mut().unwrap_or_else(PoisonError::into_inner);
        let next = match returned.try_recv() {
            Ok(batch) => Some(batch),
            Err(_) if self.batches_made < BATCHES => {
                self.batches_made += 1;
                Some(Vec::with_capacity(BATCH_BYTES))
            }
            Err(_) => None,
        };
        let full = std::mem::take(&mut self.batch);
        let sent = self.to_worker.as_ref().is_some_and(|sender| sender.send(full).is_ok());
        if !sent {
            self.broken = true;
        }
        self.batch = match next {
            Some(batch) => batch,
            None if sent => returned.recv().unwrap_or_else(|_| {
                self.broken = true;
                Vec::with_capacity(BATCH_BYTES)
            }),
            None => Vec::with_capacity(BATCH_BYTES),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_inline_digest_for_odd_sized_updates() {
        let data: Vec<u8> = (0..(3 * BATCH_BYTES * BATCHES + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
        let mut background = BackgroundHasher::start(digest::Context::new(&digest::SHA384)).unwrap();
        let mut inline = digest::Context::new(&digest::SHA384);
        for piece in data.chunks(4_123) {
            background.update(piece);
            inline.update(piece);
        }
        let background = background.finish().unwrap().finish();
        assert_eq!(background.as_ref(), inline.finish().as_ref());
    }

    #[test]
    fn an_empty_background_hash_is_the_empty_digest() {
        let background = BackgroundHasher::start(digest::Context::new(&digest::SHA384)).unwrap();
        let expected = digest::digest(&digest::SHA384, b"");
        assert_eq!(background.finish().unwrap().finish().as_ref(), expected.as_ref());
    }
}
