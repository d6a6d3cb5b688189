//! The key store's operations, the same over every backend: CreateKeyStore, CreateKey,
//! VersionKey, GetActiveBranchKey, GetBranchKeyVersion, GetBeaconKey (and DescribeKey).
//!
//! spec: framework/branch-key-store.md

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, KeyStore, KeyStoreError, KeyStoreErrorKind,
    KeyStoreOperation,
};
use async_trait::async_trait;
use envelope_keyrings::kms::{KmsArn, KmsClientSupplier};

use crate::item::{self, ACTIVE_TYPE, BEACON_TYPE, ItemKind, KeyItem, VERSION_PREFIX};
use crate::kms_calls::{self, KmsFailure};
use crate::kms_config::KmsConfiguration;
use crate::storage::{KeyStorage, StorageError};

/// A branch key store: items in a [`KeyStorage`] backend, protected by KMS.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::DefaultClientSupplier;
/// use envelope_keystore::{BranchKeyStore, CreateKeyRequest, KeyStorage, KmsConfiguration, SqliteStorage};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let kms = KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")?;
/// let clients = Arc::new(DefaultClientSupplier::from_env().await);
/// let store = BranchKeyStore::new(SqliteStorage::new("keys.sqlite3"), "keys", kms, clients)
///     .with_grant_tokens(vec!["grant-token".into()]); // only if the KMS key is used through a grant
/// store.create_key_store().await?;
/// let branch_key_id = store.create_key(CreateKeyRequest::new()).await?;
/// store.version_key(&branch_key_id).await?;
///
/// // Looking, without KMS: the records of the key (no key material).
/// for record in store.describe_key(&branch_key_id).await? {
///     println!("{} created {}", record.item_type, record.create_time);
/// }
/// println!("{} under {:?}", store.storage().name(), store.kms_configuration());
/// # Ok(())
/// # }
/// ```
pub struct BranchKeyStore {
    storage: Arc<dyn KeyStorage>,
    logical_name: String,
    kms: KmsConfiguration,
    clients: Arc<dyn KmsClientSupplier>,
    grant_tokens: Vec<String>,
}

impl fmt::Debug for BranchKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BranchKeyStore")
            .field("storage", &self.storage)
            .field("logical_name", &self.logical_name)
            .field("kms", &self.kms.describe())
            .finish()
    }
}

/// What CreateKey creates.
///
/// ```
/// use envelope_keystore::CreateKeyRequest;
///
/// // A generated id (a UUID) and no custom context:
/// let generated = CreateKeyRequest::new();
/// // A chosen id, which the MPL accepts only with a custom encryption context:
/// let named = CreateKeyRequest::new().branch_key_id("tenant-a").context("tenant", "acme");
/// # let _ = (generated, named);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CreateKeyRequest {
    branch_key_id: Option<String>,
    encryption_context: BTreeMap<String, String>,
}

impl CreateKeyRequest {
    /// A new branch key with a generated id (a version 4 UUID) and no custom encryption context.
    pub fn new() -> CreateKeyRequest {
        CreateKeyRequest::default()
    }

    /// Uses `id` as the branch key id. The MPL requires a custom encryption context with it.
    pub fn branch_key_id(mut self, id: impl Into<String>) -> CreateKeyRequest {
        self.branch_key_id = Some(id.into());
        self
    }

    /// Binds `key` = `value` to every record of the key (stored as `aws-crypto-ec:<key>`).
    pub fn context(mut self, key: impl Into<String>, value: impl Into<String>) -> CreateKeyRequest {
        self.encryption_context.insert(key.into(), value.into());
        self
    }
}

/// One record of a branch key, without key material (for `keystore describe`).
///
/// ```no_run
/// use envelope_keystore::{BranchKeyStore, ItemDescription};
///
/// # async fn demo(store: BranchKeyStore) -> Result<(), Box<dyn std::error::Error>> {
/// for ItemDescription { item_type, version, create_time, .. } in store.describe_key("tenant-a").await? {
///     println!("{item_type} {} created {create_time}", version.as_deref().unwrap_or("-"));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDescription {
    /// `branch:ACTIVE`, `beacon:ACTIVE` or `branch:version:<uuid>`.
    pub item_type: String,
    /// The version (UUID) for ACTIVE and version records.
    pub version: Option<String>,
    /// `create-time`.
    pub create_time: String,
    /// `kms-arn`.
    pub kms_arn: String,
    /// The custom encryption context (without the `aws-crypto-ec:` prefix).
    pub encryption_context: BTreeMap<String, String>,
}

impl BranchKeyStore {
    /// A key store over `storage`, bound to `logical_name` (part of every item's KMS encryption
    /// context: items copied under another name do not decrypt), using `kms` with clients from
    /// `clients`.
    pub fn new(
        storage: impl KeyStorage + 'static,
        logical_name: impl Into<String>,
        kms: KmsConfiguration,
        clients: Arc<dyn KmsClientSupplier>,
    ) -> BranchKeyStore {
        BranchKeyStore {
            storage: Arc::new(storage),
            logical_name: logical_name.into(),
            kms,
            clients,
            grant_tokens: Vec::new(),
        }
    }

    /// KMS grant tokens sent with every call.
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> BranchKeyStore {
        self.grant_tokens = grant_tokens;
        self
    }

    /// The backend.
    pub fn storage(&self) -> &dyn KeyStorage {
        self.storage.as_ref()
    }

    /// The KMS configuration.
    pub fn kms_configuration(&self) -> &KmsConfiguration {
        &self.kms
    }

    /// CreateKeyStore: creates the table or file, or checks that an existing one is a key store.
    /// Returns the table ARN or the file path.
    pub async fn create_key_store(&self) -> Result<String, KeyStoreError> {
        self.storage.create().await.map_err(|e| storage_error(KeyStoreOperation::CreateKeyStore, e))
    }

    /// CreateKey: a branch key (first version + ACTIVE) and its beacon key, in one atomic write.
    /// Returns the branch key id.
    pub async fn create_key(&self, request: CreateKeyRequest) -> Result<String, KeyStoreError> {
        let operation = KeyStoreOperation::CreateKey;
        let key = self.writable_key(operation)?;
        // spec: branch-key-store.md#createkey — a caller's id needs a custom context (MPL rule).
        if request.branch_key_id.is_some() && request.encryption_context.is_empty() {
            return Err(usage(
                operation,
                "a caller-chosen branch key id needs a custom encryption context, as in the MPL: add context pairs, or let the store generate the id",
            )
            .for_key(request.branch_key_id.clone().unwrap_or_default()));
        }
        for key in request.encryption_context.keys() {
            item::check_custom_key(key).map_err(|m| usage(operation, &m))?;
        }
        let branch_key_id = match request.branch_key_id {
            Some(id) if id.is_empty() => return Err(usage(operation, "the branch key id is empty")),
            Some(id) => id,
            None => new_uuid(operation)?,
        };
        let fail = |kind| KeyStoreError::new(operation, kind).for_key(branch_key_id.clone());
        let version = new_uuid(operation)?;
        let create_time = now()?;
        let client = self.client(operation, &key)?;
        let key_id = key.to_string();

        let version_context =
            KeyItem::version_context(&branch_key_id, &version, &create_time, &key_id, &request.encryption_context);
        let active_context = KeyItem::active_context_from_version(&version_context);
        let beacon_context = KeyItem::beacon_context_from_version(&version_context);

        // The MPL's three calls, in its order: DECRYPT_ONLY generated, ACTIVE re-encrypted from
        // it (same key, new context), beacon generated.
        let (version_enc, active_enc) = self
            .wrap_new_version(&client, &key_id, &version_context, &active_context)
            .await
            .map_err(|f| fail(kms_kind(&key_id, f)))?;
        let beacon_context_with_table = kms_context(&beacon_context, &self.logical_name);
        let beacon_enc =
            kms_calls::generate_wrapped_key(&client, &key_id, beacon_context_with_table, &self.grant_tokens)
                .await
                .map_err(|f| fail(kms_kind(&key_id, f)))?;

        let build = |context, enc| {
            KeyItem::from_context(context, enc).map_err(|m| fail(KeyStoreErrorKind::MalformedItem { message: m }))
        };
        let version_item = build(version_context, version_enc)?;
        let active_item = build(active_context, active_enc)?;
        let beacon_item = build(beacon_context, beacon_enc)?;
        self.storage.write_new_key(version_item.to_raw(), active_item.to_raw(), beacon_item.to_raw()).await.map_err(
            |e| match e {
                StorageError::Conflict(m) => fail(KeyStoreErrorKind::Conflict {
                    message: format!("branch key id {branch_key_id} already exists ({m})"),
                }),
                other => storage_error(operation, other).for_key(branch_key_id.clone()),
            },
        )?;
        tracing::info!(branch_key_id = %branch_key_id, version = %version, store = %self.storage.name(), "created branch key");
        Ok(branch_key_id)
    }

    /// VersionKey: a new active version. The old versions stay (messages name the version they
    /// were written with). Returns the new version.
    pub async fn version_key(&self, branch_key_id: &str) -> Result<String, KeyStoreError> {
        let operation = KeyStoreOperation::VersionKey;
        let key = self.writable_key(operation)?;
        let fail = |kind| KeyStoreError::new(operation, kind).for_key(branch_key_id);
        let active = self.read_item(operation, branch_key_id, ACTIVE_TYPE).await?;
        // spec: branch-key-store.md#versionkey — the stored kms-arn must be compatible, and stays.
        let stored_arn = active.kms_arn().to_owned();
        if !self.kms.accepts(&stored_arn) {
            return Err(fail(KeyStoreErrorKind::KmsKeyMismatch { expected: key.to_string(), found: stored_arn }));
        }
        let key_id = key.to_string();
        let client = self.client(operation, &key)?;
        // Authenticate the ACTIVE item (the attributes a new version copies) without decrypting it.
        let context = active.kms_context(&self.logical_name);
        kms_calls::re_encrypt(&client, &key_id, active.enc(), context.clone(), context, &self.grant_tokens)
            .await
            .map_err(|f| fail(kms_kind(&key_id, f)))?;

        let version = new_uuid(operation)?;
        let version_context = KeyItem::next_version_context(active.context(), &version, &now()?);
        let active_context = KeyItem::active_context_from_version(&version_context);
        let (version_enc, active_enc) = self
            .wrap_new_version(&client, &key_id, &version_context, &active_context)
            .await
            .map_err(|f| fail(kms_kind(&key_id, f)))?;
        let build = |context, enc| {
            KeyItem::from_context(context, enc).map_err(|m| fail(KeyStoreErrorKind::MalformedItem { message: m }))
        };
        let version_item = build(version_context, version_enc)?;
        let active_item = build(active_context, active_enc)?;
        self.storage.write_new_version(version_item.to_raw(), active_item.to_raw(), active.enc()).await.map_err(
            |e| match e {
                StorageError::Conflict(m) => fail(KeyStoreErrorKind::Conflict { message: m }),
                other => storage_error(operation, other).for_key(branch_key_id),
            },
        )?;
        tracing::info!(branch_key_id = %branch_key_id, version = %version, store = %self.storage.name(), "rotated branch key");
        Ok(version)
    }

    /// Every record of a branch key, without key material and without calling KMS (so nothing
    /// here is authenticated: use it to look, not to decide).
    pub async fn describe_key(&self, branch_key_id: &str) -> Result<Vec<ItemDescription>, KeyStoreError> {
        describe_key(self.storage.as_ref(), branch_key_id).await
    }

    /// A new version's two wrapped copies, as CreateKey and VersionKey both make them: the
    /// DECRYPT_ONLY record's key generated under its context, then re-encrypted (same key) under
    /// the ACTIVE record's context.
    async fn wrap_new_version(
        &self,
        client: &aws_sdk_kms::Client,
        key_id: &str,
        version_context: &BTreeMap<String, String>,
        active_context: &BTreeMap<String, String>,
    ) -> Result<(Vec<u8>, Vec<u8>), KmsFailure> {
        let version_kms_context = kms_context(version_context, &self.logical_name);
        let version_enc =
            kms_calls::generate_wrapped_key(client, key_id, version_kms_context.clone(), &self.grant_tokens).await?;
        let active_kms_context = kms_context(active_context, &self.logical_name);
        let active_enc = kms_calls::re_encrypt(
            client,
            key_id,
            &version_enc,
            version_kms_context,
            active_kms_context,
            &self.grant_tokens,
        )
        .await?;
        Ok((version_enc, active_enc))
    }

    /// The configured key of a store that may write (not discovery).
    fn writable_key(&self, operation: KeyStoreOperation) -> Result<KmsArn, KeyStoreError> {
        // spec: branch-key-store.md#discovery — CreateKey and VersionKey are not supported.
        self.kms.configured_arn().cloned().ok_or_else(|| {
            usage(operation, &format!("the key store is configured with {}, which can only read; configure a KMS key ARN to create or rotate keys", self.kms.describe()))
        })
    }

    fn client(&self, operation: KeyStoreOperation, key: &KmsArn) -> Result<aws_sdk_kms::Client, KeyStoreError> {
        self.clients.client_for_region(key.region()).map_err(|e| {
            KeyStoreError::new(
                operation,
                KeyStoreErrorKind::KmsDenied { kms_key: key.to_string(), message: format!("no KMS client: {e}") },
            )
        })
    }

    async fn read_item(
        &self,
        operation: KeyStoreOperation,
        branch_key_id: &str,
        item_type: &str,
    ) -> Result<KeyItem, KeyStoreError> {
        let version = item_type.strip_prefix(VERSION_PREFIX);
        let fail = |kind| {
            let error = KeyStoreError::new(operation, kind).for_key(branch_key_id);
            match version {
                Some(v) => error.for_version(v),
                None => error,
            }
        };
        if branch_key_id.is_empty() {
            return Err(usage(operation, "the branch key id is empty"));
        }
        let raw = self
            .storage
            .get_item(branch_key_id, item_type)
            .await
            .map_err(|e| fail(storage_kind(e)))?
            .ok_or_else(|| fail(KeyStoreErrorKind::NoSuchKey))?;
        if let Some(version) = item::unsupported_hierarchy_version(&raw) {
            return Err(fail(KeyStoreErrorKind::UnsupportedHierarchyVersion { version: version.to_owned() }));
        }
        let item = KeyItem::from_raw(raw).map_err(|message| fail(KeyStoreErrorKind::MalformedItem { message }))?;
        // The backend was asked for this key; an item answering for another is not to be used.
        if item.branch_key_id() != branch_key_id || item.item_type() != item_type {
            return Err(fail(KeyStoreErrorKind::MalformedItem {
                message: format!(
                    "asked for ({branch_key_id}, {item_type}), the store returned ({}, {})",
                    item.branch_key_id(),
                    item.item_type()
                ),
            }));
        }
        Ok(item)
    }

    /// Reads and decrypts one item: the `kms-arn` check, then KMS Decrypt with the item's
    /// encryption context (any changed attribute, or another logical name, fails here).
    async fn decrypt_item(
        &self,
        operation: KeyStoreOperation,
        branch_key_id: &str,
        item_type: &str,
    ) -> Result<(KeyItem, BranchKeySecret), KeyStoreError> {
        let item = self.read_item(operation, branch_key_id, item_type).await?;
        let version = match item.kind() {
            ItemKind::Active(v) | ItemKind::Version(v) => Some(v.clone()),
            ItemKind::Beacon => None,
        };
        let fail = |kind| {
            let error = KeyStoreError::new(operation, kind).for_key(branch_key_id);
            match &version {
                Some(v) => error.for_version(v.clone()),
                None => error,
            }
        };
        let stored_arn = item.kms_arn();
        if !self.kms.accepts(stored_arn) {
            let expected = self.kms.configured_arn().map(|a| a.to_string()).unwrap_or_else(|| self.kms.describe());
            return Err(fail(KeyStoreErrorKind::KmsKeyMismatch { expected, found: stored_arn.to_owned() }));
        }
        let key = self.kms.key_for(stored_arn).map_err(|message| fail(KeyStoreErrorKind::MalformedItem { message }))?;
        let key_id = key.to_string();
        let client = self.clients.client_for_region(key.region()).map_err(|e| {
            fail(KeyStoreErrorKind::KmsDenied { kms_key: key_id.clone(), message: format!("no KMS client: {e}") })
        })?;
        let plaintext = kms_calls::decrypt_key(
            &client,
            &key_id,
            item.enc(),
            item.kms_context(&self.logical_name),
            &self.grant_tokens,
        )
        .await
        .map_err(|f| fail(kms_kind(&key_id, f)))?;
        let secret = BranchKeySecret::from_slice(&plaintext)
            .map_err(|e| fail(KeyStoreErrorKind::MalformedItem { message: e.to_string() }))?;
        Ok((item, secret))
    }

    async fn branch_key(
        &self,
        operation: KeyStoreOperation,
        branch_key_id: &str,
        item_type: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        let (item, secret) = self.decrypt_item(operation, branch_key_id, item_type).await?;
        let version = match item.kind() {
            ItemKind::Active(v) | ItemKind::Version(v) => v.clone(),
            ItemKind::Beacon => {
                return Err(KeyStoreError::new(
                    operation,
                    KeyStoreErrorKind::MalformedItem {
                        message: "a beacon item where a branch key was asked for".into(),
                    },
                )
                .for_key(branch_key_id));
            }
        };
        BranchKeyMaterials::new(item.branch_key_id(), version.clone(), item.custom_context(), secret).map_err(|e| {
            KeyStoreError::new(operation, KeyStoreErrorKind::MalformedItem { message: e.to_string() })
                .for_key(branch_key_id)
                .for_version(version)
        })
    }
}

#[async_trait]
impl KeyStore for BranchKeyStore {
    fn logical_key_store_name(&self) -> &str {
        &self.logical_name
    }

    async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials, KeyStoreError> {
        self.branch_key(KeyStoreOperation::GetActiveBranchKey, branch_key_id, ACTIVE_TYPE).await
    }

    async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials, KeyStoreError> {
        let operation = KeyStoreOperation::GetBranchKeyVersion;
        if version.is_empty() {
            return Err(usage(operation, "the branch key version is empty").for_key(branch_key_id));
        }
        self.branch_key(operation, branch_key_id, &format!("{VERSION_PREFIX}{version}")).await
    }

    async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials, KeyStoreError> {
        let (item, secret) = self.decrypt_item(KeyStoreOperation::GetBeaconKey, branch_key_id, BEACON_TYPE).await?;
        Ok(BeaconKeyMaterials::new(item.branch_key_id(), item.custom_context(), secret))
    }
}

/// DescribeKey on a backend alone: needs no KMS (and so authenticates nothing).
///
/// ```
/// use std::collections::BTreeMap;
///
/// use envelope_keystore::item::KeyItem;
/// use envelope_keystore::{describe_key, KeyStorage, SqliteStorage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join(format!("envelope-doc-describe-{}.sqlite3", std::process::id()));
/// let storage = SqliteStorage::new(&path);
/// storage.create().await?;
/// // Records as CreateKey writes them (placeholder ciphertexts: describing decrypts nothing).
/// let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let version =
///     KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &BTreeMap::new());
/// let active = KeyItem::from_context(KeyItem::active_context_from_version(&version), vec![2])?;
/// let beacon = KeyItem::from_context(KeyItem::beacon_context_from_version(&version), vec![3])?;
/// let version = KeyItem::from_context(version, vec![1])?;
/// storage.write_new_key(version.to_raw(), active.to_raw(), beacon.to_raw()).await?;
///
/// let items = describe_key(&storage, "tenant-a").await?;
/// assert_eq!(items.len(), 3);
/// assert!(items.iter().all(|item| item.kms_arn == arn));
/// assert!(describe_key(&storage, "tenant-b").await.is_err());
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok(())
/// # }
/// ```
pub async fn describe_key(
    storage: &dyn KeyStorage,
    branch_key_id: &str,
) -> Result<Vec<ItemDescription>, KeyStoreError> {
    let operation = KeyStoreOperation::DescribeKey;
    let raw =
        storage.list_items(branch_key_id).await.map_err(|e| storage_error(operation, e).for_key(branch_key_id))?;
    if raw.is_empty() {
        return Err(KeyStoreError::new(operation, KeyStoreErrorKind::NoSuchKey).for_key(branch_key_id));
    }
    let mut items = Vec::with_capacity(raw.len());
    for raw in raw {
        if let Some(version) = item::unsupported_hierarchy_version(&raw) {
            return Err(KeyStoreError::new(
                operation,
                KeyStoreErrorKind::UnsupportedHierarchyVersion { version: version.to_owned() },
            )
            .for_key(branch_key_id));
        }
        let item = KeyItem::from_raw(raw).map_err(|message| {
            KeyStoreError::new(operation, KeyStoreErrorKind::MalformedItem { message }).for_key(branch_key_id)
        })?;
        let version = match item.kind() {
            ItemKind::Active(v) | ItemKind::Version(v) => Some(v.clone()),
            ItemKind::Beacon => None,
        };
        items.push(ItemDescription {
            item_type: item.item_type().to_owned(),
            version,
            create_time: item.create_time().to_owned(),
            kms_arn: item.kms_arn().to_owned(),
            encryption_context: item.custom_context(),
        });
    }
    Ok(items)
}

fn kms_context(context: &BTreeMap<String, String>, logical_name: &str) -> std::collections::HashMap<String, String> {
    let mut with_table: std::collections::HashMap<String, String> =
        context.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    with_table.insert(item::TABLE_NAME.into(), logical_name.into());
    with_table
}

fn kms_kind(key_id: &str, failure: KmsFailure) -> KeyStoreErrorKind {
    match failure {
        KmsFailure::ContextMismatch(message) => KeyStoreErrorKind::ItemTampered {
            message: format!(
                "{message} (KMS refused the item's encryption context: an attribute was changed, or the item belongs to another logical key store)"
            ),
        },
        KmsFailure::Refused(message) | KmsFailure::BadResponse(message) => {
            KeyStoreErrorKind::KmsDenied { kms_key: key_id.to_owned(), message }
        }
    }
}

fn storage_kind(error: StorageError) -> KeyStoreErrorKind {
    match error {
        StorageError::NoSuchStore { store } => KeyStoreErrorKind::NoSuchStore { store },
        StorageError::Conflict(message) => KeyStoreErrorKind::Conflict { message },
        StorageError::Backend(message) => KeyStoreErrorKind::Backend { message },
    }
}

fn storage_error(operation: KeyStoreOperation, error: StorageError) -> KeyStoreError {
    KeyStoreError::new(operation, storage_kind(error))
}

fn usage(operation: KeyStoreOperation, message: &str) -> KeyStoreError {
    KeyStoreError::new(operation, KeyStoreErrorKind::InvalidRequest { message: message.to_owned() })
}

/// A version 4 UUID from aws-lc-rs's generator.
fn new_uuid(operation: KeyStoreOperation) -> Result<String, KeyStoreError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| {
        KeyStoreError::new(
            operation,
            KeyStoreErrorKind::Backend { message: "the system random number generator failed".into() },
        )
    })?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string())
}

/// `create-time`: ISO 8601 in UTC with microseconds (`2023-06-03T19:03:29.358123Z`), as the MPL writes it.
fn now() -> Result<String, KeyStoreError> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).map_err(|e| {
        KeyStoreError::new(
            KeyStoreOperation::CreateKey,
            KeyStoreErrorKind::Backend { message: format!("cannot format the time: {e}") },
        )
    })
}
