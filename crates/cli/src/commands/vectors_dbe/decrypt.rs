//! `envelope vectors dbe decrypt`: every record of an aws-dbesdk-decrypt manifest.

use std::path::Path;

use envelope_dbe::beacon::{BEACON_ATTRIBUTE_PREFIX, BeaconKeys, BeaconVersion};
use envelope_dbe::config_json::{KeySourceJson, ParsedTableConfig, table_config_from_value};
use envelope_dbe::item::{AttributeValue, Item, decrypt_item, item_from_value};
use envelope_vectors::{Operation, Outcome, Report, Resolved};
use serde_json::Value;

use super::compare::{differing, normalized_item};
use super::keys::VectorKeys;

/// Runs every record; the report lists them in manifest order.
pub async fn run(path: &Path) -> anyhow::Result<Report> {
    let manifest = super::manifest::load(path, "aws-dbesdk-decrypt")?;
    let mut report = Report::new();
    for (name, record) in &manifest.tests {
        let outcome = check(&manifest.keys, record).await;
        tracing::debug!(test = %name, ?outcome, "DB-ESDK decrypt record");
        report.push(name.clone(), outcome);
    }
    Ok(report)
}

fn failed(reason: impl Into<String>) -> Outcome {
    Outcome::Failed { reason: reason.into() }
}

/// One record: decrypts `encrypted` with `config` and compares with `plaintext`.
async fn check(keys: &VectorKeys, record: &Value) -> Outcome {
    let positive = match record.get("type").and_then(Value::as_str) {
        Some("positive-decrypt") => true,
        Some("negative-decrypt") => false,
        other => return failed(format!("unknown record type {other:?}")),
    };
    let empty = Value::Object(Default::default());
    let config = match table_config_from_value(record.get("config").unwrap_or(&empty)) {
        Ok(config) => config,
        Err(error) => return failed(error.to_string()),
    };
    let encrypted = match record.get("encrypted").map(item_from_value) {
        Some(Ok(item)) => item,
        Some(Err(error)) => return failed(format!("encrypted: {error}")),
        None => return failed("no encrypted item"),
    };
    let cmm = match keys.materials_manager(config.key.as_ref(), Operation::Decrypt) {
        Resolved::Ready { value, .. } => value,
        Resolved::Unreachable(reason) => return Outcome::Skipped { reason },
        Resolved::Invalid(reason) => return failed(reason),
        _ => return failed("unexpected keyring resolution"),
    };
    // Beacons are written after the item is signed, so they are not part of it.
    let signed: Item =
        encrypted.iter().filter(|(name, _)| !name.starts_with(BEACON_ATTRIBUTE_PREFIX)).map(clone_pair).collect();
    let decrypted = decrypt_item(cmm.as_ref(), &config.table, &signed).await;
    if !positive {
        return match decrypted {
            Ok(_) => failed("decrypted, but the record is negative"),
            Err(_) => Outcome::Passed,
        };
    }
    let decrypted = match decrypted {
        Ok(item) => item,
        Err(error) => return failed(format!("decrypt failed: {error}")),
    };
    let expected = match record.get("plaintext").map(item_from_value) {
        Some(Ok(item)) => item,
        Some(Err(error)) => return failed(format!("plaintext: {error}")),
        None => return failed("no plaintext item"),
    };
    let (ours, theirs) = (normalized_item(&decrypted), normalized_item(&expected));
    if ours != theirs {
        return failed(format!("decrypted item differs from plaintext in {:?}", differing(&ours, &theirs)));
    }
    match check_beacons(keys, &config, &decrypted, &encrypted) {
        Ok(()) => Outcome::Passed,
        Err(reason) => failed(reason),
    }
}

fn clone_pair((name, value): (&String, &AttributeValue)) -> (String, AttributeValue) {
    (name.clone(), value.clone())
}

/// With a `search` config: the beacons the plaintext gives (under some partition of the
/// version) must be exactly the item's `aws_dbe_b_*` attributes. Without one the item may have
/// none.
fn check_beacons(
    keys: &VectorKeys,
    config: &ParsedTableConfig,
    plaintext: &Item,
    encrypted: &Item,
) -> Result<(), String> {
    let stored: Item =
        encrypted.iter().filter(|(name, _)| name.starts_with(BEACON_ATTRIBUTE_PREFIX)).map(clone_pair).collect();
    let Some(search) = &config.search else {
        return match stored.is_empty() {
            true => Ok(()),
            false => Err("the item has beacons but the config has no search".to_owned()),
        };
    };
    let written = search.write();
    let version = BeaconVersion::new(written.config.clone(), &config.table.actions).map_err(|e| e.to_string())?;
    let key_id = beacon_key_id(keys, config, written.key_source.as_ref(), plaintext)?;
    let beacon_key = keys.beacon_key(&key_id).ok_or_else(|| format!("no beaconKey for branch key id {key_id}"))?;
    let beacon_keys = BeaconKeys::derive(beacon_key, &version).map_err(|e| e.to_string())?;
    for partition in 0..version.max_partitions().max(1) {
        let computed: Item = version
            .beacons(plaintext, &beacon_keys, partition)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(name, _)| name.starts_with(BEACON_ATTRIBUTE_PREFIX))
            .collect();
        if computed == stored {
            return Ok(());
        }
    }
    let computed: Item = version
        .beacons(plaintext, &beacon_keys, 0)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(name, _)| name.starts_with(BEACON_ATTRIBUTE_PREFIX))
        .collect();
    Err(format!("beacons differ from those the plaintext gives: {:?}", differing(&stored, &computed)))
}

/// The branch key id whose beacon key the record's beacons use: the key source's `keyId`, the
/// item's `keyFieldName` value, or (no key source, or no key field value) the keyring's branch
/// key id.
pub fn beacon_key_id(
    keys: &VectorKeys,
    config: &ParsedTableConfig,
    source: Option<&KeySourceJson>,
    plaintext: &Item,
) -> Result<String, String> {
    let fallback = || keys.branch_key_id(config.key.as_ref()).ok_or_else(|| "no beacon key id".to_owned());
    match source {
        Some(KeySourceJson::Single { key_id, .. }) => Ok(key_id.clone()),
        Some(KeySourceJson::Multi { key_field_name, .. }) => match plaintext.get(key_field_name) {
            Some(AttributeValue::S(id)) => Ok(id.clone()),
            Some(_) => Err(format!("key field {key_field_name} is not a string")),
            None => fallback(),
        },
        None => fallback(),
    }
}
