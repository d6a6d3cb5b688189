//! Asymmetric and MAC operations: Sign, Verify, GetPublicKey, GenerateMac, VerifyMac,
//! DeriveSharedSecret, Encapsulate, Decapsulate and GenerateDataKeyPair(WithoutPlaintext).

use serde::{Deserialize, Serialize};

use super::symmetric::encrypt_with;
use super::{Ctx, dry_run_check};
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::keys::{DataKeyPairSpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, Material, SigningAlgorithm};
use crate::wire::{B64, Context, SecretIn, SecretOut, check_grant_tokens};

fn check_message(m: &[u8], field: &str) -> KmsResult<()> {
    if m.is_empty() || m.len() > 4096 {
        return Err(KmsError::constraint(field, "Member must have length between 1 and 4096"));
    }
    Ok(())
}

fn message_is_digest(message_type: Option<&str>) -> KmsResult<bool> {
    match message_type.unwrap_or("RAW") {
        "RAW" => Ok(false),
        "DIGEST" => Ok(true),
        "EXTERNAL_MU" => Err(KmsError::key_usage("MessageType EXTERNAL_MU is not supported by this emulator.")),
        _ => Err(KmsError::constraint("messageType", "Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignRequest {
    key_id: String,
    message: SecretIn,
    message_type: Option<String>,
    grant_tokens: Option<Vec<String>>,
    signing_algorithm: SigningAlgorithm,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignResponse {
    key_id: String,
    signature: B64,
    signing_algorithm: &'static str,
}

fn signing_key(
    ctx: &Ctx<'_>,
    key_id: &str,
    alg: SigningAlgorithm,
    op: &str,
) -> KmsResult<std::sync::Arc<crate::model::Key>> {
    let key = ctx.resolve(key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::SignVerify, op)?;
    if !key.meta.key_spec.signing_algorithms().contains(&alg) {
        return Err(KmsError::key_usage(format!("{} is not a valid signing algorithm for {}.", alg.as_str(), key.arn)));
    }
    ctx.authorize(&key, op, None)?;
    Ok(key)
}

pub(crate) fn sign(ctx: &Ctx<'_>, r: SignRequest) -> KmsResult<SignResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    check_message(r.message.0.expose(), "message")?;
    let digest = message_is_digest(r.message_type.as_deref())?;
    let key = signing_key(ctx, &r.key_id, r.signing_algorithm, "Sign")?;
    dry_run_check(r.dry_run)?;
    let sig = key.current()?.material.sign(r.signing_algorithm, r.message.0.expose(), digest)?;
    Ok(SignResponse { key_id: key.arn.clone(), signature: B64(sig), signing_algorithm: r.signing_algorithm.as_str() })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyRequest {
    key_id: String,
    message: SecretIn,
    message_type: Option<String>,
    signature: B64,
    signing_algorithm: SigningAlgorithm,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyResponse {
    key_id: String,
    signature_valid: bool,
    signing_algorithm: &'static str,
}

pub(crate) fn verify(ctx: &Ctx<'_>, r: VerifyRequest) -> KmsResult<VerifyResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    check_message(r.message.0.expose(), "message")?;
    if r.signature.0.is_empty() || r.signature.0.len() > 6144 {
        return Err(KmsError::constraint("signature", "Member must have length between 1 and 6144"));
    }
    let digest = message_is_digest(r.message_type.as_deref())?;
    let key = signing_key(ctx, &r.key_id, r.signing_algorithm, "Verify")?;
    dry_run_check(r.dry_run)?;
    if !key.current()?.material.verify(r.signing_algorithm, r.message.0.expose(), digest, &r.signature.0)? {
        // KMS answers a bad signature with an exception, not SignatureValid=false.
        return Err(KmsError::new("KMSInvalidSignatureException", ""));
    }
    Ok(VerifyResponse {
        key_id: key.arn.clone(),
        signature_valid: true,
        signing_algorithm: r.signing_algorithm.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateMacRequest {
    message: SecretIn,
    key_id: String,
    mac_algorithm: MacAlgorithm,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateMacResponse {
    mac: B64,
    mac_algorithm: &'static str,
    key_id: String,
}

fn mac_key(ctx: &Ctx<'_>, key_id: &str, alg: MacAlgorithm, op: &str) -> KmsResult<std::sync::Arc<crate::model::Key>> {
    let key = ctx.resolve(key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::GenerateVerifyMac, op)?;
    if key.meta.key_spec.mac_algorithm() != Some(alg) {
        return Err(KmsError::key_usage(format!("{} is not a valid MAC algorithm for {}.", alg.as_str(), key.arn)));
    }
    ctx.authorize(&key, op, None)?;
    Ok(key)
}

pub(crate) fn generate_mac(ctx: &Ctx<'_>, r: GenerateMacRequest) -> KmsResult<GenerateMacResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    check_message(r.message.0.expose(), "message")?;
    let key = mac_key(ctx, &r.key_id, r.mac_algorithm, "GenerateMac")?;
    dry_run_check(r.dry_run)?;
    let mac = key.current()?.material.mac(r.message.0.expose())?;
    Ok(GenerateMacResponse { mac: B64(mac), mac_algorithm: r.mac_algorithm.as_str(), key_id: key.arn.clone() })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyMacRequest {
    message: SecretIn,
    key_id: String,
    mac_algorithm: MacAlgorithm,
    mac: B64,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VerifyMacResponse {
    key_id: String,
    mac_valid: bool,
    mac_algorithm: &'static str,
}

pub(crate) fn verify_mac(ctx: &Ctx<'_>, r: VerifyMacRequest) -> KmsResult<VerifyMacResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    check_message(r.message.0.expose(), "message")?;
    let key = mac_key(ctx, &r.key_id, r.mac_algorithm, "VerifyMac")?;
    dry_run_check(r.dry_run)?;
    if !key.current()?.material.verify_mac(r.message.0.expose(), &r.mac.0)? {
        return Err(KmsError::new("KMSInvalidMacException", ""));
    }
    Ok(VerifyMacResponse { key_id: key.arn.clone(), mac_valid: true, mac_algorithm: r.mac_algorithm.as_str() })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetPublicKeyRequest {
    key_id: String,
    grant_tokens: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetPublicKeyResponse {
    key_id: String,
    public_key: B64,
    customer_master_key_spec: &'static str,
    key_spec: &'static str,
    key_usage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_agreement_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encapsulation_algorithms: Option<Vec<&'static str>>,
}

pub(crate) fn get_public_key(ctx: &Ctx<'_>, r: GetPublicKeyRequest) -> KmsResult<GetPublicKeyResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    if !key.meta.key_spec.is_asymmetric() {
        return Err(KmsError::unsupported(format!("{} is not an asymmetric key; it has no public key.", key.arn)));
    }
    ctx.authorize(&key, "GetPublicKey", None)?;
    let spec = key.meta.key_spec;
    let usage = key.meta.key_usage;
    let list = |v: Vec<&'static str>| Some(v);
    Ok(GetPublicKeyResponse {
        key_id: key.arn.clone(),
        public_key: B64(key.current()?.material.public_key_der()?),
        customer_master_key_spec: spec.as_str(),
        key_spec: spec.as_str(),
        key_usage: usage.as_str(),
        encryption_algorithms: (usage == KeyUsage::EncryptDecrypt)
            .then(|| spec.encryption_algorithms().iter().map(|a| a.as_str()).collect()),
        signing_algorithms: (usage == KeyUsage::SignVerify)
            .then(|| spec.signing_algorithms().iter().map(|a| a.as_str()).collect()),
        key_agreement_algorithms: if usage == KeyUsage::KeyAgreement { list(vec!["ECDH"]) } else { None },
        encapsulation_algorithms: if usage == KeyUsage::EncapsulateDecapsulate { list(vec!["ML_KEM"]) } else { None },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeriveSharedSecretRequest {
    key_id: String,
    key_agreement_algorithm: String,
    public_key: B64,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
    recipient: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeriveSharedSecretResponse {
    key_id: String,
    shared_secret: SecretOut,
    key_agreement_algorithm: &'static str,
    key_origin: &'static str,
}

pub(crate) fn derive_shared_secret(
    ctx: &Ctx<'_>,
    r: DeriveSharedSecretRequest,
) -> KmsResult<DeriveSharedSecretResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    if r.recipient.is_some() {
        return Err(KmsError::validation("Recipient (Nitro Enclaves attestation) is not supported by this emulator."));
    }
    if r.key_agreement_algorithm != "ECDH" {
        return Err(KmsError::constraint("keyAgreementAlgorithm", "Member must satisfy enum value set: [ECDH]"));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::KeyAgreement, "DeriveSharedSecret")?;
    ctx.authorize(&key, "DeriveSharedSecret", None)?;
    dry_run_check(r.dry_run)?;
    let secret = key.current()?.material.derive_shared_secret(&r.public_key.0)?;
    Ok(DeriveSharedSecretResponse {
        key_id: key.arn.clone(),
        shared_secret: SecretOut(secret),
        key_agreement_algorithm: "ECDH",
        key_origin: key.meta.origin.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncapsulateRequest {
    key_id: String,
    encapsulation_algorithm: String,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncapsulateResponse {
    key_id: String,
    shared_secret: SecretOut,
    shared_secret_ciphertext_blob: B64,
    encapsulation_algorithm: &'static str,
}

fn kem_key(ctx: &Ctx<'_>, key_id: &str, alg: &str, op: &str) -> KmsResult<std::sync::Arc<crate::model::Key>> {
    if alg != "ML_KEM" {
        return Err(KmsError::constraint("encapsulationAlgorithm", "Member must satisfy enum value set: [ML_KEM]"));
    }
    let key = ctx.resolve(key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::EncapsulateDecapsulate, op)?;
    ctx.authorize(&key, op, None)?;
    Ok(key)
}

pub(crate) fn encapsulate(ctx: &Ctx<'_>, r: EncapsulateRequest) -> KmsResult<EncapsulateResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let key = kem_key(ctx, &r.key_id, &r.encapsulation_algorithm, "Encapsulate")?;
    dry_run_check(r.dry_run)?;
    let (ct, ss) = key.current()?.material.encapsulate()?;
    Ok(EncapsulateResponse {
        key_id: key.arn.clone(),
        shared_secret: SecretOut(ss),
        shared_secret_ciphertext_blob: B64(ct),
        encapsulation_algorithm: "ML_KEM",
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecapsulateRequest {
    key_id: String,
    shared_secret_ciphertext_blob: B64,
    encapsulation_algorithm: String,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecapsulateResponse {
    key_id: String,
    shared_secret: SecretOut,
    encapsulation_algorithm: &'static str,
}

pub(crate) fn decapsulate(ctx: &Ctx<'_>, r: DecapsulateRequest) -> KmsResult<DecapsulateResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    let key = kem_key(ctx, &r.key_id, &r.encapsulation_algorithm, "Decapsulate")?;
    dry_run_check(r.dry_run)?;
    let ss = key.current()?.material.decapsulate(&r.shared_secret_ciphertext_blob.0)?;
    Ok(DecapsulateResponse { key_id: key.arn.clone(), shared_secret: SecretOut(ss), encapsulation_algorithm: "ML_KEM" })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyPairRequest {
    encryption_context: Option<Context>,
    key_id: String,
    key_pair_spec: DataKeyPairSpec,
    grant_tokens: Option<Vec<String>>,
    recipient: Option<serde_json::Value>,
    dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyPairResponse {
    private_key_ciphertext_blob: B64,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_plaintext: Option<SecretOut>,
    public_key: B64,
    key_id: String,
    key_pair_spec: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

fn data_key_pair(
    ctx: &Ctx<'_>,
    r: GenerateDataKeyPairRequest,
    op: &str,
    with_plaintext: bool,
) -> KmsResult<GenerateDataKeyPairResponse> {
    check_grant_tokens(&r.grant_tokens)?;
    if r.recipient.is_some() {
        return Err(KmsError::validation("Recipient (Nitro Enclaves attestation) is not supported by this emulator."));
    }
    let key = ctx.resolve(&r.key_id, KeyIdForms::AnyForm)?;
    key.check_usable()?;
    key.check_usage(KeyUsage::EncryptDecrypt, op)?;
    if key.meta.key_spec != KeySpec::SymmetricDefault {
        return Err(KmsError::key_usage(format!("{op} requires a symmetric encryption key.")));
    }
    let pair_spec = r.key_pair_spec.key_spec();
    if matches!(pair_spec, KeySpec::Sm2 | KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024) {
        return Err(KmsError::unsupported(format!(
            "KeyPairSpec {} is not supported by this emulator.",
            r.key_pair_spec.as_str()
        )));
    }
    let context = r.encryption_context.unwrap_or_default();
    ctx.authorize(&key, op, Some(&context))?;
    dry_run_check(r.dry_run)?;
    let private = Material::generate(pair_spec)?;
    let public_key = private.public_key_der()?;
    let (blob, key_material_id) =
        encrypt_with(&key, EncryptionAlgorithm::SymmetricDefault, private.secret().expose(), &context)?;
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: B64(blob),
        private_key_plaintext: with_plaintext.then(|| SecretOut(private.secret().clone())),
        public_key: B64(public_key),
        key_id: key.arn.clone(),
        key_pair_spec: r.key_pair_spec.as_str(),
        key_material_id,
    })
}

pub(crate) fn generate_data_key_pair(
    ctx: &Ctx<'_>,
    r: GenerateDataKeyPairRequest,
) -> KmsResult<GenerateDataKeyPairResponse> {
    data_key_pair(ctx, r, "GenerateDataKeyPair", true)
}

pub(crate) fn generate_data_key_pair_without_plaintext(
    ctx: &Ctx<'_>,
    r: GenerateDataKeyPairRequest,
) -> KmsResult<GenerateDataKeyPairResponse> {
    data_key_pair(ctx, r, "GenerateDataKeyPairWithoutPlaintext", false)
}
