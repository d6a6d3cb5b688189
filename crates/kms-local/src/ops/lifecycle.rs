//! Key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, Schedule/CancelKeyDeletion,
//! UpdateKeyDescription and tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Ctx;
use super::authz_facts::CallerFacts;
use crate::auth::condition_values::FactSource;
use crate::auth::policy;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms};
use crate::keys::{KeySpec, KeyState, KeyUsage, Material, Origin, Secret};
use crate::model::{Key, KeyMeta, MaterialInfo, MaterialVersion, MrRole, now};
use crate::state::Registry;
use crate::wire::{KeyMetadata, Tag, check_tags, paginate};

/// Everything needed to create a key (from CreateKey or a seed file).
#[derive(Debug)]
pub(crate) struct NewKey {
    /// Account.
    pub(crate) account: String,
    /// Region.
    pub(crate) region: String,
    /// Fixed id (seed files) or None for a fresh one.
    pub(crate) key_id: Option<String>,
    /// Spec.
    pub(crate) spec: KeySpec,
    /// Usage.
    pub(crate) usage: KeyUsage,
    /// Origin.
    pub(crate) origin: Origin,
    /// Description.
    pub(crate) description: String,
    /// Policy, or None for the default.
    pub(crate) policy: Option<String>,
    /// Tags.
    pub(crate) tags: BTreeMap<String, String>,
    /// Multi-Region primary.
    pub(crate) multi_region: bool,
    /// Fixed material (seed files), else generated (or none for EXTERNAL).
    pub(crate) material: Option<Secret>,
}

/// Creates and persists a key.
pub(crate) fn create_key_record(reg: &Registry, new: NewKey) -> KmsResult<Arc<Key>> {
    let key_id = match new.key_id {
        Some(id) if ids::is_key_id(&id) && id.starts_with("mrk-") == new.multi_region => id,
        Some(id) => return Err(KmsError::validation(format!("Key id {id} is not valid for this key."))),
        None => ids::new_key_id(new.multi_region),
    };
    let arn = ids::key_arn(&new.region, &new.account, &key_id);
    let created = now();
    let mut materials = BTreeMap::new();
    let material = match (new.material, new.origin) {
        (Some(secret), _) => Some(Material::from_secret(new.spec, secret)?),
        (None, Origin::External) => None,
        (None, _) => Some(Material::generate(new.spec)?),
    };
    let state = if material.is_some() { KeyState::Enabled } else { KeyState::PendingImport };
    if let Some(material) = material {
        let info = MaterialInfo {
            version: 0,
            material_id: ids::new_hex_id(),
            created,
            imported: new.origin == Origin::External,
        };
        materials.insert(0, Arc::new(MaterialVersion { info, material }));
    }
    let meta = KeyMeta {
        account: new.account.clone(),
        region: new.region,
        key_id,
        description: new.description,
        key_spec: new.spec,
        key_usage: new.usage,
        origin: new.origin,
        state,
        creation_date: created,
        deletion_date: None,
        pending_window_days: None,
        policy: new.policy.unwrap_or_else(|| policy::default_key_policy(&new.account)),
        tags: new.tags,
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_date: None,
        multi_region: new.multi_region.then_some(MrRole::Primary),
        valid_to: None,
        expiration_model: (new.origin == Origin::External && state == KeyState::Enabled)
            .then(|| "KEY_MATERIAL_DOES_NOT_EXPIRE".into()),
        current_version: 0,
        rotations: Vec::new(),
        imported_fingerprint: None,
        aws_managed: false,
    };
    reg.insert_key(Key { arn, meta, materials })
}

/// Checks a policy document for CreateKey/PutKeyPolicy/ReplicateKey, including the lockout
/// safety check for callers subject to key policies.
/// Checks a policy for CreateKey, ReplicateKey and PutKeyPolicy: the quota, the syntax, and
/// (unless bypassed) the lockout safety check, which asks whether the caller could set the key
/// policy again, answering conditions from `facts`, the facts of this request (its source
/// address, transport, the key), as KMS does.
pub(crate) fn check_policy(
    ctx: &Ctx<'_>,
    text: &str,
    key_arn: &str,
    bypass: Option<bool>,
    facts: &dyn FactSource,
) -> KmsResult<()> {
    if text.len() > policy::MAX_POLICY_BYTES {
        return Err(KmsError::new("LimitExceededException", "The key policy exceeds the 32 KB quota."));
    }
    policy::validate(text).map_err(|m| KmsError::new("MalformedPolicyDocumentException", m))?;
    if ctx.policies && bypass != Some(true) {
        let parsed = policy::Policy::parse(text).map_err(|m| KmsError::new("MalformedPolicyDocumentException", m))?;
        if !policy::allows_policy_update_with(&parsed, &ctx.principal, &ctx.account, key_arn, Some(facts)) {
            return Err(KmsError::new(
                "MalformedPolicyDocumentException",
                "The new key policy will not allow you to update the key policy in the future.",
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKeyRequest {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<KeyUsage>,
    customer_master_key_spec: Option<KeySpec>,
    key_spec: Option<KeySpec>,
    origin: Option<Origin>,
    custom_key_store_id: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    tags: Option<Vec<Tag>>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadataResponse {
    key_metadata: KeyMetadata,
}

pub(crate) fn create_key(ctx: &Ctx<'_>, r: CreateKeyRequest) -> KmsResult<KeyMetadataResponse> {
    if r.key_spec.is_some() && r.customer_master_key_spec.is_some() {
        return Err(KmsError::validation("You cannot specify both KeySpec and CustomerMasterKeySpec."));
    }
    let spec = r.key_spec.or(r.customer_master_key_spec).unwrap_or(KeySpec::SymmetricDefault);
    let usage = r.key_usage.unwrap_or(KeyUsage::EncryptDecrypt);
    spec.check_usage(usage)?;
    let origin = r.origin.unwrap_or(Origin::AwsKms);
    if r.custom_key_store_id.is_some()
        || r.xks_key_id.is_some()
        || matches!(origin, Origin::AwsCloudHsm | Origin::ExternalKeyStore)
    {
        return Err(KmsError::new(
            "CustomKeyStoreNotFoundException",
            "Custom key stores are not available in this emulator.",
        ));
    }
    if spec == KeySpec::Sm2 {
        return Err(KmsError::unsupported("SM2 keys are available only in China Regions."));
    }
    if let Some(d) = &r.description {
        if d.len() > 8192 {
            return Err(KmsError::constraint("description", "Member must have length less than or equal to 8192"));
        }
    }
    let tags = r.tags.unwrap_or_default();
    check_tags(&tags)?;
    if let Some(p) = &r.policy {
        // The key ARN is not known yet; the lockout check only needs the caller's own rights.
        let arn = ids::key_arn(&ctx.region, &ctx.account, "*");
        check_policy(ctx, p, &arn, r.bypass_policy_lockout_safety_check, &CallerFacts { ctx })?;
    }
    let key = create_key_record(
        ctx.reg,
        NewKey {
            account: ctx.account.clone(),
            region: ctx.region.clone(),
            key_id: None,
            spec,
            usage,
            origin,
            description: r.description.unwrap_or_default(),
            policy: r.policy,
            tags: tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect(),
            multi_region: r.multi_region == Some(true),
            material: None,
        },
    )?;
    ctx.touch(&key.arn);
    Ok(KeyMetadataResponse { key_metadata: metadata(ctx.reg, &key) })
}

/// Key metadata, with the multi-Region family when relevant.
pub(crate) fn metadata(reg: &Registry, key: &Key) -> KeyMetadata {
    let family =
        if key.meta.multi_region.is_some() { reg.mr_family(&key.meta.account, &key.meta.key_id) } else { Vec::new() };
    KeyMetadata::of(key, &family)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeKeyRequest {
    key_id: String,
    grant_tokens: Option<Vec<String>>,
}

pub(crate) fn describe_key(ctx: &Ctx<'_>, r: DescribeKeyRequest) -> KmsResult<KeyMetadataResponse> {
    crate::wire::check_grant_tokens(&r.grant_tokens)?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    ctx.authorize(&key, "DescribeKey", None)?;
    Ok(KeyMetadataResponse { key_metadata: metadata(ctx.reg, &key) })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRequest {
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyListEntry {
    key_id: String,
    key_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeysResponse {
    keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

pub(crate) fn list_keys(ctx: &Ctx<'_>, r: ListRequest) -> KmsResult<ListKeysResponse> {
    let entries: Vec<KeyListEntry> = ctx
        .reg
        .keys_in(&ctx.account, &ctx.region)
        .iter()
        .map(|k| KeyListEntry { key_id: k.meta.key_id.clone(), key_arn: k.arn.clone() })
        .collect();
    let (keys, next_marker, truncated) = paginate(entries, r.limit, r.marker.as_deref())?;
    Ok(ListKeysResponse { keys, next_marker, truncated })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyIdRequest {
    pub(crate) key_id: String,
}

#[derive(Serialize)]
pub(crate) struct Empty {}

pub(crate) fn enable_key(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "EnableKey", None)?;
    ctx.reg.update_key(&key.arn, |k| match k.meta.state {
        KeyState::Enabled | KeyState::Disabled => {
            k.meta.state = KeyState::Enabled;
            Ok(Empty {})
        }
        s => Err(KmsError::invalid_state(format!("{} is {}.", k.arn, s.as_str()))),
    })
}

pub(crate) fn disable_key(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "DisableKey", None)?;
    ctx.reg.update_key(&key.arn, |k| match k.meta.state {
        KeyState::Enabled | KeyState::Disabled => {
            k.meta.state = KeyState::Disabled;
            Ok(Empty {})
        }
        s => Err(KmsError::invalid_state(format!("{} is {}.", k.arn, s.as_str()))),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleKeyDeletionRequest {
    key_id: String,
    pending_window_in_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleKeyDeletionResponse {
    key_id: String,
    deletion_date: i64,
    key_state: &'static str,
    pending_window_in_days: i64,
}

pub(crate) fn schedule_key_deletion(
    ctx: &Ctx<'_>,
    r: ScheduleKeyDeletionRequest,
) -> KmsResult<ScheduleKeyDeletionResponse> {
    let days = r.pending_window_in_days.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(KmsError::constraint("pendingWindowInDays", "Member must have value between 7 and 30"));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ScheduleKeyDeletion", None)?;
    if key.meta.multi_region == Some(MrRole::Primary)
        && ctx.reg.mr_family(&key.meta.account, &key.meta.key_id).len() > 1
    {
        return Err(KmsError::invalid_state(format!(
            "{} is a multi-Region primary key with replicas; delete the replicas first.",
            key.arn
        )));
    }
    let deletion = now() + days * 86_400;
    ctx.reg.update_key(&key.arn, |k| {
        k.check_not_pending_deletion()?;
        k.meta.state = KeyState::PendingDeletion;
        k.meta.deletion_date = Some(deletion);
        k.meta.pending_window_days = Some(days as u32);
        Ok(ScheduleKeyDeletionResponse {
            key_id: k.arn.clone(),
            deletion_date: deletion,
            key_state: KeyState::PendingDeletion.as_str(),
            pending_window_in_days: days,
        })
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyIdResponse {
    key_id: String,
}

impl KeyIdResponse {
    pub(crate) fn new(key_id: String) -> Self {
        Self { key_id }
    }
}

pub(crate) fn cancel_key_deletion(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<KeyIdResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "CancelKeyDeletion", None)?;
    ctx.reg.update_key(&key.arn, |k| {
        if k.meta.state != KeyState::PendingDeletion {
            return Err(KmsError::invalid_state(format!("{} is not pending deletion.", k.arn)));
        }
        // KMS leaves a key Disabled after its deletion is cancelled.
        k.meta.state = KeyState::Disabled;
        k.meta.deletion_date = None;
        k.meta.pending_window_days = None;
        Ok(KeyIdResponse { key_id: k.arn.clone() })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateKeyDescriptionRequest {
    key_id: String,
    description: String,
}

pub(crate) fn update_key_description(ctx: &Ctx<'_>, r: UpdateKeyDescriptionRequest) -> KmsResult<Empty> {
    if r.description.len() > 8192 {
        return Err(KmsError::constraint("description", "Member must have length less than or equal to 8192"));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "UpdateKeyDescription", None)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.check_not_pending_deletion()?;
        k.meta.description = r.description;
        Ok(Empty {})
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceRequest {
    key_id: String,
    tags: Vec<Tag>,
}

pub(crate) fn tag_resource(ctx: &Ctx<'_>, r: TagResourceRequest) -> KmsResult<Empty> {
    check_tags(&r.tags)?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "TagResource", None)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.check_not_pending_deletion()?;
        for t in r.tags {
            k.meta.tags.insert(t.tag_key, t.tag_value);
        }
        if k.meta.tags.len() > 50 {
            return Err(KmsError::new("LimitExceededException", "A key can have at most 50 tags."));
        }
        Ok(Empty {})
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceRequest {
    key_id: String,
    tag_keys: Vec<String>,
}

pub(crate) fn untag_resource(ctx: &Ctx<'_>, r: UntagResourceRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "UntagResource", None)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.check_not_pending_deletion()?;
        for t in &r.tag_keys {
            k.meta.tags.remove(t);
        }
        Ok(Empty {})
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListResourceTagsRequest {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListResourceTagsResponse {
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

pub(crate) fn list_resource_tags(ctx: &Ctx<'_>, r: ListResourceTagsRequest) -> KmsResult<ListResourceTagsResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ListResourceTags", None)?;
    let all: Vec<Tag> = key.meta.tags.iter().map(|(k, v)| Tag { tag_key: k.clone(), tag_value: v.clone() }).collect();
    let (tags, next_marker, truncated) = paginate(all, r.limit, r.marker.as_deref())?;
    Ok(ListResourceTagsResponse { tags, next_marker, truncated })
}
