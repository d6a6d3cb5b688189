//! A beacon version: every standard beacon, compound beacon and virtual field of a table,
//! checked together against the table's crypto actions, and the computation of an item's
//! beacons from it.
//!
//! spec: searchable-encryption/search-config.md "Beacon Version Initialization", "Version Tag"

use std::collections::{BTreeMap, BTreeSet};

use super::attr::{Item, beacon_bytes, plain_string};
use super::compound::{CompoundBeacon, EncryptedPart, PartValues, ResolvedCompound, SignedPart};
use super::config_error::ConfigError;
use super::error::BeaconError;
use super::key::BeaconHmacKey;
use super::location::TerminalLocation;
use super::standard::{BeaconStyle, StandardBeacon};
use super::virtual_field::VirtualField;
use crate::item::{AttributeValue, CryptoAction};

/// The beacon version 1 tag (value: one space). The official DB-ESDK treats every `aws_dbe_*`
/// attribute as unauthenticated and does not store this one (checked against aws-db-esdk 1.3.0
/// by crates/dbe-peer/run-interop.sh): an item whose header signs it is refused by the official
/// reader ("something that was signed is now unsigned"). envelope therefore no longer writes it,
/// and reads it, signed, only in items envelope-dbe wrote before (issue 11).
///
/// ```
/// assert_eq!(envelope_dbe::beacon::VERSION_TAG_ATTRIBUTE, "aws_dbe_v_1");
/// ```
pub const VERSION_TAG_ATTRIBUTE: &str = "aws_dbe_v_1";

/// True for the one action that encrypts.
fn encrypts(action: &CryptoAction) -> bool {
    *action == CryptoAction::EncryptAndSign
}

/// The parts of a beacon version, before validation.
///
/// ```
/// use envelope_dbe::beacon::{BeaconVersionConfig, CompoundBeacon, SignedPart, StandardBeacon};
///
/// // Two standard beacons and a compound one, spread over 4 partitions.
/// let config = BeaconVersionConfig {
///     version: 1,
///     standard_beacons: vec![StandardBeacon::new("Email", 16)?, StandardBeacon::new("Name", 8)?],
///     compound_beacons: vec![CompoundBeacon::new("ByDate", '.').with_signed(vec![SignedPart::new("Date", "D_")?])],
///     max_partitions: Some(4),
///     ..Default::default()
/// };
/// # let _ = config;
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BeaconVersionConfig {
    /// The version number; must be 1.
    pub version: u32,
    /// The standard beacons (at least one).
    pub standard_beacons: Vec<StandardBeacon>,
    /// The compound beacons.
    pub compound_beacons: Vec<CompoundBeacon>,
    /// The virtual fields.
    pub virtual_fields: Vec<VirtualField>,
    /// Encrypted parts any compound beacon's constructors may name.
    pub global_encrypted_parts: Vec<EncryptedPart>,
    /// Signed parts any compound beacon's constructors may name.
    pub global_signed_parts: Vec<SignedPart>,
    /// The number of partitions of the table (1–255; `None` or 0: 1, no partitions).
    pub max_partitions: Option<u8>,
    /// The partition count of beacons that set none (`None` or 0: the maximum); below the
    /// maximum when given.
    pub default_partitions: Option<u8>,
}

/// A validated beacon version.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::beacon::{BeaconKeys, BeaconVersion, BeaconVersionConfig, Item, StandardBeacon};
/// use envelope_dbe::item::{AttributeValue, CryptoAction};
/// let actions = BTreeMap::from([("Name".to_owned(), CryptoAction::EncryptAndSign)]);
/// let config = BeaconVersionConfig {
///     version: 1,
///     standard_beacons: vec![StandardBeacon::new("Name", 32)?],
///     ..Default::default()
/// };
/// let version = BeaconVersion::new(config, &actions)?;
/// let keys = BeaconKeys::derive(&[1, 2, 3, 4, 5], &version)?;
/// let item: Item = [("Name".to_owned(), AttributeValue::S("MyName".into()))].into();
/// let beacons = version.beacons(&item, &keys, 0)?;
/// assert_eq!(beacons["aws_dbe_b_Name"], AttributeValue::S("7d9bfa40".into()));
/// assert_eq!(version.beacon_attributes(), vec![("aws_dbe_b_Name".to_owned(), false)]);
/// assert_eq!(version.max_partitions(), 1);
/// // A query for Name = "MyName" compares the stored beacon with this value.
/// let wanted = version.query_value("Name", &AttributeValue::S("MyName".into()), &keys, 0)?;
/// assert_eq!(wanted, beacons["aws_dbe_b_Name"]);
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BeaconVersion {
    max_partitions: u8,
    standard: Vec<StandardBeacon>,
    compound: Vec<ResolvedCompound>,
    virtual_fields: BTreeMap<String, VirtualField>,
}

/// The HMAC keys of a version's beacons, by beacon name.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::beacon::{BeaconError, BeaconKeys, BeaconVersion, BeaconVersionConfig, StandardBeacon};
/// use envelope_dbe::item::CryptoAction;
///
/// let actions = BTreeMap::from([("Email".to_owned(), CryptoAction::EncryptAndSign)]);
/// let config = BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("Email", 16)?], ..Default::default() };
/// let version = BeaconVersion::new(config, &actions)?;
/// // Normally the beacon key comes from a key store through a key source.
/// let keys = BeaconKeys::derive(&[9; 32], &version)?;
/// assert!(keys.get("Email").is_ok());
/// assert!(matches!(keys.get("Phone"), Err(BeaconError::MissingKey(_))));
/// # Ok::<(), BeaconError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BeaconKeys {
    keys: BTreeMap<String, BeaconHmacKey>,
}

impl BeaconKeys {
    /// Derives the key of every standard beacon of `version` from `beacon_key` (the branch
    /// key's beacon key).
    pub fn derive(beacon_key: &[u8], version: &BeaconVersion) -> Result<Self, BeaconError> {
        let keys = version
            .standard
            .iter()
            .map(|b| Ok((b.name().to_owned(), BeaconHmacKey::derive(beacon_key, b.name())?)))
            .collect::<Result<_, BeaconError>>()?;
        Ok(Self { keys })
    }

    /// True when there is a key for every standard beacon of `version`.
    pub(crate) fn covers(&self, version: &BeaconVersion) -> bool {
        version.standard.iter().all(|b| self.keys.contains_key(b.name()))
    }

    /// The key of the beacon named `name`.
    pub fn get(&self, name: &str) -> Result<&BeaconHmacKey, BeaconError> {
        self.keys.get(name).ok_or_else(|| BeaconError::MissingKey(name.to_owned()))
    }
}

impl BeaconVersion {
    /// Validates `config` against the table's crypto actions (`actions`: attribute → action).
    pub fn new(config: BeaconVersionConfig, actions: &BTreeMap<String, CryptoAction>) -> Result<Self, BeaconError> {
        if config.version != 1 {
            return Err(ConfigError::UnsupportedVersion(config.version).into());
        }
        if config.standard_beacons.is_empty() {
            return Err(ConfigError::NoStandardBeacons.into());
        }
        let (max_partitions, default_partitions) = partition_counts(&config)?;
        let mut config = config;
        for beacon in &mut config.standard_beacons {
            let count = match beacon.partitions() {
                Some(count) if count > 0 => count,
                _ => default_partitions,
            };
            *beacon = beacon.clone().with_partitions(count);
        }
        let virtual_fields = check_virtual_fields(&config, actions)?;
        check_standard_beacons(&config, actions, &virtual_fields)?;
        let mut names: BTreeSet<&str> = config.standard_beacons.iter().map(|b| b.name()).collect();
        let mut compound = Vec::with_capacity(config.compound_beacons.len());
        for beacon in &config.compound_beacons {
            if !names.insert(beacon.name()) {
                return Err(ConfigError::DuplicateBeaconName(beacon.name().to_owned()).into());
            }
            let resolved = ResolvedCompound::resolve(
                beacon,
                &config.standard_beacons,
                &config.global_encrypted_parts,
                &config.global_signed_parts,
            )?;
            check_compound_names(&resolved, actions)?;
            for part in &resolved.parts {
                if let super::compound::ResolvedPart::Signed { name, location, .. } = part {
                    let ok = signed_state(location, actions, &virtual_fields)
                        .is_some_and(|(signed, encrypted)| signed && !encrypted);
                    if !ok {
                        return Err(ConfigError::SignedPartNotSignOnly {
                            part: name.clone(),
                            location: location.to_string(),
                        }
                        .into());
                    }
                }
            }
            compound.push(resolved);
        }
        for beacon in &config.standard_beacons {
            let used = compound.iter().any(|c| {
                c.parts.iter().any(|p| {
                    matches!(p,
                    super::compound::ResolvedPart::Encrypted { beacon: b, .. } if b.name() == beacon.name())
                })
            });
            if *beacon.style() == BeaconStyle::PartOnly && !used {
                return Err(ConfigError::PartOnlyUnused(beacon.name().to_owned()).into());
            }
        }
        Ok(Self { max_partitions, standard: config.standard_beacons, compound, virtual_fields })
    }

    /// The beacons of `item` for partition `partition`: `aws_dbe_b_<name>` for each stored
    /// standard beacon and each compound beacon with an encrypted part, `<name>` for each signed
    /// beacon. Beacons whose source is absent are left out.
    pub fn beacons(
        &self,
        item: &Item,
        keys: &BeaconKeys,
        partition: u8,
    ) -> Result<BTreeMap<String, AttributeValue>, BeaconError> {
        self.check_partition(partition)?;
        let source = ItemSource { item, version: self, keys, partition };
        let mut out = BTreeMap::new();
        for beacon in self.standard.iter().filter(|b| b.is_stored()) {
            let key = keys.get(beacon.key_name())?;
            let location = beacon.location();
            let value = match self.virtual_field(location) {
                Some(field) => match field.evaluate(item)? {
                    Some(text) if !beacon.is_set() => {
                        Some(AttributeValue::S(beacon.hash_string(key, &text, partition)))
                    }
                    Some(_) => {
                        return Err(BeaconError::UnsupportedValue {
                            beacon: beacon.name().to_owned(),
                            reason: "a set beacon's attribute is not a set",
                        });
                    }
                    None => None,
                },
                None => match location.find(item) {
                    Some(value) => beacon.hash_value(key, value, partition)?,
                    None => None,
                },
            };
            if let Some(value) = value {
                out.insert(beacon.attribute_name(), value);
            }
        }
        for beacon in &self.compound {
            if let Some(value) = beacon.value(&source)? {
                let name = if beacon.is_signed_beacon() {
                    beacon.name.clone()
                } else {
                    format!("{}{}", super::standard::BEACON_ATTRIBUTE_PREFIX, beacon.name)
                };
                out.insert(name, AttributeValue::S(value));
            }
        }
        Ok(out)
    }

    /// Everything a write adds to `item`: its [beacons](Self::beacons) (no version tag: the
    /// DB-ESDK stores none, see [`VERSION_TAG_ATTRIBUTE`]). A signed beacon the item already
    /// carries must equal the value its parts construct, and is then left as it is.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_dbe::beacon::*;
    /// # use envelope_dbe::item::{AttributeValue, CryptoAction};
    /// let actions = BTreeMap::from([
    ///     ("Name".to_owned(), CryptoAction::EncryptAndSign),
    ///     ("Year".to_owned(), CryptoAction::SignOnly),
    /// ]);
    /// let config = BeaconVersionConfig {
    ///     version: 1,
    ///     standard_beacons: vec![StandardBeacon::new("Name", 32)?],
    ///     compound_beacons: vec![CompoundBeacon::new("ByYear", '.').with_signed(vec![SignedPart::new("Year", "Y_")?])],
    ///     ..Default::default()
    /// };
    /// let version = BeaconVersion::new(config, &actions)?;
    /// let keys = BeaconKeys::derive(&[1, 2, 3, 4, 5], &version)?;
    /// let mut item: Item = [("Year".to_owned(), AttributeValue::N("1984".into()))].into();
    /// let added = version.item_attributes(&item, &keys, 0)?;
    /// assert!(!added.contains_key(VERSION_TAG_ATTRIBUTE));
    /// assert_eq!(added["ByYear"], AttributeValue::S("Y_1984".into()));
    ///
    /// item.insert("ByYear".to_owned(), AttributeValue::S("Y_1999".into()));
    /// assert!(matches!(version.item_attributes(&item, &keys, 0), Err(BeaconError::SignedBeaconMismatch(_))));
    /// # Ok::<(), BeaconError>(())
    /// ```
    pub fn item_attributes(
        &self,
        item: &Item,
        keys: &BeaconKeys,
        partition: u8,
    ) -> Result<BTreeMap<String, AttributeValue>, BeaconError> {
        let mut added = self.beacons(item, keys, partition)?;
        for beacon in self.compound.iter().filter(|c| c.is_signed_beacon()) {
            if let (Some(supplied), Some(built)) = (item.get(&beacon.name), added.get(&beacon.name)) {
                if supplied != built {
                    return Err(BeaconError::SignedBeaconMismatch(beacon.name.clone()));
                }
                added.remove(&beacon.name);
            }
        }
        Ok(added)
    }

    /// The beacon of a query value for the beacon named `name`: the standard beacon of the
    /// value, or for a compound beacon each prefixed piece with encrypted pieces hashed.
    pub fn query_value(
        &self,
        name: &str,
        value: &AttributeValue,
        keys: &BeaconKeys,
        partition: u8,
    ) -> Result<AttributeValue, BeaconError> {
        let item = Item::new();
        self.check_partition(partition)?;
        let source = ItemSource { item: &item, version: self, keys, partition };
        if let Some(beacon) = self.standard.iter().find(|b| b.name() == name) {
            let key = keys.get(beacon.key_name())?;
            let bytes = beacon_bytes(value, name)?;
            return Ok(AttributeValue::S(beacon.hash_bytes(key, &bytes, partition)));
        }
        let compound = self.compound.iter().find(|c| c.name == name).ok_or_else(|| BeaconError::InvalidQueryValue {
            beacon: name.to_owned(),
            reason: "no beacon has this name".to_owned(),
        })?;
        let AttributeValue::S(text) = value else {
            return Err(BeaconError::InvalidQueryValue {
                beacon: name.to_owned(),
                reason: "a compound beacon is queried with a string".to_owned(),
            });
        };
        Ok(AttributeValue::S(compound.query_value(text, &source)?))
    }

    /// The attributes a write stores beacons in, in configuration order: `aws_dbe_b_<name>` of
    /// each stored standard beacon and of each compound beacon with an encrypted part, and the
    /// plain name of each signed beacon, each with whether it holds a set (`asSet` styles).
    pub fn beacon_attributes(&self) -> Vec<(String, bool)> {
        let standard = self.standard.iter().filter(|b| b.is_stored()).map(|b| (b.attribute_name(), b.is_set()));
        let compound = self.compound.iter().map(|c| {
            let name = if c.is_signed_beacon() {
                c.name.clone()
            } else {
                format!("{}{}", super::standard::BEACON_ATTRIBUTE_PREFIX, c.name)
            };
            (name, false)
        });
        standard.chain(compound).collect()
    }

    /// The table's number of partitions: items are written to partitions `0..max_partitions()`
    /// (the caller chooses one per item, at random by default) and queries repeat for each.
    pub fn max_partitions(&self) -> u8 {
        self.max_partitions
    }

    /// The standard beacon named `name`.
    pub(crate) fn standard_beacon(&self, name: &str) -> Option<&StandardBeacon> {
        self.standard.iter().find(|b| b.name() == name)
    }

    /// The compound (or signed) beacon named `name`.
    pub(crate) fn compound_beacon(&self, name: &str) -> Option<&ResolvedCompound> {
        self.compound.iter().find(|c| c.name == name)
    }

    /// True when `name` is a virtual field (never stored, so never queried directly).
    pub(crate) fn is_virtual_field(&self, name: &str) -> bool {
        self.virtual_fields.contains_key(name)
    }

    /// The names of the signed beacons (compound beacons of signed parts only).
    pub(crate) fn signed_beacon_names(&self) -> impl Iterator<Item = &str> {
        self.compound.iter().filter(|c| c.is_signed_beacon()).map(|c| c.name.as_str())
    }

    /// What a write adds before encryption, without any key: the signed beacons (a value the
    /// item already carries must match).
    pub(crate) fn signed_attributes(&self, item: &Item) -> Result<BTreeMap<String, AttributeValue>, BeaconError> {
        let source = PlainSource { item, version: self };
        let mut added = BTreeMap::new();
        for beacon in self.compound.iter().filter(|c| c.is_signed_beacon()) {
            let Some(built) = beacon.value(&source)? else { continue };
            let built = AttributeValue::S(built);
            match item.get(&beacon.name) {
                Some(supplied) if *supplied != built => {
                    return Err(BeaconError::SignedBeaconMismatch(beacon.name.clone()));
                }
                Some(_) => {}
                None => {
                    added.insert(beacon.name.clone(), built);
                }
            }
        }
        Ok(added)
    }

    /// The plaintext a query on beacon `name` means in `item`: a standard beacon's source value
    /// (its location, or its virtual field's string), a compound beacon built with plaintext
    /// parts; `None` when absent or `name` is no beacon. Re-checks of query results use it.
    pub(crate) fn plain_value(&self, name: &str, item: &Item) -> Result<Option<AttributeValue>, BeaconError> {
        if let Some(beacon) = self.standard_beacon(name) {
            if let Some(field) = self.virtual_field(beacon.location()) {
                return Ok(field.evaluate(item)?.map(AttributeValue::S));
            }
            return Ok(beacon.location().find(item).cloned());
        }
        match self.compound_beacon(name) {
            Some(compound) => Ok(compound.value(&PlainSource { item, version: self })?.map(AttributeValue::S)),
            None => Ok(None),
        }
    }

    /// A compound beacon's query value. With `bare_tail` (prefix, range and `contains` queries)
    /// a last piece that is exactly an encrypted part's prefix stays as it is, so the query
    /// matches every value of that part.
    pub(crate) fn compound_query(
        &self,
        compound: &ResolvedCompound,
        text: &str,
        keys: &BeaconKeys,
        partition: u8,
        bare_tail: bool,
    ) -> Result<String, BeaconError> {
        self.check_partition(partition)?;
        let item = Item::new();
        let source = ItemSource { item: &item, version: self, keys, partition };
        let last = text.rsplit(compound.split).next().unwrap_or_default();
        if bare_tail && compound.is_bare_encrypted_prefix(last) {
            let head = &text[..text.len() - last.len()];
            let Some(head) = head.strip_suffix(compound.split) else {
                return Ok(last.to_owned());
            };
            return Ok(format!("{}{}{last}", compound.query_value(head, &source)?, compound.split));
        }
        compound.query_value(text, &source)
    }

    fn check_partition(&self, partition: u8) -> Result<(), BeaconError> {
        if partition >= self.max_partitions {
            return Err(BeaconError::PartitionOutOfRange { partition, max: self.max_partitions });
        }
        Ok(())
    }

    fn virtual_field(&self, location: &TerminalLocation) -> Option<&VirtualField> {
        location.is_top_level().then(|| self.virtual_fields.get(location.attribute())).flatten()
    }
}

/// Part values read from one item.
struct ItemSource<'a> {
    item: &'a Item,
    version: &'a BeaconVersion,
    keys: &'a BeaconKeys,
    partition: u8,
}

impl ItemSource<'_> {
    fn string_in(
        item: &Item,
        version: &BeaconVersion,
        location: &TerminalLocation,
    ) -> Result<Option<String>, BeaconError> {
        if let Some(field) = version.virtual_field(location) {
            return field.evaluate(item);
        }
        match location.find(item) {
            None => Ok(None),
            Some(value) => plain_string(value).map(Some).ok_or_else(|| BeaconError::UnsupportedValue {
                beacon: location.to_string(),
                reason: "a compound beacon part's value is not a string, number, boolean or null",
            }),
        }
    }
}

impl PartValues for ItemSource<'_> {
    fn string_at(&self, location: &TerminalLocation) -> Result<Option<String>, BeaconError> {
        Self::string_in(self.item, self.version, location)
    }

    fn hash(&self, beacon: &StandardBeacon, text: &str) -> Result<String, BeaconError> {
        let key = self.keys.get(beacon.key_name())?;
        Ok(beacon.hash_string(key, text, self.partition))
    }
}

/// Part values read from one item with encrypted parts left in plaintext: signed beacons, and
/// the plaintext side of compound beacons for re-checks.
struct PlainSource<'a> {
    item: &'a Item,
    version: &'a BeaconVersion,
}

impl PartValues for PlainSource<'_> {
    fn string_at(&self, location: &TerminalLocation) -> Result<Option<String>, BeaconError> {
        ItemSource::string_in(self.item, self.version, location)
    }

    fn hash(&self, _beacon: &StandardBeacon, text: &str) -> Result<String, BeaconError> {
        Ok(text.to_owned())
    }
}

/// (signed, encrypted) for a location: from its attribute's action, or for a virtual field from
/// all its locations; `None` when an attribute has no configured action.
fn signed_state(
    location: &TerminalLocation,
    actions: &BTreeMap<String, CryptoAction>,
    virtual_fields: &BTreeMap<String, VirtualField>,
) -> Option<(bool, bool)> {
    if location.is_top_level() {
        if let Some(field) = virtual_fields.get(location.attribute()) {
            let mut signed = true;
            let mut encrypted = false;
            for part in field.parts() {
                let action = actions.get(part.location().attribute())?;
                signed &= action.is_signed();
                encrypted |= encrypts(action);
            }
            return Some((signed, encrypted));
        }
    }
    let action = actions.get(location.attribute())?;
    Some((action.is_signed(), encrypts(action)))
}

/// (maximum, default) partition counts, with the rules of search-config.md and the DB-ESDK: a
/// missing or zero maximum is 1, a missing or zero default is the maximum, a given default and
/// every beacon's own count must be below the maximum.
fn partition_counts(config: &BeaconVersionConfig) -> Result<(u8, u8), ConfigError> {
    let max = config.max_partitions.filter(|&n| n > 0).unwrap_or(1);
    let default = match config.default_partitions.filter(|&n| n > 0) {
        None => max,
        Some(default) if default >= max => return Err(ConfigError::DefaultPartitions { default, max }),
        Some(default) => default,
    };
    for beacon in &config.standard_beacons {
        if let Some(count) = beacon.partitions().filter(|&n| n > 0 && n >= max) {
            return Err(ConfigError::BeaconPartitions { beacon: beacon.name().to_owned(), count, max });
        }
    }
    Ok((max, default))
}

fn check_virtual_fields(
    config: &BeaconVersionConfig,
    actions: &BTreeMap<String, CryptoAction>,
) -> Result<BTreeMap<String, VirtualField>, ConfigError> {
    let mut fields = BTreeMap::new();
    let mut location_sets: Vec<(BTreeSet<String>, &str)> = Vec::new();
    for field in &config.virtual_fields {
        if actions.contains_key(field.name()) {
            return Err(ConfigError::NameIsConfiguredAttribute {
                kind: "virtual field",
                name: field.name().to_owned(),
            });
        }
        for part in field.parts() {
            let signed = actions.get(part.location().attribute()).is_some_and(|a| a.is_signed());
            if !signed {
                return Err(ConfigError::VirtualFieldNotSigned {
                    field: field.name().to_owned(),
                    location: part.location().to_string(),
                });
            }
        }
        let locations: BTreeSet<String> = field.parts().iter().map(|p| p.location().to_string()).collect();
        if let Some((_, other)) = location_sets.iter().find(|(set, _)| *set == locations) {
            return Err(ConfigError::VirtualFieldsSameLocations((*other).to_owned(), field.name().to_owned()));
        }
        if locations.len() == 1 {
            let only = locations.iter().next().cloned().unwrap_or_default();
            if let Some(beacon) = config.standard_beacons.iter().find(|b| b.location().to_string() == only) {
                return Err(ConfigError::VirtualFieldShadowsBeacon {
                    field: field.name().to_owned(),
                    location: only,
                    beacon: beacon.name().to_owned(),
                });
            }
        }
        location_sets.push((locations, field.name()));
        if fields.insert(field.name().to_owned(), field.clone()).is_some() {
            return Err(ConfigError::DuplicateVirtualField(field.name().to_owned()));
        }
    }
    Ok(fields)
}

fn check_standard_beacons(
    config: &BeaconVersionConfig,
    actions: &BTreeMap<String, CryptoAction>,
    virtual_fields: &BTreeMap<String, VirtualField>,
) -> Result<(), ConfigError> {
    let beacons = &config.standard_beacons;
    for (i, beacon) in beacons.iter().enumerate() {
        if beacons[..i].iter().any(|b| b.name() == beacon.name()) {
            return Err(ConfigError::DuplicateBeaconName(beacon.name().to_owned()));
        }
        if let Some(first) = beacons[..i].iter().find(|b| b.location() == beacon.location()) {
            return Err(ConfigError::DuplicateLocation {
                first: first.name().to_owned(),
                second: beacon.name().to_owned(),
                location: beacon.location().to_string(),
            });
        }
        if actions.get(beacon.name()).is_some_and(|a| !encrypts(a)) {
            return Err(ConfigError::NameIsConfiguredAttribute {
                kind: "standard beacon",
                name: beacon.name().to_owned(),
            });
        }
        let encrypted =
            signed_state(beacon.location(), actions, virtual_fields).is_some_and(|(_, encrypted)| encrypted);
        if !encrypted {
            return Err(ConfigError::BeaconNotEncrypted {
                beacon: beacon.name().to_owned(),
                location: beacon.location().to_string(),
            });
        }
        if let BeaconStyle::Shared { other } | BeaconStyle::SharedSet { other } = beacon.style() {
            let target = beacons.iter().find(|b| b.name() == other).ok_or_else(|| {
                ConfigError::UnknownSharedBeacon { beacon: beacon.name().to_owned(), other: other.clone() }
            })?;
            if target.length() != beacon.length() {
                return Err(ConfigError::SharedLengthMismatch {
                    beacon: beacon.name().to_owned(),
                    length: beacon.length().bits(),
                    other: other.clone(),
                    other_length: target.length().bits(),
                });
            }
        }
    }
    Ok(())
}

fn check_compound_names(
    beacon: &ResolvedCompound,
    actions: &BTreeMap<String, CryptoAction>,
) -> Result<(), ConfigError> {
    if beacon.is_signed_beacon() {
        // A signed beacon is written under its own name, SIGN_ONLY: it may not be configured.
        if actions.contains_key(&beacon.name) {
            return Err(ConfigError::NameIsConfiguredAttribute { kind: "signed beacon", name: beacon.name.clone() });
        }
    } else if actions.get(&beacon.name).is_some_and(|a| !encrypts(a)) {
        return Err(ConfigError::NameIsConfiguredAttribute { kind: "compound beacon", name: beacon.name.clone() });
    }
    Ok(())
}
