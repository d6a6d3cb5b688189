//! # envelope-keystore
//!
//! Branch key stores for the hierarchical keyring (`envelope_keyrings::hierarchy`): where
//! long-lived branch keys and beacon keys live, each protected by an AWS KMS key.
//!
//! - [`BranchKeyStore`]: the operations (CreateKeyStore, CreateKey, VersionKey, GetActiveBranchKey,
//!   GetBranchKeyVersion, GetBeaconKey, and DescribeKey), identical over every backend. It
//!   implements [`envelope_keyrings::hierarchy::KeyStore`]. KMS is configured with a
//!   [`KmsConfiguration`]: a key ARN, a multi-Region key ARN, discovery or multi-Region discovery.
//! - [`SqliteStorage`]: the embedded default, one SQLite file shared safely by many processes.
//! - [`DynamoDbStorage`] (feature `dynamodb`, on by default): the MPL's DynamoDB table.
//!
//! Both backends keep the same records with the same attributes as the AWS Material Providers
//! Library (`branch:ACTIVE`, `branch:version:<uuid>`, `beacon:ACTIVE`; `enc`, `kms-arn`,
//! `create-time`, `hierarchy-version`, custom context as `aws-crypto-ec:<key>`), and KMS binds
//! every attribute plus the logical key store name (`tablename`) into each record's ciphertext.
//! Keys are created as the MPL creates them — GenerateDataKeyWithoutPlaintext, then ReEncrypt —
//! so branch key plaintext exists only in memory after a KMS Decrypt, in a zeroizing buffer,
//! never logged (its Debug is redacted).
//!
//! spec: framework/branch-key-store.md
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ddb_json;
/// The hierarchical keyring's key store seam, which [`BranchKeyStore`] implements (re-exported
/// from `envelope-keyrings`).
pub use envelope_keyrings::hierarchy;
#[cfg(feature = "dynamodb")]
mod dynamodb;
pub mod item;
mod kms_calls;
mod kms_config;
mod sqlite;
mod storage;
mod store;

#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoDbStorage;
pub use kms_config::KmsConfiguration;
pub use sqlite::SqliteStorage;
pub use storage::{KeyStorage, StorageError};
pub use store::{BranchKeyStore, CreateKeyRequest, ItemDescription, describe_key};
