//! Commitment policy, maximum encrypted data keys, reserved context keys, .NET 4.0.0 retry switch.

mod common;

use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::error::PolicyViolation;
use envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions, Error, Keyring, MultiKeyring,
};
use envelope_keyrings::RawAesKeyring;

fn policy_error(result: Result<impl std::fmt::Debug, Error>) -> PolicyViolation {
    match result {
        Err(Error::Policy(violation)) => violation,
        other => panic!("expected a policy violation, got {other:?}"),
    }
}

#[test]
fn default_policy_writes_0x0578_and_refuses_legacy_suites() {
    let client = BlockingClient::new(Client::with_keyring(common::aes_keyring()));
    let message = client.encrypt(b"data", &EncryptOptions::new()).unwrap();
    assert_eq!(&message[..3], &[0x02, 0x05, 0x78]);
    let legacy = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384);
    assert!(matches!(policy_error(client.encrypt(b"data", &legacy)), PolicyViolation::CommitmentPolicy { .. }));
    let old =
        common::client_for(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384).encrypt(b"data", &legacy).unwrap();
    assert!(matches!(
        policy_error(client.decrypt(&old, &DecryptOptions::new())),
        PolicyViolation::CommitmentPolicy { .. }
    ));
    let forbid = BlockingClient::new(
        Client::with_keyring(common::aes_keyring()).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt),
    );
    let message = forbid.encrypt(b"data", &EncryptOptions::new()).unwrap();
    assert_eq!(&message[..4], &[0x01, 0x80, 0x03, 0x78], "the legacy default suite is 0x0378");
}

#[test]
fn max_encrypted_data_keys_is_enforced_both_ways() {
    let keyrings: Vec<Arc<dyn Keyring>> = (0..3)
        .map(|i| Arc::new(RawAesKeyring::new("ns", format!("k{i}"), vec![i; 32]).unwrap()) as Arc<dyn Keyring>)
        .collect();
    let multi = MultiKeyring::new(Some(keyrings[0].clone()), keyrings[1..].to_vec()).unwrap();
    let three = BlockingClient::new(Client::with_keyring(multi.clone()));
    let message = three.encrypt(b"data", &EncryptOptions::new()).unwrap();
    let two = BlockingClient::new(Client::with_keyring(multi).max_encrypted_data_keys(Some(2)));
    assert!(matches!(
        policy_error(two.encrypt(b"data", &EncryptOptions::new())),
        PolicyViolation::TooManyEncryptedDataKeys { limit: 2, found: 3 }
    ));
    assert!(matches!(
        policy_error(two.decrypt(&message, &DecryptOptions::new())),
        PolicyViolation::TooManyEncryptedDataKeys { .. }
    ));
    assert_eq!(three.decrypt(&message, &DecryptOptions::new()).unwrap().plaintext, b"data");
}

#[test]
fn reserved_context_keys_are_refused() {
    let client = BlockingClient::new(Client::with_keyring(common::aes_keyring()));
    let mut context = common::context();
    context.insert("aws-crypto-anything", "x");
    let result = client.encrypt(b"data", &EncryptOptions::new().encryption_context(context));
    assert!(matches!(policy_error(result), PolicyViolation::ReservedEncryptionContextKey(_)));
}

#[test]
fn zero_frame_length_is_refused() {
    let client = BlockingClient::new(Client::with_keyring(common::aes_keyring()));
    assert!(matches!(client.encrypt(b"data", &EncryptOptions::new().frame_length(0)), Err(Error::Usage(_))));
}
