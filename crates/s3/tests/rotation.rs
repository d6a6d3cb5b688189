//! Instruction-file key rotation (`rotation::rewrap_instruction_file`) with raw keys: every
//! pair of old and new keyring, V3 and V2, and the refusals.

use std::collections::BTreeMap;
use std::sync::Arc;

use envelope_keyrings::RsaPrivateKey;
use envelope_s3::error::{Error, SecurityError};
use envelope_s3::rotation::rewrap_instruction_file;
use envelope_s3::wrap::{AesGcmKeyring, RsaOaepKeyring, S3Keyring};
use envelope_s3::{CommitmentPolicy, ContentMetadata, MetadataLocation, ObjectCrypto, WrapAlgorithm};

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn description(value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("key".to_string(), value.to_string())])
}

fn complete(object_part: &BTreeMap<String, String>, file: &str) -> envelope_s3::Result<ContentMetadata> {
    match ContentMetadata::locate(object_part)? {
        MetadataLocation::InstructionFile(pending) => pending.complete(file),
        MetadataLocation::Object(_) => panic!("the data key is in the instruction file"),
    }
}

fn reader(keyring: Arc<dyn S3Keyring>) -> ObjectCrypto {
    ObjectCrypto::with_keyring(keyring).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

#[tokio::test]
async fn every_raw_keyring_pair_rotates_v3_and_v2() {
    let private_key = RsaPrivateKey::generate(2048).unwrap();
    let aes_a: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![1; 32], description("a")).unwrap());
    let aes_b: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![2; 16], description("b")).unwrap());
    let rsa: Arc<dyn S3Keyring> =
        Arc::new(RsaOaepKeyring::new(Some(private_key.public_key()), Some(&private_key), description("rsa")).unwrap());
    for (old, new, expected) in [
        (&aes_a, &aes_b, WrapAlgorithm::AesGcm),
        (&aes_a, &rsa, WrapAlgorithm::RsaOaepSha1),
        (&rsa, &aes_a, WrapAlgorithm::AesGcm),
    ] {
        for policy in [CommitmentPolicy::RequireEncryptRequireDecrypt, CommitmentPolicy::ForbidEncryptAllowDecrypt] {
            let writer = ObjectCrypto::with_keyring(old.clone()).commitment_policy(policy);
            let object = writer.encrypt(b"rotated".to_vec(), &no_context()).await.unwrap();
            let (object_part, file) = object.metadata.to_instruction_file();
            let new_file =
                rewrap_instruction_file(&object_part, &file, old.as_ref(), new.as_ref(), &no_context()).await.unwrap();
            let rotated = complete(&object_part, &new_file).unwrap();
            assert_eq!(rotated.wrap(), Some(expected));
            assert_eq!(rotated.content(), object.metadata.content(), "the content parameters stay");
            let plaintext = reader(new.clone()).decrypt(&rotated, object.body.clone(), &no_context()).await.unwrap();
            assert_eq!(plaintext, b"rotated", "{expected} {policy:?}");
            assert!(reader(old.clone()).decrypt(&rotated, object.body, &no_context()).await.is_err());
        }
    }
}

#[tokio::test]
async fn a_file_carrying_another_objects_key_fails_the_commitment() {
    let keyring: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![1; 32], description("a")).unwrap());
    let new: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![2; 32], description("b")).unwrap());
    let writer = ObjectCrypto::with_keyring(keyring.clone());
    let first = writer.encrypt(b"first".to_vec(), &no_context()).await.unwrap();
    let second = writer.encrypt(b"second".to_vec(), &no_context()).await.unwrap();
    let (first_part, _) = first.metadata.to_instruction_file();
    let (_, second_file) = second.metadata.to_instruction_file();
    let error = rewrap_instruction_file(&first_part, &second_file, keyring.as_ref(), new.as_ref(), &no_context())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)), "{error}");
}

#[tokio::test]
async fn refusals_return_no_file() {
    let keyring: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![1; 32], description("a")).unwrap());
    let other: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![3; 32], description("a")).unwrap());
    let object = ObjectCrypto::with_keyring(keyring.clone()).encrypt(b"x".to_vec(), &no_context()).await.unwrap();
    // Metadata in the object: nothing to rotate without rewriting it.
    let whole = object.metadata.to_object_metadata();
    let error = rewrap_instruction_file(&whole, "{}", keyring.as_ref(), other.as_ref(), &no_context()).await;
    assert!(matches!(error, Err(Error::Usage(_))));
    // The old keyring cannot open the wrap.
    let (object_part, file) = object.metadata.to_instruction_file();
    let error = rewrap_instruction_file(&object_part, &file, other.as_ref(), keyring.as_ref(), &no_context()).await;
    assert!(matches!(error, Err(Error::Keyring(_))));
    // A raw new keyring refuses a KMS-style context, so no context is silently dropped.
    let context = BTreeMap::from([("tenant".to_string(), "acme".to_string())]);
    let error = rewrap_instruction_file(&object_part, &file, keyring.as_ref(), other.as_ref(), &context).await;
    assert!(matches!(error, Err(Error::Usage(_))));
    // A tampered file is refused before any key is used.
    let forged = file.replacen('{', &format!(r#"{{"x-amz-d":"{}","#, object_part["x-amz-d"]), 1);
    let error = rewrap_instruction_file(&object_part, &forged, keyring.as_ref(), other.as_ref(), &no_context()).await;
    assert!(matches!(error, Err(Error::Security(SecurityError::InstructionFileTampered { .. }))));
}
