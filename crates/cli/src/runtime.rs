//! The one tokio runtime a command runs on: every command that needs async code (KMS calls, the
//! embedded emulator, the server, signal handling) builds it here, so they all get the same kind.

use tokio::runtime::Runtime;

/// A multi-thread runtime with I/O and timers. Two workers: the async work is KMS calls and a
/// loopback server, which are I/O-bound, and the machines this runs on are small. Multi-thread
/// (not current-thread) so that `BlockingClient::with_runtime` can wait on it from the command's
/// own thread while the workers drive the connections.
pub fn start() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("envelope-async").enable_all().build()
}
