//! Key specs, usages and the algorithms each combination allows, as the KMS model names them.

use crate::error::{KmsError, KmsResult};

/// Declares a string-valued enum whose wire names are exactly the given strings.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in model order.
            #[cfg(test)]
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub(crate) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a wire name; unknown values are a `ValidationException` naming the field.
            pub(crate) fn parse(s: &str, field: &str) -> crate::error::KmsResult<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::error::KmsError::validation(format!(
                        "1 validation error detected: Value '{s}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s, stringify!($name)).map_err(|e| serde::de::Error::custom(e.message().to_owned()))
            }
        }
    };
}

wire_enum!(
    /// `KeySpec`.
    KeySpec {
        /// RSA 2048.
        Rsa2048 = "RSA_2048",
        /// RSA 3072.
        Rsa3072 = "RSA_3072",
        /// RSA 4096.
        Rsa4096 = "RSA_4096",
        /// NIST P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// AES-256-GCM.
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// HMAC with SHA-224.
        Hmac224 = "HMAC_224",
        /// HMAC with SHA-256.
        Hmac256 = "HMAC_256",
        /// HMAC with SHA-384.
        Hmac384 = "HMAC_384",
        /// HMAC with SHA-512.
        Hmac512 = "HMAC_512",
        /// SM2 (China Regions only; not offered here).
        Sm2 = "SM2",
        /// ML-DSA-44.
        MlDsa44 = "ML_DSA_44",
        /// ML-DSA-65.
        MlDsa65 = "ML_DSA_65",
        /// ML-DSA-87.
        MlDsa87 = "ML_DSA_87",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
);

wire_enum!(
    /// `KeyUsageType`.
    KeyUsage {
        /// Sign and verify.
        SignVerify = "SIGN_VERIFY",
        /// Encrypt and decrypt.
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        /// HMAC.
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        /// ECDH.
        KeyAgreement = "KEY_AGREEMENT",
        /// ML-KEM.
        EncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE",
    }
);

wire_enum!(
    /// `OriginType`.
    Origin {
        /// KMS generated the material.
        AwsKms = "AWS_KMS",
        /// Imported material.
        External = "EXTERNAL",
        /// CloudHSM key store.
        AwsCloudHsm = "AWS_CLOUDHSM",
        /// External key store.
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
);

wire_enum!(
    /// `KeyState`.
    KeyState {
        /// Being created.
        Creating = "Creating",
        /// Usable.
        Enabled = "Enabled",
        /// Disabled by the owner.
        Disabled = "Disabled",
        /// Scheduled for deletion.
        PendingDeletion = "PendingDeletion",
        /// EXTERNAL key without material.
        PendingImport = "PendingImport",
        /// Multi-Region primary waiting for its replicas to be deleted.
        PendingReplicaDeletion = "PendingReplicaDeletion",
        /// Custom key store disconnected.
        Unavailable = "Unavailable",
        /// Multi-Region key being updated.
        Updating = "Updating",
    }
);

wire_enum!(
    /// `SigningAlgorithmSpec`.
    SigningAlgorithm {
        /// RSASSA-PSS SHA-256.
        RsaPssSha256 = "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS SHA-384.
        RsaPssSha384 = "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS SHA-512.
        RsaPssSha512 = "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 SHA-256.
        RsaPkcs1Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 SHA-384.
        RsaPkcs1Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 SHA-512.
        RsaPkcs1Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA SHA-256.
        EcdsaSha256 = "ECDSA_SHA_256",
        /// ECDSA SHA-384.
        EcdsaSha384 = "ECDSA_SHA_384",
        /// ECDSA SHA-512.
        EcdsaSha512 = "ECDSA_SHA_512",
        /// SM2DSA.
        Sm2Dsa = "SM2DSA",
        /// ML-DSA.
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        /// Ed25519 (pure).
        Ed25519Sha512 = "ED25519_SHA_512",
        /// Ed25519ph.
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
);

wire_enum!(
    /// `EncryptionAlgorithmSpec`.
    EncryptionAlgorithm {
        /// AES-256-GCM under a symmetric key.
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSA-OAEP with SHA-1.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSA-OAEP with SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// SM2 public-key encryption.
        Sm2Pke = "SM2PKE",
    }
);

wire_enum!(
    /// `MacAlgorithmSpec`.
    MacAlgorithm {
        /// HMAC-SHA-224.
        HmacSha224 = "HMAC_SHA_224",
        /// HMAC-SHA-256.
        HmacSha256 = "HMAC_SHA_256",
        /// HMAC-SHA-384.
        HmacSha384 = "HMAC_SHA_384",
        /// HMAC-SHA-512.
        HmacSha512 = "HMAC_SHA_512",
    }
);

wire_enum!(
    /// `DataKeyPairSpec`.
    DataKeyPairSpec {
        /// RSA 2048.
        Rsa2048 = "RSA_2048",
        /// RSA 3072.
        Rsa3072 = "RSA_3072",
        /// RSA 4096.
        Rsa4096 = "RSA_4096",
        /// P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// P-521.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// SM2.
        Sm2 = "SM2",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
);

impl DataKeyPairSpec {
    /// The key spec with the same name.
    pub(crate) fn key_spec(self) -> KeySpec {
        // Every DataKeyPairSpec name is also a KeySpec name.
        KeySpec::parse(self.as_str(), "KeyPairSpec").unwrap_or(KeySpec::Sm2)
    }
}

impl KeySpec {
    /// True for RSA specs.
    pub(crate) fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }
    /// True for the NIST ECC curves and secp256k1.
    pub(crate) fn is_ecc(self) -> bool {
        matches!(self, KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 | KeySpec::EccSecgP256k1)
    }
    /// True for HMAC specs.
    pub(crate) fn is_hmac(self) -> bool {
        matches!(self, KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512)
    }
    /// True for keys with a public half.
    pub(crate) fn is_asymmetric(self) -> bool {
        !(self == KeySpec::SymmetricDefault || self.is_hmac())
    }

    /// The usages KMS allows for this spec; the first is the default when KeyUsage is omitted.
    pub(crate) fn allowed_usages(self) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match self {
            KeySpec::SymmetricDefault => &[EncryptDecrypt],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[EncryptDecrypt, SignVerify],
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => &[SignVerify, KeyAgreement],
            KeySpec::EccSecgP256k1 | KeySpec::EccNistEdwards25519 => &[SignVerify],
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => &[GenerateVerifyMac],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[SignVerify],
            KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => &[EncapsulateDecapsulate],
            KeySpec::Sm2 => &[SignVerify, EncryptDecrypt, KeyAgreement],
        }
    }

    /// Checks a spec/usage pair for CreateKey.
    pub(crate) fn check_usage(self, usage: KeyUsage) -> KmsResult<()> {
        if self.allowed_usages().contains(&usage) {
            Ok(())
        } else {
            Err(KmsError::validation(format!(
                "KeyUsage {} is not compatible with KeySpec {}",
                usage.as_str(),
                self.as_str()
            )))
        }
    }

    /// Signing algorithms for a SIGN_VERIFY key of this spec.
    pub(crate) fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm::*;
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[RsaPssSha256, RsaPssSha384, RsaPssSha512, RsaPkcs1Sha256, RsaPkcs1Sha384, RsaPkcs1Sha512]
            }
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
            KeySpec::EccNistP384 => &[EcdsaSha384],
            KeySpec::EccNistP521 => &[EcdsaSha512],
            // aws-lc-rs offers pure Ed25519 only, so ED25519_PH_SHA_512 is not listed.
            KeySpec::EccNistEdwards25519 => &[Ed25519Sha512],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
            _ => &[],
        }
    }

    /// Encryption algorithms for an ENCRYPT_DECRYPT key of this spec.
    pub(crate) fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        match self {
            KeySpec::SymmetricDefault => &[EncryptionAlgorithm::SymmetricDefault],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[EncryptionAlgorithm::RsaesOaepSha1, EncryptionAlgorithm::RsaesOaepSha256]
            }
            _ => &[],
        }
    }

    /// The MAC algorithm of an HMAC spec.
    pub(crate) fn mac_algorithm(self) -> Option<MacAlgorithm> {
        match self {
            KeySpec::Hmac224 => Some(MacAlgorithm::HmacSha224),
            KeySpec::Hmac256 => Some(MacAlgorithm::HmacSha256),
            KeySpec::Hmac384 => Some(MacAlgorithm::HmacSha384),
            KeySpec::Hmac512 => Some(MacAlgorithm::HmacSha512),
            _ => None,
        }
    }

    /// RSA modulus size in bytes.
    pub(crate) fn rsa_bytes(self) -> usize {
        match self {
            KeySpec::Rsa3072 => 384,
            KeySpec::Rsa4096 => 512,
            _ => 256,
        }
    }
}

impl SigningAlgorithm {
    /// The digest a DIGEST-type message must come from, if the algorithm uses one.
    pub(crate) fn digest(self) -> Option<&'static aws_lc_rs::digest::Algorithm> {
        use SigningAlgorithm::*;
        use aws_lc_rs::digest::{SHA256, SHA384, SHA512};
        match self {
            RsaPssSha256 | RsaPkcs1Sha256 | EcdsaSha256 => Some(&SHA256),
            RsaPssSha384 | RsaPkcs1Sha384 | EcdsaSha384 => Some(&SHA384),
            RsaPssSha512 | RsaPkcs1Sha512 | EcdsaSha512 | Ed25519PhSha512 => Some(&SHA512),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        macro_rules! round_trip {
            ($($name:ident),+) => {$(
                for value in $name::ALL {
                    assert_eq!($name::parse(value.as_str(), stringify!($name)).unwrap(), *value);
                }
            )+};
        }
        round_trip!(
            KeySpec,
            KeyUsage,
            Origin,
            KeyState,
            SigningAlgorithm,
            EncryptionAlgorithm,
            MacAlgorithm,
            DataKeyPairSpec
        );
        assert_eq!(KeySpec::parse("AES", "KeySpec").unwrap_err().kind(), "ValidationException");
        assert!(KeySpec::EccSecgP256k1.check_usage(KeyUsage::KeyAgreement).is_err());
        assert!(KeySpec::Rsa2048.check_usage(KeyUsage::SignVerify).is_ok());
    }
}
