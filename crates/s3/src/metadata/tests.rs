//! Parser tests: each format, each misplaced or mixed key, each malformed value.

use super::*;
use crate::error::SecurityError;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

fn v2_kms() -> BTreeMap<String, String> {
    map(&[
        ("x-amz-key-v2", &b64(&[9; 40])),
        ("x-amz-iv", &b64(&[4; 12])),
        ("x-amz-matdesc", r#"{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","tenant":"acme"}"#),
        ("x-amz-wrap-alg", "kms+context"),
        ("x-amz-cek-alg", "AES/GCM/NoPadding"),
        ("x-amz-tag-len", "128"),
        ("x-amz-unencrypted-content-length", "17"),
    ])
}

fn v3_raw() -> BTreeMap<String, String> {
    map(&[
        ("x-amz-c", "115"),
        ("x-amz-3", &b64(&[9; 60])),
        ("x-amz-w", "02"),
        ("x-amz-m", r#"{"owner":"ops"}"#),
        ("x-amz-d", &b64(&[2; 28])),
        ("x-amz-i", &b64(&[1; 28])),
    ])
}

/// A base metadata map, a key, and the value to set there (`None`: remove the key).
type Case = (fn() -> BTreeMap<String, String>, &'static str, Option<&'static str>);

fn object(metadata: &BTreeMap<String, String>) -> Result<ContentMetadata> {
    match ContentMetadata::locate(metadata)? {
        MetadataLocation::Object(parsed) => Ok(parsed),
        other => panic!("expected object metadata, got {other:?}"),
    }
}

fn security(result: Result<impl std::fmt::Debug>) -> SecurityError {
    match result {
        Err(Error::Security(error)) => error,
        other => panic!("expected a security error, got {other:?}"),
    }
}

#[test]
fn reads_v2_kms() {
    let parsed = object(&v2_kms()).unwrap();
    assert_eq!(parsed.version(), FormatVersion::V2);
    assert_eq!(parsed.content(), &ContentParams::Gcm { iv: [4; 12] });
    assert_eq!(parsed.wrap(), Some(WrapAlgorithm::KmsContext));
    assert_eq!(parsed.description().entries()["tenant"], "acme");
    assert!(matches!(parsed.description(), KeyDescription::EncryptionContext(_)));
    assert_eq!(parsed.unencrypted_content_length(), Some(17));
    assert_eq!(parsed.to_object_metadata(), v2_kms(), "written back byte for byte");
}

#[test]
fn reads_v2_without_tag_length_as_python_writes_it() {
    let mut metadata = v2_kms();
    metadata.remove("x-amz-tag-len");
    metadata.remove("x-amz-unencrypted-content-length");
    assert_eq!(object(&metadata).unwrap().suite(), ContentSuite::AesGcm);
}

#[test]
fn reads_v3_raw_and_other_user_metadata_is_ignored() {
    let mut metadata = v3_raw();
    metadata.insert("color".into(), "blue".into());
    let parsed = object(&metadata).unwrap();
    assert_eq!(parsed.version(), FormatVersion::V3);
    assert_eq!(parsed.content(), &ContentParams::Committing { message_id: [1; 28], commitment: [2; 28] });
    assert_eq!(parsed.wrap(), Some(WrapAlgorithm::AesGcm));
    assert_eq!(parsed.description(), &KeyDescription::MaterialDescription(map(&[("owner", "ops")])));
    assert_eq!(parsed.to_object_metadata(), v3_raw());
}

#[test]
fn v3_descriptions_default_to_empty() {
    let mut metadata = v3_raw();
    metadata.remove("x-amz-m");
    assert!(object(&metadata).unwrap().description().entries().is_empty());
}

#[test]
fn reads_v1_cbc_and_v1_kms() {
    let metadata = map(&[("x-amz-key", &b64(&[9; 48])), ("x-amz-iv", &b64(&[3; 16])), ("x-amz-matdesc", "{}")]);
    let parsed = object(&metadata).unwrap();
    assert_eq!(
        (parsed.version(), parsed.suite(), parsed.wrap()),
        (FormatVersion::V1, ContentSuite::AesCbcLegacy, Some(WrapAlgorithm::AesEcbLegacy))
    );
    // No recorded wrap: a key longer than 48 bytes is RSA's, as the Java client infers.
    let rsa = map(&[("x-amz-key", &b64(&[9; 256])), ("x-amz-iv", &b64(&[3; 16]))]);
    assert_eq!(object(&rsa).unwrap().wrap(), Some(WrapAlgorithm::RsaPkcs1Legacy));
    // V2 CBC objects of "encryption only" clients record no wrap either.
    let v2_cbc = map(&[
        ("x-amz-key-v2", &b64(&[9; 48])),
        ("x-amz-iv", &b64(&[3; 16])),
        ("x-amz-cek-alg", "AES/CBC/PKCS5Padding"),
        ("x-amz-matdesc", "{}"),
    ]);
    assert_eq!(object(&v2_cbc).unwrap().wrap(), Some(WrapAlgorithm::AesEcbLegacy));
    let mut v2_gcm = v2_cbc.clone();
    v2_gcm.insert("x-amz-cek-alg".into(), "AES/GCM/NoPadding".into());
    v2_gcm.insert("x-amz-iv".into(), b64(&[3; 12]));
    assert!(matches!(ContentMetadata::locate(&v2_gcm), Err(Error::Malformed { key: "x-amz-wrap-alg", .. })));
    let kms = map(&[
        ("x-amz-key", &b64(&[9; 48])),
        ("x-amz-iv", &b64(&[3; 16])),
        ("x-amz-matdesc", r#"{"kms_cmk_id":"arn:aws:kms:us-east-1:111122223333:key/k"}"#),
    ]);
    assert_eq!(object(&kms).unwrap().wrap(), Some(WrapAlgorithm::KmsLegacy));
}

#[test]
fn mixed_versions_are_security_errors() {
    for (base, foreign) in [
        (v2_kms(), ("x-amz-3", "AAAA")),
        (v2_kms(), ("x-amz-key", "AAAA")),
        (v2_kms(), ("x-amz-d", "AAAA")),
        (v3_raw(), ("x-amz-key-v2", "AAAA")),
        (v3_raw(), ("x-amz-iv", "AAAA")),
        (v3_raw(), ("x-amz-matdesc", "{}")),
        (v3_raw(), ("x-amz-wrap-alg", "AES/GCM")),
        (v3_raw(), ("x-amz-unencrypted-content-length", "1")),
    ] {
        let mut metadata = base;
        metadata.insert(foreign.0.into(), foreign.1.into());
        assert!(
            matches!(security(ContentMetadata::locate(&metadata)), SecurityError::MixedFormats { .. }),
            "{foreign:?}"
        );
    }
    let v1_with_v2 = map(&[("x-amz-key", "AAAA"), ("x-amz-iv", "AAAA"), ("x-amz-cek-alg", "AES/GCM/NoPadding")]);
    assert!(matches!(security(ContentMetadata::locate(&v1_with_v2)), SecurityError::MixedFormats { .. }));
}

#[test]
fn unknown_or_misversioned_algorithms_are_security_errors() {
    let cases: [Case; 7] = [
        (v2_kms, "x-amz-wrap-alg", Some("kms+ctx")),
        (v2_kms, "x-amz-cek-alg", Some("AES/CTR/NoPadding")),
        (v2_kms, "x-amz-cek-alg", Some("115")),
        (v2_kms, "x-amz-tag-len", Some("96")),
        (v3_raw, "x-amz-c", Some("AES/GCM/NoPadding")),
        (v3_raw, "x-amz-w", Some("AES/GCM")),
        (v3_raw, "x-amz-w", Some("99")),
    ];
    for (base, key, value) in cases {
        let value = value.unwrap_or_default();
        let mut metadata = base();
        metadata.insert(key.into(), value.into());
        assert!(
            matches!(security(ContentMetadata::locate(&metadata)), SecurityError::UnknownAlgorithm { .. }),
            "{key}={value}"
        );
    }
}

#[test]
fn malformed_values_name_their_key() {
    let cases: [Case; 12] = [
        (v2_kms, "x-amz-iv", Some("not base64!")),
        (v2_kms, "x-amz-iv", Some("AAAA")),
        (v2_kms, "x-amz-key-v2", Some("")),
        (v2_kms, "x-amz-matdesc", Some("[]")),
        (v2_kms, "x-amz-matdesc", Some(r#"{"a":"1","a":"2"}"#)),
        (v2_kms, "x-amz-unencrypted-content-length", Some("-1")),
        (v2_kms, "x-amz-wrap-alg", None),
        (v3_raw, "x-amz-d", Some("AAAA")),
        (v3_raw, "x-amz-i", None),
        (v3_raw, "x-amz-t", Some("{}")),
        (v3_raw, "x-amz-c", None),
        (v3_raw, "x-amz-m", Some(r#"{"n":1}"#)),
    ];
    for (base, key, value) in cases {
        let mut metadata = base();
        match value {
            Some(value) => metadata.insert(key.into(), value.into()),
            None => metadata.remove(key),
        };
        match ContentMetadata::locate(&metadata) {
            Err(Error::Malformed { key: named, .. }) => assert_eq!(named, key, "{key}={value:?}"),
            other => panic!("{key}={value:?}: expected a malformed error, got {other:?}"),
        }
    }
}

#[test]
fn v3_instruction_file_round_trip() {
    let metadata = object(&v3_raw()).unwrap();
    let (object_part, file) = metadata.to_instruction_file();
    assert_eq!(object_part.keys().map(String::as_str).collect::<Vec<_>>(), ["x-amz-c", "x-amz-d", "x-amz-i"]);
    let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part).unwrap() else {
        panic!("x-amz-3 is in the file")
    };
    assert_eq!(pending.complete(&file).unwrap(), metadata);
}

#[test]
fn v3_instruction_file_may_not_hold_object_keys() {
    let metadata = object(&v3_raw()).unwrap();
    let (object_part, file) = metadata.to_instruction_file();
    let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part).unwrap() else { panic!() };
    let mut entries = json_map::parse(&file).unwrap();
    for key in ["x-amz-c", "x-amz-d", "x-amz-i"] {
        let mut forged = entries.clone();
        forged.insert(key.into(), object_part[key].clone());
        let error = security(pending.complete(&json_map::write(&forged)));
        assert_eq!(error, SecurityError::InstructionFileTampered { key });
    }
    // V2 keys in a V3 file: mixed.
    entries.insert("x-amz-iv".into(), b64(&[0; 12]));
    assert!(matches!(security(pending.complete(&json_map::write(&entries))), SecurityError::MixedFormats { .. }));
}

#[test]
fn v3_object_part_must_be_whole() {
    let mut part = map(&[("x-amz-c", "115"), ("x-amz-d", &b64(&[2; 28]))]);
    assert!(matches!(ContentMetadata::locate(&part), Err(Error::Malformed { key: "x-amz-i", .. })));
    part.insert("x-amz-w".into(), "02".into());
    assert!(matches!(ContentMetadata::locate(&part), Err(Error::Malformed { key: "x-amz-3", .. })));
}

#[test]
fn v2_instruction_file_holds_everything() {
    let metadata = object(&v2_kms()).unwrap();
    let (object_part, file) = metadata.to_instruction_file();
    // Only the length stays with the object (the Python client refuses files holding it).
    assert_eq!(object_part, map(&[("x-amz-unencrypted-content-length", "17")]));
    assert!(!file.contains("x-amz-unencrypted-content-length"));
    let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part).unwrap() else { panic!() };
    assert_eq!(pending.complete(&file).unwrap(), metadata);
    // Older writers kept it in the file: read from there, and a contradiction is malformed.
    let mut with_length = json_map::parse(&file).unwrap();
    with_length.insert("x-amz-unencrypted-content-length".into(), "17".into());
    let MetadataLocation::InstructionFile(empty) = ContentMetadata::locate(&map(&[])).unwrap() else { panic!() };
    assert_eq!(empty.complete(&json_map::write(&with_length)).unwrap(), metadata);
    with_length.insert("x-amz-unencrypted-content-length".into(), "18".into());
    assert!(matches!(
        pending.complete(&json_map::write(&with_length)),
        Err(Error::Malformed { key: "x-amz-unencrypted-content-length", .. })
    ));
    // A V3 key pasted into a V2 file is mixing; c/d/i in any file are tampering.
    let mut entries = json_map::parse(&file).unwrap();
    entries.insert("x-amz-i".into(), b64(&[1; 28]));
    assert!(matches!(
        security(pending.complete(&json_map::write(&entries))),
        SecurityError::InstructionFileTampered { key: "x-amz-i" }
    ));
    assert!(pending.complete("not json").is_err());
    assert!(pending.complete(r#"{"x-amz-key-v2":5}"#).is_err(), "string values only");
    assert!(pending.complete("{}").is_err(), "an empty file has no data key");
}

#[test]
fn an_object_with_an_iv_but_no_key_is_malformed() {
    let metadata = map(&[("x-amz-iv", &b64(&[4; 12]))]);
    assert!(matches!(ContentMetadata::locate(&metadata), Err(Error::Malformed { .. })));
}

/// What S3 returns for a header whose UTF-8 bytes were `original` (RFC 2047 over ISO-8859-1).
fn s3_double_encoded(original: &str) -> String {
    let once: String = original.bytes().map(char::from).collect();
    format!("=?UTF-8?B?{}?=", b64(once.as_bytes()))
}

#[test]
fn non_ascii_descriptions_are_decoded_on_read_and_written_as_ascii() {
    let owner = map(&[("owner", "équipe"), ("中", "文")]);
    let raw_json = r#"{"owner":"équipe","中":"文"}"#;
    let escaped_json = r#"{"owner":"\u00e9quipe","\u4e2d":"\u6587"}"#;
    // As S3 returns it (double encoded), as a server that passes UTF-8 through returns it, and as
    // JSON escapes: the same description.
    for stored in [s3_double_encoded(raw_json), raw_json.to_owned(), escaped_json.to_owned()] {
        let mut metadata = v3_raw();
        metadata.insert("x-amz-m".into(), stored.clone());
        let parsed = object(&metadata).unwrap();
        assert_eq!(parsed.description().entries(), &owner, "{stored}");
        let written = parsed.to_object_metadata();
        assert!(written.values().all(|value| value.is_ascii()), "{written:?}");
        assert_eq!(object(&written).unwrap(), parsed);
    }
    let mut v2 = v2_kms();
    v2.insert(
        "x-amz-matdesc".into(),
        s3_double_encoded(r#"{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","pays":"España"}"#),
    );
    assert_eq!(object(&v2).unwrap().description().entries()["pays"], "España");
    let mut broken = v3_raw();
    broken.insert("x-amz-m".into(), "=?UTF-8?B?***?=".into());
    assert!(matches!(ContentMetadata::locate(&broken), Err(Error::Malformed { key: "x-amz-m", .. })));
}
