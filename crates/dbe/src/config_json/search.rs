//! The `search` member of a table config: beacon versions in the form the DB-ESDK test vectors
//! use (`configs.json`, `data.json`, `iotest.json`, `large_records.json`).
//!
//! Member names follow those files (`standardBeacons[].Name`, `Length`, `Loc`; compound
//! `Encrypted`, `Signed`, `Constructors`; virtual fields `name`, `parts[].loc`, `trans`).
//! Three additions for what the files never configure: a standard beacon's `style`
//! (`{"partOnly": {}}`, `{"asSet": {}}`, `{"shared": {"other": N}}`, `{"sharedSet": {"other": N}}`,
//! the DB-ESDK's own union), and a version's global `encryptedParts` / `signedParts`
//! (same shape as a compound beacon's `Encrypted` / `Signed`).

use serde_json::Value;

use super::ConfigJsonError;
use super::reader::{bad, boolean, character, each, integer, member_path, name, object, string};
use crate::beacon::{
    BeaconStyle, BeaconVersionConfig, CompoundBeacon, Constructor, ConstructorPart, EncryptedPart, SignedPart,
    StandardBeacon, VirtualField, VirtualPart, VirtualTransform,
};

/// The default cache TTL of a key source, in seconds (the test-vector harness's value).
///
/// ```
/// assert_eq!(envelope_dbe::config_json::DEFAULT_CACHE_TTL_SECONDS, 42);
/// ```
pub const DEFAULT_CACHE_TTL_SECONDS: u32 = 42;

/// Where a beacon version's beacon key comes from.
///
/// ```
/// use envelope_dbe::config_json::{table_config_from_json, KeySourceJson};
///
/// let parsed = table_config_from_json(br#"{
///     "attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "Name": "ENCRYPT_AND_SIGN"},
///     "search": {"versions": [{"keySource": {"keyFieldName": "Tenant"},
///                              "standardBeacons": [{"Name": "Name", "Length": 16}]}]}
/// }"#)?;
/// let search = parsed.search.expect("a search config");
/// assert!(matches!(
///     search.write().key_source,
///     Some(KeySourceJson::Multi { ref key_field_name, .. }) if key_field_name == "Tenant"
/// ));
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySourceJson {
    /// Single tenant (`keyId`): the beacon key of one branch key id.
    Single {
        /// The branch key id.
        key_id: String,
        /// `cacheTTL`, seconds.
        cache_ttl_seconds: u32,
    },
    /// Multi tenant (`keyFieldName`): each item names its branch key id in this attribute.
    Multi {
        /// The attribute holding the branch key id.
        key_field_name: String,
        /// `cacheTTL`, seconds.
        cache_ttl_seconds: u32,
        /// `maxCacheSize` (default 1).
        max_cache_size: u32,
    },
}

/// One beacon version of a table config.
///
/// ```
/// use envelope_dbe::config_json::{table_config_from_json, BeaconVersionJson};
///
/// let parsed = table_config_from_json(br#"{
///     "attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "Name": "ENCRYPT_AND_SIGN"},
///     "search": {"versions": [{"keySource": {"keyFieldName": "Tenant"},
///                              "standardBeacons": [{"Name": "Name", "Length": 16}]}]}
/// }"#)?;
/// let BeaconVersionJson { key_source, config } = parsed.search.expect("a search config").write().clone();
/// assert!(key_source.is_some());
/// assert_eq!(config.standard_beacons[0].length().bits(), 16);
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BeaconVersionJson {
    /// `keySource`; `None` when the version does not name one (the vector harness then uses a
    /// single source with key id `foo`).
    pub key_source: Option<KeySourceJson>,
    /// The beacons, ready for [`BeaconVersion::new`](crate::beacon::BeaconVersion::new)
    /// (already checked against the table's actions by the parser).
    pub config: BeaconVersionConfig,
}

/// A table config's `search` member.
///
/// ```
/// use envelope_dbe::config_json::table_config_from_json;
///
/// let parsed = table_config_from_json(br#"{
///     "attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "Name": "ENCRYPT_AND_SIGN"},
///     "search": {"versions": [{"keySource": {"keyFieldName": "Tenant"},
///                              "standardBeacons": [{"Name": "Name", "Length": 16}]}]}
/// }"#)?;
/// let search = parsed.search.expect("a search config");
/// assert_eq!((search.versions.len(), search.write_version), (1, 1));
/// assert_eq!(search.write().config.version, 1);
/// # Ok::<(), envelope_dbe::config_json::ConfigJsonError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SearchConfigJson {
    /// `versions` (at least one).
    pub versions: Vec<BeaconVersionJson>,
    /// `writeVersion`: the version items are written with (default and only value: 1).
    pub write_version: u32,
}

impl SearchConfigJson {
    /// The version items are written with.
    pub fn write(&self) -> &BeaconVersionJson {
        // The parser guarantees a version numbered `write_version` exists.
        self.versions.iter().find(|v| v.config.version == self.write_version).unwrap_or(&self.versions[0])
    }
}

pub(super) fn search(value: &Value, path: &str) -> Result<SearchConfigJson, ConfigJsonError> {
    let map = object(value, path, &["versions", "writeVersion"])?;
    let versions_path = member_path(path, "versions");
    let versions = each(map.get("versions").ok_or_else(|| bad(&versions_path, "required"))?, &versions_path, version)?;
    if versions.is_empty() {
        return Err(bad(&versions_path, "needs at least one version"));
    }
    let write_version = match map.get("writeVersion") {
        Some(v) => integer(v, &member_path(path, "writeVersion"))?,
        None => 1,
    };
    if !versions.iter().any(|v| v.config.version == write_version) {
        return Err(bad(&member_path(path, "writeVersion"), "no version has this number"));
    }
    Ok(SearchConfigJson { versions, write_version })
}

fn version(value: &Value, path: &str) -> Result<BeaconVersionJson, ConfigJsonError> {
    let map = object(
        value,
        path,
        &[
            "version",
            "keySource",
            "standardBeacons",
            "compoundBeacons",
            "virtualFields",
            "encryptedParts",
            "signedParts",
            "maximumNumberOfPartitions",
            "defaultNumberOfPartitions",
        ],
    )?;
    let at = |member: &str| member_path(path, member);
    let list = |member: &str| map.get(member).map(|v| (v, at(member)));
    let mut config = BeaconVersionConfig { version: 1, ..Default::default() };
    if let Some(v) = map.get("version") {
        config.version = integer(v, &at("version"))?;
    }
    if let Some((v, p)) = list("standardBeacons") {
        config.standard_beacons = each(v, &p, standard_beacon)?;
    }
    if config.standard_beacons.is_empty() {
        return Err(bad(&at("standardBeacons"), "a beacon version needs at least one standard beacon"));
    }
    if let Some((v, p)) = list("compoundBeacons") {
        config.compound_beacons = each(v, &p, compound_beacon)?;
    }
    if let Some((v, p)) = list("virtualFields") {
        config.virtual_fields = each(v, &p, virtual_field)?;
    }
    if let Some((v, p)) = list("encryptedParts") {
        config.global_encrypted_parts = each(v, &p, encrypted_part)?;
    }
    if let Some((v, p)) = list("signedParts") {
        config.global_signed_parts = each(v, &p, signed_part)?;
    }
    if let Some(v) = map.get("maximumNumberOfPartitions") {
        config.max_partitions = Some(integer(v, &at("maximumNumberOfPartitions"))?);
    }
    if let Some(v) = map.get("defaultNumberOfPartitions") {
        config.default_partitions = Some(integer(v, &at("defaultNumberOfPartitions"))?);
    }
    let key_source = map.get("keySource").map(|v| key_source(v, &at("keySource"))).transpose()?;
    Ok(BeaconVersionJson { key_source, config })
}

fn key_source(value: &Value, path: &str) -> Result<KeySourceJson, ConfigJsonError> {
    let map = object(value, path, &["keyId", "keyFieldName", "cacheTTL", "maxCacheSize"])?;
    let at = |member: &str| member_path(path, member);
    let cache_ttl_seconds = match map.get("cacheTTL") {
        Some(v) => integer(v, &at("cacheTTL"))?,
        None => DEFAULT_CACHE_TTL_SECONDS,
    };
    let max_cache_size = match map.get("maxCacheSize") {
        Some(v) => integer(v, &at("maxCacheSize"))?,
        None => 1,
    };
    match (map.get("keyId"), map.get("keyFieldName")) {
        (Some(id), None) => Ok(KeySourceJson::Single { key_id: name(id, &at("keyId"))?.to_owned(), cache_ttl_seconds }),
        (None, Some(field)) => Ok(KeySourceJson::Multi {
            key_field_name: name(field, &at("keyFieldName"))?.to_owned(),
            cache_ttl_seconds,
            max_cache_size,
        }),
        (Some(_), Some(_)) => Err(bad(path, "give keyId or keyFieldName, not both")),
        (None, None) => Err(bad(path, "needs keyId or keyFieldName")),
    }
}

/// Maps a beacon library error (bad length, bad location) to the member it came from.
fn beacon_error(path: &str) -> impl Fn(crate::beacon::BeaconError) -> ConfigJsonError + '_ {
    move |source| ConfigJsonError::Beacon { path: path.to_owned(), source: Box::new(source) }
}

fn standard_beacon(value: &Value, path: &str) -> Result<StandardBeacon, ConfigJsonError> {
    let map = object(value, path, &["Name", "Length", "Loc", "numberOfPartitions", "style"])?;
    let at = |member: &str| member_path(path, member);
    let beacon_name = name(map.get("Name").ok_or_else(|| bad(&at("Name"), "required"))?, &at("Name"))?;
    let length = integer(map.get("Length").ok_or_else(|| bad(&at("Length"), "required"))?, &at("Length"))?;
    let mut beacon = StandardBeacon::new(beacon_name, length).map_err(beacon_error(path))?;
    if let Some(v) = map.get("Loc") {
        beacon = beacon.with_location(name(v, &at("Loc"))?).map_err(beacon_error(path))?;
    }
    if let Some(v) = map.get("numberOfPartitions") {
        beacon = beacon.with_partitions(integer(v, &at("numberOfPartitions"))?);
    }
    if let Some(v) = map.get("style") {
        beacon = beacon.with_style(style(v, &at("style"))?);
    }
    Ok(beacon)
}

fn style(value: &Value, path: &str) -> Result<BeaconStyle, ConfigJsonError> {
    let map = object(value, path, &["partOnly", "asSet", "shared", "sharedSet"])?;
    let mut members = map.iter();
    let (Some((kind, inner)), None) = (members.next(), members.next()) else {
        return Err(bad(path, "a style has exactly one member"));
    };
    let inner_path = member_path(path, kind);
    let other = || -> Result<String, ConfigJsonError> {
        let map = object(inner, &inner_path, &["other"])?;
        let other_path = member_path(&inner_path, "other");
        Ok(name(map.get("other").ok_or_else(|| bad(&other_path, "required"))?, &other_path)?.to_owned())
    };
    Ok(match kind.as_str() {
        "partOnly" => {
            object(inner, &inner_path, &[])?;
            BeaconStyle::PartOnly
        }
        "asSet" => {
            object(inner, &inner_path, &[])?;
            BeaconStyle::AsSet
        }
        "shared" => BeaconStyle::Shared { other: other()? },
        _ => BeaconStyle::SharedSet { other: other()? },
    })
}

fn encrypted_part(value: &Value, path: &str) -> Result<EncryptedPart, ConfigJsonError> {
    let map = object(value, path, &["Name", "Prefix"])?;
    let at = |member: &str| member_path(path, member);
    let part_name = name(map.get("Name").ok_or_else(|| bad(&at("Name"), "required"))?, &at("Name"))?;
    let prefix = name(map.get("Prefix").ok_or_else(|| bad(&at("Prefix"), "required"))?, &at("Prefix"))?;
    Ok(EncryptedPart::new(part_name, prefix))
}

fn signed_part(value: &Value, path: &str) -> Result<SignedPart, ConfigJsonError> {
    let map = object(value, path, &["Name", "Prefix", "Loc"])?;
    let at = |member: &str| member_path(path, member);
    let part_name = name(map.get("Name").ok_or_else(|| bad(&at("Name"), "required"))?, &at("Name"))?;
    let prefix = name(map.get("Prefix").ok_or_else(|| bad(&at("Prefix"), "required"))?, &at("Prefix"))?;
    let mut part = SignedPart::new(part_name, prefix).map_err(beacon_error(path))?;
    if let Some(v) = map.get("Loc") {
        part = part.with_location(name(v, &at("Loc"))?).map_err(beacon_error(path))?;
    }
    Ok(part)
}

fn constructor(value: &Value, path: &str) -> Result<Constructor, ConfigJsonError> {
    let parts = each(value, path, |value, path| {
        let map = object(value, path, &["Name", "Required"])?;
        let at = |member: &str| member_path(path, member);
        let part_name = name(map.get("Name").ok_or_else(|| bad(&at("Name"), "required"))?, &at("Name"))?;
        let required = match map.get("Required") {
            Some(v) => boolean(v, &at("Required"))?,
            None => true,
        };
        Ok(ConstructorPart { name: part_name.to_owned(), required })
    })?;
    if parts.is_empty() {
        return Err(bad(path, "a constructor needs at least one part"));
    }
    Ok(Constructor { parts })
}

fn compound_beacon(value: &Value, path: &str) -> Result<CompoundBeacon, ConfigJsonError> {
    let map = object(value, path, &["Name", "Split", "Encrypted", "Signed", "Constructors"])?;
    let at = |member: &str| member_path(path, member);
    let beacon_name = name(map.get("Name").ok_or_else(|| bad(&at("Name"), "required"))?, &at("Name"))?;
    let split = match map.get("Split") {
        Some(v) => character(v, &at("Split"))?,
        None => '.',
    };
    let mut beacon = CompoundBeacon::new(beacon_name, split);
    if let Some(v) = map.get("Encrypted") {
        beacon = beacon.with_encrypted(each(v, &at("Encrypted"), encrypted_part)?);
    }
    if let Some(v) = map.get("Signed") {
        beacon = beacon.with_signed(each(v, &at("Signed"), signed_part)?);
    }
    if let Some(v) = map.get("Constructors") {
        let constructors = each(v, &at("Constructors"), constructor)?;
        // An empty list means the default constructor, as an absent one does.
        if !constructors.is_empty() {
            beacon = beacon.with_constructors(constructors);
        }
    }
    Ok(beacon)
}

fn virtual_field(value: &Value, path: &str) -> Result<VirtualField, ConfigJsonError> {
    let map = object(value, path, &["name", "parts"])?;
    let at = |member: &str| member_path(path, member);
    let field_name = name(map.get("name").ok_or_else(|| bad(&at("name"), "required"))?, &at("name"))?;
    let parts_path = at("parts");
    let parts = each(map.get("parts").ok_or_else(|| bad(&parts_path, "required"))?, &parts_path, virtual_part)?;
    VirtualField::new(field_name, parts).map_err(beacon_error(path))
}

fn virtual_part(value: &Value, path: &str) -> Result<VirtualPart, ConfigJsonError> {
    let map = object(value, path, &["loc", "trans"])?;
    let at = |member: &str| member_path(path, member);
    let location = name(map.get("loc").ok_or_else(|| bad(&at("loc"), "required"))?, &at("loc"))?;
    let transforms = match map.get("trans") {
        Some(v) => each(v, &at("trans"), transform)?,
        None => Vec::new(),
    };
    VirtualPart::new(location, transforms).map_err(beacon_error(path))
}

fn transform(value: &Value, path: &str) -> Result<VirtualTransform, ConfigJsonError> {
    let map =
        object(value, path, &["upper", "lower", "insert", "prefix", "suffix", "substring", "segment", "segments"])?;
    let mut members = map.iter();
    let (Some((kind, inner)), None) = (members.next(), members.next()) else {
        return Err(bad(path, "a transform has exactly one member"));
    };
    let inner_path = member_path(path, kind);
    let field = |known: &[&str], member: &str| -> Result<Value, ConfigJsonError> {
        let map = object(inner, &inner_path, known)?;
        map.get(member).cloned().ok_or_else(|| bad(&member_path(&inner_path, member), "required"))
    };
    let at = |member: &str| member_path(&inner_path, member);
    Ok(match kind.as_str() {
        "upper" | "lower" => {
            if !inner.is_null() {
                return Err(bad(&inner_path, "expected null"));
            }
            if kind == "upper" { VirtualTransform::Upper } else { VirtualTransform::Lower }
        }
        "insert" => VirtualTransform::Insert(string(&field(&["literal"], "literal")?, &at("literal"))?.to_owned()),
        "prefix" => VirtualTransform::Prefix(integer(&field(&["length"], "length")?, &at("length"))?),
        "suffix" => VirtualTransform::Suffix(integer(&field(&["length"], "length")?, &at("length"))?),
        "substring" => VirtualTransform::Substring {
            low: integer(&field(&["low", "high"], "low")?, &at("low"))?,
            high: integer(&field(&["low", "high"], "high")?, &at("high"))?,
        },
        "segment" => VirtualTransform::Segment {
            split: character(&field(&["split", "index"], "split")?, &at("split"))?,
            index: integer(&field(&["split", "index"], "index")?, &at("index"))?,
        },
        _ => {
            let known = ["split", "low", "high"];
            VirtualTransform::Segments {
                split: character(&field(&known, "split")?, &at("split"))?,
                low: integer(&field(&known, "low")?, &at("low"))?,
                high: integer(&field(&known, "high")?, &at("high"))?,
            }
        }
    })
}
