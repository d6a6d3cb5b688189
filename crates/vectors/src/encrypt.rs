//! The encrypt generator: runs an `awses-encrypt` manifest and writes what any other
//! implementation needs to check our messages — `manifest.json` (awses-decrypt v2, or v4 when a
//! test uses the required-encryption-context CMM), `keys.json`, `plaintexts/`, `ciphertexts/`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::cmm::RequiredEncryptionContextMaterialsManager;
use envelope::{AlgorithmSuite, Client, CommitmentPolicy, EncryptOptions, EncryptionContext, MaterialsManager};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::keys::{KeySet, KmsKeyrings, Operation, Resolved};
use crate::manifest::encrypt::{CmmChoice, EncryptManifest, EncryptTest};
use crate::manifest::key_description::KeyDescription;
use crate::manifest::keys::KeysManifest;
use crate::report::{Outcome, Report};
use crate::source::Source;

/// How the generator writes messages.
///
/// ```
/// use envelope_vectors::{EncryptMethod, GenerateOptions};
///
/// assert_eq!(EncryptMethod::default(), EncryptMethod::OneShot);
/// let streaming = true; // say, from a `--streaming` flag
/// let method = if streaming { EncryptMethod::Streaming } else { EncryptMethod::OneShot };
/// let options = GenerateOptions { method, ..GenerateOptions::default() };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EncryptMethod {
    /// One call per message.
    #[default]
    OneShot,
    /// Through the streaming writer, in 1000-byte writes.
    Streaming,
}

/// How to run an encrypt manifest.
///
/// ```
/// use envelope_vectors::{EncryptMethod, GenerateOptions};
///
/// // Only the tests whose name contains "rsa", through the streaming writer; no KMS (skipped).
/// let options = GenerateOptions {
///     method: EncryptMethod::Streaming,
///     filter: Some("rsa".into()),
///     ..GenerateOptions::default()
/// };
/// assert!(options.kms.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Builds AWS KMS keyrings; `None` skips every test that needs KMS.
    pub kms: Option<Arc<dyn KmsKeyrings>>,
    /// One-shot or streaming.
    pub method: EncryptMethod,
    /// Run only the tests whose name contains this.
    pub filter: Option<String>,
}

/// The client name written into the decrypt manifest.
const CLIENT_NAME: &str = "envelope";

/// Runs the encrypt manifest at `manifest` and writes the decrypt-manifest directory `out`
/// (which must not exist yet, or be empty). Returns one outcome per test: passed = written.
///
/// ```
/// use envelope_vectors::{GenerateOptions, RunOptions, run_decrypt_manifest, run_encrypt_manifest};
///
/// // An encrypt manifest with one test, and the keys manifest it names.
/// let dir = std::env::temp_dir().join(format!("envelope-doc-generate-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("keys.json"), r#"{"manifest": {"type": "keys", "version": 3}, "keys": {"aes-256": {
///     "type": "symmetric", "algorithm": "aes", "bits": 256, "encoding": "base64", "key-id": "aes-256",
///     "material": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "encrypt": true, "decrypt": true}}}"#)?;
/// std::fs::write(dir.join("encrypt-manifest.json"), r#"{"manifest": {"type": "awses-encrypt", "version": 2},
///     "keys": "file://keys.json", "plaintexts": {"small": 10240}, "tests": {"aes-256-small": {
///         "plaintext": "small", "algorithm": "0478", "frame-size": 512, "encryption-context": {"purpose": "docs"},
///         "master-keys": [{"type": "raw", "key": "aes-256", "provider-id": "docs", "encryption-algorithm": "aes"}]}}}"#)?;
///
/// let out = dir.join("generated");
/// let written = run_encrypt_manifest(&dir.join("encrypt-manifest.json"), &out, &GenerateOptions::default())?;
/// assert_eq!(written.summary(), "1 passed, 0 failed, 0 skipped");
/// // `out` is a decrypt manifest that any implementation, this one included, can check.
/// let read = run_decrypt_manifest(&out, &RunOptions::default())?;
/// assert_eq!(read.summary(), "1 passed, 0 failed, 0 skipped");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_encrypt_manifest(manifest: &Path, out: &Path, options: &GenerateOptions) -> Result<Report> {
    let source = Source::open(manifest)?;
    let name = source.manifest_name();
    let manifest = EncryptManifest::parse(&name, &source.manifest_bytes()?)?;
    let keys_bytes = source.read(&manifest.keys)?;
    let keys = KeySet::new(KeysManifest::parse(&manifest.keys, &keys_bytes)?, options.kms.clone());

    let staging = Staging::create(out)?;
    let mut plaintexts = BTreeMap::new();
    for (name, size) in &manifest.plaintexts {
        let size = usize::try_from(*size).map_err(|_| Error::manifest(&name[..], "plaintext too large"))?;
        let mut bytes = vec![0u8; size];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| Error::Output { path: out.into(), message: "no randomness".into() })?;
        staging.write(&format!("plaintexts/{}", file_name(name)), &bytes)?;
        plaintexts.insert(name.clone(), bytes);
    }

    let mut report = Report::new();
    let mut written: Vec<(String, Value, bool, bool)> = Vec::new();
    let mut used_names = BTreeSet::new();
    for test in &manifest.tests {
        if options.filter.as_deref().is_some_and(|f| !test.name.contains(f)) {
            continue;
        }
        let plaintext = plaintexts.get(&test.plaintext).map(Vec::as_slice).unwrap_or_default();
        match encrypt_test(&keys, &manifest, test, plaintext, options.method) {
            Ok(ciphertext) => {
                let mut file = file_name(&test.name);
                while !used_names.insert(file.clone()) {
                    file.push('_');
                }
                staging.write(&format!("ciphertexts/{file}"), &ciphertext)?;
                let required = matches!(test.cmm, CmmChoice::RequiredEncryptionContext { .. });
                written.push((test.name.clone(), decrypt_entry(test, &file), required, needs_v5(test)));
                report.push(test.name.clone(), Outcome::Passed);
            }
            Err(outcome) => report.push(test.name.clone(), outcome),
        }
    }

    // The oldest version that can say what was written: v5 for keyrings only its key
    // descriptions name (hierarchy, raw ECDH), v4 for the required-context CMM, else v2.
    let version = if written.iter().any(|(_, _, _, v5)| *v5) {
        5
    } else if written.iter().any(|(_, _, required, _)| *required) {
        4
    } else {
        2
    };
    let mut tests = Map::new();
    for (name, mut entry, _, _) in written {
        if version == 5 {
            entry = v5_entry(&entry);
        } else if version == 2 {
            if let Some(obj) = entry.as_object_mut() {
                obj.remove("cmm");
                obj.remove("encryption-context");
            }
        }
        tests.insert(name, entry);
    }
    let decrypt_manifest = json!({
        "manifest": {"type": "awses-decrypt", "version": version},
        "client": {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")},
        "keys": "file://keys.json",
        "tests": tests,
    });
    let mut text = serde_json::to_vec_pretty(&decrypt_manifest)
        .map_err(|e| Error::Output { path: out.into(), message: e.to_string() })?;
    text.push(b'\n');
    staging.write("manifest.json", &text)?;
    staging.write("keys.json", &keys_bytes)?;
    staging.commit()?;
    Ok(report)
}

/// Encrypts one test's plaintext; `Err` is the test's outcome when it cannot be written.
fn encrypt_test(
    keys: &KeySet,
    manifest: &EncryptManifest,
    test: &EncryptTest,
    plaintext: &[u8],
    method: EncryptMethod,
) -> std::result::Result<Vec<u8>, Outcome> {
    let failed = |reason: String| Outcome::Failed { reason };
    let suite = AlgorithmSuite::from_id(test.algorithm)
        .ok_or_else(|| failed(format!("unknown algorithm suite 0x{:04X}", test.algorithm)))?;
    if test.frame_size == 0 {
        // spec: client-apis/encrypt.md — envelope never writes non-framed messages.
        return Err(Outcome::Skipped {
            reason: "frame-size 0 asks for a non-framed message, which envelope never writes".into(),
        });
    }
    let frame_length =
        u32::try_from(test.frame_size).map_err(|_| failed(format!("frame-size {} is too large", test.frame_size)))?;
    let policy = match test.commitment_policy.as_deref().or(manifest.commitment_policy.as_deref()) {
        Some(name) => {
            CommitmentPolicy::from_name(name).ok_or_else(|| failed(format!("unknown commitment policy {name:?}")))?
        }
        None if suite.is_committing() => CommitmentPolicy::RequireEncryptRequireDecrypt,
        None => CommitmentPolicy::ForbidEncryptAllowDecrypt,
    };
    let description =
        test.keys.as_ref().map_err(|reason| Outcome::Skipped { reason: format!("cannot read its keys: {reason}") })?;
    if let Some(Err(reason)) = &test.decrypt_keys {
        return Err(failed(format!("cannot read its decrypt-master-keys: {reason}")));
    }
    let cmm: Arc<dyn MaterialsManager> = match keys.materials_manager(description, Operation::Encrypt) {
        Resolved::Ready { value, .. } => value,
        Resolved::Unreachable(reason) => return Err(Outcome::Skipped { reason }),
        Resolved::Invalid(reason) => return Err(failed(reason)),
    };
    let cmm: Arc<dyn MaterialsManager> = match &test.cmm {
        CmmChoice::Default => cmm,
        CmmChoice::RequiredEncryptionContext { keys } => Arc::new(
            RequiredEncryptionContextMaterialsManager::new(cmm, keys.clone())
                .map_err(|e| failed(format!("required-encryption-context CMM: {e}")))?,
        ),
    };
    let client = BlockingClient::new(Client::from_arc(cmm).commitment_policy(policy));
    let options = EncryptOptions::new()
        .encryption_context(test.encryption_context.clone())
        .algorithm_suite(suite)
        .frame_length(frame_length);
    let result = match method {
        EncryptMethod::OneShot => client.encrypt(plaintext, &options).map_err(|e| e.to_string()),
        EncryptMethod::Streaming => (|| {
            let mut writer = client.encrypting_writer(Vec::new(), &options).map_err(|e| e.to_string())?;
            for chunk in plaintext.chunks(1000) {
                writer.write_all(chunk).map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())
        })(),
    };
    result.map_err(|reason| failed(format!("encryption failed: {reason}")))
}

/// The decrypt-manifest entry for a written test (v4 members included; dropped for v2).
fn decrypt_entry(test: &EncryptTest, file: &str) -> Value {
    let (cmm, reproduced): (&str, EncryptionContext) = match &test.cmm {
        CmmChoice::Default => ("Default", test.encryption_context.clone()),
        CmmChoice::RequiredEncryptionContext { keys } => (
            "RequiredEncryptionContext",
            test.encryption_context
                .iter()
                .filter(|(k, _)| keys.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    };
    let keys = match &test.decrypt_keys {
        Some(decrypt_keys) => decrypt_keys.as_ref(),
        None => test.keys.as_ref(),
    };
    let master_keys = keys.map(|d| d.to_master_keys()).unwrap_or_default();
    let mut entry = json!({
        "ciphertext": format!("file://ciphertexts/{file}"),
        "master-keys": master_keys,
        "cmm": cmm,
        "encryption-context": reproduced.as_map(),
        "result": {"output": {"plaintext": format!("file://plaintexts/{}", file_name(&test.plaintext))}},
    });
    if let (Some(description), Some(obj)) = (&test.description, entry.as_object_mut()) {
        obj.insert("description".into(), json!(description));
    }
    entry
}

/// Whether a test's keys can only be written as a v5 key description.
fn needs_v5(test: &EncryptTest) -> bool {
    fn v5_only(description: &KeyDescription) -> bool {
        match description {
            KeyDescription::Hierarchy { .. } | KeyDescription::RawEcdh { .. } => true,
            KeyDescription::Multi { generator, children } => {
                generator.iter().map(|g| g.as_ref()).chain(children).any(v5_only)
            }
            KeyDescription::RequiredEncryptionContext { underlying, .. } => v5_only(underlying),
            _ => false,
        }
    }
    let decrypt = test.decrypt_keys.as_ref().and_then(|d| d.as_ref().ok());
    test.keys.as_ref().ok().into_iter().chain(decrypt).any(v5_only)
}

/// A v2–v4 entry rewritten as a v5 `decryption-scenario` (a `decryptKeyDescription` instead of
/// `master-keys`, the required-context CMM as a description around it).
fn v5_entry(entry: &Value) -> Value {
    let master_keys = entry.get("master-keys").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut description = KeyDescription::from_master_keys(&master_keys).map(|d| d.to_json()).unwrap_or(Value::Null);
    let reproduced = entry.get("encryption-context").cloned().unwrap_or_else(|| json!({}));
    if entry.get("cmm").and_then(Value::as_str) == Some("RequiredEncryptionContext") {
        let keys: Vec<String> = reproduced.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        description = json!({
            "type": "required-encryption-context-cmm",
            "underlying": description,
            "requiredEncryptionContextKeys": keys,
        });
    }
    let mut scenario = json!({
        "type": "positive-esdk",
        "ciphertext": entry.get("ciphertext").cloned().unwrap_or(Value::Null),
        "result": entry.pointer("/result/output/plaintext").cloned().unwrap_or(Value::Null),
        "decryptKeyDescription": description,
        "reproduced-encryption-context": reproduced,
    });
    if let (Some(text), Some(obj)) = (entry.get("description"), scenario.as_object_mut()) {
        obj.insert("description".into(), text.clone());
    }
    json!({ "decryption-scenario": scenario })
}

/// A test or plaintext name as a portable file name.
fn file_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    match cleaned.as_str() {
        "" | "." | ".." => format!("_{cleaned}"),
        _ => cleaned,
    }
}

/// The output directory, built under a temporary name and renamed into place when complete.
struct Staging {
    final_dir: PathBuf,
    temp_dir: PathBuf,
    committed: bool,
}

impl Staging {
    fn create(out: &Path) -> Result<Staging> {
        if out.exists() {
            let empty = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?.next().is_none();
            if !empty {
                return Err(Error::Output {
                    path: out.into(),
                    message: "already exists and is not empty; remove it or choose another --out".into(),
                });
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let base = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "vectors".into());
        let temp_dir = parent.join(format!(".{base}.partial-{}", std::process::id()));
        if temp_dir.exists() {
            std::fs::remove_dir_all(&temp_dir).map_err(|e| Error::io(&temp_dir, e))?;
        }
        for sub in ["plaintexts", "ciphertexts"] {
            let dir = temp_dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(Staging { final_dir: out.to_path_buf(), temp_dir, committed: false })
    }

    fn write(&self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.temp_dir.join(relative);
        std::fs::write(&path, bytes).map_err(|e| Error::io(path, e))
    }

    fn commit(mut self) -> Result<()> {
        if self.final_dir.exists() {
            // Checked empty in `create`.
            std::fs::remove_dir(&self.final_dir).map_err(|e| Error::io(&self.final_dir, e))?;
        }
        std::fs::rename(&self.temp_dir, &self.final_dir).map_err(|e| Error::io(&self.final_dir, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temp_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_portable() {
        assert_eq!(file_name("0578-ec_len_2"), "0578-ec_len_2");
        assert_eq!(file_name("a/b c"), "a_b_c");
        assert_eq!(file_name(".."), "_..");
    }
}
