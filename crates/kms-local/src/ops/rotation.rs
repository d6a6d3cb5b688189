//! Rotation: Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations.
//! A rotation adds a material version and makes it current; older versions stay, so every
//! earlier ciphertext (which names its version) still decrypts.
//!
//! KMS rotates on demand in the background and reports `OnDemandRotationStartDate` only while a
//! rotation is in progress; here a rotation is complete (durable) before RotateKeyOnDemand
//! answers, so that field is never reported and ListKeyRotations lists the rotation at once.

use serde::{Deserialize, Serialize};

use super::Ctx;
use super::lifecycle::{Empty, KeyIdRequest, KeyIdResponse};
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::keys::{KeySpec, KeyState, Origin};
use crate::model::{Key, MrRole, now};
use crate::wire::paginate;

const MAX_ON_DEMAND: usize = 25;

fn check_rotatable(key: &Key) -> KmsResult<()> {
    if key.meta.key_spec != KeySpec::SymmetricDefault {
        return Err(KmsError::unsupported(format!(
            "{} is not a symmetric encryption key; it cannot be rotated.",
            key.arn
        )));
    }
    if key.meta.origin != Origin::AwsKms {
        return Err(KmsError::unsupported(format!(
            "{} has imported key material; automatic rotation is not supported.",
            key.arn
        )));
    }
    if key.meta.multi_region == Some(MrRole::Replica) {
        return Err(KmsError::unsupported(format!(
            "{} is a multi-Region replica; manage rotation on its primary key.",
            key.arn
        )));
    }
    Ok(())
}

fn check_enabled(key: &Key) -> KmsResult<()> {
    match key.meta.state {
        KeyState::Enabled => Ok(()),
        _ => key.check_usable(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnableKeyRotationRequest {
    key_id: String,
    rotation_period_in_days: Option<i64>,
}

pub(crate) fn enable_key_rotation(ctx: &Ctx<'_>, r: EnableKeyRotationRequest) -> KmsResult<Empty> {
    let period = r.rotation_period_in_days.unwrap_or(365);
    if !(90..=2560).contains(&period) {
        return Err(KmsError::constraint("rotationPeriodInDays", "Member must have value between 90 and 2560"));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "EnableKeyRotation", None)?;
    check_enabled(&key)?;
    check_rotatable(&key)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.meta.rotation_enabled = true;
        k.meta.rotation_period_days = Some(period as u32);
        k.meta.next_rotation_date = Some(now() + period * 86_400);
        Ok(Empty {})
    })
}

pub(crate) fn disable_key_rotation(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<Empty> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "DisableKeyRotation", None)?;
    check_enabled(&key)?;
    check_rotatable(&key)?;
    ctx.reg.update_key(&key.arn, |k| {
        k.meta.rotation_enabled = false;
        k.meta.next_rotation_date = None;
        Ok(Empty {})
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyRotationStatusResponse {
    key_rotation_enabled: bool,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<i64>,
}

pub(crate) fn get_key_rotation_status(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<GetKeyRotationStatusResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "GetKeyRotationStatus", None)?;
    if key.meta.key_spec != KeySpec::SymmetricDefault {
        return Err(KmsError::unsupported(format!("{} does not support rotation.", key.arn)));
    }
    let m = &key.meta;
    Ok(GetKeyRotationStatusResponse {
        key_rotation_enabled: m.rotation_enabled,
        key_id: key.arn.clone(),
        rotation_period_in_days: m.rotation_period_days.filter(|_| m.rotation_enabled),
        next_rotation_date: m.next_rotation_date.filter(|_| m.rotation_enabled),
    })
}

pub(crate) fn rotate_key_on_demand(ctx: &Ctx<'_>, r: KeyIdRequest) -> KmsResult<KeyIdResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "RotateKeyOnDemand", None)?;
    check_enabled(&key)?;
    check_rotatable(&key)?;
    if key.meta.rotations.iter().filter(|r| r.rotation_type == "ON_DEMAND").count() >= MAX_ON_DEMAND {
        return Err(KmsError::new(
            "LimitExceededException",
            "This key has reached the limit of 25 on-demand rotations.",
        ));
    }
    ctx.reg.rotate(&key, "ON_DEMAND")?;
    Ok(KeyIdResponse::new(key.arn.clone()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyRotationsRequest {
    key_id: String,
    include_key_material: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RotationsListEntry {
    key_id: String,
    key_material_id: String,
    key_material_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListKeyRotationsResponse {
    rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

pub(crate) fn list_key_rotations(ctx: &Ctx<'_>, r: ListKeyRotationsRequest) -> KmsResult<ListKeyRotationsResponse> {
    let all_material = match r.include_key_material.as_deref() {
        None | Some("ROTATIONS_ONLY") => false,
        Some("ALL_KEY_MATERIAL") => true,
        Some(_) => {
            return Err(KmsError::constraint(
                "includeKeyMaterial",
                "Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]",
            ));
        }
    };
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ListKeyRotations", None)?;
    if key.meta.key_spec != KeySpec::SymmetricDefault {
        return Err(KmsError::unsupported(format!("{} does not support rotation.", key.arn)));
    }
    let state = |v: u32| {
        if v == key.meta.current_version { "CURRENT" } else { "NON_CURRENT" }
    };
    let entries: Vec<RotationsListEntry> = key
        .materials
        .values()
        .filter_map(|m| {
            let rec = key.meta.rotations.iter().find(|r| r.version == m.info.version);
            if rec.is_none() && !all_material {
                return None;
            }
            Some(RotationsListEntry {
                key_id: key.meta.key_id.clone(),
                key_material_id: m.info.material_id.clone(),
                key_material_state: state(m.info.version),
                rotation_date: rec.map(|r| r.date),
                rotation_type: rec.map(|r| r.rotation_type.clone()),
            })
        })
        .collect();
    let (rotations, next_marker, truncated) = paginate(entries, r.limit, r.marker.as_deref())?;
    Ok(ListKeyRotationsResponse { rotations, next_marker, truncated })
}
