//! Authorization as strict as KMS (issue 13): grants created through grants stay within their
//! parent, RetireGrant follows the grant, aliases are authorized on their current target, policy
//! conditions on request facts are evaluated (and fail closed when they cannot be), SigV4 scopes
//! are checked, and key policies apply in permissive mode too.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation, KeySpec, KeyUsageType, SigningAlgorithmSpec};

const OWNER: &str = "111122223333";
const BOB: &str = "arn:aws:iam::444455556666:user/bob";
const CAROL: &str = "arn:aws:iam::777788889999:user/carol";
const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";

use common::{as_user, strict_settings};

fn tenant(value: &str) -> GrantConstraints {
    GrantConstraints::builder().encryption_context_subset("tenant", value).build()
}

fn pt() -> Blob {
    Blob::new(b"secret".to_vec())
}

/// The default key policy plus `extra` statements (JSON objects, comma-separated).
fn policy_with(extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OWNER}:root"}},"Action":"kms:*","Resource":"*"}},
            {extra}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_grant_through_a_grant_stays_within_the_parent() {
    let srv = common::start(strict_settings("grant-chain")).await;
    let alice = as_user(&srv, "alice").await;
    let bob = as_user(&srv, "bob").await;
    let arn = alice.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let b_data = alice.encrypt().key_id(&arn).plaintext(pt()).encryption_context("tenant", "b").send().await.unwrap();

    // Bob may decrypt tenant=a data and create grants, through a grant constrained to tenant=a.
    alice
        .create_grant()
        .key_id(&arn)
        .grantee_principal(BOB)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::CreateGrant)
        .constraints(tenant("a"))
        .send()
        .await
        .unwrap();

    // An unconstrained grant for himself would reach tenant=b: refused.
    let err = bob
        .create_grant()
        .key_id(&arn)
        .grantee_principal(BOB)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // A looser constraint, or one on another tenant: refused.
    for c in [tenant("b"), GrantConstraints::builder().encryption_context_subset("other", "x").build()] {
        let err = bob
            .create_grant()
            .key_id(&arn)
            .grantee_principal(BOB)
            .operations(GrantOperation::Decrypt)
            .constraints(c)
            .send()
            .await
            .unwrap_err();
        assert_eq!(common::code(&err), "AccessDeniedException");
    }
    // Operations the parent does not have: refused.
    let err = bob
        .create_grant()
        .key_id(&arn)
        .grantee_principal(BOB)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::Encrypt)
        .constraints(tenant("a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // Equal or stricter: allowed (here for carol, with an extra pair).
    bob.create_grant()
        .key_id(&arn)
        .grantee_principal(CAROL)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("tenant", "a")
                .encryption_context_subset("x", "y")
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Whatever bob managed to create, tenant=b data stays out of reach.
    let err = bob
        .decrypt()
        .key_id(&arn)
        .ciphertext_blob(b_data.ciphertext_blob.unwrap())
        .encryption_context("tenant", "b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // A grant without CreateGrant gives no CreateGrant at all.
    let carol = as_user(&srv, "carol").await;
    let err = carol
        .create_grant()
        .key_id(&arn)
        .grantee_principal(CAROL)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retire_and_revoke_follow_kms_rules() {
    let srv = common::start(strict_settings("grant-retire")).await;
    let alice = as_user(&srv, "alice").await;
    let bob = as_user(&srv, "bob").await;
    let carol = as_user(&srv, "carol").await;
    let arn = alice.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let grant = |who: &'static str, ops: Vec<GrantOperation>| {
        let alice = alice.clone();
        let arn = arn.clone();
        async move {
            alice
                .create_grant()
                .key_id(&arn)
                .grantee_principal(who)
                .set_operations(Some(ops))
                .send()
                .await
                .unwrap()
                .grant_id
                .unwrap()
        }
    };
    let bobs = grant(BOB, vec![GrantOperation::Decrypt]).await;
    let carols = grant(CAROL, vec![GrantOperation::Decrypt, GrantOperation::RetireGrant]).await;

    // Carol's RetireGrant permission covers her own grant, not bob's.
    let err = carol.retire_grant().key_id(&arn).grant_id(&bobs).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // Bob's grant lacks RetireGrant, so bob cannot retire it himself.
    let err = bob.retire_grant().key_id(&arn).grant_id(&bobs).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // RevokeGrant needs kms:RevokeGrant from the key policy, which neither grantee has.
    let err = carol.revoke_grant().key_id(&arn).grant_id(&bobs).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    carol.retire_grant().key_id(&arn).grant_id(&carols).send().await.unwrap();

    // A retiring principal may retire; the key's account may revoke and retire.
    let with_retirer = alice
        .create_grant()
        .key_id(&arn)
        .grantee_principal(BOB)
        .retiring_principal(CAROL)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap()
        .grant_id
        .unwrap();
    carol.retire_grant().key_id(&arn).grant_id(&with_retirer).send().await.unwrap();
    alice.retire_grant().key_id(&arn).grant_id(&bobs).send().await.unwrap();
    let left = alice.list_grants().key_id(&arn).send().await.unwrap();
    assert!(left.grants().is_empty(), "{:?}", left.grants());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_changes_are_authorized_on_the_current_target() {
    let srv = common::start(strict_settings("alias-authz")).await;
    let alice = as_user(&srv, "alice").await;
    let mallory = as_user(&srv, "mallory").await;
    // The victim key denies mallory everything; mallory owns another key in the same account.
    let deny_mallory =
        format!(r#"{{"Effect":"Deny","Principal":{{"AWS":"{MALLORY}"}},"Action":"kms:*","Resource":"*"}}"#);
    let victim =
        alice.create_key().policy(policy_with(&deny_mallory)).send().await.unwrap().key_metadata.unwrap().key_id;
    let own = mallory.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    alice.create_alias().alias_name("alias/app").target_key_id(&victim).send().await.unwrap();

    // Re-pointing alias/app at her own key would capture everything encrypted "to alias/app".
    let err = mallory.update_alias().alias_name("alias/app").target_key_id(&own).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let err = mallory.delete_alias().alias_name("alias/app").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let aliases = alice.list_aliases().key_id(&victim).send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);

    // Alice, allowed on both keys, may move it.
    alice.update_alias().alias_name("alias/app").target_key_id(&own).send().await.unwrap();
    alice.delete_alias().alias_name("alias/app").send().await.unwrap();
    srv.stop().await;
}

/// A key whose policy is the default one plus `deny` (a Deny statement on everyone).
async fn key_denying(alice: &aws_sdk_kms::Client, deny: &str) -> String {
    alice.create_key().policy(policy_with(deny)).send().await.unwrap().key_metadata.unwrap().arn.unwrap()
}

fn deny(action: &str, condition: &str) -> String {
    format!(r#"{{"Effect":"Deny","Principal":"*","Action":"{action}","Resource":"*","Condition":{condition}}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_conditions_on_request_facts() {
    let srv = common::start(strict_settings("conditions")).await;
    let alice = as_user(&srv, "alice").await;

    // aws:SecureTransport is false over plain HTTP: the classic "deny without TLS" denies.
    let arn = key_denying(&alice, &deny("kms:Encrypt", r#"{"Bool":{"aws:SecureTransport":"false"}}"#)).await;
    let err = alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // aws:SourceIp is the client address: a deny for another network does not apply.
    let arn =
        key_denying(&alice, &deny("kms:Encrypt", r#"{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}"#))
            .await;
    alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap();
    let arn = key_denying(&alice, &deny("kms:Encrypt", r#"{"IpAddress":{"aws:SourceIp":"127.0.0.1/32"}}"#)).await;
    let err = alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // kms:EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT when the request omits it.
    let arn = key_denying(
        &alice,
        &deny("kms:Encrypt", r#"{"StringEquals":{"kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#),
    )
    .await;
    let err = alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // kms:SigningAlgorithm.
    let ecc = alice
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .policy(policy_with(&deny("kms:Sign", r#"{"StringEquals":{"kms:SigningAlgorithm":"ECDSA_SHA_256"}}"#)))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let err = alice
        .sign()
        .key_id(&ecc)
        .message(pt())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // kms:GrantOperations: no grant may include Decrypt.
    let arn = key_denying(
        &alice,
        &deny("kms:CreateGrant", r#"{"ForAnyValue:StringEquals":{"kms:GrantOperations":"Decrypt"}}"#),
    )
    .await;
    let err = alice
        .create_grant()
        .key_id(&arn)
        .grantee_principal(BOB)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    alice.create_grant().key_id(&arn).grantee_principal(BOB).operations(GrantOperation::Encrypt).send().await.unwrap();

    // kms:RequestAlias: the alias the request named the key by.
    let arn =
        key_denying(&alice, &deny("kms:Encrypt", r#"{"StringEquals":{"kms:RequestAlias":"alias/blocked"}}"#)).await;
    alice.create_alias().alias_name("alias/blocked").target_key_id(&arn).send().await.unwrap();
    let err = alice.encrypt().key_id("alias/blocked").plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap();

    // kms:CallerAccount and aws:PrincipalArn, kms:EncryptionContext:*, kms:EncryptionContextKeys.
    let arn = key_denying(
        &alice,
        &deny(
            "kms:Encrypt",
            &format!(r#"{{"StringEquals":{{"kms:CallerAccount":"{OWNER}","aws:PrincipalArn":"arn:aws:iam::{OWNER}:user/alice","kms:EncryptionContext:stage":"prod"}},"ForAnyValue:StringLike":{{"kms:EncryptionContextKeys":"st*"}}}}"#),
        ),
    )
    .await;
    alice.encrypt().key_id(&arn).plaintext(pt()).encryption_context("stage", "dev").send().await.unwrap();
    let err =
        alice.encrypt().key_id(&arn).plaintext(pt()).encryption_context("stage", "prod").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");

    // A key the emulator cannot know (principal tags come from IAM) fails closed: a Deny on it
    // denies, and an Allow on it does not allow.
    let arn = key_denying(&alice, &deny("kms:Encrypt", r#"{"StringEquals":{"aws:PrincipalTag/team":"red"}}"#)).await;
    let err = alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let bob = as_user(&srv, "bob").await;
    let allow_bob = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{BOB}"}},"Action":"kms:Encrypt","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"blue"}}}}}}"#
    );
    let arn = key_denying(&alice, &allow_bob).await;
    let err = bob.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_check_answers_conditions_from_the_request() {
    let srv = common::start(strict_settings("lockout-facts")).await;
    let alice = as_user(&srv, "alice").await;
    let arn = alice.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    // "Nothing from outside loopback": alice calls from 127.0.0.1, so she keeps every right,
    // and KMS's lockout check, which evaluates the policy with this request's facts, accepts it.
    let loopback_only = policy_with(&deny("kms:*", r#"{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}"#));
    alice.put_key_policy().key_id(&arn).policy(&loopback_only).send().await.unwrap();
    alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap();
    alice.put_key_policy().key_id(&arn).policy(&loopback_only).send().await.unwrap();
    let created = alice.create_key().policy(&loopback_only).send().await.unwrap().key_metadata.unwrap();
    alice.encrypt().key_id(created.key_id()).plaintext(pt()).send().await.unwrap();

    // A policy that would lock her out from where she calls is still refused: policy updates only
    // from another network, or only over TLS (the emulator serves plain HTTP).
    let elsewhere = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OWNER}:root"}},"Action":"kms:*","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}]}}"#
    );
    let err = alice.put_key_policy().key_id(&arn).policy(elsewhere).send().await.unwrap_err();
    assert_eq!(common::code(&err), "MalformedPolicyDocumentException");
    let tls_only = policy_with(&deny("kms:PutKeyPolicy", r#"{"Bool":{"aws:SecureTransport":"false"}}"#));
    let err = alice.put_key_policy().key_id(&arn).policy(tls_only).send().await.unwrap_err();
    assert_eq!(common::code(&err), "MalformedPolicyDocumentException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reencrypt_on_same_key_is_known() {
    let srv = common::start(strict_settings("reencrypt-same")).await;
    let alice = as_user(&srv, "alice").await;
    // The documented use: forbid ReEncrypt onto the same key, allow moving to another key.
    let arn = key_denying(&alice, &deny("kms:ReEncrypt*", r#"{"Bool":{"kms:ReEncryptOnSameKey":"true"}}"#)).await;
    let other = alice.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let blob = alice.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap().ciphertext_blob.unwrap();

    let err = alice.re_encrypt().ciphertext_blob(blob.clone()).destination_key_id(&arn).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    // Named explicitly as the source too.
    let err = alice
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_key_id(&arn)
        .destination_key_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let moved = alice.re_encrypt().ciphertext_blob(blob).destination_key_id(&other).send().await.unwrap();
    assert_eq!(moved.key_id(), Some(other.as_str()));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissive_mode_applies_key_policies_as_the_account_root() {
    let srv = common::start(common::settings("permissive-policy")).await;
    let kms = common::client(&srv.endpoint).await;
    // The default policy allows the account root, which is what a permissive caller is.
    let open = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    kms.encrypt().key_id(&open).plaintext(pt()).send().await.unwrap();

    let arn = kms
        .create_key()
        .policy(policy_with(r#"{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*"}"#))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let err = kms.encrypt().key_id(&arn).plaintext(pt()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    kms.describe_key().key_id(&arn).send().await.unwrap();
    kms.generate_data_key().key_id(&arn).number_of_bytes(32).send().await.unwrap();

    // A policy that no longer lets the caller manage the key is refused, as in strict mode.
    let lockout = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}]}"#;
    let err = kms.put_key_policy().key_id(&open).policy(lockout).send().await.unwrap_err();
    assert_eq!(common::code(&err), "MalformedPolicyDocumentException");
    srv.stop().await;
}

/// Sends a ListKeys request signed by aws-sigv4 for `service`/`region` as alice; with
/// `sign_target` false the x-amz-target header is added after signing. Returns the raw response.
async fn signed_list_keys(endpoint: &str, service: &str, region: &str, sign_target: bool) -> String {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let addr = endpoint.trim_start_matches("http://");
    let uri = format!("http://{addr}/");
    let body = b"{}";
    let mut headers = vec![
        ("content-type".to_string(), "application/x-amz-json-1.1".to_string()),
        ("content-length".to_string(), body.len().to_string()),
        ("host".to_string(), addr.to_string()),
    ];
    let target = ("x-amz-target".to_string(), "TrentService.ListKeys".to_string());
    if sign_target {
        headers.push(target.clone());
    }
    let identity: Identity = Credentials::new("AKIAALICE", "alice-secret", None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder().method("POST").uri(&uri);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let mut req = req.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    if !sign_target {
        req.headers_mut().insert("x-amz-target", target.1.parse().unwrap());
    }
    let mut text = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        text.push_str(&format!("{}: {}\r\n", k, v.to_str().unwrap()));
    }
    text.push_str("connection: close\r\n\r\n{}");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(text.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_scope_must_be_kms_in_a_valid_region_with_a_signed_target() {
    let srv = common::start(strict_settings("sigv4-scope")).await;
    let ok = signed_list_keys(&srv.endpoint, "kms", "us-gov-west-1", true).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let ok = signed_list_keys(&srv.endpoint, "kms", "cn-north-1", true).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");

    // A signature for another service is not a KMS signature.
    let resp = signed_list_keys(&srv.endpoint, "s3", "us-east-1", true).await;
    assert!(resp.contains("InvalidSignatureException") && resp.contains("'kms'"), "{resp}");
    // The Region goes into ARNs: only Region names are accepted.
    for bad in ["us-east-1:999999999999:key", "US-EAST-1", "local", "us-east", "us_east-1", "x-y-1"] {
        let resp = signed_list_keys(&srv.endpoint, "kms", bad, true).await;
        assert!(resp.contains("InvalidSignatureException") && resp.contains("valid region"), "{bad}: {resp}");
    }
    // x-amz-target names the operation, so it must be signed.
    let resp = signed_list_keys(&srv.endpoint, "kms", "us-east-1", false).await;
    assert!(resp.contains("IncompleteSignatureException") && resp.contains("x-amz-target"), "{resp}");

    srv.stop().await;

    // Permissive mode trusts any signature, but the scope still selects the Region of ARNs.
    let srv = common::start(common::settings("sigv4-scope-permissive")).await;
    let resp = signed_list_keys(&srv.endpoint, "kms", "us-east-1:999999999999:key", true).await;
    assert!(resp.contains("InvalidSignatureException") && resp.contains("valid region"), "{resp}");
    let ok = signed_list_keys(&srv.endpoint, "kms", "eu-west-3", true).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let resp = signed_list_keys(&srv.endpoint, "s3", "us-east-1", true).await;
    assert!(resp.contains("InvalidSignatureException"), "{resp}");
    srv.stop().await;
}
