//! The quickstart's hierarchical keyring steps: a SQLite branch key store in the work directory, a
//! branch key under the quickstart's KMS key, many records encrypted with one KMS call, and a
//! rotation after which the earlier records still decrypt while new ones use the new version.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::hierarchy::key_store::format_version;
use envelope_keyrings::hierarchy::wrapping::{PROVIDER_ID, version_of};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, HierarchicalKeyring, KeyStore, KeyStoreError,
};
use envelope_keyrings::kms::KmsClientSupplier;
use envelope_keystore::{BranchKeyStore, CreateKeyRequest, KmsConfiguration, SqliteStorage};

use crate::key_store_location::DEFAULT_STORE_FILE;

/// How many records the demonstration encrypts under one cached branch key.
const RECORDS: usize = 100;
/// The keyring's cache TTL in the demonstration.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// What the command-line hints after the steps need.
pub struct HierarchyDemo {
    /// The store as `-w key-store=` names it.
    pub spec: String,
    /// The branch key created.
    pub branch_key_id: String,
}

/// Steps 6 to 8. Prints each; fails if a record does not round-trip or a version is not the one
/// expected.
pub async fn run(supplier: Arc<dyn KmsClientSupplier>, key_arn: &str, dir: &Path) -> anyhow::Result<HierarchyDemo> {
    let path = dir.join(DEFAULT_STORE_FILE);
    let kms = KmsConfiguration::key_arn(key_arn).map_err(anyhow::Error::msg)?;
    // The logical name the CLI uses for this file when logical-name= is not given.
    let store = Arc::new(BranchKeyStore::new(SqliteStorage::new(&path), DEFAULT_STORE_FILE, kms, supplier));
    store.create_key_store().await.context("creating the branch key store")?;
    let branch_key_id = store.create_key(CreateKeyRequest::new()).await.context("creating a branch key")?;
    println!("6. branch key store {} (SQLite): created branch key {branch_key_id}", path.display());
    println!("   under the KMS key; the store holds it encrypted by KMS, never in plaintext");

    let counted = Arc::new(CountingStore { inner: Arc::clone(&store), reads: AtomicUsize::new(0) });
    let writer = keyring(Arc::clone(&counted) as Arc<dyn KeyStore>, &branch_key_id)?;
    let options =
        EncryptOptions::new().encryption_context(EncryptionContext::from([("purpose", "quickstart-hierarchy")]));
    let mut records = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        records.push(writer.encrypt(record(i).as_bytes(), &options).await?);
    }
    let reads = counted.reads.load(Ordering::Relaxed);
    println!(
        "7. encrypted {RECORDS} records with the hierarchical keyring: {reads} KMS call{} (the branch key is",
        if reads == 1 { "" } else { "s" }
    );
    println!("   decrypted once, then cached in memory for {}s)", CACHE_TTL.as_secs());

    let new_version = store.version_key(&branch_key_id).await.context("rotating the branch key")?;
    // A new keyring, as another process would have: it reads each version the messages name.
    let reader = keyring(store as Arc<dyn KeyStore>, &branch_key_id)?;
    for (i, message) in records.iter().enumerate() {
        let decrypted = reader.decrypt(message, &DecryptOptions::new()).await?;
        if decrypted.plaintext != record(i).as_bytes() {
            bail!("record {i} did not round-trip through the hierarchical keyring");
        }
    }
    let after = reader.encrypt(b"after the rotation", &options).await?;
    let named = reader.decrypt(&after, &DecryptOptions::new()).await?.info.encrypted_data_keys.iter().find_map(|edk| {
        (edk.provider_id == PROVIDER_ID).then(|| version_of(&edk.ciphertext).map(format_version)).flatten()
    });
    if named.as_deref() != Some(new_version.as_str()) {
        bail!("a message written after the rotation names version {named:?}, not the new {new_version}");
    }
    println!("8. rotated the branch key to version {new_version}:");
    println!("   the {RECORDS} earlier records still decrypt (each names its version); new ones use the new version");
    Ok(HierarchyDemo { spec: format!("sqlite:{}", path.display()), branch_key_id })
}

fn record(i: usize) -> String {
    format!("record {i}: account 4111-{i:04}, balance {}", i * 37)
}

fn keyring(store: Arc<dyn KeyStore>, branch_key_id: &str) -> anyhow::Result<Client> {
    let keyring = HierarchicalKeyring::builder_shared(store).branch_key_id(branch_key_id).ttl(CACHE_TTL).build()?;
    Ok(Client::with_keyring(keyring))
}

/// Counts the branch key reads (each one KMS Decrypt) the keyring makes.
#[derive(Debug)]
struct CountingStore {
    inner: Arc<BranchKeyStore>,
    reads: AtomicUsize,
}

#[async_trait]
impl KeyStore for CountingStore {
    fn logical_key_store_name(&self) -> &str {
        self.inner.logical_key_store_name()
    }

    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get_active_branch_key(branch_key_id).await
    }

    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get_branch_key_version(branch_key_id, version).await
    }

    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get_beacon_key(branch_key_id).await
    }
}
