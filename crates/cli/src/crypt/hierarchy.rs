//! The hierarchical keyring of `-w branch-key-id=ID key-store=STORE kms-key=KMS_KEY ...`: a branch
//! key store (SQLite or DynamoDB) whose items are decrypted through the command's KMS.
//!
//! The keyring reports a key store failure to the message layer as text (the library's error has
//! no room for the store's type), so the store is wrapped in [`ObservedKeyStore`], which keeps the
//! typed [`KeyStoreError`]; the command then gives the failure the right exit code and a hint
//! that names the flag to change ([`KeyStoreErrors::explain`]).
//!
//! Branch key material lives only in the keyring's in-memory cache: nothing is written to disk.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use envelope::Keyring;
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, HierarchicalKeyring, KeyStore, KeyStoreError, KeyStoreErrorKind,
};
use envelope_keystore::{BranchKeyStore, KmsConfiguration};

use super::wrapping_keys::HierarchyGroup;
use crate::exit_code::{Failure, Kind};
use crate::kms_choice::KmsSession;

/// The key store failures of the current job (the last one wins), shared with the stores.
#[derive(Debug, Clone, Default)]
pub struct KeyStoreErrors(Arc<Mutex<Option<KeyStoreError>>>);

impl KeyStoreErrors {
    fn record(&self, error: &KeyStoreError) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error.clone());
    }

    /// The failure recorded since the last call, if any (and forgets it: each job starts clean).
    pub fn take(&self) -> Option<KeyStoreError> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }

    /// `failure` with the exit code and hint of the key store failure behind it, when a key store
    /// failed during the job and `failure` is the keyring's (nothing unwrapped, or the key
    /// service failed). Forgets the recorded failure either way.
    pub fn explain(&self, failure: Failure) -> Failure {
        let recorded = self.take();
        // The keyring's error may sit under the database layer's (an item that could not be
        // encrypted because its materials could not be had).
        let from_keyring = failure
            .error
            .chain()
            .any(|cause| matches!(cause.downcast_ref::<envelope::Error>(), Some(envelope::Error::Keyring(_))));
        match recorded {
            Some(error) if from_keyring => Failure {
                kind: match error.kind() {
                    KeyStoreErrorKind::InvalidRequest { .. } => Kind::Usage,
                    _ => Kind::Kms,
                },
                error: failure.error,
                hint: Some(hint_for(error.kind())),
            },
            _ => failure,
        }
    }
}

/// What to change on the command line (or in the store) for each kind of key store failure.
fn hint_for(kind: &KeyStoreErrorKind) -> &'static str {
    match kind {
        KeyStoreErrorKind::NoSuchKey => {
            "the branch key (or the version the message names) is not in this key store: check branch-key-id= and \
             key-store= (envelope keystore describe --store STORE --branch-key-id ID lists its versions), or create \
             it with envelope keystore create-key"
        }
        KeyStoreErrorKind::NoSuchStore { .. } => {
            "the key store does not exist: check key-store= (sqlite:PATH, or dynamodb:TABLE with the AWS \
             configuration, e.g. AWS_ENDPOINT_URL_DYNAMODB), or create it with envelope keystore create --store STORE"
        }
        KeyStoreErrorKind::KmsKeyMismatch { .. } => {
            "kms-key= must name the KMS key the branch key was created under (envelope keystore describe shows it)"
        }
        KeyStoreErrorKind::ItemTampered { .. } => {
            "the key store's item for this branch key does not authenticate: it was modified, or logical-name= \
             differs from the name the key was created with; do not use the item, restore it from a backup"
        }
        KeyStoreErrorKind::KmsDenied { .. } => {
            "KMS refused to decrypt the branch key: check kms-key=, that the KMS key is enabled, its Region, and your \
             access (--kms chooses between AWS and the embedded emulator)"
        }
        _ => "the key store could not serve the branch key; the message above says why",
    }
}

/// A key store that records its failures in a [`KeyStoreErrors`] before returning them.
#[derive(Debug)]
pub struct ObservedKeyStore {
    inner: BranchKeyStore,
    errors: KeyStoreErrors,
}

impl ObservedKeyStore {
    fn observe<T>(&self, result: Result<T, KeyStoreError>) -> Result<T, KeyStoreError> {
        if let Err(error) = &result {
            self.errors.record(error);
        }
        result
    }
}

#[async_trait]
impl KeyStore for ObservedKeyStore {
    fn logical_key_store_name(&self) -> &str {
        self.inner.logical_key_store_name()
    }

    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.observe(self.inner.get_active_branch_key(branch_key_id).await)
    }

    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.observe(self.inner.get_branch_key_version(branch_key_id, version).await)
    }

    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        self.observe(self.inner.get_beacon_key(branch_key_id).await)
    }
}

/// Builds the keyring of one hierarchy group. `kms_data_dir` places the default store.
pub async fn keyring(
    group: &HierarchyGroup,
    kms: &KmsSession,
    kms_data_dir: Option<PathBuf>,
    errors: &KeyStoreErrors,
) -> Result<Arc<dyn Keyring>, Failure> {
    let observed = key_store(group, kms, kms_data_dir, errors).await?;
    let keyring = HierarchicalKeyring::builder(observed)
        .branch_key_id(group.branch_key_id.clone())
        .ttl(group.cache_ttl)
        .build()
        .map_err(Failure::from)?;
    Ok(Arc::new(keyring))
}

/// Opens the key store of one hierarchy group, bound to its `kms-key=` and recording its failures
/// in `errors`: what the keyring reads branch keys from, and `envelope db` its beacon keys too.
pub async fn key_store(
    group: &HierarchyGroup,
    kms: &KmsSession,
    kms_data_dir: Option<PathBuf>,
    errors: &KeyStoreErrors,
) -> Result<ObservedKeyStore, Failure> {
    let flag = |message: String| format!("--wrapping-keys branch-key-id={}: {message}", group.branch_key_id);
    let kms_key = kms_key_arn(&group.kms_key, kms).await.map_err(|failure| failure.context(flag("kms-key=".into())))?;
    // spec: branch-key-store.md#aws-key-arn-compatibility — a fixed key ARN: an item naming any
    // other key is refused before KMS is called (KmsKeyMismatch), which is how kms-key= is enforced.
    let configuration = KmsConfiguration::key_arn(&kms_key)
        .map_err(|error| Failure::usage(flag(format!("kms-key={}: {error}", group.kms_key))))?;
    let (storage, logical_name) = group
        .key_store
        .open(group.logical_name.as_deref(), kms_data_dir)
        .await
        .map_err(|error| Failure::new(Kind::Usage, error.context(flag("key-store=".into()))))?;
    let store = BranchKeyStore::new(storage, logical_name, configuration, kms.supplier());
    Ok(ObservedKeyStore { inner: store, errors: errors.clone() })
}

/// The key ARN of `kms_key`: an ARN as given (aliases ARNs are refused by the store's
/// configuration), a key id or alias resolved through KMS. The store compares the resolved ARN
/// with each item's `kms-arn`, so an alias repointed at another key is refused, not followed.
async fn kms_key_arn(kms_key: &str, kms: &KmsSession) -> Result<String, Failure> {
    if kms_key.starts_with("arn:") {
        return Ok(kms_key.to_owned());
    }
    let region = kms.region_for(kms_key, None).map_err(|error| Failure::new(Kind::Usage, error))?;
    let client = kms.client(&region).map_err(|error| Failure::new(Kind::Kms, error))?;
    super::keyrings::resolve_arn(&client, kms_key).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::error::KeyringError;
    use envelope_keyrings::hierarchy::KeyStoreOperation;

    #[test]
    fn a_recorded_store_failure_sets_the_exit_code_and_hint_once() {
        let keyring_failure = || Failure::from(envelope::Error::from(KeyringError::NoDataKeyUnwrapped(Vec::new())));
        let errors = KeyStoreErrors::default();
        errors.record(
            &KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey).for_key("b1"),
        );
        let explained = errors.explain(keyring_failure());
        assert_eq!(explained.kind, Kind::Kms);
        assert!(explained.hint.is_some_and(|hint| hint.contains("branch-key-id=")));
        // Forgotten: the next job's failure is its own.
        let next = errors.explain(keyring_failure());
        assert_eq!(next.kind, Kind::Message);
        assert!(next.hint.is_some_and(|hint| !hint.contains("branch-key-id=")));

        errors.record(&KeyStoreError::new(
            KeyStoreOperation::GetActiveBranchKey,
            KeyStoreErrorKind::InvalidRequest { message: "x".into() },
        ));
        assert_eq!(errors.explain(keyring_failure()).kind, Kind::Usage);
        // A failure that is not the keyring's (a file error) keeps its own code and hint.
        errors.record(&KeyStoreError::new(KeyStoreOperation::GetActiveBranchKey, KeyStoreErrorKind::NoSuchKey));
        let files = errors.explain(Failure::files("disk full"));
        assert_eq!(files.kind, Kind::Files);
        assert!(files.hint.is_none());
    }
}
