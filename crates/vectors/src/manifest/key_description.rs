//! Master-key / key descriptions (framework feature 0005, and the MPL key descriptions of the
//! Dafny runners): which keyring or CMM to build for a test.

use serde_json::{Map, Value, json};

use super::opt_str;

/// How a raw key wraps data keys.
///
/// ```
/// use envelope_vectors::manifest::{KeyDescription, RawAlgorithm};
///
/// let aes = serde_json::json!({"type": "raw", "key": "aes-256", "provider-id": "p", "encryption-algorithm": "aes"});
/// assert!(matches!(KeyDescription::parse(&aes)?, KeyDescription::Raw { algorithm: RawAlgorithm::Aes, .. }));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawAlgorithm {
    /// AES-GCM (key size from the keys manifest).
    Aes,
    /// RSA with a padding scheme.
    Rsa(RsaPadding),
}

/// RSA padding schemes of the raw RSA keyring.
///
/// ```
/// use envelope_vectors::manifest::{KeyDescription, RawAlgorithm, RsaPadding};
///
/// let rsa = serde_json::json!({
///     "type": "raw", "key": "rsa-4096-private", "provider-id": "p", "encryption-algorithm": "rsa",
///     "padding-algorithm": "oaep-mgf1", "padding-hash": "sha256"
/// });
/// let expected = RawAlgorithm::Rsa(RsaPadding::OaepSha256);
/// assert!(matches!(KeyDescription::parse(&rsa)?, KeyDescription::Raw { algorithm, .. } if algorithm == expected));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RsaPadding {
    /// PKCS #1 v1.5.
    Pkcs1,
    /// OAEP with SHA-1 (and MGF1 with SHA-1).
    OaepSha1,
    /// OAEP with SHA-256.
    OaepSha256,
    /// OAEP with SHA-384.
    OaepSha384,
    /// OAEP with SHA-512.
    OaepSha512,
}

impl RsaPadding {
    /// Parses `padding-algorithm` and `padding-hash` (`pkcs1` takes no hash; a `sha1` there, as the
    /// Dafny runners write, is accepted).
    pub(crate) fn parse(algorithm: &str, hash: Option<&str>) -> Option<RsaPadding> {
        match (algorithm, hash) {
            ("pkcs1", _) => Some(RsaPadding::Pkcs1),
            ("oaep-mgf1", Some("sha1")) => Some(RsaPadding::OaepSha1),
            ("oaep-mgf1", Some("sha256")) => Some(RsaPadding::OaepSha256),
            ("oaep-mgf1", Some("sha384")) => Some(RsaPadding::OaepSha384),
            ("oaep-mgf1", Some("sha512")) => Some(RsaPadding::OaepSha512),
            _ => None,
        }
    }

    /// `(padding-algorithm, padding-hash)` as manifests write them.
    pub(crate) fn names(self) -> (&'static str, Option<&'static str>) {
        match self {
            RsaPadding::Pkcs1 => ("pkcs1", None),
            RsaPadding::OaepSha1 => ("oaep-mgf1", Some("sha1")),
            RsaPadding::OaepSha256 => ("oaep-mgf1", Some("sha256")),
            RsaPadding::OaepSha384 => ("oaep-mgf1", Some("sha384")),
            RsaPadding::OaepSha512 => ("oaep-mgf1", Some("sha512")),
        }
    }
}

/// A parsed key description.
///
/// ```
/// use envelope_vectors::manifest::KeyDescription;
///
/// let raw = serde_json::json!({"type": "raw", "key": "aes-256", "provider-id": "p", "encryption-algorithm": "aes"});
/// assert!(matches!(KeyDescription::parse(&raw)?, KeyDescription::Raw { ref key, .. } if key == "aes-256"));
/// // An array is a multi-keyring led by its first member.
/// let multi = KeyDescription::parse(&serde_json::json!([
///     {"type": "aws-kms", "key": "us-west-2-decryptable"},
///     {"type": "aws-kms-hierarchy", "key": "static-branch-key-1"}
/// ]))?;
/// assert!(matches!(multi, KeyDescription::Multi { generator: Some(_), ref children } if children.len() == 1));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum KeyDescription {
    /// A raw AES or RSA key from the keys manifest.
    Raw {
        /// The keys-manifest entry name.
        key: String,
        /// An explicit master key id (feature 0005 `key-id`), overriding the entry's.
        key_id: Option<String>,
        /// The provider id (raw keyring namespace).
        provider_id: String,
        /// How it wraps.
        algorithm: RawAlgorithm,
    },
    /// Any AWS KMS keyring (`aws-kms`, `aws-kms-mrk-aware`, discovery, RSA, hierarchy, ECDH).
    AwsKms {
        /// The description's `type`.
        kind: String,
        /// The keys-manifest entry name, if any (discovery has none).
        key: Option<String>,
        /// The description as written.
        json: Value,
    },
    /// The hierarchical keyring over `static-branch-key` entries (`aws-kms-hierarchy`; offline:
    /// the keys manifest holds the branch keys themselves).
    Hierarchy {
        /// The keys-manifest entry name (a `static-branch-key`; it is the active version).
        key: String,
    },
    /// The raw ECDH keyring (`raw-ecdh`): `static` (sender private key, recipient public key) or
    /// `discovery` (recipient private key) schema, keys from `ecc-private` entries.
    RawEcdh {
        /// The description as written (`sender`, `recipient`, `ecc-curve`, `schema`, ...).
        json: Value,
    },
    /// A multi-keyring: every key wraps on encrypt, the first that can unwraps on decrypt.
    Multi {
        /// The generator.
        generator: Option<Box<KeyDescription>>,
        /// The other keyrings.
        children: Vec<KeyDescription>,
    },
    /// The required-encryption-context CMM over another description.
    RequiredEncryptionContext {
        /// The wrapped description.
        underlying: Box<KeyDescription>,
        /// The required keys.
        keys: Vec<String>,
    },
    /// A description this runner cannot build (its tests are skipped).
    Unsupported {
        /// The description's `type` (or why it could not be read).
        kind: String,
        /// The description as written.
        json: Value,
    },
}

impl KeyDescription {
    /// Parses one description (an array is a multi-keyring whose first member generates).
    pub fn parse(value: &Value) -> Result<KeyDescription, String> {
        if let Value::Array(items) = value {
            return KeyDescription::from_master_keys(items);
        }
        let kind = opt_str(value, "type").ok_or("key description without \"type\"")?;
        match kind {
            "raw" => {
                let key = opt_str(value, "key").ok_or("raw key description without \"key\"")?.to_string();
                let provider_id =
                    opt_str(value, "provider-id").ok_or("raw key description without \"provider-id\"")?.to_string();
                let algorithm = match opt_str(value, "encryption-algorithm") {
                    Some("aes") => RawAlgorithm::Aes,
                    Some("rsa") => {
                        let padding = opt_str(value, "padding-algorithm")
                            .ok_or("raw RSA key description without \"padding-algorithm\"")?;
                        let hash = opt_str(value, "padding-hash");
                        RawAlgorithm::Rsa(
                            RsaPadding::parse(padding, hash)
                                .ok_or_else(|| format!("unsupported RSA padding {padding:?} hash {hash:?}"))?,
                        )
                    }
                    other => return Err(format!("unsupported raw encryption-algorithm {other:?}")),
                };
                Ok(KeyDescription::Raw {
                    key,
                    key_id: opt_str(value, "key-id").map(str::to_string),
                    provider_id,
                    algorithm,
                })
            }
            "aws-kms-hierarchy" => Ok(KeyDescription::Hierarchy {
                key: opt_str(value, "key").ok_or("aws-kms-hierarchy description without \"key\"")?.to_string(),
            }),
            "raw-ecdh" => Ok(KeyDescription::RawEcdh { json: value.clone() }),
            "aws-kms" | "aws-kms-mrk-aware" | "aws-kms-mrk-aware-discovery" | "aws-kms-rsa" | "aws-kms-ecdh" => {
                Ok(KeyDescription::AwsKms {
                    kind: kind.to_string(),
                    key: opt_str(value, "key").map(str::to_string),
                    json: value.clone(),
                })
            }
            "multi-keyring" => {
                let generator = match value.get("generator") {
                    None | Some(Value::Null) => None,
                    Some(g) => Some(Box::new(KeyDescription::parse(g)?)),
                };
                let children = match value.get("childKeyrings") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items.iter().map(KeyDescription::parse).collect::<Result<_, _>>()?,
                    Some(_) => return Err("\"childKeyrings\" must be an array".into()),
                };
                Ok(KeyDescription::Multi { generator, children })
            }
            "required-encryption-context-cmm" => {
                let underlying =
                    value.get("underlying").ok_or("required-encryption-context-cmm without \"underlying\"")?;
                let keys = string_list(value.get("requiredEncryptionContextKeys"))?;
                Ok(KeyDescription::RequiredEncryptionContext {
                    underlying: Box::new(KeyDescription::parse(underlying)?),
                    keys,
                })
            }
            other => Ok(KeyDescription::Unsupported { kind: other.to_string(), json: value.clone() }),
        }
    }

    /// A `master-keys` list (features 0003/0004): one key, or a multi-keyring led by the first.
    pub(crate) fn from_master_keys(items: &[Value]) -> Result<KeyDescription, String> {
        let mut parsed: Vec<KeyDescription> = items.iter().map(KeyDescription::parse).collect::<Result<_, _>>()?;
        match parsed.len() {
            0 => Err("empty master-keys list".into()),
            1 => Ok(parsed.remove(0)),
            _ => {
                let generator = parsed.remove(0);
                Ok(KeyDescription::Multi { generator: Some(Box::new(generator)), children: parsed })
            }
        }
    }

    /// Writes the description as a feature-0005 master-key list (what decrypt manifests v1–v4 carry).
    pub(crate) fn to_master_keys(&self) -> Vec<Value> {
        match self {
            KeyDescription::Multi { generator, children } => generator
                .iter()
                .map(|g| g.as_ref())
                .chain(children.iter())
                .flat_map(KeyDescription::to_master_keys)
                .collect(),
            KeyDescription::RequiredEncryptionContext { underlying, .. } => underlying.to_master_keys(),
            other => vec![other.to_json()],
        }
    }

    /// Writes one description as JSON.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            KeyDescription::Raw { key, key_id, provider_id, algorithm } => {
                let mut obj = Map::new();
                obj.insert("type".into(), json!("raw"));
                obj.insert("key".into(), json!(key));
                if let Some(key_id) = key_id {
                    obj.insert("key-id".into(), json!(key_id));
                }
                obj.insert("provider-id".into(), json!(provider_id));
                match algorithm {
                    RawAlgorithm::Aes => {
                        obj.insert("encryption-algorithm".into(), json!("aes"));
                    }
                    RawAlgorithm::Rsa(padding) => {
                        let (name, hash) = padding.names();
                        obj.insert("encryption-algorithm".into(), json!("rsa"));
                        obj.insert("padding-algorithm".into(), json!(name));
                        if let Some(hash) = hash {
                            obj.insert("padding-hash".into(), json!(hash));
                        }
                    }
                }
                Value::Object(obj)
            }
            KeyDescription::Hierarchy { key } => json!({"type": "aws-kms-hierarchy", "key": key}),
            KeyDescription::AwsKms { json, .. }
            | KeyDescription::RawEcdh { json }
            | KeyDescription::Unsupported { json, .. } => json.clone(),
            KeyDescription::Multi { generator, children } => json!({
                "type": "multi-keyring",
                "generator": generator.as_ref().map(|g| g.to_json()),
                "childKeyrings": children.iter().map(KeyDescription::to_json).collect::<Vec<_>>(),
            }),
            KeyDescription::RequiredEncryptionContext { underlying, keys } => json!({
                "type": "required-encryption-context-cmm",
                "underlying": underlying.to_json(),
                "requiredEncryptionContextKeys": keys,
            }),
        }
    }
}

fn string_list(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| "expected a list of strings".to_string()))
            .collect(),
        Some(_) => Err("expected a list of strings".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_round_trip() {
        let list = json!([
            {"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa",
             "padding-algorithm":"oaep-mgf1","padding-hash":"sha512"},
            {"type":"raw","key":"rsa-4096-public","provider-id":"p","encryption-algorithm":"rsa",
             "padding-algorithm":"pkcs1"},
            {"type":"aws-kms","key":"us-west-2-decryptable"}
        ]);
        let parsed = KeyDescription::parse(&list).unwrap();
        match &parsed {
            KeyDescription::Multi { generator: Some(g), children } => {
                assert!(matches!(
                    **g,
                    KeyDescription::Raw { algorithm: RawAlgorithm::Rsa(RsaPadding::OaepSha512), .. }
                ));
                assert_eq!(children.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Value::Array(parsed.to_master_keys()), list);
    }

    #[test]
    fn mpl_descriptions_parse() {
        let d = json!({"type":"required-encryption-context-cmm","requiredEncryptionContextKeys":["k"],
            "underlying":{"type":"multi-keyring","generator":{"type":"raw","key":"aes-128","provider-id":"p",
            "encryption-algorithm":"aes"},"childKeyrings":[{"type":"raw-ecdh","sender":"a","recipient":"b"}]}});
        match KeyDescription::parse(&d).unwrap() {
            KeyDescription::RequiredEncryptionContext { underlying, keys } => {
                assert_eq!(keys, vec!["k".to_string()]);
                assert!(matches!(*underlying, KeyDescription::Multi { .. }));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(RsaPadding::parse("pkcs1", Some("sha1")), Some(RsaPadding::Pkcs1));
        assert_eq!(RsaPadding::parse("oaep-mgf1", None), None);
    }
}
