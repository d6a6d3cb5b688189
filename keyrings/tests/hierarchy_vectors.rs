//! The hierarchical keyring against the Material Providers Library's keyring-level vectors
//! (test-vectors/hierarchy/mpl-keyring-decrypt-hierarchy.json; source and sha256 in
//! test-vectors/README.md): 13 EDKs written by the MPL under `static-branch-key-1`, one per suite.
//!
//! All 13 go through `HierarchicalKeyring::on_decrypt`: the 11 ESDK suites (direct wrapping) and
//! the DB-ESDK suites 0x6700/0x6701, whose EDKs only unwrap with intermediate key wrapping; for
//! those the symmetric signing key the keyring derives must equal the MPL's too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use envelope::blocking::BlockingClient;
use envelope::error::{Error, PolicyViolation};
use envelope::suite::EdkWrapping;
use envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, DecryptionMaterials, DecryptionMaterialsRequest,
    DefaultMaterialsManager, EncryptOptions, EncryptedDataKey, EncryptionContext, EncryptionMaterialsRequest, Keyring,
    MaterialsManager, MultiKeyring, VerificationKey,
};
use envelope_keyrings::RawAesKeyring;
use envelope_keyrings::hierarchy::{
    BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore, intermediate,
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
    let (mut direct, mut intermediate_wrapped) = (0, 0);
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

        let suite = AlgorithmSuite::from_id(suite_id).unwrap_or_else(|| panic!("{name}: unknown suite {suite_id:04x}"));
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
        match suite.edk_wrapping() {
            EdkWrapping::Direct => {
                assert!(done.symmetric_signing_key().is_none(), "{name}");
                direct += 1;
            }
            EdkWrapping::Intermediate => {
                assert!(matches!(suite_id, 0x6700 | 0x6701), "{name}");
                let signing_key = done.symmetric_signing_key().unwrap_or_else(|| panic!("{name}: no signing key"));
                assert_eq!(signing_key.expose_secret(), &b64(&test["result"]["symmetricSigningKey"])[..], "{name}");
                intermediate_wrapped += 1;
            }
        }
    }
    assert_eq!((direct, intermediate_wrapped), (11, 2));
}

#[test]
fn intermediate_wrapping_round_trips() {
    let derived = intermediate::derive(&[5; 32]).unwrap();
    let wrapped = intermediate::wrap(&derived, &[9; 32], b"ctx").unwrap();
    assert_eq!(wrapped.len(), 48);
    assert_eq!(&intermediate::unwrap(&derived, &wrapped, b"ctx").unwrap().unwrap()[..], &[9; 32]);
    assert!(intermediate::unwrap(&derived, &wrapped, b"other").unwrap().is_none());
}

fn keyring_over_static_branch_key_1() -> HierarchicalKeyring {
    let (store, branch_key_id) = static_store(&read_json("keys.json"), "static-branch-key-1");
    HierarchicalKeyring::builder(store).branch_key_id(branch_key_id).ttl(Duration::from_secs(60)).build().unwrap()
}

/// Materials for the DB-ESDK suites are built and taken apart by the default materials manager
/// over the hierarchical keyring: one symmetric signing key per EDK on encrypt, and the reader
/// derives the same key from the EDK.
#[tokio::test]
async fn db_esdk_materials_round_trip_through_the_default_materials_manager() {
    let cmm = DefaultMaterialsManager::new(keyring_over_static_branch_key_1());
    let policy = CommitmentPolicy::DbeRequireEncryptRequireDecrypt;
    for suite in AlgorithmSuite::DB_ESDK {
        let context = EncryptionContext::from([("table", "orders")]);
        let request = EncryptionMaterialsRequest::new(context, policy).with_algorithm_suite(Some(suite));
        let written = cmm.encryption_materials(request).await.unwrap_or_else(|e| panic!("{suite}: {e}"));
        let edks = written.encrypted_data_keys().to_vec();
        assert_eq!((edks.len(), written.symmetric_signing_keys().len()), (1, 1), "{suite}");
        assert_eq!(edks[0].ciphertext.len(), 48 + 92, "{suite}: encrypted data key, then the wrapped intermediate key");

        let request = DecryptionMaterialsRequest::new(suite, policy, edks, written.encryption_context().clone(), None);
        let read = cmm.decryption_materials(request).await.unwrap_or_else(|e| panic!("{suite}: {e}"));
        assert_eq!(read.data_key().unwrap().expose_secret(), written.data_key().unwrap().expose_secret());
        assert_eq!(
            read.symmetric_signing_key().unwrap().expose_secret(),
            written.symmetric_signing_keys()[0].expose_secret(),
            "{suite}"
        );
    }
    // The policy's default suite is the signed one, as in the DB-ESDK.
    let request = EncryptionMaterialsRequest::new(EncryptionContext::new(), policy);
    let written = cmm.encryption_materials(request).await.unwrap();
    assert_eq!(written.suite().id(), 0x6701);
    assert!(written.signing_key().is_some());
}

/// The other keyrings do not implement intermediate key wrapping: they refuse the DB-ESDK suites
/// by name, and a multi-keyring mixing one in is refused too.
#[tokio::test]
async fn keyrings_without_intermediate_wrapping_refuse_the_db_esdk_suites() {
    let policy = CommitmentPolicy::DbeRequireEncryptRequireDecrypt;
    let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    let raw = || RawAesKeyring::new("my-app", "key-1", vec![7; 32]).unwrap();
    let request =
        || EncryptionMaterialsRequest::new(EncryptionContext::new(), policy).with_algorithm_suite(Some(suite));

    let error = DefaultMaterialsManager::new(raw()).encryption_materials(request()).await.unwrap_err();
    assert!(error.to_string().contains("raw AES keyring does not implement intermediate key wrapping"), "{error}");

    let decrypt = DecryptionMaterialsRequest::new(suite, policy, Vec::new(), EncryptionContext::new(), None);
    let error = DefaultMaterialsManager::new(raw()).decryption_materials(decrypt).await.unwrap_err();
    assert!(error.to_string().contains("intermediate key wrapping"), "{error}");

    let generator: Arc<dyn Keyring> = Arc::new(keyring_over_static_branch_key_1());
    let mixed = MultiKeyring::new(Some(generator), vec![Arc::new(raw())]).unwrap();
    let error = DefaultMaterialsManager::new(mixed).encryption_materials(request()).await.unwrap_err();
    assert!(error.to_string().contains("intermediate key wrapping"), "{error}");
}

/// ESDK messages never use the DB-ESDK suites: asking for one, a client configured with the
/// DB-ESDK policy, and a header naming one each fail with a typed error.
#[test]
fn esdk_messages_refuse_the_db_esdk_suites() {
    let client = BlockingClient::new(Client::with_keyring(keyring_over_static_branch_key_1()));
    for suite in AlgorithmSuite::DB_ESDK {
        let options = EncryptOptions::new().algorithm_suite(suite);
        match client.encrypt(b"item", &options) {
            Err(Error::Policy(PolicyViolation::NotAMessageSuite { suite: id })) => assert_eq!(id, suite.id()),
            other => panic!("{suite}: expected NotAMessageSuite, got {other:?}"),
        }
    }
    let dbe_policy = BlockingClient::new(
        Client::with_keyring(keyring_over_static_branch_key_1())
            .commitment_policy(CommitmentPolicy::DbeRequireEncryptRequireDecrypt),
    );
    assert!(matches!(
        dbe_policy.encrypt(b"item", &EncryptOptions::new()),
        Err(Error::Policy(PolicyViolation::NotAMessageSuite { suite: 0x6701 }))
    ));

    // A v2 message whose header names 0x6700 instead of 0x0478.
    let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let mut message = client.encrypt(b"item", &options).unwrap();
    assert_eq!(message[1..3], [0x04, 0x78]);
    message[1..3].copy_from_slice(&[0x67, 0x00]);
    match client.decrypt(&message, &DecryptOptions::new()) {
        Err(error @ Error::Malformed(_)) => assert!(error.to_string().contains("DB-ESDK suite"), "{error}"),
        other => panic!("expected a malformed header, got {other:?}"),
    }
}
