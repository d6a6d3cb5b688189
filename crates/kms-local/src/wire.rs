//! Server-side wire types shared by many operations: base64 blobs, tags, key metadata, paging.
//! Written against the botocore KMS model, independently of any client SDK's types.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{KmsError, KmsResult};
use crate::keys::{KeyUsage, Secret};
use crate::model::{Key, MrRole};

/// A base64-encoded blob (ciphertext, public key, signature...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct B64(pub(crate) Vec<u8>);

impl Serialize for B64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(B64)
            .map_err(|_| serde::de::Error::custom("blob is not valid base64"))
    }
}

/// A base64 blob holding secret bytes in a request (plaintext, messages): zeroized on drop.
#[derive(Debug)]
pub(crate) struct SecretIn(pub(crate) Secret);

impl<'de> Deserialize<'de> for SecretIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = zeroize::Zeroizing::new(String::deserialize(d)?);
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(|v| SecretIn(Secret::new(v)))
            .map_err(|_| serde::de::Error::custom("blob is not valid base64"))
    }
}

/// Secret bytes in a response (plaintext data keys, shared secrets).
#[derive(Debug)]
pub(crate) struct SecretOut(pub(crate) Secret);

impl Serialize for SecretOut {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.expose()));
        s.serialize_str(&text)
    }
}

/// An encryption context.
pub(crate) type Context = BTreeMap<String, String>;

/// A tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    /// Key.
    pub(crate) tag_key: String,
    /// Value.
    pub(crate) tag_value: String,
}

/// Validates a tag list for CreateKey/TagResource/ReplicateKey.
pub(crate) fn check_tags(tags: &[Tag]) -> KmsResult<()> {
    if tags.len() > 50 {
        return Err(KmsError::new("LimitExceededException", "A key can have at most 50 tags."));
    }
    for t in tags {
        if t.tag_key.is_empty() || t.tag_key.chars().count() > 128 || t.tag_value.chars().count() > 256 {
            return Err(KmsError::new(
                "TagException",
                "Tag keys must be 1-128 characters and tag values 0-256 characters.",
            ));
        }
        if t.tag_key.starts_with("aws:") {
            return Err(KmsError::new("TagException", "Tag keys beginning with aws: are reserved."));
        }
    }
    Ok(())
}

/// Checks the GrantTokens list limits (at most 10 tokens of 1..8192 characters).
pub(crate) fn check_grant_tokens(tokens: &Option<Vec<String>>) -> KmsResult<()> {
    if let Some(t) = tokens {
        if t.len() > 10 {
            return Err(KmsError::constraint("grantTokens", "Member must have length less than or equal to 10"));
        }
        if t.iter().any(|s| s.is_empty() || s.len() > 8192) {
            return Err(KmsError::new("InvalidGrantTokenException", "Grant token is not valid."));
        }
    }
    Ok(())
}

/// `MultiRegionKey`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MultiRegionKey {
    /// ARN.
    pub(crate) arn: String,
    /// Region.
    pub(crate) region: String,
}

/// `MultiRegionConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MultiRegionConfiguration {
    /// PRIMARY or REPLICA.
    pub(crate) multi_region_key_type: &'static str,
    /// Primary.
    pub(crate) primary_key: Option<MultiRegionKey>,
    /// Replicas.
    pub(crate) replica_keys: Vec<MultiRegionKey>,
}

/// `KeyMetadata`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub(crate) struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub(crate) aws_account_id: String,
    pub(crate) key_id: String,
    pub(crate) arn: String,
    pub(crate) creation_date: i64,
    pub(crate) enabled: bool,
    pub(crate) description: String,
    pub(crate) key_usage: &'static str,
    pub(crate) key_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) deletion_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) valid_to: Option<i64>,
    pub(crate) origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expiration_model: Option<String>,
    pub(crate) key_manager: &'static str,
    pub(crate) customer_master_key_spec: &'static str,
    pub(crate) key_spec: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signing_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_agreement_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) encapsulation_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mac_algorithms: Option<Vec<&'static str>>,
    pub(crate) multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pending_deletion_window_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current_key_material_id: Option<String>,
}

impl KeyMetadata {
    /// Builds the metadata of `key`; `family` is every Region's copy when it is multi-Region.
    pub(crate) fn of(key: &Key, family: &[std::sync::Arc<Key>]) -> Self {
        let m = &key.meta;
        let spec = m.key_spec;
        let strs = |v: Vec<&'static str>| if v.is_empty() { None } else { Some(v) };
        let (enc, sig, agr, enc_alg, mac) = match m.key_usage {
            KeyUsage::EncryptDecrypt => {
                (strs(spec.encryption_algorithms().iter().map(|a| a.as_str()).collect()), None, None, None, None)
            }
            KeyUsage::SignVerify => {
                (None, strs(spec.signing_algorithms().iter().map(|a| a.as_str()).collect()), None, None, None)
            }
            KeyUsage::KeyAgreement => (None, None, Some(vec!["ECDH"]), None, None),
            KeyUsage::EncapsulateDecapsulate => (None, None, None, Some(vec!["ML_KEM"]), None),
            KeyUsage::GenerateVerifyMac => (None, None, None, None, spec.mac_algorithm().map(|a| vec![a.as_str()])),
        };
        let multi_region_configuration = m.multi_region.map(|role| {
            let entry = |k: &Key| MultiRegionKey { arn: k.arn.clone(), region: k.meta.region.clone() };
            MultiRegionConfiguration {
                multi_region_key_type: if role == MrRole::Primary { "PRIMARY" } else { "REPLICA" },
                primary_key: family.iter().find(|k| k.meta.multi_region == Some(MrRole::Primary)).map(|k| entry(k)),
                replica_keys: family
                    .iter()
                    .filter(|k| k.meta.multi_region == Some(MrRole::Replica))
                    .map(|k| entry(k))
                    .collect(),
            }
        });
        Self {
            aws_account_id: m.account.clone(),
            key_id: m.key_id.clone(),
            arn: key.arn.clone(),
            creation_date: m.creation_date,
            enabled: m.state == crate::keys::KeyState::Enabled,
            description: m.description.clone(),
            key_usage: m.key_usage.as_str(),
            key_state: m.state.as_str(),
            deletion_date: m.deletion_date,
            valid_to: m.valid_to,
            origin: m.origin.as_str(),
            expiration_model: m.expiration_model.clone(),
            key_manager: if m.aws_managed { "AWS" } else { "CUSTOMER" },
            customer_master_key_spec: spec.as_str(),
            key_spec: spec.as_str(),
            encryption_algorithms: enc,
            signing_algorithms: sig,
            key_agreement_algorithms: agr,
            encapsulation_algorithms: enc_alg,
            mac_algorithms: mac,
            multi_region: m.multi_region.is_some(),
            multi_region_configuration,
            pending_deletion_window_in_days: m.pending_window_days.filter(|_| m.deletion_date.is_some()),
            current_key_material_id: if spec == crate::keys::KeySpec::SymmetricDefault {
                key.materials.get(&m.current_version).map(|v| v.info.material_id.clone())
            } else {
                None
            },
        }
    }
}

/// Pages through `items` with KMS's Limit/Marker convention (marker = opaque offset).
pub(crate) fn paginate<T>(
    items: Vec<T>,
    limit: Option<i64>,
    marker: Option<&str>,
) -> KmsResult<(Vec<T>, Option<String>, bool)> {
    let limit = match limit {
        None => 100,
        Some(l) if (1..=1000).contains(&l) => l as usize,
        Some(_) => return Err(KmsError::constraint("limit", "Member must have value between 1 and 1000")),
    };
    let start = match marker {
        None => 0,
        Some(m) => m
            .strip_prefix("m")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| KmsError::new("InvalidMarkerException", "The marker is not valid."))?,
    };
    let end = start.saturating_add(limit).min(items.len());
    let truncated = end < items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, truncated.then(|| format!("m{end}")), truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging() {
        let (p, next, t) = paginate((0..5).collect(), Some(2), None).unwrap();
        assert_eq!(p, vec![0, 1]);
        assert!(t);
        let (p, next2, t) = paginate((0..5).collect(), Some(2), next.as_deref()).unwrap();
        assert_eq!(p, vec![2, 3]);
        assert!(t);
        let (p, _, t) = paginate((0..5).collect(), Some(2), next2.as_deref()).unwrap();
        assert_eq!(p, vec![4]);
        assert!(!t);
        assert_eq!(
            paginate((0..5).collect::<Vec<_>>(), None, Some("zz")).unwrap_err().kind(),
            "InvalidMarkerException"
        );
    }
}
