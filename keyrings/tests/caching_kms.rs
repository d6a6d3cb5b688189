//! The caching materials manager over the KMS keyring, with KMS calls counted on the emulator's
//! audit log: 10,000 messages make one GenerateDataKey to write and one Decrypt to read, and the
//! message limit brings exactly as many new data keys as it should.

mod kms_common;

use std::time::Duration;

use envelope::cmm::{CachingMaterialsManager, LocalMaterialsCache};
use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::kms::AwsKmsKeyring;
use kms_common::Emulator;

/// A client whose caching manager (over a KMS keyring for `key`) has its own cache.
fn caching_client(emu: &Emulator, key: &str, max_messages: u64) -> Client {
    let keyring = AwsKmsKeyring::new(key, emu.client("us-east-1")).unwrap();
    let cmm =
        CachingMaterialsManager::builder_with_keyring(keyring, LocalMaterialsCache::new(10), Duration::from_secs(60))
            .max_messages_encrypted(max_messages)
            .build()
            .unwrap();
    Client::new(cmm)
}

/// Writes `count` small messages through one caching client and reads them back through another.
async fn write_and_read(emu: &Emulator, key: &str, count: u32, suite: AlgorithmSuite, max_messages: u64) {
    let writer = caching_client(emu, key, max_messages);
    let reader = caching_client(emu, key, max_messages);
    let options = EncryptOptions::new()
        .encryption_context(EncryptionContext::from([("tenant", "acme"), ("table", "orders")]))
        .algorithm_suite(suite);
    let mut messages = Vec::with_capacity(count as usize);
    for n in 0..count {
        messages.push(writer.encrypt(&n.to_be_bytes(), &options).await.unwrap());
    }
    for (n, message) in (0..count).zip(&messages) {
        assert_eq!(reader.decrypt(message, &DecryptOptions::new()).await.unwrap().plaintext, n.to_be_bytes());
    }
}

fn count(calls: &[String], operation: &str) -> usize {
    calls.iter().filter(|call| *call == operation).count()
}

/// The calls by operation, for failure messages (a failing run can make 10,000 calls).
fn summary(calls: &[String]) -> std::collections::BTreeMap<&str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for call in calls {
        *counts.entry(call.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_make_one_kms_call_each_way() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    write_and_read(&emu, &key, 10_000, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, 1 << 32).await;
    let calls = emu.stop_and_read_audit().await;
    assert_eq!(count(&calls, "GenerateDataKey"), 1, "{:?}", summary(&calls));
    assert_eq!(count(&calls, "Decrypt"), 1, "{:?}", summary(&calls));
    assert_eq!(count(&calls, "Encrypt"), 0, "{:?}", summary(&calls));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_messages_past_the_message_limit_make_one_call_per_data_key() {
    let emu = Emulator::start().await;
    let key = emu.symmetric_key("us-east-1").await;
    // 250 messages at 100 per data key: three data keys, each generated and decrypted once.
    write_and_read(&emu, &key, 250, AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384, 100).await;
    let calls = emu.stop_and_read_audit().await;
    assert_eq!(count(&calls, "GenerateDataKey"), 3, "{:?}", summary(&calls));
    assert_eq!(count(&calls, "Decrypt"), 3, "{:?}", summary(&calls));
}
