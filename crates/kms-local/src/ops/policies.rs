//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. A key has one policy, "default".

use serde::{Deserialize, Serialize};

use super::Ctx;
use super::authz_facts::KeyRequestFacts;
use super::lifecycle::{Empty, check_policy};
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::wire::paginate;

fn check_name(name: &Option<String>) -> KmsResult<()> {
    match name.as_deref() {
        None | Some("default") => Ok(()),
        Some(other) => {
            Err(KmsError::not_found(format!("No such policy: {other}. The only policy name is \"default\".")))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyPolicyResponse {
    policy: String,
    policy_name: &'static str,
}

pub(crate) fn get_key_policy(ctx: &Ctx<'_>, r: GetKeyPolicyRequest) -> KmsResult<GetKeyPolicyResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "GetKeyPolicy", None)?;
    check_name(&r.policy_name)?;
    Ok(GetKeyPolicyResponse { policy: key.meta.policy.clone(), policy_name: "default" })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
    bypass_policy_lockout_safety_check: Option<bool>,
}

pub(crate) fn put_key_policy(ctx: &Ctx<'_>, r: PutKeyPolicyRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "PutKeyPolicy", None)?;
    check_name(&r.policy_name)?;
    key.check_not_pending_deletion()?;
    let facts = KeyRequestFacts::new(ctx, &key, "PutKeyPolicy");
    check_policy(ctx, &r.policy, &key.arn, r.bypass_policy_lockout_safety_check, &facts)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.meta.policy = r.policy;
        Ok(Empty {})
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyPoliciesRequest {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyPoliciesResponse {
    policy_names: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

pub(crate) fn list_key_policies(ctx: &Ctx<'_>, r: ListKeyPoliciesRequest) -> KmsResult<ListKeyPoliciesResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ListKeyPolicies", None)?;
    let (policy_names, next_marker, truncated) = paginate(vec!["default"], r.limit, r.marker.as_deref())?;
    Ok(ListKeyPoliciesResponse { policy_names, next_marker, truncated })
}
