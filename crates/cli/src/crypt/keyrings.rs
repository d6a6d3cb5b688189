//! From parsed `--wrapping-keys` groups to one keyring.
//!
//! Encrypt: the first key named generates the data key and every other key wraps it too.
//! Decrypt: any of the keys may unwrap. KMS keys use the multi-Region-aware keyring, which acts
//! as the strict one for single-Region keys and lets a replica decrypt what its primary wrapped.
//! Branch keys (`branch-key-id=`) use the hierarchical keyring ([`super::hierarchy`]).

use std::path::PathBuf;
use std::sync::Arc;

use envelope::{Keyring, MultiKeyring};
use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, AwsKmsMrkKeyring, DiscoveryFilter};
use envelope_keyrings::{RawAesKeyring, RawRsaKeyring, RsaPadding};

use super::hierarchy::{self, KeyStoreErrors};
use super::key_file::{self, KeyMaterial};
use super::wrapping_keys::WrappingKeys;
use crate::exit_code::{Failure, Kind};
use crate::kms_choice::{KmsSession, service_message};

/// Which way the keyring is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Wrapping data keys.
    Encrypt,
    /// Unwrapping them.
    Decrypt,
}

/// Whether any group needs KMS (branch keys do: their store's items are decrypted by KMS).
pub fn needs_kms(groups: &[WrappingKeys]) -> bool {
    groups.iter().any(|group| !matches!(group, WrappingKeys::Raw { .. }))
}

/// Builds the keyring. `kms` must be present when [`needs_kms`] says so; `kms_data_dir` places the
/// default branch key store; `key_store_errors` receives the branch key stores' failures.
pub async fn build(
    groups: &[WrappingKeys],
    direction: Direction,
    kms: Option<&KmsSession>,
    kms_data_dir: Option<PathBuf>,
    key_store_errors: &KeyStoreErrors,
) -> Result<Arc<dyn Keyring>, Failure> {
    let mut keyrings: Vec<Arc<dyn Keyring>> = Vec::new();
    for group in groups {
        match group {
            WrappingKeys::Kms { key_ids, region } => {
                let kms = kms.ok_or_else(no_session)?;
                for key_id in key_ids {
                    keyrings.push(kms_keyring(kms, key_id, region.as_deref(), direction).await?);
                }
            }
            WrappingKeys::KmsDiscovery { filter } => {
                if direction == Direction::Encrypt {
                    return Err(Failure::usage(
                        "--wrapping-keys discovery=true only decrypts; name the keys to encrypt under with key=",
                    ));
                }
                let kms = kms.ok_or_else(no_session)?;
                let filter = filter.clone().map(|(partition, account_ids)| DiscoveryFilter { partition, account_ids });
                keyrings.push(Arc::new(AwsKmsDiscoveryKeyring::new(kms.supplier(), filter).map_err(Failure::from)?));
            }
            WrappingKeys::Hierarchy(group) => {
                let kms = kms.ok_or_else(no_session)?;
                keyrings.push(hierarchy::keyring(group, kms, kms_data_dir.clone(), key_store_errors).await?);
            }
            WrappingKeys::Raw { namespace, name, key_file, padding } => {
                let material = key_file::load(key_file)?;
                keyrings.push(
                    raw_keyring(namespace, name, material, *padding, direction).map_err(|failure| {
                        failure.context(format!("--wrapping-keys provider={namespace} key={name}"))
                    })?,
                );
            }
        }
    }
    if keyrings.is_empty() {
        return Err(Failure::usage(match direction {
            Direction::Encrypt => {
                "name a wrapping key: --wrapping-keys key=KMS_KEY, provider=NAMESPACE key=NAME key-file=PATH, or branch-key-id=ID kms-key=KMS_KEY"
            }
            Direction::Decrypt => {
                "name a wrapping key: --wrapping-keys key=KMS_KEY, discovery=true, or provider=NAMESPACE key=NAME key-file=PATH"
            }
        }));
    }
    if keyrings.len() == 1 {
        return Ok(keyrings.remove(0));
    }
    let multi = match direction {
        Direction::Encrypt => {
            let generator = keyrings.remove(0);
            MultiKeyring::new(Some(generator), keyrings)
        }
        Direction::Decrypt => MultiKeyring::new(None, keyrings),
    }
    .map_err(Failure::from)?;
    Ok(Arc::new(multi))
}

/// The caller connects to KMS whenever [`needs_kms`] says so; this is the error if it did not.
fn no_session() -> Failure {
    Failure::new(Kind::Kms, anyhow::anyhow!("KMS keys were named but no KMS connection was made"))
}

async fn kms_keyring(
    kms: &KmsSession,
    key_id: &str,
    region: Option<&str>,
    direction: Direction,
) -> Result<Arc<dyn Keyring>, Failure> {
    let region = kms.region_for(key_id, region).map_err(|error| Failure::new(Kind::Usage, error))?;
    let client = kms.client(&region).map_err(|error| Failure::new(Kind::Kms, error))?;
    // A strict keyring decrypts only EDKs whose provider info is its key ARN, so on decrypt an
    // alias or bare key id is resolved to the ARN first (encrypt accepts any identifier).
    let key_id = if direction == Direction::Decrypt && !key_id.starts_with("arn:") {
        resolve_arn(&client, key_id).await?
    } else {
        key_id.to_owned()
    };
    Ok(Arc::new(AwsKmsMrkKeyring::new(key_id, client).map_err(Failure::from)?))
}

/// The key ARN of a key id or alias (DescribeKey).
pub(super) async fn resolve_arn(client: &aws_sdk_kms::Client, key_id: &str) -> Result<String, Failure> {
    let described = client.describe_key().key_id(key_id).send().await.map_err(|error| {
        Failure::new(Kind::Kms, anyhow::anyhow!("KMS DescribeKey {key_id}: {}", service_message(&error)))
    })?;
    described
        .key_metadata()
        .and_then(|metadata| metadata.arn())
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(Kind::Kms, anyhow::anyhow!("KMS DescribeKey {key_id} returned no key ARN")))
}

fn raw_keyring(
    namespace: &str,
    name: &str,
    material: KeyMaterial,
    padding: Option<RsaPadding>,
    direction: Direction,
) -> Result<Arc<dyn Keyring>, Failure> {
    let rsa_padding = padding.unwrap_or(RsaPadding::OaepSha256);
    let keyring: Arc<dyn Keyring> = match material {
        KeyMaterial::Aes(key) => {
            if padding.is_some() {
                return Err(Failure::usage("padding= applies to RSA keys; this key file holds an AES key"));
            }
            Arc::new(RawAesKeyring::new(namespace, name, key.to_vec()).map_err(Failure::from)?)
        }
        KeyMaterial::RsaPrivate(private) => {
            let public = private.public_key();
            Arc::new(
                RawRsaKeyring::new(namespace, name, rsa_padding, Some(public), Some(private)).map_err(Failure::from)?,
            )
        }
        KeyMaterial::RsaPublic(public) => {
            if direction == Direction::Decrypt {
                return Err(Failure::usage(
                    "this key file holds an RSA public key, which cannot decrypt; give the private key",
                ));
            }
            Arc::new(RawRsaKeyring::new(namespace, name, rsa_padding, Some(public), None).map_err(Failure::from)?)
        }
    };
    Ok(keyring)
}
