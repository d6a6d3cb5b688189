//! The symmetric KMS keyrings (strict, discovery, MRK, multi) against the in-process emulator,
//! through `envelope::Client`.

mod kms_common;

use std::sync::Arc;

use envelope::error::{EdkFailureReason, KeyringError};
use envelope::{
    AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext, Error, Keyring, MultiKeyring,
};
use envelope_keyrings::RawAesKeyring;
use envelope_keyrings::kms::{
    AwsKmsDiscoveryKeyring, AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring, DiscoveryFilter,
    KmsClientSupplier, kms_mrk_discovery_multi_keyring, kms_mrk_multi_keyring, kms_multi_keyring,
};
use kms_common::Emulator;

const ACCOUNT: &str = "111122223333";

fn context() -> EncryptionContext {
    EncryptionContext::from([("tenant".to_owned(), "acme".to_owned()), ("purpose".to_owned(), "kms test".to_owned())])
}

async fn encrypt(keyring: impl Keyring + 'static, suite: AlgorithmSuite) -> Vec<u8> {
    let options = EncryptOptions::new().encryption_context(context()).algorithm_suite(suite);
    Client::with_keyring(keyring).encrypt(b"secret payload", &options).await.unwrap()
}

async fn decrypt(keyring: impl Keyring + 'static, message: &[u8]) -> envelope::Result<Vec<u8>> {
    Ok(Client::with_keyring(keyring).decrypt(message, &DecryptOptions::new()).await?.plaintext)
}

fn edk_failures(error: Error) -> Vec<envelope::error::EdkFailure> {
    match error {
        Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => failures,
        other => panic!("expected NoDataKeyUnwrapped, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_keyring_round_trips_signed_and_unsigned_suites() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    for suite in [AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey] {
        let message = encrypt(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap(), suite).await;
        let plaintext = decrypt(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap(), &message).await.unwrap();
        assert_eq!(plaintext, b"secret payload", "suite {suite}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_child_uses_encrypt_under_a_raw_aes_generator() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    let aes = || RawAesKeyring::new("ns", "aes", vec![7; 32]).unwrap();
    let kms: Arc<dyn Keyring> = Arc::new(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap());
    let multi = MultiKeyring::new(Some(Arc::new(aes())), vec![kms]).unwrap();
    let message = encrypt(multi, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).await;
    // Each recipient alone decrypts: the KMS EDK wraps the data key the AES keyring generated.
    assert_eq!(
        decrypt(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap(), &message).await.unwrap(),
        b"secret payload"
    );
    assert_eq!(decrypt(aes(), &message).await.unwrap(), b"secret payload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_tokens_pass_through() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    let grant = emu
        .client("us-east-1")
        .create_grant()
        .key_id(&key)
        .grantee_principal(format!("arn:aws:iam::{ACCOUNT}:role/reader"))
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .operations(aws_sdk_kms::types::GrantOperation::GenerateDataKey)
        .send()
        .await
        .unwrap();
    let token = grant.grant_token().unwrap().to_owned();
    let keyring = || AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap().with_grant_tokens(vec![token.clone()]);
    let message = encrypt(keyring(), AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).await;
    assert_eq!(decrypt(keyring(), &message).await.unwrap(), b"secret payload");

    // KMS takes at most 10 grant tokens: 11 are refused by the service, which proves they are sent.
    let too_many =
        AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap().with_grant_tokens(vec![token.clone(); 11]);
    let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let error = Client::with_keyring(too_many).encrypt(b"x", &options).await.unwrap_err().to_string();
    assert!(
        error.contains("GenerateDataKey") && error.contains("ValidationException") && error.contains("grantTokens"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_key_errors_name_the_code_the_key_and_the_operation() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    let message = encrypt(
        AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    )
    .await;
    emu.client("us-east-1").disable_key().key_id(&key).send().await.unwrap();

    let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let error = Client::with_keyring(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap())
        .encrypt(b"x", &options)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Keyring(KeyringError::Service(_))), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.contains("DisabledException") && shown.contains(&key) && shown.contains("GenerateDataKey"),
        "{shown}"
    );

    let error = decrypt(AwsKmsKeyring::new(&key, emu.client("us-east-1")).unwrap(), &message).await.unwrap_err();
    let failures = edk_failures(error);
    assert_eq!(failures.len(), 1);
    let EdkFailureReason::Failed(why) = &failures[0].reason else { panic!("{failures:?}") };
    assert!(why.contains("DisabledException") && why.contains(&key) && why.contains("Decrypt"), "{why}");
    assert_eq!(failures[0].provider_info, key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_keyring_refuses_an_edk_for_another_key_and_lists_it() {
    let emu = Emulator::start().await;
    let writer_key = emu.symmetric_key("us-east-1").await;
    let reader_key = emu.symmetric_key("us-east-1").await;
    let message = encrypt(
        AwsKmsKeyring::new(&writer_key, emu.client("us-east-1")).unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    )
    .await;
    let error = decrypt(AwsKmsKeyring::new(&reader_key, emu.client("us-east-1")).unwrap(), &message).await.unwrap_err();
    let shown = error.to_string();
    let failures = edk_failures(error);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].provider_id, "aws-kms");
    assert_eq!(failures[0].provider_info, writer_key);
    assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(why) if why.contains(&reader_key)), "{failures:?}");
    assert!(shown.contains(&writer_key), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_keyring_with_and_without_a_filter() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-west-2").await;
    let message = encrypt(
        AwsKmsKeyring::new(&key, emu.client("us-west-2")).unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    )
    .await;
    let supplier: Arc<dyn KmsClientSupplier> = emu.supplier.clone();

    let open = AwsKmsDiscoveryKeyring::new(supplier.clone(), None).unwrap();
    assert_eq!(decrypt(open, &message).await.unwrap(), b"secret payload");

    let mine = DiscoveryFilter { partition: "aws".into(), account_ids: vec!["444455556666".into(), ACCOUNT.into()] };
    let filtered = AwsKmsDiscoveryKeyring::new(supplier.clone(), Some(mine)).unwrap();
    assert_eq!(decrypt(filtered, &message).await.unwrap(), b"secret payload");

    let others = DiscoveryFilter { partition: "aws".into(), account_ids: vec!["444455556666".into()] };
    let excluded = AwsKmsDiscoveryKeyring::new(supplier.clone(), Some(others)).unwrap();
    let failures = edk_failures(decrypt(excluded, &message).await.unwrap_err());
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].provider_info, key);
    assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(why) if why.contains(ACCOUNT)), "{failures:?}");

    let other_partition = DiscoveryFilter { partition: "aws-cn".into(), account_ids: vec![ACCOUNT.into()] };
    let excluded = AwsKmsDiscoveryKeyring::new(supplier.clone(), Some(other_partition)).unwrap();
    let failures = edk_failures(decrypt(excluded, &message).await.unwrap_err());
    assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(why) if why.contains("partition")), "{failures:?}");

    // A discovery keyring never encrypts, and a filter needs accounts.
    let options = EncryptOptions::new();
    assert!(
        Client::with_keyring(AwsKmsDiscoveryKeyring::new(supplier.clone(), None).unwrap())
            .encrypt(b"x", &options)
            .await
            .is_err()
    );
    assert!(
        AwsKmsDiscoveryKeyring::new(supplier, Some(DiscoveryFilter { partition: "aws".into(), account_ids: vec![] }))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_replica_decrypts_what_the_primary_wrapped() {
    let emu = Emulator::start().await;
    let (east, west) = emu.multi_region_key().await;
    assert_eq!(east.replace("us-east-1", "us-west-2"), west);
    let message = encrypt(
        AwsKmsMrkKeyring::new(&east, emu.client("us-east-1")).unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    )
    .await;

    // The us-west-2 replica, through the MRK keyring and the MRK discovery keyring.
    let replica = AwsKmsMrkKeyring::new(&west, emu.client("us-west-2")).unwrap();
    assert_eq!(decrypt(replica, &message).await.unwrap(), b"secret payload");
    let discovery = AwsKmsMrkDiscoveryKeyring::new(emu.supplier.clone(), "us-west-2".into(), None).unwrap();
    assert_eq!(decrypt(discovery, &message).await.unwrap(), b"secret payload");
    let filter = DiscoveryFilter { partition: "aws".into(), account_ids: vec![ACCOUNT.into()] };
    let multi =
        kms_mrk_discovery_multi_keyring(&["eu-west-1".into(), "us-west-2".into()], Some(filter), emu.supplier.clone())
            .unwrap();
    assert_eq!(decrypt(multi, &message).await.unwrap(), b"secret payload");

    // The strict keyring does not treat the replica as the same key.
    let strict = AwsKmsKeyring::new(&west, emu.client("us-west-2")).unwrap();
    let failures = edk_failures(decrypt(strict, &message).await.unwrap_err());
    assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(_)), "{failures:?}");

    // The MRK discovery keyring skips single-Region keys of other Regions.
    let single = emu.symmetric_key("us-east-1").await;
    let message = encrypt(
        AwsKmsKeyring::new(&single, emu.client("us-east-1")).unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    )
    .await;
    let discovery = AwsKmsMrkDiscoveryKeyring::new(emu.supplier.clone(), "us-west-2".into(), None).unwrap();
    let failures = edk_failures(decrypt(discovery, &message).await.unwrap_err());
    assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(why) if why.contains("us-east-1")), "{failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_keyring_helpers_build_a_generator_and_children_per_region() {
    let emu = Emulator::start().await;
    let east = emu.symmetric_key("us-east-1").await;
    let west = emu.symmetric_key("us-west-2").await;
    let (mrk_east, mrk_west) = emu.multi_region_key().await;
    let supplier: Arc<dyn KmsClientSupplier> = emu.supplier.clone();

    let multi = kms_multi_keyring(Some(&east), std::slice::from_ref(&west), supplier.clone()).unwrap();
    let message = encrypt(multi, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).await;
    for key in [&east, &west] {
        let region = if key == &east { "us-east-1" } else { "us-west-2" };
        assert_eq!(
            decrypt(AwsKmsKeyring::new(key, emu.client(region)).unwrap(), &message).await.unwrap(),
            b"secret payload"
        );
    }

    let multi = kms_mrk_multi_keyring(Some(&mrk_east), std::slice::from_ref(&west), supplier.clone()).unwrap();
    let message = encrypt(multi, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).await;
    let reader = kms_mrk_multi_keyring(None, std::slice::from_ref(&mrk_west), supplier.clone()).unwrap();
    assert_eq!(decrypt(reader, &message).await.unwrap(), b"secret payload");

    // Identifiers must be ARNs; the same MRK twice is ambiguous.
    assert!(kms_multi_keyring(Some("alias/x"), &[], supplier.clone()).is_err());
    let error =
        kms_mrk_multi_keyring(Some(&mrk_east), std::slice::from_ref(&mrk_west), supplier).unwrap_err().to_string();
    assert!(error.contains(&mrk_east) && error.contains(&mrk_west), "{error}");
}
