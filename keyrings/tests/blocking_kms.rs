//! KMS keyrings through `BlockingClient`: without a runtime they fail with an error that says
//! what to do (never a panic inside the HTTP client), and one runtime handle serves every client.

mod kms_common;

use std::io::{Read, Write};
use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, AwsKmsKeyring, KmsClientSupplier};
use kms_common::Emulator;
use tokio::runtime::Runtime;

const REGION: &str = "us-west-2";

/// The emulator on its own multi-thread runtime, and a KMS key in it.
fn emulator_with_key() -> (Runtime, Emulator, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let emulator = runtime.block_on(Emulator::start());
    let key = runtime.block_on(emulator.symmetric_key(REGION));
    (runtime, emulator, key)
}

#[test]
fn a_kms_keyring_without_a_runtime_fails_with_a_clear_error() {
    let (_runtime, emulator, key) = emulator_with_key();
    assert!(tokio::runtime::Handle::try_current().is_err(), "the test thread has no runtime");
    let keyring = AwsKmsKeyring::new(key, emulator.client(REGION)).expect("keyring");
    let client = BlockingClient::new(Client::with_keyring(keyring));
    let error = client.encrypt(b"payload", &EncryptOptions::new()).expect_err("no runtime, no KMS");
    assert!(error.to_string().contains("BlockingClient::with_runtime"), "{error}");
}

#[test]
fn one_runtime_handle_serves_two_blocking_clients() {
    let (runtime, emulator, key) = emulator_with_key();
    assert!(tokio::runtime::Handle::try_current().is_err(), "the test thread has no runtime");
    let handle = runtime.handle().clone();
    let keyring = AwsKmsKeyring::new(key, emulator.client(REGION)).expect("keyring");
    let writer = BlockingClient::with_runtime(Client::with_keyring(keyring), handle.clone()).expect("writer");
    let supplier: Arc<dyn KmsClientSupplier> = emulator.supplier.clone();
    let discovery = AwsKmsDiscoveryKeyring::new(supplier, None).expect("discovery keyring");
    let reader = BlockingClient::with_runtime(Client::with_keyring(discovery), handle).expect("reader");

    let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
    let message = writer.encrypt(b"one-shot", &options).expect("encrypt");
    assert_eq!(reader.decrypt(&message, &DecryptOptions::new()).expect("decrypt").plaintext, b"one-shot");

    let mut stream = writer.encrypting_writer(Vec::new(), &options).expect("writer");
    stream.write_all(b"streamed").expect("write");
    let message = stream.finish().expect("finish");
    let mut plaintext = Vec::new();
    reader
        .decrypting_reader(&message[..], &DecryptOptions::new())
        .expect("reader")
        .read_to_end(&mut plaintext)
        .expect("read");
    assert_eq!(plaintext, b"streamed");
}

#[test]
fn a_current_thread_runtime_is_refused() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let keyring = envelope_keyrings::RawAesKeyring::new("ns", "name", vec![1; 32]).expect("keyring");
    let error = BlockingClient::with_runtime(Client::with_keyring(keyring), runtime.handle().clone())
        .expect_err("a current-thread handle cannot drive I/O from another thread");
    assert!(error.to_string().contains("multi-thread"), "{error}");
}
