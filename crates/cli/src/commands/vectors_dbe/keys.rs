//! The keys of a DB-ESDK vector manifest: keyrings from the keys file's entries (by default the
//! hierarchical keyring on `static-branch-key-1`), and beacon keys by branch key id.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use envelope::MaterialsManager;
use envelope_keyrings::hierarchy::{BeaconKeyMaterials, BranchKeySecret, StaticKeyStore};
use envelope_vectors::manifest::{KeyDescription, KeyMaterial, KeysManifest};
use envelope_vectors::{KeySet, Operation, Resolved};
use serde_json::Value;
use zeroize::Zeroizing;

/// The keys-manifest entry a record without `config.key` uses.
pub const DEFAULT_KEY: &str = "static-branch-key-1";

/// A keys manifest, ready to build keyrings and beacon keys.
pub struct VectorKeys {
    set: KeySet,
    /// The keys file as read, copied beside a written manifest.
    pub bytes: Vec<u8>,
    /// Branch key id → beacon key (`beaconKey` of `static-branch-key` entries).
    beacon_keys: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

impl VectorKeys {
    /// Parses a keys manifest (`file` names it in messages).
    pub fn parse(file: &str, bytes: Vec<u8>) -> anyhow::Result<VectorKeys> {
        let manifest =
            KeysManifest::parse(file, &bytes).with_context(|| format!("could not read the keys file {file}"))?;
        let mut beacon_keys = BTreeMap::new();
        for name in manifest.keys.keys() {
            if let Some((id, Some(beacon))) = static_branch_key(&manifest, name) {
                beacon_keys.insert(id, Zeroizing::new(beacon));
            }
        }
        Ok(VectorKeys { set: KeySet::new(manifest, None), bytes, beacon_keys })
    }

    /// The key description of a config's `key`: absent → the hierarchical keyring on
    /// `static-branch-key-1`; a string → that entry; an object → a keyring description.
    pub fn description(key: Option<&Value>) -> Result<KeyDescription, String> {
        match key {
            None => Ok(KeyDescription::Hierarchy { key: DEFAULT_KEY.to_owned() }),
            Some(Value::String(name)) => Ok(KeyDescription::Hierarchy { key: name.clone() }),
            Some(other) => KeyDescription::parse(other),
        }
    }

    /// The materials manager of a config's `key` (see [`VectorKeys::description`]).
    pub fn materials_manager(&self, key: Option<&Value>, operation: Operation) -> Resolved<Arc<dyn MaterialsManager>> {
        match Self::description(key) {
            Ok(description) => self.set.materials_manager(&description, operation),
            Err(reason) => Resolved::Invalid(format!("config.key: {reason}")),
        }
    }

    /// The branch key id the hierarchical keyring of `key` uses, if it is one.
    pub fn branch_key_id(&self, key: Option<&Value>) -> Option<String> {
        match Self::description(key).ok()? {
            KeyDescription::Hierarchy { key } => static_branch_key(self.set.manifest(), &key).map(|(id, _)| id),
            _ => None,
        }
    }

    /// The beacon key of branch key id `id`.
    pub fn beacon_key(&self, id: &str) -> Option<&[u8]> {
        self.beacon_keys.get(id).map(|key| key.as_slice())
    }

    /// A key store answering `GetBeaconKey` with every entry's beacon key.
    pub fn beacon_store(&self) -> anyhow::Result<StaticKeyStore> {
        let mut store = StaticKeyStore::new("vector-beacon-keys");
        for (id, key) in &self.beacon_keys {
            let secret = BranchKeySecret::from_slice(key).with_context(|| format!("beacon key of {id}"))?;
            store.add_beacon_key(BeaconKeyMaterials::new(id, BTreeMap::new(), secret));
        }
        Ok(store)
    }
}

/// The branch key id and beacon key of a `static-branch-key` entry.
fn static_branch_key(manifest: &KeysManifest, name: &str) -> Option<(String, Option<Vec<u8>>)> {
    match manifest.entry(name)?.material(name).ok()? {
        KeyMaterial::StaticBranchKey { branch_key_id, beacon_key, .. } => Some((branch_key_id, beacon_key)),
        _ => None,
    }
}
