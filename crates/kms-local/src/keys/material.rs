//! One version of a KMS key's material and the operations it can perform.
//!
//! Storage formats: AES and HMAC keys are raw bytes; RSA, ECC, Ed25519 and ML-DSA keys are PKCS#8
//! DER (so offline tools read them); ML-KEM keys are the raw decapsulation key followed by the raw
//! encapsulation key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::kem::{
    Ciphertext as KemCiphertext, DecapsulationKey, EncapsulationKey, ML_KEM_512, ML_KEM_768, ML_KEM_1024,
};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, PqdsaKeyPair, RsaKeyPair, UnparsedPublicKey};
use aws_lc_rs::{agreement, digest, hmac, rand::SystemRandom};
use zeroize::Zeroizing;

use super::{EncryptionAlgorithm, KeySpec, SigningAlgorithm};
use crate::error::{KmsError, KmsResult};

/// Secret bytes: zeroized on drop, never printed.
#[derive(Clone)]
pub(crate) struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Takes ownership of secret bytes.
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// The bytes, for the one caller that needs them.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret([REDACTED; {}])", self.0.len())
    }
}

/// Key material ready for use: the secret plus any prepared form that is costly to rebuild.
pub(crate) struct Material {
    spec: KeySpec,
    secret: Secret,
    /// Prepared AES-256-GCM key for symmetric keys, so the hot path skips key expansion.
    aead: Option<LessSafeKey>,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material").field("spec", &self.spec).finish_non_exhaustive()
    }
}

fn internal(what: &str) -> KmsError {
    KmsError::internal(format!("cryptographic failure: {what}"))
}

impl Material {
    /// Generates fresh material for `spec`.
    pub(crate) fn generate(spec: KeySpec) -> KmsResult<Self> {
        Self::from_secret(spec, generate_secret(spec)?)
    }

    /// Wraps existing material (from the store, a seed file or an import), checking that it fits
    /// the spec; a mismatch is an `IncorrectKeyMaterialException`.
    pub(crate) fn from_secret(spec: KeySpec, secret: Secret) -> KmsResult<Self> {
        let bad = || KmsError::new("IncorrectKeyMaterialException", "The key material is not valid for this key spec.");
        let bytes = secret.expose();
        let aead = match spec {
            KeySpec::SymmetricDefault => {
                let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| bad())?;
                Some(LessSafeKey::new(key))
            }
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                if bytes.len() != hmac_key_len(spec) {
                    return Err(bad());
                }
                None
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let kp = RsaKeyPair::from_pkcs8(bytes).map_err(|_| bad())?;
                if kp.public_modulus_len() != spec.rsa_bytes() {
                    return Err(bad());
                }
                None
            }
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 | KeySpec::EccSecgP256k1 => {
                EcdsaKeyPair::from_pkcs8(ecdsa_signing(spec).ok_or_else(bad)?, bytes).map_err(|_| bad())?;
                None
            }
            KeySpec::EccNistEdwards25519 => {
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|_| bad())?;
                None
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                PqdsaKeyPair::from_pkcs8(ml_dsa_signing(spec).ok_or_else(bad)?, bytes).map_err(|_| bad())?;
                None
            }
            KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => {
                kem_keys(spec, bytes).map_err(|_| bad())?;
                None
            }
            KeySpec::Sm2 => return Err(KmsError::unsupported("SM2 keys are not supported by this emulator.")),
        };
        Ok(Self { spec, secret, aead })
    }

    /// The secret, for sealing into the store.
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// AES-256-GCM seal with a caller-chosen nonce; returns ciphertext‖tag.
    pub(crate) fn aead_seal(&self, nonce: [u8; 12], aad: &[u8], plaintext: &[u8]) -> KmsResult<Vec<u8>> {
        let key = self.aead.as_ref().ok_or_else(|| internal("not a symmetric key"))?;
        let mut buf = plaintext.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| internal("seal"))?;
        Ok(buf)
    }

    /// AES-256-GCM open; any failure is `InvalidCiphertextException`.
    pub(crate) fn aead_open(&self, nonce: [u8; 12], aad: &[u8], ciphertext_and_tag: &[u8]) -> KmsResult<Secret> {
        let key = self.aead.as_ref().ok_or_else(KmsError::invalid_ciphertext)?;
        let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
        let len = key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| KmsError::invalid_ciphertext())?
            .len();
        buf.truncate(len);
        Ok(Secret::new(std::mem::take(&mut *buf)))
    }

    /// The public key as DER SubjectPublicKeyInfo, as GetPublicKey returns it.
    pub(crate) fn public_key_der(&self) -> KmsResult<Vec<u8>> {
        public_key_der(self.spec, self.secret.expose())
    }

    /// RSA-OAEP encryption: raw RSA output, readable by any OAEP implementation.
    pub(crate) fn rsa_encrypt(&self, alg: EncryptionAlgorithm, plaintext: &[u8]) -> KmsResult<Vec<u8>> {
        let oaep = oaep(alg)?;
        let key = PrivateDecryptingKey::from_pkcs8(self.secret.expose()).map_err(|_| internal("rsa key"))?;
        let public = OaepPublicEncryptingKey::new(key.public_key()).map_err(|_| internal("rsa key"))?;
        if plaintext.len() > public.max_plaintext_size(oaep) {
            return Err(KmsError::validation(format!(
                "Plaintext is too long for {} with {}: at most {} bytes.",
                self.spec.as_str(),
                alg.as_str(),
                public.max_plaintext_size(oaep)
            )));
        }
        let mut out = vec![0u8; public.ciphertext_size()];
        let n = public.encrypt(oaep, plaintext, &mut out, None).map_err(|_| internal("rsa encrypt"))?.len();
        out.truncate(n);
        Ok(out)
    }

    /// RSA-OAEP decryption; failures are `InvalidCiphertextException`.
    pub(crate) fn rsa_decrypt(&self, alg: EncryptionAlgorithm, ciphertext: &[u8]) -> KmsResult<Secret> {
        let oaep = oaep(alg)?;
        let key = PrivateDecryptingKey::from_pkcs8(self.secret.expose()).map_err(|_| internal("rsa key"))?;
        let private = OaepPrivateDecryptingKey::new(key).map_err(|_| internal("rsa key"))?;
        let mut out = Zeroizing::new(vec![0u8; private.min_output_size()]);
        let n = private.decrypt(oaep, ciphertext, &mut out, None).map_err(|_| KmsError::invalid_ciphertext())?.len();
        out.truncate(n);
        Ok(Secret::new(std::mem::take(&mut *out)))
    }

    /// Signs a raw message or a precomputed digest.
    pub(crate) fn sign(&self, alg: SigningAlgorithm, message: &[u8], is_digest: bool) -> KmsResult<Vec<u8>> {
        let bytes = self.secret.expose();
        let rng = SystemRandom::new();
        match self.spec {
            s if s.is_rsa() => {
                let kp = RsaKeyPair::from_pkcs8(bytes).map_err(|_| internal("rsa key"))?;
                let enc = rsa_signing(alg)?;
                let mut sig = vec![0u8; kp.public_modulus_len()];
                if is_digest {
                    let d = import_digest(alg, message)?;
                    kp.sign_digest(enc, &d, &mut sig).map_err(|_| internal("rsa sign"))?;
                } else {
                    kp.sign(enc, &rng, message, &mut sig).map_err(|_| internal("rsa sign"))?;
                }
                Ok(sig)
            }
            s if s.is_ecc() => {
                let kp = EcdsaKeyPair::from_pkcs8(ecdsa_signing(s).ok_or_else(|| internal("curve"))?, bytes)
                    .map_err(|_| internal("ec key"))?;
                let sig =
                    if is_digest { kp.sign_digest(&import_digest(alg, message)?) } else { kp.sign(&rng, message) }
                        .map_err(|_| internal("ecdsa sign"))?;
                Ok(sig.as_ref().to_vec())
            }
            KeySpec::EccNistEdwards25519 => {
                if is_digest {
                    return Err(KmsError::validation("ED25519_SHA_512 accepts only MessageType RAW."));
                }
                let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|_| internal("ed25519 key"))?;
                Ok(kp.sign(message).as_ref().to_vec())
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                if is_digest {
                    return Err(KmsError::validation("ML_DSA_SHAKE_256 accepts only MessageType RAW here."));
                }
                let alg = ml_dsa_signing(self.spec).ok_or_else(|| internal("ml-dsa"))?;
                let kp = PqdsaKeyPair::from_pkcs8(alg, bytes).map_err(|_| internal("ml-dsa key"))?;
                let mut sig = vec![0u8; alg.signature_len()];
                let n = kp.sign(message, &mut sig).map_err(|_| internal("ml-dsa sign"))?;
                sig.truncate(n);
                Ok(sig)
            }
            _ => Err(KmsError::key_usage("This key cannot sign.")),
        }
    }

    /// Verifies a signature; returns false on mismatch.
    pub(crate) fn verify(&self, alg: SigningAlgorithm, message: &[u8], is_digest: bool, sig: &[u8]) -> KmsResult<bool> {
        let bytes = self.secret.expose();
        let (valg, public): (&'static dyn signature::VerificationAlgorithm, Vec<u8>) = match self.spec {
            s if s.is_rsa() => {
                let kp = RsaKeyPair::from_pkcs8(bytes).map_err(|_| internal("rsa key"))?;
                (rsa_verification(alg)?, kp.public_key().as_ref().to_vec())
            }
            s if s.is_ecc() => {
                let kp = EcdsaKeyPair::from_pkcs8(ecdsa_signing(s).ok_or_else(|| internal("curve"))?, bytes)
                    .map_err(|_| internal("ec key"))?;
                (ecdsa_verification(s).ok_or_else(|| internal("curve"))?, kp.public_key().as_ref().to_vec())
            }
            KeySpec::EccNistEdwards25519 => {
                if is_digest {
                    return Err(KmsError::validation("ED25519_SHA_512 accepts only MessageType RAW."));
                }
                let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|_| internal("ed25519 key"))?;
                (&signature::ED25519, kp.public_key().as_ref().to_vec())
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                if is_digest {
                    return Err(KmsError::validation("ML_DSA_SHAKE_256 accepts only MessageType RAW here."));
                }
                let alg = ml_dsa_signing(self.spec).ok_or_else(|| internal("ml-dsa"))?;
                let kp = PqdsaKeyPair::from_pkcs8(alg, bytes).map_err(|_| internal("ml-dsa key"))?;
                (ml_dsa_verification(self.spec).ok_or_else(|| internal("ml-dsa"))?, kp.public_key().as_ref().to_vec())
            }
            _ => return Err(KmsError::key_usage("This key cannot verify.")),
        };
        let key = UnparsedPublicKey::new(valg, public);
        Ok(if is_digest {
            key.verify_digest(&import_digest(alg, message)?, sig).is_ok()
        } else {
            key.verify(message, sig).is_ok()
        })
    }

    /// HMAC of `message`.
    pub(crate) fn mac(&self, message: &[u8]) -> KmsResult<Vec<u8>> {
        let key = hmac::Key::new(hmac_alg(self.spec)?, self.secret.expose());
        Ok(hmac::sign(&key, message).as_ref().to_vec())
    }

    /// Constant-time HMAC check.
    pub(crate) fn verify_mac(&self, message: &[u8], mac: &[u8]) -> KmsResult<bool> {
        let key = hmac::Key::new(hmac_alg(self.spec)?, self.secret.expose());
        Ok(hmac::verify(&key, message, mac).is_ok())
    }

    /// ECDH with a peer public key (DER SubjectPublicKeyInfo); returns the raw shared secret.
    pub(crate) fn derive_shared_secret(&self, peer: &[u8]) -> KmsResult<Secret> {
        let alg = ecdh(self.spec).ok_or_else(|| KmsError::key_usage("This key cannot derive a shared secret."))?;
        let private =
            agreement::PrivateKey::from_private_key_der(alg, self.secret.expose()).map_err(|_| internal("ecdh key"))?;
        let peer = agreement::UnparsedPublicKey::new(alg, peer);
        agreement::agree(
            &private,
            peer,
            KmsError::validation("The PublicKey is not a valid public key for this key's curve."),
            |s| Ok(Secret::new(s.to_vec())),
        )
    }

    /// ML-KEM encapsulation against this key's public half.
    pub(crate) fn encapsulate(&self) -> KmsResult<(Vec<u8>, Secret)> {
        ml_kem(self.spec).ok_or_else(|| KmsError::key_usage("This key cannot encapsulate."))?;
        let (_, ek) = kem_keys(self.spec, self.secret.expose())?;
        let (ct, ss) = ek.encapsulate().map_err(|_| internal("ml-kem encapsulate"))?;
        Ok((ct.as_ref().to_vec(), Secret::new(ss.as_ref().to_vec())))
    }

    /// ML-KEM decapsulation; a malformed ciphertext is `InvalidCiphertextException`.
    pub(crate) fn decapsulate(&self, ciphertext: &[u8]) -> KmsResult<Secret> {
        ml_kem(self.spec).ok_or_else(|| KmsError::key_usage("This key cannot decapsulate."))?;
        let (dk, _) = kem_keys(self.spec, self.secret.expose())?;
        let ss = dk.decapsulate(KemCiphertext::from(ciphertext)).map_err(|_| KmsError::invalid_ciphertext())?;
        Ok(Secret::new(ss.as_ref().to_vec()))
    }
}

/// Generates a private key of `spec` in its storage format (also used for data key pairs).
pub(crate) fn generate_secret(spec: KeySpec) -> KmsResult<Secret> {
    let fail = |_| internal("key generation");
    let bytes = match spec {
        KeySpec::SymmetricDefault => return Ok(super::random_secret(32)),
        s if s.is_hmac() => return Ok(super::random_secret(hmac_key_len(s))),
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let size = match spec {
                KeySpec::Rsa2048 => KeySize::Rsa2048,
                KeySpec::Rsa3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let kp = RsaKeyPair::generate(size).map_err(fail)?;
            let der: Pkcs8V1Der<'_> = kp.as_der().map_err(fail)?;
            der.as_ref().to_vec()
        }
        s if s.is_ecc() => {
            let kp = EcdsaKeyPair::generate(ecdsa_signing(s).ok_or_else(|| internal("curve"))?).map_err(fail)?;
            kp.to_pkcs8v1().map_err(fail)?.as_ref().to_vec()
        }
        KeySpec::EccNistEdwards25519 => {
            Ed25519KeyPair::generate().map_err(fail)?.to_pkcs8v1().map_err(fail)?.as_ref().to_vec()
        }
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
            let alg = ml_dsa_signing(spec).ok_or_else(|| internal("ml-dsa"))?;
            PqdsaKeyPair::generate(alg).map_err(fail)?.to_pkcs8v1().map_err(fail)?.as_ref().to_vec()
        }
        KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => {
            // aws-lc-rs cannot rebuild the public half from raw private bytes, so both are kept.
            let dk = DecapsulationKey::generate(ml_kem(spec).ok_or_else(|| internal("ml-kem"))?).map_err(fail)?;
            let mut v = dk.key_bytes().map_err(fail)?.as_ref().to_vec();
            v.extend_from_slice(dk.encapsulation_key().map_err(fail)?.key_bytes().map_err(fail)?.as_ref());
            v
        }
        _ => {
            return Err(KmsError::unsupported(format!("KeySpec {} is not supported by this emulator.", spec.as_str())));
        }
    };
    Ok(Secret::new(bytes))
}

/// DER SubjectPublicKeyInfo of a private key in storage format.
pub(crate) fn public_key_der(spec: KeySpec, bytes: &[u8]) -> KmsResult<Vec<u8>> {
    let fail = |_| internal("public key");
    let der: Vec<u8> = match spec {
        s if s.is_rsa() => {
            let kp = RsaKeyPair::from_pkcs8(bytes).map_err(|_| internal("rsa key"))?;
            let d: PublicKeyX509Der<'_> = kp.public_key().as_der().map_err(fail)?;
            d.as_ref().to_vec()
        }
        s if s.is_ecc() => {
            let kp = EcdsaKeyPair::from_pkcs8(ecdsa_signing(s).ok_or_else(|| internal("curve"))?, bytes)
                .map_err(|_| internal("ec key"))?;
            let d: PublicKeyX509Der<'_> = kp.public_key().as_der().map_err(fail)?;
            d.as_ref().to_vec()
        }
        KeySpec::EccNistEdwards25519 => {
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|_| internal("ed25519 key"))?;
            let d: PublicKeyX509Der<'_> = kp.public_key().as_der().map_err(fail)?;
            d.as_ref().to_vec()
        }
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
            let alg = ml_dsa_signing(spec).ok_or_else(|| internal("ml-dsa"))?;
            let kp = PqdsaKeyPair::from_pkcs8(alg, bytes).map_err(|_| internal("ml-dsa key"))?;
            let d: PublicKeyX509Der<'_> = kp.public_key().as_der().map_err(fail)?;
            d.as_ref().to_vec()
        }
        KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => {
            let (_, ek) = kem_keys(spec, bytes)?;
            super::der::ml_kem_spki(spec, ek.key_bytes().map_err(fail)?.as_ref())
        }
        _ => return Err(KmsError::unsupported("This key has no public key.")),
    };
    Ok(der)
}

/// Splits stored ML-KEM material (decapsulation key ‖ encapsulation key) into usable keys.
fn kem_keys(spec: KeySpec, bytes: &[u8]) -> KmsResult<(DecapsulationKey, EncapsulationKey)> {
    let alg = ml_kem(spec).ok_or_else(|| internal("ml-kem"))?;
    // FIPS 203 decapsulation-key sizes (aws-lc-rs keeps its size accessors private).
    let split = match spec {
        KeySpec::MlKem512 => 1632,
        KeySpec::MlKem768 => 2400,
        _ => 3168,
    };
    if bytes.len() <= split {
        return Err(internal("ml-kem key"));
    }
    let dk = DecapsulationKey::new(alg, &bytes[..split]).map_err(|_| internal("ml-kem key"))?;
    let ek = EncapsulationKey::new(alg, &bytes[split..]).map_err(|_| internal("ml-kem key"))?;
    Ok((dk, ek))
}

/// HMAC key length in bytes for each HMAC spec (KMS uses the digest size).
fn hmac_key_len(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Hmac224 => 28,
        KeySpec::Hmac256 => 32,
        KeySpec::Hmac384 => 48,
        _ => 64,
    }
}

fn hmac_alg(spec: KeySpec) -> KmsResult<hmac::Algorithm> {
    Ok(match spec {
        KeySpec::Hmac224 => hmac::HMAC_SHA224,
        KeySpec::Hmac256 => hmac::HMAC_SHA256,
        KeySpec::Hmac384 => hmac::HMAC_SHA384,
        KeySpec::Hmac512 => hmac::HMAC_SHA512,
        _ => return Err(KmsError::key_usage("This key cannot generate MACs.")),
    })
}

fn oaep(alg: EncryptionAlgorithm) -> KmsResult<&'static OaepAlgorithm> {
    match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => Ok(&OAEP_SHA1_MGF1SHA1),
        EncryptionAlgorithm::RsaesOaepSha256 => Ok(&OAEP_SHA256_MGF1SHA256),
        other => Err(KmsError::key_usage(format!("{} is not valid for an RSA key.", other.as_str()))),
    }
}

fn rsa_signing(alg: SigningAlgorithm) -> KmsResult<&'static dyn signature::RsaEncoding> {
    use SigningAlgorithm::*;
    Ok(match alg {
        RsaPssSha256 => &signature::RSA_PSS_SHA256,
        RsaPssSha384 => &signature::RSA_PSS_SHA384,
        RsaPssSha512 => &signature::RSA_PSS_SHA512,
        RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
        RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
        RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
        _ => return Err(KmsError::key_usage("Not an RSA signing algorithm.")),
    })
}

fn rsa_verification(alg: SigningAlgorithm) -> KmsResult<&'static dyn signature::VerificationAlgorithm> {
    use SigningAlgorithm::*;
    Ok(match alg {
        RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        RsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(KmsError::key_usage("Not an RSA signing algorithm.")),
    })
}

fn ecdsa_signing(spec: KeySpec) -> Option<&'static signature::EcdsaSigningAlgorithm> {
    Some(match spec {
        KeySpec::EccNistP256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        KeySpec::EccNistP384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeySpec::EccNistP521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        KeySpec::EccSecgP256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        _ => return None,
    })
}

fn ecdsa_verification(spec: KeySpec) -> Option<&'static signature::EcdsaVerificationAlgorithm> {
    Some(match spec {
        KeySpec::EccNistP256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeySpec::EccNistP384 => &signature::ECDSA_P384_SHA384_ASN1,
        KeySpec::EccNistP521 => &signature::ECDSA_P521_SHA512_ASN1,
        KeySpec::EccSecgP256k1 => &signature::ECDSA_P256K1_SHA256_ASN1,
        _ => return None,
    })
}

fn ecdh(spec: KeySpec) -> Option<&'static agreement::Algorithm> {
    Some(match spec {
        KeySpec::EccNistP256 => &agreement::ECDH_P256,
        KeySpec::EccNistP384 => &agreement::ECDH_P384,
        KeySpec::EccNistP521 => &agreement::ECDH_P521,
        _ => return None,
    })
}

fn ml_dsa_signing(spec: KeySpec) -> Option<&'static signature::PqdsaSigningAlgorithm> {
    Some(match spec {
        KeySpec::MlDsa44 => &signature::ML_DSA_44_SIGNING,
        KeySpec::MlDsa65 => &signature::ML_DSA_65_SIGNING,
        KeySpec::MlDsa87 => &signature::ML_DSA_87_SIGNING,
        _ => return None,
    })
}

fn ml_dsa_verification(spec: KeySpec) -> Option<&'static signature::PqdsaVerificationAlgorithm> {
    Some(match spec {
        KeySpec::MlDsa44 => &signature::ML_DSA_44,
        KeySpec::MlDsa65 => &signature::ML_DSA_65,
        KeySpec::MlDsa87 => &signature::ML_DSA_87,
        _ => return None,
    })
}

fn ml_kem(spec: KeySpec) -> Option<&'static aws_lc_rs::kem::Algorithm> {
    Some(match spec {
        KeySpec::MlKem512 => &ML_KEM_512,
        KeySpec::MlKem768 => &ML_KEM_768,
        KeySpec::MlKem1024 => &ML_KEM_1024,
        _ => return None,
    })
}

/// Wraps a caller-supplied digest; its length must match the algorithm's hash.
fn import_digest(alg: SigningAlgorithm, message: &[u8]) -> KmsResult<digest::Digest> {
    let d = alg
        .digest()
        .ok_or_else(|| KmsError::validation("This signing algorithm does not accept MessageType DIGEST."))?;
    digest::Digest::import_less_safe(message, d).map_err(|_| {
        KmsError::validation(format!(
            "Digest is invalid length for algorithm {}: expected {} bytes.",
            alg.as_str(),
            d.output_len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_each_spec() {
        for (spec, alg) in [
            (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
            (KeySpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256),
            (KeySpec::EccNistEdwards25519, SigningAlgorithm::Ed25519Sha512),
            (KeySpec::MlDsa44, SigningAlgorithm::MlDsaShake256),
        ] {
            let m = Material::generate(spec).unwrap();
            let sig = m.sign(alg, b"hello", false).unwrap();
            assert!(m.verify(alg, b"hello", false, &sig).unwrap(), "{spec:?}");
            assert!(!m.verify(alg, b"hellp", false, &sig).unwrap(), "{spec:?}");
            assert!(!m.public_key_der().unwrap().is_empty());
        }
    }

    #[test]
    fn ecdh_and_kem() {
        let a = Material::generate(KeySpec::EccNistP256).unwrap();
        let b = Material::generate(KeySpec::EccNistP256).unwrap();
        let s1 = a.derive_shared_secret(&b.public_key_der().unwrap()).unwrap();
        let s2 = b.derive_shared_secret(&a.public_key_der().unwrap()).unwrap();
        assert_eq!(s1.expose(), s2.expose());
        let k = Material::generate(KeySpec::MlKem768).unwrap();
        let (ct, ss) = k.encapsulate().unwrap();
        assert_eq!(k.decapsulate(&ct).unwrap().expose(), ss.expose());
        assert_eq!(k.decapsulate(&ct[1..]).unwrap_err().kind(), "InvalidCiphertextException");
    }

    #[test]
    fn hmac_lengths_checked() {
        assert!(Material::from_secret(KeySpec::Hmac256, Secret::new(vec![0; 31])).is_err());
        let m = Material::generate(KeySpec::Hmac384).unwrap();
        let tag = m.mac(b"x").unwrap();
        assert_eq!(tag.len(), 48);
        assert!(m.verify_mac(b"x", &tag).unwrap());
    }
}
