//! Decrypting one item: rebuild the encryption context, get the data key from a materials
//! manager, check the header commitment, the recipient tag and the signature over every signed
//! attribute, and only then decrypt the encrypted attributes. Nothing is returned unless all of
//! it succeeds.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb
//! `specification/structured-encryption/decrypt-structure.md`,
//! `specification/dynamodb-encryption-client/decrypt-item.md`

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, signature};
use base64::Engine as _;
use envelope::{CommitmentPolicy, DecryptionMaterialsRequest, EncryptionContext, MaterialsManager};

use super::action::CryptoAction;
use super::config::TableConfig;
use super::error::ItemError;
use super::footer::Footer;
use super::header::Header;
use super::keys::{FieldKeys, canonical_cmp, canonical_path, commitment, equal};
use super::value::{AttributeValue, TypeId};
use super::{FOOTER_ATTRIBUTE, HEADER_ATTRIBUTE};

/// An item: attribute name → value.
///
/// ```
/// use envelope_dbe::item::{AttributeValue, Item};
///
/// let mut item = Item::new();
/// item.insert("Id".to_owned(), AttributeValue::S("o-1".into()));
/// item.insert("Total".to_owned(), AttributeValue::N("12.50".into()));
/// assert_eq!(item.keys().collect::<Vec<_>>(), ["Id", "Total"]); // sorted by name
/// ```
pub type Item = BTreeMap<String, AttributeValue>;

const TABLE_NAME_KEY: &str = "aws-crypto-table-name";
const PARTITION_NAME_KEY: &str = "aws-crypto-partition-name";
const SORT_NAME_KEY: &str = "aws-crypto-sort-name";
const ATTR_PREFIX: &str = "aws-crypto-attr.";
const LEGEND_KEY: &str = "aws-crypto-legend";
const PUBLIC_KEY_KEY: &str = "aws-crypto-public-key";
/// Size of the AES-GCM tag at the end of every encrypted attribute.
const GCM_TAG_LEN: usize = 16;

fn binary<'a>(item: &'a Item, name: &'static str) -> Result<&'a [u8], ItemError> {
    match item.get(name) {
        Some(AttributeValue::B(bytes)) => Ok(bytes),
        _ => Err(ItemError::MissingAttribute(name)),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(super) fn value_error(attribute: &str) -> impl FnOnce(super::error::ValueError) -> ItemError + '_ {
    move |source| ItemError::Value { attribute: attribute.to_owned(), source }
}

/// The encryption context rebuilt from the config and the item (never stored in the header):
/// table, partition and sort key names, and the key values (version 1) or the values of every
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute plus their legend (version 2).
pub(crate) fn base_context(
    config: &TableConfig,
    item: &Item,
    version: u8,
    in_context: &[&str],
) -> Result<EncryptionContext, ItemError> {
    let mut context = EncryptionContext::new();
    context.insert(TABLE_NAME_KEY, config.logical_table_name.clone());
    context.insert(PARTITION_NAME_KEY, config.partition_key.clone());
    if let Some(sort) = &config.sort_key {
        context.insert(SORT_NAME_KEY, sort.clone());
    }
    if version == 1 {
        for key in std::iter::once(&config.partition_key).chain(config.sort_key.as_ref()) {
            let value = item.get(key).ok_or_else(|| ItemError::KeyAttribute(key.clone()))?;
            let typed = value.serialize_typed().map_err(value_error(key))?;
            context.insert(format!("{ATTR_PREFIX}{key}"), b64(&typed));
        }
        return Ok(context);
    }
    let mut names: Vec<&str> = in_context.to_vec();
    names.sort_unstable();
    let mut legend = String::new();
    for name in names {
        let value = item.get(name).ok_or_else(|| ItemError::KeyAttribute(name.to_owned()))?;
        let (text, letter) = match value {
            AttributeValue::S(text) => (text.clone(), 'S'),
            AttributeValue::N(number) => (super::value::normalize_number(number).map_err(value_error(name))?, 'N'),
            AttributeValue::Null => ("null".to_owned(), 'L'),
            AttributeValue::Bool(flag) => (flag.to_string(), 'L'),
            other => (b64(&other.serialize_typed().map_err(value_error(name))?), 'B'),
        };
        context.insert(format!("{ATTR_PREFIX}{name}"), text);
        legend.push(letter);
    }
    context.insert(LEGEND_KEY, legend);
    Ok(context)
}

/// Serializes an encryption context as the header does (u16 count, then u16-prefixed key and
/// value, keys in UTF-8 order): the footer's AAD.
pub(super) fn serialize_context(context: &EncryptionContext) -> Result<Vec<u8>, ItemError> {
    let too_long = || ItemError::Header(super::error::HeaderError::TooLong("encryption context"));
    let mut out = u16::try_from(context.len()).map_err(|_| too_long())?.to_be_bytes().to_vec();
    for (key, value) in context.iter() {
        for part in [key.as_bytes(), value.as_bytes()] {
            out.extend_from_slice(&u16::try_from(part.len()).map_err(|_| too_long())?.to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    Ok(out)
}

/// One signed attribute as the footer's canonical record holds it.
pub(super) fn canonical_field(
    path: &[u8],
    value: &AttributeValue,
    encrypted: bool,
    name: &str,
) -> Result<Vec<u8>, ItemError> {
    let mut out = path.to_vec();
    if encrypted {
        // The stored binary: plaintext type id (2 bytes) then ciphertext and tag.
        let AttributeValue::B(stored) = value else { return Err(ItemError::AttributeDecrypt(name.to_owned())) };
        out.extend_from_slice(&((stored.len() - 2) as u64).to_be_bytes());
        out.extend_from_slice(b"ENCRYPTED");
        out.extend_from_slice(stored);
    } else {
        let bytes = value.serialize().map_err(value_error(name))?;
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(b"PLAINTEXT");
        out.extend_from_slice(&value.type_id().to_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Decrypts and verifies one item written by the DB-ESDK (or by envelope).
///
/// The attributes the header's legend covers are decided by `config` (an attribute it does not
/// name counts as signed unless allowed unsigned); their number must match the legend, and the
/// legend, not the config, says which ones are encrypted. The result holds every attribute but
/// `aws_dbe_head` and `aws_dbe_foot`. An item with neither is plaintext: returned as it is when
/// the config's [`PlaintextOverride`](super::PlaintextOverride) allows plaintext reads, refused
/// otherwise.
///
/// ```no_run
/// # async fn example(item: envelope_dbe::item::Item, cmm: envelope::DefaultMaterialsManager) -> Result<(), envelope_dbe::item::ItemError> {
/// use envelope_dbe::item::{decrypt_item, CryptoAction, TableConfig};
///
/// let config = TableConfig::new("Orders", "OrderId")
///     .action("OrderId", CryptoAction::SignOnly)
///     .action("Card", CryptoAction::EncryptAndSign);
/// let plaintext = decrypt_item(&cmm, &config, &item).await?;
/// # Ok(())
/// # }
/// ```
pub async fn decrypt_item(cmm: &dyn MaterialsManager, config: &TableConfig, item: &Item) -> Result<Item, ItemError> {
    if !item.contains_key(HEADER_ATTRIBUTE) && !item.contains_key(FOOTER_ATTRIBUTE) {
        if config.plaintext_override.allows_plaintext_read() {
            return Ok(item.clone());
        }
        return Err(ItemError::PlaintextItem);
    }
    let head = binary(item, HEADER_ATTRIBUTE)?;
    let foot = binary(item, FOOTER_ATTRIBUTE)?;
    let header = Header::parse(head)?;
    let signed_suite = header.suite.signature().is_some();
    let footer = Footer::parse(foot, header.encrypted_data_keys.len(), signed_suite)?;

    // The signed attributes in canonical order, paired with the header's record of each.
    let mut signed: Vec<&str> = item
        .keys()
        .map(String::as_str)
        .filter(|name| *name != HEADER_ATTRIBUTE && *name != FOOTER_ATTRIBUTE)
        .filter(|name| config.action_of(name).is_signed())
        .collect();
    signed.sort_by(|a, b| canonical_cmp(a, b));
    if signed.len() != header.legend.len() {
        return Err(ItemError::SignedAttributesMismatch {
            in_header: header.legend.len(),
            in_item: signed.len(),
            attributes: signed.iter().map(|name| (*name).to_owned()).collect(),
        });
    }
    let recorded: Vec<(&str, CryptoAction)> = signed.iter().copied().zip(header.legend.iter().copied()).collect();
    for key in std::iter::once(&config.partition_key).chain(config.sort_key.as_ref()) {
        if let Some((_, CryptoAction::EncryptAndSign)) = recorded.iter().find(|(name, _)| name == key) {
            return Err(ItemError::KeyAttribute(key.clone()));
        }
    }
    let in_context: Vec<&str> = recorded
        .iter()
        .filter(|(_, action)| *action == CryptoAction::SignAndIncludeInEncryptionContext)
        .map(|(name, _)| *name)
        .collect();
    let reproduced = base_context(config, item, header.version, &in_context)?;

    let stored: EncryptionContext = header.encryption_context.clone().into();
    let request = DecryptionMaterialsRequest::new(
        header.suite,
        CommitmentPolicy::DbeRequireEncryptRequireDecrypt,
        header.encrypted_data_keys.clone(),
        stored,
        Some(reproduced),
    );
    let materials = cmm.decryption_materials(request).await?;
    let data_key = materials.data_key().ok_or(ItemError::Crypto)?.expose_secret();

    // Commitment first: nothing else is derived from a key the header does not commit to.
    let body = &head[..head.len() - header.commitment.len()];
    if !equal(&commitment(data_key, &header.message_id, body), &header.commitment) {
        return Err(ItemError::Commitment);
    }

    // The canonical record the tags and the signature cover.
    let table = &config.logical_table_name;
    let aad = serialize_context(materials.encryption_context())?;
    let mut record = head.to_vec();
    record.extend_from_slice(&(aad.len() as u64).to_be_bytes());
    record.extend_from_slice(&aad);
    for (name, action) in &recorded {
        let value = &item[*name];
        let encrypted = *action == CryptoAction::EncryptAndSign;
        if encrypted && !matches!(value, AttributeValue::B(stored) if stored.len() >= 2 + GCM_TAG_LEN) {
            return Err(ItemError::AttributeDecrypt((*name).to_owned()));
        }
        record.extend_from_slice(&canonical_field(&canonical_path(table, name), value, encrypted, name)?);
    }
    let hash = digest::digest(&digest::SHA384, &record);
    let signing_key = materials.symmetric_signing_key().ok_or(ItemError::Crypto)?;
    let expected = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA384, signing_key.expose_secret()), hash.as_ref());
    if !footer.tags.iter().any(|tag| equal(tag, expected.as_ref())) {
        return Err(ItemError::RecipientTag);
    }
    if let Some(sig) = &footer.signature {
        let public = materials.encryption_context().get(PUBLIC_KEY_KEY).ok_or(ItemError::Signature)?;
        let point = base64::engine::general_purpose::STANDARD.decode(public).map_err(|_| ItemError::Signature)?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, point)
            .verify(hash.as_ref(), sig)
            .map_err(|_| ItemError::Signature)?;
    }

    // Authenticated: decrypt the encrypted attributes, in canonical order (their offsets).
    let field_keys = FieldKeys::new(data_key, &header.message_id);
    let mut out: Item = BTreeMap::new();
    let mut offset = 0;
    for (name, action) in &recorded {
        if *action != CryptoAction::EncryptAndSign {
            continue;
        }
        let fail = || ItemError::AttributeDecrypt((*name).to_owned());
        let AttributeValue::B(stored) = &item[*name] else { return Err(fail()) };
        let type_id = TypeId::from_bytes([stored[0], stored[1]]).ok_or_else(fail)?;
        let key = field_keys.field(offset).map_err(|_| ItemError::Crypto)?;
        offset += 1;
        let cipher = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.cipher_key()).map_err(|_| ItemError::Crypto)?);
        let mut buffer = zeroize::Zeroizing::new(stored[2..].to_vec());
        let plaintext = cipher
            .open_in_place(
                Nonce::assume_unique_for_key(key.nonce()),
                Aad::from(canonical_path(table, name)),
                &mut buffer[..],
            )
            .map_err(|_| fail())?;
        let value = AttributeValue::deserialize(type_id, plaintext).map_err(value_error(name))?;
        out.insert((*name).to_owned(), value);
    }
    for (name, value) in item {
        if name != HEADER_ATTRIBUTE && name != FOOTER_ATTRIBUTE && !out.contains_key(name) {
            out.insert(name.clone(), value.clone());
        }
    }
    tracing::debug!(attributes = out.len(), version = header.version, suite = header.suite.id(), "item decrypted");
    Ok(out)
}
