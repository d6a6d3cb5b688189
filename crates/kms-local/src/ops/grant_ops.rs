//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
//!
//! Grants are written durably before CreateGrant answers, so a grant (and its token) is usable by
//! the very next request; KMS's eventual consistency is not emulated.

use serde::{Deserialize, Serialize};

use super::lifecycle::Empty;
use super::{Ctx, dry_run_check};
use crate::auth::grants;
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::keys::KeyState;
use crate::model::{GrantConstraints, GrantRecord, now};
use crate::wire::{check_grant_tokens, paginate};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantRequest {
    key_id: String,
    grantee_principal: Option<String>,
    retiring_principal: Option<String>,
    operations: Vec<String>,
    constraints: Option<GrantConstraints>,
    grant_tokens: Option<Vec<String>>,
    name: Option<String>,
    dry_run: Option<bool>,
    grantee_service_principal: Option<String>,
    retiring_service_principal: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantResponse {
    grant_token: String,
    grant_id: String,
}

fn check_principal(p: &str) -> KmsResult<()> {
    if p.is_empty() || p.len() > 256 {
        return Err(KmsError::constraint("granteePrincipal", "Member must have length between 1 and 256"));
    }
    if p.starts_with("arn:") && p.split(':').count() < 6 {
        return Err(KmsError::invalid_arn(format!("{p} is not a valid principal ARN.")));
    }
    Ok(())
}

pub(crate) fn create_grant(ctx: &Ctx<'_>, r: CreateGrantRequest) -> KmsResult<CreateGrantResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let grantee = r
        .grantee_principal
        .clone()
        .or(r.grantee_service_principal.clone())
        .ok_or_else(|| KmsError::validation("1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null"))?;
    check_principal(&grantee)?;
    let retiring = r.retiring_principal.clone().or(r.retiring_service_principal.clone());
    if let Some(p) = &retiring {
        check_principal(p)?;
    }
    if let Some(name) = &r.name {
        if name.is_empty()
            || name.len() > 256
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b))
        {
            return Err(KmsError::constraint(
                "name",
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            ));
        }
    }
    let constraints = r.constraints.clone();
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    grants::validate_for_key(
        &r.operations,
        constraints.as_ref(),
        key.meta.key_spec.as_str(),
        key.meta.key_usage.as_str(),
    )
    .map_err(KmsError::validation)?;
    // A grantee using a grant's CreateGrant permission may only hand out a subset of that grant
    // (operations and constraints); the key policy, when it allows CreateGrant, is not limited.
    ctx.authorize_with_grants(&key, "CreateGrant", None, &|parent| {
        grants::allows_child_grant(parent, &r.operations, constraints.as_ref())
    })?;
    match key.meta.state {
        KeyState::Disabled => return Err(KmsError::disabled(format!("{} is disabled.", key.arn))),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => key.check_not_pending_deletion()?,
        _ => {}
    }
    dry_run_check(r.dry_run)?;
    let mut store = ctx.reg.store();
    if let Some(name) = &r.name {
        // KMS treats a repeated CreateGrant with the same name and parameters on the same key as a retry.
        if let Some(g) = ctx.reg.grants_for(&key.arn).into_iter().find(|g| g.name.as_deref() == Some(name)) {
            if g.grantee_principal == grantee
                && g.operations == r.operations
                && g.constraints == constraints
                && g.retiring_principal == retiring
            {
                return Ok(CreateGrantResponse {
                    grant_token: g.token().map_err(KmsError::internal)?,
                    grant_id: g.grant_id.clone(),
                });
            }
        }
    }
    let grant = GrantRecord::new(
        &key.arn,
        &grantee,
        retiring.as_deref(),
        &ctx.account,
        r.operations,
        constraints,
        r.name,
        now(),
    )
    .map_err(KmsError::internal)?;
    let resp = CreateGrantResponse {
        grant_token: grant.token().map_err(KmsError::internal)?,
        grant_id: grant.grant_id.clone(),
    };
    ctx.reg.put_grant(&mut store, grant)?;
    Ok(resp)
}

fn entry(g: &GrantRecord) -> serde_json::Value {
    g.to_list_entry()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsResponse {
    grants: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsRequest {
    limit: Option<i64>,
    marker: Option<String>,
    key_id: String,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

pub(crate) fn list_grants(ctx: &Ctx<'_>, r: ListGrantsRequest) -> KmsResult<ListGrantsResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ListGrants", None)?;
    if let Some(id) = &r.grant_id {
        if id.is_empty() || id.len() > 128 {
            return Err(KmsError::new("InvalidGrantIdException", "The grant id is not valid."));
        }
    }
    let all: Vec<serde_json::Value> = ctx
        .reg
        .grants_for(&key.arn)
        .iter()
        .filter(|g| r.grant_id.as_ref().is_none_or(|id| &g.grant_id == id))
        .filter(|g| r.grantee_principal.as_ref().is_none_or(|p| &g.grantee_principal == p))
        .map(|g| entry(g))
        .collect();
    let (grants, next_marker, truncated) = paginate(all, r.limit, r.marker.as_deref())?;
    Ok(ListGrantsResponse { grants, next_marker, truncated })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRetirableGrantsRequest {
    limit: Option<i64>,
    marker: Option<String>,
    retiring_principal: Option<String>,
    retiring_service_principal: Option<String>,
}

pub(crate) fn list_retirable_grants(ctx: &Ctx<'_>, r: ListRetirableGrantsRequest) -> KmsResult<ListGrantsResponse> {
    let who = r
        .retiring_principal
        .or(r.retiring_service_principal)
        .ok_or_else(|| KmsError::validation("1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null"))?;
    check_principal(&who)?;
    let all: Vec<serde_json::Value> = ctx
        .reg
        .all_grants()
        .iter()
        .filter(|g| g.retiring_principal.as_deref() == Some(who.as_str()))
        .map(|g| entry(g))
        .collect();
    let (grants, next_marker, truncated) = paginate(all, r.limit, r.marker.as_deref())?;
    Ok(ListGrantsResponse { grants, next_marker, truncated })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetireGrantRequest {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

pub(crate) fn retire_grant(ctx: &Ctx<'_>, r: RetireGrantRequest) -> KmsResult<Empty> {
    let grant = match (&r.grant_token, &r.key_id, &r.grant_id) {
        (Some(token), _, _) => {
            check_grant_tokens(&Some(vec![token.clone()]))?;
            ctx.reg
                .grant_by_token(token)
                .ok_or_else(|| KmsError::new("InvalidGrantTokenException", "The grant token is not valid."))?
        }
        (None, Some(key_id), Some(grant_id)) => {
            if !key_id.starts_with("arn:") {
                return Err(KmsError::invalid_arn("RetireGrant requires the key ARN."));
            }
            let key = ctx.resolve(key_id, KeyIdForms::KeyOnly)?;
            ctx.reg
                .grant(grant_id)
                .filter(|g| g.key_arn == key.arn)
                .ok_or_else(|| KmsError::not_found(format!("Grant {grant_id} does not exist on {}.", key.arn)))?
        }
        _ => return Err(KmsError::validation("Specify GrantToken, or KeyId and GrantId.")),
    };
    ctx.touch(&grant.key_arn);
    if ctx.policies && !grants::can_retire(&grant, &ctx.principal, &ctx.account) {
        // Anyone else needs kms:RetireGrant from the key policy. Grants do not count here: a
        // grant's RetireGrant operation lets its grantee retire that grant only, never the
        // other grants on the key.
        match ctx.reg.key(&grant.key_arn) {
            Some(key) => ctx.authorize_by_policy(&key, "RetireGrant")?,
            None => {
                return Err(KmsError::access_denied(format!(
                    "User: {} is not authorized to perform: kms:RetireGrant on resource: {}",
                    ctx.principal, grant.key_arn
                )));
            }
        }
    }
    dry_run_check(r.dry_run)?;
    let mut store = ctx.reg.store();
    ctx.reg.delete_grant(&mut store, &grant.grant_id)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RevokeGrantRequest {
    key_id: String,
    grant_id: String,
    dry_run: Option<bool>,
}

pub(crate) fn revoke_grant(ctx: &Ctx<'_>, r: RevokeGrantRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "RevokeGrant", None)?;
    let grant = ctx
        .reg
        .grant(&r.grant_id)
        .filter(|g| g.key_arn == key.arn)
        .ok_or_else(|| KmsError::not_found(format!("Grant {} does not exist on {}.", r.grant_id, key.arn)))?;
    dry_run_check(r.dry_run)?;
    let mut store = ctx.reg.store();
    ctx.reg.delete_grant(&mut store, &grant.grant_id)?;
    Ok(Empty {})
}
