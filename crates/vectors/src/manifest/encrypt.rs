//! `awses-encrypt` manifests (framework feature 0003), versions 1 and 2, plus envelope's
//! extension members (other readers ignore unknown members):
//!
//! - per test `"cmm": "Default" | "RequiredEncryptionContext"` and
//!   `"required-encryption-context-keys": ["k", ...]`;
//! - top-level or per-test `"commitment-policy"` (an official policy name), overriding the
//!   per-suite default (non-committing suites: `FORBID_ENCRYPT_ALLOW_DECRYPT`, committing ones:
//!   `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`);
//! - per test `"description"`;
//! - per test `"decrypt-master-keys"`: the keys the written decrypt test names, when they differ
//!   from the encrypting ones (e.g. encrypt under one Region's replica of a multi-Region key and
//!   decrypt with another's, or decrypt with a discovery keyring, which cannot encrypt).

use std::collections::BTreeMap;

use serde_json::Value;

use super::key_description::KeyDescription;
use super::{opt_str, opt_string_map, parse_json};
use crate::error::{Error, Result};

/// Encrypt manifest versions this runner reads.
pub(crate) const SUPPORTED_VERSIONS: &str = "awses-encrypt 1, 2";

/// A parsed encrypt manifest.
#[derive(Debug, Clone)]
pub(crate) struct EncryptManifest {
    /// URI of the keys manifest.
    pub(crate) keys: String,
    /// Plaintext names and their sizes in bytes.
    pub(crate) plaintexts: BTreeMap<String, u64>,
    /// A commitment policy for every test (extension).
    pub(crate) commitment_policy: Option<String>,
    /// The tests, in name order.
    pub(crate) tests: Vec<EncryptTest>,
}

/// One encrypt test.
#[derive(Debug, Clone)]
pub(crate) struct EncryptTest {
    /// The test id.
    pub(crate) name: String,
    /// Free-text description (extension).
    pub(crate) description: Option<String>,
    /// Name of the plaintext to encrypt.
    pub(crate) plaintext: String,
    /// The algorithm suite id (from its hex string).
    pub(crate) algorithm: u16,
    /// Frame length; 0 asks for a non-framed message.
    pub(crate) frame_size: u64,
    /// The encryption context.
    pub(crate) encryption_context: envelope::EncryptionContext,
    /// The master keys (the first generates), or why they could not be read.
    pub(crate) keys: std::result::Result<KeyDescription, String>,
    /// The keys the decrypt manifest names for this test, when not `keys` (extension).
    pub(crate) decrypt_keys: Option<std::result::Result<KeyDescription, String>>,
    /// The materials manager to use (extension).
    pub(crate) cmm: CmmChoice,
    /// A commitment policy for this test (extension).
    pub(crate) commitment_policy: Option<String>,
}

/// Which materials manager an encrypt test uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub(crate) enum CmmChoice {
    /// The default CMM.
    #[default]
    Default,
    /// The required-encryption-context CMM, requiring these keys.
    RequiredEncryptionContext {
        /// Keys authenticated but not stored in the message.
        keys: Vec<String>,
    },
}

impl EncryptManifest {
    /// Parses an encrypt manifest.
    pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<EncryptManifest> {
        let (header, value) = parse_json(file, bytes)?;
        if header.kind != "awses-encrypt" || !(1..=2).contains(&header.version) {
            return Err(Error::Unsupported {
                file: file.to_string(),
                kind: header.kind,
                version: header.version,
                supported: SUPPORTED_VERSIONS,
            });
        }
        let keys = opt_str(&value, "keys").ok_or_else(|| Error::manifest(file, "no \"keys\" URI"))?.to_string();
        let mut plaintexts = BTreeMap::new();
        for (name, size) in value.get("plaintexts").and_then(Value::as_object).into_iter().flatten() {
            let size = size
                .as_u64()
                .ok_or_else(|| Error::manifest(file, format!("plaintext {name:?}: size must be a number")))?;
            plaintexts.insert(name.clone(), size);
        }
        let tests_json = value
            .get("tests")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::manifest(file, "no \"tests\" object"))?;
        let mut tests = Vec::with_capacity(tests_json.len());
        for (name, test) in tests_json {
            tests.push(parse_test(file, name, test, &plaintexts)?);
        }
        Ok(EncryptManifest {
            keys,
            plaintexts,
            commitment_policy: opt_str(&value, "commitment-policy").map(str::to_string),
            tests,
        })
    }
}

fn parse_test(file: &str, name: &str, test: &Value, plaintexts: &BTreeMap<String, u64>) -> Result<EncryptTest> {
    let at = |what: &str| Error::manifest(file, format!("test {name:?}: {what}"));
    let plaintext = opt_str(test, "plaintext").ok_or_else(|| at("no \"plaintext\""))?.to_string();
    if !plaintexts.contains_key(&plaintext) {
        return Err(at(&format!("plaintext {plaintext:?} is not in \"plaintexts\"")));
    }
    let algorithm_hex = opt_str(test, "algorithm").ok_or_else(|| at("no \"algorithm\""))?;
    let algorithm = u16::from_str_radix(algorithm_hex.trim_start_matches("0x"), 16)
        .map_err(|_| at(&format!("algorithm {algorithm_hex:?} is not a hex suite id")))?;
    let frame_size = test.get("frame-size").and_then(Value::as_u64).ok_or_else(|| at("no numeric \"frame-size\""))?;
    let encryption_context = opt_string_map(file, test, "encryption-context")?.unwrap_or_default();
    let keys = match test.get("master-keys") {
        Some(Value::Array(items)) => KeyDescription::from_master_keys(items),
        _ => Err("no \"master-keys\" list".to_string()),
    };
    let decrypt_keys = match test.get("decrypt-master-keys") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(KeyDescription::from_master_keys(items)),
        Some(_) => Some(Err("\"decrypt-master-keys\" must be a list".to_string())),
    };
    let cmm = match opt_str(test, "cmm") {
        None | Some("Default") => CmmChoice::Default,
        Some("RequiredEncryptionContext") => {
            let keys: Vec<String> = match test.get("required-encryption-context-keys") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or_else(|| at("\"required-encryption-context-keys\" must be strings"))?,
                // Without an explicit list, every context key is required.
                _ => encryption_context.keys().cloned().collect(),
            };
            if let Some(missing) = keys.iter().find(|k| !encryption_context.contains_key(*k)) {
                return Err(at(&format!("required key {missing:?} is not in the encryption context")));
            }
            CmmChoice::RequiredEncryptionContext { keys }
        }
        Some(other) => return Err(at(&format!("unknown cmm {other:?}"))),
    };
    Ok(EncryptTest {
        name: name.to_string(),
        description: opt_str(test, "description").map(str::to_string),
        plaintext,
        algorithm,
        frame_size,
        encryption_context: encryption_context.into(),
        keys,
        decrypt_keys,
        cmm,
        commitment_policy: opt_str(test, "commitment-policy").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_members_parse() {
        let json = r#"{"manifest":{"type":"awses-encrypt","version":2},"keys":"file://keys.json",
          "plaintexts":{"small":10},"tests":{"t":{"plaintext":"small","algorithm":"0578","frame-size":512,
          "encryption-context":{"a":"1","b":"2"},"cmm":"RequiredEncryptionContext",
          "required-encryption-context-keys":["a"],"master-keys":[{"type":"raw","key":"aes-256",
          "provider-id":"p","encryption-algorithm":"aes"}]}}}"#;
        let m = EncryptManifest::parse("m", json.as_bytes()).unwrap();
        let t = &m.tests[0];
        assert_eq!(t.algorithm, 0x0578);
        assert_eq!(t.cmm, CmmChoice::RequiredEncryptionContext { keys: vec!["a".into()] });
    }
}
