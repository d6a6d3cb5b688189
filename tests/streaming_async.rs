//! The tokio front-ends: AsyncWrite encryptor and AsyncRead decryptor.

mod common;

use envelope::{AlgorithmSuite, DecryptOptions, EncryptOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn tokio_streams_round_trip_every_suite() {
    for suite in AlgorithmSuite::ALL {
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
