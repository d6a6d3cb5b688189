//! From one KMS key description (and its keys-manifest entry) to an envelope KMS keyring.

use std::sync::Arc;

use base64::Engine as _;
use envelope::Keyring;
use envelope_keyrings::kms::{
    AwsKmsEcdhKeyring, AwsKmsKeyring, AwsKmsMrkKeyring, AwsKmsRsaKeyring, DiscoveryFilter, KmsArn, KmsRsaPadding,
    get_public_key, kms_mrk_discovery_multi_keyring,
};
use envelope_keyrings::{EcdhCurve, RsaPublicKey};
use serde_json::Value;

use super::AwsKmsKeyrings;
use crate::keys::Operation;
use crate::manifest::key_description::KeyDescription;
use crate::manifest::keys::{KeyEntry, KeysManifest};

/// Why a keyring was not built.
pub(super) enum Problem {
    /// The key cannot be reached here: skip the test.
    Unreachable(String),
    /// The manifest is wrong: fail the test.
    Invalid(String),
}

pub(super) type Built = Result<Arc<dyn Keyring>, Problem>;

fn invalid(reason: impl Into<String>) -> Problem {
    Problem::Invalid(reason.into())
}

/// Dispatches on the description's `type`.
pub(super) fn keyring(
    kms: &AwsKmsKeyrings,
    description: &KeyDescription,
    entry: Option<(&str, &KeyEntry)>,
    keys: &KeysManifest,
    operation: Operation,
) -> Built {
    let KeyDescription::AwsKms { kind, json, .. } = description else {
        return Err(invalid("not an AWS KMS key description"));
    };
    match kind.as_str() {
        "aws-kms" => symmetric(kms, entry, false),
        "aws-kms-mrk-aware" => symmetric(kms, entry, true),
        "aws-kms-mrk-aware-discovery" => mrk_discovery(kms, json, operation),
        "aws-kms-rsa" => rsa(kms, json, entry, operation),
        "aws-kms-ecdh" => ecdh(kms, json, keys, operation),
        other => Err(Problem::Unreachable(format!("{other} keyrings are not supported by this runner"))),
    }
}

/// `aws-kms` (strict) and `aws-kms-mrk-aware`: the same key on encrypt and decrypt.
fn symmetric(kms: &AwsKmsKeyrings, entry: Option<(&str, &KeyEntry)>, mrk_aware: bool) -> Built {
    let (key_id, arn) = key_arn(entry, "aws-kms")?;
    let client = reachable_client(kms, &arn)?;
    let keyring: Arc<dyn Keyring> = if mrk_aware {
        Arc::new(AwsKmsMrkKeyring::new(key_id, client).map_err(|e| invalid(e.to_string()))?)
    } else {
        Arc::new(AwsKmsKeyring::new(key_id, client).map_err(|e| invalid(e.to_string()))?)
    };
    Ok(keyring)
}

/// `aws-kms-mrk-aware-discovery`: as the reference runners build it, an MRK discovery
/// multi-keyring over the one Region `default-mrk-region`.
fn mrk_discovery(kms: &AwsKmsKeyrings, json: &Value, operation: Operation) -> Built {
    if operation == Operation::Encrypt {
        return Err(invalid("a discovery keyring cannot encrypt"));
    }
    let region = string(json, "default-mrk-region")?;
    if let Some(why) = kms.region_unreachable(region) {
        return Err(Problem::Unreachable(why));
    }
    let filter = match json.get("aws-kms-discovery-filter") {
        None | Some(Value::Null) => None,
        Some(filter) => Some(DiscoveryFilter {
            partition: string(filter, "partition")?.to_owned(),
            account_ids: filter
                .get("account-ids")
                .and_then(Value::as_array)
                .and_then(|ids| ids.iter().map(|id| id.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
                .ok_or_else(|| invalid("\"aws-kms-discovery-filter\" needs \"account-ids\", a list of strings"))?,
        }),
    };
    let multi = kms_mrk_discovery_multi_keyring(&[region.to_owned()], filter, kms.supplier.clone())
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Arc::new(multi))
}

/// `aws-kms-rsa`: encrypts locally with the entry's PEM public key (fetched with GetPublicKey
/// when the entry has none), decrypts with KMS.
fn rsa(kms: &AwsKmsKeyrings, json: &Value, entry: Option<(&str, &KeyEntry)>, operation: Operation) -> Built {
    let padding = match string(json, "encryption-algorithm")? {
        "RSAES_OAEP_SHA_1" => KmsRsaPadding::OaepSha1,
        "RSAES_OAEP_SHA_256" => KmsRsaPadding::OaepSha256,
        other => return Err(invalid(format!("unsupported KMS RSA encryption-algorithm {other:?}"))),
    };
    let (key_id, arn) = key_arn(entry, "aws-kms-rsa")?;
    let client = reachable_client(kms, &arn)?;
    let public_key = match (operation, entry.and_then(|(_, e)| e.material_text())) {
        (_, Some(pem)) => Some(
            RsaPublicKey::from_pem(&pem)
                .and_then(|k| k.to_der())
                .map_err(|e| invalid(format!("the public key of {key_id}: {e}")))?,
        ),
        (Operation::Encrypt, None) => {
            let (client, key) = (client.clone(), key_id.to_owned());
            let fetched =
                kms.runtime.run(async move { get_public_key(&client, &key).await }).map_err(Problem::Unreachable)?;
            Some(fetched.map_err(|e| Problem::Unreachable(e.to_string()))?)
        }
        (Operation::Decrypt, None) => None,
    };
    let keyring =
        AwsKmsRsaKeyring::new(key_id, public_key, padding, Some(client)).map_err(|e| invalid(e.to_string()))?;
    Ok(Arc::new(keyring))
}

/// `aws-kms-ecdh`: `static` uses the sender's KMS key and the recipient's public key (from the
/// entry named `sender`); `discovery` the recipient's KMS key (from the entry named `recipient`).
fn ecdh(kms: &AwsKmsKeyrings, json: &Value, keys: &KeysManifest, operation: Operation) -> Built {
    let curve_name = string(json, "ecc-curve")?;
    let curve = curve(curve_name).ok_or_else(|| invalid(format!("unknown ecc-curve {curve_name:?}")))?;
    let schema = string(json, "schema")?;
    let role = match schema {
        "static" => "sender",
        "discovery" if operation == Operation::Decrypt => "recipient",
        "discovery" => return Err(invalid("an ECDH discovery keyring cannot encrypt")),
        other => return Err(invalid(format!("unknown aws-kms-ecdh schema {other:?}"))),
    };
    let name = string(json, role)?;
    let entry = keys.entry(name).ok_or_else(|| invalid(format!("key {name:?} is not in the keys manifest")))?;
    if entry.kind != "aws-kms-ecdh" {
        return Err(invalid(format!("key {name:?} is a {:?} entry, not aws-kms-ecdh", entry.kind)));
    }
    let (kms_key, own_public, peer_public) = if role == "sender" {
        (&entry.sender_material, &entry.sender_public_key, &entry.recipient_public_key)
    } else {
        (&entry.recipient_material, &entry.recipient_public_key, &None)
    };
    let kms_key =
        kms_key.clone().ok_or_else(|| invalid(format!("key {name:?} has no {role}-material (a KMS key ARN)")))?;
    let arn = KmsArn::parse(&kms_key).map_err(|e| invalid(format!("key {name:?}: {e}")))?;
    let own_public = own_public.as_deref().map(der_base64).transpose()?;
    let client = reachable_client(kms, &arn)?;
    let built = if role == "sender" {
        let peer = peer_public
            .as_deref()
            .map(der_base64)
            .transpose()?
            .ok_or_else(|| invalid(format!("key {name:?} has no recipient-material-public-key")))?;
        kms.runtime.run(async move {
            AwsKmsEcdhKeyring::static_keys(curve, kms_key, &peer, own_public.as_deref(), client).await
        })
    } else {
        kms.runtime.run(async move {
            AwsKmsEcdhKeyring::public_key_discovery(curve, kms_key, own_public.as_deref(), client).await
        })
    };
    let keyring = built.map_err(Problem::Unreachable)?.map_err(|e| invalid(e.to_string()))?;
    Ok(Arc::new(keyring))
}

/// The entry's key ARN (its Region picks the client), checking the entry's type.
fn key_arn<'a>(entry: Option<(&'a str, &'a KeyEntry)>, kind: &str) -> Result<(&'a str, KmsArn), Problem> {
    let (name, entry) = entry.ok_or_else(|| invalid("the description names no \"key\""))?;
    if entry.kind != kind {
        return Err(invalid(format!("key {name:?} is a {:?} entry, not {kind}", entry.kind)));
    }
    let key_id = entry.key_id(name);
    let arn = KmsArn::parse(key_id)
        .map_err(|e| invalid(format!("key {name:?}: {key_id} is not a key ARN, so its Region is unknown ({e})")))?;
    Ok((key_id, arn))
}

/// The client for the key's Region, once KMS has not said the key is unreachable.
fn reachable_client(kms: &AwsKmsKeyrings, arn: &KmsArn) -> Result<aws_sdk_kms::Client, Problem> {
    if let Some(why) = kms.unreachable(arn) {
        return Err(Problem::Unreachable(why));
    }
    kms.client(arn.region()).map_err(Problem::Unreachable)
}

fn string<'a>(json: &'a Value, member: &str) -> Result<&'a str, Problem> {
    json.get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("the description has no string \"{member}\"")))
}

fn der_base64(text: &str) -> Result<Vec<u8>, Problem> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| invalid(format!("public key is not base64: {e}")))
}

/// The curve of an `ecc-curve` member: the reference runners name it by their KMS key
/// (`us-west-2-256-ecc`), the raw vectors by size (`ecc-256`); KMS and SEC names are accepted too.
fn curve(name: &str) -> Option<EcdhCurve> {
    match name {
        "us-west-2-256-ecc" | "ecc-256" | "ECC_NIST_P256" | "secp256r1" => Some(EcdhCurve::P256),
        "us-west-2-384-ecc" | "ecc-384" | "ECC_NIST_P384" | "secp384r1" => Some(EcdhCurve::P384),
        "us-west-2-521-ecc" | "ecc-521" | "ECC_NIST_P521" | "secp521r1" => Some(EcdhCurve::P521),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_by_every_name() {
        assert_eq!(curve("us-west-2-384-ecc"), Some(EcdhCurve::P384));
        assert_eq!(curve("ECC_NIST_P521"), Some(EcdhCurve::P521));
        assert_eq!(curve("p256"), None);
    }
}
