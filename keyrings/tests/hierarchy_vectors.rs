//! The hierarchical keyring against the Material Providers Library's keyring-level vectors
//! (test-vectors/hierarchy/mpl-keyring-decrypt-hierarchy.json; source and sha256 in
//! test-vectors/README.md): 13 EDKs written by the MPL under `static-branch-key-1`, one per suite.
//!
//! The 11 ESDK suites go through `HierarchicalKeyring::on_decrypt`. The DB-ESDK suites
//! 0x6700/0x6701 are not in the message core yet: their EDKs are unwrapped with the same wrapping
//! functions plus `hierarchy::intermediate`, and the symmetric signing key is checked too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptedDataKey, EncryptionContext, Keyring, VerificationKey};
use envelope_keyrings::hierarchy::key_store::{format_version, KeyStore};
use envelope_keyrings::hierarchy::{
    intermediate, wrapping, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore,
};
use serde_json::Value;

fn read_json(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/hierarchy").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn b64(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap()).unwrap()
}

/// The store the MPL's harness builds from a `static-branch-key` entry.
fn static_store(keys: &Value, name: &str) -> (StaticKeyStore, String) {
    let entry = &keys["keys"][name];
    assert_eq!(entry["type"], "static-branch-key");
    let id = entry["key-id"].as_str().unwrap().to_owned();
    let key = BranchKeySecret::from_slice(&b64(&entry["branchKey"])).unwrap();
    let materials =
        BranchKeyMaterials::new(&id, entry["branchKeyVersion"].as_str().unwrap(), BTreeMap::new(), key).unwrap();
    let mut store = StaticKeyStore::new("static");
    store.add_branch_key(materials, true).unwrap();
    (store, id)
}

fn context_of(test: &Value) -> EncryptionContext {
    test["encryptionContext"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_mpl_keyring_vectors_unwrap_to_their_data_keys() {
    let manifest = read_json("mpl-keyring-decrypt-hierarchy.json");
    let keys = read_json("keys.json");
    assert_eq!(manifest["manifest"]["type"], "awses-mpl-decrypt");
    let tests = manifest["tests"].as_object().unwrap();
    assert_eq!(tests.len(), 13);
    let (mut through_keyring, mut intermediate_wrapped) = (0, 0);
    for (name, test) in tests {
        assert_eq!(test["keyDescription"]["type"], "aws-kms-hierarchy", "{name}");
        let (store, branch_key_id) = static_store(&keys, test["keyDescription"]["key"].as_str().unwrap());
        let suite_id = u16::from_str_radix(test["algorithmSuiteId"].as_str().unwrap(), 16).unwrap();
        let context = context_of(test);
        let edks: Vec<EncryptedDataKey> = test["encryptedDataKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edk| {
                EncryptedDataKey::new(
                    edk["keyProviderId"].as_str().unwrap(),
                    b64(&edk["keyProviderInfo"]),
                    b64(&edk["ciphertext"]),
                )
            })
            .collect();
        let expected = b64(&test["result"]["plaintextDataKey"]);

        if let Some(suite) = AlgorithmSuite::from_id(suite_id) {
            let verification = suite.signature().map(|algorithm| {
                VerificationKey::from_context_value(algorithm, &context["aws-crypto-public-key"]).unwrap()
            });
            let materials = DecryptionMaterials::new(suite, context, Vec::new(), verification).unwrap();
            let keyring = HierarchicalKeyring::builder(store)
                .branch_key_id(branch_key_id)
                .ttl(Duration::from_secs(11))
                .build()
                .unwrap();
            let done = keyring.on_decrypt(materials, &edks).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(done.data_key().unwrap().expose_secret(), &expected[..], "{name}");
            through_keyring += 1;
        } else {
            // 0x6700 / 0x6701: 32-byte data keys under intermediate-key wrapping.
            assert!(matches!(suite_id, 0x6700 | 0x6701), "{name}: unexpected suite {suite_id:04x}");
            let serialized = envelope::serialize_encryption_context(&context).unwrap();
            let edk = &edks[0];
            let (encrypted_pdk, wrapped_ik) = intermediate::split(&edk.ciphertext, 32).unwrap();
            let parsed = wrapping::parse(wrapped_ik, intermediate::INTERMEDIATE_KEY_LEN).unwrap();
            let branch_key =
                store.get_branch_key_version(&branch_key_id, &format_version(parsed.version)).await.unwrap();
            let derivation = wrapping::DerivationKey::new(branch_key.key());
            let ik = wrapping::unwrap(&derivation, &branch_key_id, &parsed, &serialized).unwrap().unwrap();
            let derived = intermediate::derive(&ik).unwrap();
            let data_key = intermediate::unwrap(&derived, encrypted_pdk, &serialized).unwrap().unwrap();
            assert_eq!(&data_key[..], &expected[..], "{name}");
            assert_eq!(&derived.signing_key[..], &b64(&test["result"]["symmetricSigningKey"])[..], "{name}");
            intermediate_wrapped += 1;
        }
    }
    assert_eq!((through_keyring, intermediate_wrapped), (11, 2));
}

#[test]
fn intermediate_wrapping_round_trips() {
    let derived = intermediate::derive(&[5; 32]).unwrap();
    let wrapped = intermediate::wrap(&derived, &[9; 32], b"ctx").unwrap();
    assert_eq!(wrapped.len(), 48);
    assert_eq!(&intermediate::unwrap(&derived, &wrapped, b"ctx").unwrap().unwrap()[..], &[9; 32]);
    assert!(intermediate::unwrap(&derived, &wrapped, b"other").unwrap().is_none());
}
