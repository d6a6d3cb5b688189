//! The in-memory view of every record, with write-through to SQLite.
//!
//! Reads (every cryptographic request) take a shared lock on a hash map and clone an `Arc`;
//! writes serialize on the store mutex, persist first, then swap the new record in. A write is
//! visible to other requests only once it is durable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::auth::policy::Policy;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms, KeyRef};
use crate::keys::{KeySpec, KeyState, Material};
use crate::model::{now, Alias, GrantRecord, Key, MaterialInfo, MaterialVersion, RotationRecord};
use crate::store::{Loaded, Store, StoreError};

/// Last use of a key, for GetKeyLastUsage.
#[derive(Debug, Clone)]
pub struct LastUsage {
    /// Operation name.
    pub operation: String,
    /// When.
    pub timestamp: i64,
    /// Audit event id.
    pub event_id: String,
    /// Request id.
    pub request_id: String,
}

/// All records.
#[derive(Debug)]
pub struct Registry {
    keys: RwLock<HashMap<String, Arc<Key>>>,
    aliases: RwLock<HashMap<String, Alias>>,
    grants: RwLock<HashMap<String, Arc<GrantRecord>>>,
    last_usage: RwLock<HashMap<String, LastUsage>>,
    /// Parsed key policies by key ARN, with the text they were parsed from, so strict mode does
    /// not re-parse JSON on every request.
    policies: RwLock<HashMap<String, (String, Arc<Policy>)>>,
    store: Mutex<Store>,
    /// When usage tracking began.
    pub tracking_start: i64,
}

fn store_err(e: StoreError) -> KmsError {
    tracing::error!("store write failed: {e}");
    KmsError::internal("The emulator could not persist the change.")
}

fn poisoned<T>(e: std::sync::PoisonError<T>) -> T {
    // A panic while holding a lock leaves data that was only ever replaced whole; keep serving.
    e.into_inner()
}

/// True for an enabled key with automatic rotation on whose rotation date has passed.
fn rotation_due(k: &Key) -> bool {
    k.meta.rotation_enabled
        && k.meta.state == KeyState::Enabled
        && k.meta.multi_region != Some(crate::model::MrRole::Replica)
        && k.meta.next_rotation_date.is_some_and(|d| d <= now())
}

/// True for a key whose scheduled deletion date has passed.
fn expired(k: &Key) -> bool {
    k.meta.state == KeyState::PendingDeletion && k.meta.deletion_date.is_some_and(|d| d <= now())
}

impl Registry {
    /// Builds the registry from the store's contents.
    pub fn new(store: Store, loaded: Loaded) -> Self {
        Self {
            keys: RwLock::new(loaded.keys.into_iter().map(|k| (k.arn.clone(), Arc::new(k))).collect()),
            aliases: RwLock::new(loaded.aliases.into_iter().map(|a| (a.arn.clone(), a)).collect()),
            grants: RwLock::new(loaded.grants.into_iter().map(|g| (g.grant_id.clone(), Arc::new(g))).collect()),
            last_usage: RwLock::new(HashMap::new()),
            policies: RwLock::new(HashMap::new()),
            store: Mutex::new(store),
            tracking_start: loaded.tracking_start,
        }
    }

    /// The store, locked for a write.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(poisoned)
    }

    /// A key by ARN, if present and not past its deletion date (a key past it is purged).
    /// Must not be called while holding the store lock; use `live_key` there.
    pub fn key(&self, arn: &str) -> Option<Arc<Key>> {
        let k = self.keys.read().unwrap_or_else(poisoned).get(arn).cloned()?;
        if expired(&k) {
            self.purge(arn);
            return None;
        }
        if rotation_due(&k) {
            // Automatic rotation happens lazily, on the first use after it falls due.
            if let Err(e) = self.rotate(&k, "AUTOMATIC") {
                tracing::warn!("automatic rotation of {arn} failed: {e}");
            }
            return self.keys.read().unwrap_or_else(poisoned).get(arn).cloned();
        }
        Some(k)
    }

    /// Adds fresh material as a new current version of `key` (and of every Region's copy of a
    /// multi-Region key, which share material). Earlier versions stay for decryption.
    pub fn rotate(&self, key: &Key, rotation_type: &str) -> KmsResult<()> {
        let t = now();
        let next = key.materials.keys().next_back().map_or(0, |v| v + 1);
        let version = Arc::new(MaterialVersion {
            info: MaterialInfo { version: next, material_id: ids::new_hex_id(), created: t, imported: false },
            material: Material::generate(KeySpec::SymmetricDefault)?,
        });
        let record = RotationRecord { version: next, date: t, rotation_type: rotation_type.to_owned() };
        let family: Vec<String> = if key.meta.multi_region.is_some() {
            self.mr_family(&key.meta.account, &key.meta.key_id).iter().map(|k| k.arn.clone()).collect()
        } else {
            vec![key.arn.clone()]
        };
        for arn in family {
            self.update_key(&arn, |k| {
                if k.materials.contains_key(&next) {
                    // Another request rotated first; keep its material.
                    return Ok(());
                }
                k.meta.current_version = next;
                k.materials.insert(next, version.clone());
                k.meta.rotations.push(record.clone());
                if rotation_type == "ON_DEMAND" {
                    k.meta.on_demand_rotation_start = Some(t);
                } else if let Some(days) = k.meta.rotation_period_days {
                    k.meta.next_rotation_date = Some(t + i64::from(days) * 86_400);
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Like `key`, without purging (safe under the store lock).
    fn live_key(&self, arn: &str) -> Option<Arc<Key>> {
        self.keys.read().unwrap_or_else(poisoned).get(arn).cloned().filter(|k| !expired(k))
    }

    /// Removes a key whose deletion date has passed, with its aliases and grants.
    fn purge(&self, arn: &str) {
        let mut store = self.store();
        if store.delete_key(arn).is_err() {
            return;
        }
        self.keys.write().unwrap_or_else(poisoned).remove(arn);
        self.grants.write().unwrap_or_else(poisoned).retain(|_, g| g.key_arn != arn);
        let key_id = arn.rsplit('/').next().unwrap_or_default().to_owned();
        let prefix = arn.split(":key/").next().unwrap_or_default().to_owned();
        let doomed: Vec<String> = self
            .aliases
            .read()
            .unwrap_or_else(poisoned)
            .values()
            .filter(|a| a.target_key_id == key_id && a.arn.starts_with(&prefix))
            .map(|a| a.arn.clone())
            .collect();
        for a in doomed {
            if store.delete_alias(&a).is_ok() {
                self.aliases.write().unwrap_or_else(poisoned).remove(&a);
            }
        }
    }

    /// Resolves a `KeyId` request field in the caller's account and Region.
    pub fn resolve(&self, account: &str, region: &str, raw: &str, forms: KeyIdForms) -> KmsResult<Arc<Key>> {
        let parsed = ids::parse_key_ref(raw, forms)?;
        let arn = match parsed {
            KeyRef::Id(id) => ids::key_arn(region, account, &id),
            KeyRef::KeyArn { region: r, account: a, key_id } => ids::key_arn(&r, &a, &key_id),
            KeyRef::AliasName(name) => self.alias_target(&ids::alias_arn(region, account, &name), raw)?,
            KeyRef::AliasArn { region: r, account: a, name } => {
                self.alias_target(&ids::alias_arn(&r, &a, &name), raw)?
            }
        };
        self.key(&arn).ok_or_else(|| KmsError::not_found(format!("Key '{arn}' does not exist")))
    }

    fn alias_target(&self, alias_arn: &str, raw: &str) -> KmsResult<String> {
        let aliases = self.aliases.read().unwrap_or_else(poisoned);
        let a = aliases.get(alias_arn).ok_or_else(|| KmsError::not_found(format!("Alias {raw} is not found.")))?;
        Ok(ids::key_arn(&a.region, &a.account, &a.target_key_id))
    }

    /// Applies `f` to a copy of the key, persists it, then publishes it.
    pub fn update_key<T>(&self, arn: &str, f: impl FnOnce(&mut Key) -> KmsResult<T>) -> KmsResult<T> {
        let mut store = self.store();
        let before = self.live_key(arn).ok_or_else(|| KmsError::not_found(format!("Key '{arn}' does not exist")))?;
        let mut key = (*before).clone();
        let out = f(&mut key)?;
        store.put_key(&key, Some(&before)).map_err(store_err)?;
        self.keys.write().unwrap_or_else(poisoned).insert(arn.to_owned(), Arc::new(key));
        Ok(out)
    }

    /// Inserts a new key (durably).
    pub fn insert_key(&self, key: Key) -> KmsResult<Arc<Key>> {
        let mut store = self.store();
        if self.keys.read().unwrap_or_else(poisoned).contains_key(&key.arn) {
            return Err(KmsError::new("AlreadyExistsException", format!("Key '{}' already exists", key.arn)));
        }
        store.put_key(&key, None).map_err(store_err)?;
        let key = Arc::new(key);
        self.keys.write().unwrap_or_else(poisoned).insert(key.arn.clone(), key.clone());
        Ok(key)
    }

    /// Every key of an account and Region, sorted by ARN.
    pub fn keys_in(&self, account: &str, region: &str) -> Vec<Arc<Key>> {
        let mut v: Vec<Arc<Key>> = self
            .keys
            .read()
            .unwrap_or_else(poisoned)
            .values()
            .filter(|k| k.meta.account == account && k.meta.region == region)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.arn.cmp(&b.arn));
        v
    }

    /// Every Region's copy of a multi-Region key id in an account.
    pub fn mr_family(&self, account: &str, key_id: &str) -> Vec<Arc<Key>> {
        let mut v: Vec<Arc<Key>> = self
            .keys
            .read()
            .unwrap_or_else(poisoned)
            .values()
            .filter(|k| k.meta.account == account && k.meta.key_id == key_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.arn.cmp(&b.arn));
        v
    }

    /// Aliases of an account and Region, sorted by name.
    pub fn aliases_in(&self, account: &str, region: &str) -> Vec<Alias> {
        let mut v: Vec<Alias> = self
            .aliases
            .read()
            .unwrap_or_else(poisoned)
            .values()
            .filter(|a| a.account == account && a.region == region)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// One alias by ARN.
    pub fn alias(&self, arn: &str) -> Option<Alias> {
        self.aliases.read().unwrap_or_else(poisoned).get(arn).cloned()
    }

    /// Inserts or replaces an alias durably.
    pub fn put_alias(&self, store: &mut Store, alias: Alias) -> KmsResult<()> {
        store.put_alias(&alias).map_err(store_err)?;
        self.aliases.write().unwrap_or_else(poisoned).insert(alias.arn.clone(), alias);
        Ok(())
    }

    /// Deletes an alias durably.
    pub fn delete_alias(&self, store: &mut Store, arn: &str) -> KmsResult<()> {
        store.delete_alias(arn).map_err(store_err)?;
        self.aliases.write().unwrap_or_else(poisoned).remove(arn);
        Ok(())
    }

    /// Grants on a key.
    pub fn grants_for(&self, key_arn: &str) -> Vec<Arc<GrantRecord>> {
        let mut v: Vec<Arc<GrantRecord>> =
            self.grants.read().unwrap_or_else(poisoned).values().filter(|g| g.key_arn == key_arn).cloned().collect();
        v.sort_by(|a, b| (a.creation_date, &a.grant_id).cmp(&(b.creation_date, &b.grant_id)));
        v
    }

    /// Every grant (for ListRetirableGrants).
    pub fn all_grants(&self) -> Vec<Arc<GrantRecord>> {
        let mut v: Vec<Arc<GrantRecord>> = self.grants.read().unwrap_or_else(poisoned).values().cloned().collect();
        v.sort_by(|a, b| (a.creation_date, &a.grant_id).cmp(&(b.creation_date, &b.grant_id)));
        v
    }

    /// A grant by id.
    pub fn grant(&self, id: &str) -> Option<Arc<GrantRecord>> {
        self.grants.read().unwrap_or_else(poisoned).get(id).cloned()
    }

    /// A grant by token.
    pub fn grant_by_token(&self, token: &str) -> Option<Arc<GrantRecord>> {
        let id = crate::auth::grants::grant_id_from_token(token)?;
        self.grant(&id).filter(|g| g.token_matches(token))
    }

    /// Inserts a grant durably.
    pub fn put_grant(&self, store: &mut Store, grant: GrantRecord) -> KmsResult<()> {
        store.put_grant(&grant).map_err(store_err)?;
        self.grants.write().unwrap_or_else(poisoned).insert(grant.grant_id.clone(), Arc::new(grant));
        Ok(())
    }

    /// Deletes a grant durably.
    pub fn delete_grant(&self, store: &mut Store, id: &str) -> KmsResult<()> {
        store.delete_grant(id).map_err(store_err)?;
        self.grants.write().unwrap_or_else(poisoned).remove(id);
        Ok(())
    }

    /// The parsed policy of a key (cached until its text changes); `None` if it does not parse.
    pub fn policy(&self, key: &Key) -> Option<Arc<Policy>> {
        if let Some((text, p)) = self.policies.read().unwrap_or_else(poisoned).get(&key.arn) {
            if *text == key.meta.policy {
                return Some(p.clone());
            }
        }
        let parsed = Arc::new(Policy::parse(&key.meta.policy).ok()?);
        self.policies
            .write()
            .unwrap_or_else(poisoned)
            .insert(key.arn.clone(), (key.meta.policy.clone(), parsed.clone()));
        Some(parsed)
    }

    /// Records the last use of a key.
    pub fn note_usage(&self, key_arn: &str, usage: LastUsage) {
        self.last_usage.write().unwrap_or_else(poisoned).insert(key_arn.to_owned(), usage);
    }

    /// Last use of a key.
    pub fn last_usage(&self, key_arn: &str) -> Option<LastUsage> {
        self.last_usage.read().unwrap_or_else(poisoned).get(key_arn).cloned()
    }

    /// Seeds last-usage data at startup.
    pub fn load_usage(&self, entries: Vec<(String, LastUsage)>) {
        self.last_usage.write().unwrap_or_else(poisoned).extend(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{create_key_record, NewKey};

    #[test]
    fn automatic_rotation_is_lazy_and_keeps_old_material() {
        let dir = std::env::temp_dir().join(format!("kms-state-{}", ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = crate::seal::RootKey::from_bytes(&[1; 32]).unwrap();
        let store = Store::open(&dir, root).unwrap();
        let loaded = store.load().unwrap();
        let reg = Registry::new(store, loaded);
        let key = create_key_record(
            &reg,
            NewKey {
                account: "111122223333".into(),
                region: "us-east-1".into(),
                key_id: None,
                spec: KeySpec::SymmetricDefault,
                usage: crate::keys::KeyUsage::EncryptDecrypt,
                origin: crate::keys::Origin::AwsKms,
                description: String::new(),
                policy: None,
                tags: Default::default(),
                multi_region: false,
                material: None,
            },
        )
        .unwrap();
        reg.update_key(&key.arn, |k| {
            k.meta.rotation_enabled = true;
            k.meta.rotation_period_days = Some(90);
            k.meta.next_rotation_date = Some(now() - 1);
            Ok(())
        })
        .unwrap();
        let rotated = reg.key(&key.arn).unwrap();
        assert_eq!(rotated.materials.len(), 2);
        assert_eq!(rotated.meta.current_version, 1);
        assert_eq!(rotated.meta.rotations[0].rotation_type, "AUTOMATIC");
        assert!(rotated.meta.next_rotation_date.unwrap() > now() + 89 * 86_400);
        assert_eq!(reg.key(&key.arn).unwrap().materials.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
