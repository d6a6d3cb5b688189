//! Client-side encryption of Amazon S3 objects, byte-compatible with the Amazon S3 Encryption
//! Client's formats: V3 (key-committing AES-256-GCM, 0x0073, the default) and V2 (AES-256-GCM,
//! 0x0072) written and read, V1/V2 CBC (0x0070) read behind an explicit legacy opt-in.
//!
//! - [`metadata`]: the content metadata of V1, V2 and V3 in object user metadata or an
//!   instruction file, parsed strictly (mixed versions, keys misplaced in an instruction file
//!   and unknown algorithms are [`error::SecurityError`]s).
//! - [`wrap`]: the data key's wrapping, [`wrap::S3Keyring`]: KMS (`kms+context`, over envelope's
//!   KMS keyring, or by discovery with an optional account/Region filter), raw AES-GCM
//!   (`AES/GCM`) and RSA-OAEP-SHA1 with material descriptions; the legacy wraps (`kms`,
//!   `AESWrap`, `AES`, `RSA`) read only with [`ObjectCrypto::legacy_wrapping_algorithms`].
//!
//! Commitment policy ([`CommitmentPolicy`], as the official clients): the default
//! `RequireEncryptRequireDecrypt` writes V3 and reads only V3; `RequireEncryptAllowDecrypt`
//! writes V3 and reads V2 too; `ForbidEncryptAllowDecrypt` writes V2 and reads both.
//! - [`ObjectCrypto`]: a body and its metadata, in memory or from an `AsyncRead`; no plaintext
//!   is returned before the commitment and the tag verify.
//! - [`client`]: [`S3EncryptionClient`], the S3 operations over aws-sdk-s3 (put with automatic
//!   multipart, get under a stated release policy, unauthenticated ranged get behind an opt-in,
//!   delete with the instruction file, low-level multipart), in bounded memory for any size.
//! - [`rotation`]: re-wrapping an instruction file's data key under a new keyring (key
//!   rotation) without touching the object.
//!
//! spec: awslabs/aws-encryption-sdk-specification `s3-encryption/`
//!
//! ```
//! use std::collections::BTreeMap;
//! use envelope_s3::wrap::AesGcmKeyring;
//! use envelope_s3::{ContentMetadata, MetadataLocation, ObjectCrypto};
//!
//! # async fn demo() -> envelope_s3::Result<()> {
//! let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new())?);
//! let object = crypto.encrypt(b"report".to_vec(), &BTreeMap::new()).await?;
//! let user_metadata = object.metadata.to_object_metadata();
//!
//! // ... later, from a GetObject response:
//! let MetadataLocation::Object(metadata) = ContentMetadata::locate(&user_metadata)? else {
//!     unreachable!("written to the object's metadata");
//! };
//! assert_eq!(crypto.decrypt(&metadata, object.body, &BTreeMap::new()).await?, b"report");
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
mod content;
pub mod error;
pub mod metadata;
pub mod object;
pub mod rotation;
pub mod suite;
#[cfg(test)]
mod test_support;
pub mod wrap;

#[doc(hidden)]
pub mod __bench;
#[doc(hidden)]
pub mod __fuzz;

pub use client::{PutOptions, S3EncryptionClient};
pub use error::{Error, Result};
pub use metadata::{
    ContentMetadata, ContentParams, FormatVersion, KeyDescription, MetadataLocation, PendingInstructionFile,
    WrapAlgorithm,
};
pub use object::{EncryptedObject, ObjectCrypto};
pub use suite::{CommitmentPolicy, ContentSuite};
