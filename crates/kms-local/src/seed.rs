//! Seed files (JSON or YAML): keys with fixed ids, aliases and optionally fixed material, so test
//! vectors and development setups are reproducible. Seeding is idempotent: records that already
//! exist are left alone, so a seed can be passed on every start.
//!
//! ```yaml
//! account: "111122223333"      # optional, the default account
//! region: us-east-1            # optional
//! keys:
//!   - id: 11111111-2222-3333-4444-555555555555
//!     key_spec: SYMMETRIC_DEFAULT          # optional
//!     key_usage: ENCRYPT_DECRYPT           # optional
//!     description: test vectors key
//!     material: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=  # optional, base64
//!     aliases: [alias/vectors]
//!     tags: {team: crypto}
//!     enabled: true
//!     replicas: [us-west-2]              # multi-Region (mrk-) keys only
//! aliases:
//!   - name: alias/other
//!     target: 11111111-2222-3333-4444-555555555555
//! ```
//!
//! `material` is raw bytes for SYMMETRIC_DEFAULT (32) and HMAC keys, PKCS#8 DER for RSA, ECC,
//! Ed25519 and ML-DSA keys.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;

use crate::ids;
use crate::keys::{KeySpec, KeyState, KeyUsage, Origin, Secret};
use crate::model::{Alias, Key, MrRole, now};
use crate::ops::{NewKey, create_key_record};
use crate::state::Registry;

/// Why a seed file was refused.
///
/// ```
/// use envelope_kms_local::{Emulator, LaunchError, SeedError, Settings};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-seed-error-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let seed = dir.join("seed.json");
/// std::fs::write(&seed, r#"{"keys": [{"id": "not-a-key-id", "unknown_field": 1}]}"#)?;
/// let mut settings = Settings::new(dir.join("kms"));
/// settings.seed = Some(seed);
/// match Emulator::open(&settings) {
///     Err(LaunchError::Seed(SeedError::Parse(file, why) | SeedError::Invalid(file, why))) => {
///         println!("{file}: {why}");
///     }
///     other => panic!("unexpected: {other:?}"),
/// }
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Unreadable file.
    #[error("seed file {0}: {1}")]
    Io(String, std::io::Error),
    /// Bad JSON/YAML.
    #[error("seed file {0}: {1}")]
    Parse(String, String),
    /// A record the emulator refused.
    #[error("seed file {0}: {1}")]
    Invalid(String, String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    account: Option<String>,
    region: Option<String>,
    #[serde(default)]
    keys: Vec<SeedKey>,
    #[serde(default)]
    aliases: Vec<SeedAlias>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedKey {
    id: String,
    account: Option<String>,
    region: Option<String>,
    key_spec: Option<KeySpec>,
    key_usage: Option<KeyUsage>,
    origin: Option<Origin>,
    #[serde(default)]
    description: String,
    material: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    enabled: Option<bool>,
    #[serde(default)]
    replicas: Vec<String>,
}

impl std::fmt::Debug for SeedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedKey").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAlias {
    name: String,
    target: String,
    account: Option<String>,
    region: Option<String>,
}

/// Applies a seed file to the registry.
pub(crate) fn apply(
    reg: &Registry,
    path: &Path,
    default_account: &str,
    default_region: &str,
) -> Result<usize, SeedError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SeedError::Io(name.clone(), e))?;
    let text = zeroize::Zeroizing::new(text);
    let is_json = text.trim_start().starts_with('{');
    let seed: SeedFile = if is_json {
        serde_json::from_str(&text).map_err(|e| SeedError::Parse(name.clone(), e.to_string()))?
    } else {
        serde_norway::from_str(&text).map_err(|e| SeedError::Parse(name.clone(), e.to_string()))?
    };
    let invalid = |m: String| SeedError::Invalid(name.clone(), m);
    let account = seed.account.clone().unwrap_or_else(|| default_account.to_owned());
    let region = seed.region.clone().unwrap_or_else(|| default_region.to_owned());
    let mut created = 0;
    let mut aliases: Vec<SeedAlias> = Vec::new();
    for k in seed.keys {
        let acct = k.account.clone().unwrap_or_else(|| account.clone());
        let reg_name = k.region.clone().unwrap_or_else(|| region.clone());
        for a in &k.aliases {
            aliases.push(SeedAlias {
                name: a.clone(),
                target: k.id.clone(),
                account: Some(acct.clone()),
                region: Some(reg_name.clone()),
            });
        }
        let arn = ids::key_arn(&reg_name, &acct, &k.id);
        if reg.key(&arn).is_some() {
            continue;
        }
        let spec = k.key_spec.unwrap_or(KeySpec::SymmetricDefault);
        let usage = k.key_usage.unwrap_or(spec.allowed_usages()[0]);
        spec.check_usage(usage).map_err(|e| invalid(format!("key {}: {}", k.id, e.message())))?;
        let material = match &k.material {
            Some(b64) => Some(Secret::new(
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| invalid(format!("key {}: material is not base64", k.id)))?,
            )),
            None => None,
        };
        let multi_region = k.id.starts_with("mrk-");
        let created_key = create_key_record(
            reg,
            NewKey {
                account: acct.clone(),
                region: reg_name.clone(),
                key_id: Some(k.id.clone()),
                spec,
                usage,
                origin: k.origin.unwrap_or(Origin::AwsKms),
                description: k.description.clone(),
                policy: k.policy.clone(),
                tags: k.tags.clone(),
                multi_region,
                material,
            },
        );
        let key = match created_key {
            Ok(key) => key,
            // Another process on this data directory seeded it between our check and our write
            // (two servers started with one seed file): the key is there, which is all we want.
            Err(e) if e.kind() == "AlreadyExistsException" => continue,
            Err(e) => return Err(invalid(format!("key {}: {}", k.id, e.message()))),
        };
        created += 1;
        if k.enabled == Some(false) {
            reg.update_key(&key.arn, |x| {
                x.meta.state = KeyState::Disabled;
                Ok(())
            })
            .map_err(|e| invalid(e.message().to_owned()))?;
        }
        for r in &k.replicas {
            if !multi_region {
                return Err(invalid(format!("key {}: replicas need an mrk- key id", k.id)));
            }
            replicate(reg, &key, r).map_err(|e| invalid(format!("key {}: {}", k.id, e.message())))?;
        }
    }
    aliases.extend(seed.aliases);
    for a in aliases {
        ids::check_alias_name(&a.name).map_err(|e| invalid(e.message().to_owned()))?;
        let acct = a.account.unwrap_or_else(|| account.clone());
        let r = a.region.unwrap_or_else(|| region.clone());
        let alias_arn = ids::alias_arn(&r, &acct, &a.name);
        if reg.alias(&alias_arn).is_some() {
            continue;
        }
        if reg.key(&ids::key_arn(&r, &acct, &a.target)).is_none() {
            return Err(invalid(format!("alias {} targets unknown key {}", a.name, a.target)));
        }
        let t = now();
        let mut store = reg.store();
        reg.put_alias(
            &mut store,
            Alias {
                arn: alias_arn,
                account: acct,
                region: r,
                name: a.name,
                target_key_id: a.target,
                creation_date: t,
                last_updated_date: t,
            },
        )
        .map_err(|e| invalid(e.message().to_owned()))?;
    }
    Ok(created)
}

fn replicate(reg: &Registry, primary: &Arc<Key>, region: &str) -> crate::error::KmsResult<()> {
    let arn = ids::key_arn(region, &primary.meta.account, &primary.meta.key_id);
    if reg.key(&arn).is_some() {
        return Ok(());
    }
    let mut meta = primary.meta.clone();
    meta.region = region.to_owned();
    meta.multi_region = Some(MrRole::Replica);
    match reg.insert_key(Key { arn, meta, materials: primary.materials.clone() }) {
        // As for keys: a concurrent seeder made the same replica.
        Err(e) if e.kind() != "AlreadyExistsException" => Err(e),
        _ => Ok(()),
    }
}
