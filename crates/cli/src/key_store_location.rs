//! Where a branch key store lives, as the command line names it: `sqlite:PATH`, `dynamodb:TABLE`,
//! or (named by nothing) the default SQLite file next to the embedded KMS emulator's data
//! directory. `envelope keystore --store` and the encrypt/decrypt group
//! `-w branch-key-id=... key-store=...` share it, so both find the same store by default.

use std::path::PathBuf;

use envelope_keystore::{DynamoDbStorage, KeyStorage, SqliteStorage};

use crate::embedded_kms;

/// File name of the default SQLite store, next to the embedded KMS emulator's data directory.
pub const DEFAULT_STORE_FILE: &str = "keystore.sqlite3";

/// A key store as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `sqlite:PATH`.
    Sqlite(PathBuf),
    /// `dynamodb:TABLE` (the client comes from the usual AWS configuration).
    DynamoDb(String),
    /// Nothing named: [`DEFAULT_STORE_FILE`] beside the embedded emulator's data directory.
    Default,
}

impl StoreLocation {
    /// Parses `sqlite:PATH` or `dynamodb:TABLE`.
    pub fn parse(spec: &str) -> Result<StoreLocation, String> {
        match spec.split_once(':') {
            Some(("sqlite", path)) if !path.is_empty() => Ok(StoreLocation::Sqlite(PathBuf::from(path))),
            Some(("dynamodb", table)) if !table.is_empty() => Ok(StoreLocation::DynamoDb(table.to_owned())),
            _ => Err(format!("{spec:?}: expected sqlite:PATH or dynamodb:TABLE")),
        }
    }

    /// `spec` parsed, or [`StoreLocation::Default`] when there is none.
    pub fn from_option(spec: Option<&str>) -> Result<StoreLocation, String> {
        spec.map(StoreLocation::parse).transpose().map(|location| location.unwrap_or(StoreLocation::Default))
    }

    /// The backend, and the logical key store name to use with it: `logical_name`, else the
    /// table or file name (what the MPL's examples use, so both sides agree without configuration).
    /// `kms_data_dir` places the default store, as it places the embedded emulator.
    pub async fn open(
        &self,
        logical_name: Option<&str>,
        kms_data_dir: Option<PathBuf>,
    ) -> anyhow::Result<(Box<dyn KeyStorage>, String)> {
        let (storage, default_name): (Box<dyn KeyStorage>, String) = match self {
            StoreLocation::Sqlite(path) => sqlite(path.clone()),
            StoreLocation::DynamoDb(table) => {
                (Box::new(DynamoDbStorage::from_env(table.as_str()).await), table.clone())
            }
            StoreLocation::Default => sqlite(default_path(kms_data_dir)?),
        };
        let logical_name = logical_name.map(str::to_owned).unwrap_or(default_name);
        anyhow::ensure!(
            !logical_name.is_empty(),
            "the logical key store name is empty; give one (--logical-name NAME, or logical-name=NAME in -w)"
        );
        Ok((storage, logical_name))
    }
}

/// The default store's path: beside the embedded emulator's data directory.
fn default_path(kms_data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let kms_dir = embedded_kms::data_dir(kms_data_dir)?;
    Ok(match kms_dir.parent() {
        Some(parent) => parent.join(DEFAULT_STORE_FILE),
        None => kms_dir.join(DEFAULT_STORE_FILE),
    })
}

fn sqlite(path: PathBuf) -> (Box<dyn KeyStorage>, String) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    (Box::new(SqliteStorage::new(path)), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(StoreLocation::parse("sqlite:/tmp/k.db").unwrap(), StoreLocation::Sqlite("/tmp/k.db".into()));
        assert_eq!(StoreLocation::parse("dynamodb:Keys").unwrap(), StoreLocation::DynamoDb("Keys".into()));
        for bad in ["sqlite:", "dynamodb:", "postgres:x", "keys.db", ""] {
            let error = StoreLocation::parse(bad).unwrap_err();
            assert!(error.contains("sqlite:PATH or dynamodb:TABLE"), "{bad}: {error}");
        }
        assert_eq!(StoreLocation::from_option(None).unwrap(), StoreLocation::Default);
    }
}
