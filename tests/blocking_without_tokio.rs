//! `BlockingClient` with local keyrings needs no async runtime: the materials step is polled on
//! the calling thread. CI also runs this file with `--no-default-features`, where envelope is
//! built without tokio at all (`cargo test -p envelope --no-default-features --test
//! blocking_without_tokio`).

use std::io::{Read, Write};

use envelope::blocking::BlockingClient;
use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::RawAesKeyring;

fn client() -> BlockingClient {
    let keyring = RawAesKeyring::new("no-runtime", "aes", vec![3; 32]).expect("keyring");
    BlockingClient::new(Client::with_keyring(keyring))
}

fn round_trip(client: &BlockingClient) {
    let options =
        EncryptOptions::new().frame_length(64).encryption_context(EncryptionContext::from([("tenant", "acme")]));
    let message = client.encrypt(b"one-shot", &options).expect("encrypt");
    assert_eq!(client.decrypt(&message, &DecryptOptions::new()).expect("decrypt").plaintext, b"one-shot");

    let mut writer = client.encrypting_writer(Vec::new(), &options).expect("writer");
    writer.write_all(&[9u8; 1000]).expect("write");
    let message = writer.finish().expect("finish");
    let mut plaintext = Vec::new();
    client
        .decrypting_reader(&message[..], &DecryptOptions::new())
        .expect("reader")
        .read_to_end(&mut plaintext)
        .expect("read");
    assert_eq!(plaintext, [9u8; 1000]);
}

#[test]
fn local_keyrings_work_on_a_thread_without_a_runtime() {
    std::thread::spawn(|| round_trip(&client())).join().expect("no panic");
}

/// The old front-end started a private runtime per client, and `block_on` panics inside another
/// runtime; polling on the calling thread has no such limit (local keyrings never wait).
#[cfg(feature = "tokio")]
#[tokio::test]
async fn local_keyrings_work_even_inside_an_async_runtime() {
    round_trip(&client());
}
