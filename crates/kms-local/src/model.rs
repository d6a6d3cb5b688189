//! The emulator's records: keys (metadata plus material versions), aliases and grants.
//! Metadata is serde so the store can persist it as JSON; material is sealed separately.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{KmsError, KmsResult};
use crate::keys::{KeySpec, KeyState, KeyUsage, Material, Origin};

/// Multi-Region role of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum MrRole {
    /// The primary key.
    Primary,
    /// A replica.
    Replica,
}

/// One rotation, as ListKeyRotations reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RotationRecord {
    /// Material version the rotation created.
    pub(crate) version: u32,
    /// When.
    pub(crate) date: i64,
    /// `AUTOMATIC` or `ON_DEMAND`.
    pub(crate) rotation_type: String,
}

/// Persisted key metadata (everything but material).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyMeta {
    /// Owning account.
    pub(crate) account: String,
    /// Region.
    pub(crate) region: String,
    /// Key id.
    pub(crate) key_id: String,
    /// Description.
    pub(crate) description: String,
    /// Spec.
    pub(crate) key_spec: KeySpec,
    /// Usage.
    pub(crate) key_usage: KeyUsage,
    /// Origin.
    pub(crate) origin: Origin,
    /// State.
    pub(crate) state: KeyState,
    /// Creation time (epoch seconds).
    pub(crate) creation_date: i64,
    /// Scheduled deletion time.
    pub(crate) deletion_date: Option<i64>,
    /// Pending window chosen at ScheduleKeyDeletion.
    pub(crate) pending_window_days: Option<u32>,
    /// The key policy (JSON text).
    pub(crate) policy: String,
    /// Tags.
    pub(crate) tags: BTreeMap<String, String>,
    /// Automatic rotation on.
    pub(crate) rotation_enabled: bool,
    /// Rotation period when enabled.
    pub(crate) rotation_period_days: Option<u32>,
    /// Next automatic rotation.
    pub(crate) next_rotation_date: Option<i64>,
    /// Multi-Region role, if a multi-Region key.
    pub(crate) multi_region: Option<MrRole>,
    /// Imported material expiry.
    pub(crate) valid_to: Option<i64>,
    /// Imported material expiration model.
    pub(crate) expiration_model: Option<String>,
    /// The version new encryptions use.
    pub(crate) current_version: u32,
    /// Rotation history.
    pub(crate) rotations: Vec<RotationRecord>,
    /// Fingerprint of imported material (EXTERNAL keys), to refuse different re-imports.
    #[serde(default)]
    pub(crate) imported_fingerprint: Option<String>,
    /// An AWS managed key (`KeyManager: AWS`), made on first use of its `alias/aws/...` alias.
    #[serde(default)]
    pub(crate) aws_managed: bool,
}

/// Facts about one material version (persisted next to the sealed bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MaterialInfo {
    /// Version number used in ciphertext blobs.
    pub(crate) version: u32,
    /// KMS-style 64-hex material id.
    pub(crate) material_id: String,
    /// When created or imported.
    pub(crate) created: i64,
    /// True when imported (EXTERNAL origin).
    pub(crate) imported: bool,
}

/// One material version in memory.
#[derive(Debug)]
pub(crate) struct MaterialVersion {
    /// Its facts.
    pub(crate) info: MaterialInfo,
    /// The usable material.
    pub(crate) material: Material,
}

/// A key in memory.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// Key ARN (the map key).
    pub(crate) arn: String,
    /// Metadata.
    pub(crate) meta: KeyMeta,
    /// Material versions by number.
    pub(crate) materials: BTreeMap<u32, Arc<MaterialVersion>>,
}

impl Key {
    /// The material new operations use.
    pub(crate) fn current(&self) -> KmsResult<&Arc<MaterialVersion>> {
        self.materials
            .get(&self.meta.current_version)
            .ok_or_else(|| KmsError::invalid_state(format!("{} is pending import.", self.arn)))
    }

    /// Checks the key can perform a cryptographic operation now.
    pub(crate) fn check_usable(&self) -> KmsResult<()> {
        if self.meta.valid_to.is_some_and(|v| v <= now()) {
            return Err(KmsError::invalid_state(format!("{}: the imported key material has expired.", self.arn)));
        }
        match self.meta.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(KmsError::disabled(format!("{} is disabled.", self.arn))),
            KeyState::PendingDeletion => Err(KmsError::invalid_state(format!("{} is pending deletion.", self.arn))),
            KeyState::PendingImport => Err(KmsError::invalid_state(format!("{} is pending import.", self.arn))),
            other => Err(KmsError::invalid_state(format!("{} is {}.", self.arn, other.as_str()))),
        }
    }

    /// Checks usage for an operation family.
    pub(crate) fn check_usage(&self, usage: KeyUsage, op: &str) -> KmsResult<()> {
        if self.meta.key_usage == usage {
            Ok(())
        } else {
            Err(KmsError::key_usage(format!(
                "{} key usage is {} which is not valid for {op}.",
                self.arn,
                self.meta.key_usage.as_str()
            )))
        }
    }

    /// Rejects management operations on a key pending deletion.
    pub(crate) fn check_not_pending_deletion(&self) -> KmsResult<()> {
        if matches!(self.meta.state, KeyState::PendingDeletion | KeyState::PendingReplicaDeletion) {
            return Err(KmsError::invalid_state(format!("{} is pending deletion.", self.arn)));
        }
        Ok(())
    }
}

/// An alias.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Alias {
    /// Alias ARN.
    pub(crate) arn: String,
    /// Account.
    pub(crate) account: String,
    /// Region.
    pub(crate) region: String,
    /// `alias/...`.
    pub(crate) name: String,
    /// Target key id.
    pub(crate) target_key_id: String,
    /// Created.
    pub(crate) creation_date: i64,
    /// Last updated.
    pub(crate) last_updated_date: i64,
}

/// Grants are stored in the auth module's shape, so its rules apply to them directly.
pub(crate) use crate::auth::grants::{Grant as GrantRecord, GrantConstraints};

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
