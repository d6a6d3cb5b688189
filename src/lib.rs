//! # envelope
//!
//! Client-side encryption that reads and writes the AWS Encryption SDK message format byte for
//! byte: every algorithm suite, message formats v1 and v2, key commitment, ECDSA-signed messages,
//! framed streaming in constant memory.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "tokio")]
pub mod blocking;
pub mod client;
pub mod cmm;
pub mod crypto;
pub mod error;
pub mod keyring;
pub mod materials;
pub mod message;
mod oneshot;
pub mod stream;
pub mod suite;

pub use cmm::{DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
pub use error::{Error, Result};
pub use keyring::{Keyring, MultiKeyring};
pub use materials::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
pub use suite::{AlgorithmSuite, CommitmentPolicy};
pub use client::{Client, DecryptOptions, Decrypted, EncryptOptions, MessageInfo};
