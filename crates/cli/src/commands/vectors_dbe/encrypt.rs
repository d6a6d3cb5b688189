//! `envelope vectors dbe encrypt`: runs an aws-dbesdk-encrypt manifest and writes the items as an
//! aws-dbesdk-decrypt manifest (`DIR/manifest.json`, keys file copied to `DIR/keys.json`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use envelope::AlgorithmSuite;
use envelope_dbe::beacon::{BeaconKeySource, BeaconKeys, BeaconVersion, MultiKeySource, SingleKeySource};
use envelope_dbe::config_json::{KeySourceJson, ParsedTableConfig, table_config_from_value};
use envelope_dbe::item::{CryptoAction, Item, RESERVED_PREFIX, encrypt_item, item_from_value, item_to_json};
use envelope_dbe::search::SearchableTable;
use envelope_vectors::{Operation, Outcome, Report, Resolved};
use serde_json::{Map, Value, json};

use super::decrypt::beacon_key_id;
use super::keys::VectorKeys;

/// The suite when a config names none (the DB-ESDK's default).
const DEFAULT_SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;

/// Runs every test and writes the decrypt manifest into `out`.
pub async fn run(path: &Path, out: &Path) -> anyhow::Result<Report> {
    prepare_out(out)?;
    let manifest = super::manifest::load(path, "aws-dbesdk-encrypt")?;
    let mut report = Report::new();
    let mut written = Map::new();
    for (name, test) in &manifest.tests {
        let outcome = match run_test(&manifest.keys, test).await {
            Ok(Some(record)) => {
                written.insert(name.clone(), record);
                Outcome::Passed
            }
            Ok(None) => Outcome::Passed,
            Err(Outcome::Passed) => Outcome::Passed,
            Err(outcome) => outcome,
        };
        report.push(name.clone(), outcome);
    }
    let manifest_json = json!({
        "manifest": {"type": "aws-dbesdk-decrypt", "version": "1"},
        "client": {"name": "envelope", "version": env!("CARGO_PKG_VERSION")},
        "keys": "file://keys.json",
        "tests": written,
    });
    let text = serde_json::to_string_pretty(&manifest_json).context("could not serialize the manifest")?;
    std::fs::write(out.join("manifest.json"), text + "\n").context("could not write manifest.json")?;
    std::fs::write(out.join("keys.json"), &manifest.keys.bytes).context("could not write keys.json")?;
    Ok(report)
}

/// `out` must be new or empty: a run never mixes its files with another's.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).with_context(|| format!("{} is not a directory", out.display()))?;
        if entries.next().is_some() {
            bail!("{} is not empty", out.display());
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))
}

fn failed(reason: impl Into<String>) -> Outcome {
    Outcome::Failed { reason: reason.into() }
}

/// One test: `Ok(Some(record))` to write, `Ok(None)` for a negative-encrypt refused as it must be.
async fn run_test(keys: &VectorKeys, test: &Value) -> Result<Option<Value>, Outcome> {
    let kind = test.get("type").and_then(Value::as_str);
    let decrypt_type = match kind {
        Some("positive-encrypt") => "positive-decrypt",
        Some("negative-decrypt") => "negative-decrypt",
        Some("negative-encrypt") => "",
        other => return Err(failed(format!("unknown test type {other:?}"))),
    };
    let empty = Value::Object(Map::new());
    let config_json = test.get("config").unwrap_or(&empty);
    let config = table_config_from_value(config_json).map_err(|e| failed(e.to_string()))?;
    let record = match test.get("record").map(item_from_value) {
        Some(Ok(item)) => item,
        Some(Err(error)) => return Err(failed(format!("record: {error}"))),
        None => return Err(failed("no record")),
    };
    let stored = encrypt(keys, &config, &record).await;
    if decrypt_type.is_empty() {
        return match stored {
            Ok(_) => Err(failed("encrypted, but the test is negative-encrypt")),
            Err(_) => Ok(None),
        };
    }
    let stored = stored.map_err(|reason| match reason {
        Outcome::Failed { reason } => failed(format!("encrypt failed: {reason}")),
        other => other,
    })?;
    let plaintext = decrypted_form(keys, &config, &record).map_err(failed)?;
    let mut out = Map::new();
    out.insert("type".into(), Value::String(decrypt_type.into()));
    if let Some(description) = test.get("description") {
        out.insert("description".into(), description.clone());
    }
    out.insert("config".into(), test.get("decryptConfig").unwrap_or(config_json).clone());
    out.insert("encrypted".into(), item_to_json(&stored));
    out.insert("plaintext".into(), item_to_json(&plaintext));
    Ok(Some(Value::Object(out)))
}

/// The item as the DB-ESDK writes it (beacons included), or why not.
async fn encrypt(keys: &VectorKeys, config: &ParsedTableConfig, record: &Item) -> Result<Item, Outcome> {
    let cmm = match keys.materials_manager(config.key.as_ref(), Operation::Encrypt) {
        Resolved::Ready { value, .. } => value,
        Resolved::Unreachable(reason) => return Err(Outcome::Skipped { reason }),
        Resolved::Invalid(reason) => return Err(failed(reason)),
        _ => return Err(failed("unexpected keyring resolution")),
    };
    let suite = config.algorithm_suite.unwrap_or(DEFAULT_SUITE);
    let Some(search) = &config.search else {
        return encrypt_item(cmm.as_ref(), &config.table, record, suite).await.map_err(|e| failed(e.to_string()));
    };
    let written = search.write();
    let store = Arc::new(keys.beacon_store().map_err(|e| failed(e.to_string()))?);
    let source = match &written.key_source {
        Some(KeySourceJson::Multi { key_field_name, cache_ttl_seconds, .. }) => BeaconKeySource::Multi(
            MultiKeySource::new(store, key_field_name, Duration::from_secs((*cache_ttl_seconds).into())),
        ),
        other => {
            let id = beacon_key_id(keys, config, other.as_ref(), record).map_err(failed)?;
            let ttl = match other {
                Some(KeySourceJson::Single { cache_ttl_seconds, .. }) => *cache_ttl_seconds,
                _ => envelope_dbe::config_json::DEFAULT_CACHE_TTL_SECONDS,
            };
            BeaconKeySource::Single(SingleKeySource::new(store, id, Duration::from_secs(ttl.into())))
        }
    };
    let table = SearchableTable::new(config.table.clone(), cmm, suite)
        .with_beacons(written.config.clone(), source)
        .map_err(|e| failed(e.to_string()))?;
    table.encrypt_for_write(record).await.map_err(|e| failed(e.to_string()))
}

/// What decrypting the written item gives back: the record, plus any signed beacons (stored in
/// plaintext under their own names), minus a multi-tenant key field that is not stored.
fn decrypted_form(keys: &VectorKeys, config: &ParsedTableConfig, record: &Item) -> Result<Item, String> {
    let mut plaintext = record.clone();
    let Some(search) = &config.search else { return Ok(plaintext) };
    let written = search.write();
    let version = BeaconVersion::new(written.config.clone(), &config.table.actions).map_err(|e| e.to_string())?;
    let key_id = beacon_key_id(keys, config, written.key_source.as_ref(), record)?;
    let beacon_key = keys.beacon_key(&key_id).ok_or_else(|| format!("no beaconKey for branch key id {key_id}"))?;
    let beacon_keys = BeaconKeys::derive(beacon_key, &version).map_err(|e| e.to_string())?;
    for (name, value) in version.item_attributes(record, &beacon_keys, 0).map_err(|e| e.to_string())? {
        if !name.starts_with(RESERVED_PREFIX) {
            plaintext.insert(name, value);
        }
    }
    if let Some(KeySourceJson::Multi { key_field_name, .. }) = &written.key_source {
        let stored = matches!(
            config.table.actions.get(key_field_name),
            Some(CryptoAction::SignOnly | CryptoAction::SignAndIncludeInEncryptionContext)
        );
        if !stored {
            plaintext.remove(key_field_name);
        }
    }
    Ok(plaintext)
}
