//! Manifest formats: serde-level types and parsers for keys, decrypt and encrypt manifests.
//!
//! Formats: AWS Crypto Tools test-vector framework features 0002 (keys), 0003 (awses-encrypt),
//! 0004 (awses-decrypt), 0005 (master-key descriptions), plus the later versions written by the
//! .NET (decrypt v4) and Dafny (decrypt v5, MPL key descriptions) runners.

pub mod decrypt;
pub mod encrypt;
pub mod key_description;
pub mod keys;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use decrypt::{DecryptManifest, DecryptTest, DecryptionMethod, ExpectedResult};
pub use encrypt::{EncryptManifest, EncryptTest};
pub use key_description::{KeyDescription, RawAlgorithm, RsaPadding};
pub use keys::{KeyEntry, KeyMaterial, KeysManifest};

/// The `manifest` member every manifest opens with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestHeader {
    /// `keys`, `awses-decrypt`, `awses-encrypt`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The feature version the manifest follows.
    pub version: u64,
}

/// The `client` member of a decrypt manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// Which implementation wrote the vectors.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Parses JSON and reads its `manifest` header.
pub fn parse_json(file: &str, bytes: &[u8]) -> Result<(ManifestHeader, Value)> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Error::manifest(file, format!("not valid JSON: {e}")))?;
    let header =
        value.get("manifest").cloned().ok_or_else(|| Error::manifest(file, "no \"manifest\" member")).and_then(
            |h| {
                serde_json::from_value::<ManifestHeader>(h)
                    .map_err(|e| Error::manifest(file, format!("bad \"manifest\" member: {e}")))
            },
        )?;
    Ok((header, value))
}

/// Reads a string member, if present.
pub(crate) fn opt_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// Reads a string → string map member (an encryption context), if present.
pub(crate) fn opt_string_map(
    file: &str,
    obj: &Value,
    key: &str,
) -> Result<Option<std::collections::BTreeMap<String, String>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| Error::manifest(file, format!("\"{key}\".{k:?}: values must be strings")))?;
                out.insert(k.clone(), v.to_string());
            }
            Ok(Some(out))
        }
        Some(_) => Err(Error::manifest(file, format!("\"{key}\" must be an object of strings"))),
    }
}
