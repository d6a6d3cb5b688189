//! From key descriptions and a keys manifest to keyrings and materials managers.
//!
//! Raw AES and raw RSA keys are built locally. AWS KMS keys go through a [`KmsKeyrings`] hook —
//! [`crate::kms::AwsKmsKeyrings`] builds them with `aws-sdk-kms` clients; without a hook (the
//! default) every test that needs KMS is reported as skipped.
//!
//! RSA public keys on decrypt: a description may name the *public* half of a pair (the official
//! vectors wrap one EDK under `rsa-4096-public`). A public key cannot unwrap, so on decrypt we look
//! for the private half in the keys manifest — the entry with the same `key-id` (the Dafny
//! runners' convention), else the private entry whose public key is the same key (the .NET and
//! framework manifests, whose pair members have distinct ids) — and build a keyring that carries
//! the public entry's key name with the private key.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use envelope::cmm::{DefaultMaterialsManager, RequiredEncryptionContextMaterialsManager};
use envelope::{Keyring, MaterialsManager, MultiKeyring};
use std::time::Duration;

use base64::Engine as _;
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore,
};
use envelope_keyrings::{
    EcPrivateKey, EcdhCurve, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaPrivateKey, RsaPublicKey,
};

use crate::manifest::key_description::{KeyDescription, RawAlgorithm, RsaPadding};
use crate::manifest::keys::{KeyEntry, KeyMaterial, KeysManifest};

/// Whether a keyring is wanted to write or to read messages.
///
/// ```
/// use envelope_vectors::Operation;
///
/// // On decrypt a multi-keyring may leave out keys it cannot reach; on encrypt it may not.
/// let operation = Operation::Decrypt;
/// assert_ne!(operation, Operation::Encrypt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Writing messages.
    Encrypt,
    /// Reading messages.
    Decrypt,
}

/// The hook through which AWS KMS keyrings are built (e.g. against a KMS emulator reached with
/// `AWS_ENDPOINT_URL_KMS`): [`crate::kms::AwsKmsKeyrings`] is the implementation.
///
/// Answer [`Resolved::Unreachable`] when the key cannot be reached (the test is skipped with that
/// reason) and [`Resolved::Invalid`] when the manifest is wrong (the test fails).
///
/// ```
/// use std::sync::Arc;
/// use envelope::Keyring;
/// use envelope_vectors::manifest::{KeyDescription, KeyEntry, KeysManifest};
/// use envelope_vectors::{KmsKeyrings, Operation, Resolved, RunOptions};
///
/// /// Reaches no KMS key (as `kms: None` does), with a reason of its own.
/// #[derive(Debug)]
/// struct Offline;
///
/// impl KmsKeyrings for Offline {
///     fn keyring(
///         &self,
///         description: &KeyDescription,
///         _entry: Option<(&str, &KeyEntry)>,
///         _keys: &KeysManifest,
///         _operation: Operation,
///     ) -> Resolved<Arc<dyn Keyring>> {
///         Resolved::Unreachable(format!("offline: {description:?}"))
///     }
/// }
///
/// let options = RunOptions { kms: Some(Arc::new(Offline)), ..RunOptions::default() };
/// # let _ = options;
/// ```
pub trait KmsKeyrings: Send + Sync + fmt::Debug {
    /// A keyring for a KMS key description (`aws-kms`, `aws-kms-mrk-aware`, ...). `entry` is the
    /// keys-manifest entry its `key` names, if any; `keys` is the whole keys manifest (ECDH
    /// descriptions name their entries as `sender` and `recipient`).
    fn keyring(
        &self,
        description: &KeyDescription,
        entry: Option<(&str, &KeyEntry)>,
        keys: &KeysManifest,
        operation: Operation,
    ) -> Resolved<Arc<dyn Keyring>>;
}

/// What resolving a description produced.
///
/// ```
/// use envelope_vectors::Resolved;
///
/// fn describe<T>(resolved: &Resolved<T>) -> String {
///     match resolved {
///         Resolved::Ready { unreachable, .. } if unreachable.is_empty() => "ready".into(),
///         Resolved::Ready { unreachable, .. } => format!("ready without {}", unreachable.join(", ")),
///         Resolved::Unreachable(why) => format!("skip: {why}"),
///         Resolved::Invalid(why) => format!("fail: {why}"),
///         _ => "unknown".into(),
///     }
/// }
/// assert_eq!(describe(&Resolved::<()>::Unreachable("needs AWS KMS".into())), "skip: needs AWS KMS");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Resolved<T> {
    /// Built. `unreachable` lists keys left out (decrypt only: the test can still pass without
    /// them; if it fails, it is skipped rather than failed).
    Ready {
        /// The keyring or materials manager.
        value: T,
        /// Why some keys were left out.
        unreachable: Vec<String>,
    },
    /// Cannot be built here (needs KMS, or an unsupported key type): skip the test.
    Unreachable(String),
    /// The manifest is wrong (unknown key, wrong key type): fail the test.
    Invalid(String),
}

/// A keys manifest plus the means to build keyrings from it.
///
/// ```
/// use envelope_vectors::manifest::{KeyDescription, KeysManifest};
/// use envelope_vectors::{KeySet, Operation, Resolved};
///
/// let keys = KeysManifest::parse("keys.json", br#"{"manifest": {"type": "keys", "version": 3}, "keys": {"aes-256": {
///     "type": "symmetric", "algorithm": "aes", "bits": 256, "encoding": "base64", "key-id": "aes-256",
///     "material": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "encrypt": true, "decrypt": true}}}"#)?;
/// let set = KeySet::new(keys, None); // no AWS KMS hook: KMS descriptions are unreachable
/// assert!(set.manifest().entry("aes-256").is_some());
///
/// let raw = serde_json::json!({"type": "raw", "key": "aes-256", "provider-id": "docs", "encryption-algorithm": "aes"});
/// let raw = KeyDescription::parse(&raw).expect("a raw AES description");
/// assert!(matches!(set.materials_manager(&raw, Operation::Encrypt), Resolved::Ready { .. }));
/// // KMS descriptions need a hook: skipped. A key the manifest does not list: the test is wrong.
/// let discovery = serde_json::json!({"type": "aws-kms-mrk-aware-discovery", "default-mrk-region": "us-west-2"});
/// let discovery = KeyDescription::parse(&discovery).unwrap();
/// assert!(matches!(set.materials_manager(&discovery, Operation::Decrypt), Resolved::Unreachable(_)));
/// let unlisted = KeyDescription::parse(&serde_json::json!({"type": "aws-kms", "key": "us-west-2-decryptable"})).unwrap();
/// assert!(matches!(set.materials_manager(&unlisted, Operation::Decrypt), Resolved::Invalid(_)));
/// # Ok::<(), envelope_vectors::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Arc<KeysManifest>,
    kms: Option<Arc<dyn KmsKeyrings>>,
    /// DER SubjectPublicKeyInfo of each private RSA entry's public half (for pairing).
    private_publics: Arc<BTreeMap<String, Vec<u8>>>,
}

impl KeySet {
    /// Wraps a keys manifest; `kms` builds AWS KMS keyrings (None: KMS tests are skipped).
    pub fn new(keys: KeysManifest, kms: Option<Arc<dyn KmsKeyrings>>) -> KeySet {
        let mut private_publics = BTreeMap::new();
        for (name, entry) in &keys.keys {
            if let Ok(KeyMaterial::RsaPrivate { pem }) = entry.material(name) {
                if let Some(der) = RsaPrivateKey::from_pem(&pem).ok().and_then(|k| k.public_key().to_der().ok()) {
                    private_publics.insert(name.clone(), der);
                }
            }
        }
        KeySet { keys: Arc::new(keys), kms, private_publics: Arc::new(private_publics) }
    }

    /// The keys manifest.
    pub fn manifest(&self) -> &KeysManifest {
        &self.keys
    }

    /// A materials manager for `description`: the default CMM over its keyring, or the
    /// required-encryption-context CMM when the description asks for it.
    pub fn materials_manager(
        &self,
        description: &KeyDescription,
        operation: Operation,
    ) -> Resolved<Arc<dyn MaterialsManager>> {
        match description {
            KeyDescription::RequiredEncryptionContext { underlying, keys } => {
                match self.materials_manager(underlying, operation) {
                    Resolved::Ready { value, unreachable } => {
                        match RequiredEncryptionContextMaterialsManager::new(value, keys.clone()) {
                            Ok(cmm) => Resolved::Ready { value: Arc::new(cmm), unreachable },
                            Err(error) => Resolved::Invalid(format!("required-encryption-context CMM: {error}")),
                        }
                    }
                    other => other,
                }
            }
            other => match self.keyring(other, operation) {
                Resolved::Ready { value, unreachable } => {
                    Resolved::Ready { value: Arc::new(DefaultMaterialsManager::from_arc(value)), unreachable }
                }
                Resolved::Unreachable(r) => Resolved::Unreachable(r),
                Resolved::Invalid(r) => Resolved::Invalid(r),
            },
        }
    }

    /// A keyring for `description`.
    pub(crate) fn keyring(&self, description: &KeyDescription, operation: Operation) -> Resolved<Arc<dyn Keyring>> {
        match description {
            KeyDescription::Raw { key, key_id, provider_id, algorithm } => {
                match self.raw_keyring(key, key_id.as_deref(), provider_id, *algorithm, operation) {
                    Ok(keyring) => Resolved::Ready { value: keyring, unreachable: Vec::new() },
                    Err(reason) => Resolved::Invalid(reason),
                }
            }
            KeyDescription::AwsKms { kind, key, .. } => {
                let entry = key.as_deref().and_then(|k| self.keys.entry(k).map(|e| (k, e)));
                if key.is_some() && entry.is_none() {
                    return Resolved::Invalid(format!(
                        "key {:?} is not in the keys manifest",
                        key.as_deref().unwrap_or("")
                    ));
                }
                let what = match entry {
                    Some((name, e)) => format!("{kind} key {}", e.key_id(name)),
                    None => kind.clone(),
                };
                match &self.kms {
                    None => Resolved::Unreachable(format!("needs AWS KMS ({what})")),
                    Some(kms) => match kms.keyring(description, entry, &self.keys, operation) {
                        Resolved::Unreachable(reason) => {
                            Resolved::Unreachable(format!("needs AWS KMS ({what}): {reason}"))
                        }
                        Resolved::Invalid(reason) => Resolved::Invalid(format!("{what}: {reason}")),
                        ready => ready,
                    },
                }
            }
            KeyDescription::Hierarchy { key } => match self.hierarchy_keyring(key) {
                Ok(keyring) => Resolved::Ready { value: keyring, unreachable: Vec::new() },
                Err(reason) => Resolved::Invalid(reason),
            },
            KeyDescription::RawEcdh { json } => match self.raw_ecdh_keyring(json, operation) {
                Ok(keyring) => Resolved::Ready { value: keyring, unreachable: Vec::new() },
                Err(reason) => Resolved::Invalid(reason),
            },
            KeyDescription::Multi { generator, children } => {
                self.multi_keyring(generator.as_deref(), children, operation)
            }
            KeyDescription::RequiredEncryptionContext { .. } => {
                Resolved::Invalid("a required-encryption-context CMM cannot sit inside a keyring".into())
            }
            KeyDescription::Unsupported { kind, .. } => {
                Resolved::Unreachable(format!("unsupported key description type {kind:?}"))
            }
        }
    }

    fn multi_keyring(
        &self,
        generator: Option<&KeyDescription>,
        children: &[KeyDescription],
        operation: Operation,
    ) -> Resolved<Arc<dyn Keyring>> {
        let mut unreachable = Vec::new();
        let mut built: Vec<Option<Arc<dyn Keyring>>> = Vec::new();
        for description in generator.into_iter().chain(children.iter()) {
            match self.keyring(description, operation) {
                Resolved::Ready { value, unreachable: more } => {
                    unreachable.extend(more);
                    built.push(Some(value));
                }
                Resolved::Invalid(reason) => return Resolved::Invalid(reason),
                // Encrypt needs every key: a missing one would leave its EDK out of the message.
                Resolved::Unreachable(reason) if operation == Operation::Encrypt => {
                    return Resolved::Unreachable(reason);
                }
                Resolved::Unreachable(reason) => {
                    unreachable.push(reason);
                    built.push(None);
                }
            }
        }
        if built.iter().all(Option::is_none) {
            return Resolved::Unreachable(unreachable.join("; "));
        }
        let (first, rest) = if generator.is_some() {
            let mut iter = built.into_iter();
            (iter.next().flatten(), iter.flatten().collect::<Vec<_>>())
        } else {
            (None, built.into_iter().flatten().collect())
        };
        match MultiKeyring::new(first, rest) {
            Ok(multi) => Resolved::Ready { value: Arc::new(multi), unreachable },
            Err(error) => Resolved::Invalid(format!("multi-keyring: {error}")),
        }
    }

    fn raw_keyring(
        &self,
        key: &str,
        key_id_override: Option<&str>,
        provider_id: &str,
        algorithm: RawAlgorithm,
        operation: Operation,
    ) -> Result<Arc<dyn Keyring>, String> {
        let entry = self.keys.entry(key).ok_or_else(|| format!("key {key:?} is not in the keys manifest"))?;
        let key_name = key_id_override.unwrap_or_else(|| entry.key_id(key)).to_string();
        let material = entry.material(key)?;
        match (algorithm, material) {
            (RawAlgorithm::Aes, KeyMaterial::Symmetric { bytes }) => RawAesKeyring::new(provider_id, key_name, bytes)
                .map(|k| Arc::new(k) as Arc<dyn Keyring>)
                .map_err(|e| format!("raw AES key {key:?}: {e}")),
            (RawAlgorithm::Rsa(padding), KeyMaterial::RsaPrivate { pem }) => {
                let private = RsaPrivateKey::from_pem(&pem).map_err(|e| format!("RSA key {key:?}: {e}"))?;
                // The harness derives the public half so that a private entry can also encrypt
                // (the keyring itself never derives it).
                let public = private.public_key();
                RawRsaKeyring::new(provider_id, key_name, rsa_padding(padding), Some(public), Some(private))
                    .map(|k| Arc::new(k) as Arc<dyn Keyring>)
                    .map_err(|e| format!("raw RSA key {key:?}: {e}"))
            }
            (RawAlgorithm::Rsa(padding), KeyMaterial::RsaPublic { pem }) => {
                let public = RsaPublicKey::from_pem(&pem).map_err(|e| format!("RSA key {key:?}: {e}"))?;
                let private = match operation {
                    Operation::Encrypt => None,
                    Operation::Decrypt => self.private_half(key, entry, &public)?,
                };
                RawRsaKeyring::new(provider_id, key_name, rsa_padding(padding), Some(public), private)
                    .map(|k| Arc::new(k) as Arc<dyn Keyring>)
                    .map_err(|e| format!("raw RSA key {key:?}: {e}"))
            }
            (algorithm, material) => {
                Err(format!("key {key:?} is a {} key, not usable as raw {algorithm:?}", material.kind_name()))
            }
        }
    }

    /// `aws-kms-hierarchy` over `static-branch-key` entries: a static store holding every entry
    /// with the named entry's branch key id (so messages written under earlier or later versions
    /// decrypt too), the named entry being the ACTIVE version encrypt uses.
    fn hierarchy_keyring(&self, key: &str) -> Result<Arc<dyn Keyring>, String> {
        let entry = self.keys.entry(key).ok_or_else(|| format!("key {key:?} is not in the keys manifest"))?;
        let KeyMaterial::StaticBranchKey { branch_key_id, version: active_version, .. } = entry.material(key)? else {
            return Err(format!("key {key:?} is a {:?} entry, not static-branch-key", entry.kind));
        };
        let mut store = StaticKeyStore::new("static-branch-keys");
        for (name, other) in &self.keys.keys {
            if other.kind != "static-branch-key" {
                continue;
            }
            let KeyMaterial::StaticBranchKey { branch_key_id: id, version, branch_key, beacon_key } =
                other.material(name)?
            else {
                continue;
            };
            if id != branch_key_id {
                continue;
            }
            let secret = BranchKeySecret::from_slice(&branch_key).map_err(|e| format!("key {name:?}: {e}"))?;
            let materials = BranchKeyMaterials::new(&id, &version, BTreeMap::new(), secret)
                .map_err(|e| format!("key {name:?}: {e}"))?;
            store.add_branch_key(materials, false).map_err(|e| format!("key {name:?}: {e}"))?;
            if let Some(beacon) = beacon_key {
                let secret = BranchKeySecret::from_slice(&beacon).map_err(|e| format!("key {name:?}: {e}"))?;
                store.add_beacon_key(BeaconKeyMaterials::new(&id, BTreeMap::new(), secret));
            }
        }
        // The named entry is the active one, whatever order the manifest lists versions in.
        let entry_key = match entry.material(key)? {
            KeyMaterial::StaticBranchKey { branch_key, .. } => branch_key,
            _ => return Err(format!("key {key:?} is not a static-branch-key entry")),
        };
        let secret = BranchKeySecret::from_slice(&entry_key).map_err(|e| format!("key {key:?}: {e}"))?;
        let active = BranchKeyMaterials::new(&branch_key_id, &active_version, BTreeMap::new(), secret)
            .map_err(|e| format!("key {key:?}: {e}"))?;
        store.add_branch_key(active, true).map_err(|e| format!("key {key:?}: {e}"))?;
        // The reference harness's TTL; every test builds its own keyring, so it only bounds reuse.
        HierarchicalKeyring::builder(store)
            .branch_key_id(branch_key_id)
            .ttl(Duration::from_secs(11))
            .build()
            .map(|k| Arc::new(k) as Arc<dyn Keyring>)
            .map_err(|e| format!("hierarchical keyring {key:?}: {e}"))
    }

    /// `raw-ecdh`: `static` (the sender entry's private key, the recipient entry's public key),
    /// `ephemeral` (encrypt: the recipient's public key) or `discovery` (decrypt: the recipient's
    /// private key).
    fn raw_ecdh_keyring(&self, json: &serde_json::Value, operation: Operation) -> Result<Arc<dyn Keyring>, String> {
        let field = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
        let curve_name = field("ecc-curve").ok_or("raw-ecdh description without \"ecc-curve\"")?;
        let curve = ecdh_curve(curve_name).ok_or_else(|| format!("raw-ecdh: unknown ecc-curve {curve_name:?}"))?;
        let schema = field("schema").unwrap_or("static");
        let recipient_name = field("recipient").ok_or("raw-ecdh description without \"recipient\"")?;
        let recipient = self.ecc_entry(recipient_name)?;
        let recipient_public = || -> Result<Vec<u8>, String> {
            let text = recipient
                .recipient_public_key
                .as_deref()
                .ok_or_else(|| format!("key {recipient_name:?}: no recipient public key"))?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| format!("key {recipient_name:?}: recipient public key is not base64: {e}"))
        };
        let recipient_private = || -> Result<EcPrivateKey, String> {
            let pem = recipient
                .recipient_material
                .as_deref()
                .ok_or_else(|| format!("key {recipient_name:?}: no recipient private key"))?;
            EcPrivateKey::from_pem(curve, pem).map_err(|e| format!("key {recipient_name:?}: {e}"))
        };
        let keyring = match (schema, operation) {
            ("static", _) => {
                let sender_name = field("sender").ok_or("raw-ecdh static description without \"sender\"")?;
                let sender = self.ecc_entry(sender_name)?;
                let pem = sender
                    .sender_material
                    .as_deref()
                    .ok_or_else(|| format!("key {sender_name:?}: no sender private key"))?;
                let private = EcPrivateKey::from_pem(curve, pem).map_err(|e| format!("key {sender_name:?}: {e}"))?;
                RawEcdhKeyring::static_keys(curve, private, &recipient_public()?)
            }
            ("ephemeral", Operation::Encrypt) => RawEcdhKeyring::ephemeral(curve, &recipient_public()?),
            ("discovery" | "ephemeral", Operation::Decrypt) => {
                RawEcdhKeyring::public_key_discovery(curve, recipient_private()?)
            }
            ("discovery", Operation::Encrypt) => return Err("raw-ecdh discovery cannot encrypt".into()),
            (other, _) => return Err(format!("unknown raw-ecdh schema {other:?}")),
        };
        keyring.map(|k| Arc::new(k) as Arc<dyn Keyring>).map_err(|e| format!("raw ECDH keyring: {e}"))
    }

    fn ecc_entry(&self, name: &str) -> Result<&KeyEntry, String> {
        let entry = self.keys.entry(name).ok_or_else(|| format!("key {name:?} is not in the keys manifest"))?;
        if entry.kind != "ecc-private" {
            return Err(format!("key {name:?} is a {:?} entry, not ecc-private", entry.kind));
        }
        Ok(entry)
    }

    /// The private key paired with public entry `name`, if the keys manifest has it.
    fn private_half(
        &self,
        name: &str,
        entry: &KeyEntry,
        public: &RsaPublicKey,
    ) -> Result<Option<RsaPrivateKey>, String> {
        let key_id = entry.key_id(name);
        let public_der = public.to_der().map_err(|e| format!("RSA key {name:?}: {e}"))?;
        let same_id = self.keys.keys.iter().find(|(n, e)| e.kind == "private" && e.key_id(n) == key_id);
        let same_key = || {
            self.private_publics
                .iter()
                .find(|(_, der)| **der == public_der)
                .and_then(|(n, _)| self.keys.keys.get_key_value(n))
        };
        let Some((private_name, private_entry)) = same_id.or_else(same_key) else {
            return Ok(None);
        };
        match private_entry.material(private_name)? {
            KeyMaterial::RsaPrivate { pem } => {
                RsaPrivateKey::from_pem(&pem).map(Some).map_err(|e| format!("RSA key {private_name:?}: {e}"))
            }
            _ => Ok(None),
        }
    }
}

/// The curve an `ecc-curve` member names (`ecc-256`, or the KMS and SEC names).
fn ecdh_curve(name: &str) -> Option<EcdhCurve> {
    match name {
        "ecc-256" | "ECC_NIST_P256" | "secp256r1" => Some(EcdhCurve::P256),
        "ecc-384" | "ECC_NIST_P384" | "secp384r1" => Some(EcdhCurve::P384),
        "ecc-521" | "ECC_NIST_P521" | "secp521r1" => Some(EcdhCurve::P521),
        _ => None,
    }
}

fn rsa_padding(padding: RsaPadding) -> envelope_keyrings::RsaPadding {
    match padding {
        RsaPadding::Pkcs1 => envelope_keyrings::RsaPadding::Pkcs1,
        RsaPadding::OaepSha1 => envelope_keyrings::RsaPadding::OaepSha1,
        RsaPadding::OaepSha256 => envelope_keyrings::RsaPadding::OaepSha256,
        RsaPadding::OaepSha384 => envelope_keyrings::RsaPadding::OaepSha384,
        RsaPadding::OaepSha512 => envelope_keyrings::RsaPadding::OaepSha512,
    }
}
