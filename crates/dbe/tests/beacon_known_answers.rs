//! The DB-ESDK's beacon fixtures (BeaconTestFixtures.dfy, Beacon.dfy: "LotsaBeacons" over
//! "SimpleItem" with beacon key [1, 2, 3, 4, 5]) as known answers, plus the configuration
//! errors the specification requires.

use std::collections::BTreeMap;

use envelope_dbe::beacon::{
    BeaconError, BeaconKeys, BeaconStyle, BeaconVersion, BeaconVersionConfig, CompoundBeacon, ConfigError, Constructor,
    ConstructorPart, EncryptedPart, Item, SignedPart, StandardBeacon, VirtualField, VirtualPart, VirtualTransform,
};
use envelope_dbe::item::{AttributeValue, CryptoAction};

const NAME_BEACON: &str = "7d9bfa40";
const TITLE_BEACON: &str = "e4feb833";

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn full_table_actions() -> BTreeMap<String, CryptoAction> {
    use CryptoAction::*;
    [
        ("std2", EncryptAndSign),
        ("std4", EncryptAndSign),
        ("std6", EncryptAndSign),
        ("Name", EncryptAndSign),
        ("Title", EncryptAndSign),
        ("TooBad", EncryptAndSign),
        ("Year", SignOnly),
        ("Date", SignOnly),
        ("TheKeyField", SignOnly),
    ]
    .into_iter()
    .map(|(name, action)| (name.to_owned(), action))
    .collect()
}

fn simple_item() -> Item {
    let date = AttributeValue::M(
        [("Month".to_owned(), s("May")), ("Year".to_owned(), AttributeValue::N("1984".into()))].into(),
    );
    [
        ("std2", AttributeValue::N("1.23".into())),
        ("std4", s("abc")),
        ("std6", AttributeValue::L(vec![s("666")])),
        ("Date", date),
        ("Year", AttributeValue::N("1984".into())),
        ("Name", s("MyName")),
        ("Title", s("MyTitle")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn std(name: &str, bits: u32) -> StandardBeacon {
    StandardBeacon::new(name, bits).unwrap()
}

fn year() -> SignedPart {
    SignedPart::new("Year", "Y_").unwrap()
}

fn month() -> SignedPart {
    SignedPart::new("Month", "M_").unwrap().with_location("Date.Month").unwrap()
}

fn lotsa_beacons() -> BeaconVersionConfig {
    let name = EncryptedPart::new("Name", "N_");
    let title = EncryptedPart::new("Title", "T_");
    let name_title_field = VirtualField::new(
        "NameTitleField",
        vec![
            VirtualPart::new("Name", vec![VirtualTransform::Insert("__".into())]).unwrap(),
            VirtualPart::new("Title", vec![VirtualTransform::Lower]).unwrap(),
        ],
    )
    .unwrap();
    BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![
            std("std2", 24),
            std("std4", 24).with_location("std4").unwrap(),
            std("std6", 26).with_location("std6[0]").unwrap(),
            std("NameTitleField", 28),
            std("Name", 32),
            std("Title", 32),
        ],
        compound_beacons: vec![
            CompoundBeacon::new("NameTitle", '.').with_encrypted(vec![name.clone(), title.clone()]),
            CompoundBeacon::new("YearName", '.').with_encrypted(vec![name.clone()]).with_signed(vec![year()]),
            CompoundBeacon::new("Mixed", '.')
                .with_encrypted(vec![name, title])
                .with_signed(vec![year(), month()])
                .with_constructors(vec![
                    Constructor { parts: vec![ConstructorPart::required("Name"), ConstructorPart::required("Year")] },
                    Constructor { parts: vec![ConstructorPart::required("Title"), ConstructorPart::optional("Month")] },
                ]),
            CompoundBeacon::new("JustSigned", '.').with_signed(vec![year(), month()]),
        ],
        virtual_fields: vec![name_title_field],
        ..Default::default()
    }
}

fn version(config: BeaconVersionConfig) -> Result<BeaconVersion, BeaconError> {
    BeaconVersion::new(config, &full_table_actions())
}

fn keys(version: &BeaconVersion) -> BeaconKeys {
    BeaconKeys::derive(&[1, 2, 3, 4, 5], version).unwrap()
}

// Beacon.dfy TestBeaconValues: GenerateSignedBeacons ∪ GenerateEncryptedBeacons.
#[test]
fn lotsa_beacons_over_simple_item() {
    let version = version(lotsa_beacons()).unwrap();
    let beacons = version.beacons(&simple_item(), &keys(&version), 0).unwrap();
    let expected: BTreeMap<String, AttributeValue> = [
        ("JustSigned", "Y_1984.M_May".to_owned()),
        ("aws_dbe_b_Mixed", format!("N_{NAME_BEACON}.Y_1984")),
        ("aws_dbe_b_Name", NAME_BEACON.to_owned()),
        ("aws_dbe_b_NameTitle", format!("N_{NAME_BEACON}.T_{TITLE_BEACON}")),
        ("aws_dbe_b_NameTitleField", "4c577d7".to_owned()),
        ("aws_dbe_b_std2", "ac6f5d".to_owned()),
        ("aws_dbe_b_Title", TITLE_BEACON.to_owned()),
        ("aws_dbe_b_std6", "2d99222".to_owned()),
        ("aws_dbe_b_std4", "0e9064".to_owned()),
        ("aws_dbe_b_YearName", format!("Y_1984.N_{NAME_BEACON}")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), AttributeValue::S(value)))
    .collect();
    assert_eq!(beacons, expected);
}

// Beacon.dfy TestNumbersNormalize, with the item really changed.
#[test]
fn number_spelling_does_not_change_beacons() {
    let version = version(lotsa_beacons()).unwrap();
    let keys = keys(&version);
    let mut item = simple_item();
    item.insert("std2".into(), AttributeValue::N("000001.23000000".into()));
    let beacons = version.beacons(&item, &keys, 0).unwrap();
    assert_eq!(beacons["aws_dbe_b_std2"], s("ac6f5d"));
}

// Mixed's second constructor (Title required, Month optional) applies when Name is absent.
#[test]
fn constructors_are_tried_in_order() {
    let version = version(lotsa_beacons()).unwrap();
    let keys = keys(&version);
    let mut item = simple_item();
    item.remove("Name");
    let beacons = version.beacons(&item, &keys, 0).unwrap();
    assert_eq!(beacons["aws_dbe_b_Mixed"], AttributeValue::S(format!("T_{TITLE_BEACON}.M_May")));
    assert!(!beacons.contains_key("aws_dbe_b_Name"));
    assert!(!beacons.contains_key("aws_dbe_b_YearName"));
    item.remove("Date");
    let beacons = version.beacons(&item, &keys, 0).unwrap();
    assert_eq!(beacons["aws_dbe_b_Mixed"], AttributeValue::S(format!("T_{TITLE_BEACON}")));
    assert!(!beacons.contains_key("JustSigned"));
}

// Beacon.dfy TestContainsSplit.
#[test]
fn split_character_in_a_value_is_refused() {
    let version = version(lotsa_beacons()).unwrap();
    let mut item = simple_item();
    item.insert("Name".into(), s("A.B"));
    let error = version.beacons(&item, &keys(&version), 0).unwrap_err();
    assert!(
        matches!(error, BeaconError::SplitCharacterInValue { ref part, split: '.', .. } if part == "Name"),
        "{error}"
    );
    assert!(!error.to_string().contains("A.B"), "the message leaks the plaintext");
}

// Beacon.dfy TestQueryBeacons: query values become beacons.
#[test]
fn query_values() {
    let version = version(lotsa_beacons()).unwrap();
    let keys = keys(&version);
    let query = |name: &str, value: AttributeValue| version.query_value(name, &value, &keys, 0).unwrap();
    assert_eq!(query("std2", AttributeValue::N("1.23".into())), s("ac6f5d"));
    assert_eq!(query("std4", s("abc")), s("0e9064"));
    assert_eq!(query("std6", s("666")), s("2d99222"));
    assert_eq!(query("Name", s("MyName")), s(NAME_BEACON));
    assert_eq!(query("Title", s("MyTitle")), s(TITLE_BEACON));
    assert_eq!(query("NameTitleField", s("MyName__mytitle")), s("4c577d7"));
    assert_eq!(query("Mixed", s("N_MyName.Y_1984")), AttributeValue::S(format!("N_{NAME_BEACON}.Y_1984")));
    assert_eq!(
        query("NameTitle", s("N_MyName.T_MyTitle")),
        AttributeValue::S(format!("N_{NAME_BEACON}.T_{TITLE_BEACON}"))
    );
    assert_eq!(query("NameTitle", s("T_MyTitle")), AttributeValue::S(format!("T_{TITLE_BEACON}")));
    assert_eq!(query("YearName", s("Y_1984.N_MyName")), AttributeValue::S(format!("Y_1984.N_{NAME_BEACON}")));
    assert!(matches!(version.query_value("Mixed", &s("X_1"), &keys, 0), Err(BeaconError::InvalidQueryValue { .. })));
}

// Beacon.dfy TestCompoundQueries: values whose parts fit a constructor pass, others fail.
#[test]
fn compound_query_part_order() {
    let version = version(lotsa_beacons()).unwrap();
    let keys = keys(&version);
    for ok in ["N_MyName.Y_1984", "N_MyName", "Y_1984", "T_foo", "M_bar", "T_foo.M_bar"] {
        assert!(version.query_value("Mixed", &s(ok), &keys, 0).is_ok(), "{ok}");
    }
    for (bad, parsed) in [("N_MyName.N_MyName", "N_N_"), ("Y_1984.N_MyName", "Y_N_"), ("M_bar.T_foo", "M_T_")] {
        let error = version.query_value("Mixed", &s(bad), &keys, 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "compound beacon Mixed: the value's parts, in order {parsed}, fit no constructor (available: N_Y_, T_[M_])"
            )
        );
        assert!(!error.to_string().contains("MyName"), "the message leaks the plaintext");
    }
}

fn config_error(config: BeaconVersionConfig) -> ConfigError {
    match version(config) {
        Err(BeaconError::Config(error)) => error,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

// Beacon.dfy TestBadPrefix, with the DB-ESDK's wording.
#[test]
fn prefix_of_another_prefix_is_refused() {
    let mut config = lotsa_beacons();
    config.standard_beacons = vec![std("Name", 32), std("Title", 32), std("TooBad", 32)];
    config.virtual_fields.clear();
    config.compound_beacons = vec![CompoundBeacon::new("BadPrefix", '.').with_encrypted(vec![
        EncryptedPart::new("Name", "N_"),
        EncryptedPart::new("Title", "T_"),
        EncryptedPart::new("TooBad", "T"),
    ])];
    let error = config_error(config);
    assert_eq!(
        error.to_string(),
        "compound beacon BadPrefix defines part Title with prefix T_ which is incompatible with part TooBad which has a prefix of T"
    );
}

#[test]
fn version_level_rules() {
    let base = || BeaconVersionConfig { version: 1, standard_beacons: vec![std("Name", 32)], ..Default::default() };
    assert_eq!(config_error(BeaconVersionConfig { version: 2, ..base() }), ConfigError::UnsupportedVersion(2));
    assert_eq!(
        config_error(BeaconVersionConfig { standard_beacons: vec![], ..base() }),
        ConfigError::NoStandardBeacons
    );
    let mut config = base();
    config.standard_beacons.push(std("Name", 16).with_location("Title").unwrap());
    assert_eq!(config_error(config), ConfigError::DuplicateBeaconName("Name".into()));
    let mut config = base();
    config.standard_beacons.push(std("Other", 16).with_location("Name").unwrap());
    assert!(matches!(config_error(config), ConfigError::DuplicateLocation { .. }));
    // A beacon on a signed-only attribute, and one named like a plaintext attribute.
    let config = BeaconVersionConfig { standard_beacons: vec![std("Year", 8)], ..base() };
    assert!(matches!(config_error(config), ConfigError::NameIsConfiguredAttribute { .. }));
    let config = BeaconVersionConfig {
        standard_beacons: vec![std("Elsewhere", 8).with_location("Date.Month").unwrap()],
        ..base()
    };
    assert!(matches!(config_error(config), ConfigError::BeaconNotEncrypted { .. }));
    let config = BeaconVersionConfig { standard_beacons: vec![std("Unknown", 8)], ..base() };
    assert!(matches!(config_error(config), ConfigError::BeaconNotEncrypted { .. }));
    // Compound names.
    let mut config = base();
    config.compound_beacons = vec![CompoundBeacon::new("Name", '.').with_signed(vec![year()])];
    assert_eq!(config_error(config), ConfigError::DuplicateBeaconName("Name".into()));
    let mut config = base();
    config.compound_beacons = vec![CompoundBeacon::new("Year", '.').with_signed(vec![year()])];
    assert!(matches!(config_error(config), ConfigError::NameIsConfiguredAttribute { kind: "signed beacon", .. }));
}

#[test]
fn style_rules() {
    let base = |beacons: Vec<StandardBeacon>| BeaconVersionConfig {
        version: 1,
        standard_beacons: beacons,
        ..Default::default()
    };
    let shared = |other: &str, bits| {
        std("Alias", bits).with_location("Title").unwrap().with_style(BeaconStyle::Shared { other: other.into() })
    };
    assert!(matches!(
        config_error(base(vec![std("Name", 32), shared("Nope", 32)])),
        ConfigError::UnknownSharedBeacon { .. }
    ));
    assert!(matches!(
        config_error(base(vec![std("Name", 32), shared("Name", 16)])),
        ConfigError::SharedLengthMismatch { length: 16, other_length: 32, .. }
    ));
    assert!(version(base(vec![std("Name", 32), shared("Name", 32)])).is_ok());
    let part_only = std("Name", 32).with_style(BeaconStyle::PartOnly);
    assert_eq!(config_error(base(vec![part_only.clone()])), ConfigError::PartOnlyUnused("Name".into()));
    let mut config = base(vec![part_only]);
    config.compound_beacons =
        vec![CompoundBeacon::new("C", '.').with_encrypted(vec![EncryptedPart::new("Name", "N_")])];
    let version_ok = version(config).unwrap();
    let beacons = version_ok.beacons(&simple_item(), &keys(&version_ok), 0).unwrap();
    assert_eq!(beacons.len(), 1, "a part-only beacon is not stored: {beacons:?}");
    let mut config = base(vec![std("Name", 32).with_style(BeaconStyle::AsSet)]);
    config.compound_beacons =
        vec![CompoundBeacon::new("C", '.').with_encrypted(vec![EncryptedPart::new("Name", "N_")])];
    assert!(matches!(config_error(config), ConfigError::SetBeaconAsPart { .. }));
}

#[test]
fn compound_and_part_rules() {
    let with = |compound: CompoundBeacon| BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![std("Name", 32), std("Title", 32)],
        compound_beacons: vec![compound],
        global_signed_parts: vec![year()],
        global_encrypted_parts: vec![EncryptedPart::new("Title", "T_")],
        ..Default::default()
    };
    let cons = |parts: Vec<ConstructorPart>| Constructor { parts };
    assert_eq!(config_error(with(CompoundBeacon::new("C", '.'))), ConfigError::NoParts("C".into()));
    assert_eq!(
        config_error(with(CompoundBeacon::new("C", '.').with_encrypted(vec![EncryptedPart::new("Nope", "X")]))),
        ConfigError::UnknownEncryptedPart("Nope".into())
    );
    assert_eq!(
        config_error(with(CompoundBeacon::new("C", '.').with_constructors(vec![cons(vec![])]))),
        ConfigError::EmptyConstructor("C".into())
    );
    assert_eq!(
        config_error(with(
            CompoundBeacon::new("C", '.').with_constructors(vec![cons(vec![ConstructorPart::optional("Year")])])
        )),
        ConfigError::NoRequiredPart("C".into())
    );
    assert!(matches!(
        config_error(with(
            CompoundBeacon::new("C", '.').with_constructors(vec![cons(vec![ConstructorPart::required("Month")])])
        )),
        ConfigError::UnknownConstructorPart { .. }
    ));
    assert_eq!(
        config_error(with(CompoundBeacon::new("C", '.').with_constructors(vec![
            cons(vec![ConstructorPart::required("Year"), ConstructorPart::optional("Title")]),
            cons(vec![ConstructorPart::optional("Title"), ConstructorPart::required("Year")]),
        ]))),
        ConfigError::DuplicateConstructor("C".into())
    );
    // A signed part on an encrypted attribute.
    let bad_signed = SignedPart::new("Secret", "S_").unwrap().with_location("Name").unwrap();
    assert!(matches!(
        config_error(with(CompoundBeacon::new("C", '.').with_signed(vec![bad_signed]))),
        ConfigError::SignedPartNotSignOnly { .. }
    ));
    // Global parts through constructors: Year (signed) and Title (encrypted).
    let version =
        version(with(CompoundBeacon::new("C", '.').with_constructors(vec![cons(vec![
            ConstructorPart::required("Year"),
            ConstructorPart::required("Title"),
        ])])))
        .unwrap();
    let beacons = version.beacons(&simple_item(), &keys(&version), 0).unwrap();
    assert_eq!(beacons["aws_dbe_b_C"], AttributeValue::S(format!("Y_1984.T_{TITLE_BEACON}")));
}

#[test]
fn virtual_field_rules() {
    let field = |name: &str, locations: &[&str]| {
        VirtualField::new(
            name,
            locations.iter().map(|l| VirtualPart::new(l, vec![VirtualTransform::Lower]).unwrap()).collect(),
        )
        .unwrap()
    };
    let with = |fields: Vec<VirtualField>| BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![std("Name", 32)],
        virtual_fields: fields,
        ..Default::default()
    };
    assert!(matches!(
        config_error(with(vec![field("Year", &["Name", "Title"])])),
        ConfigError::NameIsConfiguredAttribute { kind: "virtual field", .. }
    ));
    assert!(matches!(
        config_error(with(vec![field("V", &["Name", "Unsigned"])])),
        ConfigError::VirtualFieldNotSigned { .. }
    ));
    assert!(matches!(
        config_error(with(vec![field("V", &["Name", "Title"]), field("W", &["Title", "Name"])])),
        ConfigError::VirtualFieldsSameLocations(..)
    ));
    assert!(matches!(config_error(with(vec![field("V", &["Name"])])), ConfigError::VirtualFieldShadowsBeacon { .. }));
    assert!(matches!(
        config_error(with(vec![field("V", &["Title", "Year"]), field("V", &["Title", "Date.Month"])])),
        ConfigError::DuplicateVirtualField(..)
    ));
}

// Beacon partitions: partition p appends the byte p % count before hashing (0 appends nothing);
// counts are checked against the maximum (BeaconPartition.dfy's default-partition refusals).
#[test]
fn partitions() {
    use envelope_dbe::beacon::{BeaconHmacKey, BeaconLength};
    let config = |max, default, own: Option<u8>| {
        let title = std("Title", 32);
        BeaconVersionConfig {
            version: 1,
            standard_beacons: vec![std("Name", 32), own.map_or(title.clone(), |n| title.with_partitions(n))],
            max_partitions: max,
            default_partitions: default,
            ..Default::default()
        }
    };
    let hash = |name: &str, bytes: &[u8]| {
        BeaconHmacKey::derive(&[1, 2, 3, 4, 5], name).unwrap().basic_hash(bytes, BeaconLength::new(32).unwrap())
    };
    let version = version(config(Some(5), Some(3), Some(2))).unwrap();
    assert_eq!(version.max_partitions(), 5);
    let keys = keys(&version);
    let at = |partition| version.beacons(&simple_item(), &keys, partition).unwrap();
    assert_eq!(at(0)["aws_dbe_b_Name"], s(NAME_BEACON));
    assert_eq!(at(0)["aws_dbe_b_Title"], s(TITLE_BEACON));
    // Name uses the default count 3, Title its own count 2.
    assert_eq!(at(4)["aws_dbe_b_Name"], AttributeValue::S(hash("Name", b"MyName\x01")));
    assert_eq!(at(4)["aws_dbe_b_Title"], s(TITLE_BEACON));
    assert_eq!(at(3)["aws_dbe_b_Title"], AttributeValue::S(hash("Title", b"MyTitle\x01")));
    assert_eq!(at(3)["aws_dbe_b_Name"], s(NAME_BEACON));
    assert_eq!(
        version.beacons(&simple_item(), &keys, 5),
        Err(BeaconError::PartitionOutOfRange { partition: 5, max: 5 })
    );
    assert_eq!(
        version.query_value("Name", &s("MyName"), &keys, 2).unwrap(),
        AttributeValue::S(hash("Name", b"MyName\x02"))
    );
    // Without a maximum there is one partition.
    let single = self::version(config(None, None, None)).unwrap();
    assert_eq!(single.max_partitions(), 1);
    assert!(single.beacons(&simple_item(), &keys, 1).is_err());
    assert_eq!(config_error(config(Some(5), Some(5), None)), ConfigError::DefaultPartitions { default: 5, max: 5 });
    assert_eq!(config_error(config(None, Some(2), None)), ConfigError::DefaultPartitions { default: 2, max: 1 });
    assert_eq!(
        config_error(config(Some(3), None, Some(3))),
        ConfigError::BeaconPartitions { beacon: "Title".into(), count: 3, max: 3 }
    );
}

// A write adds the beacons (no version tag, as the DB-ESDK); a signed beacon the item already
// carries must match what its parts build.
#[test]
fn item_attributes_for_a_write() {
    let version = version(lotsa_beacons()).unwrap();
    let keys = keys(&version);
    let added = version.item_attributes(&simple_item(), &keys, 0).unwrap();
    assert!(!added.contains_key("aws_dbe_v_1"));
    assert_eq!(added["JustSigned"], s("Y_1984.M_May"));
    assert_eq!(added.len(), 10);
    let mut item = simple_item();
    item.insert("JustSigned".into(), s("Y_1984.M_May"));
    let added = version.item_attributes(&item, &keys, 0).unwrap();
    assert!(!added.contains_key("JustSigned"));
    item.insert("JustSigned".into(), s("Y_1985.M_May"));
    assert_eq!(version.item_attributes(&item, &keys, 0), Err(BeaconError::SignedBeaconMismatch("JustSigned".into())));
}
