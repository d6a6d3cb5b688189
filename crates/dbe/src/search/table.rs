//! The searchable table: item encryption plus beacons, as the DB-ESDK does on a write and a
//! read, and query translation and re-checking, independent of any database.

use std::sync::Arc;

use envelope::{AlgorithmSuite, MaterialsManager};

use super::error::SearchError;
use super::eval::evaluate;
use super::query::Condition;
use super::translate::{BeaconQuery, Names, Rewriter};
use crate::beacon::{
    BEACON_ATTRIBUTE_PREFIX, BeaconKeySource, BeaconKeys, BeaconVersion, BeaconVersionConfig, VERSION_TAG_ATTRIBUTE,
};
use crate::item::{
    AttributeValue, CryptoAction, HEADER_ATTRIBUTE, Header, Item, RESERVED_PREFIX, TableConfig, decrypt_item,
    encrypt_item,
};

/// The provider id of the hierarchical keyring's encrypted data keys; their provider info is
/// the branch key id.
const HIERARCHY_PROVIDER_ID: &str = "aws-kms-hierarchy";

/// A table's encryption settings and beacons, with the writes, reads and queries of the
/// DB-ESDK on top of any database.
///
/// - [`encrypt_for_write`](Self::encrypt_for_write): signed beacons are added and signed, the
///   item is encrypted, then the `aws_dbe_b_*` beacons are added (unsigned, as the DB-ESDK
///   writes them). No `aws_dbe_v_1` tag: the official DB-ESDK neither stores nor signs one.
/// - [`decrypt_read`](Self::decrypt_read): verifies and decrypts, strips every `aws_dbe_*`.
/// - [`translate`](Self::translate): a plaintext [`Condition`] onto beacons.
/// - [`recheck`](Self::recheck) / [`read_matching`](Self::read_matching): drop beacon
///   collisions from query results.
///
/// Without beacons ([`new`](Self::new) alone) no key source is ever called: writes and reads are
/// plain item encryption, and queries pass through once checked for encrypted attributes.
///
/// ```
/// # use std::collections::BTreeMap;
/// # use std::sync::Arc;
/// # use std::time::Duration;
/// use envelope::{AlgorithmSuite, DefaultMaterialsManager};
/// use envelope_dbe::beacon::{BeaconKeySource, BeaconVersionConfig, SingleKeySource, StandardBeacon};
/// use envelope_dbe::item::{AttributeValue as V, CryptoAction, TableConfig};
/// use envelope_dbe::search::{Condition, SearchableTable};
/// use envelope_keyrings::hierarchy::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut store = StaticKeyStore::new("example");
/// let secret = || BranchKeySecret::from_slice(&[7; 32]);
/// store.add_branch_key(BranchKeyMaterials::new("b", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), secret()?)?, true)?;
/// store.add_beacon_key(BeaconKeyMaterials::new("b", BTreeMap::new(), secret()?));
/// let store = Arc::new(store);
/// let keyring = HierarchicalKeyring::builder(Arc::clone(&store)).branch_key_id("b").ttl(Duration::from_secs(60)).build()?;
///
/// let config = TableConfig::new("People", "id")
///     .action("id", CryptoAction::SignOnly)
///     .action("email", CryptoAction::EncryptAndSign);
/// let table = SearchableTable::new(config, Arc::new(DefaultMaterialsManager::new(keyring)),
///         AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384)
///     .with_beacons(
///         BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("email", 8)?], ..Default::default() },
///         BeaconKeySource::Single(SingleKeySource::new(store, "b", Duration::from_secs(60))),
///     )?;
///
/// let item = BTreeMap::from([("id".to_owned(), V::S("1".into())), ("email".to_owned(), V::S("a@example.com".into()))]);
/// let stored = table.encrypt_for_write(&item).await?;
/// assert!(stored.contains_key("aws_dbe_b_email") && !stored.contains_key("aws_dbe_v_1"));
///
/// let query = table.translate(&Condition::eq("email", V::S("a@example.com".into()))).await?;
/// let Some(Condition::Compare(_, _, beacon)) = &query.partitions[0] else { unreachable!() };
/// // The database compares aws_dbe_b_email with the beacon; the matches are then re-checked.
/// assert_eq!(beacon, &envelope_dbe::search::Operand::Value(stored["aws_dbe_b_email"].clone()));
/// assert_eq!(table.read_matching(&query, &stored).await?, Some(item.clone()));
///
/// // A read without a query: verify, decrypt, drop the aws_dbe_* attributes.
/// assert_eq!(table.decrypt_read(&stored).await?, item);
/// // What the database decided on beacons, decided again on plaintext (beacons can collide).
/// assert!(table.recheck(&Condition::eq("email", V::S("a@example.com".into())), &item)?);
/// assert_eq!(table.config().logical_table_name, "People");
/// assert_eq!(table.beacon_version().map(|version| version.max_partitions()), Some(1));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SearchableTable {
    config: TableConfig,
    /// `config` plus the signed beacons, SIGN_ONLY: what items are encrypted with.
    write_config: TableConfig,
    /// `write_config` plus the version tag `aws_dbe_v_1`, SIGN_ONLY: what items are verified
    /// with, so items envelope-dbe wrote with a signed tag (before issue 11's interop run) still
    /// read. An item without the tag (the DB-ESDK's, and ours now) verifies the same.
    read_config: TableConfig,
    cmm: Arc<dyn MaterialsManager>,
    suite: AlgorithmSuite,
    search: Option<Search>,
    selector: PartitionSelector,
}

#[derive(Debug)]
struct Search {
    version: BeaconVersion,
    source: BeaconKeySource,
}

/// Chooses the beacon partition of an item being written: a function of the plaintext item and
/// the table's partition count, returning a partition below it (reduced modulo the count).
type SelectPartition = dyn Fn(&Item, u8) -> u8 + Send + Sync;

/// The partition selector: random by default (the DB-ESDK's default), or the caller's.
#[derive(Clone, Default)]
struct PartitionSelector(Option<Arc<SelectPartition>>);

impl std::fmt::Debug for PartitionSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "PartitionSelector(custom)" } else { "PartitionSelector(random)" })
    }
}

impl PartitionSelector {
    fn select(&self, item: &Item, max: u8) -> Result<u8, SearchError> {
        match &self.0 {
            _ if max <= 1 => Ok(0),
            Some(select) => Ok(select(item, max) % max),
            None => random_partition(max),
        }
    }
}

impl SearchableTable {
    /// A table without beacons: items encrypted with `cmm` under `suite` as `config` says.
    pub fn new(config: TableConfig, cmm: Arc<dyn MaterialsManager>, suite: AlgorithmSuite) -> SearchableTable {
        SearchableTable {
            write_config: config.clone(),
            read_config: config.clone(),
            config,
            cmm,
            suite,
            search: None,
            selector: PartitionSelector::default(),
        }
    }

    /// Adds beacons: `beacons` is checked against the table's actions, keys come from `source`.
    /// A multi-tenant source's key field may not be ENCRYPT_AND_SIGN.
    pub fn with_beacons(
        mut self,
        beacons: BeaconVersionConfig,
        source: BeaconKeySource,
    ) -> Result<SearchableTable, SearchError> {
        let version = BeaconVersion::new(beacons, &self.config.actions)?;
        if let Some(field) = source.key_field_name() {
            if self.config.actions.get(field) == Some(&CryptoAction::EncryptAndSign) {
                return Err(SearchError::EncryptedKeyField(field.to_owned()));
            }
        }
        let mut write_config = self.config.clone();
        for name in version.signed_beacon_names() {
            write_config.actions.insert(name.to_owned(), CryptoAction::SignOnly);
        }
        let mut read_config = write_config.clone();
        read_config.actions.insert(VERSION_TAG_ATTRIBUTE.to_owned(), CryptoAction::SignOnly);
        self.write_config = write_config;
        self.read_config = read_config;
        self.search = Some(Search { version, source });
        Ok(self)
    }

    /// Chooses each written item's beacon partition with `select(item, max_partitions)`
    /// instead of at random (the result is taken modulo the partition count). Without beacons
    /// or partitions it is never called.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use envelope::{AlgorithmSuite, DefaultMaterialsManager};
    /// # use envelope_dbe::item::TableConfig;
    /// # use envelope_dbe::search::SearchableTable;
    /// # fn table(cmm: Arc<DefaultMaterialsManager>) -> SearchableTable {
    /// # let table = SearchableTable::new(TableConfig::new("t", "id"), cmm, AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384);
    /// // Spread items by the length of their id, deterministically.
    /// table.with_partition_selector(|item, _max| item.get("id").map_or(0, |id| format!("{id:?}").len() as u8))
    /// # }
    /// ```
    pub fn with_partition_selector(mut self, select: impl Fn(&Item, u8) -> u8 + Send + Sync + 'static) -> Self {
        self.selector = PartitionSelector(Some(Arc::new(select)));
        self
    }

    /// The table config as given.
    pub fn config(&self) -> &TableConfig {
        &self.config
    }

    /// The beacon version, when the table has beacons.
    pub fn beacon_version(&self) -> Option<&BeaconVersion> {
        self.search.as_ref().map(|s| &s.version)
    }

    /// The item to store for `item`: encrypted and signed, with its beacons.
    ///
    /// Refused: attributes named `aws_dbe_*` or like a compound beacon or virtual field; a
    /// signed beacon the item carries that differs from the one its parts build. A multi-tenant
    /// item's beacon key id is its key field's value (or else the hierarchical branch key that
    /// encrypted it); the key field is not stored unless configured SIGN_ONLY (or
    /// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT).
    pub async fn encrypt_for_write(&self, item: &Item) -> Result<Item, SearchError> {
        if let Some(name) = item.keys().find(|name| name.starts_with(RESERVED_PREFIX)) {
            return Err(SearchError::ReservedAttribute(name.clone()));
        }
        let Some(search) = &self.search else {
            return Ok(encrypt_item(self.cmm.as_ref(), &self.config, item, self.suite).await?);
        };
        let version = &search.version;
        for name in item.keys() {
            let compound = version.compound_beacon(name).is_some_and(|c| !c.is_signed_beacon());
            if compound || version.is_virtual_field(name) {
                return Err(SearchError::ReservedAttribute(name.clone()));
            }
        }
        let mut plain = item.clone();
        let mut key_id = None;
        if let Some(field) = search.source.key_field_name() {
            key_id = match item.get(field) {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                Some(_) => return Err(SearchError::BeaconKeyIdNotString(field.to_owned())),
                None => None,
            };
            if !self.stores_key_field(field) {
                plain.remove(field);
            }
        }
        plain.extend(version.signed_attributes(item)?);
        let mut stored = encrypt_item(self.cmm.as_ref(), &self.write_config, &plain, self.suite).await?;

        if let Some(field) = search.source.key_field_name() {
            match (&key_id, header_branch_key(&stored)) {
                (Some(id), Some(header)) if *id != header => {
                    return Err(SearchError::BeaconKeyIdMismatch(field.to_owned()));
                }
                (None, header) => key_id = header,
                _ => {}
            }
        }
        let keys = match (&search.source, &key_id) {
            (BeaconKeySource::Multi(_), None) => {
                // No tenant: allowed only when this item has no beacon to compute.
                let probe = BeaconKeys::derive(&[0; 32], version)?;
                let needs = version.beacons(item, &probe, 0)?.keys().any(|n| n.starts_with(BEACON_ATTRIBUTE_PREFIX));
                if needs {
                    let field = search.source.key_field_name().unwrap_or_default();
                    return Err(crate::beacon::BeaconError::MissingBeaconKeyId(field.to_owned()).into());
                }
                return Ok(stored);
            }
            (source, id) => source.beacon_keys(version, id.as_deref()).await?,
        };
        let partition = self.selector.select(item, version.max_partitions())?;
        for (name, value) in version.beacons(item, &keys, partition)? {
            if name.starts_with(BEACON_ATTRIBUTE_PREFIX) {
                stored.insert(name, value);
            }
        }
        Ok(stored)
    }

    /// The plaintext of a stored item: verified and decrypted, every `aws_dbe_*` attribute
    /// (header, footer, beacons, version tag) removed.
    pub async fn decrypt_read(&self, stored: &Item) -> Result<Item, SearchError> {
        // Beacons are added after signing: leave them out of verification.
        let signed: Item = stored
            .iter()
            .filter(|(name, _)| !name.starts_with(BEACON_ATTRIBUTE_PREFIX))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let plain = decrypt_item(self.cmm.as_ref(), &self.read_config, &signed).await?;
        Ok(plain.into_iter().filter(|(name, _)| !name.starts_with(RESERVED_PREFIX)).collect())
    }

    /// Rewrites `query` onto beacons: one condition per beacon partition.
    ///
    /// Beacon keys are fetched only when a beacon value must be computed. Errors: a condition
    /// on an ENCRYPT_AND_SIGN attribute without a beacon, an operator the beacon cannot answer
    /// (a range, prefix or `<>` on a standard beacon; a range on a compound value with an
    /// encrypted part other than a trailing bare prefix; NOT over a beacon match), a
    /// multi-tenant query naming no or two beacon key ids.
    pub async fn translate(&self, query: &Condition) -> Result<BeaconQuery, SearchError> {
        self.translate_for_tenant(query, None).await
    }

    /// The beacon key id (tenant) a multi-tenant `condition` names with `keyField = "id"`, if any;
    /// always `None` for a single-tenant table.
    pub(crate) fn tenant_named_by(&self, condition: &Condition) -> Result<Option<String>, SearchError> {
        match self.search.as_ref().and_then(|s| s.source.key_field_name()) {
            Some(field) => Ok(self.names().split_key_field(field, condition)?.0),
            None => Ok(None),
        }
    }

    /// [`translate`](Self::translate), with the tenant another expression of the same request
    /// names: DynamoDB allows only key attributes in a Query's key condition, so a multi-tenant
    /// query usually names its tenant in the filter, and the key condition's beacons are
    /// computed with that tenant's beacon key. Two different tenants are ambiguous.
    pub(crate) async fn translate_for_tenant(
        &self,
        query: &Condition,
        tenant: Option<&str>,
    ) -> Result<BeaconQuery, SearchError> {
        let names = self.names();
        let uses_beacons = names.uses_beacons(query)?;
        let Some(search) = &self.search else {
            // Cheap path: nothing to rewrite, but encrypted attributes are still refused.
            let rewriter = Rewriter { names: &names, keys: None, partition: 0 };
            let rewritten = rewriter.rewrite(query)?;
            return Ok(BeaconQuery {
                original: query.clone(),
                partitions: vec![Some(rewritten)],
                uses_beacons: false,
                beacon_key_id: None,
            });
        };
        let (beacon_key_id, rest) = match search.source.key_field_name() {
            Some(field) => {
                let (named, rest) = names.split_key_field(field, query)?;
                match (named, tenant) {
                    (Some(named), Some(other)) if named != other => {
                        return Err(SearchError::AmbiguousBeaconKeyId(field.to_owned()));
                    }
                    (named, other) => (named.or(other.map(str::to_owned)), rest),
                }
            }
            None => (None, Some(query.clone())),
        };
        let keys = if uses_beacons {
            Some(search.source.beacon_keys(&search.version, beacon_key_id.as_deref()).await?)
        } else {
            None
        };
        let count = if uses_beacons { search.version.max_partitions() } else { 1 };
        let mut partitions = Vec::with_capacity(usize::from(count));
        for partition in 0..count {
            let rewriter = Rewriter { names: &names, keys: keys.as_deref(), partition };
            partitions.push(rest.as_ref().map(|c| rewriter.rewrite(c)).transpose()?);
        }
        Ok(BeaconQuery { original: query.clone(), partitions, uses_beacons, beacon_key_id })
    }

    /// True when the plaintext `item` satisfies `query`, as the database would decide on
    /// plaintext: beacon names read their source values (a compound beacon is built from
    /// plaintext parts). Errors only for a query that could not have been translated.
    pub fn recheck(&self, query: &Condition, item: &Item) -> Result<bool, SearchError> {
        let names = self.names();
        let query = match self.search.as_ref().and_then(|s| s.source.key_field_name()) {
            Some(field) => match names.split_key_field(field, query)?.1 {
                Some(rest) => rest,
                None => return Ok(true),
            },
            None => query.clone(),
        };
        let version = self.beacon_version();
        let resolve = |name: &str| -> Result<Option<AttributeValue>, SearchError> {
            if let Some(value) = item.get(name) {
                return Ok(Some(value.clone()));
            }
            match version {
                Some(version) => Ok(version.plain_value(name, item)?),
                None => Ok(None),
            }
        };
        evaluate(&query, &resolve)
    }

    /// One stored query result: decrypted, and kept only if it belongs to the query's tenant
    /// (multi-tenant) and passes the [re-check](Self::recheck).
    pub async fn read_matching(&self, query: &BeaconQuery, stored: &Item) -> Result<Option<Item>, SearchError> {
        if let Some(expected) = &query.beacon_key_id {
            if query.uses_beacons && header_branch_key(stored).is_some_and(|id| id != *expected) {
                return Ok(None);
            }
        }
        let plain = self.decrypt_read(stored).await?;
        if !query.uses_beacons {
            return Ok(Some(plain));
        }
        Ok(self.recheck(&query.original, &plain)?.then_some(plain))
    }

    fn names(&self) -> Names<'_> {
        let unstored_key_field =
            self.search.as_ref().and_then(|s| s.source.key_field_name()).filter(|field| !self.stores_key_field(field));
        Names { version: self.beacon_version(), actions: &self.config.actions, unstored_key_field }
    }

    /// Whether items keep the multi-tenant key field (configured and signed).
    fn stores_key_field(&self, field: &str) -> bool {
        self.config.actions.get(field).is_some_and(|action| action.is_signed())
    }
}

/// The branch key id of an item encrypted by the hierarchical keyring with one data key.
fn header_branch_key(stored: &Item) -> Option<String> {
    let AttributeValue::B(bytes) = stored.get(HEADER_ATTRIBUTE)? else { return None };
    let header = Header::parse(bytes).ok()?;
    match header.encrypted_data_keys.as_slice() {
        [edk] if edk.provider_id == HIERARCHY_PROVIDER_ID => String::from_utf8(edk.provider_info.clone()).ok(),
        _ => None,
    }
}

/// A random partition below `max` (0 when the table has none).
fn random_partition(max: u8) -> Result<u8, SearchError> {
    if max <= 1 {
        return Ok(0);
    }
    let mut byte = [0u8; 1];
    aws_lc_rs::rand::fill(&mut byte).map_err(|_| crate::item::ItemError::Crypto)?;
    Ok(byte[0] % max)
}
