use super::*;
use crate::beacon::{BeaconStyle, ConfigError, VirtualPart, VirtualTransform};

fn parse(json: &str) -> Result<ParsedTableConfig, ConfigJsonError> {
    table_config_from_json(json.as_bytes())
}

fn invalid_at(json: &str) -> String {
    match parse(json) {
        Err(ConfigJsonError::Invalid { path, .. }) | Err(ConfigJsonError::UnknownMember { path }) => path,
        Err(ConfigJsonError::Beacon { path, .. }) => path,
        other => panic!("{json}: {other:?}"),
    }
}

#[test]
fn table_members_and_defaults() {
    let parsed = parse(
        r#"{"logicalTableName": "T", "partitionKeyName": "pk", "sortKeyName": "sk",
            "attributeActionsOnEncrypt": {"pk": "SIGN_ONLY", "sk": "CONTEXT_AND_SIGN", "e": "ENCRYPT_AND_SIGN", "n": "DO_NOTHING"},
            "allowedUnsignedAttributes": ["n"], "allowedUnsignedAttributePrefix": ":",
            "algorithmSuiteId": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384",
            "plaintextOverride": "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ",
            "key": {"type": "static-branch-key"}}"#,
    )
    .unwrap();
    let table = &parsed.table;
    assert_eq!((table.logical_table_name.as_str(), table.partition_key.as_str()), ("T", "pk"));
    assert_eq!(table.sort_key.as_deref(), Some("sk"));
    assert_eq!(table.actions["sk"], CryptoAction::SignAndIncludeInEncryptionContext);
    assert!(table.is_allowed_unsigned("n") && table.is_allowed_unsigned(":x"));
    assert_eq!(table.plaintext_override, PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead);
    assert_eq!(
        parsed.algorithm_suite.and_then(suite_name),
        Some("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384")
    );
    assert!(parsed.key.is_some() && parsed.search.is_none() && !parsed.empty);

    let empty = parse("{}").unwrap();
    assert!(empty.empty);
    assert_eq!(empty.table, TableConfig::new(DEFAULT_TABLE_NAME, DEFAULT_PARTITION_KEY));
}

#[test]
fn search_members() {
    let parsed = parse(
        r#"{"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "Name": "ENCRYPT_AND_SIGN", "Tags": "ENCRYPT_AND_SIGN",
               "Alias": "ENCRYPT_AND_SIGN", "Year": "SIGN_ONLY", "First": "SIGN_ONLY", "Last": "ENCRYPT_AND_SIGN", "Tenant": "SIGN_ONLY"},
            "search": {"writeVersion": 1, "versions": [{
              "keySource": {"keyFieldName": "Tenant", "cacheTTL": 60, "maxCacheSize": 3},
              "maximumNumberOfPartitions": 4, "defaultNumberOfPartitions": 2,
              "standardBeacons": [
                {"Name": "Name", "Length": 16, "numberOfPartitions": 3},
                {"Name": "Tags", "Length": 8, "style": {"asSet": {}}},
                {"Name": "Alias", "Length": 16, "style": {"shared": {"other": "Name"}}},
                {"Name": "Initials", "Length": 10, "Loc": "FullInitials"}],
              "compoundBeacons": [{"Name": "YearName", "Split": "|",
                "Encrypted": [{"Name": "Name", "Prefix": "N_"}], "Signed": [{"Name": "Year", "Prefix": "Y_", "Loc": "Year"}],
                "Constructors": [[{"Name": "Year", "Required": true}, {"Name": "Name", "Required": false}]]}],
              "virtualFields": [{"name": "FullInitials", "parts": [
                {"loc": "First", "trans": [{"prefix": {"length": 1}}, {"upper": null}]},
                {"loc": "Last", "trans": [{"segments": {"split": "-", "low": 0, "high": -1}}, {"insert": {"literal": "."}}]}]}]
            }]}}"#,
    )
    .unwrap();
    let search = parsed.search.unwrap();
    assert_eq!(search.write_version, 1);
    let version = search.write();
    assert_eq!(
        version.key_source,
        Some(KeySourceJson::Multi { key_field_name: "Tenant".into(), cache_ttl_seconds: 60, max_cache_size: 3 })
    );
    let config = &version.config;
    assert_eq!((config.max_partitions, config.default_partitions), (Some(4), Some(2)));
    assert_eq!(config.standard_beacons[0].partitions(), Some(3));
    assert_eq!(config.standard_beacons[1].style(), &BeaconStyle::AsSet);
    assert_eq!(config.standard_beacons[2].key_name(), "Name");
    assert_eq!(config.standard_beacons[3].location().to_string(), "FullInitials");
    assert_eq!(config.compound_beacons[0].split(), '|');
    assert_eq!(config.virtual_fields[0].parts()[1].location().to_string(), "Last");
    BeaconVersion::new(config.clone(), &parsed.table.actions).unwrap();

    let single = parse(
        r#"{"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "a": "ENCRYPT_AND_SIGN"},
            "search": {"versions": [{"keySource": {"keyId": "k"}, "standardBeacons": [{"Name": "a", "Length": 1}]}]}}"#,
    )
    .unwrap();
    assert_eq!(
        single.search.unwrap().versions[0].key_source,
        Some(KeySourceJson::Single { key_id: "k".into(), cache_ttl_seconds: DEFAULT_CACHE_TTL_SECONDS })
    );
}

#[test]
fn every_transform_parses() {
    let cases = [
        (r#"{"upper": null}"#, VirtualTransform::Upper),
        (r#"{"lower": null}"#, VirtualTransform::Lower),
        (r#"{"insert": {"literal": "x"}}"#, VirtualTransform::Insert("x".into())),
        (r#"{"prefix": {"length": -2}}"#, VirtualTransform::Prefix(-2)),
        (r#"{"suffix": {"length": 3}}"#, VirtualTransform::Suffix(3)),
        (r#"{"substring": {"low": 1, "high": 4}}"#, VirtualTransform::Substring { low: 1, high: 4 }),
        (r#"{"segment": {"split": ".", "index": -1}}"#, VirtualTransform::Segment { split: '.', index: -1 }),
        (
            r#"{"segments": {"split": "/", "low": 0, "high": 2}}"#,
            VirtualTransform::Segments { split: '/', low: 0, high: 2 },
        ),
    ];
    for (json, expected) in cases {
        let config = format!(
            r#"{{"attributeActionsOnEncrypt": {{"RecNum": "SIGN_ONLY", "a": "SIGN_ONLY", "b": "ENCRYPT_AND_SIGN"}},
                "search": {{"versions": [{{"standardBeacons": [{{"Name": "vb", "Length": 8, "Loc": "v"}}],
                  "virtualFields": [{{"name": "v", "parts": [{{"loc": "b", "trans": [{json}]}}]}}]}}]}}}}"#
        );
        let parsed = parse(&config).unwrap_or_else(|e| panic!("{json}: {e}"));
        let version = &parsed.search.unwrap().versions[0];
        assert_eq!(
            version.config.virtual_fields[0].parts()[0],
            VirtualPart::new("b", vec![expected]).unwrap(),
            "{json}"
        );
    }
}

#[test]
fn errors_name_the_member() {
    assert!(matches!(parse("{"), Err(ConfigJsonError::Syntax(_))));
    assert_eq!(invalid_at("[]"), "");
    assert_eq!(invalid_at(r#"{"logicalTablename": "T"}"#), "logicalTablename");
    assert_eq!(invalid_at(r#"{"partitionKeyName": ""}"#), "partitionKeyName");
    assert_eq!(invalid_at(r#"{"attributeActionsOnEncrypt": {"a": "SIGN"}}"#), "attributeActionsOnEncrypt.a");
    assert_eq!(invalid_at(r#"{"allowedUnsignedAttributes": ["a", 1]}"#), "allowedUnsignedAttributes[1]");
    assert_eq!(invalid_at(r#"{"plaintextOverride": "NEVER"}"#), "plaintextOverride");
    assert_eq!(invalid_at(r#"{"algorithmSuiteId": "0x0478"}"#), "algorithmSuiteId");
    assert_eq!(invalid_at(r#"{"search": {}}"#), "search.versions");
    assert_eq!(invalid_at(r#"{"search": {"versions": []}}"#), "search.versions");
    assert_eq!(invalid_at(r#"{"search": {"versions": [{}]}}"#), "search.versions[0].standardBeacons");

    let with = |version: &str| {
        format!(
            r#"{{"attributeActionsOnEncrypt": {{"RecNum": "SIGN_ONLY", "a": "ENCRYPT_AND_SIGN", "s": "SIGN_ONLY"}},
                "search": {{"versions": [{version}]}}}}"#
        )
    };
    let beacon = r#"{"Name": "a", "Length": 8}"#;
    let cases = [
        (r#"{"standardBeacons": [{"Name": "a", "Length": 64}]}"#.to_owned(), "search.versions[0].standardBeacons[0]"),
        (
            r#"{"standardBeacons": [{"Name": "a", "Length": "8"}]}"#.to_owned(),
            "search.versions[0].standardBeacons[0].Length",
        ),
        (r#"{"standardBeacons": [{"Name": "a"}]}"#.to_owned(), "search.versions[0].standardBeacons[0].Length"),
        (
            r#"{"standardBeacons": [{"Name": "a", "Length": 8, "Loc": "a["}]}"#.to_owned(),
            "search.versions[0].standardBeacons[0]",
        ),
        (
            r#"{"standardBeacons": [{"Name": "a", "Length": 8, "style": {"asSet": {}, "partOnly": {}}}]}"#.to_owned(),
            "search.versions[0].standardBeacons[0].style",
        ),
        (
            r#"{"standardBeacons": [{"Name": "a", "Length": 8, "numberOfPartitions": 256}]}"#.to_owned(),
            "search.versions[0].standardBeacons[0].numberOfPartitions",
        ),
        (
            format!(r#"{{"standardBeacons": [{beacon}], "keySource": {{"keyId": "k", "keyFieldName": "f"}}}}"#),
            "search.versions[0].keySource",
        ),
        (format!(r#"{{"standardBeacons": [{beacon}], "keySource": {{}}}}"#), "search.versions[0].keySource"),
        (
            format!(r#"{{"standardBeacons": [{beacon}], "compoundBeacons": [{{"Name": "c", "Split": ".."}}]}}"#),
            "search.versions[0].compoundBeacons[0].Split",
        ),
        (
            format!(
                r#"{{"standardBeacons": [{beacon}], "compoundBeacons": [{{"Name": "c", "Signed": [{{"Name": "s"}}]}}]}}"#
            ),
            "search.versions[0].compoundBeacons[0].Signed[0].Prefix",
        ),
        (
            format!(r#"{{"standardBeacons": [{beacon}], "compoundBeacons": [{{"Name": "c", "Constructors": [[]]}}]}}"#),
            "search.versions[0].compoundBeacons[0].Constructors[0]",
        ),
        (
            format!(r#"{{"standardBeacons": [{beacon}], "virtualFields": [{{"name": "v", "parts": []}}]}}"#),
            "search.versions[0].virtualFields[0]",
        ),
        (
            format!(
                r#"{{"standardBeacons": [{beacon}], "virtualFields": [{{"name": "v", "parts": [{{"loc": "s", "trans": [{{"upper": 1}}]}}]}}]}}"#
            ),
            "search.versions[0].virtualFields[0].parts[0].trans[0].upper",
        ),
        (
            format!(
                r#"{{"standardBeacons": [{beacon}], "virtualFields": [{{"name": "v", "parts": [{{"loc": "s", "trans": [{{"segment": {{"split": "."}}}}]}}]}}]}}"#
            ),
            "search.versions[0].virtualFields[0].parts[0].trans[0].segment.index",
        ),
        // Valid JSON, refused by the DB-ESDK rules: a beacon on a signed-only attribute.
        (r#"{"standardBeacons": [{"Name": "s", "Length": 8}]}"#.to_owned(), "search.versions[0]"),
    ];
    for (version, path) in cases {
        assert_eq!(invalid_at(&with(&version)), path, "{version}");
    }
    match parse(&with(r#"{"standardBeacons": [{"Name": "s", "Length": 8}]}"#)) {
        Err(ConfigJsonError::Beacon { source, .. })
            if matches!(*source, BeaconError::Config(ConfigError::NameIsConfiguredAttribute { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        invalid_at(&format!(
            r#"{{"attributeActionsOnEncrypt": {{"a": "ENCRYPT_AND_SIGN"}}, "search": {{"writeVersion": 2, "versions": [{{"standardBeacons": [{beacon}]}}]}}}}"#
        )),
        "search.writeVersion"
    );
}
