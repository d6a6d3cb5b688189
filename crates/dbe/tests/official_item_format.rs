//! The item format against items the official Java and .NET DB-ESDKs wrote
//! (`test-vectors/dbesdk/`, see its README): every `aws_dbe_head` parses to the version, suite and
//! legend the manifests document and re-serializes byte for byte, every `aws_dbe_foot` has the
//! length its header implies, and every plaintext value stored by a signed-only attribute is
//! already in our canonical form (so our serialization agrees with theirs).
//!
//! Decrypting these items is the next step; this test pins the byte layouts first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use envelope::AlgorithmSuite;
use envelope_dbe::item::{AttributeValue, CryptoAction, FOOTER_ATTRIBUTE, Footer, HEADER_ATTRIBUTE, Header, TypeId};
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk")
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

/// DynamoDB JSON (strict tagged form, as `encrypted` uses) to our model.
fn attribute(json: &Value) -> AttributeValue {
    let object = json.as_object().expect("tagged value");
    assert_eq!(object.len(), 1, "one type tag: {json}");
    let (tag, inner) = object.iter().next().expect("one member");
    let strings = || inner.as_array().expect("array").iter().map(|m| m.as_str().expect("string").to_owned());
    match tag.as_str() {
        "S" => AttributeValue::S(inner.as_str().expect("S").to_owned()),
        "N" => AttributeValue::N(inner.as_str().expect("N").to_owned()),
        "B" => AttributeValue::B(b64(inner.as_str().expect("B"))),
        "BOOL" => AttributeValue::Bool(inner.as_bool().expect("BOOL")),
        "NULL" => AttributeValue::Null,
        "SS" => AttributeValue::Ss(strings().collect()),
        "NS" => AttributeValue::Ns(strings().collect()),
        "BS" => AttributeValue::Bs(strings().map(|s| b64(&s)).collect()),
        "L" => AttributeValue::L(inner.as_array().expect("L").iter().map(attribute).collect()),
        "M" => {
            AttributeValue::M(inner.as_object().expect("M").iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
        other => panic!("unknown tag {other}"),
    }
}

fn item(json: &Value) -> BTreeMap<String, AttributeValue> {
    json.as_object().expect("item").iter().map(|(name, value)| (name.clone(), attribute(value))).collect()
}

fn binary(value: &AttributeValue) -> &[u8] {
    match value {
        AttributeValue::B(bytes) => bytes,
        other => panic!("expected B, got {other:?}"),
    }
}

/// (version, suite id, legend) per test name, from test-vectors/dbesdk/README.md.
fn documented(test: &str) -> (u8, u16, &'static str) {
    match test {
        "1" | "2" | "4" | "6" | "8" => (1, 0x6701, "ees"),
        "3" => (1, 0x6701, "sss"),
        "7" | "9" => (1, 0x6700, "ees"),
        "10" => (1, 0x6701, "ess"),
        "11" => (2, 0x6701, "eec"),
        "12" => (2, 0x6701, "cec"),
        "13" => (2, 0x6701, "ecc"),
        other => panic!("undocumented test {other}"),
    }
}

/// Canonical-path order of top-level attribute names: by UTF-8 length, then bytes.
fn canonical_order(names: &mut [&String]) {
    names.sort_by(|a, b| (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes())));
}

/// Checks one encrypted item; returns its header.
fn check_item(label: &str, encrypted: &BTreeMap<String, AttributeValue>) -> Header {
    let head = binary(&encrypted[HEADER_ATTRIBUTE]);
    let header = Header::parse(head).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(header.to_bytes().unwrap(), head, "{label}: header re-serializes");

    assert_eq!(header.encrypted_data_keys.len(), 1, "{label}");
    let edk = &header.encrypted_data_keys[0];
    assert_eq!(edk.provider_id, "aws-kms-hierarchy", "{label}");
    assert_eq!(edk.provider_info, b"bd3842ff-3076-4092-9918-4395730050b8", "{label}");
    assert_eq!(edk.ciphertext.len(), 140, "{label}");

    let signed = header.suite.id() == 0x6701;
    let stored_keys: Vec<&str> = header.encryption_context.keys().map(String::as_str).collect();
    assert_eq!(stored_keys, if signed { vec!["aws-crypto-public-key"] } else { vec![] }, "{label}");
    let foot = binary(&encrypted[FOOTER_ATTRIBUTE]);
    let footer = Footer::parse(foot, 1, signed).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(footer.to_bytes().unwrap(), foot, "{label}");

    // Every other attribute here is signed: the legend covers them in canonical-path order.
    let mut names: Vec<&String> = encrypted.keys().filter(|name| !name.starts_with("aws_dbe_")).collect();
    canonical_order(&mut names);
    assert_eq!(names.len(), header.legend.len(), "{label}: one legend byte per signed attribute");
    for (name, action) in names.into_iter().zip(&header.legend) {
        let value = &encrypted[name];
        match action {
            CryptoAction::EncryptAndSign => {
                // type id of the plaintext, then ciphertext and a 16-byte tag
                let bytes = binary(value);
                assert!(bytes.len() >= 18, "{label}/{name}");
                assert!(TypeId::from_bytes([bytes[0], bytes[1]]).is_some(), "{label}/{name}");
            }
            _ => {
                // Stored as written: our canonical form of it must parse back to the same value,
                // i.e. the official writer and our serializer agree on the bytes' meaning.
                let bytes = value.serialize().unwrap_or_else(|e| panic!("{label}/{name}: {e}"));
                let again = AttributeValue::deserialize(value.type_id(), &bytes).unwrap();
                assert_eq!(again.serialize().unwrap(), bytes, "{label}/{name}");
            }
        }
    }
    header
}

#[test]
fn official_headers_and_footers_parse_and_reserialize() {
    let mut checked = 0;
    for file in ["decrypt_java_32.json", "decrypt_dotnet_32.json", "decrypt_java_33.json", "decrypt_dotnet_33.json"] {
        let manifest: Value = serde_json::from_slice(&std::fs::read(vectors().join(file)).unwrap()).unwrap();
        for (test, record) in manifest["tests"].as_object().unwrap() {
            let label = format!("{file}#{test}");
            let header = check_item(&label, &item(&record["encrypted"]));
            let (version, suite, legend) = documented(test);
            assert_eq!(header.version, version, "{label}");
            assert_eq!(header.suite, AlgorithmSuite::from_id(suite).unwrap(), "{label}");
            let letters: String = header.legend.iter().map(|a| a.legend_byte().unwrap() as char).collect();
            assert_eq!(letters, legend, "{label}");
            checked += 1;
        }
    }
    assert_eq!(checked, 42, "the four manifests hold 42 records");
}

#[test]
fn all_ten_types_item_parses() {
    let iotest: Value = serde_json::from_slice(&std::fs::read(vectors().join("iotest.json")).unwrap()).unwrap();
    let tests = iotest["DecryptTests"].as_array().unwrap();
    assert_eq!(tests.len(), 2);
    let header = check_item("iotest#2", &item(&tests[1]["EncryptedRecords"][0]));
    let letters: String = header.legend.iter().map(|a| a.legend_byte().unwrap() as char).collect();
    assert_eq!(letters, "eseeeeseees");
}

#[test]
fn signed_only_list_holds_normalized_numbers() {
    // Test 10 stores its SIGN_ONLY list in plaintext: NS normalized and sorted, SS sorted only.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(vectors().join("decrypt_java_33.json")).unwrap()).unwrap();
    let encrypted = item(&manifest["tests"]["10"]["encrypted"]);
    let AttributeValue::L(parts) = &encrypted["Stuff"] else { panic!("Stuff is a list") };
    assert_eq!(parts[1], AttributeValue::Ns(vec!["0".into(), "0.0011".into(), "10.01".into(), "2000".into()]));
    let plaintext_ns = AttributeValue::Ns(vec!["00.0011".into(), "0000".into(), "2000.000".into(), "10.01".into()]);
    assert_eq!(plaintext_ns.serialize().unwrap(), parts[1].serialize().unwrap());
    let plaintext_ss = AttributeValue::Ss(vec!["2000.000".into(), "00.0011".into(), "10.01".into(), "0000".into()]);
    assert_eq!(plaintext_ss.serialize().unwrap(), parts[2].serialize().unwrap());
}
