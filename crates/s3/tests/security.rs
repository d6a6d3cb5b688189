//! One test per security rule of the format: each tampering is a typed `SecurityError`, never
//! plaintext; and the commitment-policy table of the official clients.

use std::collections::BTreeMap;

use base64::Engine as _;
use envelope_s3::error::{Error, PolicyViolation, SecurityError};
use envelope_s3::wrap::AesGcmKeyring;
use envelope_s3::{CommitmentPolicy, ContentMetadata, ContentSuite, FormatVersion, MetadataLocation, ObjectCrypto};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn crypto(policy: CommitmentPolicy) -> ObjectCrypto {
    ObjectCrypto::new(AesGcmKeyring::new(vec![0x42; 32], no_context()).unwrap()).commitment_policy(policy)
}

fn security<T: std::fmt::Debug>(result: envelope_s3::Result<T>) -> SecurityError {
    match result {
        Err(Error::Security(error)) => error,
        other => panic!("expected a security error, got {other:?}"),
    }
}

#[tokio::test]
async fn commitment_policy_table() {
    use CommitmentPolicy::*;
    let v2 = crypto(ForbidEncryptAllowDecrypt).encrypt(b"v2".to_vec(), &no_context()).await.unwrap();
    let v3 = crypto(RequireEncryptRequireDecrypt).encrypt(b"v3".to_vec(), &no_context()).await.unwrap();
    assert_eq!((v2.metadata.version(), v3.metadata.version()), (FormatVersion::V2, FormatVersion::V3));
    // (policy, suite written, reads V2)
    for (policy, writes, reads_v2) in [
        (ForbidEncryptAllowDecrypt, ContentSuite::AesGcm, true),
        (RequireEncryptAllowDecrypt, ContentSuite::AesGcmCommitting, true),
        (RequireEncryptRequireDecrypt, ContentSuite::AesGcmCommitting, false),
    ] {
        let client = crypto(policy);
        assert_eq!(client.suite(), writes, "{policy:?}");
        let written = client.encrypt(b"w".to_vec(), &no_context()).await.unwrap();
        assert_eq!(written.metadata.suite(), writes);
        assert_eq!(client.decrypt(&v3.metadata, v3.body.clone(), &no_context()).await.unwrap(), b"v3", "{policy:?}");
        let read_v2 = client.decrypt(&v2.metadata, v2.body.clone(), &no_context()).await;
        if reads_v2 {
            assert_eq!(read_v2.unwrap(), b"v2", "{policy:?}");
        } else {
            assert!(matches!(read_v2, Err(Error::Policy(PolicyViolation::Commitment { .. }))), "{policy:?}");
        }
        // The suite a policy forbids cannot be configured.
        let other = if writes.is_committing() { ContentSuite::AesGcm } else { ContentSuite::AesGcmCommitting };
        assert!(matches!(client.content_suite(other), Err(Error::Policy(PolicyViolation::Commitment { .. }))));
    }
}

#[tokio::test]
async fn keys_of_two_versions_are_a_security_error() {
    let v3 = crypto(CommitmentPolicy::default()).encrypt(b"x".to_vec(), &no_context()).await.unwrap();
    let mut stored = v3.metadata.to_object_metadata();
    stored.insert("x-amz-key-v2".into(), stored["x-amz-3"].clone());
    assert!(matches!(security(ContentMetadata::locate(&stored)), SecurityError::MixedFormats { .. }));
}

#[tokio::test]
async fn commitment_keys_inside_a_v3_instruction_file_are_a_security_error() {
    let v3 = crypto(CommitmentPolicy::default()).encrypt(b"x".to_vec(), &no_context()).await.unwrap();
    let (object_part, file) = v3.metadata.to_instruction_file();
    let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part).unwrap() else {
        panic!("the data key is in the file")
    };
    for key in ["x-amz-c", "x-amz-d", "x-amz-i"] {
        let forged = file.replacen('{', &format!(r#"{{"{key}":"{}","#, object_part[key]), 1);
        assert_eq!(security(pending.complete(&forged)), SecurityError::InstructionFileTampered { key }, "{key}");
    }
}

#[tokio::test]
async fn a_wrong_commitment_is_refused_before_any_decryption() {
    let client = crypto(CommitmentPolicy::default());
    let v3 = client.encrypt(b"committed".to_vec(), &no_context()).await.unwrap();
    let mut stored = v3.metadata.to_object_metadata();
    let mut commitment = BASE64.decode(&stored["x-amz-d"]).unwrap();
    commitment[27] ^= 1;
    stored.insert("x-amz-d".into(), BASE64.encode(&commitment));
    let MetadataLocation::Object(forged) = ContentMetadata::locate(&stored).unwrap() else { panic!() };
    // CommitmentMismatch, not TagMismatch: the body was never opened.
    assert_eq!(
        security(client.decrypt(&forged, v3.body.clone(), &no_context()).await),
        SecurityError::CommitmentMismatch
    );
    let ranged = client.clone().legacy_unauthenticated_modes(true);
    assert_eq!(
        security(ranged.decrypt_range(&forged, 0, &v3.body[..4], &no_context()).await),
        SecurityError::CommitmentMismatch
    );
}

#[tokio::test]
async fn a_modified_body_is_a_tag_mismatch() {
    let client = crypto(CommitmentPolicy::default());
    let mut v3 = client.encrypt(b"body".to_vec(), &no_context()).await.unwrap();
    v3.body[1] ^= 0x40;
    assert_eq!(security(client.decrypt(&v3.metadata, v3.body, &no_context()).await), SecurityError::TagMismatch);
}

// A wrong encryption context (EncryptionContextMismatch) and a rewritten reserved
// `aws:x-amz-cek-alg` (CipherBindingMismatch) need KMS: tests/kms.rs.
