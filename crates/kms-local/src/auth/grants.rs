//! KMS grants: the authorization check, retire permission, validation of
//! `CreateGrant` input, and grant id / grant token minting.
//!
//! A grant names one key, one grantee principal and a list of grant
//! operations, optionally narrowed by encryption-context constraints.
//! Grants only ever allow; they cannot deny.
//!
//! Grant tokens are opaque base64 strings that carry the grant id, so a
//! token is "usable at once" (the emulator has no eventual consistency, but
//! clients that pass `GrantTokens` must get a grant back from them).

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::policy::RequestContext;
use super::{account_of_arn, account_root_arn, principal_matches, random_bytes};

/// Every grant operation in the KMS model (`GrantOperation` enum).
pub(crate) const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// Grant operations that take an encryption context, i.e. the only ones an
/// encryption-context constraint applies to.
const EC_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

/// Operations that may sit in a constrained grant even though the
/// constraint does not apply to them (per the `CreateGrant` docs).
const CONSTRAINT_NEUTRAL_OPERATIONS: &[&str] = &["DescribeKey", "RetireGrant", "CreateGrant"];

/// Most pairs one encryption-context constraint may hold.
pub(crate) const MAX_CONSTRAINT_PAIRS: usize = 8;

/// Longest value (in characters) in an encryption-context constraint.
pub(crate) const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

/// Encryption-context constraints of a grant, with KMS's wire field names so
/// it serializes straight into `CreateGrant`/`ListGrants` JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GrantConstraints {
    /// Every pair here must be in the request's encryption context (keys
    /// compared case-insensitively, values exactly); extra pairs are fine.
    #[serde(rename = "EncryptionContextSubset", default, skip_serializing_if = "Option::is_none")]
    pub(crate) encryption_context_subset: Option<BTreeMap<String, String>>,
    /// The request's encryption context must be exactly these pairs (keys
    /// compared case-insensitively, values exactly).
    #[serde(rename = "EncryptionContextEquals", default, skip_serializing_if = "Option::is_none")]
    pub(crate) encryption_context_equals: Option<BTreeMap<String, String>>,
}

/// A stored grant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Grant {
    /// 64 lowercase hex characters.
    pub(crate) grant_id: String,
    /// Random value bound into this grant's tokens so a token cannot be
    /// forged from the (listable) grant id alone. Not part of `ListGrants`.
    pub(crate) grant_token_seed: String,
    /// Optional friendly name (`CreateGrant` `Name`).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// ARN of the key the grant is for.
    pub(crate) key_arn: String,
    /// Who receives the permissions.
    pub(crate) grantee_principal: String,
    /// Who may retire the grant besides the grantee (with `RetireGrant`)
    /// and the key's account.
    #[serde(default)]
    pub(crate) retiring_principal: Option<String>,
    /// Root ARN of the account the grant was created in
    /// (`arn:aws:iam::ACCOUNT:root`, as `ListGrants` shows it).
    pub(crate) issuing_account: String,
    /// Grant operation names, e.g. `["Encrypt", "Decrypt"]`.
    pub(crate) operations: Vec<String>,
    /// Optional encryption-context constraints.
    #[serde(default)]
    pub(crate) constraints: Option<GrantConstraints>,
    /// Creation time, Unix seconds.
    pub(crate) creation_date: i64,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The seed is what makes tokens unforgeable; keep it out of logs.
        f.debug_struct("Grant")
            .field("grant_id", &self.grant_id)
            .field("grant_token_seed", &"<redacted>")
            .field("name", &self.name)
            .field("key_arn", &self.key_arn)
            .field("grantee_principal", &self.grantee_principal)
            .field("retiring_principal", &self.retiring_principal)
            .field("issuing_account", &self.issuing_account)
            .field("operations", &self.operations)
            .field("constraints", &self.constraints)
            .field("creation_date", &self.creation_date)
            .finish()
    }
}

impl Grant {
    /// A new grant with a fresh random id and token seed. `issuing_account`
    /// may be an account id or a root ARN; it is stored as the root ARN.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        key_arn: &str,
        grantee_principal: &str,
        retiring_principal: Option<&str>,
        issuing_account: &str,
        operations: Vec<String>,
        constraints: Option<GrantConstraints>,
        name: Option<String>,
        creation_date: i64,
    ) -> Result<Grant, String> {
        let issuing_account = if super::is_account_id(issuing_account) {
            account_root_arn(issuing_account)
        } else {
            issuing_account.to_string()
        };
        Ok(Grant {
            grant_id: new_grant_id()?,
            grant_token_seed: hex::encode(random_bytes::<16>()?),
            name,
            key_arn: key_arn.to_string(),
            grantee_principal: grantee_principal.to_string(),
            retiring_principal: retiring_principal.map(str::to_string),
            issuing_account,
            operations,
            constraints,
            creation_date,
        })
    }

    /// A fresh grant token for this grant. Each call returns a different
    /// string; all of them resolve to this grant (see [`parse_grant_token`]).
    pub(crate) fn token(&self) -> Result<String, String> {
        grant_token(&self.grant_id, &self.grant_token_seed)
    }

    /// True if `token` was minted for this grant.
    pub(crate) fn token_matches(&self, token: &str) -> bool {
        match parse_grant_token(token) {
            Some(t) => {
                t.grant_id == self.grant_id
                    && aws_lc_rs::constant_time::verify_slices_are_equal(
                        t.seed.as_bytes(),
                        self.grant_token_seed.as_bytes(),
                    )
                    .is_ok()
            }
            None => false,
        }
    }

    /// Whether the grant lists `operation` (exact, as KMS's enum is).
    pub(crate) fn has_operation(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == operation)
    }

    /// The grant as a `GrantListEntry` for `ListGrants` /
    /// `ListRetirableGrants` (the token seed is left out).
    pub(crate) fn to_list_entry(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("KeyId".into(), self.key_arn.clone().into());
        m.insert("GrantId".into(), self.grant_id.clone().into());
        if let Some(n) = &self.name {
            m.insert("Name".into(), n.clone().into());
        }
        m.insert("CreationDate".into(), self.creation_date.into());
        m.insert("GranteePrincipal".into(), self.grantee_principal.clone().into());
        if let Some(r) = &self.retiring_principal {
            m.insert("RetiringPrincipal".into(), r.clone().into());
        }
        m.insert("IssuingAccount".into(), self.issuing_account.clone().into());
        m.insert("Operations".into(), serde_json::Value::from(self.operations.clone()));
        if let Some(c) = &self.constraints {
            if let Ok(v) = serde_json::to_value(c) {
                m.insert("Constraints".into(), v);
            }
        }
        serde_json::Value::Object(m)
    }
}

/// Maps an IAM action (`kms:Encrypt`) to the grant operation(s) that must all
/// be present. Bare `kms:ReEncrypt` (same key as source and destination)
/// needs both halves; callers that check source and destination keys
/// separately should pass `kms:ReEncryptFrom` / `kms:ReEncryptTo`.
pub(crate) fn grant_operations_for_action(action: &str) -> Vec<&'static str> {
    let op =
        action.split_once(':').filter(|(svc, _)| svc.eq_ignore_ascii_case("kms")).map(|(_, op)| op).unwrap_or(action);
    if op.eq_ignore_ascii_case("ReEncrypt") {
        return vec!["ReEncryptFrom", "ReEncryptTo"];
    }
    GRANT_OPERATIONS.iter().find(|g| g.eq_ignore_ascii_case(op)).map(|g| vec![*g]).unwrap_or_default()
}

/// Whether `grant` allows the request in `ctx`: same key, grantee matches the
/// caller, the action is one of the grant's operations, and any
/// encryption-context constraint is met (for operations that take one).
pub(crate) fn permits(grant: &Grant, ctx: &RequestContext<'_>) -> bool {
    if grant.key_arn != ctx.resource_arn {
        return false;
    }
    if !principal_matches(&grant.grantee_principal, ctx.principal_arn, ctx.caller_account) {
        return false;
    }
    let needed = grant_operations_for_action(ctx.action);
    if needed.is_empty() || !needed.iter().all(|op| grant.has_operation(op)) {
        return false;
    }
    let takes_ec = needed.iter().any(|op| EC_OPERATIONS.contains(op));
    match (&grant.constraints, takes_ec) {
        (Some(c), true) => constraints_satisfied(c, ctx.encryption_context),
        _ => true,
    }
}

/// Checks encryption-context constraints against a request's context
/// (`None` = no context, same as empty).
pub(crate) fn constraints_satisfied(c: &GrantConstraints, request_ec: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    let req = request_ec.unwrap_or(&empty);
    if let Some(subset) = &c.encryption_context_subset {
        if !subset.iter().all(|(k, v)| ec_has_pair(req, k, v)) {
            return false;
        }
    }
    if let Some(equals) = &c.encryption_context_equals {
        if equals.len() != req.len()
            || !equals.iter().all(|(k, v)| ec_has_pair(req, k, v))
            || !req.iter().all(|(k, v)| ec_has_pair(equals, k, v))
        {
            return false;
        }
    }
    true
}

/// In grant constraints the key is case-insensitive and the value is not.
fn ec_has_pair(ec: &BTreeMap<String, String>, key: &str, value: &str) -> bool {
    if ec.get(key).is_some_and(|v| v == value) {
        return true;
    }
    let lk = key.to_lowercase();
    ec.iter().any(|(k, v)| v == value && k.to_lowercase() == lk)
}

/// Whether constraints `child` are at least as strict as `parent`: a grantee
/// holding `CreateGrant` through a constrained grant may only create grants
/// that are equally or more constrained.
pub(crate) fn constraints_at_least_as_strict(
    parent: Option<&GrantConstraints>,
    child: Option<&GrantConstraints>,
) -> bool {
    let Some(parent) = parent else {
        return true;
    };
    let Some(child) = child else {
        return parent.encryption_context_subset.is_none() && parent.encryption_context_equals.is_none();
    };
    // Every request context the child admits must be admitted by the parent.
    if let Some(p_eq) = &parent.encryption_context_equals {
        // Only an identical Equals admits exactly the same single context.
        match &child.encryption_context_equals {
            Some(c_eq) => {
                if !(c_eq.len() == p_eq.len() && c_eq.iter().all(|(k, v)| ec_has_pair(p_eq, k, v))) {
                    return false;
                }
            }
            None => return false,
        }
    }
    if let Some(p_sub) = &parent.encryption_context_subset {
        let ok = match (&child.encryption_context_equals, &child.encryption_context_subset) {
            (Some(c_eq), _) if p_sub.iter().all(|(k, v)| ec_has_pair(c_eq, k, v)) => true,
            (_, Some(c_sub)) => p_sub.iter().all(|(k, v)| ec_has_pair(c_sub, k, v)),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a grant that `parent` lets its grantee create is within what the
/// parent itself allows. KMS's rule for grants created with a grant's
/// `CreateGrant` permission: the parent must include `CreateGrant`, the new
/// grant's operations must be a subset of the parent's, and its
/// encryption-context constraints must be at least as strict. Without this a
/// constrained grantee could give itself (or anyone) an unconstrained grant.
pub(crate) fn allows_child_grant(
    parent: &Grant,
    child_operations: &[String],
    child_constraints: Option<&GrantConstraints>,
) -> bool {
    parent.has_operation("CreateGrant")
        && child_operations.iter().all(|op| parent.has_operation(op))
        && constraints_at_least_as_strict(parent.constraints.as_ref(), child_constraints)
}

/// Whether `principal` (in `account`) may retire `grant` on the strength of
/// the grant itself: its retiring principal, its grantee when the grant
/// includes `RetireGrant`, or the account in which the grant was created
/// (its root; other principals of that account need `kms:RetireGrant` from
/// the key policy, which the caller checks separately).
pub(crate) fn can_retire(grant: &Grant, principal: &str, account: &str) -> bool {
    if let Some(r) = &grant.retiring_principal {
        if principal_matches(r, principal, account) {
            return true;
        }
    }
    if grant.has_operation("RetireGrant") && principal_matches(&grant.grantee_principal, principal, account) {
        return true;
    }
    issuing_account_id(grant) == Some(account) && principal == account_root_arn(account)
}

/// Checks a `CreateGrant` `Operations` list: non-empty and every entry a
/// `GrantOperation` value. The `Err` text is a `ValidationException` message.
pub(crate) fn validate_operations(operations: &[String]) -> Result<(), String> {
    if operations.is_empty() {
        return Err(
            "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1"
                .to_string(),
        );
    }
    for op in operations {
        if !GRANT_OPERATIONS.contains(&op.as_str()) {
            return Err(format!(
                "1 validation error detected: Value '[{}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                operations.join(", "),
                GRANT_OPERATIONS.join(", ")
            ));
        }
    }
    Ok(())
}

/// Checks the constraints of a `CreateGrant` request against its operations:
/// at most 8 pairs and 384-character values per constraint, and no
/// encryption-context constraint alongside an operation that never takes an
/// encryption context (Sign, Verify, GetPublicKey, GenerateMac, VerifyMac,
/// DeriveSharedSecret, Encapsulate, Decapsulate).
pub(crate) fn validate_constraints(
    operations: &[String],
    constraints: Option<&GrantConstraints>,
) -> Result<(), String> {
    let Some(c) = constraints else {
        return Ok(());
    };
    for (name, map) in [
        ("EncryptionContextSubset", &c.encryption_context_subset),
        ("EncryptionContextEquals", &c.encryption_context_equals),
    ] {
        if let Some(m) = map {
            if m.len() > MAX_CONSTRAINT_PAIRS {
                return Err(format!("{name} can contain at most {MAX_CONSTRAINT_PAIRS} encryption context pairs."));
            }
            if m.values().any(|v| v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS) {
                return Err(format!("Values in {name} cannot exceed {MAX_CONSTRAINT_VALUE_CHARS} characters."));
            }
        }
    }
    let has_ec_constraint = c.encryption_context_subset.is_some() || c.encryption_context_equals.is_some();
    if has_ec_constraint {
        if let Some(op) = operations
            .iter()
            .find(|op| !EC_OPERATIONS.contains(&op.as_str()) && !CONSTRAINT_NEUTRAL_OPERATIONS.contains(&op.as_str()))
        {
            return Err(format!(
                "Encryption context grant constraints are not supported for the {op} operation; they apply only to operations that take an encryption context."
            ));
        }
    }
    Ok(())
}

/// Checks that each grant operation is supported by a key with this
/// `KeySpec`/`KeyUsage` (KMS returns `ValidationException` otherwise), and
/// that encryption-context constraints are only used on symmetric
/// encryption keys.
pub(crate) fn validate_for_key(
    operations: &[String],
    constraints: Option<&GrantConstraints>,
    key_spec: &str,
    key_usage: &str,
) -> Result<(), String> {
    validate_operations(operations)?;
    validate_constraints(operations, constraints)?;
    let symmetric_encrypt = key_spec == "SYMMETRIC_DEFAULT" && key_usage == "ENCRYPT_DECRYPT";
    let allowed: &[&str] = match key_usage {
        "ENCRYPT_DECRYPT" if symmetric_encrypt => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
        ],
        "ENCRYPT_DECRYPT" => &["Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"],
        "SIGN_VERIFY" => &["Sign", "Verify", "GetPublicKey"],
        "GENERATE_VERIFY_MAC" => &["GenerateMac", "VerifyMac"],
        "KEY_AGREEMENT" => &["DeriveSharedSecret", "GetPublicKey"],
        "KEM_ENCAPSULATION" | "ENCAPSULATE_DECAPSULATE" => &["Encapsulate", "Decapsulate", "GetPublicKey"],
        _ => &[],
    };
    for op in operations {
        if CONSTRAINT_NEUTRAL_OPERATIONS.contains(&op.as_str()) {
            continue;
        }
        if !allowed.contains(&op.as_str()) {
            return Err(format!(
                "Grant operation {op} is not supported by a {key_spec} key with KeyUsage {key_usage}."
            ));
        }
    }
    let has_ec_constraint =
        constraints.is_some_and(|c| c.encryption_context_subset.is_some() || c.encryption_context_equals.is_some());
    if has_ec_constraint && !symmetric_encrypt {
        return Err(format!(
            "Encryption context grant constraints are not supported for {key_spec} keys; only symmetric encryption keys take an encryption context."
        ));
    }
    Ok(())
}

/// A fresh grant id: 32 random bytes as 64 lowercase hex characters.
pub(crate) fn new_grant_id() -> Result<String, String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// Token format version byte; bump if the layout ever changes.
const TOKEN_VERSION: u8 = 1;
/// Tags the payload so random base64 is not mistaken for a token.
const TOKEN_MAGIC: &[u8; 4] = b"KLGT";

/// What a grant token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GrantTokenInfo {
    /// The grant the token refers to.
    pub(crate) grant_id: String,
    /// The grant's token seed, to compare with [`Grant::grant_token_seed`].
    pub(crate) seed: String,
}

/// Mints a token for a grant: base64 of
/// `magic | version | len | grant id | len | seed | 16 random bytes`.
/// The random tail makes every token distinct, like real KMS tokens.
pub(crate) fn grant_token(grant_id: &str, seed: &str) -> Result<String, String> {
    if grant_id.len() > 255 || seed.len() > 255 {
        return Err("grant id or token seed too long".to_string());
    }
    let nonce = random_bytes::<16>()?;
    let mut raw = Vec::with_capacity(6 + grant_id.len() + seed.len() + nonce.len());
    raw.extend_from_slice(TOKEN_MAGIC);
    raw.push(TOKEN_VERSION);
    raw.push(grant_id.len() as u8);
    raw.extend_from_slice(grant_id.as_bytes());
    raw.push(seed.len() as u8);
    raw.extend_from_slice(seed.as_bytes());
    raw.extend_from_slice(&nonce);
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// Decodes a grant token; `None` if it is not one of ours (callers answer
/// `InvalidGrantTokenException`).
pub(crate) fn parse_grant_token(token: &str) -> Option<GrantTokenInfo> {
    if token.is_empty() || token.len() > 8192 {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(token.trim()).ok()?;
    let rest = raw.strip_prefix(TOKEN_MAGIC.as_slice())?;
    let (&version, rest) = rest.split_first()?;
    if version != TOKEN_VERSION {
        return None;
    }
    let (&id_len, rest) = rest.split_first()?;
    let id = rest.get(..id_len as usize)?;
    let rest = &rest[id_len as usize..];
    let (&seed_len, rest) = rest.split_first()?;
    let seed = rest.get(..seed_len as usize)?;
    let rest = &rest[seed_len as usize..];
    if rest.len() != 16 {
        return None;
    }
    Some(GrantTokenInfo {
        grant_id: String::from_utf8(id.to_vec()).ok()?,
        seed: String::from_utf8(seed.to_vec()).ok()?,
    })
}

/// The grant id a token refers to, if it is well-formed.
pub(crate) fn grant_id_from_token(token: &str) -> Option<String> {
    parse_grant_token(token).map(|t| t.grant_id)
}

/// Account id of the grant's issuing account (`IssuingAccount` is stored as
/// a root ARN).
pub(crate) fn issuing_account_id(grant: &Grant) -> Option<&str> {
    if super::is_account_id(&grant.issuing_account) {
        Some(&grant.issuing_account)
    } else {
        account_of_arn(&grant.issuing_account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "111122223333";
    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const BOB: &str = "arn:aws:iam::111122223333:user/bob";
    const CAROL: &str = "arn:aws:iam::444455556666:user/carol";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn grant(grantee: &str, operations: &[&str], c: Option<GrantConstraints>) -> Grant {
        Grant::new(KEY, grantee, None, ACCT, ops(operations), c, None, 1_700_000_000).unwrap()
    }

    fn ctx<'a>(p: &'a str, action: &'a str, e: Option<&'a BTreeMap<String, String>>) -> RequestContext<'a> {
        RequestContext {
            principal_arn: p,
            caller_account: super::super::account_of_arn(p).unwrap(),
            action,
            resource_arn: KEY,
            encryption_context: e,
            facts: None,
        }
    }

    #[test]
    fn operation_and_grantee_matching() {
        let g = grant(BOB, &["Encrypt", "Decrypt"], None);
        assert!(permits(&g, &ctx(BOB, "kms:Encrypt", None)));
        assert!(permits(&g, &ctx(BOB, "kms:decrypt", None)));
        assert!(!permits(&g, &ctx(BOB, "kms:GenerateDataKey", None)), "operation mismatch");
        assert!(!permits(&g, &ctx(BOB, "kms:PutKeyPolicy", None)), "not a grant operation");
        assert!(!permits(&g, &ctx(ALICE, "kms:Encrypt", None)), "grantee mismatch");
        let mut other_key = ctx(BOB, "kms:Encrypt", None);
        other_key.resource_arn = "arn:aws:kms:us-east-1:111122223333:key/other";
        assert!(!permits(&g, &other_key), "key mismatch");

        // Account as grantee covers its principals; cross-account grantee works.
        let g = grant(ACCT, &["Decrypt"], None);
        assert!(permits(&g, &ctx(ALICE, "kms:Decrypt", None)));
        assert!(!permits(&g, &ctx(CAROL, "kms:Decrypt", None)));
        let g = grant(CAROL, &["Decrypt"], None);
        assert!(permits(&g, &ctx(CAROL, "kms:Decrypt", None)));
    }

    #[test]
    fn reencrypt_mapping() {
        let from = grant(BOB, &["ReEncryptFrom"], None);
        let both = grant(BOB, &["ReEncryptFrom", "ReEncryptTo"], None);
        assert!(permits(&from, &ctx(BOB, "kms:ReEncryptFrom", None)));
        assert!(!permits(&from, &ctx(BOB, "kms:ReEncryptTo", None)));
        assert!(!permits(&from, &ctx(BOB, "kms:ReEncrypt", None)));
        assert!(permits(&both, &ctx(BOB, "kms:ReEncrypt", None)));
        assert_eq!(grant_operations_for_action("kms:ReEncrypt"), vec!["ReEncryptFrom", "ReEncryptTo"]);
        assert_eq!(grant_operations_for_action("kms:GenerateDataKeyPair"), vec!["GenerateDataKeyPair"]);
        assert!(grant_operations_for_action("kms:ListKeys").is_empty());
    }

    #[test]
    fn subset_constraint() {
        let c = GrantConstraints {
            encryption_context_subset: Some(ec(&[("Department", "IT")])),
            encryption_context_equals: None,
        };
        let g = grant(BOB, &["Encrypt", "Decrypt", "DescribeKey"], Some(c));
        assert!(permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Department", "IT")])))));
        assert!(permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Department", "IT"), ("x", "y")])))));
        // Keys are case-insensitive in grant constraints, values are not.
        assert!(permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("department", "IT")])))));
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Department", "it")])))));
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Project", "IT")])))));
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", None)));
        // The constraint does not apply to DescribeKey.
        assert!(permits(&g, &ctx(BOB, "kms:DescribeKey", None)));
    }

    #[test]
    fn equals_constraint() {
        let c = GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ec(&[("Department", "IT"), ("Stage", "prod")])),
        };
        let g = grant(BOB, &["GenerateDataKey", "Decrypt"], Some(c));
        assert!(permits(&g, &ctx(BOB, "kms:GenerateDataKey", Some(&ec(&[("Stage", "prod"), ("Department", "IT")])))));
        assert!(permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("stage", "prod"), ("DEPARTMENT", "IT")])))));
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Department", "IT")])))), "missing pair");
        assert!(
            !permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("Department", "IT"), ("Stage", "prod"), ("x", "y")])))),
            "extra pair is fine for subset, not for equals"
        );
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", None)));

        // Equals {} matches only an empty/absent context.
        let g = grant(
            BOB,
            &["Decrypt"],
            Some(GrantConstraints { encryption_context_subset: None, encryption_context_equals: Some(ec(&[])) }),
        );
        assert!(permits(&g, &ctx(BOB, "kms:Decrypt", None)));
        assert!(!permits(&g, &ctx(BOB, "kms:Decrypt", Some(&ec(&[("a", "b")])))));
    }

    #[test]
    fn stricter_constraints() {
        let sub = |p: &[(&str, &str)]| GrantConstraints {
            encryption_context_subset: Some(ec(p)),
            encryption_context_equals: None,
        };
        let eq = |p: &[(&str, &str)]| GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ec(p)),
        };
        assert!(constraints_at_least_as_strict(None, None));
        assert!(constraints_at_least_as_strict(None, Some(&sub(&[("a", "1")]))));
        assert!(!constraints_at_least_as_strict(Some(&sub(&[("a", "1")])), None));
        assert!(constraints_at_least_as_strict(Some(&sub(&[("a", "1")])), Some(&sub(&[("a", "1"), ("b", "2")]))));
        assert!(!constraints_at_least_as_strict(Some(&sub(&[("a", "1"), ("b", "2")])), Some(&sub(&[("a", "1")]))));
        assert!(constraints_at_least_as_strict(Some(&sub(&[("a", "1")])), Some(&eq(&[("a", "1"), ("b", "2")]))));
        assert!(!constraints_at_least_as_strict(Some(&eq(&[("a", "1")])), Some(&sub(&[("a", "1")]))));
        assert!(constraints_at_least_as_strict(Some(&eq(&[("a", "1")])), Some(&eq(&[("a", "1")]))));
        assert!(!constraints_at_least_as_strict(Some(&eq(&[("a", "1")])), Some(&eq(&[("a", "2")]))));
    }

    #[test]
    fn child_grants_stay_within_the_parent() {
        let sub = GrantConstraints {
            encryption_context_subset: Some(ec(&[("tenant", "a")])),
            encryption_context_equals: None,
        };
        let parent = grant(BOB, &["Decrypt", "CreateGrant"], Some(sub.clone()));
        assert!(allows_child_grant(&parent, &ops(&["Decrypt"]), Some(&sub)));
        assert!(allows_child_grant(&parent, &ops(&["Decrypt", "CreateGrant"]), Some(&sub)));
        assert!(!allows_child_grant(&parent, &ops(&["Decrypt"]), None));
        assert!(!allows_child_grant(&parent, &ops(&["Decrypt", "Encrypt"]), Some(&sub)));
        let without = grant(BOB, &["Decrypt"], None);
        assert!(!allows_child_grant(&without, &ops(&["Decrypt"]), None));
    }

    #[test]
    fn retire_rules() {
        let mut g = grant(BOB, &["Decrypt"], None);
        g.retiring_principal = Some(CAROL.to_string());
        assert!(can_retire(&g, CAROL, "444455556666"), "retiring principal");
        assert!(!can_retire(&g, BOB, ACCT), "grantee without RetireGrant");
        assert!(can_retire(&g, "arn:aws:iam::111122223333:root", ACCT), "key account root");
        assert!(!can_retire(&g, ALICE, ACCT), "other user of the key account");
        assert!(!can_retire(&g, "arn:aws:iam::444455556666:root", "444455556666"));
        let g = grant(BOB, &["Decrypt", "RetireGrant"], None);
        assert!(can_retire(&g, BOB, ACCT), "grantee with RetireGrant");
    }

    #[test]
    fn operation_validation() {
        assert!(validate_operations(&ops(&["Encrypt", "Decrypt"])).is_ok());
        assert!(validate_operations(&ops(&[])).is_err());
        assert!(validate_operations(&ops(&["encrypt"])).is_err(), "enum values are case-sensitive");
        assert!(validate_operations(&ops(&["PutKeyPolicy"])).is_err());
        for op in GRANT_OPERATIONS {
            assert!(validate_operations(&ops(&[op])).is_ok());
        }

        let c =
            GrantConstraints { encryption_context_subset: Some(ec(&[("a", "b")])), encryption_context_equals: None };
        assert!(
            validate_constraints(&ops(&["Decrypt", "DescribeKey", "RetireGrant", "CreateGrant"]), Some(&c)).is_ok()
        );
        assert!(validate_constraints(&ops(&["Decrypt", "Sign"]), Some(&c)).is_err());
        assert!(validate_constraints(&ops(&["GenerateMac"]), Some(&c)).is_err());
        assert!(validate_constraints(&ops(&["Sign"]), None).is_ok());
        let many: Vec<(String, String)> = (0..9).map(|i| (format!("k{i}"), "v".to_string())).collect();
        let big = GrantConstraints {
            encryption_context_subset: Some(many.into_iter().collect()),
            encryption_context_equals: None,
        };
        assert!(validate_constraints(&ops(&["Decrypt"]), Some(&big)).is_err());
        let long = GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ec(&[("k", &"v".repeat(385))])),
        };
        assert!(validate_constraints(&ops(&["Decrypt"]), Some(&long)).is_err());

        assert!(
            validate_for_key(
                &ops(&["Encrypt", "GenerateDataKey", "CreateGrant"]),
                Some(&c),
                "SYMMETRIC_DEFAULT",
                "ENCRYPT_DECRYPT"
            )
            .is_ok()
        );
        assert!(validate_for_key(&ops(&["Sign"]), None, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").is_err());
        assert!(validate_for_key(&ops(&["GenerateDataKey"]), None, "RSA_2048", "ENCRYPT_DECRYPT").is_err());
        assert!(validate_for_key(&ops(&["Decrypt", "GetPublicKey"]), None, "RSA_2048", "ENCRYPT_DECRYPT").is_ok());
        assert!(validate_for_key(&ops(&["Decrypt"]), Some(&c), "RSA_2048", "ENCRYPT_DECRYPT").is_err());
        assert!(
            validate_for_key(&ops(&["Sign", "Verify", "DescribeKey"]), None, "ECC_NIST_P256", "SIGN_VERIFY").is_ok()
        );
        assert!(validate_for_key(&ops(&["GenerateMac", "VerifyMac"]), None, "HMAC_256", "GENERATE_VERIFY_MAC").is_ok());
        assert!(validate_for_key(&ops(&["Encrypt"]), None, "HMAC_256", "GENERATE_VERIFY_MAC").is_err());
    }

    #[test]
    fn ids_and_tokens() {
        let g = grant(BOB, &["Decrypt"], None);
        assert_eq!(g.grant_id.len(), 64);
        assert!(g.grant_id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(g.issuing_account, "arn:aws:iam::111122223333:root");
        assert_eq!(issuing_account_id(&g), Some(ACCT));
        let other = grant(BOB, &["Decrypt"], None);
        assert_ne!(g.grant_id, other.grant_id);

        let t1 = g.token().unwrap();
        let t2 = g.token().unwrap();
        assert_ne!(t1, t2, "tokens are distinct");
        assert_eq!(grant_id_from_token(&t1).as_deref(), Some(g.grant_id.as_str()));
        assert!(g.token_matches(&t1) && g.token_matches(&t2));
        assert!(!other.token_matches(&t1));
        // A token forged from the public grant id with a guessed seed fails.
        let forged = grant_token(&g.grant_id, "00000000000000000000000000000000").unwrap();
        assert_eq!(grant_id_from_token(&forged).as_deref(), Some(g.grant_id.as_str()));
        assert!(!g.token_matches(&forged));
        for bad in ["", "!!!", "AAAA", &base64::engine::general_purpose::STANDARD.encode(b"KLGT\x02\x00\x00")] {
            assert!(parse_grant_token(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn serde_shapes() {
        let c =
            GrantConstraints { encryption_context_subset: Some(ec(&[("a", "b")])), encryption_context_equals: None };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v, serde_json::json!({"EncryptionContextSubset": {"a": "b"}}));
        let back: GrantConstraints =
            serde_json::from_value(serde_json::json!({"EncryptionContextEquals": {"x": "y"}})).unwrap();
        assert_eq!(back.encryption_context_equals, Some(ec(&[("x", "y")])));

        let mut g = grant(BOB, &["Decrypt"], Some(c));
        g.name = Some("n".into());
        let round: Grant = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(round, g);
        let entry = g.to_list_entry();
        assert_eq!(entry["KeyId"], KEY);
        assert_eq!(entry["GrantId"], g.grant_id.as_str());
        assert_eq!(entry["Name"], "n");
        assert_eq!(entry["IssuingAccount"], "arn:aws:iam::111122223333:root");
        assert_eq!(entry["Operations"], serde_json::json!(["Decrypt"]));
        assert_eq!(entry["Constraints"], serde_json::json!({"EncryptionContextSubset": {"a": "b"}}));
        assert!(entry.get("RetiringPrincipal").is_none());
        assert!(!entry.to_string().contains(&g.grant_token_seed), "seed must not leak");
    }
}
