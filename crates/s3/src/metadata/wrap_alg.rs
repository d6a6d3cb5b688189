//! Wrapping algorithms: how the data key is encrypted, with their V2 names and V3 codes.

use std::fmt;

/// The algorithm that wrapped the object's data key.
///
/// spec: data-format/content-metadata.md — `x-amz-wrap-alg` (V2) names, `x-amz-w` (V3) codes.
///
/// ```
/// use envelope_s3::WrapAlgorithm;
///
/// assert_eq!(WrapAlgorithm::from_v3_code("12"), Some(WrapAlgorithm::KmsContext));
/// assert_eq!(WrapAlgorithm::KmsContext.v2_name(), "kms+context");
/// assert_eq!(WrapAlgorithm::from_v2_name("AESWrap"), Some(WrapAlgorithm::AesWrapLegacy));
/// assert_eq!(WrapAlgorithm::AesWrapLegacy.v3_code(), None, "legacy wraps have no V3 code");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WrapAlgorithm {
    /// `AES/GCM` (`02`): AES-GCM under a raw AES key.
    AesGcm,
    /// `kms+context` (`12`): AWS KMS with an encryption context.
    KmsContext,
    /// `RSA-OAEP-SHA1` (`22`): RSA-OAEP with SHA-1 and MGF1-SHA-1.
    RsaOaepSha1,
    /// `kms`: AWS KMS without the reserved context key (legacy, read only).
    KmsLegacy,
    /// `AESWrap`: RFC 3394 key wrap (legacy, read only).
    AesWrapLegacy,
    /// `RSA/ECB/OAEPWithSHA-256AndMGF1Padding` (legacy, read only).
    RsaOaepSha256Legacy,
    /// `RSA`: RSA PKCS #1 v1.5 (legacy, read only; also what V1 objects with a wrapped key longer
    /// than 48 bytes and no recorded algorithm use).
    RsaPkcs1Legacy,
    /// `AES`: AES-ECB with PKCS #5 padding under a raw AES key (legacy V1 "encryption only"
    /// objects, which record no algorithm; read only).
    AesEcbLegacy,
}

impl WrapAlgorithm {
    const ALL: [WrapAlgorithm; 8] = [
        WrapAlgorithm::AesGcm,
        WrapAlgorithm::KmsContext,
        WrapAlgorithm::RsaOaepSha1,
        WrapAlgorithm::KmsLegacy,
        WrapAlgorithm::AesWrapLegacy,
        WrapAlgorithm::RsaOaepSha256Legacy,
        WrapAlgorithm::RsaPkcs1Legacy,
        WrapAlgorithm::AesEcbLegacy,
    ];

    /// The `x-amz-wrap-alg` value.
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert_eq!(WrapAlgorithm::RsaOaepSha1.v2_name(), "RSA-OAEP-SHA1");
    /// ```
    pub fn v2_name(self) -> &'static str {
        match self {
            WrapAlgorithm::AesGcm => "AES/GCM",
            WrapAlgorithm::KmsContext => "kms+context",
            WrapAlgorithm::RsaOaepSha1 => "RSA-OAEP-SHA1",
            WrapAlgorithm::KmsLegacy => "kms",
            WrapAlgorithm::AesWrapLegacy => "AESWrap",
            WrapAlgorithm::RsaOaepSha256Legacy => "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
            WrapAlgorithm::RsaPkcs1Legacy => "RSA",
            WrapAlgorithm::AesEcbLegacy => "AES",
        }
    }

    /// The `x-amz-w` code; legacy algorithms have none (they cannot be written as V3).
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert_eq!(WrapAlgorithm::AesGcm.v3_code(), Some("02"));
    /// ```
    pub fn v3_code(self) -> Option<&'static str> {
        // spec: data-format/content-metadata.md — 02, 12 and 22 translate to and from these names.
        match self {
            WrapAlgorithm::AesGcm => Some("02"),
            WrapAlgorithm::KmsContext => Some("12"),
            WrapAlgorithm::RsaOaepSha1 => Some("22"),
            _ => None,
        }
    }

    /// The algorithm an `x-amz-wrap-alg` value names.
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert_eq!(WrapAlgorithm::from_v2_name("kms"), Some(WrapAlgorithm::KmsLegacy));
    /// assert_eq!(WrapAlgorithm::from_v2_name("KMS"), None);
    /// ```
    pub fn from_v2_name(name: &str) -> Option<WrapAlgorithm> {
        WrapAlgorithm::ALL.into_iter().find(|wrap| wrap.v2_name() == name)
    }

    /// The algorithm an `x-amz-w` code names.
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert_eq!(WrapAlgorithm::from_v3_code("22"), Some(WrapAlgorithm::RsaOaepSha1));
    /// assert_eq!(WrapAlgorithm::from_v3_code("kms+context"), None, "V3 uses codes only");
    /// ```
    pub fn from_v3_code(code: &str) -> Option<WrapAlgorithm> {
        WrapAlgorithm::ALL.into_iter().find(|wrap| wrap.v3_code() == Some(code))
    }

    /// Whether reading needs the legacy wrapping opt-in.
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert!(WrapAlgorithm::KmsLegacy.is_legacy());
    /// assert!(!WrapAlgorithm::KmsContext.is_legacy());
    /// ```
    pub fn is_legacy(self) -> bool {
        self.v3_code().is_none()
    }

    /// Whether the key description is a KMS encryption context (else a material description).
    ///
    /// ```
    /// use envelope_s3::WrapAlgorithm;
    ///
    /// assert!(WrapAlgorithm::KmsContext.uses_kms());
    /// assert!(!WrapAlgorithm::AesGcm.uses_kms());
    /// ```
    pub fn uses_kms(self) -> bool {
        matches!(self, WrapAlgorithm::KmsContext | WrapAlgorithm::KmsLegacy)
    }
}

impl fmt::Display for WrapAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.v2_name())
    }
}
