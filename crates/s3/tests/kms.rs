//! `kms+context` objects through the KMS emulator on 127.0.0.1:0, with aws-sdk-kms.

mod common;

use std::collections::BTreeMap;

use common::{Emulator, context};
use envelope_s3::error::{Error, PolicyViolation, SecurityError};
use envelope_s3::wrap::KmsKeyring;
use envelope_s3::{CommitmentPolicy, ContentMetadata, KeyDescription, MetadataLocation, ObjectCrypto};

fn reread(stored: &BTreeMap<String, String>) -> ContentMetadata {
    match ContentMetadata::locate(stored).unwrap() {
        MetadataLocation::Object(metadata) => metadata,
        MetadataLocation::InstructionFile(_) => panic!("written to the object"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_context_round_trips_v3_and_v2_with_the_reserved_key() {
    let emulator = Emulator::start().await;
    let key = emulator.key().await;
    let tenant = context(&[("tenant", "acme")]);
    for (crypto, cek) in [
        (emulator.crypto(&key), "115"),
        (emulator.crypto(&key).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt), "AES/GCM/NoPadding"),
    ] {
        let object = crypto.encrypt(b"kms object".to_vec(), &tenant).await.unwrap();
        let KeyDescription::EncryptionContext(stored) = object.metadata.description() else { panic!() };
        assert_eq!(stored, &context(&[("aws:x-amz-cek-alg", cek), ("tenant", "acme")]));
        let metadata = reread(&object.metadata.to_object_metadata());
        let reader = crypto.clone().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
        assert_eq!(reader.decrypt(&metadata, object.body, &tenant).await.unwrap(), b"kms object");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_context_must_equal_the_stored_one_exactly() {
    let emulator = Emulator::start().await;
    let key = emulator.key().await;
    let crypto = emulator.crypto(&key);
    let stored = context(&[("tenant", "acme"), ("region", "eu")]);
    let object = crypto.encrypt(b"x".to_vec(), &stored).await.unwrap();
    for given in [context(&[]), context(&[("tenant", "acme")]), context(&[("tenant", "acme"), ("region", "us")])] {
        let error = crypto.decrypt(&object.metadata, object.body.clone(), &given).await.unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{given:?}");
    }
    assert_eq!(crypto.decrypt(&object.metadata, object.body, &stored).await.unwrap(), b"x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_key_on_put_is_refused_and_a_changed_stored_context_fails() {
    let emulator = Emulator::start().await;
    let key = emulator.key().await;
    let crypto = emulator.crypto(&key);
    let reserved = context(&[("aws:x-amz-cek-alg", "115")]);
    assert!(matches!(
        crypto.encrypt(b"x".to_vec(), &reserved).await,
        Err(Error::Policy(PolicyViolation::ReservedContextKey(_)))
    ));
    let object = crypto.encrypt(b"x".to_vec(), &context(&[("tenant", "acme")])).await.unwrap();
    let mut stored = object.metadata.to_object_metadata();
    // Another tenant in the stored context, and the caller asks for that tenant: KMS refuses.
    stored.insert("x-amz-t".into(), r#"{"aws:x-amz-cek-alg":"115","tenant":"evil"}"#.into());
    let error =
        crypto.decrypt(&reread(&stored), object.body.clone(), &context(&[("tenant", "evil")])).await.unwrap_err();
    assert!(matches!(error, Error::Keyring(_)), "{error}");
    // The reserved key rewritten to another cipher: refused before KMS is asked.
    stored.insert("x-amz-t".into(), r#"{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","tenant":"acme"}"#.into());
    let error = crypto.decrypt(&reread(&stored), object.body, &context(&[("tenant", "acme")])).await.unwrap_err();
    assert!(matches!(error, Error::Security(SecurityError::CipherBindingMismatch { .. })), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_ids_and_aliases_resolve_to_the_key_arn_once() {
    let emulator = Emulator::start().await;
    let arn = emulator.key().await;
    let key_id = arn.rsplit('/').next().unwrap().to_owned();
    emulator.client.create_alias().alias_name("alias/backups").target_key_id(&arn).send().await.unwrap();
    let by_alias = KmsKeyring::resolve("alias/backups", emulator.client.clone()).await.unwrap();
    assert_eq!(by_alias.key_arn(), arn);
    let by_id = KmsKeyring::resolve(&key_id, emulator.client.clone()).await.unwrap();
    assert_eq!(by_id.key_arn(), arn);
    let object = ObjectCrypto::new(by_alias).encrypt(b"x".to_vec(), &BTreeMap::new()).await.unwrap();
    // The alias moves to another key: the keyring made before keeps naming the first key.
    let second = emulator.key().await;
    emulator.client.update_alias().alias_name("alias/backups").target_key_id(&second).send().await.unwrap();
    let plaintext = ObjectCrypto::new(by_id).decrypt(&object.metadata, object.body, &BTreeMap::new()).await.unwrap();
    assert_eq!(plaintext, b"x");
    let error = KmsKeyring::resolve("alias/missing", emulator.client.clone()).await.err().unwrap();
    assert!(matches!(error, Error::Keyring(ref message) if message.contains("alias/missing")), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_kms_key_cannot_read() {
    let emulator = Emulator::start().await;
    let (first, second) = (emulator.key().await, emulator.key().await);
    let object = emulator.crypto(&first).encrypt(b"x".to_vec(), &BTreeMap::new()).await.unwrap();
    assert!(emulator.crypto(&second).decrypt(&object.metadata, object.body, &BTreeMap::new()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reads_with_any_key_and_the_filter_restricts_it() {
    use envelope_s3::wrap::{KmsDiscoveryFilter, KmsDiscoveryKeyring};
    let emulator = Emulator::start().await;
    let key = emulator.key().await;
    let arn = envelope_keyrings::kms::KmsArn::parse(&key).unwrap();
    let tenant = context(&[("tenant", "acme")]);
    let object = emulator.crypto(&key).encrypt(b"found by discovery".to_vec(), &tenant).await.unwrap();
    let metadata = reread(&object.metadata.to_object_metadata());

    let open = ObjectCrypto::new(KmsDiscoveryKeyring::new(emulator.client.clone()));
    assert_eq!(open.decrypt(&metadata, object.body.clone(), &tenant).await.unwrap(), b"found by discovery");
    // The context rules are the same as with a key ARN.
    let error = open.decrypt(&metadata, object.body.clone(), &context(&[])).await.unwrap_err();
    assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{error}");
    // Discovery never encrypts.
    assert!(matches!(open.encrypt(b"x".to_vec(), &tenant).await, Err(Error::Usage(_))));

    let allowed = KmsDiscoveryFilter::accounts(arn.partition(), [arn.account()]).regions([arn.region()]);
    let filtered = ObjectCrypto::new(KmsDiscoveryKeyring::new(emulator.client.clone()).with_filter(allowed).unwrap());
    assert_eq!(filtered.decrypt(&metadata, object.body.clone(), &tenant).await.unwrap(), b"found by discovery");
    for refused in [
        KmsDiscoveryFilter::accounts(arn.partition(), ["000000000000"]),
        KmsDiscoveryFilter::accounts(arn.partition(), [arn.account()]).regions(["ap-south-2"]),
        KmsDiscoveryFilter::accounts("aws-cn", [arn.account()]),
    ] {
        let crypto = ObjectCrypto::new(KmsDiscoveryKeyring::new(emulator.client.clone()).with_filter(refused).unwrap());
        let error = crypto.decrypt(&metadata, object.body.clone(), &tenant).await.unwrap_err();
        assert!(matches!(&error, Error::Keyring(why) if why.contains("discovery filter")), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_kms_wraps_read_only_with_the_opt_in() {
    use aws_sdk_kms::primitives::Blob;
    // A legacy `kms` V2 object: the data key encrypted under {"kms_cmk_id": key}, stated as
    // `kms`; built from a real kms+context object's body and data key.
    let emulator = Emulator::start().await;
    let key = emulator.key().await;
    let writer = emulator.crypto(&key).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt);
    let object = writer.encrypt(b"legacy kms".to_vec(), &BTreeMap::new()).await.unwrap();
    let mut stored = object.metadata.to_object_metadata();
    let data_key = emulator
        .client
        .decrypt()
        .ciphertext_blob(Blob::new(object.metadata.encrypted_data_key().to_vec()))
        .encryption_context("aws:x-amz-cek-alg", "AES/GCM/NoPadding")
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    let legacy_key = emulator
        .client
        .encrypt()
        .key_id(&key)
        .plaintext(data_key)
        .encryption_context("kms_cmk_id", &key)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    use base64::Engine as _;
    stored.insert("x-amz-key-v2".into(), base64::engine::general_purpose::STANDARD.encode(legacy_key.as_ref()));
    stored.insert("x-amz-wrap-alg".into(), "kms".into());
    stored.insert("x-amz-matdesc".into(), format!(r#"{{"kms_cmk_id":"{key}"}}"#));
    let metadata = reread(&stored);
    let reader = emulator.crypto(&key).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let error = reader.decrypt(&metadata, object.body.clone(), &BTreeMap::new()).await.unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::LegacyWrapping { wrap: "kms" })), "{error}");
    let legacy = reader.legacy_wrapping_algorithms(true);
    assert_eq!(legacy.decrypt(&metadata, object.body, &BTreeMap::new()).await.unwrap(), b"legacy kms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruction_files_rotate_to_another_kms_key_keeping_the_context() {
    use envelope_s3::rotation::rewrap_instruction_file;
    let emulator = Emulator::start().await;
    let (first, second) = (emulator.key().await, emulator.key().await);
    let old = KmsKeyring::new(&first, emulator.client.clone()).unwrap();
    let new = KmsKeyring::new(&second, emulator.client.clone()).unwrap();
    let tenant = context(&[("tenant", "acme")]);
    for crypto in [
        emulator.crypto(&first),
        emulator.crypto(&first).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt),
    ] {
        let object = crypto.encrypt(b"rotate".to_vec(), &tenant).await.unwrap();
        let (object_part, file) = object.metadata.to_instruction_file();
        // The context given must be the stored one, as for a read.
        let error = rewrap_instruction_file(&object_part, &file, &old, &new, &BTreeMap::new()).await.unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{error}");
        let new_file = rewrap_instruction_file(&object_part, &file, &old, &new, &tenant).await.unwrap();
        let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part).unwrap() else {
            panic!("the data key is in the file")
        };
        let rotated = pending.complete(&new_file).unwrap();
        assert_eq!(rotated.description(), object.metadata.description(), "same context, same reserved key");
        let reader = emulator.crypto(&second).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
        assert_eq!(reader.decrypt(&rotated, object.body.clone(), &tenant).await.unwrap(), b"rotate");
        let stale = emulator.crypto(&first).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
        assert!(stale.decrypt(&rotated, object.body, &tenant).await.is_err(), "the old key no longer opens it");
    }
}
