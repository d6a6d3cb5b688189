//! Custom key stores (CloudHSM and external key stores) do not exist in this emulator; every
//! operation answers the way KMS does when the store it names is not there.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::{KmsError, KmsResult};

fn not_found(id: &str) -> KmsError {
    KmsError::new("CustomKeyStoreNotFoundException", format!("Custom key store {id} does not exist in this emulator."))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StoreIdRequest {
    custom_key_store_id: String,
}

#[derive(Serialize)]
pub(crate) struct Empty {}

pub(crate) fn connect_custom_key_store(_ctx: &Ctx<'_>, r: StoreIdRequest) -> KmsResult<Empty> {
    Err(not_found(&r.custom_key_store_id))
}

pub(crate) fn disconnect_custom_key_store(_ctx: &Ctx<'_>, r: StoreIdRequest) -> KmsResult<Empty> {
    Err(not_found(&r.custom_key_store_id))
}

pub(crate) fn delete_custom_key_store(_ctx: &Ctx<'_>, r: StoreIdRequest) -> KmsResult<Empty> {
    Err(not_found(&r.custom_key_store_id))
}

pub(crate) fn update_custom_key_store(_ctx: &Ctx<'_>, r: StoreIdRequest) -> KmsResult<Empty> {
    Err(not_found(&r.custom_key_store_id))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateCustomKeyStoreRequest {
    custom_key_store_name: String,
    custom_key_store_type: Option<String>,
    cloud_hsm_cluster_id: Option<String>,
    xks_proxy_uri_endpoint: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct CreateCustomKeyStoreResponse {}

pub(crate) fn create_custom_key_store(
    _ctx: &Ctx<'_>,
    r: CreateCustomKeyStoreRequest,
) -> KmsResult<CreateCustomKeyStoreResponse> {
    let _ = r.custom_key_store_name;
    match r.custom_key_store_type.as_deref().unwrap_or("AWS_CLOUDHSM") {
        "EXTERNAL_KEY_STORE" => Err(KmsError::new(
            "XksProxyUriUnreachableException",
            format!(
                "The external key store proxy {} is not reachable from this emulator.",
                r.xks_proxy_uri_endpoint.unwrap_or_default()
            ),
        )),
        _ => Err(KmsError::new(
            "CloudHsmClusterNotFoundException",
            format!("CloudHSM cluster {} does not exist in this emulator.", r.cloud_hsm_cluster_id.unwrap_or_default()),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeCustomKeyStoresRequest {
    custom_key_store_id: Option<String>,
    custom_key_store_name: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeCustomKeyStoresResponse {
    custom_key_stores: Vec<serde_json::Value>,
    truncated: bool,
}

pub(crate) fn describe_custom_key_stores(
    _ctx: &Ctx<'_>,
    r: DescribeCustomKeyStoresRequest,
) -> KmsResult<DescribeCustomKeyStoresResponse> {
    if let Some(id) = r.custom_key_store_id.or(r.custom_key_store_name) {
        return Err(not_found(&id));
    }
    if r.marker.is_some() {
        return Err(KmsError::new("InvalidMarkerException", "The marker is not valid."));
    }
    let _ = r.limit;
    Ok(DescribeCustomKeyStoresResponse { custom_key_stores: Vec::new(), truncated: false })
}
