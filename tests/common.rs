//! Helpers shared by the integration tests.
#![allow(dead_code)]

use envelope::blocking::BlockingClient;
use envelope::{Client, CommitmentPolicy, EncryptionContext};
use envelope_keyrings::RawAesKeyring;

/// A raw AES-256 keyring with a fixed test key.
pub fn aes_keyring() -> RawAesKeyring {
    RawAesKeyring::new("envelope-tests", "aes-256", (0u8..32).collect()).expect("valid test key")
}

/// A client that can write and read every suite.
pub fn permissive_client() -> Client {
    Client::with_keyring(aes_keyring()).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

/// A client for non-committing suites (which only FORBID_ENCRYPT_ALLOW_DECRYPT may write).
pub fn legacy_client() -> Client {
    Client::with_keyring(aes_keyring()).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt)
}

/// The client that may write `suite`.
pub fn client_for(suite: envelope::AlgorithmSuite) -> BlockingClient {
    let client = if suite.is_committing() { permissive_client() } else { legacy_client() };
    BlockingClient::new(client)
}

/// A context with non-ASCII pairs.
pub fn context() -> EncryptionContext {
    [("purpose", "tests"), ("ключ", "значение"), ("日本", "🔑")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Deterministic plaintext of `len` bytes.
pub fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Decrypts `message` through the blocking streaming reader.
pub fn read_streaming(client: &BlockingClient, message: &[u8]) -> std::io::Result<Vec<u8>> {
    read_streaming_with(client, message, &envelope::DecryptOptions::new())
}

/// Decrypts `message` through the blocking streaming reader with `options`.
pub fn read_streaming_with(
    client: &BlockingClient,
    message: &[u8],
    options: &envelope::DecryptOptions,
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut reader = client.decrypting_reader(message, options).map_err(std::io::Error::from)?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out)?;
    Ok(out)
}
