//! The crate's one error type and its categories.
//!
//! Security failures (tampered or mixed metadata, a wrong commitment, a failed tag, a context
//! that differs from the stored one) are their own category so a caller can alert on them; their
//! messages name the field or check, never key bytes or plaintext.

/// A failure of this crate.
///
/// ```
/// use envelope_s3::error::{Error, SecurityError};
///
/// let error: Error = SecurityError::CommitmentMismatch.into();
/// assert!(error.is_security());
/// assert!(error.to_string().contains("commitment"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The object's metadata or body was tampered with, or does not authenticate.
    #[error("security: {0}")]
    Security(#[from] SecurityError),
    /// The metadata is not well formed (names the key and what is wrong).
    #[error("malformed object metadata: {key}: {why}")]
    Malformed {
        /// The metadata key (or instruction-file field) being read.
        key: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The configuration refuses the object or the operation.
    #[error("refused by policy: {0}")]
    Policy(#[from] PolicyViolation),
    /// Wrapping or unwrapping the data key failed (KMS, raw keys).
    #[error("data key: {0}")]
    Keyring(String),
    /// The caller can fix this call.
    #[error("usage: {0}")]
    Usage(String),
    /// A format feature this crate cannot read with the primitives it may use (names which).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A failure no input can cause (a primitive refusing what this crate built, a failed RNG).
    #[error("internal: {0}")]
    Internal(String),
    /// Reading or writing a stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An S3 request failed: the operation and S3's error (code and message).
    #[error("S3 {operation} failed: {message}")]
    S3 {
        /// The S3 operation (`GetObject`, `UploadPart`, ...).
        operation: &'static str,
        /// What S3 (or the connection) said.
        message: String,
    },
    /// A ranged read that selects no byte of the object (a start at or past its end), or a
    /// range header this client does not read.
    #[error("invalid range: {0}")]
    InvalidRange(String),
}

impl Error {
    /// Whether this is a [`SecurityError`]: the object is not what was written.
    ///
    /// ```
    /// use envelope_s3::error::Error;
    ///
    /// assert!(!Error::Usage("no keyring".into()).is_security());
    /// ```
    pub fn is_security(&self) -> bool {
        matches!(self, Error::Security(_))
    }

    pub(crate) fn malformed(key: &'static str, why: impl Into<String>) -> Error {
        Error::Malformed { key, why: why.into() }
    }

    pub(crate) fn internal(why: impl Into<String>) -> Error {
        Error::Internal(why.into())
    }
}

impl From<envelope::Error> for Error {
    fn from(error: envelope::Error) -> Error {
        Error::Keyring(error.to_string())
    }
}

impl From<Error> for std::io::Error {
    fn from(error: Error) -> std::io::Error {
        match error {
            Error::Io(io) => io,
            Error::Security(_) | Error::Malformed { .. } => std::io::Error::new(std::io::ErrorKind::InvalidData, error),
            other => std::io::Error::other(other),
        }
    }
}

/// Evidence that an object's metadata or content is not what an encryption client wrote.
///
/// ```
/// use envelope_s3::error::SecurityError;
///
/// let mixed = SecurityError::MixedFormats { found: vec!["x-amz-key", "x-amz-3"] };
/// assert!(mixed.to_string().contains("x-amz-3"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// Keys exclusive to different format versions are present together.
    #[error("metadata mixes keys of different format versions: {found:?}")]
    MixedFormats {
        /// The version-exclusive keys found, one per version at least.
        found: Vec<&'static str>,
    },
    /// A V3 instruction file holds a key that must live only in the object's metadata
    /// (`x-amz-c`, `x-amz-d`, `x-amz-i`), or a key the object metadata also holds.
    #[error("the instruction file holds {key}, which must be stored only in the object's metadata")]
    InstructionFileTampered {
        /// The offending key.
        key: &'static str,
    },
    /// The key commitment derived from the data key differs from the stored one.
    #[error("the key commitment does not match the data key")]
    CommitmentMismatch,
    /// The content's authentication tag does not verify (wrong key or modified object).
    #[error("the object's content does not authenticate")]
    TagMismatch,
    /// The stored algorithm binding (`aws:x-amz-cek-alg`, the AES-GCM wrap AAD or the RSA
    /// wrapped-key suffix) names another content cipher than the metadata does.
    #[error("the wrapped data key is bound to content cipher {bound:?}, but the metadata says {stated:?}")]
    CipherBindingMismatch {
        /// The cipher the wrapped key was bound to.
        bound: String,
        /// The cipher the metadata states.
        stated: String,
    },
    /// An algorithm value no format defines, or one its format version may not use (a V3 suite
    /// in V2 metadata, a tag length other than 128): never guessed at.
    #[error("{key} holds {value:?}, which is not an algorithm this format allows")]
    UnknownAlgorithm {
        /// The metadata key.
        key: &'static str,
        /// The value found.
        value: String,
    },
    /// The encryption context given for the read differs from the stored one.
    #[error("the encryption context given does not equal the stored encryption context")]
    EncryptionContextMismatch,
}

/// A request the configuration refuses (the object may be fine).
///
/// ```
/// use envelope_s3::error::PolicyViolation;
///
/// let refused = PolicyViolation::LegacyContentCipher { cipher: "AES/CBC/PKCS5Padding" };
/// assert!(refused.to_string().contains("legacy"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// The commitment policy forbids this content suite.
    #[error("commitment policy {policy} does not allow {operation} with {suite}")]
    Commitment {
        /// The configured policy's name.
        policy: &'static str,
        /// `encryption` or `decryption`.
        operation: &'static str,
        /// The suite refused.
        suite: String,
    },
    /// A legacy, unauthenticated content cipher without the legacy opt-in.
    #[error(
        "the object uses the legacy unauthenticated content cipher {cipher}; \
         enable legacy unauthenticated modes to read it"
    )]
    LegacyContentCipher {
        /// The cipher's metadata name.
        cipher: &'static str,
    },
    /// A legacy wrapping algorithm without the legacy opt-in.
    #[error("the data key uses the legacy wrapping algorithm {wrap}; enable legacy wrapping algorithms to read it")]
    LegacyWrapping {
        /// The wrapping algorithm's metadata name.
        wrap: &'static str,
    },
    /// A ranged read without the opt-in to unauthenticated reads.
    #[error(
        "a ranged read is not authenticated (the tag covers the whole object); \
         enable legacy unauthenticated modes to read ranges"
    )]
    UnauthenticatedRange,
    /// The caller's encryption context uses a key reserved by the format.
    #[error("the encryption context may not contain the reserved key {0:?}")]
    ReservedContextKey(String),
    /// The object is larger than the in-memory limit configured for this call.
    #[error("the object is larger than the {limit}-byte in-memory limit")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

/// This crate's result type.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::wrap::AesGcmKeyring;
///
/// fn keyring(key: Vec<u8>) -> envelope_s3::Result<AesGcmKeyring> {
///     AesGcmKeyring::new(key, BTreeMap::new())
/// }
/// assert!(keyring(vec![7; 32]).is_ok());
/// assert!(keyring(vec![7; 5]).is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
