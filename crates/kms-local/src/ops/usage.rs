//! GetKeyLastUsage, answered from the audit log's record of cryptographic operations.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::KmsResult;
use crate::ids::KeyIdForms;

/// Operations that count as "use" of a key (KMS's KeyLastUsageTrackingOperation set).
pub(crate) const TRACKED: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "ReEncrypt",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
    "GetPublicKey",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyLastUsageRequest {
    key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyLastUsageData {
    operation: String,
    timestamp: i64,
    cloud_trail_event_id: String,
    kms_request_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetKeyLastUsageResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_last_usage: Option<KeyLastUsageData>,
    tracking_start_date: i64,
    key_creation_date: i64,
}

pub(crate) fn get_key_last_usage(ctx: &Ctx<'_>, r: GetKeyLastUsageRequest) -> KmsResult<GetKeyLastUsageResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "GetKeyLastUsage", None)?;
    let last = ctx.reg.last_usage(&key.arn).map(|u| KeyLastUsageData {
        operation: u.operation,
        timestamp: u.timestamp,
        cloud_trail_event_id: u.event_id,
        kms_request_id: u.request_id,
    });
    Ok(GetKeyLastUsageResponse {
        key_id: key.arn.clone(),
        key_last_usage: last,
        tracking_start_date: ctx.reg.tracking_start,
        key_creation_date: key.meta.creation_date,
    })
}
