//! Encrypt and decrypt a message with a raw AES-256 keyring — the smallest complete use of
//! envelope. Run with `cargo run --example raw_aes_round_trip`.

use envelope::blocking::BlockingClient;
use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::RawAesKeyring;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production the wrapping key comes from a secrets store, never from source code.
    let wrapping_key = vec![0x42; 32];
    let keyring = RawAesKeyring::new("my-app", "orders-key-2026", wrapping_key)?;
    let client = BlockingClient::new(Client::with_keyring(keyring));

    let context: EncryptionContext = [("tenant".to_string(), "acme".to_string())].into();
    let message = client.encrypt(b"card ending 4242", &EncryptOptions::new().encryption_context(context.clone()))?;
    println!("message: {} bytes, suite 0x{:02X}{:02X}", message.len(), message[1], message[2]);

    // Passing the expected context makes decryption fail if the message was bound to another one.
    let decrypted = client.decrypt(&message, &DecryptOptions::new().encryption_context(context))?;
    assert_eq!(decrypted.plaintext, b"card ending 4242");
    println!("decrypted: {}", String::from_utf8_lossy(&decrypted.plaintext));
    Ok(())
}
