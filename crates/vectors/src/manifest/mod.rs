//! Manifest formats: serde-level types and parsers for keys, decrypt and encrypt manifests.
//!
//! Formats: AWS Crypto Tools test-vector framework features 0002 (keys), 0003 (awses-encrypt),
//! 0004 (awses-decrypt), 0005 (master-key descriptions), plus the later versions written by the
//! .NET (decrypt v4) and Dafny (decrypt v5, MPL key descriptions) runners.

pub(crate) mod decrypt;
pub(crate) mod encrypt;
pub(crate) mod key_description;
pub(crate) mod keys;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use decrypt::{DecryptManifest, DecryptTest, DecryptionMethod, ExpectedResult};
pub use key_description::{KeyDescription, RawAlgorithm, RsaPadding};
pub use keys::{KeyEntry, KeyMaterial, KeysManifest};

/// The `manifest` member every manifest opens with.
///
/// ```
/// use envelope_vectors::manifest::KeysManifest;
///
/// let manifest = KeysManifest::parse("keys.json", br#"{"manifest": {"type": "keys", "version": 4}, "keys": {}}"#)?;
/// assert_eq!((manifest.header.kind.as_str(), manifest.header.version), ("keys", 4));
/// # Ok::<(), envelope_vectors::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestHeader {
    /// `keys`, `awses-decrypt`, `awses-encrypt`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The feature version the manifest follows.
    pub version: u64,
}

/// The `client` member of a decrypt manifest.
///
/// ```
/// # use envelope_vectors::{DecryptRunner, RunOptions};
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-client-info-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("keys.json"), r#"{"manifest": {"type": "keys", "version": 3}, "keys": {}}"#)?;
/// # std::fs::write(dir.join("manifest.json"), r#"{
/// #     "manifest": {"type": "awses-decrypt", "version": 2},
/// #     "client": {"name": "envelope", "version": "0.1.0"},
/// #     "keys": "file://keys.json",
/// #     "tests": {"tampered": {"ciphertext": "file://ciphertexts/tampered",
/// #         "result": {"error": {"error-description": "bad tag"}},
/// #         "master-keys": [{"type": "raw", "key": "aes-256", "provider-id": "p", "encryption-algorithm": "aes"}]}}
/// # }"#)?;
/// # let runner = DecryptRunner::open(&dir, &RunOptions::default())?;
/// let client = runner.manifest().client.as_ref().expect("the manifest names its writer");
/// assert_eq!((client.name.as_str(), client.version.as_str()), ("envelope", "0.1.0"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// Which implementation wrote the vectors.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Parses JSON and reads its `manifest` header.
pub(crate) fn parse_json(file: &str, bytes: &[u8]) -> Result<(ManifestHeader, Value)> {
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
