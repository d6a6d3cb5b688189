//! Whole messages through the public API: raw keyrings under the client, and the
//! required-encryption-context manager end to end.

use std::sync::Arc;

use envelope::cmm::RequiredEncryptionContextMaterialsManager;
use envelope::error::{Error, KeyringError, PolicyViolation};
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext, Keyring, MultiKeyring};
use envelope_keyrings::{RawAesKeyring, RawRsaKeyring, RsaPadding, RsaPrivateKey};

fn context(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn aes() -> Arc<dyn Keyring> {
    Arc::new(RawAesKeyring::new("app", "aes-key", vec![0x5a; 32]).unwrap())
}

#[tokio::test]
async fn raw_aes_messages_round_trip_for_every_suite() {
    let client = Client::with_keyring(aes()).commitment_policy(envelope::CommitmentPolicy::RequireEncryptAllowDecrypt);
    let plaintext = b"attack at dawn".repeat(100);
    let ctx = context(&[("tenant", "t1")]);
    for suite in AlgorithmSuite::ESDK {
        let client = if suite.is_committing() {
            client.clone()
        } else {
            client.clone().commitment_policy(envelope::CommitmentPolicy::ForbidEncryptAllowDecrypt)
        };
        let options = EncryptOptions::new().encryption_context(ctx.clone()).algorithm_suite(suite);
        let message = client.encrypt(&plaintext, &options).await.unwrap();
        let decrypted = client.decrypt(&message, &DecryptOptions::new()).await.unwrap();
        assert_eq!(decrypted.plaintext, plaintext, "{suite}");
    }
}

#[tokio::test]
async fn message_for_aes_and_rsa_recipients_opens_with_either() {
    let private = RsaPrivateKey::generate(2048).unwrap();
    let rsa_writer = Arc::new(
        RawRsaKeyring::new("app", "rsa-key", RsaPadding::OaepSha256, Some(private.public_key()), None).unwrap(),
    );
    let writer = MultiKeyring::new(Some(aes()), vec![rsa_writer]).unwrap();
    let message = Client::with_keyring(writer).encrypt(b"hello", &EncryptOptions::new()).await.unwrap();

    let rsa_reader = RawRsaKeyring::new("app", "rsa-key", RsaPadding::OaepSha256, None, Some(private)).unwrap();
    for reader in [
        Client::with_keyring(rsa_reader),
        Client::from_arc(Arc::new(envelope::DefaultMaterialsManager::from_arc(aes()))),
    ] {
        assert_eq!(reader.decrypt(&message, &DecryptOptions::new()).await.unwrap().plaintext, b"hello");
    }

    let stranger = RawAesKeyring::new("app", "aes-key", vec![0x11; 32]).unwrap();
    match Client::with_keyring(stranger).decrypt(&message, &DecryptOptions::new()).await {
        Err(Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures))) => {
            assert_eq!(failures.len(), 2, "{failures:?}")
        }
        other => panic!("expected NoDataKeyUnwrapped, got {other:?}"),
    }
}

#[tokio::test]
async fn required_context_is_authenticated_but_not_stored() {
    let cmm = RequiredEncryptionContextMaterialsManager::from_keyring(aes(), vec!["tenant".into()]).unwrap();
    let client = Client::new(cmm);
    let ctx = context(&[("tenant", "t1"), ("purpose", "demo")]);
    let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(ctx)).await.unwrap();

    // Nothing reproduced: the manager refuses before touching any key.
    let error = client.decrypt(&message, &DecryptOptions::new()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Policy(PolicyViolation::MissingRequiredEncryptionContextKey(k)) if k == "tenant"),
        "{error}"
    );

    // The right pair decrypts, and the header stores only the other pair.
    let ok = DecryptOptions::new().encryption_context(context(&[("tenant", "t1")]));
    let decrypted = client.decrypt(&message, &ok).await.unwrap();
    assert_eq!(decrypted.plaintext, b"secret");
    let stored = &decrypted.info.encryption_context;
    assert!(!stored.contains_key("tenant") && stored.get("purpose").map(String::as_str) == Some("demo"), "{stored:?}");

    // A wrong value fails: raw AES binds the full context, and so does the header.
    let wrong = DecryptOptions::new().encryption_context(context(&[("tenant", "t2")]));
    assert!(client.decrypt(&message, &wrong).await.is_err());

    // A plain client that reproduces the pair reads it too (the pair is authenticated, not stored).
    let plain = Client::with_keyring(aes());
    assert_eq!(plain.decrypt(&message, &ok).await.unwrap().plaintext, b"secret");

    // Encrypting without the required key is refused.
    let error = client
        .encrypt(b"x", &EncryptOptions::new().encryption_context(context(&[("purpose", "demo")])))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::MissingRequiredEncryptionContextKey(_))), "{error}");
}
