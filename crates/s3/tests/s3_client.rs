//! The S3 operations against `moto[server]` S3 on 127.0.0.1 (and the KMS emulator for KMS
//! wraps): round trips in every format and placement, multipart, tampering, ranges, delete.

mod common;

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use common::{Emulator, context, moto, pattern};
use envelope_s3::client::{Authentication, ByteRange, PutOptions, S3EncryptionClient};
use envelope_s3::error::{Error, PolicyViolation, SecurityError};
use envelope_s3::wrap::{AesGcmKeyring, KmsKeyring};
use envelope_s3::{CommitmentPolicy, FormatVersion, ObjectCrypto};
use tokio::io::AsyncReadExt;

const MIB: usize = 1 << 20;

fn aes_crypto() -> ObjectCrypto {
    ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).unwrap())
}

fn v2(crypto: ObjectCrypto) -> ObjectCrypto {
    crypto.commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt)
}

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

async fn user_metadata(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> BTreeMap<String, String> {
    let head = s3.head_object().bucket(bucket).key(key).send().await.unwrap();
    head.metadata().cloned().unwrap_or_default().into_iter().collect()
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object().bucket(bucket).key(key).send().await.is_ok()
}

async fn raw_body(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_and_v2_round_trip_with_metadata_in_the_object_or_an_instruction_file() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("round-trips").await;
    for (crypto, version) in [(aes_crypto(), FormatVersion::V3), (v2(aes_crypto()), FormatVersion::V2)] {
        // V2 objects are read under a policy that allows them.
        let reader = S3EncryptionClient::new(
            s3.clone(),
            crypto.clone().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt),
        );
        for instruction_file in [false, true] {
            let client = S3EncryptionClient::new(s3.clone(), crypto.clone()).instruction_file(instruction_file);
            for len in [0usize, 1, 15, 16, 17, 1000, 70_000] {
                let key = format!("{version:?}/{instruction_file}/{len}");
                let plaintext = pattern(len, 1);
                let outcome = client.put_bytes(&bucket, &key, plaintext.clone(), &PutOptions::new()).await.unwrap();
                assert_eq!((outcome.parts, outcome.instruction_file), (0, instruction_file));
                assert_eq!(outcome.metadata.version(), version);
                assert_eq!(reader.get_bytes(&bucket, &key, &no_context()).await.unwrap(), plaintext, "{key}");
                // The stored body is ciphertext ‖ tag, never the plaintext.
                let stored = raw_body(&s3, &bucket, &key).await;
                assert_eq!(stored.len(), len + 16);
                if len >= 16 {
                    assert_ne!(&stored[..len], &plaintext[..]);
                }
                let object_metadata = user_metadata(&s3, &bucket, &key).await;
                let instruction_key = format!("{key}.instruction");
                if instruction_file {
                    // V2 keeps only the advisory length with the object (the Python client refuses
                    // instruction files holding it).
                    let expected: Vec<&str> = if version == FormatVersion::V3 {
                        vec!["x-amz-c", "x-amz-d", "x-amz-i"]
                    } else {
                        vec!["x-amz-unencrypted-content-length"]
                    };
                    assert_eq!(object_metadata.keys().map(String::as_str).collect::<Vec<_>>(), expected);
                    let marker = user_metadata(&s3, &bucket, &instruction_key).await;
                    assert_eq!(marker.get("x-amz-crypto-instr-file").map(String::as_str), Some(""));
                    let json = String::from_utf8(raw_body(&s3, &bucket, &instruction_key).await).unwrap();
                    let parsed: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
                    assert!(parsed.contains_key(if version == FormatVersion::V3 { "x-amz-3" } else { "x-amz-key-v2" }));
                } else {
                    assert!(object_metadata.contains_key(if version == FormatVersion::V3 {
                        "x-amz-3"
                    } else {
                        "x-amz-key-v2"
                    }));
                    assert!(!exists(&s3, &bucket, &instruction_key).await);
                }
            }
        }
    }
    // A per-put choice overrides the client's.
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto());
    client.put_bytes(&bucket, "per-put", b"x".to_vec(), &PutOptions::new().instruction_file(true)).await.unwrap();
    assert!(exists(&s3, &bucket, "per-put.instruction").await);
    assert_eq!(client.get_bytes(&bucket, "per-put", &no_context()).await.unwrap(), b"x");
    // A custom suffix is never written by a put (the spec reserves it for re-wraps), but is read.
    let custom =
        S3EncryptionClient::new(s3.clone(), aes_crypto()).instruction_file(true).with_instruction_suffix(".keys");
    custom.put_bytes(&bucket, "custom", b"y".to_vec(), &PutOptions::new()).await.unwrap();
    assert!(exists(&s3, &bucket, "custom.instruction").await);
    assert!(!exists(&s3, &bucket, "custom.keys").await);
    assert_eq!(client.get_bytes(&bucket, "custom", &no_context()).await.unwrap(), b"y");
    assert!(matches!(custom.get_bytes(&bucket, "custom", &no_context()).await, Err(Error::Malformed { .. })));
    // A re-wrap with a custom suffix writes a second instruction file for the new key's holders
    // and leaves the first one alone; a delete removes both.
    let next = || AesGcmKeyring::new(vec![9; 32], BTreeMap::from([("key".to_string(), "next".to_string())])).unwrap();
    custom.rewrap_instruction_file(&bucket, "custom", &next(), &no_context()).await.unwrap();
    assert!(exists(&s3, &bucket, "custom.keys").await);
    let next_reader = S3EncryptionClient::new(s3.clone(), ObjectCrypto::new(next())).with_instruction_suffix(".keys");
    assert_eq!(next_reader.get_bytes(&bucket, "custom", &no_context()).await.unwrap(), b"y");
    assert_eq!(client.get_bytes(&bucket, "custom", &no_context()).await.unwrap(), b"y");
    next_reader.delete_object(&bucket, "custom").await.unwrap();
    for gone in ["custom", "custom.instruction", "custom.keys"] {
        assert!(!exists(&s3, &bucket, gone).await, "{gone} still exists");
    }
    // The default policy does not read V2.
    let v2_client = S3EncryptionClient::new(s3.clone(), v2(aes_crypto()));
    v2_client.put_bytes(&bucket, "v2-only", b"z".to_vec(), &PutOptions::new()).await.unwrap();
    let error = client.get_bytes(&bucket, "v2-only", &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::Commitment { .. })), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_objects_round_trip_with_their_context_and_refuse_another() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("kms").await;
    let emulator = Emulator::start().await;
    let key_arn = emulator.key().await;
    let crypto = ObjectCrypto::new(KmsKeyring::new(&key_arn, emulator.client.clone()).unwrap());
    let tenant = context(&[("tenant", "acme")]);
    for instruction_file in [false, true] {
        let client = S3EncryptionClient::new(s3.clone(), crypto.clone()).instruction_file(instruction_file);
        let key = format!("kms-{instruction_file}");
        let options = PutOptions::new().encryption_context(tenant.clone());
        client.put_bytes(&bucket, &key, b"kms object".to_vec(), &options).await.unwrap();
        assert_eq!(client.get_bytes(&bucket, &key, &tenant).await.unwrap(), b"kms object");
        for wrong in [no_context(), context(&[("tenant", "other")]), context(&[("tenant", "acme"), ("x", "y")])] {
            let error = client.get_bytes(&bucket, &key, &wrong).await.unwrap_err();
            assert!(matches!(error, Error::Security(SecurityError::EncryptionContextMismatch)), "{error}");
        }
    }
    // The reserved key is refused before anything is written.
    let client = S3EncryptionClient::new(s3.clone(), crypto);
    let reserved = PutOptions::new().encryption_context(context(&[("aws:x-amz-cek-alg", "115")]));
    assert!(client.put_bytes(&bucket, "reserved", b"x".to_vec(), &reserved).await.is_err());
    assert!(!exists(&s3, &bucket, "reserved").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_puts_are_one_gcm_stream_and_read_back_under_every_policy() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("multipart").await;
    let plaintext = pattern(11 * MIB + 3, 9);
    // Parts in flight do not change the bytes: one at a time, and all three at once.
    for (crypto, in_flight) in [(aes_crypto(), 3), (v2(aes_crypto()), 1)] {
        let reading = crypto.clone().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
        let writer = S3EncryptionClient::new(s3.clone(), crypto.clone())
            .with_multipart_threshold(5 * MIB as u64)
            .part_size(5 * MIB)
            .unwrap()
            .with_parts_in_flight(in_flight)
            .unwrap();
        for instruction_file in [false, true] {
            let key = format!("big-{}-{instruction_file}", crypto.suite());
            let options = PutOptions::new().instruction_file(instruction_file);
            // From a reader (a file-like stream), so the size is not known in advance.
            let outcome = writer.put_object(&bucket, &key, &plaintext[..], &options).await.unwrap();
            assert_eq!((outcome.parts, outcome.plaintext_length), (3, plaintext.len() as u64));
            assert_eq!(raw_body(&s3, &bucket, &key).await.len(), plaintext.len() + 16);
            // In memory (a memory limit above the object), through the spool file (a limit below
            // it) and with delayed authentication: the same bytes.
            for (limit, authentication) in [
                (64 * MIB as u64, Authentication::VerifyFirst),
                (MIB as u64, Authentication::VerifyFirst),
                (MIB as u64, Authentication::Delayed),
            ] {
                let reader = S3EncryptionClient::new(s3.clone(), reading.clone().max_buffer(limit))
                    .authentication(authentication);
                let mut object = reader.get_object(&bucket, &key, &no_context()).await.unwrap();
                assert_eq!(object.authentication(), authentication);
                assert_eq!(object.plaintext_length(), Some(plaintext.len() as u64));
                let mut out = Vec::new();
                object.read_to_end(&mut out).await.unwrap();
                assert!(out == plaintext, "{key} limit {limit} {authentication:?}");
            }
        }
    }
    // The low-level calls: parts given one by one, the last one carries the tag.
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto());
    let mut upload = client.create_multipart_upload(&bucket, "manual", &PutOptions::new()).await.unwrap();
    upload.upload_part(plaintext[..5 * MIB].to_vec()).await.unwrap();
    upload.upload_part(plaintext[5 * MIB..10 * MIB].to_vec()).await.unwrap();
    let outcome = upload.complete(plaintext[10 * MIB..].to_vec()).await.unwrap();
    assert_eq!(outcome.parts, 3);
    assert!(client.get_bytes(&bucket, "manual", &no_context()).await.unwrap() == plaintext);
    // An aborted upload leaves no object.
    let mut upload = client.create_multipart_upload(&bucket, "aborted", &PutOptions::new()).await.unwrap();
    upload.upload_part(vec![0; 5 * MIB]).await.unwrap();
    upload.abort().await.unwrap();
    assert!(!exists(&s3, &bucket, "aborted").await);
}

/// A reader that fails after `good` bytes, like a dropped connection or a full disk.
struct FailingReader {
    good: usize,
}

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.good == 0 {
            return std::task::Poll::Ready(Err(std::io::Error::other("source failed")));
        }
        let count = self.good.min(buf.remaining()).min(64 << 10);
        buf.put_slice(&vec![1; count]);
        self.good -= count;
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_multipart_put_leaves_no_object_and_no_upload() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("interrupted").await;
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto())
        .with_multipart_threshold(5 * MIB as u64)
        .part_size(5 * MIB)
        .unwrap();
    let error =
        client.put_object(&bucket, "broken", FailingReader { good: 7 * MIB }, &PutOptions::new()).await.unwrap_err();
    assert!(matches!(error, Error::Io(_)), "{error}");
    assert!(!exists(&s3, &bucket, "broken").await);
    let uploads = s3.list_multipart_uploads().bucket(&bucket).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "the failed upload was aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bodies_and_metadata_are_security_errors_with_no_plaintext() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("tamper").await;
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto());
    let small = pattern(1000, 3);
    let large = pattern(3 * MIB, 4);
    for (key, plaintext) in [("small", &small), ("large", &large)] {
        client.put_bytes(&bucket, key, plaintext.clone(), &PutOptions::new()).await.unwrap();
        let metadata = user_metadata(&s3, &bucket, key).await;
        let mut body = raw_body(&s3, &bucket, key).await;
        let middle = body.len() / 2;
        body[middle] ^= 1;
        let forged = format!("{key}-forged-body");
        s3.put_object()
            .bucket(&bucket)
            .key(&forged)
            .set_metadata(Some(metadata.clone().into_iter().collect()))
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        // Verify-first, in memory or through the spool: refused before any byte.
        for limit in [64 * MIB as u64, 64 << 10] {
            let reader = S3EncryptionClient::new(s3.clone(), aes_crypto().max_buffer(limit));
            let error = reader.get_object(&bucket, &forged, &no_context()).await.err().unwrap();
            assert!(matches!(error, Error::Security(SecurityError::TagMismatch)), "{key} {limit}: {error}");
        }
        // Delayed: the stream ends in an error instead of end-of-file.
        let delayed = S3EncryptionClient::new(s3.clone(), aes_crypto()).authentication(Authentication::Delayed);
        let mut object = delayed.get_object(&bucket, &forged, &no_context()).await.unwrap();
        let error = object.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);

        // A wrong commitment is refused before the body is decrypted.
        let mut wrong_commitment = metadata.clone();
        let d = wrong_commitment.get_mut("x-amz-d").unwrap();
        *d = if d.starts_with('A') { d.replacen('A', "B", 1) } else { format!("A{}", &d[1..]) };
        let key_d = format!("{key}-forged-commitment");
        s3.copy_object()
            .bucket(&bucket)
            .key(&key_d)
            .copy_source(format!("{bucket}/{key}"))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .set_metadata(Some(wrong_commitment.into_iter().collect()))
            .send()
            .await
            .unwrap();
        let error = client.get_bytes(&bucket, &key_d, &no_context()).await.unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)), "{error}");

        // Keys of two versions together.
        let mut mixed = metadata.clone();
        mixed.insert("x-amz-key-v2".into(), "AAAA".into());
        let key_m = format!("{key}-mixed");
        s3.copy_object()
            .bucket(&bucket)
            .key(&key_m)
            .copy_source(format!("{bucket}/{key}"))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .set_metadata(Some(mixed.into_iter().collect()))
            .send()
            .await
            .unwrap();
        let error = client.get_bytes(&bucket, &key_m, &no_context()).await.unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::MixedFormats { .. })), "{error}");
    }
    // c/d/i pasted into an instruction file.
    let with_file = S3EncryptionClient::new(s3.clone(), aes_crypto()).instruction_file(true);
    with_file.put_bytes(&bucket, "file", b"secret".to_vec(), &PutOptions::new()).await.unwrap();
    let json = String::from_utf8(raw_body(&s3, &bucket, "file.instruction").await).unwrap();
    let mut file: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
    file.insert("x-amz-d".into(), user_metadata(&s3, &bucket, "file").await["x-amz-d"].clone());
    s3.put_object()
        .bucket(&bucket)
        .key("file.instruction")
        .body(ByteStream::from(serde_json::to_vec(&file).unwrap()))
        .send()
        .await
        .unwrap();
    let error = with_file.get_bytes(&bucket, "file", &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::Security(SecurityError::InstructionFileTampered { .. })), "{error}");
    // Another key: refused (wrapped key does not open).
    let other = S3EncryptionClient::new(
        s3.clone(),
        ObjectCrypto::new(AesGcmKeyring::new(vec![8; 32], BTreeMap::new()).unwrap()),
    );
    assert!(other.get_bytes(&bucket, "small", &no_context()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_reads_match_whole_object_decryption_and_need_the_opt_in() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("ranges").await;
    let writer = S3EncryptionClient::new(s3.clone(), aes_crypto());
    let ranged = S3EncryptionClient::new(s3.clone(), aes_crypto().legacy_unauthenticated_modes(true));
    let ranged_v2 = S3EncryptionClient::new(
        s3.clone(),
        aes_crypto().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt).legacy_unauthenticated_modes(true),
    );
    let plaintext = pattern(100, 5);
    writer.put_bytes(&bucket, "v3", plaintext.clone(), &PutOptions::new()).await.unwrap();
    S3EncryptionClient::new(s3.clone(), v2(aes_crypto()))
        .instruction_file(true)
        .put_bytes(&bucket, "v2", plaintext.clone(), &PutOptions::new())
        .await
        .unwrap();
    let length = plaintext.len() as u64;
    let mut ranges = Vec::new();
    for first in [0u64, 1, 15, 16, 17, 31, 32, 50, 98, 99] {
        for last in [first, first + 1, first + 14, first + 15, first + 16, 99, 100, 115, 1000] {
            ranges.push(ByteRange::Closed { first, last });
        }
        ranges.push(ByteRange::From { first });
    }
    for suffix in [1u64, 15, 16, 17, 99, 100, 101, 5000] {
        ranges.push(ByteRange::Suffix { length: suffix });
    }
    for (client, key) in [(&ranged, "v3"), (&ranged_v2, "v2")] {
        for range in &ranges {
            let expected = range.resolve(length).unwrap();
            let got = client.get_range(&bucket, key, *range, &no_context()).await.unwrap();
            assert_eq!(got, &plaintext[expected.start as usize..expected.end as usize], "{key} {range}");
        }
        for past in ["bytes=100-", "bytes=100-200", "bytes=5000-5001", "bytes=-0"] {
            let error = client.get_range(&bucket, key, past.parse().unwrap(), &no_context()).await.unwrap_err();
            assert!(matches!(error, Error::InvalidRange(_)), "{past}: {error}");
        }
    }
    // Multipart objects too, across part boundaries.
    let big = pattern(10 * MIB + 100, 6);
    S3EncryptionClient::new(s3.clone(), aes_crypto())
        .with_multipart_threshold(5 * MIB as u64)
        .part_size(5 * MIB)
        .unwrap()
        .put_bytes(&bucket, "big", big.clone(), &PutOptions::new())
        .await
        .unwrap();
    for (first, last) in
        [(5 * MIB - 7, 5 * MIB + 9), (0, 0), (10 * MIB + 99, 10 * MIB + 99), (10 * MIB, 20 * MIB), (1001, 3 * MIB + 5)]
    {
        let got = ranged
            .get_range(&bucket, "big", ByteRange::Closed { first: first as u64, last: last as u64 }, &no_context())
            .await
            .unwrap();
        assert_eq!(got, &big[first..(last + 1).min(big.len())]);
    }
    // Streamed: many chunks at unaligned offsets, in bounded memory.
    let mut stream =
        ranged.get_range_stream(&bucket, "big", "bytes=17-".parse().unwrap(), &no_context()).await.unwrap();
    assert_eq!((stream.range(), stream.object_length()), (17..big.len() as u64, big.len() as u64));
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    assert!(out == big[17..]);
    // Without the opt-in: refused, whatever the range.
    let error = writer.get_range(&bucket, "v3", "bytes=0-1".parse().unwrap(), &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::Policy(PolicyViolation::UnauthenticatedRange)), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_object_and_its_instruction_file() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("delete").await;
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto()).instruction_file(true);
    client.put_bytes(&bucket, "doomed", b"bye".to_vec(), &PutOptions::new()).await.unwrap();
    assert!(exists(&s3, &bucket, "doomed").await && exists(&s3, &bucket, "doomed.instruction").await);
    client.delete_object(&bucket, "doomed").await.unwrap();
    assert!(!exists(&s3, &bucket, "doomed").await);
    assert!(!exists(&s3, &bucket, "doomed.instruction").await);
    // Objects without an instruction file delete fine too.
    let plain = S3EncryptionClient::new(s3.clone(), aes_crypto());
    plain.put_bytes(&bucket, "solo", b"x".to_vec(), &PutOptions::new()).await.unwrap();
    plain.delete_object(&bucket, "solo").await.unwrap();
    assert!(!exists(&s3, &bucket, "solo").await);
    let error = plain.get_bytes(&bucket, "solo", &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::S3 { operation: "GetObject", .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruction_files_are_rewrapped_under_a_new_key_without_touching_the_object() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("rotation").await;
    let old = aes_crypto();
    let new_keyring = || AesGcmKeyring::new(vec![9; 32], context(&[("generation", "2")])).unwrap();
    for crypto in [old.clone(), v2(old.clone())] {
        let reading = |c: ObjectCrypto| c.commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
        let client = S3EncryptionClient::new(s3.clone(), crypto.clone()).instruction_file(true);
        let key = format!("rotate-{}", crypto.suite());
        client.put_bytes(&bucket, &key, b"rotate me".to_vec(), &PutOptions::new()).await.unwrap();
        let body_before = raw_body(&s3, &bucket, &key).await;
        S3EncryptionClient::new(s3.clone(), reading(crypto.clone()))
            .rewrap_instruction_file(&bucket, &key, &new_keyring(), &no_context())
            .await
            .unwrap();
        assert_eq!(raw_body(&s3, &bucket, &key).await, body_before, "the object is untouched");
        let new_reader = S3EncryptionClient::new(s3.clone(), reading(ObjectCrypto::new(new_keyring())));
        assert_eq!(new_reader.get_bytes(&bucket, &key, &no_context()).await.unwrap(), b"rotate me");
        let old_reader = S3EncryptionClient::new(s3.clone(), reading(crypto.clone()));
        assert!(old_reader.get_bytes(&bucket, &key, &no_context()).await.is_err(), "the old key no longer opens it");
    }
    // Metadata in the object: refused, nothing written.
    let client = S3EncryptionClient::new(s3.clone(), aes_crypto());
    client.put_bytes(&bucket, "in-object", b"x".to_vec(), &PutOptions::new()).await.unwrap();
    let error = client.rewrap_instruction_file(&bucket, "in-object", &new_keyring(), &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::Usage(_)), "{error}");
    assert!(!exists(&s3, &bucket, "in-object.instruction").await);
}

#[test]
fn operations_are_send_so_they_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    let config = aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build();
    let client = S3EncryptionClient::new(aws_sdk_s3::Client::from_conf(config), aes_crypto());
    let context = no_context();
    send(&client);
    send(&client.put_object("b", "k", &b"x"[..], &PutOptions::new()));
    send(&client.put_bytes("b", "k", Vec::new(), &PutOptions::new()));
    send(&client.get_object("b", "k", &context));
    send(&client.get_range_stream("b", "k", ByteRange::From { first: 0 }, &context));
    send(&client.create_multipart_upload("b", "k", &PutOptions::new()));
    send(&client.delete_object("b", "k"));
}
