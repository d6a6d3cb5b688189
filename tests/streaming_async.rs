//! The tokio front-ends: AsyncWrite encryptor and AsyncRead decryptor.

mod common;

use envelope::{AlgorithmSuite, DecryptOptions, EncryptOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn tokio_streams_round_trip_every_suite() {
    for suite in AlgorithmSuite::ESDK {
        let client = if suite.is_committing() { common::permissive_client() } else { common::legacy_client() };
        let data = common::plaintext(70_000);
        let options = EncryptOptions::new().algorithm_suite(suite).frame_length(1000);
        let mut writer = client.encrypting_async_writer(Vec::new(), &options).await.unwrap();
        for piece in data.chunks(4097) {
            writer.write_all(piece).await.unwrap();
        }
        let message = writer.finish().await.unwrap();
        assert_eq!(client.decrypt(&message, &DecryptOptions::new()).await.unwrap().plaintext, data);

        let mut reader = client.decrypting_async_reader(&message[..], &DecryptOptions::new()).await.unwrap();
        assert_eq!(reader.info().algorithm_suite, suite);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, data);
    }
}

#[tokio::test]
async fn shutdown_finishes_the_message() {
    let client = common::permissive_client();
    let (near, far) = tokio::io::duplex(1024);
    let options = EncryptOptions::new().frame_length(100);
    let data = common::plaintext(5000);
    let expected = data.clone();
    let writer_client = client.clone();
    let write = tokio::spawn(async move {
        let mut writer = writer_client.encrypting_async_writer(near, &options).await.unwrap();
        writer.write_all(&data).await.unwrap();
        writer.shutdown().await.unwrap();
    });
    let mut reader = client.decrypting_async_reader(far, &DecryptOptions::new()).await.unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    write.await.unwrap();
    assert_eq!(out, expected);
}

/// Async streams that opt in hash on a worker thread past 1 MiB; inline and background hashing
/// read each other's messages, through a pipe with both ends on one current-thread runtime.
#[tokio::test]
async fn async_streams_may_hash_on_a_worker_thread() {
    let client = common::permissive_client();
    let data = common::plaintext(3 * 1024 * 1024 + 5);
    for (write_in_background, read_in_background) in [(false, false), (true, true), (true, false), (false, true)] {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let options =
            EncryptOptions::new().algorithm_suite(AlgorithmSuite::DEFAULT).hash_on_worker_thread(write_in_background);
        let writer_client = client.clone();
        let input = data.clone();
        let write = tokio::spawn(async move {
            let mut writer = writer_client.encrypting_async_writer(near, &options).await.unwrap();
            for piece in input.chunks(100_003) {
                writer.write_all(piece).await.unwrap();
            }
            writer.shutdown().await.unwrap();
        });
        let read_options = DecryptOptions::new().hash_on_worker_thread(read_in_background);
        let mut reader = client.decrypting_async_reader(far, &read_options).await.unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        write.await.unwrap();
        assert_eq!(out, data, "writer in background: {write_in_background}, reader: {read_in_background}");
    }
}

/// A sink that takes a few bytes per call and is busy every other call, as a socket under
/// back-pressure is: a partial drain must not turn into a zero-byte write.
struct TrickleSink {
    taken: Vec<u8>,
    busy: bool,
}

impl tokio::io::AsyncWrite for TrickleSink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.busy = !self.busy;
        if self.busy {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let n = buf.len().min(7_001);
        self.taken.extend_from_slice(&buf[..n]);
        std::task::Poll::Ready(Ok(n))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_sink_that_takes_partial_writes_gets_the_whole_message() {
    let client = common::permissive_client();
    let data = common::plaintext(1024 * 1024 + 3);
    let mut writer = client
        .encrypting_async_writer(TrickleSink { taken: Vec::new(), busy: false }, &EncryptOptions::new())
        .await
        .unwrap();
    for piece in data.chunks(50_000) {
        writer.write_all(piece).await.unwrap();
    }
    let sink = writer.finish().await.unwrap();
    assert_eq!(client.decrypt(&sink.taken, &DecryptOptions::new()).await.unwrap().plaintext, data);
}

/// Streams can move between threads and be shared (bodies of HTTP clients often must be `Sync`).
#[test]
fn streams_are_send_and_sync() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<envelope::EncryptingWriter<Vec<u8>>>();
    send_and_sync::<envelope::DecryptingReader<&'static [u8]>>();
    send_and_sync::<envelope::AsyncEncryptingWriter<Vec<u8>>>();
    send_and_sync::<envelope::AsyncDecryptingReader<&'static [u8]>>();
}
