//! Bounds on what one client, or many, can make the server hold: open connections, time to send
//! a request, request size, and audit events waiting for the disk.

use std::time::Duration;

/// Resource limits of the HTTP front end and the audit queue. The defaults suit a developer's
/// machine and CI; tests shorten the timeouts.
///
/// ```
/// use std::time::Duration;
/// use envelope_kms_local::Limits;
///
/// let limits = Limits::default()
///     .with_max_connections(64)
///     .with_header_read_timeout(Duration::from_secs(5))
///     .with_body_read_timeout(Duration::from_secs(5))
///     .with_max_body_bytes(64 << 10)
///     .with_audit_queue(1000);
/// assert_eq!(limits.max_connections, 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections open at once. At the cap, a new client makes the server close the connection
    /// that has been idle longest (or, when every connection is mid-request, waits for one to
    /// finish), so idle connections cannot lock clients out.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, counted from when the server starts waiting
    /// for them: on a new connection, and between requests on a kept-alive one. So it is also the
    /// idle timeout of kept-alive connections.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers have arrived.
    pub body_read_timeout: Duration,
    /// Largest request body accepted (KMS requests are a few KiB; key policies up to 32 KiB).
    pub max_body_bytes: usize,
    /// Audit events accepted but not yet written. When the writer falls this far behind, new
    /// requests wait for room before they run (back-pressure) instead of queueing in memory.
    pub audit_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(20),
            body_read_timeout: Duration::from_secs(20),
            max_body_bytes: 1 << 20,
            audit_queue: 10_000,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_connections`] (at least 1).
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets [`Limits::header_read_timeout`].
    pub fn with_header_read_timeout(mut self, t: Duration) -> Self {
        self.header_read_timeout = t;
        self
    }

    /// Sets [`Limits::body_read_timeout`].
    pub fn with_body_read_timeout(mut self, t: Duration) -> Self {
        self.body_read_timeout = t;
        self
    }

    /// Sets [`Limits::max_body_bytes`].
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets [`Limits::audit_queue`] (at least 1).
    pub fn with_audit_queue(mut self, n: usize) -> Self {
        self.audit_queue = n.max(1);
        self
    }
}
