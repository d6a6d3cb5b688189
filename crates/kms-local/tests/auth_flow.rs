//! The security pieces used together, through the public API only, the way
//! the server strings them: authenticate → authorize (key policy, then
//! grants) → audit.

use std::collections::BTreeMap;

use envelope_kms_local::audit::{AuditEvent, Filter, redact_request};
use envelope_kms_local::auth::grants::{self, Grant, GrantConstraints};
use envelope_kms_local::auth::policy::{self, Decision, Policy, RequestContext};
use envelope_kms_local::auth::{Credentials, authorize};
use serde_json::json;

const ACCT: &str = "111122223333";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn ctx<'a>(
    principal: &'a str,
    account: &'a str,
    action: &'a str,
    e: Option<&'a BTreeMap<String, String>>,
) -> RequestContext<'a> {
    RequestContext {
        principal_arn: principal,
        caller_account: account,
        action,
        resource_arn: KEY,
        encryption_context: e,
        facts: None,
    }
}

#[test]
fn policy_then_grants_then_audit() {
    let creds = Credentials::from_json(
        r#"{"credentials": [
            {"access_key_id": "AKIAADMIN", "secret_access_key": "a", "principal": "arn:aws:iam::111122223333:user/admin"},
            {"access_key_id": "AKIAAPP", "secret_access_key": "b", "principal": "arn:aws:iam::444455556666:role/app"},
            {"access_key_id": "AKIAEVE", "secret_access_key": "c", "principal": "arn:aws:iam::999988887777:user/eve"}
        ]}"#,
    )
    .unwrap();
    let admin = creds.get("AKIAADMIN").unwrap();
    let app = creds.get("AKIAAPP").unwrap();
    let eve = creds.get("AKIAEVE").unwrap();

    // A key with the default policy plus a deny for eve's account.
    let mut doc: serde_json::Value = serde_json::from_str(&policy::default_key_policy(ACCT)).unwrap();
    doc["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "NoEve", "Effect": "Deny", "Principal": {"AWS": "999988887777"},
        "Action": "kms:*", "Resource": "*"
    }));
    let text = doc.to_string();
    policy::validate(&text).unwrap();
    let key_policy = Policy::parse(&text).unwrap();

    // The admin creates a constrained grant for the cross-account app role.
    let ops = vec!["Decrypt".to_string(), "RetireGrant".to_string()];
    let constraints = GrantConstraints {
        encryption_context_subset: Some(ec(&[("tenant", "blue")])),
        encryption_context_equals: None,
    };
    grants::validate_for_key(&ops, Some(&constraints), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").unwrap();
    assert_eq!(
        authorize(&key_policy, [], &ctx(&admin.principal, admin.account(), "kms:CreateGrant", None)).0,
        Decision::Allow
    );
    let grant = Grant::new(KEY, &app.principal, None, ACCT, ops, Some(constraints), None, 1_700_000_000).unwrap();
    let token = grant.token().unwrap();
    assert_eq!(grants::grant_id_from_token(&token).as_deref(), Some(grant.grant_id.as_str()));
    let all = vec![grant.clone()];

    // The app may decrypt only through the grant and only with its context.
    let blue = ec(&[("tenant", "blue"), ("doc", "1")]);
    let red = ec(&[("tenant", "red")]);
    let (d, via) = authorize(&key_policy, &all, &ctx(&app.principal, app.account(), "kms:Decrypt", Some(&blue)));
    assert_eq!(d, Decision::Allow);
    assert_eq!(via, Some(grant.grant_id.as_str()));
    assert_eq!(
        authorize(&key_policy, &all, &ctx(&app.principal, app.account(), "kms:Decrypt", Some(&red))).0,
        Decision::ImplicitDeny
    );
    assert_eq!(
        authorize(&key_policy, &all, &ctx(&app.principal, app.account(), "kms:Encrypt", Some(&blue))).0,
        Decision::ImplicitDeny
    );
    // An explicit deny beats even a grant.
    let mut eve_grant = grant.clone();
    eve_grant.grantee_principal = eve.principal.clone();
    assert_eq!(
        authorize(&key_policy, [&eve_grant], &ctx(&eve.principal, eve.account(), "kms:Decrypt", Some(&blue))).0,
        Decision::ExplicitDeny
    );
    // The grantee may retire it (RetireGrant is in its operations).
    assert!(grants::can_retire(&grant, &app.principal, app.account()));
    assert!(!grants::can_retire(&grant, &eve.principal, eve.account()));

    // Audit the decrypt without leaking the ciphertext.
    let request = json!({
        "CiphertextBlob": "AQICAHhSECRETSECRET",
        "KeyId": KEY,
        "EncryptionContext": blue,
        "GrantTokens": [token],
    });
    let event = AuditEvent::new(
        "Decrypt",
        &app.principal,
        app.account(),
        &app.access_key_id,
        "127.0.0.1",
        "us-east-1",
        redact_request("Decrypt", &request),
        vec![KEY.to_string()],
        None,
    );
    let line = event.to_json_line();
    assert!(!line.contains("SECRETSECRET"));
    assert!(!line.contains(&token));
    assert!(line.contains("\"grantTokensCount\":1"));
    assert!(Filter { key: Some(KEY.to_string()), since: None }.matches(&event));
    assert_eq!(event.resources[0].account_id, ACCT);
    assert_eq!(event.user_identity.account_id, "444455556666");
}
