//! Algorithm suites and commitment policies.
//!
//! spec: framework/algorithm-suites.md — the eleven ESDK message suites and what each one implies
//! (message format version, data key length, key derivation, key commitment, signature), and the
//! two DB-ESDK suites (0x6700, 0x6701): materials for them pass through keyrings and materials
//! managers (for a DynamoDB item encryptor), but no ESDK message is written or read with them.

use std::fmt;

/// How a suite turns the data key into the content encryption key.
///
/// ```
/// use envelope::suite::KeyDerivation;
/// use envelope::AlgorithmSuite;
///
/// assert_eq!(AlgorithmSuite::DEFAULT.key_derivation(), KeyDerivation::HkdfSha512);
/// assert_eq!(AlgorithmSuite::Aes256GcmIv12Tag16NoKdf.key_derivation(), KeyDerivation::Identity);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDerivation {
    /// The data key is used as the encryption key (legacy suites only).
    Identity,
    /// HKDF with SHA-256, v1 info = suite id ‖ message id.
    HkdfSha256,
    /// HKDF with SHA-384, v1 info = suite id ‖ message id.
    HkdfSha384,
    /// HKDF with SHA-512: salted with the 32-byte message id in ESDK v2 messages (with
    /// commitment); the DB-ESDK suites use it unsalted, with their own info strings.
    HkdfSha512,
}

/// The footer signature a suite requires, if any.
///
/// ```
/// use envelope::suite::SignatureAlgorithm;
/// use envelope::AlgorithmSuite;
///
/// assert_eq!(AlgorithmSuite::DEFAULT.signature(), Some(SignatureAlgorithm::EcdsaP384Sha384));
/// assert_eq!(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.signature(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256Sha256,
    /// ECDSA over P-384 with SHA-384.
    EcdsaP384Sha384,
}

/// The symmetric signature a suite requires, if any: one HMAC per encrypted data key, keyed by a
/// key only that EDK's recipients can derive (the DB-ESDK suites).
///
/// ```
/// use envelope::suite::SymmetricSignatureAlgorithm;
/// use envelope::AlgorithmSuite;
///
/// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
/// assert_eq!(suite.symmetric_signature(), Some(SymmetricSignatureAlgorithm::HmacSha384));
/// assert_eq!(AlgorithmSuite::DEFAULT.symmetric_signature(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SymmetricSignatureAlgorithm {
    /// HMAC with SHA-384, under a 32-byte key.
    HmacSha384,
}

/// How keyrings must wrap the data key under a suite.
///
/// spec: framework/algorithm-suites.md#supported-edk-wrapping-algorithms
///
/// ```
/// use envelope::suite::EdkWrapping;
/// use envelope::AlgorithmSuite;
///
/// assert_eq!(AlgorithmSuite::DEFAULT.edk_wrapping(), EdkWrapping::Direct);
/// for suite in AlgorithmSuite::DB_ESDK {
///     assert_eq!(suite.edk_wrapping(), EdkWrapping::Intermediate);
/// }
/// ```
// Not `non_exhaustive`: a keyring must decide what to do with every scheme, so a new one is a
// breaking change that each keyring's match reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdkWrapping {
    /// The keyring wraps the data key itself (every ESDK suite).
    Direct,
    /// The keyring wraps a fresh intermediate key per EDK; the data key is encrypted under a key
    /// derived from it, and a second derived key is that EDK's symmetric signing key (the suites
    /// with a symmetric signature).
    Intermediate,
}

/// The message format version a suite writes.
///
/// ```
/// use envelope::suite::MessageFormat;
/// use envelope::AlgorithmSuite;
///
/// // Committing suites write v2 messages; all others v1.
/// assert_eq!(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.message_format(), MessageFormat::V2);
/// assert_eq!(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384.message_format(), MessageFormat::V1);
/// assert!(MessageFormat::V1 < MessageFormat::V2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MessageFormat {
    /// Version 1: 16-byte message id, header IV stored, no commitment.
    V1,
    /// Version 2: 32-byte message id, commitment key in the header.
    V2,
}

impl MessageFormat {
    /// The byte that opens a header of this version.
    ///
    /// ```
    /// use envelope::suite::MessageFormat;
    ///
    /// assert_eq!(MessageFormat::V1.version_byte(), 0x01);
    /// assert_eq!(MessageFormat::V2.version_byte(), 0x02);
    /// ```
    pub fn version_byte(self) -> u8 {
        match self {
            MessageFormat::V1 => 1,
            MessageFormat::V2 => 2,
        }
    }

    /// Length of the message id in bytes.
    ///
    /// ```
    /// use envelope::suite::MessageFormat;
    ///
    /// assert_eq!(MessageFormat::V1.message_id_len(), 16);
    /// assert_eq!(MessageFormat::V2.message_id_len(), 32);
    /// ```
    pub fn message_id_len(self) -> usize {
        match self {
            MessageFormat::V1 => 16,
            MessageFormat::V2 => 32,
        }
    }
}

/// An algorithm suite: one of the eleven AWS Encryption SDK message suites ([`ESDK`](Self::ESDK)),
/// or one of the two DB-ESDK suites ([`DB_ESDK`](Self::DB_ESDK)).
///
/// Every ESDK suite can be written and read; the commitment policy decides which ones a client
/// accepts. The DB-ESDK suites exist for materials: keyrings and materials managers build them
/// (with intermediate key wrapping and symmetric signing keys) for a DynamoDB item encryptor,
/// while every message path refuses them with a typed error ([`is_esdk_message_suite`](Self::is_esdk_message_suite)).
///
/// ```
/// use envelope::AlgorithmSuite;
///
/// let suite = AlgorithmSuite::from_id(0x0478).expect("an ESDK suite id");
/// assert_eq!(suite, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// assert!(suite.is_committing() && !suite.is_signing());
/// assert_eq!(suite.to_string(), "0x0478 (ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlgorithmSuite {
    /// 0x0014: AES-128-GCM, no key derivation.
    Aes128GcmIv12Tag16NoKdf,
    /// 0x0046: AES-192-GCM, no key derivation.
    Aes192GcmIv12Tag16NoKdf,
    /// 0x0078: AES-256-GCM, no key derivation.
    Aes256GcmIv12Tag16NoKdf,
    /// 0x0114: AES-128-GCM, HKDF-SHA256.
    Aes128GcmIv12Tag16HkdfSha256,
    /// 0x0146: AES-192-GCM, HKDF-SHA256.
    Aes192GcmIv12Tag16HkdfSha256,
    /// 0x0178: AES-256-GCM, HKDF-SHA256.
    Aes256GcmIv12Tag16HkdfSha256,
    /// 0x0214: AES-128-GCM, HKDF-SHA256, ECDSA P-256.
    Aes128GcmIv12Tag16HkdfSha256EcdsaP256,
    /// 0x0346: AES-192-GCM, HKDF-SHA384, ECDSA P-384.
    Aes192GcmIv12Tag16HkdfSha384EcdsaP384,
    /// 0x0378: AES-256-GCM, HKDF-SHA384, ECDSA P-384.
    Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
    /// 0x0478: AES-256-GCM, HKDF-SHA512, key commitment.
    Aes256GcmHkdfSha512CommitKey,
    /// 0x0578: AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 (the default).
    Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    /// 0x6700 (DB-ESDK): AES-256-GCM, HKDF-SHA512, key commitment, HMAC-SHA384 per EDK.
    DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
    /// 0x6701 (DB-ESDK, its default): AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384,
    /// HMAC-SHA384 per EDK.
    DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
}

impl AlgorithmSuite {
    /// Every ESDK message suite, in id order.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy};
    ///
    /// // The suites a client under the default policy may write.
    /// let writable: Vec<u16> = AlgorithmSuite::ESDK
    ///     .into_iter()
    ///     .filter(|suite| CommitmentPolicy::default().allows_encrypt(*suite))
    ///     .map(AlgorithmSuite::id)
    ///     .collect();
    /// assert_eq!(writable, [0x0478, 0x0578]);
    /// ```
    pub const ESDK: [AlgorithmSuite; 11] = [
        AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes192GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes256GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256,
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384,
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ];

    /// The two DB-ESDK suites (materials only: never in an ESDK message).
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// let ids: Vec<u16> = AlgorithmSuite::DB_ESDK.into_iter().map(AlgorithmSuite::id).collect();
    /// assert_eq!(ids, [0x6700, 0x6701]);
    /// assert!(AlgorithmSuite::DB_ESDK.into_iter().all(|suite| !suite.is_esdk_message_suite()));
    /// ```
    pub const DB_ESDK: [AlgorithmSuite; 2] = [
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
    ];

    /// Every suite: the ESDK message suites, then the DB-ESDK suites.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::ALL.len(), AlgorithmSuite::ESDK.len() + AlgorithmSuite::DB_ESDK.len());
    /// ```
    pub const ALL: [AlgorithmSuite; 13] = [
        AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes192GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes256GcmIv12Tag16NoKdf,
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256,
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256,
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384,
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
    ];

    /// The default suite: committing, signed (0x0578).
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// let suite = AlgorithmSuite::DEFAULT;
    /// assert!(suite.is_committing() && suite.is_signing());
    /// assert_eq!(suite.id(), 0x0578);
    /// ```
    pub const DEFAULT: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384;

    /// The two-byte id written in the header.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::DEFAULT.id(), 0x0578);
    /// assert_eq!(AlgorithmSuite::Aes128GcmIv12Tag16NoKdf.id(), 0x0014);
    /// ```
    pub fn id(self) -> u16 {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16NoKdf => 0x0014,
            Aes192GcmIv12Tag16NoKdf => 0x0046,
            Aes256GcmIv12Tag16NoKdf => 0x0078,
            Aes128GcmIv12Tag16HkdfSha256 => 0x0114,
            Aes192GcmIv12Tag16HkdfSha256 => 0x0146,
            Aes256GcmIv12Tag16HkdfSha256 => 0x0178,
            Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => 0x0214,
            Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => 0x0346,
            Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => 0x0378,
            Aes256GcmHkdfSha512CommitKey => 0x0478,
            Aes256GcmHkdfSha512CommitKeyEcdsaP384 => 0x0578,
            DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => 0x6700,
            DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => 0x6701,
        }
    }

    /// The suite with this id (ESDK or DB-ESDK; check [`is_esdk_message_suite`](Self::is_esdk_message_suite)
    /// before using it for a message).
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::from_id(0x0378), Some(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384));
    /// assert_eq!(AlgorithmSuite::from_id(0x6701), Some(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384));
    /// assert_eq!(AlgorithmSuite::from_id(0x0001), None);
    /// for suite in AlgorithmSuite::ALL {
    ///     assert_eq!(AlgorithmSuite::from_id(suite.id()), Some(suite));
    /// }
    /// ```
    pub fn from_id(id: u16) -> Option<AlgorithmSuite> {
        AlgorithmSuite::ALL.into_iter().find(|suite| suite.id() == id)
    }

    /// The official name, e.g. `ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384`.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.name(), "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY");
    /// ```
    pub fn name(self) -> &'static str {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16NoKdf => "ALG_AES_128_GCM_IV12_TAG16_NO_KDF",
            Aes192GcmIv12Tag16NoKdf => "ALG_AES_192_GCM_IV12_TAG16_NO_KDF",
            Aes256GcmIv12Tag16NoKdf => "ALG_AES_256_GCM_IV12_TAG16_NO_KDF",
            Aes128GcmIv12Tag16HkdfSha256 => "ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256",
            Aes192GcmIv12Tag16HkdfSha256 => "ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA256",
            Aes256GcmIv12Tag16HkdfSha256 => "ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA256",
            Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => "ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256",
            Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => "ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
            Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => "ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
            Aes256GcmHkdfSha512CommitKey => "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
            Aes256GcmHkdfSha512CommitKeyEcdsaP384 => "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
            DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => {
                "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"
            }
            DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => {
                "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384"
            }
        }
    }

    /// The message format version this suite writes.
    ///
    /// The DB-ESDK suites write no ESDK message (every message path refuses them first); they
    /// report `V2`, whose properties their own item format shares: a 32-byte message id and a
    /// key commitment.
    ///
    /// ```
    /// use envelope::suite::MessageFormat;
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::DEFAULT.message_format(), MessageFormat::V2);
    /// assert_eq!(AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256.message_format(), MessageFormat::V1);
    /// ```
    pub fn message_format(self) -> MessageFormat {
        if self.is_committing() { MessageFormat::V2 } else { MessageFormat::V1 }
    }

    /// Length of the data key (the KDF input), which is also the AES key length, in bytes.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256.data_key_len(), 16);
    /// assert_eq!(AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384.data_key_len(), 24);
    /// assert_eq!(AlgorithmSuite::DEFAULT.data_key_len(), 32);
    /// ```
    pub fn data_key_len(self) -> usize {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16NoKdf | Aes128GcmIv12Tag16HkdfSha256 | Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => 16,
            Aes192GcmIv12Tag16NoKdf | Aes192GcmIv12Tag16HkdfSha256 | Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => 24,
            Aes256GcmIv12Tag16NoKdf
            | Aes256GcmIv12Tag16HkdfSha256
            | Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmHkdfSha512CommitKey
            | Aes256GcmHkdfSha512CommitKeyEcdsaP384
            | DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384
            | DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => 32,
        }
    }

    /// Length of the AES-GCM content key in bytes (equal to the data key length for every suite).
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// for suite in AlgorithmSuite::ALL {
    ///     assert_eq!(suite.encryption_key_len(), suite.data_key_len());
    /// }
    /// ```
    pub fn encryption_key_len(self) -> usize {
        self.data_key_len()
    }

    /// How the content key is derived from the data key.
    ///
    /// ```
    /// use envelope::suite::KeyDerivation;
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256.key_derivation(), KeyDerivation::HkdfSha256);
    /// assert_eq!(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384.key_derivation(), KeyDerivation::HkdfSha384);
    /// ```
    pub fn key_derivation(self) -> KeyDerivation {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16NoKdf | Aes192GcmIv12Tag16NoKdf | Aes256GcmIv12Tag16NoKdf => KeyDerivation::Identity,
            Aes128GcmIv12Tag16HkdfSha256
            | Aes192GcmIv12Tag16HkdfSha256
            | Aes256GcmIv12Tag16HkdfSha256
            | Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => KeyDerivation::HkdfSha256,
            Aes192GcmIv12Tag16HkdfSha384EcdsaP384 | Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => KeyDerivation::HkdfSha384,
            Aes256GcmHkdfSha512CommitKey
            | Aes256GcmHkdfSha512CommitKeyEcdsaP384
            | DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384
            | DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => KeyDerivation::HkdfSha512,
        }
    }

    /// Whether the suite commits to its key (v2 messages carry a 32-byte commitment).
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// let committing: Vec<u16> =
    ///     AlgorithmSuite::ALL.into_iter().filter(|suite| suite.is_committing()).map(AlgorithmSuite::id).collect();
    /// assert_eq!(committing, [0x0478, 0x0578, 0x6700, 0x6701]);
    /// ```
    pub fn is_committing(self) -> bool {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16NoKdf
            | Aes192GcmIv12Tag16NoKdf
            | Aes256GcmIv12Tag16NoKdf
            | Aes128GcmIv12Tag16HkdfSha256
            | Aes192GcmIv12Tag16HkdfSha256
            | Aes256GcmIv12Tag16HkdfSha256
            | Aes128GcmIv12Tag16HkdfSha256EcdsaP256
            | Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => false,
            Aes256GcmHkdfSha512CommitKey
            | Aes256GcmHkdfSha512CommitKeyEcdsaP384
            | DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384
            | DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => true,
        }
    }

    /// Whether ESDK messages may use this suite: true for the eleven ESDK suites, false for the
    /// DB-ESDK suites, which every message path (encrypt, a header naming them, the commitment
    /// policies) refuses with a typed error.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// assert!(AlgorithmSuite::ESDK.into_iter().all(AlgorithmSuite::is_esdk_message_suite));
    /// assert!(!AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384.is_esdk_message_suite());
    /// ```
    pub fn is_esdk_message_suite(self) -> bool {
        self.symmetric_signature().is_none()
    }

    /// The symmetric signature algorithm, if the suite has one (the DB-ESDK suites).
    ///
    /// ```
    /// use envelope::suite::SymmetricSignatureAlgorithm;
    /// use envelope::AlgorithmSuite;
    ///
    /// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;
    /// assert_eq!(suite.symmetric_signature(), Some(SymmetricSignatureAlgorithm::HmacSha384));
    /// assert!(suite.is_signing(), "and an ECDSA signature too");
    /// ```
    pub fn symmetric_signature(self) -> Option<SymmetricSignatureAlgorithm> {
        use AlgorithmSuite::*;
        match self {
            DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384
            | DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => Some(SymmetricSignatureAlgorithm::HmacSha384),
            Aes128GcmIv12Tag16NoKdf
            | Aes192GcmIv12Tag16NoKdf
            | Aes256GcmIv12Tag16NoKdf
            | Aes128GcmIv12Tag16HkdfSha256
            | Aes192GcmIv12Tag16HkdfSha256
            | Aes256GcmIv12Tag16HkdfSha256
            | Aes128GcmIv12Tag16HkdfSha256EcdsaP256
            | Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmHkdfSha512CommitKey
            | Aes256GcmHkdfSha512CommitKeyEcdsaP384 => None,
        }
    }

    /// How keyrings wrap the data key: intermediate key wrapping exactly for the suites with a
    /// symmetric signature (spec: an algorithm suite with a symmetric signature algorithm MUST use
    /// intermediate key wrapping).
    ///
    /// ```
    /// use envelope::suite::EdkWrapping;
    /// use envelope::AlgorithmSuite;
    ///
    /// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    /// assert_eq!(suite.edk_wrapping(), EdkWrapping::Intermediate);
    /// assert_eq!(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.edk_wrapping(), EdkWrapping::Direct);
    /// ```
    pub fn edk_wrapping(self) -> EdkWrapping {
        match self.symmetric_signature() {
            Some(_) => EdkWrapping::Intermediate,
            None => EdkWrapping::Direct,
        }
    }

    /// The footer signature algorithm, if the suite signs.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::AlgorithmSuite;
    ///
    /// assert_eq!(
    ///     AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256.signature(),
    ///     Some(SignatureAlgorithm::EcdsaP256Sha256)
    /// );
    /// assert_eq!(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256.signature(), None);
    /// ```
    pub fn signature(self) -> Option<SignatureAlgorithm> {
        use AlgorithmSuite::*;
        match self {
            Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => Some(SignatureAlgorithm::EcdsaP256Sha256),
            Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Aes256GcmHkdfSha512CommitKeyEcdsaP384
            | DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => Some(SignatureAlgorithm::EcdsaP384Sha384),
            Aes128GcmIv12Tag16NoKdf
            | Aes192GcmIv12Tag16NoKdf
            | Aes256GcmIv12Tag16NoKdf
            | Aes128GcmIv12Tag16HkdfSha256
            | Aes192GcmIv12Tag16HkdfSha256
            | Aes256GcmIv12Tag16HkdfSha256
            | Aes256GcmHkdfSha512CommitKey
            | DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384 => None,
        }
    }

    /// Whether messages of this suite end with a signature footer.
    ///
    /// ```
    /// use envelope::AlgorithmSuite;
    ///
    /// // A reader that must release plaintext before the footer is checked wants an unsigned suite.
    /// assert!(AlgorithmSuite::DEFAULT.is_signing());
    /// assert!(!AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.is_signing());
    /// ```
    pub fn is_signing(self) -> bool {
        self.signature().is_some()
    }
}

impl fmt::Display for AlgorithmSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04X} ({})", self.id(), self.name())
    }
}

/// Which suites a client may write and read.
///
/// spec: framework/commitment-policy.md
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{AlgorithmSuite, Client, CommitmentPolicy, EncryptOptions, Error};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// // A client that must still write messages that 1.x SDKs can read.
/// let keyring = RawAesKeyring::new("my-app", "key-1", vec![7; 32])?;
/// let client = Client::with_keyring(keyring).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt);
/// let client = BlockingClient::new(client);
///
/// let legacy = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256);
/// assert!(client.encrypt(b"for an old reader", &legacy).is_ok());
///
/// // Under this policy the committing suites are refused on encrypt.
/// let committing = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// assert!(matches!(client.encrypt(b"x", &committing), Err(Error::Policy(_))));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CommitmentPolicy {
    /// Encrypt only with non-committing suites; decrypt anything (for readers of 1.x SDKs).
    ForbidEncryptAllowDecrypt,
    /// Encrypt only with committing suites; decrypt anything (for migrations).
    RequireEncryptAllowDecrypt,
    /// Encrypt and decrypt only committing suites (the default).
    #[default]
    RequireEncryptRequireDecrypt,
    /// The DB-ESDK's only policy: materials for the DB-ESDK suites alone, both ways. A DynamoDB
    /// item encryptor passes it to its materials manager; an ESDK client refuses it.
    DbeRequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// The official name, e.g. `REQUIRE_ENCRYPT_REQUIRE_DECRYPT` (the DB-ESDK policy with its
    /// format prefix, as the spec writes it: `DBE.REQUIRE_ENCRYPT_REQUIRE_DECRYPT`).
    ///
    /// ```
    /// use envelope::CommitmentPolicy;
    ///
    /// assert_eq!(CommitmentPolicy::default().name(), "REQUIRE_ENCRYPT_REQUIRE_DECRYPT");
    /// assert_eq!(CommitmentPolicy::ForbidEncryptAllowDecrypt.to_string(), "FORBID_ENCRYPT_ALLOW_DECRYPT");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => "FORBID_ENCRYPT_ALLOW_DECRYPT",
            CommitmentPolicy::RequireEncryptAllowDecrypt => "REQUIRE_ENCRYPT_ALLOW_DECRYPT",
            CommitmentPolicy::RequireEncryptRequireDecrypt => "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
            CommitmentPolicy::DbeRequireEncryptRequireDecrypt => "DBE.REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
        }
    }

    /// Parses an official ESDK policy name (as written by the other SDKs and CLIs); the DB-ESDK
    /// policy is not an ESDK client's to choose, so its name does not parse.
    ///
    /// ```
    /// use envelope::CommitmentPolicy;
    ///
    /// assert_eq!(
    ///     CommitmentPolicy::from_name("require_encrypt_allow_decrypt"),
    ///     Some(CommitmentPolicy::RequireEncryptAllowDecrypt),
    ///     "names match without regard to ASCII case"
    /// );
    /// assert_eq!(CommitmentPolicy::from_name("ALLOW_EVERYTHING"), None);
    /// assert_eq!(CommitmentPolicy::from_name("DBE.REQUIRE_ENCRYPT_REQUIRE_DECRYPT"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<CommitmentPolicy> {
        [
            CommitmentPolicy::ForbidEncryptAllowDecrypt,
            CommitmentPolicy::RequireEncryptAllowDecrypt,
            CommitmentPolicy::RequireEncryptRequireDecrypt,
        ]
        .into_iter()
        .find(|policy| policy.name().eq_ignore_ascii_case(name))
    }

    /// The suite used when the caller names none.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy};
    ///
    /// assert_eq!(CommitmentPolicy::RequireEncryptRequireDecrypt.default_suite(), AlgorithmSuite::DEFAULT);
    /// assert_eq!(CommitmentPolicy::ForbidEncryptAllowDecrypt.default_suite().id(), 0x0378);
    /// assert_eq!(CommitmentPolicy::DbeRequireEncryptRequireDecrypt.default_suite().id(), 0x6701);
    /// ```
    pub fn default_suite(self) -> AlgorithmSuite {
        match self {
            // spec: framework/commitment-policy.md — the legacy default is the signed 0x0378.
            CommitmentPolicy::ForbidEncryptAllowDecrypt => AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
            CommitmentPolicy::RequireEncryptAllowDecrypt | CommitmentPolicy::RequireEncryptRequireDecrypt => {
                AlgorithmSuite::DEFAULT
            }
            // The DB-ESDK's default suite: signed, as the ESDK's.
            CommitmentPolicy::DbeRequireEncryptRequireDecrypt => {
                AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
            }
        }
    }

    /// Whether this policy lets a client write messages with `suite`.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy};
    ///
    /// let legacy = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384;
    /// assert!(CommitmentPolicy::ForbidEncryptAllowDecrypt.allows_encrypt(legacy));
    /// assert!(!CommitmentPolicy::RequireEncryptAllowDecrypt.allows_encrypt(legacy));
    /// assert!(CommitmentPolicy::RequireEncryptAllowDecrypt.allows_encrypt(AlgorithmSuite::DEFAULT));
    ///
    /// // ESDK policies never allow a DB-ESDK suite, and the DB-ESDK policy allows only those.
    /// let dbe = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    /// assert!(!CommitmentPolicy::RequireEncryptRequireDecrypt.allows_encrypt(dbe));
    /// assert!(CommitmentPolicy::DbeRequireEncryptRequireDecrypt.allows_encrypt(dbe));
    /// assert!(!CommitmentPolicy::DbeRequireEncryptRequireDecrypt.allows_encrypt(AlgorithmSuite::DEFAULT));
    /// ```
    pub fn allows_encrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => suite.is_esdk_message_suite() && !suite.is_committing(),
            CommitmentPolicy::RequireEncryptAllowDecrypt | CommitmentPolicy::RequireEncryptRequireDecrypt => {
                suite.is_esdk_message_suite() && suite.is_committing()
            }
            CommitmentPolicy::DbeRequireEncryptRequireDecrypt => !suite.is_esdk_message_suite(),
        }
    }

    /// Whether this policy lets a client read messages with `suite`.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy};
    ///
    /// let legacy = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384;
    /// assert!(CommitmentPolicy::RequireEncryptAllowDecrypt.allows_decrypt(legacy));
    /// assert!(!CommitmentPolicy::RequireEncryptRequireDecrypt.allows_decrypt(legacy));
    /// let dbe = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;
    /// assert!(!CommitmentPolicy::ForbidEncryptAllowDecrypt.allows_decrypt(dbe));
    /// ```
    pub fn allows_decrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            CommitmentPolicy::ForbidEncryptAllowDecrypt | CommitmentPolicy::RequireEncryptAllowDecrypt => {
                suite.is_esdk_message_suite()
            }
            CommitmentPolicy::RequireEncryptRequireDecrypt => suite.is_esdk_message_suite() && suite.is_committing(),
            CommitmentPolicy::DbeRequireEncryptRequireDecrypt => !suite.is_esdk_message_suite(),
        }
    }
}

impl fmt::Display for CommitmentPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_db_esdk_suites_match_the_spec_tables() {
        // spec: algorithm-suites.md — 0x6700/0x6701: 256-bit HKDF-SHA512, commitment, HMAC-SHA384,
        // intermediate key wrapping; 0x6701 adds ECDSA P-384.
        let [symsig, signed] = AlgorithmSuite::DB_ESDK;
        for suite in [symsig, signed] {
            assert_eq!(suite.data_key_len(), 32);
            assert_eq!(suite.key_derivation(), KeyDerivation::HkdfSha512);
            assert!(suite.is_committing() && !suite.is_esdk_message_suite());
            assert_eq!(suite.symmetric_signature(), Some(SymmetricSignatureAlgorithm::HmacSha384));
            assert_eq!(suite.edk_wrapping(), EdkWrapping::Intermediate);
            for policy in [
                CommitmentPolicy::ForbidEncryptAllowDecrypt,
                CommitmentPolicy::RequireEncryptAllowDecrypt,
                CommitmentPolicy::RequireEncryptRequireDecrypt,
            ] {
                assert!(!policy.allows_encrypt(suite) && !policy.allows_decrypt(suite), "{policy} {suite}");
            }
        }
        assert_eq!((symsig.id(), symsig.signature()), (0x6700, None));
        assert_eq!((signed.id(), signed.signature()), (0x6701, Some(SignatureAlgorithm::EcdsaP384Sha384)));
        for suite in AlgorithmSuite::ESDK {
            assert_eq!(suite.edk_wrapping(), EdkWrapping::Direct);
            assert!(!CommitmentPolicy::DbeRequireEncryptRequireDecrypt.allows_decrypt(suite));
        }
    }

    #[test]
    fn ids_round_trip_and_are_unique() {
        for suite in AlgorithmSuite::ALL {
            assert_eq!(AlgorithmSuite::from_id(suite.id()), Some(suite));
        }
        assert_eq!(AlgorithmSuite::from_id(0x0000), None);
        assert_eq!(AlgorithmSuite::from_id(0x0070), None);
    }

    #[test]
    fn default_policy_requires_commitment_both_ways() {
        let policy = CommitmentPolicy::default();
        assert!(policy.allows_encrypt(AlgorithmSuite::DEFAULT));
        assert!(!policy.allows_decrypt(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384));
        assert!(CommitmentPolicy::ForbidEncryptAllowDecrypt.allows_decrypt(AlgorithmSuite::DEFAULT));
        assert!(!CommitmentPolicy::ForbidEncryptAllowDecrypt.allows_encrypt(AlgorithmSuite::DEFAULT));
    }

    #[test]
    fn suite_properties_match_the_table() {
        let s = AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384;
        assert_eq!((s.id(), s.data_key_len(), s.message_format()), (0x0346, 24, MessageFormat::V1));
        assert_eq!(s.signature(), Some(SignatureAlgorithm::EcdsaP384Sha384));
        let d = AlgorithmSuite::DEFAULT;
        assert_eq!((d.id(), d.data_key_len(), d.message_format()), (0x0578, 32, MessageFormat::V2));
    }
}
