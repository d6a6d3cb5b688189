//! Encrypting one item: the mirror of [`decrypt_item`](super::decrypt_item). The base encryption
//! context goes to the materials manager as required keys (authenticated, not stored), the
//! header commits to the data key, each ENCRYPT_AND_SIGN attribute is sealed with its own key
//! and its canonical path as AAD, and the footer tags every signed attribute.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb
//! `specification/structured-encryption/encrypt-structure.md`,
//! `specification/dynamodb-encryption-client/encrypt-item.md`

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac};
use envelope::{AlgorithmSuite, CommitmentPolicy, EncryptionMaterialsRequest, MaterialsManager};

use super::action::CryptoAction;
use super::config::TableConfig;
use super::decrypt::{Item, base_context, canonical_field, serialize_context, value_error};
use super::error::ItemError;
use super::footer::Footer;
use super::header::{Header, MESSAGE_ID_LEN};
use super::keys::{FieldKeys, canonical_cmp, canonical_path, commitment};
use super::value::AttributeValue;
use super::{FOOTER_ATTRIBUTE, HEADER_ATTRIBUTE};

/// Attribute names starting with this are the SDK's own (header, footer, beacons).
///
/// ```
/// use envelope_dbe::item::RESERVED_PREFIX;
///
/// assert!("aws_dbe_b_email".starts_with(RESERVED_PREFIX), "a beacon attribute");
/// assert!(!"email".starts_with(RESERVED_PREFIX));
/// ```
pub const RESERVED_PREFIX: &str = "aws_dbe_";

/// True for the SDK's own names, except the beacon version tag: a searchable write adds it
/// before encryption and signs it (SIGN_ONLY in the table's actions).
fn is_reserved(name: &str) -> bool {
    name.starts_with(RESERVED_PREFIX) && name != crate::beacon::VERSION_TAG_ATTRIBUTE
}

/// Encrypts and signs one item as `config` says, under a DB-ESDK suite.
///
/// Under [`PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead`](super::PlaintextOverride)
/// the item is returned unchanged (written in plaintext). Otherwise every attribute needs an
/// action in `config`, or must be allowed unsigned; key attributes must
/// be present and signed in plaintext (SIGN_ONLY or SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT).
/// Under suite 0x6701 the footer also carries an ECDSA P-384 signature by the materials' signing
/// key (its public key travels in the header's encryption context).
///
/// ```no_run
/// # async fn example(item: envelope_dbe::item::Item, cmm: envelope::DefaultMaterialsManager) -> Result<(), envelope_dbe::item::ItemError> {
/// use envelope::AlgorithmSuite;
/// use envelope_dbe::item::{decrypt_item, encrypt_item, CryptoAction, TableConfig};
///
/// let config = TableConfig::new("Orders", "OrderId")
///     .action("OrderId", CryptoAction::SignOnly)
///     .action("Card", CryptoAction::EncryptAndSign);
/// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
/// let stored = encrypt_item(&cmm, &config, &item, suite).await?;
/// assert_eq!(decrypt_item(&cmm, &config, &stored).await?, item);
/// # Ok(())
/// # }
/// ```
pub async fn encrypt_item(
    cmm: &dyn MaterialsManager,
    config: &TableConfig,
    item: &Item,
    suite: AlgorithmSuite,
) -> Result<Item, ItemError> {
    if config.plaintext_override.forces_plaintext_write() {
        if let Some(name) = item.keys().find(|name| is_reserved(name)) {
            return Err(ItemError::ReservedAttribute(name.clone()));
        }
        return Ok(item.clone());
    }
    if super::header::flavor_of(suite).is_none() {
        return Err(ItemError::Unsupported("a suite that is not a DB-ESDK suite"));
    }
    let mut recorded: Vec<(&str, CryptoAction)> = Vec::new();
    for name in item.keys() {
        if is_reserved(name) {
            return Err(ItemError::ReservedAttribute(name.clone()));
        }
        let action = match config.actions.get(name) {
            Some(action) => *action,
            None if config.is_allowed_unsigned(name) => CryptoAction::DoNothing,
            None => return Err(ItemError::UnconfiguredAttribute(name.clone())),
        };
        if action.is_signed() {
            recorded.push((name, action));
        }
    }
    recorded.sort_by(|a, b| canonical_cmp(a.0, b.0));
    for key in std::iter::once(&config.partition_key).chain(config.sort_key.as_ref()) {
        match recorded.iter().find(|(name, _)| name == key) {
            Some((_, CryptoAction::SignOnly | CryptoAction::SignAndIncludeInEncryptionContext)) => {}
            _ => return Err(ItemError::KeyAttribute(key.clone())),
        }
    }
    let in_context: Vec<&str> = recorded
        .iter()
        .filter(|(_, action)| *action == CryptoAction::SignAndIncludeInEncryptionContext)
        .map(|(name, _)| *name)
        .collect();
    let version = if in_context.is_empty() { 1 } else { 2 };
    if version == 2 {
        // spec: with any SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT, the keys must use it too.
        for key in std::iter::once(&config.partition_key).chain(config.sort_key.as_ref()) {
            if !in_context.contains(&key.as_str()) {
                return Err(ItemError::KeyAttribute(key.clone()));
            }
        }
    }
    let base = base_context(config, item, version, &in_context)?;

    let mut request = EncryptionMaterialsRequest::new(base.clone(), CommitmentPolicy::DbeRequireEncryptRequireDecrypt)
        .with_algorithm_suite(Some(suite));
    request.required_encryption_context_keys = base.keys().cloned().collect();
    let materials = cmm.encryption_materials(request).await?;
    let data_key = materials.data_key().ok_or(ItemError::Crypto)?.expose_secret();

    let mut message_id = [0u8; MESSAGE_ID_LEN];
    aws_lc_rs::rand::fill(&mut message_id).map_err(|_| ItemError::Crypto)?;
    let stored_context: BTreeMap<String, String> = materials
        .encryption_context()
        .iter()
        .filter(|(key, _)| !base.contains_key(key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut header = Header {
        version,
        suite,
        message_id,
        legend: recorded.iter().map(|(_, action)| *action).collect(),
        encryption_context: stored_context,
        encrypted_data_keys: materials.encrypted_data_keys().to_vec(),
        commitment: [0; 32],
    };
    header.commitment = commitment(data_key, &message_id, &header.serialize_uncommitted()?);
    let head = header.to_bytes()?;

    // Seal the encrypted attributes (offsets in canonical order), keep the rest as they are.
    let table = &config.logical_table_name;
    let field_keys = FieldKeys::new(data_key, &message_id);
    let mut out: Item = item.clone();
    let mut offset = 0;
    for (name, action) in &recorded {
        if *action != CryptoAction::EncryptAndSign {
            continue;
        }
        let value = &item[*name];
        let key = field_keys.field(offset).map_err(|_| ItemError::Crypto)?;
        offset += 1;
        let cipher = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.cipher_key()).map_err(|_| ItemError::Crypto)?);
        let mut sealed = value.serialize().map_err(value_error(name))?;
        cipher
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(key.nonce()),
                Aad::from(canonical_path(table, name)),
                &mut sealed,
            )
            .map_err(|_| ItemError::Crypto)?;
        let mut stored = value.type_id().to_bytes().to_vec();
        stored.extend_from_slice(&sealed);
        out.insert((*name).to_owned(), AttributeValue::B(stored));
    }

    let aad = serialize_context(materials.encryption_context())?;
    let mut record = head.clone();
    record.extend_from_slice(&(aad.len() as u64).to_be_bytes());
    record.extend_from_slice(&aad);
    for (name, action) in &recorded {
        let encrypted = *action == CryptoAction::EncryptAndSign;
        record.extend_from_slice(&canonical_field(&canonical_path(table, name), &out[*name], encrypted, name)?);
    }
    let hash = digest::digest(&digest::SHA384, &record);
    let tags = materials
        .symmetric_signing_keys()
        .iter()
        .map(|key| {
            let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA384, key.expose_secret()), hash.as_ref());
            let mut bytes = [0u8; super::footer::TAG_LEN];
            bytes.copy_from_slice(tag.as_ref());
            bytes
        })
        .collect();
    let signature = match materials.signing_key() {
        Some(key) => Some(footer_signature(key, hash.as_ref())?),
        None if suite.signature().is_some() => return Err(ItemError::Crypto),
        None => None,
    };
    let footer = Footer { tags, signature };

    out.insert(HEADER_ATTRIBUTE.to_owned(), AttributeValue::B(head));
    out.insert(FOOTER_ATTRIBUTE.to_owned(), AttributeValue::B(footer.to_bytes()?));
    tracing::debug!(attributes = out.len(), version, suite = suite.id(), "item encrypted");
    Ok(out)
}

/// Signs the canonical hash with the fixed-length DER signature the DB-ESDK footer holds.
///
/// A DER P-384 signature is 103 bytes about half the time (its two integers' lengths depend on
/// their leading bits); the footer has no length field, so like the official SDKs we sign again
/// until the encoding has that length. Each try is a fresh random nonce, so 64 tries fail only
/// with probability about 2^-64.
fn footer_signature(key: &envelope::SigningKey, hash: &[u8]) -> Result<Vec<u8>, ItemError> {
    for _ in 0..64 {
        let signature = key.sign_message(hash).map_err(|_| ItemError::Crypto)?;
        if signature.len() == super::footer::SIGNATURE_LEN {
            return Ok(signature);
        }
    }
    Err(ItemError::Crypto)
}
