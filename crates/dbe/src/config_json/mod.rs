//! Table configs as JSON: the form of the DB-ESDK test vectors' `config` objects and
//! `configs.json` table configs, which the CLI also reads (`--table-config FILE`).
//!
//! ```json
//! {
//!   "logicalTableName": "Orders", "partitionKeyName": "OrderId", "sortKeyName": "Line",
//!   "attributeActionsOnEncrypt": {"OrderId": "SIGN_ONLY", "Line": "SIGN_ONLY", "Card": "ENCRYPT_AND_SIGN"},
//!   "allowedUnsignedAttributes": ["Note"], "allowedUnsignedAttributePrefix": ":",
//!   "algorithmSuiteId": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
//!   "plaintextOverride": "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ",
//!   "search": {"writeVersion": 1, "versions": [{"keySource": {"keyId": "..."},
//!              "standardBeacons": [{"Name": "Card", "Length": 16}]}]}
//! }
//! ```
//!
//! Every member is optional; absent ones take the vectors' defaults (`logicalTableName`
//! `GazelleVectorTable`, `partitionKeyName` `RecNum`, no actions). Unknown members are refused.
//! `search` is checked against the actions here ([`BeaconVersion::new`]), so a parsed config's
//! beacon versions are valid. `search` is described in the `search` module.

mod reader;
mod search;

use std::collections::BTreeMap;

use envelope::AlgorithmSuite;
use serde_json::Value;

use crate::beacon::{BeaconError, BeaconVersion};
use crate::item::{CryptoAction, PlaintextOverride, TableConfig};
use reader::{bad, each, member_path, name, object, string};
pub use search::{BeaconVersionJson, DEFAULT_CACHE_TTL_SECONDS, KeySourceJson, SearchConfigJson};

/// The logical table name when a config gives none (the test vectors' table).
///
/// ```
/// assert_eq!(envelope_dbe::config_json::DEFAULT_TABLE_NAME, "GazelleVectorTable");
/// ```
pub const DEFAULT_TABLE_NAME: &str = "GazelleVectorTable";
/// The partition key name when a config gives none (the test vectors' key).
///
/// ```
/// assert_eq!(envelope_dbe::config_json::DEFAULT_PARTITION_KEY, "RecNum");
/// ```
pub const DEFAULT_PARTITION_KEY: &str = "RecNum";

/// A JSON table config that could not be read; `path` names the member.
///
/// ```
/// use envelope_dbe::config_json::{table_config_from_json, ConfigJsonError};
///
/// let misspelt = table_config_from_json(br#"{"partitionKey": "Id"}"#).unwrap_err();
/// assert!(matches!(misspelt, ConfigJsonError::UnknownMember { .. }));
/// assert!(matches!(table_config_from_json(b"{"), Err(ConfigJsonError::Syntax(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigJsonError {
    /// The bytes are not JSON.
    #[error("table config is not JSON: {0}")]
    Syntax(String),
    /// A member has the wrong type or value.
    #[error("table config {path}: {problem}")]
    Invalid {
        /// Where (`search.versions[0].standardBeacons[1].Length`; empty for the whole config).
        path: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A member the format does not have (often a misspelling).
    #[error("table config: unknown member {path}")]
    UnknownMember {
        /// The member's path.
        path: String,
    },
    /// A beacon configuration the DB-ESDK rules refuse.
    #[error("table config {path}: {source}")]
    Beacon {
        /// The beacon, part or version concerned.
        path: String,
        /// The rule broken (boxed: it is large, and errors travel through every reader).
        #[source]
        source: Box<BeaconError>,
    },
}

/// A parsed table config.
///
/// ```
/// use envelope_dbe::config_json::table_config_from_json;
///
/// let parsed = table_config_from_json(br#"{"logicalTableName": "Orders", "partitionKeyName": "Id",
///     "attributeActionsOnEncrypt": {"Id": "SIGN_ONLY"}}"#)?;
/// assert_eq!(parsed.table.partition_key, "Id");
/// assert!(parsed.algorithm_suite.is_none() && parsed.search.is_none() && !parsed.empty);
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ParsedTableConfig {
    /// Item encryption settings.
    pub table: TableConfig,
    /// `algorithmSuiteId`, when given (a decryptor takes the suite from the item instead).
    pub algorithm_suite: Option<AlgorithmSuite>,
    /// `key`: a keyring description in the Material Providers test-vector format, kept as
    /// given; `None` means the vectors' default (hierarchical keyring on `static-branch-key-1`).
    pub key: Option<Value>,
    /// `search`: the beacon versions.
    pub search: Option<SearchConfigJson>,
    /// True when the config object was empty: the query vectors' stand-in for a plain client
    /// that neither encrypts nor signs.
    pub empty: bool,
}

const MEMBERS: &[&str] = &[
    "logicalTableName",
    "partitionKeyName",
    "sortKeyName",
    "attributeActionsOnEncrypt",
    "allowedUnsignedAttributes",
    "allowedUnsignedAttributePrefix",
    "algorithmSuiteId",
    "plaintextOverride",
    "key",
    "search",
];

/// Parses a table config from JSON bytes.
///
/// ```
/// use envelope_dbe::config_json::table_config_from_json;
/// use envelope_dbe::item::CryptoAction;
///
/// let parsed = table_config_from_json(br#"{
///     "attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "Name": "ENCRYPT_AND_SIGN"},
///     "search": {"versions": [{"keySource": {"keyFieldName": "Tenant"},
///                              "standardBeacons": [{"Name": "Name", "Length": 16}]}]}
/// }"#)?;
/// assert_eq!(parsed.table.logical_table_name, "GazelleVectorTable");
/// assert_eq!(parsed.table.action_of("Name"), CryptoAction::EncryptAndSign);
/// let search = parsed.search.expect("a search config");
/// assert_eq!(search.write().config.standard_beacons[0].name(), "Name");
///
/// // Errors name the member.
/// let error = table_config_from_json(br#"{"attributeActionsOnEncrypt": {"a": "ENCRYPT"}}"#).unwrap_err();
/// assert_eq!(error.to_string(), "table config attributeActionsOnEncrypt.a: unknown crypto action");
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
pub fn table_config_from_json(bytes: &[u8]) -> Result<ParsedTableConfig, ConfigJsonError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ConfigJsonError::Syntax(e.to_string()))?;
    table_config_from_value(&value)
}

/// Parses a table config that is already JSON (e.g. a manifest record's `config`).
///
/// ```
/// use envelope_dbe::config_json::table_config_from_value;
///
/// // A config embedded in a larger JSON document, e.g. a test-vector record.
/// let record = serde_json::json!({"config": {"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY"}}});
/// let parsed = table_config_from_value(&record["config"])?;
/// assert_eq!(parsed.table.partition_key, "RecNum");
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
pub fn table_config_from_value(value: &Value) -> Result<ParsedTableConfig, ConfigJsonError> {
    let map = object(value, "", MEMBERS)?;
    let text = |member: &str| -> Result<Option<&str>, ConfigJsonError> {
        map.get(member).map(|v| name(v, member)).transpose()
    };
    let mut table = TableConfig::new(
        text("logicalTableName")?.unwrap_or(DEFAULT_TABLE_NAME),
        text("partitionKeyName")?.unwrap_or(DEFAULT_PARTITION_KEY),
    );
    table.sort_key = text("sortKeyName")?.map(str::to_owned);
    if let Some(v) = map.get("attributeActionsOnEncrypt") {
        table.actions = actions(v)?;
    }
    if let Some(v) = map.get("allowedUnsignedAttributes") {
        let path = "allowedUnsignedAttributes";
        table.allowed_unsigned_attributes = each(v, path, |v, p| Ok(name(v, p)?.to_owned()))?;
    }
    if let Some(v) = map.get("allowedUnsignedAttributePrefix") {
        table.allowed_unsigned_prefix = Some(string(v, "allowedUnsignedAttributePrefix")?.to_owned());
    }
    if let Some(v) = map.get("plaintextOverride") {
        let path = "plaintextOverride";
        table.plaintext_override =
            string(v, path)?.parse::<PlaintextOverride>().map_err(|_| bad(path, "unknown plaintext override"))?;
    }
    let algorithm_suite = map.get("algorithmSuiteId").map(suite).transpose()?;
    let search = map.get("search").map(|v| search::search(v, "search")).transpose()?;
    if let Some(search) = &search {
        for (i, version) in search.versions.iter().enumerate() {
            BeaconVersion::new(version.config.clone(), &table.actions).map_err(|source| ConfigJsonError::Beacon {
                path: reader::index_path(&member_path("search", "versions"), i),
                source: Box::new(source),
            })?;
        }
    }
    Ok(ParsedTableConfig { table, algorithm_suite, key: map.get("key").cloned(), search, empty: map.is_empty() })
}

fn actions(value: &Value) -> Result<BTreeMap<String, CryptoAction>, ConfigJsonError> {
    let path = "attributeActionsOnEncrypt";
    let map = value.as_object().ok_or_else(|| bad(path, "expected an object"))?;
    map.iter()
        .map(|(attribute, action)| {
            let at = member_path(path, attribute);
            if attribute.is_empty() {
                return Err(bad(&at, "an attribute name must not be empty"));
            }
            let action = string(action, &at)?.parse::<CryptoAction>().map_err(|_| bad(&at, "unknown crypto action"))?;
            Ok((attribute.clone(), action))
        })
        .collect()
}

/// A DB-ESDK suite by its Material Providers name, or its id as `0x6700` / `0x6701`.
fn suite(value: &Value) -> Result<AlgorithmSuite, ConfigJsonError> {
    let path = "algorithmSuiteId";
    match string(value, path)? {
        "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384" | "0x6700" => {
            Ok(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384)
        }
        "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384" | "0x6701" => {
            Ok(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384)
        }
        _ => Err(bad(path, "not a DB-ESDK algorithm suite")),
    }
}

/// The name the vectors use for a DB-ESDK suite (the inverse of what `algorithmSuiteId` accepts).
///
/// ```
/// use envelope::AlgorithmSuite;
/// use envelope_dbe::config_json::suite_name;
///
/// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
/// assert_eq!(suite_name(suite), Some("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"));
/// assert_eq!(suite_name(AlgorithmSuite::DEFAULT), None);
/// ```
pub fn suite_name(suite: AlgorithmSuite) -> Option<&'static str> {
    match suite {
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => {
            Some("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384")
        }
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => {
            Some("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
