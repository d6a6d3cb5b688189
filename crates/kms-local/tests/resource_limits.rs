//! Resource exhaustion: slow and idle clients, the connection cap, request bodies that never
//! arrive, a blocked disk and a flood of requests must not stop the emulator from serving a
//! normal client promptly, nor make it hold memory without bound.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use envelope_kms_local::{Emulator, Limits, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// An emulator whose state the test can inspect while it serves.
struct Served {
    emu: Arc<Emulator>,
    addr: SocketAddr,
    endpoint: String,
    data_dir: std::path::PathBuf,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(settings: Settings) -> Served {
        let emu = Emulator::open(&settings).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(emu.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        Served { emu, addr, endpoint: format!("http://{addr}"), data_dir: settings.data_dir, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

fn settings(tag: &str, limits: Limits) -> Settings {
    let mut s = common::settings(tag);
    s.limits = limits;
    s
}

/// One complete request with an empty JSON body, as a minimal client sends it (permissive mode
/// needs no signature).
fn request(addr: SocketAddr, operation: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: TrentService.{operation}\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
}

fn list_keys_request(addr: SocketAddr) -> String {
    request(addr, "ListKeys")
}

/// Holds the database's write lock from another connection, as another process (a backup tool,
/// say) might, for `hold`.
fn hold_write_lock(data_dir: &std::path::Path, hold: Duration) -> std::thread::JoinHandle<()> {
    let db = envelope_kms_local::db_path(data_dir);
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    holder
}

/// Sends ListKeys on a new connection and returns how long the answer took.
async fn timed_list_keys(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(list_keys_request(addr).as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    start.elapsed()
}

/// Whether the server closes `s` (end of stream or reset) within `within`; any bytes it sends
/// first (an error response) are read and dropped.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn open_idle(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(TcpStream::connect(addr).await.unwrap());
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_and_idle_connections_do_not_block_a_normal_client() {
    let timeout = Duration::from_millis(600);
    let srv = Served::start(settings("loris", Limits::default().with_header_read_timeout(timeout))).await;
    let addr = srv.addr;
    let mut idle = open_idle(addr, 1000).await;
    // Slow-loris clients: a valid request's headers, one byte every 50 ms, never finishing in time.
    let mut lorises = Vec::new();
    for _ in 0..8 {
        lorises.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let opened = Instant::now();
            for b in list_keys_request(addr).bytes() {
                if s.write_all(&[b]).await.is_err() {
                    return opened.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("a slow-loris client sent its whole request without being cut off");
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let took = timed_list_keys(addr).await;
    assert!(took < Duration::from_secs(1), "a normal client waited {took:?}");
    // The idle connections are closed once the header timeout has passed.
    let started = Instant::now();
    for s in &mut idle {
        let left = (timeout + Duration::from_secs(2)).saturating_sub(started.elapsed());
        assert!(closed_within(s, left).await, "an idle connection stayed open past the header timeout");
    }
    for l in lorises {
        let cut =
            tokio::time::timeout(Duration::from_secs(5), l).await.expect("slow-loris client still connected").unwrap();
        // Cut off after the timeout (a write fails once the peer has closed and reset).
        assert!(cut >= timeout && cut < timeout + Duration::from_secs(2), "slow-loris client cut off after {cut:?}");
    }
    // Still serving.
    assert!(timed_list_keys(addr).await < Duration::from_secs(1));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_idlest_connection_makes_room() {
    // A header timeout far longer than the test: only the cap can close connections here.
    let limits = Limits::default().with_max_connections(16).with_header_read_timeout(Duration::from_secs(60));
    let srv = Served::start(settings("cap", limits)).await;
    let mut idle = open_idle(srv.addr, 200).await;
    let took = timed_list_keys(srv.addr).await;
    assert!(took < Duration::from_secs(1), "a normal client waited {took:?} behind idle connections");
    let mut closed = 0;
    for s in &mut idle {
        if closed_within(s, Duration::from_millis(20)).await {
            closed += 1;
        }
    }
    // At most 16 were ever open together; the normal client's connection took one place.
    assert!(closed >= 200 - 16, "only {closed} of 200 idle connections were closed at a cap of 16");
    // The oldest went first: the newest idle connections are the ones still open.
    assert!(!closed_within(&mut idle[199], Duration::from_millis(20)).await, "the newest idle connection was closed");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_times_out() {
    let timeout = Duration::from_millis(500);
    let srv = Served::start(settings("body", Limits::default().with_body_read_timeout(timeout))).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: TrentService.ListKeys\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{{\"Limit\":",
        srv.addr
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server still waits for a body that will never come");
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(
        start.elapsed() >= timeout - Duration::from_millis(50),
        "answered before the timeout: {:?}",
        start.elapsed()
    );
    assert!(timed_list_keys(srv.addr).await < Duration::from_secs(1));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_flood_is_held_back_by_the_audit_queue_not_buffered() {
    let srv = Served::start(settings("flood", Limits::default().with_audit_queue(8))).await;
    let client = common::client(&srv.endpoint).await;
    let key = client.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    // The audit writer cannot commit during the first second of the flood.
    let holder = hold_write_lock(&srv.data_dir, Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let (client, key) = (client.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                client.generate_data_key().key_id(&key).number_of_bytes(32).send().await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut served = 0;
    for t in tasks {
        served += t.await.unwrap();
    }
    holder.join().unwrap();
    let peak = srv.emu.audit_queue_peak();
    assert!(peak <= 8, "{peak} audit events were queued at once with a queue of 8 ({served} requests)");
    // Back-pressure loses nothing: every request's event reaches the log.
    let data_dir = srv.data_dir.clone();
    srv.stop().await;
    let events = envelope_kms_local::read_audit(&data_dir, Some(&key), None, 1_000_000).unwrap();
    let generated = events.iter().filter(|e| e["eventName"] == "GenerateDataKey").count() as u64;
    assert_eq!(generated, served);
}

// One runtime thread, as an application embedding the emulator in a current-thread runtime has:
// a request blocked on the disk must not hold it.
#[tokio::test(flavor = "current_thread")]
async fn a_key_write_stuck_on_the_disk_does_not_stall_other_requests() {
    let srv = Served::start(settings("disk", Limits::default())).await;
    // Another process holds the database's write lock for 3 seconds.
    let holder = hold_write_lock(&srv.data_dir, Duration::from_secs(3));
    let mut create = TcpStream::connect(srv.addr).await.unwrap();
    create.write_all(request(srv.addr, "CreateKey").as_bytes()).await.unwrap();
    let sent = Instant::now();
    // Let the server take up the CreateKey first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    timed_list_keys(srv.addr).await;
    let took = sent.elapsed() - Duration::from_millis(200);
    assert!(took < Duration::from_secs(1), "ListKeys waited {took:?} behind a CreateKey stuck on the disk");
    // The stuck write completes once the lock is released.
    let mut out = String::new();
    create.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    holder.join().unwrap();
    srv.stop().await;
}
