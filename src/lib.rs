//! # envelope
//!
//! Client-side encryption that reads and writes the AWS Encryption SDK message format byte for
//! byte: every algorithm suite, message formats v1 and v2, key commitment, ECDSA-signed messages,
//! framed streaming in constant memory.
//!
//! ```
//! use envelope::blocking::BlockingClient;
//! use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
//! use envelope_keyrings::RawAesKeyring;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keyring = RawAesKeyring::new("my-app", "key-2026", vec![7; 32])?;
//! let client = BlockingClient::new(Client::with_keyring(keyring));
//! let context = EncryptionContext::from([("tenant", "acme")]);
//!
//! let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context.clone()))?;
//! let decrypted = client.decrypt(&message, &DecryptOptions::new().encryption_context(context))?;
//! assert_eq!(decrypted.plaintext, b"secret");
//! # Ok(())
//! # }
//! ```
//!
//! Streaming, with memory bounded by the frame length:
//!
//! ```
//! use std::io::{Read, Write};
//! # use envelope::blocking::BlockingClient;
//! # use envelope::{Client, DecryptOptions, EncryptOptions};
//! # use envelope_keyrings::RawAesKeyring;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-2026", vec![7; 32])?));
//! let mut writer = client.encrypting_writer(Vec::new(), &EncryptOptions::new().frame_length(1024))?;
//! writer.write_all(&vec![1u8; 10_000])?;
//! let message = writer.finish()?; // a writer dropped without finish() leaves an undecryptable message
//!
//! let mut reader = client.decrypting_reader(&message[..], &DecryptOptions::new())?;
//! println!("suite: {}", reader.info().algorithm_suite);
//! let mut plaintext = Vec::new();
//! reader.read_to_end(&mut plaintext)?;
//! assert_eq!(plaintext.len(), 10_000);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
pub mod client;
pub mod cmm;
// The primitives, the byte format and the stream engines stay inside the crate: they take
// caller-chosen nonces, hand-built headers and proof tokens that only the client may combine
// safely. Users get the types below; the fuzz targets get `__fuzz`.
#[doc(hidden)]
pub mod __fuzz;
pub(crate) mod crypto;
mod encryption_context;
pub mod error;
mod header_auth;
pub mod keyring;
pub mod materials;
pub(crate) mod message;
mod oneshot;
mod redacted;
pub(crate) mod stream;
pub mod suite;

pub use client::{Client, DecryptOptions, Decrypted, EncryptOptions, MessageInfo};
pub use cmm::{DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
pub use crypto::signature::{SigningKey, VerificationKey};
pub use error::{Error, Result};
pub use keyring::{Keyring, MultiKeyring};
pub use materials::{
    DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, SymmetricSigningKey,
};
pub use message::context::serialize as serialize_encryption_context;
pub use message::header::ContentType;
#[cfg(feature = "tokio")]
pub use stream::{AsyncDecryptingReader, AsyncEncryptingWriter};
pub use stream::{DecryptingReader, EncryptingWriter};
pub use suite::{AlgorithmSuite, CommitmentPolicy};

/// The internals are not part of the API:
///
/// ```compile_fail
/// use envelope::crypto::aead::AesGcmKey;
/// ```
///
/// ```compile_fail
/// use envelope::message::header::ParsedHeader;
/// ```
///
/// ```compile_fail
/// use envelope::stream::decryptor::BodyDecryptor;
/// ```
///
/// ```compile_fail
/// use envelope::__fuzz::AesGcmKey;
/// ```
///
/// ```
/// // The counterpart that must compile, so the checks above fail for the right reason.
/// use envelope::{DecryptingReader, EncryptingWriter, ContentType, SigningKey, VerificationKey};
/// ```
#[cfg(doctest)]
pub struct InternalsAreNotReachable;
