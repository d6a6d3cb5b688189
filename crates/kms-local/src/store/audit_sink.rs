//! Audit events are written by one background thread in batches.
//!
//! Durability tradeoff: key, alias, grant and policy writes commit before the response, but audit
//! events are queued and committed about 20 ms after it at most, in batches of up to 5,000 per
//! transaction. A crash can lose the last ~20 ms of audit events and nothing else; this keeps
//! SQLite's commit off the hot path of every cryptographic request, and under load one commit
//! covers hundreds of events.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::params;

/// One event to store.
#[derive(Debug)]
pub struct AuditRecord {
    /// Epoch seconds.
    pub event_time: i64,
    /// Key ARN the event concerns, if any.
    pub key_arn: Option<String>,
    /// Operation name.
    pub event_name: String,
    /// True when the request succeeded.
    pub ok: bool,
    /// The CloudTrail-style JSON.
    pub json: String,
}

enum Msg {
    Event(AuditRecord),
    /// Flush and stop; the sender of the reply waits for the writer to finish.
    Stop,
}

/// Sender side of the audit writer.
#[derive(Debug)]
pub struct AuditSink {
    tx: mpsc::Sender<Msg>,
    worker: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl AuditSink {
    /// Starts the writer thread on its own connection.
    pub fn start(data_dir: &Path) -> Result<Self, super::StoreError> {
        let conn = super::open_conn(&super::db_path(data_dir))?;
        // The audit connection trades per-event fsync for throughput (see module docs).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (tx, rx) = mpsc::channel::<Msg>();
        let worker = std::thread::Builder::new()
            .name("kms-audit-writer".into())
            .spawn(move || writer(conn, rx))
            .map_err(|e| super::StoreError::Corrupt(format!("audit thread: {e}")))?;
        Ok(Self { tx, worker: std::sync::Mutex::new(Some(worker)) })
    }

    /// Queues an event; never blocks on disk.
    pub fn record(&self, rec: AuditRecord) {
        let _ = self.tx.send(Msg::Event(rec));
    }

    /// Flushes every queued event and stops the writer.
    pub fn close(&self) {
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

fn writer(mut conn: rusqlite::Connection, rx: mpsc::Receiver<Msg>) {
    let mut stop = false;
    while !stop {
        let Ok(first) = rx.recv() else { break };
        let mut batch = Vec::new();
        match first {
            Msg::Event(r) => batch.push(r),
            Msg::Stop => stop = true,
        }
        while !stop && batch.len() < 5000 {
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
        // Let the next batch accumulate: fewer, larger commits when busy; a lone event still
        // lands within this pause.
        if !stop {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
