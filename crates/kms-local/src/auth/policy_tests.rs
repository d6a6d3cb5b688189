//! Key policies shaped like the ones AWS itself generates (the console's
//! default with key administrators and users, and an AWS managed key's
//! service-scoped policy), evaluated through the policy module's interface.

use std::collections::BTreeMap;

use crate::auth::policy::{self, Decision, Policy, RequestContext};

const OWNER: &str = "111122223333";
const ADMIN_SESSION: &str = "arn:aws:sts::222233334444:assumed-role/KeyAdmin/alice";
const APP_USER: &str = "arn:aws:iam::333344445555:user/app";
const OWNER_USER: &str = "arn:aws:iam::111122223333:user/dev";
const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap()
}

fn decide(p: &Policy, who: &str, action: &str) -> Decision {
    decide_ec(p, who, action, None)
}

fn decide_ec(p: &Policy, who: &str, action: &str, ec: Option<&BTreeMap<String, String>>) -> Decision {
    p.evaluate(&RequestContext {
        principal_arn: who,
        caller_account: account(who),
        action,
        resource_arn: KEY,
        encryption_context: ec,
        facts: None,
    })
}

fn console_style_policy() -> String {
    format!(
        r#"{{
  "Id": "key-consolepolicy-3",
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {{"AWS": "arn:aws:iam::{OWNER}:root"}},
      "Action": "kms:*",
      "Resource": "*"
    }},
    {{
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {{"AWS": "arn:aws:iam::222233334444:role/KeyAdmin"}},
      "Action": [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"
      ],
      "Resource": "*"
    }},
    {{
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {{"AWS": ["{APP_USER}"]}},
      "Action": [
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
        "kms:GenerateDataKey*", "kms:DescribeKey"
      ],
      "Resource": "*"
    }},
    {{
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {{"AWS": ["{APP_USER}"]}},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {{"Bool": {{"kms:GrantIsForAWSResource": "true"}}}}
    }}
  ]
}}"#
    )
}

#[test]
fn console_default_policy() {
    let text = console_style_policy();
    policy::validate(&text).unwrap();
    let p = Policy::parse(&text).unwrap();
    assert_eq!(p.id.as_deref(), Some("key-consolepolicy-3"));
    assert_eq!(p.statement_count(), 4);

    // Owner-account principals get everything through the root statement.
    for action in ["kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"] {
        assert_eq!(decide(&p, OWNER_USER, action), Decision::Allow, "{action}");
    }

    // The administrator role's sessions manage but cannot use the key.
    for action in [
        "kms:DescribeKey",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:EnableKeyRotation",
        "kms:TagResource",
        "kms:CreateGrant",
    ] {
        assert_eq!(decide(&p, ADMIN_SESSION, action), Decision::Allow, "{action}");
    }
    for action in ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:Sign"] {
        assert_eq!(decide(&p, ADMIN_SESSION, action), Decision::ImplicitDeny, "{action}");
    }
    // A session of a different role in that account gets nothing.
    assert_eq!(decide(&p, "arn:aws:sts::222233334444:assumed-role/Other/x", "kms:DescribeKey"), Decision::ImplicitDeny);

    // The key user can use but not manage it, and cannot create grants for
    // itself because kms:GrantIsForAWSResource is false for our callers.
    for action in [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:DescribeKey",
    ] {
        assert_eq!(decide(&p, APP_USER, action), Decision::Allow, "{action}");
    }
    for action in ["kms:CreateGrant", "kms:ListGrants", "kms:PutKeyPolicy", "kms:DisableKey"] {
        assert_eq!(decide(&p, APP_USER, action), Decision::ImplicitDeny, "{action}");
    }

    // Lockout check: the owner account keeps control, the app would not.
    assert!(policy::allows_policy_update_with(&p, OWNER_USER, OWNER, KEY, None));
    assert!(!policy::allows_policy_update_with(&p, APP_USER, account(APP_USER), KEY, None));
}

#[test]
fn aws_managed_key_style_policy() {
    let text = format!(
        r#"{{
  "Version": "2012-10-17",
  "Id": "auto-ebs-2",
  "Statement": [
    {{
      "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
      "Effect": "Allow",
      "Principal": {{"AWS": "*"}},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
      "Resource": "*",
      "Condition": {{"StringEquals": {{"kms:CallerAccount": "{OWNER}", "kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}}}
    }},
    {{
      "Sid": "Allow direct access to key metadata to the account",
      "Effect": "Allow",
      "Principal": {{"AWS": "arn:aws:iam::{OWNER}:root"}},
      "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
      "Resource": "*"
    }}
  ]
}}"#
    );
    let p = Policy::parse(&text).unwrap();
    // Direct (not via EBS) use is refused; metadata access is allowed.
    assert_eq!(decide(&p, OWNER_USER, "kms:Decrypt"), Decision::ImplicitDeny);
    assert_eq!(decide(&p, OWNER_USER, "kms:DescribeKey"), Decision::Allow);
    assert_eq!(decide(&p, OWNER_USER, "kms:GetKeyPolicy"), Decision::Allow);
    assert_eq!(decide(&p, APP_USER, "kms:DescribeKey"), Decision::ImplicitDeny);
}

#[test]
fn encryption_context_guard_rails() {
    // A common pattern: allow use only with a tenant context, and deny any
    // request whose context carries keys outside an approved set.
    let text = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{"AWS": "{APP_USER}"}},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
      "Resource": "*",
      "Condition": {{"StringLike": {{"kms:EncryptionContext:tenant": "t-*"}}}}
    }},
    {{
      "Effect": "Deny",
      "Principal": "*",
      "Action": "kms:*",
      "Resource": "*",
      "Condition": {{"ForAnyValue:StringNotEquals": {{"kms:EncryptionContextKeys": ["tenant", "purpose"]}}}}
    }}
  ]
}}"#
    );
    let p = Policy::parse(&text).unwrap();
    let ec = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let ok = ec(&[("tenant", "t-42"), ("purpose", "backup")]);
    let wrong_tenant = ec(&[("tenant", "x-42")]);
    let extra_key = ec(&[("tenant", "t-42"), ("debug", "1")]);
    assert_eq!(decide_ec(&p, APP_USER, "kms:Decrypt", Some(&ok)), Decision::Allow);
    assert_eq!(decide_ec(&p, APP_USER, "kms:GenerateDataKeyWithoutPlaintext", Some(&ok)), Decision::Allow);
    assert_eq!(decide_ec(&p, APP_USER, "kms:Decrypt", Some(&wrong_tenant)), Decision::ImplicitDeny);
    assert_eq!(decide_ec(&p, APP_USER, "kms:Decrypt", Some(&extra_key)), Decision::ExplicitDeny);
    assert_eq!(decide_ec(&p, APP_USER, "kms:Decrypt", None), Decision::ImplicitDeny);
}
