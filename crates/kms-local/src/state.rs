//! The in-memory view of every record, with write-through to SQLite.
//!
//! Reads (every cryptographic request) take a shared lock on a hash map and clone an `Arc`;
//! writes serialize on the store mutex, persist first, then swap the new record in. A write is
//! visible to other requests only once it is durable.
//!
//! Other processes may write the same database. Every write runs in a `BEGIN IMMEDIATE`
//! transaction ([`StoreGuard`]) that first compares the database's generation counter with the
//! one this view was loaded at and reloads everything if another process committed since; so a
//! change is always computed from, and applied to, the latest committed state, and no
//! interleaving of processes loses an acknowledged change. Each request first calls
//! [`Registry::refresh`]: one indexed read of the counter on a read-only connection, and a reload
//! only when another process wrote, so a key created or disabled elsewhere is seen by the next
//! request here.
//!
//! The symmetric data-plane operations (Encrypt, Decrypt, GenerateDataKey, ...) ask only for a
//! [`Freshness::Recent`] view: the counter is read at most once per [`RECENT`] for all of them
//! together. That read (a SQLite read transaction: two `fcntl` locks, a page lookup, and a mutex
//! shared by every worker) cost more than the cryptography it guarded. What this allows, and
//! what it does not:
//! - a key disabled or deleted, a policy tightened or a grant revoked *in another process* may
//!   still be used by such an operation here for up to [`RECENT`] after that process committed
//!   (real KMS documents its key state and grant changes as eventually consistent, for seconds);
//! - nothing this process wrote itself is ever stale (its writes update the view before they
//!   are acknowledged), and every other operation, and every write, checks exactly;
//! - a request that *fails* on a recent view (unknown key, alias or material version, disabled,
//!   access denied) is re-checked exactly and run again when another process had written, so a
//!   key, version or grant created elsewhere is never reported missing (see `ops::dispatch`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use crate::auth::policy::Policy;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms, KeyRef};
use crate::keys::{KeySpec, KeyState, Material};
use crate::model::{Alias, GrantRecord, Key, MaterialInfo, MaterialVersion, RotationRecord, now};
use crate::seal::RootKey;
use crate::store::{GenerationProbe, Loaded, Store, StoreError};

/// How long a [`Freshness::Recent`] view may go without reading the generation counter.
pub(crate) const RECENT: Duration = Duration::from_millis(2);

/// How up to date with other processes' commits a request's view of the records must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Read the generation counter now (every write and control-plane operation).
    Exact,
    /// A counter read at most [`RECENT`] ago is enough (the symmetric data-plane operations).
    Recent,
}

/// Last use of a key, for GetKeyLastUsage.
#[derive(Debug, Clone)]
pub(crate) struct LastUsage {
    /// Operation name.
    pub(crate) operation: String,
    /// When.
    pub(crate) timestamp: i64,
    /// Audit event id.
    pub(crate) event_id: String,
    /// Request id.
    pub(crate) request_id: String,
}

/// All records.
#[derive(Debug)]
pub(crate) struct Registry {
    keys: RwLock<HashMap<String, Arc<Key>>>,
    aliases: RwLock<HashMap<String, Alias>>,
    grants: RwLock<HashMap<String, Arc<GrantRecord>>>,
    last_usage: RwLock<HashMap<String, LastUsage>>,
    /// Parsed key policies by key ARN, with the text they were parsed from, so strict mode does
    /// not re-parse JSON on every request.
    policies: RwLock<HashMap<String, (String, Arc<Policy>)>>,
    store: Mutex<Store>,
    /// The root key, outside the store's mutex: sealing an import token reads it and nothing else.
    root: Arc<RootKey>,
    /// Read-only connection for the per-request "did another process write?" check.
    probe: Option<GenerationProbe>,
    /// The database generation the maps above reflect. Changed only under the store mutex.
    generation: AtomicI64,
    /// When the probe last read the counter, in microseconds after `epoch` (plus one, so 0 means
    /// never).
    last_probe_us: AtomicU64,
    /// Start of the `last_probe_us` clock.
    epoch: Instant,
    /// Counter reads made through the probe (for tests: the recent path must not hit SQLite).
    probes: AtomicU64,
    /// When usage tracking began.
    pub(crate) tracking_start: i64,
}

/// The store, locked, inside a write transaction that began after this process's view was
/// brought up to date with every other process's commits. Checks made while holding it stay
/// true until its one change commits (SQLite's write lock excludes every other writer). Dropped
/// without a commit, it rolls back.
pub(crate) struct StoreGuard<'a> {
    store: MutexGuard<'a, Store>,
}

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        self.store.rollback();
    }
}

fn store_err(e: StoreError) -> KmsError {
    tracing::error!("store write failed: {e}");
    KmsError::internal("The emulator could not persist the change.")
}

/// A guard whose transaction could not begin (or already committed its one change) writes nothing.
fn writable(store: &Store) -> KmsResult<()> {
    if store.in_write() {
        Ok(())
    } else {
        Err(KmsError::internal("The emulator could not lock its database; try again."))
    }
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

fn key_map(keys: Vec<Key>) -> HashMap<String, Arc<Key>> {
    keys.into_iter().map(|k| (k.arn.clone(), Arc::new(k))).collect()
}

fn alias_map(aliases: Vec<Alias>) -> HashMap<String, Alias> {
    aliases.into_iter().map(|a| (a.arn.clone(), a)).collect()
}

fn grant_map(grants: Vec<GrantRecord>) -> HashMap<String, Arc<GrantRecord>> {
    grants.into_iter().map(|g| (g.grant_id.clone(), Arc::new(g))).collect()
}

impl Registry {
    /// Builds the registry from the store's contents.
    pub(crate) fn new(mut store: Store, loaded: Loaded) -> Self {
        Self {
            keys: RwLock::new(key_map(loaded.keys)),
            aliases: RwLock::new(alias_map(loaded.aliases)),
            grants: RwLock::new(grant_map(loaded.grants)),
            last_usage: RwLock::new(HashMap::new()),
            policies: RwLock::new(HashMap::new()),
            probe: store.take_probe(),
            root: store.root(),
            store: Mutex::new(store),
            generation: AtomicI64::new(loaded.generation),
            last_probe_us: AtomicU64::new(0),
            epoch: Instant::now(),
            probes: AtomicU64::new(0),
            tracking_start: loaded.tracking_start,
        }
    }

    /// The store, locked for one change, in a write transaction over an up-to-date view. If the
    /// transaction cannot begin, the guard refuses writes (see `writable`).
    pub(crate) fn store(&self) -> StoreGuard<'_> {
        let mut store = self.store.lock().unwrap_or_else(poisoned);
        match store.begin_write() {
            Ok(generation) => {
                if let Err(e) = self.catch_up(&mut store, generation) {
                    tracing::error!("reloading the records another process changed failed: {e}");
                    store.rollback();
                }
            }
            Err(e) => tracing::error!("could not begin a write transaction: {e}"),
        }
        StoreGuard { store }
    }

    /// The root key. Reading it takes no lock: unlike [`Registry::store`], it neither waits for
    /// other requests' writes nor begins a write transaction.
    pub(crate) fn root(&self) -> &RootKey {
        &self.root
    }

    /// Brings the maps up to date when another process committed since they were loaded. Call
    /// once per request, before reading; costs one indexed read when nothing changed, and, for
    /// [`Freshness::Recent`], nothing at all when the counter was read less than [`RECENT`] ago.
    /// Returns true when the counter was read (the view is now exact).
    pub(crate) fn refresh(&self, freshness: Freshness) -> bool {
        if self.probe.is_none() {
            return true;
        }
        let now_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX - 1) + 1;
        let last = self.last_probe_us.load(Ordering::Acquire);
        if freshness == Freshness::Recent && last != 0 && now_us.saturating_sub(last) < RECENT.as_micros() as u64 {
            return false;
        }
        // One request per interval reads the counter; the others keep using the view it just
        // confirmed (so the recent path never waits for the probe's mutex).
        if freshness == Freshness::Recent
            && self.last_probe_us.compare_exchange(last, now_us, Ordering::AcqRel, Ordering::Acquire).is_err()
        {
            return false;
        }
        self.check_probe();
        if freshness == Freshness::Exact {
            self.last_probe_us.fetch_max(now_us, Ordering::AcqRel);
        }
        true
    }

    /// The database generation the in-memory view reflects.
    pub(crate) fn view_generation(&self) -> i64 {
        self.generation.load(Ordering::Acquire)
    }

    fn check_probe(&self) {
        let Some(probe) = &self.probe else { return };
        self.probes.fetch_add(1, Ordering::Relaxed);
        match probe.current() {
            Ok(g) if g == self.generation.load(Ordering::Acquire) => {}
            Ok(_) => {
                let mut store = self.store.lock().unwrap_or_else(poisoned);
                // Another thread may have caught up (or this process written) meanwhile.
                let result = store.generation().and_then(|g| self.catch_up(&mut store, g));
                if let Err(e) = result {
                    tracing::error!("reloading the records another process changed failed: {e}");
                }
            }
            Err(e) => tracing::warn!("could not check the database for other processes' changes: {e}"),
        }
    }

    /// Marks the counter as read just now (tests: puts the next recent-view request inside the
    /// window deterministically).
    #[cfg(test)]
    pub(crate) fn mark_probed_now(&self) {
        let now_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX - 1) + 1;
        self.last_probe_us.store(now_us, Ordering::Release);
    }

    /// How many times the generation counter was read through the probe connection.
    #[cfg(test)]
    pub(crate) fn probe_reads(&self) -> u64 {
        self.probes.load(Ordering::Relaxed)
    }

    /// Reloads every record if `generation` (read under the store lock) is not the one the maps
    /// reflect. Material already unsealed is reused.
    fn catch_up(&self, store: &mut Store, generation: i64) -> Result<(), StoreError> {
        if generation == self.generation.load(Ordering::Acquire) {
            return Ok(());
        }
        let known = self.keys.read().unwrap_or_else(poisoned).clone();
        let reuse = |arn: &str, info: &MaterialInfo| {
            known.get(arn)?.materials.get(&info.version).filter(|m| m.info.material_id == info.material_id).cloned()
        };
        let loaded = store.load_with(&reuse)?;
        tracing::debug!("reloaded records at generation {} (another process wrote)", loaded.generation);
        *self.keys.write().unwrap_or_else(poisoned) = key_map(loaded.keys);
        *self.aliases.write().unwrap_or_else(poisoned) = alias_map(loaded.aliases);
        *self.grants.write().unwrap_or_else(poisoned) = grant_map(loaded.grants);
        self.generation.store(loaded.generation, Ordering::Release);
        Ok(())
    }

    /// Commits the guard's change; the caller publishes it to the maps afterwards (still
    /// holding the guard, so no reader reloads in between).
    fn commit(&self, store: &mut Store) -> KmsResult<i64> {
        store.commit().map_err(store_err)
    }

    /// Records that the maps now reflect `generation` (after publishing a committed change).
    fn published(&self, generation: i64) {
        self.generation.store(generation, Ordering::Release);
    }

    /// A key by ARN, if present and not past its deletion date (a key past it is purged).
    /// Must not be called while holding the store lock; use `live_key` there.
    pub(crate) fn key(&self, arn: &str) -> Option<Arc<Key>> {
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
    /// multi-Region key, which share material), in one transaction. Earlier versions stay for
    /// decryption. The version number is taken from the latest committed state, so concurrent
    /// rotations (in any process) each add their own version.
    pub(crate) fn rotate(&self, key: &Key, rotation_type: &str) -> KmsResult<()> {
        let mut store = self.store();
        writable(&store)?;
        let fresh =
            self.live_key(&key.arn).ok_or_else(|| KmsError::not_found(format!("Key '{}' does not exist", key.arn)))?;
        if rotation_type == "AUTOMATIC" && !rotation_due(&fresh) {
            // Another request (maybe in another process) rotated it first.
            return Ok(());
        }
        let family: Vec<Arc<Key>> = if fresh.meta.multi_region.is_some() {
            self.mr_family(&fresh.meta.account, &fresh.meta.key_id)
        } else {
            vec![fresh]
        };
        let t = now();
        let next = family.iter().filter_map(|k| k.materials.keys().next_back()).max().map_or(0, |v| v + 1);
        let version = Arc::new(MaterialVersion {
            info: MaterialInfo { version: next, material_id: ids::new_hex_id(), created: t, imported: false },
            material: Material::generate(KeySpec::SymmetricDefault)?,
        });
        let record = RotationRecord { version: next, date: t, rotation_type: rotation_type.to_owned() };
        let mut updated = Vec::with_capacity(family.len());
        for before in family {
            let mut k = (*before).clone();
            k.meta.current_version = next;
            k.materials.insert(next, version.clone());
            k.meta.rotations.push(record.clone());
            // On-demand rotations complete at once and leave the automatic schedule alone (as KMS does).
            if rotation_type != "ON_DEMAND" {
                if let Some(days) = k.meta.rotation_period_days {
                    k.meta.next_rotation_date = Some(t + i64::from(days) * 86_400);
                }
            }
            store.put_key(&k, Some(&before)).map_err(store_err)?;
            updated.push(k);
        }
        let generation = self.commit(&mut store)?;
        let mut keys = self.keys.write().unwrap_or_else(poisoned);
        for k in updated {
            keys.insert(k.arn.clone(), Arc::new(k));
        }
        self.published(generation);
        Ok(())
    }

    /// Like `key`, without purging (safe under the store lock).
    fn live_key(&self, arn: &str) -> Option<Arc<Key>> {
        self.keys.read().unwrap_or_else(poisoned).get(arn).cloned().filter(|k| !expired(k))
    }

    /// Removes a key whose deletion date has passed, with its aliases and grants.
    fn purge(&self, arn: &str) {
        let mut store = self.store();
        if !store.in_write() {
            return;
        }
        // Another process may have purged it already.
        if !self.keys.read().unwrap_or_else(poisoned).get(arn).is_some_and(|k| expired(k)) {
            return;
        }
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
        let written = store.delete_key(arn).and_then(|()| doomed.iter().try_for_each(|a| store.delete_alias(a)));
        if let Err(e) = written {
            tracing::warn!("purging {arn} failed: {e}");
            return;
        }
        let Ok(generation) = self.commit(&mut store) else { return };
        self.keys.write().unwrap_or_else(poisoned).remove(arn);
        self.grants.write().unwrap_or_else(poisoned).retain(|_, g| g.key_arn != arn);
        let mut aliases = self.aliases.write().unwrap_or_else(poisoned);
        for a in &doomed {
            aliases.remove(a);
        }
        self.published(generation);
    }

    /// Resolves a `KeyId` request field in the caller's account and Region. Keys and aliases are
    /// regional: an ARN naming another Region is not found here, as at that Region's endpoint.
    pub(crate) fn resolve(&self, account: &str, region: &str, raw: &str, forms: KeyIdForms) -> KmsResult<Arc<Key>> {
        let parsed = ids::parse_key_ref(raw, forms)?;
        if let KeyRef::KeyArn { region: r, .. } | KeyRef::AliasArn { region: r, .. } = &parsed {
            if r != region {
                return Err(KmsError::not_found(format!("Invalid arn {r}")));
            }
        }
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

    /// Applies `f` to a copy of the latest committed version of the key, persists it, then
    /// publishes it.
    pub(crate) fn update_key<T>(&self, arn: &str, f: impl FnOnce(&mut Key) -> KmsResult<T>) -> KmsResult<T> {
        let mut store = self.store();
        writable(&store)?;
        let before = self.live_key(arn).ok_or_else(|| KmsError::not_found(format!("Key '{arn}' does not exist")))?;
        let mut key = (*before).clone();
        let out = f(&mut key)?;
        store.put_key(&key, Some(&before)).map_err(store_err)?;
        let generation = self.commit(&mut store)?;
        self.keys.write().unwrap_or_else(poisoned).insert(arn.to_owned(), Arc::new(key));
        self.published(generation);
        Ok(out)
    }

    /// Inserts a new key (durably).
    pub(crate) fn insert_key(&self, key: Key) -> KmsResult<Arc<Key>> {
        let mut store = self.store();
        writable(&store)?;
        if self.keys.read().unwrap_or_else(poisoned).contains_key(&key.arn) {
            return Err(KmsError::new("AlreadyExistsException", format!("Key '{}' already exists", key.arn)));
        }
        store.put_key(&key, None).map_err(store_err)?;
        let generation = self.commit(&mut store)?;
        let key = Arc::new(key);
        self.keys.write().unwrap_or_else(poisoned).insert(key.arn.clone(), key.clone());
        self.published(generation);
        Ok(key)
    }

    /// Every key of an account and Region, sorted by ARN.
    pub(crate) fn keys_in(&self, account: &str, region: &str) -> Vec<Arc<Key>> {
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
    pub(crate) fn mr_family(&self, account: &str, key_id: &str) -> Vec<Arc<Key>> {
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
    pub(crate) fn aliases_in(&self, account: &str, region: &str) -> Vec<Alias> {
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
    pub(crate) fn alias(&self, arn: &str) -> Option<Alias> {
        self.aliases.read().unwrap_or_else(poisoned).get(arn).cloned()
    }

    /// Inserts or replaces an alias durably (the one change of `store`, a [`StoreGuard`]).
    pub(crate) fn put_alias(&self, store: &mut Store, alias: Alias) -> KmsResult<()> {
        writable(store)?;
        store.put_alias(&alias).map_err(store_err)?;
        let generation = self.commit(store)?;
        self.aliases.write().unwrap_or_else(poisoned).insert(alias.arn.clone(), alias);
        self.published(generation);
        Ok(())
    }

    /// Deletes an alias durably.
    pub(crate) fn delete_alias(&self, store: &mut Store, arn: &str) -> KmsResult<()> {
        writable(store)?;
        store.delete_alias(arn).map_err(store_err)?;
        let generation = self.commit(store)?;
        self.aliases.write().unwrap_or_else(poisoned).remove(arn);
        self.published(generation);
        Ok(())
    }

    /// Grants on a key.
    pub(crate) fn grants_for(&self, key_arn: &str) -> Vec<Arc<GrantRecord>> {
        let mut v: Vec<Arc<GrantRecord>> =
            self.grants.read().unwrap_or_else(poisoned).values().filter(|g| g.key_arn == key_arn).cloned().collect();
        v.sort_by(|a, b| (a.creation_date, &a.grant_id).cmp(&(b.creation_date, &b.grant_id)));
        v
    }

    /// Every grant (for ListRetirableGrants).
    pub(crate) fn all_grants(&self) -> Vec<Arc<GrantRecord>> {
        let mut v: Vec<Arc<GrantRecord>> = self.grants.read().unwrap_or_else(poisoned).values().cloned().collect();
        v.sort_by(|a, b| (a.creation_date, &a.grant_id).cmp(&(b.creation_date, &b.grant_id)));
        v
    }

    /// A grant by id.
    pub(crate) fn grant(&self, id: &str) -> Option<Arc<GrantRecord>> {
        self.grants.read().unwrap_or_else(poisoned).get(id).cloned()
    }

    /// A grant by token.
    pub(crate) fn grant_by_token(&self, token: &str) -> Option<Arc<GrantRecord>> {
        let id = crate::auth::grants::grant_id_from_token(token)?;
        self.grant(&id).filter(|g| g.token_matches(token))
    }

    /// Inserts a grant durably.
    pub(crate) fn put_grant(&self, store: &mut Store, grant: GrantRecord) -> KmsResult<()> {
        writable(store)?;
        store.put_grant(&grant).map_err(store_err)?;
        let generation = self.commit(store)?;
        self.grants.write().unwrap_or_else(poisoned).insert(grant.grant_id.clone(), Arc::new(grant));
        self.published(generation);
        Ok(())
    }

    /// Deletes a grant durably.
    pub(crate) fn delete_grant(&self, store: &mut Store, id: &str) -> KmsResult<()> {
        writable(store)?;
        store.delete_grant(id).map_err(store_err)?;
        let generation = self.commit(store)?;
        self.grants.write().unwrap_or_else(poisoned).remove(id);
        self.published(generation);
        Ok(())
    }

    /// The parsed policy of a key (cached until its text changes); `None` if it does not parse.
    pub(crate) fn policy(&self, key: &Key) -> Option<Arc<Policy>> {
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

    /// Records the last use of a key. Runs for every cryptographic request: a key already used
    /// before has its record overwritten in place, reusing its strings' memory.
    pub(crate) fn note_usage(&self, key_arn: &str, operation: &str, timestamp: i64, event_id: &str, request_id: &str) {
        let mut map = self.last_usage.write().unwrap_or_else(poisoned);
        let overwrite = |to: &mut String, from: &str| {
            to.clear();
            to.push_str(from);
        };
        match map.get_mut(key_arn) {
            Some(last) => {
                overwrite(&mut last.operation, operation);
                last.timestamp = timestamp;
                overwrite(&mut last.event_id, event_id);
                overwrite(&mut last.request_id, request_id);
            }
            None => {
                let usage = LastUsage {
                    operation: operation.to_owned(),
                    timestamp,
                    event_id: event_id.to_owned(),
                    request_id: request_id.to_owned(),
                };
                map.insert(key_arn.to_owned(), usage);
            }
        }
    }

    /// Last use of a key.
    pub(crate) fn last_usage(&self, key_arn: &str) -> Option<LastUsage> {
        self.last_usage.read().unwrap_or_else(poisoned).get(key_arn).cloned()
    }

    /// Seeds last-usage data at startup.
    pub(crate) fn load_usage(&self, entries: Vec<(String, LastUsage)>) {
        self.last_usage.write().unwrap_or_else(poisoned).extend(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{NewKey, create_key_record};

    fn new_key(account: &str) -> NewKey {
        NewKey {
            account: account.into(),
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
        }
    }

    #[test]
    fn recent_view_reads_the_counter_at_most_once_per_interval_and_exact_always() {
        let dir = std::env::temp_dir().join(format!("kms-state-{}", ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let open = || {
            let root = crate::seal::RootKey::from_bytes(&[1; 32]).unwrap();
            let store = Store::open(&dir, root).unwrap();
            let loaded = store.load().unwrap();
            Registry::new(store, loaded)
        };
        // Two registries on one database stand for two processes.
        let (a, b) = (open(), open());
        assert!(a.refresh(Freshness::Recent), "the first request reads the counter");
        let before = a.probe_reads();
        for _ in 0..1000 {
            a.mark_probed_now();
            assert!(!a.refresh(Freshness::Recent));
        }
        assert_eq!(a.probe_reads(), before, "recent-view requests inside the interval must not touch SQLite");
        let key = create_key_record(&b, new_key("111122223333")).unwrap();
        a.mark_probed_now();
        a.refresh(Freshness::Recent);
        assert!(a.key(&key.arn).is_none(), "inside the interval the view may lag");
        assert!(a.refresh(Freshness::Exact));
        assert_eq!(a.probe_reads(), before + 1);
        assert!(a.key(&key.arn).is_some(), "an exact refresh sees the other registry's commit");
        // Once the interval has passed, a recent-view request reads the counter again.
        b.update_key(&key.arn, |k| {
            k.meta.state = KeyState::Disabled;
            Ok(())
        })
        .unwrap();
        std::thread::sleep(RECENT * 2);
        assert!(a.refresh(Freshness::Recent));
        assert_eq!(a.key(&key.arn).unwrap().meta.state, KeyState::Disabled);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn automatic_rotation_is_lazy_and_keeps_old_material() {
        let dir = std::env::temp_dir().join(format!("kms-state-{}", ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = crate::seal::RootKey::from_bytes(&[1; 32]).unwrap();
        let store = Store::open(&dir, root).unwrap();
        let loaded = store.load().unwrap();
        let reg = Registry::new(store, loaded);
        let key = create_key_record(&reg, new_key("111122223333")).unwrap();
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
