//! Reading a DB-ESDK manifest: `{"manifest": {"type": KIND, "version": "1"}, "keys": URI,
//! "tests": {NAME: RECORD, ...}}`, the keys file resolved relative to the manifest.

use std::path::Path;

use anyhow::{Context as _, bail};
use envelope_vectors::Source;
use serde_json::{Map, Value};

use super::keys::VectorKeys;

/// A loaded manifest.
pub struct Manifest {
    /// The tests, in file order of their names.
    pub tests: Map<String, Value>,
    /// The keys file.
    pub keys: VectorKeys,
}

/// Loads the manifest at `path` (a file or a directory holding manifest.json) of type `kind`.
pub fn load(path: &Path, kind: &str) -> anyhow::Result<Manifest> {
    let source = Source::open(path)?;
    let name = source.manifest_name();
    let json: Value =
        serde_json::from_slice(&source.manifest_bytes()?).with_context(|| format!("{name} is not JSON"))?;
    let header = json.get("manifest").with_context(|| format!("{name}: no \"manifest\" member"))?;
    let (found_kind, version) =
        (header.get("type").and_then(Value::as_str), header.get("version").and_then(Value::as_str));
    if found_kind != Some(kind) || version != Some("1") {
        bail!("{name}: expected manifest type {kind:?} version \"1\", found {header}");
    }
    let keys_uri = json.get("keys").and_then(Value::as_str).with_context(|| format!("{name}: no \"keys\" string"))?;
    let keys_bytes = source.read(keys_uri)?;
    let keys = VectorKeys::parse(keys_uri, keys_bytes)?;
    let tests = json.get("tests").and_then(Value::as_object).with_context(|| format!("{name}: no \"tests\" object"))?;
    Ok(Manifest { tests: tests.clone(), keys })
}
