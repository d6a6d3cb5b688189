//! Audit events are written by one background thread in batches, from a bounded queue.
//!
//! Durability tradeoff: key, alias, grant and policy writes commit before the response, but audit
//! events are queued and committed about 20 ms after it at most, in batches of up to 5,000 per
//! transaction. A crash can lose the last ~20 ms of audit events and nothing else; this keeps
//! SQLite's commit off the hot path of every cryptographic request, and under load one commit
//! covers hundreds of events.
//!
//! Back-pressure: a request takes a queue slot ([`AuditSink::reserve`]) before it runs and the
//! writer gives slots back once their events are committed, so when the disk falls behind,
//! requests wait for room instead of the queue growing without bound.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use rusqlite::params;
use tokio::sync::Semaphore;

/// Most events committed in one transaction.
const MAX_BATCH: usize = 5000;

/// One event to store.
#[derive(Debug)]
pub(crate) struct AuditRecord {
    /// Epoch seconds.
    pub(crate) event_time: i64,
    /// Key ARN the event concerns, if any.
    pub(crate) key_arn: Option<String>,
    /// Operation name.
    pub(crate) event_name: String,
    /// True when the request succeeded.
    pub(crate) ok: bool,
    /// The CloudTrail-style JSON.
    pub(crate) json: String,
}

enum Msg {
    Event(AuditRecord),
    /// Flush and stop; the sender of the reply waits for the writer to finish.
    Stop,
}

/// Queue occupancy, shared by the sink and its writer.
#[derive(Debug)]
struct Queue {
    /// Free slots; a slot is taken per queued event and given back when it is committed.
    slots: Semaphore,
    /// Events queued and not yet committed.
    len: AtomicUsize,
    /// Largest `len` seen.
    peak: AtomicUsize,
}

impl Queue {
    fn pushed(&self) {
        let len = self.len.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(len, Ordering::Relaxed);
    }

    fn drained(&self, n: usize) {
        self.len.fetch_sub(n, Ordering::Relaxed);
        self.slots.add_permits(n);
    }
}

/// Room for one audit event in the queue, taken before a request runs. Dropped unused, it gives
/// the room back.
#[derive(Debug)]
pub(crate) struct AuditSlot {
    queue: Arc<Queue>,
    used: bool,
}

impl Drop for AuditSlot {
    fn drop(&mut self) {
        if !self.used {
            self.queue.slots.add_permits(1);
        }
    }
}

/// Sender side of the audit writer.
#[derive(Debug)]
pub(crate) struct AuditSink {
    tx: mpsc::Sender<Msg>,
    queue: Arc<Queue>,
    worker: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl AuditSink {
    /// Starts the writer thread on its own connection, with room for `capacity` queued events.
    pub(crate) fn start(data_dir: &Path, capacity: usize) -> Result<Self, super::StoreError> {
        let conn = super::open_conn(&super::db_path(data_dir))?;
        // The audit connection trades per-event fsync for throughput (see module docs).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (tx, rx) = mpsc::channel::<Msg>();
        let queue = Arc::new(Queue {
            slots: Semaphore::new(capacity.clamp(1, Semaphore::MAX_PERMITS)),
            len: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        let writer_queue = queue.clone();
        let worker = std::thread::Builder::new()
            .name("kms-audit-writer".into())
            .spawn(move || writer(conn, rx, &writer_queue))
            .map_err(|e| super::StoreError::Corrupt(format!("audit thread: {e}")))?;
        Ok(Self { tx, queue, worker: std::sync::Mutex::new(Some(worker)) })
    }

    /// Waits until the queue has room for one more event and takes it.
    pub(crate) async fn reserve(&self) -> AuditSlot {
        // The writer gives the slot back after the commit, not the permit's guard. The semaphore
        // is never closed, so acquiring cannot fail.
        if let Ok(permit) = self.queue.slots.acquire().await {
            permit.forget();
        }
        AuditSlot { queue: self.queue.clone(), used: false }
    }

    /// Queues an event in the room `slot` holds; never blocks.
    pub(crate) fn record(&self, mut slot: AuditSlot, rec: AuditRecord) {
        slot.used = true;
        self.queue.pushed();
        if self.tx.send(Msg::Event(rec)).is_err() {
            // Writer gone (after close): nothing will drain this event.
            self.queue.drained(1);
        }
    }

    /// Events queued and not yet committed.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len.load(Ordering::Relaxed)
    }

    /// The most events ever queued at once.
    pub(crate) fn peak(&self) -> usize {
        self.queue.peak.load(Ordering::Relaxed)
    }

    /// Flushes every queued event and stops the writer.
    pub(crate) fn close(&self) {
        let _ = self.tx.send(Msg::Stop);
        let worker = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = worker {
            let _ = w.join();
        }
    }
}

impl Drop for AuditSink {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer(mut conn: rusqlite::Connection, rx: mpsc::Receiver<Msg>, queue: &Queue) {
    let mut stop = false;
    while !stop {
        let Ok(first) = rx.recv() else { break };
        let mut batch = Vec::new();
        match first {
            Msg::Event(r) => batch.push(r),
            Msg::Stop => stop = true,
        }
        while !stop && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Event(r)) => batch.push(r),
                Ok(Msg::Stop) => stop = true,
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO audit_events(event_time, key_arn, event_name, ok, json) VALUES(?1, ?2, ?3, ?4, ?5)",
                )?;
                for r in &batch {
                    stmt.execute(params![r.event_time, r.key_arn, r.event_name, r.ok, r.json])?;
                }
            }
            tx.commit()
        })();
        if let Err(e) = result {
            tracing::error!("audit write failed, {} events lost: {e}", batch.len());
        }
        queue.drained(batch.len());
        // Let the next batch accumulate: fewer, larger commits when busy; a lone event still
        // lands within this pause.
        if !stop {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
