//! The table of open connections: a cap on how many there are, and, at the cap, room made for a
//! new client by closing the connection that has been idle longest.
//!
//! Making room rather than only waiting is what keeps a pile of idle connections (an idle
//! connection pool, or a client opening sockets and sending nothing) from locking other clients
//! out until the idle timeout. Waiting still happens when every connection is mid-request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// How often the accept loop looks again for an idle connection to close while it waits at the
/// cap with every connection busy.
const RETRY_EVICTION: Duration = Duration::from_millis(50);

/// Every open connection, and room for more.
#[derive(Debug)]
pub(crate) struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    epoch: Instant,
}

/// What the table knows of one connection.
#[derive(Debug)]
pub(crate) struct Conn {
    /// Requests being handled now.
    in_flight: AtomicUsize,
    /// Milliseconds after the table's epoch of the last request start or end (or the accept).
    last_active_ms: AtomicU64,
    /// Set once the connection has been asked to close.
    closing: AtomicBool,
    /// Woken to ask the connection to close (eviction or server shutdown).
    close: Notify,
    epoch: Instant,
}

impl Conn {
    fn touch(&self) {
        self.last_active_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Marks a request as started; the returned guard marks it finished.
    pub(crate) fn begin_request(self: &Arc<Self>) -> InRequest {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InRequest(self.clone())
    }

    /// Resolves once the connection should close.
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }

    fn request_close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        // `notify_one` keeps a permit, so a connection not yet waiting still sees it.
        self.close.notify_one();
    }
}

/// A request in progress on a connection.
#[derive(Debug)]
pub(crate) struct InRequest(Arc<Conn>);

impl Drop for InRequest {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Lease {
    table: Arc<Connections>,
    id: u64,
    pub(crate) conn: Arc<Conn>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.table.open.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl Connections {
    /// A table with room for `max` connections (at least one).
    pub(crate) fn new(max: usize) -> Arc<Self> {
        let max = max.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Takes a place for a just-accepted connection: at once when there is room, else after
    /// closing the idlest connection (or, when all are busy, once one finishes).
    pub(crate) async fn admit(self: &Arc<Self>) -> Lease {
        let slot = loop {
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                break slot;
            }
            self.evict_idlest();
            tokio::select! {
                acquired = self.slots.clone().acquire_owned() => {
                    // Never closed, so this is always `Ok`; on `Err` take the next turn.
                    if let Ok(slot) = acquired {
                        break slot;
                    }
                }
                _ = tokio::time::sleep(RETRY_EVICTION) => {}
            }
        };
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
            epoch: self.epoch,
        });
        conn.touch();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().unwrap_or_else(|e| e.into_inner()).insert(id, conn.clone());
        Lease { table: self.clone(), id, conn, _slot: slot }
    }

    /// Asks the connection with no request in progress and the oldest activity to close. Ties
    /// (activity is kept in milliseconds, and a burst of connections is accepted within one) go
    /// to the connection admitted first, so the newest connections are the last to go.
    fn evict_idlest(&self) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let idlest = open
            .iter()
            .filter(|(_, c)| c.in_flight.load(Ordering::Relaxed) == 0 && !c.closing.load(Ordering::Relaxed))
            .min_by_key(|(id, c)| (c.last_active_ms.load(Ordering::Relaxed), **id))
            .map(|(_, c)| c);
        if let Some(c) = idlest {
            tracing::debug!("at the connection cap ({}): closing the idlest connection", self.max);
            c.request_close();
        }
    }

    /// Asks every open connection to close (server shutdown).
    pub(crate) fn close_all(&self) {
        for c in self.open.lock().unwrap_or_else(|e| e.into_inner()).values() {
            c.request_close();
        }
    }

    /// Resolves once every connection has gone.
    pub(crate) async fn all_closed(&self) {
        let _ = self.slots.acquire_many(self.max as u32).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_the_cap_the_first_admitted_of_equally_idle_connections_goes_first() {
        let table = Connections::new(3);
        // Admitted within the same millisecond: equal activity times.
        let (first, second, third) = (table.admit().await, table.admit().await, table.admit().await);
        let waiting = tokio::spawn({
            let table = table.clone();
            async move { table.admit().await }
        });
        while !first.conn.closing.load(Ordering::Relaxed) {
            assert!(!second.conn.closing.load(Ordering::Relaxed) && !third.conn.closing.load(Ordering::Relaxed));
            tokio::task::yield_now().await;
        }
        assert!(!second.conn.closing.load(Ordering::Relaxed), "a newer connection was asked to close");
        assert!(!third.conn.closing.load(Ordering::Relaxed), "the newest connection was asked to close");
        drop(first);
        let fourth = waiting.await.unwrap();
        assert!(!fourth.conn.closing.load(Ordering::Relaxed));
    }
}
