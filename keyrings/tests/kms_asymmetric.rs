//! The KMS RSA keyring, the raw ECDH keyring and the KMS ECDH keyring against the emulator.

mod kms_common;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use envelope::error::{EdkFailureReason, KeyringError};
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext, Error, Keyring};
use envelope_keyrings::kms::{AwsKmsEcdhKeyring, AwsKmsRsaKeyring, KmsRsaPadding, get_public_key};
use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawEcdhKeyring};
use kms_common::Emulator;

const UNSIGNED: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;

fn context() -> EncryptionContext {
    EncryptionContext::from([("tenant".to_owned(), "acme".to_owned())])
}

async fn encrypt(keyring: impl Keyring + 'static, suite: AlgorithmSuite) -> envelope::Result<Vec<u8>> {
    let options = EncryptOptions::new().encryption_context(context()).algorithm_suite(suite);
    Client::with_keyring(keyring).encrypt(b"asymmetric payload", &options).await
}

async fn decrypt(keyring: impl Keyring + 'static, message: &[u8]) -> envelope::Result<Vec<u8>> {
    Ok(Client::with_keyring(keyring).decrypt(message, &DecryptOptions::new()).await?.plaintext)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_rsa_keyring_round_trips_with_both_paddings() {
    let emu = Emulator::start().await;
    let key = emu.asymmetric_key("us-east-1", KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let public = get_public_key(&emu.client("us-east-1"), &key).await.unwrap();
    for padding in [KmsRsaPadding::OaepSha1, KmsRsaPadding::OaepSha256] {
        // The writer needs only the public key: no client, no KMS call.
        let writer = AwsKmsRsaKeyring::new(&key, Some(public.clone()), padding, None).unwrap();
        let message = encrypt(writer, UNSIGNED).await.unwrap();
        let reader = AwsKmsRsaKeyring::new(&key, None, padding, Some(emu.client("us-east-1"))).unwrap();
        assert_eq!(decrypt(reader, &message).await.unwrap(), b"asymmetric payload", "{padding:?}");

        // The other padding fails in KMS, and the failure names the operation and the key.
        let other =
            if padding == KmsRsaPadding::OaepSha1 { KmsRsaPadding::OaepSha256 } else { KmsRsaPadding::OaepSha1 };
        let wrong = AwsKmsRsaKeyring::new(&key, None, other, Some(emu.client("us-east-1"))).unwrap();
        let error = decrypt(wrong, &message).await.unwrap_err().to_string();
        assert!(error.contains("Decrypt") && error.contains(&key), "{error}");
    }
    // Signed suites are refused; aliases are not keys.
    let writer = AwsKmsRsaKeyring::new(&key, Some(public), KmsRsaPadding::OaepSha256, None).unwrap();
    assert!(encrypt(writer, AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384).await.is_err());
    assert!(AwsKmsRsaKeyring::new("alias/rsa", None, KmsRsaPadding::OaepSha256, None).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_ecdh_round_trips_for_every_scheme_and_curve() {
    for curve in EcdhCurve::ALL {
        let alice = EcPrivateKey::generate(curve).unwrap();
        let bob = EcPrivateKey::generate(curve).unwrap();
        let alice_public = alice.public_key().der().to_vec();
        let bob_public = bob.public_key().der().to_vec();
        let bob_again = || EcPrivateKey::from_pem(curve, &bob.to_pkcs8_pem().unwrap()).unwrap();

        // Static keys: Alice writes for Bob; Bob (static, roles swapped) and Bob (discovery) read.
        let writer = RawEcdhKeyring::static_keys(
            curve,
            EcPrivateKey::from_pem(curve, &alice.to_pkcs8_pem().unwrap()).unwrap(),
            &bob_public,
        )
        .unwrap();
        for suite in [UNSIGNED, AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384] {
            let message = encrypt(
                RawEcdhKeyring::static_keys(
                    curve,
                    EcPrivateKey::from_pem(curve, &alice.to_pkcs8_pem().unwrap()).unwrap(),
                    &bob_public,
                )
                .unwrap(),
                suite,
            )
            .await
            .unwrap();
            let bob_static = RawEcdhKeyring::static_keys(curve, bob_again(), &alice_public).unwrap();
            assert_eq!(decrypt(bob_static, &message).await.unwrap(), b"asymmetric payload", "{curve:?} {suite}");
            let bob_discovery = RawEcdhKeyring::public_key_discovery(curve, bob_again()).unwrap();
            assert_eq!(decrypt(bob_discovery, &message).await.unwrap(), b"asymmetric payload", "{curve:?} {suite}");
        }
        // The sender can read its own messages too.
        let message = encrypt(writer, UNSIGNED).await.unwrap();
        let alice_reads = RawEcdhKeyring::static_keys(
            curve,
            EcPrivateKey::from_pem(curve, &alice.to_pkcs8_pem().unwrap()).unwrap(),
            &bob_public,
        )
        .unwrap();
        assert_eq!(decrypt(alice_reads, &message).await.unwrap(), b"asymmetric payload");

        // Ephemeral: encrypt-only; Bob's discovery keyring reads it.
        let message = encrypt(RawEcdhKeyring::ephemeral(curve, &bob_public).unwrap(), UNSIGNED).await.unwrap();
        let bob_discovery = RawEcdhKeyring::public_key_discovery(curve, bob_again()).unwrap();
        assert_eq!(decrypt(bob_discovery, &message).await.unwrap(), b"asymmetric payload");
        assert!(decrypt(RawEcdhKeyring::ephemeral(curve, &bob_public).unwrap(), &message).await.is_err());
        assert!(encrypt(RawEcdhKeyring::public_key_discovery(curve, bob_again()).unwrap(), UNSIGNED).await.is_err());

        // A third party's discovery keyring does not match, and says so.
        let eve = RawEcdhKeyring::public_key_discovery(curve, EcPrivateKey::generate(curve).unwrap()).unwrap();
        match decrypt(eve, &message).await.unwrap_err() {
            Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => {
                assert!(matches!(&failures[0].reason, EdkFailureReason::NotMine(_)), "{failures:?}")
            }
            other => panic!("{other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_ecdh_interoperates_with_raw_ecdh() {
    let emu = Emulator::start().await;
    for (curve, spec) in [
        (EcdhCurve::P256, KeySpec::EccNistP256),
        (EcdhCurve::P384, KeySpec::EccNistP384),
        (EcdhCurve::P521, KeySpec::EccNistP521),
    ] {
        let kms_key = emu.asymmetric_key("us-east-1", spec, KeyUsageType::KeyAgreement).await;
        let kms_public = get_public_key(&emu.client("us-east-1"), &kms_key).await.unwrap();
        let bob = EcPrivateKey::generate(curve).unwrap();
        let bob_public = bob.public_key().der().to_vec();
        let bob_again = || EcPrivateKey::from_pem(curve, &bob.to_pkcs8_pem().unwrap()).unwrap();

        // KMS static keys (public key fetched with GetPublicKey) write for Bob; Bob reads locally.
        let kms_static =
            AwsKmsEcdhKeyring::static_keys(curve, &kms_key, &bob_public, None, emu.client("us-east-1")).await.unwrap();
        let message = encrypt(kms_static, UNSIGNED).await.unwrap();
        let bob_static = RawEcdhKeyring::static_keys(curve, bob_again(), &kms_public).unwrap();
        assert_eq!(decrypt(bob_static, &message).await.unwrap(), b"asymmetric payload", "{curve:?}");
        let bob_discovery = RawEcdhKeyring::public_key_discovery(curve, bob_again()).unwrap();
        assert_eq!(decrypt(bob_discovery, &message).await.unwrap(), b"asymmetric payload");

        // Bob writes for the KMS key; the KMS static keyring and KMS discovery keyring read.
        let message =
            encrypt(RawEcdhKeyring::static_keys(curve, bob_again(), &kms_public).unwrap(), UNSIGNED).await.unwrap();
        let kms_static =
            AwsKmsEcdhKeyring::static_keys(curve, &kms_key, &bob_public, Some(&kms_public), emu.client("us-east-1"))
                .await
                .unwrap();
        assert_eq!(decrypt(kms_static, &message).await.unwrap(), b"asymmetric payload");
        let kms_discovery =
            AwsKmsEcdhKeyring::public_key_discovery(curve, &kms_key, None, emu.client("us-east-1")).await.unwrap();
        assert_eq!(decrypt(kms_discovery, &message).await.unwrap(), b"asymmetric payload");

        // An ephemeral sender writes for the KMS key.
        let message = encrypt(
            RawEcdhKeyring::ephemeral(curve, &kms_public).unwrap(),
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        )
        .await
        .unwrap();
        let kms_discovery =
            AwsKmsEcdhKeyring::public_key_discovery(curve, &kms_key, None, emu.client("us-east-1")).await.unwrap();
        assert_eq!(decrypt(kms_discovery, &message).await.unwrap(), b"asymmetric payload");
        let kms_discovery =
            AwsKmsEcdhKeyring::public_key_discovery(curve, &kms_key, None, emu.client("us-east-1")).await.unwrap();
        assert!(encrypt(kms_discovery, UNSIGNED).await.is_err());
    }
    // The keyring checks the key's usage and curve.
    let symmetric = emu.symmetric_key("us-east-1").await;
    let error = AwsKmsEcdhKeyring::public_key_discovery(EcdhCurve::P256, &symmetric, None, emu.client("us-east-1"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("GetPublicKey") || error.to_string().contains("KEY_AGREEMENT"), "{error}");
    let p384 = emu.asymmetric_key("us-east-1", KeySpec::EccNistP384, KeyUsageType::KeyAgreement).await;
    let error = AwsKmsEcdhKeyring::public_key_discovery(EcdhCurve::P256, &p384, None, emu.client("us-east-1"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("ECC_NIST_P384"), "{error}");
}
