//! The hierarchical keyring (`aws-kms-hierarchy`): data keys wrapped locally under keys derived
//! from long-lived *branch keys*, which a [`KeyStore`] keeps (protected by KMS in the real stores).
//!
//! - [`key_store`]: the [`KeyStore`] trait, branch/beacon key materials and [`KeyStoreError`].
//!   The SQLite and DynamoDB stores (crate `envelope-keystore`) implement it.
//! - [`StaticKeyStore`]: branch keys given directly (test vectors, tests).
//! - [`HierarchicalKeyring`]: the keyring, with a fixed branch key id or a [`BranchKeyIdSupplier`].
//! - [`cache`]: [`BranchKeyCache`], shareable, with TTL, LRU capacity and storm tracking.
//! - [`wrapping`]: the EDK bytes (derivation, AAD, layout); [`intermediate`]: the DB-ESDK
//!   suites' intermediate-key wrapping on top of it.
//!
//! Nothing here needs the AWS SDK: KMS enters only through the key stores.
//!
//! spec: framework/aws-kms/aws-kms-hierarchical-keyring.md, framework/branch-key-store.md

pub mod cache;
pub mod intermediate;
pub mod key_store;
mod keyring;
mod static_store;
pub mod wrapping;

pub use cache::BranchKeyCache;
pub use key_store::{
    BRANCH_KEY_LEN, BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, InvalidBranchKeyMaterials, KeyStore,
    KeyStoreError, KeyStoreErrorKind, KeyStoreOperation,
};
pub use keyring::{BranchKeyIdSupplier, HierarchicalKeyring, HierarchicalKeyringBuilder};
pub use static_store::{StaticKeyStore, StaticKeyStoreConflict};
