//! The official DB-ESDK query vectors (`test-vectors/dbesdk/{configs,data,records}.json`) as the
//! search-core, SQLite and DynamoDB vector tests read them: the files, their values, data.json's
//! query strings in the typed query model, and the one branch key every table uses.
#![allow(dead_code)] // each test binary uses its own part

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use envelope::{DefaultMaterialsManager, MaterialsManager};
use envelope_dbe::beacon::{BeaconKeySource, BeaconVersionConfig, SingleKeySource};
use envelope_dbe::config_json::table_config_from_value;
use envelope_dbe::item::{AttributeValue as V, Item, TableConfig};
use envelope_dbe::search::{CompareOp, Condition, Operand};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};
use serde_json::Value as Json;

/// The branch key (and beacon key) id of [`store`].
pub const BRANCH_KEY: &str = "vectors";

pub fn read(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A value in the vectors' shorthand: a bare string is S, else one typed DynamoDB JSON member.
pub fn value(json: &Json) -> V {
    match json {
        Json::String(text) => V::S(text.clone()),
        Json::Object(map) => match map.iter().next().unwrap() {
            (t, Json::String(n)) if t == "N" => V::N(n.clone()),
            (t, Json::Array(items)) if t == "SS" => V::Ss(items.iter().map(|i| i.as_str().unwrap().into()).collect()),
            (t, Json::Array(items)) if t == "L" => V::L(items.iter().map(value).collect()),
            other => panic!("unexpected value {other:?}"),
        },
        other => panic!("unexpected value {other}"),
    }
}

/// data.json's query strings in the typed model (`v` looks up data.json's `Values`).
pub fn query(text: &str, v: &dyn Fn(&str) -> V) -> Condition {
    use CompareOp::*;
    let cmp = |a: &str, op, b: &str| Condition::compare(a, op, v(b));
    let attr = Operand::attr;
    let val = |name: &str| Operand::Value(v(name));
    match text {
        "RecNum = :zero" => cmp("RecNum", Eq, ":zero"),
        "RecNum = :one" => cmp("RecNum", Eq, ":one"),
        "RecNum <= :zero" => cmp("RecNum", Le, ":zero"),
        "RecNum > :zero" => cmp("RecNum", Gt, ":zero"),
        "RecNum >= :zero" => cmp("RecNum", Ge, ":zero"),
        "RecNum <> :zero" => cmp("RecNum", Ne, ":zero"),
        "Nine between :zeroD and :three" => Condition::between("Nine", v(":zeroD"), v(":three")),
        "Nine between :nineD and :nine" => Condition::between("Nine", v(":nineD"), v(":nine")),
        "Nine between :nine and :three" => Condition::between("Nine", v(":nine"), v(":three")),
        "Nine between :nine and :nine" => Condition::between("Nine", v(":nine"), v(":nine")),
        "NumberTest = :NumberTest" => cmp("NumberTest", Eq, ":NumberTest"),
        "RecNum in (:zero, :one)" => Condition::in_list("RecNum", [v(":zero"), v(":one")]),
        "Two = :two" => cmp("Two", Eq, ":two"),
        "Two = :two or Three = :three or Four = :four OR Five = :five" => cmp("Two", Eq, ":two")
            .or(cmp("Three", Eq, ":three"))
            .or(cmp("Four", Eq, ":four"))
            .or(cmp("Five", Eq, ":five")),
        "Two = :two and Three = :three and Four = :four and Five = :five" => cmp("Two", Eq, ":two")
            .and(cmp("Three", Eq, ":three"))
            .and(cmp("Four", Eq, ":four"))
            .and(cmp("Five", Eq, ":five")),
        "Two in (:two, :three, :four, :five)" => {
            Condition::in_list("Two", [v(":two"), v(":three"), v(":four"), v(":five")])
        }
        "Five in (:two, :three, :four, :five)" => {
            Condition::in_list("Five", [v(":two"), v(":three"), v(":four"), v(":five")])
        }
        "Five in (:strset)" => Condition::in_list("Five", [v(":strset")]),
        "Five in (:strlist)" => Condition::in_list("Five", [v(":strlist")]),
        "contains(One, :oneA)" => Condition::contains("One", v(":oneA")),
        "contains(One, :oneB)" => Condition::contains("One", v(":oneB")),
        "contains(:oneA, One)" => Condition::Contains(val(":oneA"), attr("One")),
        "contains(:oneB, One)" => Condition::Contains(val(":oneB"), attr("One")),
        "contains(:strset, One)" => Condition::Contains(val(":strset"), attr("One")),
        // Complex (config 5, compound beacon Comp1 = F_<Four>.S_<Stuff>)
        "Comp1 = :cmp1a" => cmp("Comp1", Eq, ":cmp1a"),
        "Comp1 = :cmp1b" => cmp("Comp1", Eq, ":cmp1b"),
        "begins_with(Comp1, :cmp1c)" => Condition::begins_with("Comp1", v(":cmp1c")),
        "begins_with(Comp1, :cmp1d)" => Condition::begins_with("Comp1", v(":cmp1d")),
        ":cmp1c <= Comp1" => Condition::Compare(val(":cmp1c"), Le, attr("Comp1")),
        "cmp1c < Comp1" => Condition::Compare(attr("cmp1c"), Lt, attr("Comp1")),
        "cmp1c = Comp1" => Condition::Compare(attr("cmp1c"), Eq, attr("Comp1")),
        "contains(Comp1, :cmp1c)" => Condition::contains("Comp1", v(":cmp1c")),
        "contains(Comp1, :cmp1d)" => Condition::contains("Comp1", v(":cmp1d")),
        other => panic!("query {other:?} of data.json has no translation here"),
    }
}

pub fn store() -> Arc<StaticKeyStore> {
    let mut store = StaticKeyStore::new(BRANCH_KEY);
    let secret = || BranchKeySecret::from_slice(&[0x5a; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new(BRANCH_KEY, "3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", BTreeMap::new(), secret());
    store.add_branch_key(materials.unwrap(), true).unwrap();
    store.add_beacon_key(BeaconKeyMaterials::new(BRANCH_KEY, BTreeMap::new(), secret()));
    Arc::new(store)
}

pub fn records() -> Vec<Item> {
    read("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().iter().map(|(k, j)| (k.clone(), value(j))).collect())
        .collect()
}

/// One table config of `configs.json`, read by the crate's own JSON reader, with what every
/// vector test pairs it with: a hierarchical keyring on [`store`]'s branch key and, when the
/// config has `search`, its write version with a single-tenant beacon key source.
pub struct VectorTable {
    /// Item encryption settings, the logical table name made unique per config (`vectors-ID`).
    pub table: TableConfig,
    /// A default materials manager over the hierarchical keyring.
    pub cmm: Arc<dyn MaterialsManager>,
    /// The beacons and their key source, when the config has `search`.
    pub beacons: Option<(BeaconVersionConfig, BeaconKeySource)>,
}

/// The table of config `id` (`None` for the empty config: a plain client upstream).
pub fn vector_table(id: &str, config: &Json, store: &Arc<StaticKeyStore>) -> Option<VectorTable> {
    let parsed = table_config_from_value(config).unwrap();
    if parsed.empty {
        return None;
    }
    let mut table = parsed.table;
    table.logical_table_name = format!("vectors-{id}");
    let keyring = HierarchicalKeyring::builder(Arc::clone(store))
        .branch_key_id(BRANCH_KEY)
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let beacons = parsed.search.map(|search| {
        let source = SingleKeySource::new(Arc::clone(store) as Arc<dyn KeyStore>, BRANCH_KEY, Duration::from_secs(60));
        (search.write().config.clone(), BeaconKeySource::Single(source))
    });
    Some(VectorTable { table, cmm: Arc::new(DefaultMaterialsManager::new(keyring)), beacons })
}
