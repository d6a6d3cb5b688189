//! The storage seam: what a backend (SQLite, DynamoDB) must do. The key store's logic — KMS
//! calls, encryption contexts, checks — lives in [`crate::BranchKeyStore`] and is the same for
//! every backend; a backend only keeps items and makes two kinds of conditional writes atomic.

use std::fmt;

use async_trait::async_trait;

use crate::item::RawItem;

/// Why a backend call failed.
///
/// ```
/// use envelope_keystore::{KeyStorage, SqliteStorage, StorageError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Every call but create() needs the store to exist.
/// let storage = SqliteStorage::new(std::env::temp_dir().join("envelope-doc-no-such-store/keys.sqlite3"));
/// match storage.get_item("tenant-a", "branch:ACTIVE").await {
///     Err(StorageError::NoSuchStore { store }) => println!("create the key store first: {store}"),
///     other => panic!("unexpected: {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The table or database file does not exist (or is not a key store).
    NoSuchStore {
        /// The table name or file path, and what is wrong with it.
        store: String,
    },
    /// A conditional write lost: an item it must not overwrite exists, or the ACTIVE item changed
    /// since it was read.
    Conflict(String),
    /// Anything else the backend reports (I/O, SQLite, the DynamoDB SDK).
    Backend(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::NoSuchStore { store } => write!(f, "no such key store: {store}"),
            StorageError::Conflict(message) => write!(f, "conditional write failed: {message}"),
            StorageError::Backend(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StorageError {}

/// A place that keeps key-store items, keyed by (`branch-key-id`, `type`).
///
/// ```
/// use envelope_keystore::{KeyStorage, SqliteStorage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Code that only keeps items works on any backend through the trait.
/// async fn has_branch_key(storage: &dyn KeyStorage, id: &str) -> Result<bool, envelope_keystore::StorageError> {
///     Ok(storage.get_item(id, "branch:ACTIVE").await?.is_some())
/// }
///
/// let path = std::env::temp_dir().join(format!("envelope-doc-keystorage-{}.sqlite3", std::process::id()));
/// let storage = SqliteStorage::new(&path);
/// storage.create().await?;
/// assert!(!has_branch_key(&storage, "tenant-a").await?);
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait KeyStorage: Send + Sync + fmt::Debug {
    /// The table name or file path: the default logical key store name, and what errors name.
    fn name(&self) -> &str;

    /// Creates the store if it does not exist, or checks that an existing one has the key-store
    /// schema. Returns its identifier (a table ARN, a file path).
    async fn create(&self) -> Result<String, StorageError>;

    /// The item (`branch_key_id`, `item_type`), if there is one.
    async fn get_item(&self, branch_key_id: &str, item_type: &str) -> Result<Option<RawItem>, StorageError>;

    /// Writes the three records of a new branch key at once, none of which may exist yet (a
    /// branch key id is never reused): all three are written, or none.
    async fn write_new_key(&self, version: RawItem, active: RawItem, beacon: RawItem) -> Result<(), StorageError>;

    /// Writes a new version and replaces the ACTIVE item at once, only if the ACTIVE item's `enc`
    /// is still `expected_active_enc` (so two concurrent rotations cannot both win) and the new
    /// version does not exist.
    async fn write_new_version(
        &self,
        version: RawItem,
        active: RawItem,
        expected_active_enc: &[u8],
    ) -> Result<(), StorageError>;

    /// Every item of `branch_key_id` (for describing a key; order unspecified).
    async fn list_items(&self, branch_key_id: &str) -> Result<Vec<RawItem>, StorageError>;
}

/// A boxed backend is a backend (a command line picks one at run time).
#[async_trait]
impl<S: KeyStorage + ?Sized> KeyStorage for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn create(&self) -> Result<String, StorageError> {
        (**self).create().await
    }

    async fn get_item(&self, branch_key_id: &str, item_type: &str) -> Result<Option<RawItem>, StorageError> {
        (**self).get_item(branch_key_id, item_type).await
    }

    async fn write_new_key(&self, version: RawItem, active: RawItem, beacon: RawItem) -> Result<(), StorageError> {
        (**self).write_new_key(version, active, beacon).await
    }

    async fn write_new_version(
        &self,
        version: RawItem,
        active: RawItem,
        expected_active_enc: &[u8],
    ) -> Result<(), StorageError> {
        (**self).write_new_version(version, active, expected_active_enc).await
    }

    async fn list_items(&self, branch_key_id: &str) -> Result<Vec<RawItem>, StorageError> {
        (**self).list_items(branch_key_id).await
    }
}
