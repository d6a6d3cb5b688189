//! Content suites (how the object body is encrypted) and the commitment policy check.
//!
//! spec: framework/algorithm-suites.md (S3EC rows), s3-encryption/key-commitment.md

use std::fmt;

pub use envelope::CommitmentPolicy;

use crate::error::{PolicyViolation, Result};

/// The content encryption of an object.
///
/// The CTR suites (0x0071, 0x0074) exist only to read ranges of GCM objects and are not content
/// suites an object can state, so they are not variants here.
///
/// ```
/// use envelope_s3::ContentSuite;
///
/// let suite = ContentSuite::from_cek_alg("115").unwrap();
/// assert_eq!(suite, ContentSuite::AesGcmCommitting);
/// assert_eq!(suite.id(), 0x0073);
/// assert!(suite.is_committing());
/// assert_eq!(ContentSuite::AesGcm.cek_alg(), "AES/GCM/NoPadding");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentSuite {
    /// 0x0070 ALG_AES_256_CBC_IV16_NO_KDF: legacy, unauthenticated; read only, with the legacy opt-in.
    AesCbcLegacy,
    /// 0x0072 ALG_AES_256_GCM_IV12_TAG16_NO_KDF: the V2 format; random 12-byte IV, no AAD.
    AesGcm,
    /// 0x0073 ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY: the V3 format (default); key commitment.
    AesGcmCommitting,
}

impl ContentSuite {
    /// Every content suite, legacy included.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// let writable: Vec<_> = ContentSuite::ALL.into_iter().filter(|suite| !suite.is_legacy()).collect();
    /// assert_eq!(writable, [ContentSuite::AesGcm, ContentSuite::AesGcmCommitting]);
    /// ```
    pub const ALL: [ContentSuite; 3] =
        [ContentSuite::AesCbcLegacy, ContentSuite::AesGcm, ContentSuite::AesGcmCommitting];

    /// The 16-bit suite id.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert_eq!(ContentSuite::AesCbcLegacy.id(), 0x0070);
    /// ```
    pub fn id(self) -> u16 {
        match self {
            ContentSuite::AesCbcLegacy => 0x0070,
            ContentSuite::AesGcm => 0x0072,
            ContentSuite::AesGcmCommitting => 0x0073,
        }
    }

    /// The value of `x-amz-cek-alg` (V1/V2) or `x-amz-c` (V3), also the `aws:x-amz-cek-alg`
    /// encryption-context value and the wrap binding of AES-GCM and RSA-OAEP wrapped keys.
    ///
    /// spec: data-format/content-metadata.md — `115` is the decimal id of 0x0073.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert_eq!(ContentSuite::AesGcmCommitting.cek_alg(), "115");
    /// ```
    pub fn cek_alg(self) -> &'static str {
        match self {
            ContentSuite::AesCbcLegacy => "AES/CBC/PKCS5Padding",
            ContentSuite::AesGcm => "AES/GCM/NoPadding",
            ContentSuite::AesGcmCommitting => "115",
        }
    }

    /// What AES-GCM and RSA-OAEP wraps bind the wrapped key to: `115` for the committing
    /// suite, `AES/GCM/NoPadding` for every other (CBC content included), as the Java client does.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert_eq!(ContentSuite::AesGcmCommitting.wrap_binding(), "115");
    /// assert_eq!(ContentSuite::AesCbcLegacy.wrap_binding(), "AES/GCM/NoPadding");
    /// ```
    pub fn wrap_binding(self) -> &'static str {
        match self {
            ContentSuite::AesGcmCommitting => "115",
            _ => "AES/GCM/NoPadding",
        }
    }

    /// The suite a `x-amz-cek-alg` / `x-amz-c` value names, if any.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert_eq!(ContentSuite::from_cek_alg("AES/CBC/PKCS5Padding"), Some(ContentSuite::AesCbcLegacy));
    /// assert_eq!(ContentSuite::from_cek_alg("AES/CTR/NoPadding"), None);
    /// ```
    pub fn from_cek_alg(value: &str) -> Option<ContentSuite> {
        ContentSuite::ALL.into_iter().find(|suite| suite.cek_alg() == value)
    }

    /// Whether the suite commits to its data key.
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert!(!ContentSuite::AesGcm.is_committing());
    /// ```
    pub fn is_committing(self) -> bool {
        self == ContentSuite::AesGcmCommitting
    }

    /// Whether the suite is legacy (unauthenticated; never written).
    ///
    /// ```
    /// use envelope_s3::ContentSuite;
    ///
    /// assert!(ContentSuite::AesCbcLegacy.is_legacy());
    /// ```
    pub fn is_legacy(self) -> bool {
        self == ContentSuite::AesCbcLegacy
    }

    /// The suite a commitment policy writes: V3 unless the policy forbids commitment.
    ///
    /// ```
    /// use envelope_s3::{CommitmentPolicy, ContentSuite};
    ///
    /// assert_eq!(ContentSuite::default_for(CommitmentPolicy::default()), ContentSuite::AesGcmCommitting);
    /// assert_eq!(ContentSuite::default_for(CommitmentPolicy::ForbidEncryptAllowDecrypt), ContentSuite::AesGcm);
    /// ```
    pub fn default_for(policy: CommitmentPolicy) -> ContentSuite {
        match policy {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => ContentSuite::AesGcm,
            _ => ContentSuite::AesGcmCommitting,
        }
    }
}

impl fmt::Display for ContentSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ContentSuite::AesCbcLegacy => "ALG_AES_256_CBC_IV16_NO_KDF",
            ContentSuite::AesGcm => "ALG_AES_256_GCM_IV12_TAG16_NO_KDF",
            ContentSuite::AesGcmCommitting => "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        };
        write!(f, "{:#06x} ({name})", self.id())
    }
}

/// Checks that `policy` allows writing `suite` (legacy suites are never written).
///
/// spec: key-commitment.md#commitment-policy, client.md#encryption-algorithm
pub(crate) fn check_encrypt(policy: CommitmentPolicy, suite: ContentSuite) -> Result<()> {
    let allowed = !suite.is_legacy()
        && match policy {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => !suite.is_committing(),
            _ => suite.is_committing(),
        };
    if allowed {
        Ok(())
    } else {
        Err(PolicyViolation::Commitment { policy: policy.name(), operation: "encryption", suite: suite.to_string() }
            .into())
    }
}

/// Checks that `policy` allows reading `suite`.
///
/// spec: decryption.md#key-commitment — checked before any content is decrypted.
pub(crate) fn check_decrypt(policy: CommitmentPolicy, suite: ContentSuite) -> Result<()> {
    if policy == CommitmentPolicy::RequireEncryptRequireDecrypt && !suite.is_committing() {
        return Err(PolicyViolation::Commitment {
            policy: policy.name(),
            operation: "decryption",
            suite: suite.to_string(),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_match_the_spec_table() {
        use CommitmentPolicy::*;
        use ContentSuite::*;
        assert!(check_encrypt(ForbidEncryptAllowDecrypt, AesGcm).is_ok());
        assert!(check_encrypt(ForbidEncryptAllowDecrypt, AesGcmCommitting).is_err());
        assert!(check_encrypt(RequireEncryptAllowDecrypt, AesGcm).is_err());
        assert!(check_encrypt(RequireEncryptRequireDecrypt, AesGcmCommitting).is_ok());
        for policy in [ForbidEncryptAllowDecrypt, RequireEncryptAllowDecrypt, RequireEncryptRequireDecrypt] {
            assert!(check_encrypt(policy, AesCbcLegacy).is_err(), "CBC is never written");
            assert!(check_decrypt(policy, AesGcmCommitting).is_ok());
        }
        assert!(check_decrypt(RequireEncryptAllowDecrypt, AesGcm).is_ok());
        assert!(check_decrypt(RequireEncryptRequireDecrypt, AesGcm).is_err());
        assert!(check_decrypt(RequireEncryptRequireDecrypt, AesCbcLegacy).is_err());
    }
}
