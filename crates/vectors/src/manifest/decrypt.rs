//! `awses-decrypt` manifests (framework feature 0004), versions 1–5.
//!
//! - v1: `plaintext` at the test level, always a positive test.
//! - v2: `result` = `{"output":{"plaintext":URI}}` or `{"error":{"error-description":...}}`.
//! - v3: adds `decryption-method` (`streaming-unsigned-only`).
//! - v4 (.NET 4.x): adds `cmm` (`Default` | `RequiredEncryptionContext`) and `encryption-context`,
//!   the reproduced context to hand to decrypt.
//! - v5 (Dafny): each test is a `decryption-scenario` with an MPL key description
//!   (`decryptKeyDescription`), `result` URI and `reproduced-encryption-context`.

use serde_json::Value;

use super::key_description::KeyDescription;
use super::{ClientInfo, ManifestHeader, opt_str, opt_string_map, parse_json};
use crate::error::{Error, Result};

/// Decrypt manifest versions this runner reads.
pub(crate) const SUPPORTED_VERSIONS: &str = "awses-decrypt 1, 2, 3, 4, 5";

/// A parsed decrypt manifest, as [`DecryptRunner::manifest`](crate::DecryptRunner::manifest)
/// gives it.
///
/// ```
/// use envelope_vectors::{DecryptRunner, RunOptions};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-decrypt-manifest-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("keys.json"), r#"{"manifest": {"type": "keys", "version": 3}, "keys": {}}"#)?;
/// std::fs::write(dir.join("manifest.json"), r#"{
///     "manifest": {"type": "awses-decrypt", "version": 2},
///     "client": {"name": "envelope", "version": "0.1.0"},
///     "keys": "file://keys.json",
///     "tests": {"tampered": {"ciphertext": "file://ciphertexts/tampered",
///         "result": {"error": {"error-description": "bad tag"}},
///         "master-keys": [{"type": "raw", "key": "aes-256", "provider-id": "p", "encryption-algorithm": "aes"}]}}
/// }"#)?;
/// let runner = DecryptRunner::open(&dir, &RunOptions::default())?; // reads no ciphertext yet
/// let manifest = runner.manifest();
/// assert_eq!((manifest.header.kind.as_str(), manifest.header.version), ("awses-decrypt", 2));
/// assert_eq!(manifest.keys, "file://keys.json");
/// assert_eq!(manifest.tests.len(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DecryptManifest {
    /// The header (`type` = `awses-decrypt`).
    pub header: ManifestHeader,
    /// Who wrote the vectors.
    pub client: Option<ClientInfo>,
    /// URI of the keys manifest.
    pub keys: String,
    /// The tests, in name order.
    pub tests: Vec<DecryptTest>,
}

/// One decrypt test.
///
/// ```
/// use envelope_vectors::manifest::KeyDescription;
/// # use envelope_vectors::{DecryptRunner, RunOptions};
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-decrypt-test-{}", std::process::id()));
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
/// let test = &runner.manifest().tests[0];
/// assert_eq!((test.name.as_str(), test.ciphertext.as_str()), ("tampered", "file://ciphertexts/tampered"));
/// assert!(matches!(test.keys, Ok(KeyDescription::Raw { .. })));
/// assert!(test.description.is_none() && test.reproduced_encryption_context.is_none());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DecryptTest {
    /// The test id.
    pub name: String,
    /// Free-text description, if any.
    pub description: Option<String>,
    /// URI of the ciphertext.
    pub ciphertext: String,
    /// What decryption must produce.
    pub expected: ExpectedResult,
    /// The keys (and CMM) to decrypt with, or why they could not be read.
    pub keys: std::result::Result<KeyDescription, String>,
    /// The encryption context to hand to decrypt, if the manifest gives one.
    pub reproduced_encryption_context: Option<envelope::EncryptionContext>,
    /// How the test asks to be decrypted.
    pub method: DecryptionMethod,
}

/// What a decrypt test expects.
///
/// ```
/// use envelope_vectors::manifest::ExpectedResult;
/// # use envelope_vectors::{DecryptRunner, RunOptions};
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-expected-result-{}", std::process::id()));
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
/// match &runner.manifest().tests[0].expected {
///     ExpectedResult::Error { description } => assert_eq!(description, "bad tag"),
///     ExpectedResult::Output { plaintext } => println!("decrypts to {plaintext}"),
///     other => println!("{other:?}"),
/// }
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectedResult {
    /// Decryption succeeds and yields the plaintext at this URI.
    Output {
        /// URI of the expected plaintext.
        plaintext: String,
    },
    /// Decryption fails.
    Error {
        /// Why it should fail (free text).
        description: String,
    },
}

/// How a test asks to be decrypted.
///
/// ```
/// use envelope_vectors::manifest::DecryptionMethod;
/// # use envelope_vectors::{DecryptRunner, RunOptions};
/// # let dir = std::env::temp_dir().join(format!("envelope-doc-decryption-method-{}", std::process::id()));
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
/// // No `decryption-method` in the manifest: any.
/// assert_eq!(runner.manifest().tests[0].method, DecryptionMethod::Any);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DecryptionMethod {
    /// Any way (we decrypt both one-shot and streaming).
    #[default]
    Any,
    /// Streaming, refusing signed messages (`streaming-unsigned-only`).
    StreamingUnsignedOnly,
}

impl DecryptManifest {
    /// Parses a decrypt manifest.
    pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<DecryptManifest> {
        let (header, value) = parse_json(file, bytes)?;
        DecryptManifest::from_value(file, header, &value)
    }

    /// Builds a decrypt manifest from already-parsed JSON.
    pub(crate) fn from_value(file: &str, header: ManifestHeader, value: &Value) -> Result<DecryptManifest> {
        if header.kind != "awses-decrypt" || !(1..=5).contains(&header.version) {
            return Err(Error::Unsupported {
                file: file.to_string(),
                kind: header.kind,
                version: header.version,
                supported: SUPPORTED_VERSIONS,
            });
        }
        let client = value.get("client").and_then(|c| serde_json::from_value(c.clone()).ok());
        let keys = opt_str(value, "keys").ok_or_else(|| Error::manifest(file, "no \"keys\" URI"))?.to_string();
        let tests_json = value
            .get("tests")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::manifest(file, "no \"tests\" object"))?;
        let mut tests = Vec::with_capacity(tests_json.len());
        for (name, test) in tests_json {
            let parsed = if header.version == 5 && test.get("decryption-scenario").is_some() {
                parse_v5(file, name, test)?
            } else {
                parse_v1_to_v4(file, name, test)?
            };
            tests.push(parsed);
        }
        Ok(DecryptManifest { header, client, keys, tests })
    }
}

fn parse_v1_to_v4(file: &str, name: &str, test: &Value) -> Result<DecryptTest> {
    let at = |what: &str| Error::manifest(file, format!("test {name:?}: {what}"));
    let ciphertext = opt_str(test, "ciphertext").ok_or_else(|| at("no \"ciphertext\""))?.to_string();
    let expected = match test.get("result") {
        Some(result) => {
            if let Some(output) = result.get("output") {
                ExpectedResult::Output {
                    plaintext: opt_str(output, "plaintext")
                        .ok_or_else(|| at("result.output without \"plaintext\""))?
                        .to_string(),
                }
            } else if let Some(error) = result.get("error") {
                ExpectedResult::Error {
                    description: opt_str(error, "error-description").unwrap_or("(no description)").to_string(),
                }
            } else {
                return Err(at("\"result\" has neither \"output\" nor \"error\""));
            }
        }
        None => ExpectedResult::Output {
            plaintext: opt_str(test, "plaintext")
                .ok_or_else(|| at("neither \"result\" nor \"plaintext\""))?
                .to_string(),
        },
    };
    let method = match opt_str(test, "decryption-method") {
        None => DecryptionMethod::Any,
        Some("streaming-unsigned-only") => DecryptionMethod::StreamingUnsignedOnly,
        Some(other) => return Err(at(&format!("unknown decryption-method {other:?}"))),
    };
    let reproduced = opt_string_map(file, test, "encryption-context")?;
    let mut keys = match test.get("master-keys") {
        Some(Value::Array(items)) => KeyDescription::from_master_keys(items),
        _ => Err("no \"master-keys\" list".to_string()),
    };
    match opt_str(test, "cmm") {
        None | Some("Default") => {}
        Some("RequiredEncryptionContext") => {
            // v4: the required keys are exactly the reproduced context's keys.
            let required: Vec<String> = reproduced.iter().flat_map(|ec| ec.keys().cloned()).collect();
            keys = keys.map(|underlying| KeyDescription::RequiredEncryptionContext {
                underlying: Box::new(underlying),
                keys: required,
            });
        }
        Some(other) => keys = Err(format!("unsupported cmm {other:?}")),
    }
    Ok(DecryptTest {
        name: name.to_string(),
        description: opt_str(test, "description").map(str::to_string),
        ciphertext,
        expected,
        keys,
        reproduced_encryption_context: reproduced.map(Into::into),
        method,
    })
}

fn parse_v5(file: &str, name: &str, test: &Value) -> Result<DecryptTest> {
    let at = |what: &str| Error::manifest(file, format!("test {name:?}: {what}"));
    let scenario = test.get("decryption-scenario").ok_or_else(|| at("no \"decryption-scenario\""))?;
    let kind = opt_str(scenario, "type").unwrap_or("positive-esdk");
    let ciphertext = opt_str(scenario, "ciphertext").ok_or_else(|| at("no \"ciphertext\""))?.to_string();
    let description = opt_str(scenario, "description").map(str::to_string);
    let expected = if kind.starts_with("negative") {
        ExpectedResult::Error {
            description: opt_str(scenario, "errorDescription")
                .or_else(|| opt_str(scenario, "error-description"))
                .or(description.as_deref())
                .unwrap_or("(no description)")
                .to_string(),
        }
    } else {
        ExpectedResult::Output {
            plaintext: opt_str(scenario, "result")
                .or_else(|| opt_str(scenario, "plaintext"))
                .ok_or_else(|| at("no \"result\" plaintext URI"))?
                .to_string(),
        }
    };
    let keys = match scenario.get("decryptKeyDescription") {
        Some(d) => KeyDescription::parse(d),
        None => Err("no \"decryptKeyDescription\"".to_string()),
    };
    let method = match opt_str(scenario, "decryption-method") {
        Some("streaming-unsigned-only") => DecryptionMethod::StreamingUnsignedOnly,
        _ => DecryptionMethod::Any,
    };
    Ok(DecryptTest {
        name: name.to_string(),
        description,
        ciphertext,
        expected,
        keys,
        reproduced_encryption_context: opt_string_map(file, scenario, "reproduced-encryption-context")?.map(Into::into),
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_required_context_wraps_the_keys() {
        let json = br#"{"manifest":{"type":"awses-decrypt","version":4},"client":{"name":"ESDK-NET","version":"4.0.0"},
          "keys":"file://keys.json","tests":{"t":{"ciphertext":"file://c","master-keys":[{"type":"raw","key":"aes-256",
          "provider-id":"p","encryption-algorithm":"aes"}],"cmm":"RequiredEncryptionContext",
          "encryption-context":{"key1":"val1"},"result":{"output":{"plaintext":"file://p"}}}}}"#;
        let m = DecryptManifest::parse("m", json).unwrap();
        let t = &m.tests[0];
        match t.keys.as_ref().unwrap() {
            KeyDescription::RequiredEncryptionContext { keys, .. } => assert_eq!(keys, &vec!["key1".to_string()]),
            other => panic!("{other:?}"),
        }
        assert_eq!(t.expected, ExpectedResult::Output { plaintext: "file://p".into() });
    }

    #[test]
    fn v1_and_v2_shapes() {
        let v1 = br#"{"manifest":{"type":"awses-decrypt","version":1},"keys":"file://k","tests":{"a":{
          "plaintext":"file://p","ciphertext":"file://c","master-keys":[{"type":"aws-kms","key":"k"}]}}}"#;
        let m = DecryptManifest::parse("m", v1).unwrap();
        assert!(matches!(m.tests[0].keys, Ok(KeyDescription::AwsKms { .. })));
        let v3 = br#"{"manifest":{"type":"awses-decrypt","version":3},"keys":"file://k","tests":{"a":{
          "ciphertext":"file://c","decryption-method":"streaming-unsigned-only","master-keys":[{"type":"aws-kms","key":"k"}],
          "result":{"error":{"error-description":"signed"}}}}}"#;
        let m = DecryptManifest::parse("m", v3).unwrap();
        assert_eq!(m.tests[0].method, DecryptionMethod::StreamingUnsignedOnly);
        assert!(matches!(m.tests[0].expected, ExpectedResult::Error { .. }));
    }

    #[test]
    fn v5_scenarios() {
        let v5 = br#"{"manifest":{"type":"awses-decrypt","version":5},"keys":"file://k","tests":{"a":{
          "decryption-scenario":{"type":"positive-esdk","ciphertext":"file://c","result":"file://p",
          "algorithmSuiteId":"0578","frame-size":512,"description":"d","reproduced-encryption-context":{"a":"b"},
          "decryptKeyDescription":{"type":"raw","key":"aes-128","provider-id":"p","encryption-algorithm":"aes"}}}}}"#;
        let m = DecryptManifest::parse("m", v5).unwrap();
        assert_eq!(m.tests[0].expected, ExpectedResult::Output { plaintext: "file://p".into() });
        assert_eq!(m.tests[0].reproduced_encryption_context.as_ref().unwrap()["a"], "b");
    }
}
