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
use crate::keys::KeyState;
use crate::model::{now, Alias, GrantRecord, Key};
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
        Some(k)
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
            KeyRef::AliasArn { region: r, account: a, name } => self.alias_target(&ids::alias_arn(&r, &a, &name), raw)?,
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
        let mut v: Vec<Arc<GrantRecord>> = self
            .grants
            .read()
            .unwrap_or_else(poisoned)
            .values()
            .filter(|g| g.key_arn == key_arn)
            .cloned()
            .collect();
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
        self.policies.write().unwrap_or_else(poisoned).insert(key.arn.clone(), (key.meta.policy.clone(), parsed.clone()));
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
