//! Importing key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial.
//!
//! The import token is self-contained: the wrapping private key, the key ARN, the algorithm and
//! the expiry, sealed under the root key. Nothing needs storing between the two calls, and a
//! token for one key cannot be used with another.

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Ctx;
use super::lifecycle::KeyIdRequest;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms};
use crate::keys::{KeyState, Material, Origin, Secret};
use crate::model::{Key, MaterialInfo, MaterialVersion, now};
use crate::wire::B64;

const TOKEN_LABEL: &str = "envelope-kms-local/import-token/v1";
const TOKEN_LIFETIME: i64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapping {
    OaepSha1,
    OaepSha256,
    KeyWrapSha1,
    KeyWrapSha256,
}

impl Wrapping {
    fn parse(s: &str) -> KmsResult<Self> {
        Ok(match s {
            "RSAES_OAEP_SHA_1" => Wrapping::OaepSha1,
            "RSAES_OAEP_SHA_256" => Wrapping::OaepSha256,
            "RSA_AES_KEY_WRAP_SHA_1" => Wrapping::KeyWrapSha1,
            "RSA_AES_KEY_WRAP_SHA_256" => Wrapping::KeyWrapSha256,
            "RSAES_PKCS1_V1_5" | "SM2PKE" => {
                return Err(KmsError::validation(format!("WrappingAlgorithm {s} is not supported by this emulator.")));
            }
            _ => {
                return Err(KmsError::constraint(
                    "wrappingAlgorithm",
                    "Member must satisfy enum value set: [RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256, SM2PKE]",
                ));
            }
        })
    }
    fn code(self) -> u8 {
        self as u8
    }
    fn from_code(c: u8) -> Option<Self> {
        [Wrapping::OaepSha1, Wrapping::OaepSha256, Wrapping::KeyWrapSha1, Wrapping::KeyWrapSha256]
            .get(usize::from(c))
            .copied()
    }
}

fn check_external(key: &Key) -> KmsResult<()> {
    if key.meta.origin != Origin::External {
        return Err(KmsError::unsupported(format!(
            "{} does not have imported key material (Origin is not EXTERNAL).",
            key.arn
        )));
    }
    key.check_not_pending_deletion()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersForImportRequest {
    key_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersForImportResponse {
    key_id: String,
    import_token: B64,
    public_key: B64,
    parameters_valid_to: i64,
}

pub(crate) fn get_parameters_for_import(
    ctx: &Ctx<'_>,
    r: GetParametersForImportRequest,
) -> KmsResult<GetParametersForImportResponse> {
    let wrapping = Wrapping::parse(&r.wrapping_algorithm)?;
    let size = match r.wrapping_key_spec.as_str() {
        "RSA_2048" => KeySize::Rsa2048,
        "RSA_3072" => KeySize::Rsa3072,
        "RSA_4096" => KeySize::Rsa4096,
        "SM2" => return Err(KmsError::validation("WrappingKeySpec SM2 is available only in China Regions.")),
        _ => {
            return Err(KmsError::constraint(
                "wrappingKeySpec",
                "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]",
            ));
        }
    };
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "GetParametersForImport", None)?;
    check_external(&key)?;
    let fail = |_| KmsError::internal("wrapping key generation failed");
    let private = PrivateDecryptingKey::generate(size).map_err(fail)?;
    let public: PublicKeyX509Der<'_> = private.public_key().as_der().map_err(fail)?;
    let pkcs8: Pkcs8V1Der<'_> = private.as_der().map_err(fail)?;
    let valid_to = now() + TOKEN_LIFETIME;
    let mut plain = Zeroizing::new(Vec::new());
    plain.extend_from_slice(&valid_to.to_be_bytes());
    plain.push(wrapping.code());
    plain.extend_from_slice(&(key.arn.len() as u16).to_be_bytes());
    plain.extend_from_slice(key.arn.as_bytes());
    plain.extend_from_slice(pkcs8.as_ref());
    let token = ctx.reg.root().seal(TOKEN_LABEL, &plain);
    Ok(GetParametersForImportResponse {
        key_id: key.arn.clone(),
        import_token: B64(token),
        public_key: B64(public.as_ref().to_vec()),
        parameters_valid_to: valid_to,
    })
}

struct Token {
    valid_to: i64,
    wrapping: Wrapping,
    arn: String,
    private: Secret,
}

fn open_token(ctx: &Ctx<'_>, token: &[u8]) -> KmsResult<Token> {
    let bad = || KmsError::new("InvalidImportTokenException", "The import token is not valid.");
    let plain = ctx.reg.root().open(TOKEN_LABEL, token).ok_or_else(bad)?;
    let p = plain.expose();
    if p.len() < 11 {
        return Err(bad());
    }
    let valid_to = i64::from_be_bytes(p[..8].try_into().map_err(|_| bad())?);
    let wrapping = Wrapping::from_code(p[8]).ok_or_else(bad)?;
    let arn_len = usize::from(u16::from_be_bytes([p[9], p[10]]));
    let arn = p.get(11..11 + arn_len).and_then(|b| std::str::from_utf8(b).ok()).ok_or_else(bad)?.to_owned();
    let private = Secret::new(p.get(11 + arn_len..).ok_or_else(bad)?.to_vec());
    Ok(Token { valid_to, wrapping, arn, private })
}

fn unwrap_material(token: &Token, encrypted: &[u8]) -> KmsResult<Secret> {
    let bad = KmsError::invalid_ciphertext;
    let key =
        PrivateDecryptingKey::from_pkcs8(token.private.expose()).map_err(|_| KmsError::internal("import token key"))?;
    let rsa_len = key.key_size_bytes();
    let oaep_alg = match token.wrapping {
        Wrapping::OaepSha1 | Wrapping::KeyWrapSha1 => &OAEP_SHA1_MGF1SHA1,
        Wrapping::OaepSha256 | Wrapping::KeyWrapSha256 => &OAEP_SHA256_MGF1SHA256,
    };
    let oaep = OaepPrivateDecryptingKey::new(key).map_err(|_| KmsError::internal("import token key"))?;
    let rsa_part = if matches!(token.wrapping, Wrapping::OaepSha1 | Wrapping::OaepSha256) {
        encrypted
    } else {
        encrypted.get(..rsa_len).ok_or_else(bad)?
    };
    let mut buf = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
    let n = oaep.decrypt(oaep_alg, rsa_part, &mut buf, None).map_err(|_| bad())?.len();
    buf.truncate(n);
    if matches!(token.wrapping, Wrapping::OaepSha1 | Wrapping::OaepSha256) {
        return Ok(Secret::new(std::mem::take(&mut *buf)));
    }
    // RSA_AES_KEY_WRAP: an ephemeral AES-256 key under RSA-OAEP, then the material under
    // AES key wrap with padding (RFC 5649).
    let kek = AesKek::new(&AES_256, &buf).map_err(|_| bad())?;
    let wrapped = &encrypted[rsa_len..];
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let n = kek.unwrap_with_padding(wrapped, &mut out).map_err(|_| bad())?.len();
    out.truncate(n);
    Ok(Secret::new(std::mem::take(&mut *out)))
}

/// A fingerprint of material, so a re-import can be checked against what was imported before
/// without keeping the material itself.
fn fingerprint(arn: &str, material: &[u8]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"envelope-kms-local/import-fingerprint/v1\0");
    ctx.update(arn.as_bytes());
    ctx.update(b"\0");
    ctx.update(material);
    hex::encode(ctx.finish().as_ref())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportKeyMaterialRequest {
    key_id: String,
    import_token: B64,
    encrypted_key_material: B64,
    valid_to: Option<f64>,
    expiration_model: Option<String>,
    import_type: Option<String>,
    key_material_description: Option<String>,
    key_material_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportKeyMaterialResponse {
    key_id: String,
    key_material_id: String,
}

/// Longest life KMS allows imported material: ValidTo at most 365 days after the request.
const MAX_VALID_TO_SECONDS: i64 = 365 * 86_400;

/// The expiration model of an import. KMS's default is KEY_MATERIAL_EXPIRES, which needs a
/// ValidTo in the future and at most 365 days away; KEY_MATERIAL_DOES_NOT_EXPIRE forbids one.
fn expiration_model(model: Option<&str>, valid_to: Option<f64>) -> KmsResult<&'static str> {
    let model = match model.unwrap_or("KEY_MATERIAL_EXPIRES") {
        "KEY_MATERIAL_EXPIRES" => "KEY_MATERIAL_EXPIRES",
        "KEY_MATERIAL_DOES_NOT_EXPIRE" => "KEY_MATERIAL_DOES_NOT_EXPIRE",
        _ => {
            return Err(KmsError::constraint(
                "expirationModel",
                "Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]",
            ));
        }
    };
    match (model, valid_to.map(|v| v as i64)) {
        ("KEY_MATERIAL_EXPIRES", None) => {
            Err(KmsError::validation("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"))
        }
        ("KEY_MATERIAL_DOES_NOT_EXPIRE", Some(_)) => {
            Err(KmsError::validation("ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."))
        }
        (_, Some(t)) if t <= now() => Err(KmsError::validation("ValidTo must be in the future.")),
        (_, Some(t)) if t > now() + MAX_VALID_TO_SECONDS => {
            Err(KmsError::validation("ValidTo must be at most 365 days after the request."))
        }
        (m, _) => Ok(m),
    }
}

pub(crate) fn import_key_material(ctx: &Ctx<'_>, r: ImportKeyMaterialRequest) -> KmsResult<ImportKeyMaterialResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "ImportKeyMaterial", None)?;
    check_external(&key)?;
    if matches!(r.import_type.as_deref(), Some(t) if t != "NEW_KEY_MATERIAL" && t != "EXISTING_KEY_MATERIAL") {
        return Err(KmsError::constraint(
            "importType",
            "Member must satisfy enum value set: [NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL]",
        ));
    }
    let _ = (&r.key_material_description, &r.key_material_id);
    let expiration = expiration_model(r.expiration_model.as_deref(), r.valid_to)?;
    let valid_to = r.valid_to.map(|v| v as i64);
    let token = open_token(ctx, &r.import_token.0)?;
    if token.arn != key.arn {
        return Err(KmsError::new("InvalidImportTokenException", "The import token is for a different key."));
    }
    if token.valid_to < now() {
        return Err(KmsError::new("ExpiredImportTokenException", "The import token has expired."));
    }
    let secret = unwrap_material(&token, &r.encrypted_key_material.0)?;
    let fp = fingerprint(&key.arn, secret.expose());
    let material = Material::from_secret(key.meta.key_spec, secret)?;
    let material_id = ids::new_hex_id();
    let t = now();
    ctx.reg.update_key(&key.arn, |k| {
        if let Some(previous) = &k.meta.imported_fingerprint {
            if previous != &fp {
                return Err(KmsError::new(
                    "IncorrectKeyMaterialException",
                    "The key material does not match the material previously imported into this key.",
                ));
            }
        }
        k.meta.imported_fingerprint = Some(fp);
        let version = k.meta.current_version;
        k.materials.insert(
            version,
            Arc::new(MaterialVersion {
                info: MaterialInfo { version, material_id: material_id.clone(), created: t, imported: true },
                material,
            }),
        );
        if k.meta.state == KeyState::PendingImport {
            k.meta.state = KeyState::Enabled;
        }
        k.meta.valid_to = valid_to;
        k.meta.expiration_model = Some(expiration.into());
        Ok(())
    })?;
    Ok(ImportKeyMaterialResponse { key_id: key.arn.clone(), key_material_id: material_id })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteImportedKeyMaterialResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

pub(crate) fn delete_imported_key_material(
    ctx: &Ctx<'_>,
    r: KeyIdRequest,
) -> KmsResult<DeleteImportedKeyMaterialResponse> {
    let key = ctx.resolve(&r.key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "DeleteImportedKeyMaterial", None)?;
    check_external(&key)?;
    ctx.reg.update_key(&key.arn, |k| {
        let id = k.materials.get(&k.meta.current_version).map(|m| m.info.material_id.clone());
        k.materials.clear();
        k.meta.state = KeyState::PendingImport;
        k.meta.valid_to = None;
        k.meta.expiration_model = None;
        Ok(DeleteImportedKeyMaterialResponse { key_id: k.arn.clone(), key_material_id: id })
    })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;
    use crate::ops::{NewKey, RequestInfo, create_key_record};
    use crate::state::Registry;
    use crate::store::Store;

    const ACCOUNT: &str = "111122223333";
    const REGION: &str = "us-east-1";

    fn ctx(reg: &Registry) -> Ctx<'_> {
        Ctx {
            reg,
            account: ACCOUNT.into(),
            region: REGION.into(),
            principal: format!("arn:aws:iam::{ACCOUNT}:root"),
            policies: true,
            request: RequestInfo::NONE,
            resources: RefCell::new(Vec::new()),
        }
    }

    #[test]
    fn import_parameters_do_not_wait_for_a_write_in_progress() {
        let dir = std::env::temp_dir().join(format!("kms-import-lock-{}", ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = crate::seal::RootKey::from_bytes(&[7; 32]).unwrap();
        let store = Store::open(&dir, root).unwrap();
        let loaded = store.load().unwrap();
        let reg = Registry::new(store, loaded);
        let key = create_key_record(
            &reg,
            NewKey {
                account: ACCOUNT.into(),
                region: REGION.into(),
                key_id: None,
                spec: crate::keys::KeySpec::SymmetricDefault,
                usage: crate::keys::KeyUsage::EncryptDecrypt,
                origin: Origin::External,
                description: String::new(),
                policy: None,
                tags: Default::default(),
                multi_region: false,
                material: None,
            },
        )
        .unwrap();
        // Another request is in the middle of a write (holding the store and SQLite's write
        // lock, say waiting for an fsync): sealing an import token needs neither.
        let writing = reg.store();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let request = GetParametersForImportRequest {
                    key_id: key.meta.key_id.clone(),
                    wrapping_algorithm: "RSAES_OAEP_SHA_256".into(),
                    wrapping_key_spec: "RSA_2048".into(),
                };
                let token = get_parameters_for_import(&ctx(&reg), request).map(|p| p.import_token.0);
                let opened = token.as_ref().map(|t| open_token(&ctx(&reg), t).map(|t| t.arn));
                let _ = done.send(opened.map(|o| o.is_ok()).unwrap_or(false));
            });
            let answer = finished.recv_timeout(Duration::from_secs(10));
            drop(writing);
            assert_eq!(answer, Ok(true), "GetParametersForImport waited for the store");
        });
        drop(reg);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
