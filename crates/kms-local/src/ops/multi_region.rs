//! Multi-Region keys: ReplicateKey and UpdatePrimaryRegion. Every Region's copy shares the key id
//! and the material versions, so a blob made in one Region opens in any replica Region.

use serde::{Deserialize, Serialize};

use super::Ctx;
use super::authz_facts::CallerFacts;
use super::lifecycle::{Empty, check_policy, metadata};
use crate::auth::policy;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms};
use crate::keys::KeyState;
use crate::model::{Key, MrRole, now};
use crate::wire::{KeyMetadata, Tag, check_tags};

fn check_region(region: &str) -> KmsResult<()> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = (3..=4).contains(&parts.len())
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok { Ok(()) } else { Err(KmsError::validation(format!("{region} is not a valid AWS Region name."))) }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicateKeyRequest {
    key_id: String,
    replica_region: String,
    policy: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    description: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReplicateKeyResponse {
    replica_key_metadata: KeyMetadata,
    replica_policy: String,
    replica_tags: Vec<Tag>,
}

pub(crate) fn replicate_key(ctx: &Ctx<'_>, r: ReplicateKeyRequest) -> KmsResult<ReplicateKeyResponse> {
    check_region(&r.replica_region)?;
    let tags = r.tags.unwrap_or_default();
    check_tags(&tags)?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ReplicateKey", None)?;
    match key.meta.multi_region {
        None => return Err(KmsError::unsupported(format!("{} is not a multi-Region key.", key.arn))),
        Some(MrRole::Replica) => {
            return Err(KmsError::unsupported(format!("{} is a replica key; replicate its primary key.", key.arn)));
        }
        Some(MrRole::Primary) => {}
    }
    key.check_not_pending_deletion()?;
    if key.meta.state == KeyState::Disabled {
        return Err(KmsError::disabled(format!("{} is disabled.", key.arn)));
    }
    if r.replica_region == key.meta.region {
        return Err(KmsError::validation("ReplicaRegion must differ from the primary key's Region."));
    }
    let arn = ids::key_arn(&r.replica_region, &key.meta.account, &key.meta.key_id);
    if ctx.reg.key(&arn).is_some() {
        return Err(KmsError::new("AlreadyExistsException", format!("Key {arn} already exists.")));
    }
    if let Some(p) = &r.policy {
        check_policy(ctx, p, &arn, r.bypass_policy_lockout_safety_check, &CallerFacts { ctx })?;
    }
    let mut meta = key.meta.clone();
    meta.region = r.replica_region.clone();
    meta.multi_region = Some(MrRole::Replica);
    meta.creation_date = now();
    meta.policy = r.policy.unwrap_or_else(|| policy::default_key_policy(&key.meta.account));
    meta.description = r.description.unwrap_or_else(|| key.meta.description.clone());
    meta.tags = tags.iter().map(|t| (t.tag_key.clone(), t.tag_value.clone())).collect();
    meta.rotation_enabled = false;
    meta.next_rotation_date = None;
    let replica = ctx.reg.insert_key(Key { arn, meta, materials: key.materials.clone() })?;
    ctx.touch(&replica.arn);
    Ok(ReplicateKeyResponse {
        replica_key_metadata: metadata(ctx.reg, &replica),
        replica_policy: replica.meta.policy.clone(),
        replica_tags: tags,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdatePrimaryRegionRequest {
    key_id: String,
    primary_region: String,
}

pub(crate) fn update_primary_region(ctx: &Ctx<'_>, r: UpdatePrimaryRegionRequest) -> KmsResult<Empty> {
    check_region(&r.primary_region)?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "UpdatePrimaryRegion", None)?;
    if key.meta.multi_region.is_none() {
        return Err(KmsError::unsupported(format!("{} is not a multi-Region key.", key.arn)));
    }
    key.check_not_pending_deletion()?;
    if key.meta.state == KeyState::Disabled {
        return Err(KmsError::disabled(format!("{} is disabled.", key.arn)));
    }
    let family = ctx.reg.mr_family(&key.meta.account, &key.meta.key_id);
    let target = family.iter().find(|k| k.meta.region == r.primary_region).ok_or_else(|| {
        KmsError::not_found(format!("There is no replica of {} in {}.", key.meta.key_id, r.primary_region))
    })?;
    if target.meta.multi_region == Some(MrRole::Primary) {
        return Ok(Empty {});
    }
    for member in &family {
        let role = if member.arn == target.arn { MrRole::Primary } else { MrRole::Replica };
        ctx.reg.update_key(&member.arn, |k| {
            k.meta.multi_region = Some(role);
            Ok(())
        })?;
    }
    Ok(Empty {})
}
