//! Bad input gets a typed error, never a panic and never plaintext: truncation at every byte,
//! every single bit flip, trailing bytes, wrong keys, wrong context, unfinished writers.

mod common;

use std::io::{Read, Write};

use common::{client_for, plaintext, read_streaming};
use envelope::blocking::BlockingClient;
use envelope::error::{AuthenticationFailure, KeyringError, PolicyViolation};
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, Error};
use envelope_keyrings::RawAesKeyring;

fn small_message(suite: AlgorithmSuite) -> (BlockingClient, Vec<u8>) {
    let client = client_for(suite);
    let options = EncryptOptions::new().algorithm_suite(suite).frame_length(8).encryption_context(common::context());
    let message = client.encrypt(&plaintext(20), &options).unwrap();
    (client, message)
}

#[test]
fn truncation_at_every_byte_fails_both_ways() {
    for suite in
        [AlgorithmSuite::DEFAULT, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, AlgorithmSuite::Aes128GcmIv12Tag16NoKdf]
    {
        let (client, message) = small_message(suite);
        for cut in 0..message.len() {
            assert!(client.decrypt(&message[..cut], &DecryptOptions::new()).is_err(), "{suite} cut {cut}");
            assert!(read_streaming(&client, &message[..cut]).is_err(), "{suite} streaming cut {cut}");
        }
    }
}

#[test]
fn every_bit_flip_fails_both_ways() {
    for suite in [AlgorithmSuite::DEFAULT, AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384] {
        let (client, message) = small_message(suite);
        for bit in 0..message.len() * 8 {
            let mut flipped = message.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(client.decrypt(&flipped, &DecryptOptions::new()).is_err(), "{suite} bit {bit}");
            assert!(read_streaming(&client, &flipped).is_err(), "{suite} streaming bit {bit}");
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let (client, mut message) = small_message(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    message.push(0);
    assert!(client.decrypt(&message, &DecryptOptions::new()).is_err());
    assert!(read_streaming(&client, &message).is_err());
}

#[test]
fn a_wrong_key_lists_every_encrypted_data_key() {
    let (_, message) = small_message(AlgorithmSuite::DEFAULT);
    let other = RawAesKeyring::new("envelope-tests", "aes-256", vec![9; 32]).unwrap();
    let client = BlockingClient::new(Client::with_keyring(other));
    match client.decrypt(&message, &DecryptOptions::new()) {
        Err(Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures))) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].provider_id, "envelope-tests");
        }
        other => panic!("expected a keyring failure, got {other:?}"),
    }
}

#[test]
fn a_wrong_expected_context_is_refused() {
    let (client, message) = small_message(AlgorithmSuite::DEFAULT);
    let mut wrong = common::context();
    wrong.insert("purpose", "other");
    let error = client.decrypt(&message, &DecryptOptions::new().encryption_context(wrong)).unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::EncryptionContextMismatch { .. })), "{error}");
    // A pair the message does not hold is treated as required context, which is not authenticated.
    let mut extra = common::context();
    extra.insert("unstored", "x");
    assert!(client.decrypt(&message, &DecryptOptions::new().encryption_context(extra)).is_err());
}

#[test]
fn a_dropped_writer_leaves_a_message_that_fails() {
    let client = client_for(AlgorithmSuite::DEFAULT);
    let mut sink = Vec::new();
    {
        let mut writer = client.encrypting_writer(&mut sink, &EncryptOptions::new().frame_length(16)).unwrap();
        writer.write_all(&plaintext(100)).unwrap();
        writer.flush().unwrap();
    }
    assert!(!sink.is_empty());
    assert!(client.decrypt(&sink, &DecryptOptions::new()).is_err());
    assert!(read_streaming(&client, &sink).is_err());
}

#[test]
fn signed_final_frame_is_held_until_the_signature_verifies() {
    let client = client_for(AlgorithmSuite::DEFAULT);
    let data = plaintext(40);
    let message = client.encrypt(&data, &EncryptOptions::new().frame_length(16)).unwrap();
    let mut broken = message.clone();
    let last = broken.len() - 1;
    broken[last] ^= 0x01; // the signature
    let mut reader = client.decrypting_reader(&broken[..], &DecryptOptions::new()).unwrap();
    let mut released = Vec::new();
    let mut buf = [0u8; 64];
    let error = loop {
        match reader.read(&mut buf) {
            Ok(0) => panic!("a message with a bad signature read to the end"),
            Ok(n) => released.extend_from_slice(&buf[..n]),
            Err(error) => break error,
        }
    };
    assert_eq!(released, &data[..32], "only the two authenticated regular frames may be released");
    assert!(error.to_string().contains("signature"), "{error}");
}

#[test]
fn unsigned_only_mode_refuses_signed_messages() {
    let client = client_for(AlgorithmSuite::DEFAULT);
    let message = client.encrypt(b"x", &EncryptOptions::new()).unwrap();
    let error = client.decrypting_reader(&message[..], &DecryptOptions::new().unsigned_only()).unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::SignedMessageRefused)));
    let unsigned = client
        .encrypt(b"x", &EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey))
        .unwrap();
    assert!(client.decrypting_reader(&unsigned[..], &DecryptOptions::new().unsigned_only()).is_ok());
}

#[test]
fn oversized_lengths_are_truncation_errors() {
    let (client, message) = small_message(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    // Claim a huge EDK ciphertext length inside the header: must fail as truncation.
    let mut forged = message.clone();
    let edk_len_offset = 1 + 2 + 32 + 2 + forged[35..37].iter().fold(0usize, |a, b| a * 256 + *b as usize) + 2;
    forged[edk_len_offset] = 0xff;
    forged[edk_len_offset + 1] = 0xff;
    assert!(client.decrypt(&forged, &DecryptOptions::new()).is_err());
    assert!(matches!(client.decrypt(&message[..40], &DecryptOptions::new()), Err(Error::Malformed(_))));
    let _ = AuthenticationFailure::BodyTag;
}
