//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and GenerateRandom.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Ctx, dry_run_check};
use crate::ciphertext::{self, Blob};
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::keys::{EncryptionAlgorithm, KeySpec, KeyUsage, Secret, fill_random, random_secret};
use crate::model::Key;
use crate::wire::{B64, Context, SecretIn, SecretOut, check_grant_tokens};

/// Maximum plaintext for Encrypt (and data key length cap is 1024).
pub(crate) const MAX_PLAINTEXT: usize = 4096;

/// Encrypts under the key's current material: a self-describing blob for symmetric keys, raw
/// RSA-OAEP output for RSA keys.
pub(crate) fn encrypt_with(
    key: &Key,
    alg: EncryptionAlgorithm,
    plaintext: &[u8],
    context: &Context,
) -> KmsResult<(Vec<u8>, Option<String>)> {
    key.check_usage(KeyUsage::EncryptDecrypt, "Encrypt")?;
    if !key.meta.key_spec.encryption_algorithms().contains(&alg) {
        return Err(KmsError::key_usage(format!(
            "{} is not a valid encryption algorithm for {}.",
            alg.as_str(),
            key.arn
        )));
    }
    let current = key.current()?;
    if key.meta.key_spec == KeySpec::SymmetricDefault {
        let header = ciphertext::header(&key.meta.account, &key.meta.key_id, current.info.version)?;
        let mut iv = [0u8; 12];
        fill_random(&mut iv);
        let sealed = current.material.aead_seal(iv, &ciphertext::aad(&header, context), plaintext)?;
        Ok((ciphertext::assemble(&header, &iv, &sealed), Some(current.info.material_id.clone())))
    } else {
        if !context.is_empty() {
            return Err(KmsError::validation("EncryptionContext is not supported with asymmetric keys."));
        }
        Ok((current.material.rsa_encrypt(alg, plaintext)?, None))
    }
}

/// The result of opening a ciphertext.
pub(crate) struct Opened {
    /// The key that encrypted it.
    pub(crate) key: Arc<Key>,
    /// Plaintext.
    pub(crate) plaintext: Secret,
    /// Algorithm used.
    pub(crate) algorithm: EncryptionAlgorithm,
    /// Material id (symmetric keys).
    pub(crate) material_id: Option<String>,
}

/// Checks a caller-supplied KeyId against the key that encrypted a blob.
fn check_expected(expected: &Option<Arc<Key>>, actual: &Key) -> KmsResult<()> {
    if let Some(e) = expected {
        if e.arn != actual.arn {
            return Err(KmsError::new(
                "IncorrectKeyException",
                "The key ID in the request does not identify a KMS key that can perform this operation.",
            ));
        }
    }
    Ok(())
}

/// Decrypts a ciphertext for Decrypt (`operation` = "Decrypt") or ReEncrypt ("ReEncryptFrom").
pub(crate) fn open(
    ctx: &Ctx<'_>,
    blob: &[u8],
    key_id: Option<&str>,
    alg: Option<EncryptionAlgorithm>,
    context: &Context,
    operation: &str,
    dry_run: Option<bool>,
) -> KmsResult<Opened> {
    if blob.is_empty() || blob.len() > 6144 {
        return Err(KmsError::constraint("ciphertextBlob", "Member must have length between 1 and 6144"));
    }
    let expected = key_id.map(|k| ctx.resolve(k, KeyIdForms::AnyForm)).transpose()?;
    let alg = alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if let Some(k) = expected.as_ref().filter(|k| k.meta.key_spec.is_rsa()) {
        k.check_usable()?;
        k.check_usage(KeyUsage::EncryptDecrypt, "Decrypt")?;
        if !k.meta.key_spec.encryption_algorithms().contains(&alg) {
            return Err(KmsError::key_usage(format!(
                "{} is not a valid encryption algorithm for {}.",
                alg.as_str(),
                k.arn
            )));
        }
        if !context.is_empty() {
            return Err(KmsError::validation("EncryptionContext is not supported with asymmetric keys."));
        }
        ctx.authorize(k, operation, None)?;
        dry_run_check(dry_run)?;
        let plaintext = k.current()?.material.rsa_decrypt(alg, blob)?;
        return Ok(Opened { key: k.clone(), plaintext, algorithm: alg, material_id: None });
    }
    if alg != EncryptionAlgorithm::SymmetricDefault {
        if let Some(k) = &expected {
            return Err(KmsError::key_usage(format!(
                "{} is not a valid encryption algorithm for {}.",
                alg.as_str(),
                k.arn
            )));
        }
        return Err(KmsError::validation("KeyId is required to decrypt with an asymmetric encryption algorithm."));
    }
    let parsed = Blob::parse(blob)?;
    let key = ctx.reg.resolve(parsed.account, &ctx.region, parsed.key_id, KeyIdForms::KeyOnly).map_err(|_| {
        KmsError::access_denied(
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        )
    })?;
    ctx.touch(&key.arn);
    check_expected(&expected, &key)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::EncryptDecrypt, "Decrypt")?;
    ctx.authorize(&key, operation, Some(context))?;
    dry_run_check(dry_run)?;
    let version = key.materials.get(&parsed.version).ok_or_else(KmsError::invalid_ciphertext)?;
    let plaintext = version.material.aead_open(parsed.iv, &parsed.aad(context), parsed.sealed)?;
    let material_id = Some(version.info.material_id.clone());
    Ok(Opened { key, plaintext, algorithm: alg, material_id })
}

fn check_recipient(recipient: &Option<serde_json::Value>) -> KmsResult<()> {
    if recipient.is_some() {
        return Err(KmsError::validation("Recipient (Nitro Enclaves attestation) is not supported by this emulator."));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptRequest {
    key_id: String,
    plaintext: SecretIn,
    encryption_context: Option<Context>,
    grant_tokens: Option<Vec<String>>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptResponse {
    ciphertext_blob: B64,
    key_id: String,
    encryption_algorithm: &'static str,
}

pub(crate) fn encrypt(ctx: &Ctx<'_>, r: EncryptRequest) -> KmsResult<EncryptResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let pt = r.plaintext.0.expose();
    if pt.is_empty() || pt.len() > MAX_PLAINTEXT {
        return Err(KmsError::constraint("plaintext", "Member must have length between 1 and 4096"));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    let context = r.encryption_context.unwrap_or_default();
    let alg = r.encryption_algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    key.check_usage(KeyUsage::EncryptDecrypt, "Encrypt")?;
    ctx.authorize(&key, "Encrypt", Some(&context))?;
    dry_run_check(r.dry_run)?;
    let (blob, _) = encrypt_with(&key, alg, pt, &context)?;
    Ok(EncryptResponse { ciphertext_blob: B64(blob), key_id: key.arn.clone(), encryption_algorithm: alg.as_str() })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptRequest {
    ciphertext_blob: Option<B64>,
    encryption_context: Option<Context>,
    grant_tokens: Option<Vec<String>>,
    key_id: Option<String>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    recipient: Option<serde_json::Value>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptResponse {
    key_id: String,
    plaintext: SecretOut,
    encryption_algorithm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// DryRun with IGNORE_CIPHERTEXT: check only the key and the caller's rights.
fn ignore_ciphertext_dry_run(ctx: &Ctx<'_>, key_id: Option<&str>, op: &str, context: &Context) -> KmsResult<()> {
    let key_id =
        key_id.ok_or_else(|| KmsError::validation("KeyId is required with DryRunModifiers IGNORE_CIPHERTEXT."))?;
    let key = ctx.resolve(key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::EncryptDecrypt, op)?;
    ctx.authorize(&key, op, Some(context))?;
    Err(KmsError::dry_run())
}

fn ignores_ciphertext(dry_run: Option<bool>, modifiers: &Option<Vec<String>>) -> KmsResult<bool> {
    if let Some(m) = modifiers {
        if m.iter().any(|x| x != "IGNORE_CIPHERTEXT") {
            return Err(KmsError::constraint(
                "dryRunModifiers",
                "Member must satisfy enum value set: [IGNORE_CIPHERTEXT]",
            ));
        }
    }
    Ok(dry_run == Some(true) && modifiers.as_ref().is_some_and(|m| !m.is_empty()))
}

pub(crate) fn decrypt(ctx: &Ctx<'_>, r: DecryptRequest) -> KmsResult<DecryptResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    check_recipient(&r.recipient)?;
    let context = r.encryption_context.unwrap_or_default();
    if ignores_ciphertext(r.dry_run, &r.dry_run_modifiers)? {
        ignore_ciphertext_dry_run(ctx, r.key_id.as_deref(), "Decrypt", &context)?;
    }
    let blob = r.ciphertext_blob.ok_or_else(|| KmsError::validation("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"))?;
    let o = open(ctx, &blob.0, r.key_id.as_deref(), r.encryption_algorithm, &context, "Decrypt", r.dry_run)?;
    Ok(DecryptResponse {
        key_id: o.key.arn.clone(),
        plaintext: SecretOut(o.plaintext),
        encryption_algorithm: o.algorithm.as_str(),
        key_material_id: o.material_id,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncryptRequest {
    ciphertext_blob: Option<B64>,
    source_encryption_context: Option<Context>,
    source_key_id: Option<String>,
    destination_key_id: String,
    destination_encryption_context: Option<Context>,
    source_encryption_algorithm: Option<EncryptionAlgorithm>,
    destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncryptResponse {
    ciphertext_blob: B64,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: &'static str,
    destination_encryption_algorithm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_key_material_id: Option<String>,
}

pub(crate) fn re_encrypt(ctx: &Ctx<'_>, r: ReEncryptRequest) -> KmsResult<ReEncryptResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let src_ctx = r.source_encryption_context.unwrap_or_default();
    let dst_ctx = r.destination_encryption_context.unwrap_or_default();
    let dest = ctx.resolve(&r.destination_key_id, KeyIdForms::AnyForm)?;
    dest.check_usable()?;
    dest.check_usage(KeyUsage::EncryptDecrypt, "ReEncrypt")?;
    let dst_alg = r.destination_encryption_algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if ignores_ciphertext(r.dry_run, &r.dry_run_modifiers)? {
        ctx.authorize(&dest, "ReEncryptTo", Some(&dst_ctx))?;
        ignore_ciphertext_dry_run(ctx, r.source_key_id.as_deref(), "ReEncryptFrom", &src_ctx)?;
    }
    let blob = r.ciphertext_blob.ok_or_else(|| KmsError::validation("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"))?;
    let o =
        open(ctx, &blob.0, r.source_key_id.as_deref(), r.source_encryption_algorithm, &src_ctx, "ReEncryptFrom", None)?;
    ctx.authorize(&dest, "ReEncryptTo", Some(&dst_ctx))?;
    dry_run_check(r.dry_run)?;
    let (out, dest_material) = encrypt_with(&dest, dst_alg, o.plaintext.expose(), &dst_ctx)?;
    Ok(ReEncryptResponse {
        ciphertext_blob: B64(out),
        source_key_id: o.key.arn.clone(),
        key_id: dest.arn.clone(),
        source_encryption_algorithm: o.algorithm.as_str(),
        destination_encryption_algorithm: dst_alg.as_str(),
        source_key_material_id: o.material_id,
        destination_key_material_id: dest_material,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyRequest {
    key_id: String,
    encryption_context: Option<Context>,
    number_of_bytes: Option<i64>,
    key_spec: Option<String>,
    grant_tokens: Option<Vec<String>>,
    recipient: Option<serde_json::Value>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyResponse {
    ciphertext_blob: B64,
    plaintext: SecretOut,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyWithoutPlaintextResponse {
    ciphertext_blob: B64,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// Data key length from NumberOfBytes / KeySpec (exactly one is required).
fn data_key_len(number_of_bytes: Option<i64>, key_spec: Option<&str>) -> KmsResult<usize> {
    match (number_of_bytes, key_spec) {
        (Some(_), Some(_)) => Err(KmsError::validation("Please specify either number of bytes or key spec, not both.")),
        (None, None) => Err(KmsError::validation("Please specify either number of bytes or key spec.")),
        (Some(n), None) if (1..=1024).contains(&n) => Ok(n as usize),
        (Some(_), None) => Err(KmsError::constraint("numberOfBytes", "Member must have value between 1 and 1024")),
        (None, Some("AES_256")) => Ok(32),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(_)) => {
            Err(KmsError::constraint("keySpec", "Member must satisfy enum value set: [AES_256, AES_128]"))
        }
    }
}

/// A data key, its blob, the key that sealed it and that key's material id.
type DataKey = (Secret, Vec<u8>, Arc<Key>, Option<String>);

fn generate_data_key_inner(ctx: &Ctx<'_>, r: GenerateDataKeyRequest, op: &str) -> KmsResult<DataKey> {
    check_grant_tokens(&r.grant_tokens)?;
    check_recipient(&r.recipient)?;
    let len = data_key_len(r.number_of_bytes, r.key_spec.as_deref())?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::EncryptDecrypt, op)?;
    if key.meta.key_spec != KeySpec::SymmetricDefault {
        return Err(KmsError::key_usage(format!(
            "{op} requires a symmetric encryption key; {} is {}.",
            key.arn,
            key.meta.key_spec.as_str()
        )));
    }
    let context = r.encryption_context.unwrap_or_default();
    ctx.authorize(&key, op, Some(&context))?;
    dry_run_check(r.dry_run)?;
    let data_key = random_secret(len);
    let (blob, material_id) = encrypt_with(&key, EncryptionAlgorithm::SymmetricDefault, data_key.expose(), &context)?;
    Ok((data_key, blob, key, material_id))
}

pub(crate) fn generate_data_key(ctx: &Ctx<'_>, r: GenerateDataKeyRequest) -> KmsResult<GenerateDataKeyResponse> {
    let (data_key, blob, key, key_material_id) = generate_data_key_inner(ctx, r, "GenerateDataKey")?;
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: B64(blob),
        plaintext: SecretOut(data_key),
        key_id: key.arn.clone(),
        key_material_id,
    })
}

pub(crate) fn generate_data_key_without_plaintext(
    ctx: &Ctx<'_>,
    r: GenerateDataKeyRequest,
) -> KmsResult<GenerateDataKeyWithoutPlaintextResponse> {
    let (_, blob, key, key_material_id) = generate_data_key_inner(ctx, r, "GenerateDataKeyWithoutPlaintext")?;
    Ok(GenerateDataKeyWithoutPlaintextResponse { ciphertext_blob: B64(blob), key_id: key.arn.clone(), key_material_id })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandomRequest {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
    recipient: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandomResponse {
    plaintext: SecretOut,
}

pub(crate) fn generate_random(_ctx: &Ctx<'_>, r: GenerateRandomRequest) -> KmsResult<GenerateRandomResponse> {
    check_recipient(&r.recipient)?;
    if let Some(id) = r.custom_key_store_id {
        return Err(KmsError::new("CustomKeyStoreNotFoundException", format!("Custom key store {id} does not exist.")));
    }
    let n = r.number_of_bytes.ok_or_else(|| KmsError::validation("NumberOfBytes is required."))?;
    if !(1..=1024).contains(&n) {
        return Err(KmsError::constraint("numberOfBytes", "Member must have value between 1 and 1024"));
    }
    Ok(GenerateRandomResponse { plaintext: SecretOut(random_secret(n as usize)) })
}
