//! Strict mode: SigV4 authentication, key policies, grants, audit and GetKeyLastUsage.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation};

use common::{as_user, strict_settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_errors() {
    let srv = common::start(strict_settings("authn")).await;
    let bad_secret = common::client_with(&srv.endpoint, "us-east-1", "AKIAALICE", "wrong").await;
    let err = bad_secret.list_keys().send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidSignatureException");
    let unknown = common::client_with(&srv.endpoint, "us-east-1", "AKIANOBODY", "x").await;
    let err = unknown.list_keys().send().await.unwrap_err();
    assert_eq!(common::code(&err), "UnrecognizedClientException");
    let alice = as_user(&srv, "alice").await;
    alice.list_keys().send().await.unwrap();
    // No signature at all.
    let resp = unsigned_post(&srv.endpoint).await;
    assert!(resp.contains("MissingAuthenticationToken"), "{resp}");
    srv.stop().await;
}

async fn unsigned_post(endpoint: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_grants_and_audit() {
    let settings = strict_settings("authz");
    let data_dir = settings.data_dir.clone();
    let srv = common::start(settings).await;
    let alice = as_user(&srv, "alice").await;
    let bob = as_user(&srv, "bob").await;
    let key = alice.create_key().send().await.unwrap().key_metadata.unwrap();
    let arn = key.arn.clone().unwrap();

    // The default policy lets alice's account do anything; bob is another account.
    alice.encrypt().key_id(&arn).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap();
    let err = bob.encrypt().key_id(&arn).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // A grant with an encryption-context constraint lets bob in, usable at once.
    let grant = alice
        .create_grant()
        .key_id(&key.key_id)
        .grantee_principal("arn:aws:iam::444455556666:user/bob")
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .constraints(GrantConstraints::builder().encryption_context_subset("purpose", "test").build())
        .send()
        .await
        .unwrap();
    let ct = bob
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("purpose", "test")
        .grant_tokens(grant.grant_token.clone().unwrap())
        .send()
        .await
        .unwrap();
    let err = bob.encrypt().key_id(&arn).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let listed = alice.list_grants().key_id(&key.key_id).send().await.unwrap();
    assert_eq!(listed.grants().len(), 1);
    alice.revoke_grant().key_id(&key.key_id).grant_id(grant.grant_id.unwrap()).send().await.unwrap();
    let err = bob
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob.unwrap())
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // A policy that would lock alice out is refused; an explicit deny is honoured.
    let lockout = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Encrypt","Resource":"*"}]}"#;
    let err = alice.put_key_policy().key_id(&key.key_id).policy(lockout).send().await.unwrap_err();
    assert_eq!(common::code(&err), "MalformedPolicyDocumentException");
    let deny = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
        {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*",
         "Condition":{"StringEquals":{"kms:EncryptionContext:tier":"secret"}}}]}"#;
    alice.put_key_policy().key_id(&key.key_id).policy(deny).send().await.unwrap();
    alice
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("tier", "public")
        .send()
        .await
        .unwrap();
    let err = alice
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("tier", "secret")
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // The explicit deny wins over a grant too.
    let own_grant = alice
        .create_grant()
        .key_id(&key.key_id)
        .grantee_principal("arn:aws:iam::111122223333:user/alice")
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    let err = alice
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("tier", "secret")
        .grant_tokens(own_grant.grant_token.unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let policy = alice.get_key_policy().key_id(&key.key_id).send().await.unwrap().policy.unwrap();
    assert!(policy.contains("Deny"));

    let usage = alice.get_key_last_usage().key_id(&key.key_id).send().await.unwrap();
    assert_eq!(usage.key_last_usage.unwrap().operation.unwrap().as_str(), "Encrypt");
    srv.stop().await;

    // Every request is audited, without plaintext.
    let events = envelope_kms_local::read_audit(&data_dir, Some(&key.key_id), None, 1000).unwrap();
    assert!(events.len() >= 8, "{}", events.len());
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("\"Plaintext\"") && !text.contains("eA=="));
    assert!(text.contains("AccessDeniedException"));
    assert!(text.contains("arn:aws:iam::444455556666:user/bob"));
    assert!(
        events
            .iter()
            .any(|e| e["eventName"] == "Encrypt" && e["requestParameters"]["encryptionContext"]["tier"] == "public")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_file_gives_fixed_ids_and_material() {
    let mut settings = common::settings("seed");
    let seed = settings.data_dir.join("seed.yaml");
    std::fs::write(
        &seed,
        "keys:\n  - id: 11111111-2222-3333-4444-555555555555\n    description: vectors\n    material: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n    aliases: [alias/vectors]\n  - id: mrk-0123456789abcdef0123456789abcdef\n    replicas: [eu-west-1]\n",
    )
    .unwrap();
    settings.seed = Some(seed.clone());
    let srv = common::start(settings.clone()).await;
    let kms = common::client(&srv.endpoint).await;
    let ct = kms.encrypt().key_id("alias/vectors").plaintext(Blob::new(b"v".to_vec())).send().await.unwrap();
    assert!(ct.key_id.unwrap().ends_with("11111111-2222-3333-4444-555555555555"));
    let eu = common::client_with(&srv.endpoint, "eu-west-1", "AKID", "s").await;
    eu.describe_key().key_id("mrk-0123456789abcdef0123456789abcdef").send().await.unwrap();
    srv.stop().await;

    // The same seed and material in another data dir decrypts the same blob: reproducible vectors.
    let mut other = common::settings("seed2");
    other.seed = Some(seed);
    let srv = common::start(other).await;
    let kms = common::client(&srv.endpoint).await;
    let pt = kms.decrypt().ciphertext_blob(ct.ciphertext_blob.unwrap()).send().await.unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"v");
    srv.stop().await;
}
