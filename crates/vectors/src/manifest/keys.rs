//! Keys manifests (framework feature 0002; versions 1–3, and 4 of the canonical generator).
//!
//! Entries are kept as written; [`KeyEntry::material`] classifies them. Types this runner cannot
//! use (static materials, ECDH pairs, KMS RSA, ...) parse fine and make the tests that use them
//! skip, not fail.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::{ManifestHeader, parse_json};
use crate::error::{Error, Result};

/// A parsed keys manifest.
///
/// ```
/// use envelope_vectors::manifest::KeysManifest;
///
/// let manifest = KeysManifest::parse("keys.json", br#"{
///     "manifest": {"type": "keys", "version": 3},
///     "keys": {"aes-128": {"type": "symmetric", "algorithm": "aes", "bits": 128, "encoding": "base64",
///                          "material": "AAECAwQFBgcICQoLDA0ODw==", "key-id": "aes-128-key",
///                          "encrypt": true, "decrypt": true}}
/// }"#)?;
/// assert_eq!(manifest.header.version, 3);
/// assert!(manifest.entry("aes-128").is_some() && manifest.entry("aes-256").is_none());
/// # Ok::<(), envelope_vectors::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeysManifest {
    /// The header (`type` = `keys`).
    pub header: ManifestHeader,
    /// Entries by name.
    pub keys: BTreeMap<String, KeyEntry>,
}

/// One entry of a keys manifest, as written.
///
/// ```
/// use envelope_vectors::manifest::{KeyMaterial, KeysManifest};
///
/// let manifest = KeysManifest::parse("keys.json", br#"{
///     "manifest": {"type": "keys", "version": 3},
///     "keys": {"aes-128": {"type": "symmetric", "algorithm": "aes", "bits": 128, "encoding": "base64",
///                          "material": "AAECAwQFBgcICQoLDA0ODw==", "key-id": "aes-128-key",
///                          "encrypt": true, "decrypt": true}}
/// }"#)?;
/// let entry = manifest.entry("aes-128").expect("listed");
/// assert_eq!(entry.key_id("aes-128"), "aes-128-key");
/// assert_eq!(entry.material_text().as_deref(), Some("AAECAwQFBgcICQoLDA0ODw=="));
/// assert!(matches!(entry.material("aes-128"), Ok(KeyMaterial::Symmetric { ref bytes }) if bytes.len() == 16));
/// # Ok::<(), envelope_vectors::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
pub struct KeyEntry {
    /// `symmetric`, `private`, `public`, `aws-kms`, `aws-kms-rsa`, `aws-kms-ecdh`, or a type this
    /// runner does not use.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the key may be used to encrypt.
    #[serde(default)]
    pub encrypt: Option<bool>,
    /// Whether the key may be used to decrypt.
    #[serde(default)]
    pub decrypt: Option<bool>,
    /// The raw key name (or the KMS key ARN); defaults to the entry name.
    #[serde(rename = "key-id", default)]
    pub key_id: Option<String>,
    /// `aes`, `rsa`, ...
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Key length in bits.
    #[serde(default)]
    pub bits: Option<u64>,
    /// `base64` or `pem`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// The key material: a string (v2+) or a list of lines (v1).
    #[serde(default)]
    pub material: Option<Value>,
    /// v1: the separator joining `material` lines.
    #[serde(rename = "line-separator", default)]
    pub line_separator: Option<String>,
    /// `aws-kms-ecdh`: the sender's KMS key ARN.
    #[serde(rename = "sender-material", default)]
    pub sender_material: Option<String>,
    /// `aws-kms-ecdh`: the recipient's KMS key ARN.
    #[serde(rename = "recipient-material", default)]
    pub recipient_material: Option<String>,
    /// `aws-kms-ecdh`: the sender's public key, base64 of DER SubjectPublicKeyInfo.
    #[serde(rename = "sender-material-public-key", alias = "sender-public-key", default)]
    pub sender_public_key: Option<String>,
    /// `aws-kms-ecdh`: the recipient's public key, base64 of DER SubjectPublicKeyInfo.
    #[serde(rename = "recipient-material-public-key", alias = "recipient-public-key", default)]
    pub recipient_public_key: Option<String>,
    /// `static-branch-key`: the branch key version, a UUID in text form.
    #[serde(rename = "branchKeyVersion", default)]
    pub branch_key_version: Option<String>,
    /// `static-branch-key`: the 32-byte branch key, base64.
    #[serde(rename = "branchKey", default)]
    pub branch_key: Option<String>,
    /// `static-branch-key`: the 32-byte beacon key, base64.
    #[serde(rename = "beaconKey", default)]
    pub beacon_key: Option<String>,
}

/// What a key entry is, once its material is decoded. (`Debug` leaves the material out.)
///
/// ```
/// use envelope_vectors::manifest::KeyMaterial;
///
/// let key = KeyMaterial::Symmetric { bytes: vec![0; 32] };
/// assert_eq!(key.kind_name(), "256-bit symmetric");
/// // Debug never shows key bytes.
/// assert_eq!(format!("{key:?}"), "KeyMaterial(256-bit symmetric)");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// A raw AES wrapping key.
    Symmetric {
        /// The key bytes (16, 24 or 32).
        bytes: Vec<u8>,
    },
    /// An RSA private key, PEM (PKCS#8 or PKCS#1).
    RsaPrivate {
        /// The PEM text.
        pem: String,
    },
    /// An RSA public key, PEM (SubjectPublicKeyInfo or PKCS#1).
    RsaPublic {
        /// The PEM text.
        pem: String,
    },
    /// An AWS KMS key.
    AwsKms {
        /// Key id or ARN.
        key_id: String,
    },
    /// One version of a branch key for the hierarchical keyring (`static-branch-key`).
    StaticBranchKey {
        /// The branch key id (`key-id`).
        branch_key_id: String,
        /// The version, a UUID in text form.
        version: String,
        /// The 32-byte branch key.
        branch_key: Vec<u8>,
        /// The 32-byte beacon key, if given.
        beacon_key: Option<Vec<u8>>,
    },
    /// A type this runner does not use.
    Unsupported {
        /// The entry's `type`.
        kind: String,
    },
}

impl KeyMaterial {
    /// A short name of the kind of key, for messages.
    pub fn kind_name(&self) -> String {
        match self {
            KeyMaterial::Symmetric { bytes } => format!("{}-bit symmetric", bytes.len() * 8),
            KeyMaterial::RsaPrivate { .. } => "RSA private".into(),
            KeyMaterial::RsaPublic { .. } => "RSA public".into(),
            KeyMaterial::AwsKms { .. } => "AWS KMS".into(),
            KeyMaterial::StaticBranchKey { .. } => "static branch key".into(),
            KeyMaterial::Unsupported { kind } => format!("{kind:?}"),
        }
    }
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::AwsKms { key_id } => f.debug_struct("AwsKms").field("key_id", key_id).finish(),
            other => write!(f, "KeyMaterial({})", other.kind_name()),
        }
    }
}

impl KeysManifest {
    /// Parses a keys manifest.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<KeysManifest> {
        let (header, value) = parse_json(file, bytes)?;
        if header.kind != "keys" || !(1..=4).contains(&header.version) {
            return Err(Error::Unsupported {
                file: file.to_string(),
                kind: header.kind,
                version: header.version,
                supported: "keys 1, 2, 3, 4",
            });
        }
        let entries =
            value.get("keys").and_then(Value::as_object).ok_or_else(|| Error::manifest(file, "no \"keys\" object"))?;
        let mut keys = BTreeMap::new();
        for (name, entry) in entries {
            let entry: KeyEntry = serde_json::from_value(entry.clone())
                .map_err(|e| Error::manifest(file, format!("key {name:?}: {e}")))?;
            keys.insert(name.clone(), entry);
        }
        Ok(KeysManifest { header, keys })
    }

    /// The entry named `name`.
    pub fn entry(&self, name: &str) -> Option<&KeyEntry> {
        self.keys.get(name)
    }
}

impl KeyEntry {
    /// The key id: `key-id` when present, else the entry name.
    pub fn key_id<'a>(&'a self, name: &'a str) -> &'a str {
        self.key_id.as_deref().unwrap_or(name)
    }

    /// The material as one string (v1 lists are joined with their line separator).
    pub fn material_text(&self) -> Option<String> {
        match self.material.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Array(lines) => {
                let sep = self.line_separator.as_deref().unwrap_or("");
                let lines: Option<Vec<&str>> = lines.iter().map(Value::as_str).collect();
                Some(lines?.join(sep))
            }
            _ => None,
        }
    }

    /// Decodes and classifies the entry.
    pub fn material(&self, name: &str) -> std::result::Result<KeyMaterial, String> {
        match self.kind.as_str() {
            "aws-kms" => Ok(KeyMaterial::AwsKms { key_id: self.key_id(name).to_string() }),
            "symmetric" => {
                let text = self.material_text().ok_or_else(|| format!("key {name:?}: no material"))?;
                let bytes = match self.encoding.as_deref().unwrap_or("base64") {
                    "base64" => base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|e| format!("key {name:?}: material is not base64: {e}"))?,
                    other => return Err(format!("key {name:?}: unsupported encoding {other:?}")),
                };
                if let Some(bits) = self.bits {
                    if bits != (bytes.len() as u64) * 8 {
                        return Err(format!(
                            "key {name:?}: {bits} bits declared but material has {} bytes",
                            bytes.len()
                        ));
                    }
                }
                Ok(KeyMaterial::Symmetric { bytes })
            }
            "private" | "public" => {
                if self.algorithm.as_deref().is_some_and(|a| a != "rsa") {
                    return Ok(KeyMaterial::Unsupported {
                        kind: format!("{} {}", self.kind, self.algorithm.as_deref().unwrap_or("")),
                    });
                }
                let pem = self.material_text().ok_or_else(|| format!("key {name:?}: no material"))?;
                Ok(if self.kind == "private" {
                    KeyMaterial::RsaPrivate { pem }
                } else {
                    KeyMaterial::RsaPublic { pem }
                })
            }
            "static-branch-key" => {
                let decode = |field: &str, value: Option<&String>| -> std::result::Result<Vec<u8>, String> {
                    let text = value.ok_or_else(|| format!("key {name:?}: no {field:?}"))?;
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|e| format!("key {name:?}: {field:?} is not base64: {e}"))
                };
                let branch_key_id =
                    self.key_id.clone().ok_or_else(|| format!("key {name:?}: a static branch key needs \"key-id\""))?;
                let version =
                    self.branch_key_version.clone().ok_or_else(|| format!("key {name:?}: no \"branchKeyVersion\""))?;
                let branch_key = decode("branchKey", self.branch_key.as_ref())?;
                let beacon_key = match &self.beacon_key {
                    Some(_) => Some(decode("beaconKey", self.beacon_key.as_ref())?),
                    None => None,
                };
                Ok(KeyMaterial::StaticBranchKey { branch_key_id, version, branch_key, beacon_key })
            }
            other => Ok(KeyMaterial::Unsupported { kind: other.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_material_lines_are_joined() {
        let json = br#"{"manifest":{"type":"keys","version":1},"keys":{
            "aes-128":{"encrypt":true,"decrypt":true,"algorithm":"aes","type":"symmetric","bits":128,
                       "encoding":"base64","material":["AAECAwQFBgcICRAREhMUFQ=="]},
            "rsa":{"encrypt":true,"decrypt":true,"algorithm":"rsa","type":"private","bits":2048,
                   "encoding":"pem","line-separator":"\n","material":["-----BEGIN","X","-----END"]},
            "kms":{"type":"aws-kms","key-id":"arn:aws:kms:us-west-2:1:alias/x"}}}"#;
        let keys = KeysManifest::parse("k", json).unwrap();
        match keys.entry("aes-128").unwrap().material("aes-128").unwrap() {
            KeyMaterial::Symmetric { bytes } => assert_eq!(bytes.len(), 16),
            other => panic!("{other:?}"),
        }
        match keys.entry("rsa").unwrap().material("rsa").unwrap() {
            KeyMaterial::RsaPrivate { pem } => assert_eq!(pem, "-----BEGIN\nX\n-----END"),
            other => panic!("{other:?}"),
        }
        assert_eq!(keys.entry("aes-128").unwrap().key_id("aes-128"), "aes-128");
        assert!(matches!(keys.entry("kms").unwrap().material("kms"), Ok(KeyMaterial::AwsKms { .. })));
    }

    #[test]
    fn static_branch_keys_decode_and_need_their_fields() {
        let json = br#"{"manifest":{"type":"keys","version":2},"keys":{
            "bk":{"type":"static-branch-key","encrypt":true,"decrypt":true,"key-id":"id-1",
                  "branchKeyVersion":"e9ce18a3-edb5-4272-9f86-1cacb7997ff6",
                  "branchKey":"tJwf65epYvUt5HMiQsl/6jlvLxS0tgdjIuvFy2BLIwg="},
            "no-version":{"type":"static-branch-key","key-id":"id-2","branchKey":"AAAA"}}}"#;
        let keys = KeysManifest::parse("k", json).unwrap();
        match keys.entry("bk").unwrap().material("bk").unwrap() {
            KeyMaterial::StaticBranchKey { branch_key_id, version, branch_key, beacon_key } => {
                assert_eq!(
                    (branch_key_id.as_str(), version.as_str()),
                    ("id-1", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6")
                );
                assert_eq!((branch_key.len(), beacon_key), (32, None));
            }
            other => panic!("{other:?}"),
        }
        let error = keys.entry("no-version").unwrap().material("no-version").unwrap_err();
        assert!(error.contains("branchKeyVersion"), "{error}");
    }

    #[test]
    fn other_manifest_types_are_refused() {
        let json = br#"{"manifest":{"type":"awses-decrypt","version":2},"keys":{}}"#;
        assert!(matches!(KeysManifest::parse("k", json), Err(Error::Unsupported { .. })));
    }
}
