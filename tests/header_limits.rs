//! Headers read from streams: a legal 64 MiB header goes through both streaming readers about as
//! fast as through one-shot decryption (the readers once re-parsed the header from its first byte
//! after every read: quadratic time), and the caller's limits on header and frame length refuse a
//! message before its body is read.

mod common;

use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::task::{Context, Poll};
use std::time::Duration;

use envelope::blocking::BlockingClient;
use envelope::error::PolicyViolation;
use envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions, Error, Keyring, MultiKeyring,
};
use envelope_keyrings::RawAesKeyring;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// Bytes of namespace and of key name per keyring: each EDK carries both, so it is about 64 KiB.
const NAME_LEN: usize = 32_700;
/// Keyrings (one EDK each): with `NAME_LEN`, a header of just over 64 MiB.
const KEYRINGS: usize = 1030;

fn big_keyring(index: usize) -> RawAesKeyring {
    let namespace = format!("ns-{}", "n".repeat(NAME_LEN));
    let name = format!("key-{index:04}-{}", "k".repeat(NAME_LEN));
    RawAesKeyring::new(namespace, name, vec![index as u8; 32]).expect("valid keyring")
}

/// A message whose header holds `KEYRINGS` EDKs of about 64 KiB each, all within the format's
/// limits (u16 field lengths, at most 65535 EDKs). The reader holds the key of the first one, so
/// the time goes to reading the header, not to a keyring walking a thousand EDKs.
fn huge_header_message() -> (Vec<u8>, Client, Vec<u8>) {
    let keyrings: Vec<Arc<dyn Keyring>> = (0..KEYRINGS).map(|i| Arc::new(big_keyring(i)) as Arc<dyn Keyring>).collect();
    let mut keyrings = keyrings.into_iter();
    let generator = keyrings.next();
    let writer = BlockingClient::new(Client::with_keyring(MultiKeyring::new(generator, keyrings.collect()).unwrap()));
    let plaintext = common::plaintext(10_000);
    let message = writer.encrypt(&plaintext, &EncryptOptions::new()).unwrap();
    assert!(message.len() >= 64 << 20, "the message is only {} bytes", message.len());
    (message, Client::with_keyring(big_keyring(0)), plaintext)
}

/// The tests of this file run one at a time: the timing test compares times, and the others'
/// 64 MiB messages would compete with it for the cores and the memory bandwidth.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `work` and returns how long it took: the CPU time of this thread (user and system) on
/// Linux, so that other processes of a loaded machine do not count, and wall time elsewhere.
fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    #[cfg(target_os = "linux")]
    {
        let before = thread_cpu_time();
        let out = work();
        (out, thread_cpu_time().saturating_sub(before))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let started = std::time::Instant::now();
        let out = work();
        (out, started.elapsed())
    }
}

/// User plus system time of the calling thread from `/proc/thread-self/stat` (fields 14 and 15,
/// in the kernel's fixed 100 ticks per second).
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // The command name (field 2) may hold spaces; the fields after it start with field 3.
    let after_name = &stat[stat.rfind(')').expect("a command name in parentheses") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

fn roomy() -> DecryptOptions {
    DecryptOptions::new().max_header_length(128 << 20)
}

/// Runs `work` up to three times, each on its own thread; passes as soon as one run ends within
/// `bound`. A run still going at ten times `bound` fails the test at once (quadratic code takes
/// minutes), without waiting for it.
fn within(what: &str, bound: Duration, work: impl Fn() + Send + Sync + 'static) {
    let work = Arc::new(work);
    let mut runs = Vec::new();
    for _ in 0..3 {
        let (done, finished) = mpsc::channel();
        let run = Arc::clone(&work);
        std::thread::spawn(move || {
            let ((), took) = timed(|| run());
            let _ = done.send(took);
        });
        let took = match finished.recv_timeout(bound * 10) {
            Ok(took) => took,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{what}: still reading after {:?} (bound {bound:?})", bound * 10)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the reading thread panicked"),
        };
        eprintln!("{what} {took:?}");
        if took <= bound {
            return;
        }
        runs.push(took);
    }
    panic!("{what}: {runs:?}, each over the bound of {bound:?} (twice the one-shot time)");
}

#[test]
fn a_64_mib_header_streams_within_twice_the_one_shot_time() {
    let _alone = one_at_a_time();
    let (message, client, plaintext) = huge_header_message();
    let message = Arc::new(message);
    let blocking = BlockingClient::new(client.clone());
    let one_shot = (0..3)
        .map(|_| {
            let (decrypted, took) = timed(|| blocking.decrypt(&message, &roomy()).unwrap());
            assert_eq!(decrypted.plaintext, plaintext);
            took
        })
        .min()
        .unwrap();
    let bound = one_shot * 2;
    eprintln!("one-shot {one_shot:?}");

    let (input, reader_client, expected) = (Arc::clone(&message), client.clone(), plaintext.clone());
    within("blocking reader", bound, move || {
        let blocking = BlockingClient::new(reader_client.clone());
        let mut reader = blocking.decrypting_reader(&input[..], &roomy()).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, expected);
    });

    let (input, reader_client, expected) = (Arc::clone(&message), client, plaintext);
    within("async reader", bound, move || {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut reader = reader_client.decrypting_async_reader(&input[..], &roomy()).await.unwrap();
            let mut out = Vec::new();
            reader.read_to_end(&mut out).await.unwrap();
            assert_eq!(out, expected);
        });
    });
}

#[test]
fn the_default_header_limit_refuses_a_64_mib_header_before_reading_it() {
    let _alone = one_at_a_time();
    let (message, client, _) = huge_header_message();
    let handed_out = Arc::new(AtomicUsize::new(0));
    let blocking = BlockingClient::new(client);
    let error = blocking.decrypting_reader(Counting::new(&message, &handed_out), &DecryptOptions::new()).unwrap_err();
    assert!(
        matches!(error, Error::Policy(PolicyViolation::HeaderTooLong { limit, .. }) if limit == 1 << 20),
        "{error}"
    );
    assert!(handed_out.load(Ordering::SeqCst) <= 1 << 20, "read {} bytes", handed_out.load(Ordering::SeqCst));
    let error = blocking.decrypt(&message, &DecryptOptions::new()).unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::HeaderTooLong { .. })), "{error}");
}

/// Hands out whatever is asked of `bytes` and counts how much it handed out.
#[derive(Debug)]
struct Counting {
    bytes: Vec<u8>,
    at: usize,
    handed_out: Arc<AtomicUsize>,
}

impl Counting {
    fn new(bytes: &[u8], handed_out: &Arc<AtomicUsize>) -> Counting {
        Counting { bytes: bytes.to_vec(), at: 0, handed_out: Arc::clone(handed_out) }
    }

    fn hand_out(&mut self, room: usize) -> &[u8] {
        let n = room.min(self.bytes.len() - self.at);
        self.at += n;
        self.handed_out.fetch_add(n, Ordering::SeqCst);
        &self.bytes[self.at - n..self.at]
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self.hand_out(buf.len());
        let n = piece.len();
        buf[..n].copy_from_slice(piece);
        Ok(n)
    }
}

impl AsyncRead for Counting {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let piece = self.hand_out(buf.remaining());
        buf.put_slice(piece);
        Poll::Ready(Ok(()))
    }
}

/// A one-frame message of 0x0478 (unsigned, so no footer): returns it and its header's length.
fn message_with_frame_length(frame_length: u32) -> (Vec<u8>, usize) {
    let plaintext = common::plaintext(100);
    let options =
        EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).frame_length(frame_length);
    let message =
        common::client_for(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).encrypt(&plaintext, &options).unwrap();
    // The body is one final frame: marker(4) seq(4) IV(12) length(4) content tag(16).
    let header_len = message.len() - (4 + 4 + 12 + 4 + plaintext.len() + 16);
    (message, header_len)
}

fn is_frame_too_long(error: &Error, limit: usize, found: u64) -> bool {
    matches!(error, Error::Policy(PolicyViolation::FrameTooLong { limit: l, found: f }) if *l == limit && *f == found)
}

#[test]
fn a_frame_length_over_the_limit_is_refused_before_the_body_is_read() {
    let _alone = one_at_a_time();
    let (message, header_len) = message_with_frame_length(8193);
    let options = DecryptOptions::new().max_frame_length(8192);
    let client = common::client_for(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);

    let handed_out = Arc::new(AtomicUsize::new(0));
    let error = client.decrypting_reader(Counting::new(&message, &handed_out), &options).unwrap_err();
    assert!(is_frame_too_long(&error, 8192, 8193), "{error}");
    assert!(
        handed_out.load(Ordering::SeqCst) <= header_len,
        "the blocking reader read {} bytes of a {header_len}-byte header",
        handed_out.load(Ordering::SeqCst)
    );

    let handed_out = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let error = runtime
        .block_on(client.client().decrypting_async_reader(Counting::new(&message, &handed_out), &options))
        .unwrap_err();
    assert!(is_frame_too_long(&error, 8192, 8193), "{error}");
    assert!(
        handed_out.load(Ordering::SeqCst) <= header_len,
        "the async reader read {} bytes of a {header_len}-byte header",
        handed_out.load(Ordering::SeqCst)
    );

    let error = client.decrypt(&message, &options).unwrap_err();
    assert!(is_frame_too_long(&error, 8192, 8193), "{error}");

    // At the limit, the same options read the message.
    let (message, _) = message_with_frame_length(8192);
    assert_eq!(client.decrypt(&message, &options).unwrap().plaintext, common::plaintext(100));
    assert_eq!(common::read_streaming_with(&client, &message, &options).unwrap(), common::plaintext(100));
}

#[test]
fn the_default_frame_limit_is_4_mib() {
    let _alone = one_at_a_time();
    let client = common::client_for(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let (message, _) = message_with_frame_length(4 << 20);
    assert_eq!(client.decrypt(&message, &DecryptOptions::new()).unwrap().plaintext, common::plaintext(100));
    let (message, _) = message_with_frame_length((4 << 20) + 1);
    let error = client.decrypt(&message, &DecryptOptions::new()).unwrap_err();
    assert!(is_frame_too_long(&error, 4 << 20, (4 << 20) + 1), "{error}");
}

/// A non-framed body counts as one frame: its length field is checked before the block is
/// buffered. (envelope never writes one; the fuzz corpus holds real ones under its fixed key.)
#[test]
fn a_non_framed_body_over_the_frame_limit_is_refused_before_it_is_buffered() {
    let _alone = one_at_a_time();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decrypt/valid/0214-p33-nonframed-utf8ctx");
    let message = std::fs::read(&path).unwrap();
    let keyring = RawAesKeyring::new("fuzz", "aes-256", b"envelope-fuzz-raw-aes-256-key-01".to_vec()).unwrap();
    let client = BlockingClient::new(
        Client::with_keyring(keyring).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt),
    );
    let expected = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/plaintexts/0214-p33-nonframed-utf8ctx"),
    )
    .unwrap();

    let fits = DecryptOptions::new().max_frame_length(33);
    assert_eq!(client.decrypt(&message, &fits).unwrap().plaintext, expected);
    assert_eq!(common::read_streaming_with(&client, &message, &fits).unwrap(), expected);

    let tight = DecryptOptions::new().max_frame_length(32);
    let error = client.decrypt(&message, &tight).unwrap_err();
    assert!(is_frame_too_long(&error, 32, 33), "{error}");
    let error = common::read_streaming_with(&client, &message, &tight).unwrap_err();
    let inner = error.into_inner().and_then(|inner| inner.downcast::<Error>().ok()).expect("an envelope error");
    assert!(is_frame_too_long(&inner, 32, 33), "{inner}");
}
