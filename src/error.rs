//! The one error type of the message core, built from category enums.
//!
//! Authentication failures are deliberately detail-free (which byte or key failed is not an
//! oracle we hand to an attacker); malformed-input errors name the field and the limit; keyring
//! failures list what happened to every encrypted data key. Messages never hold key bytes or
//! plaintext.

use std::fmt;
use std::io;

/// Result alias for the message core.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// fn round_trip(client: &BlockingClient, plaintext: &[u8]) -> envelope::Result<Vec<u8>> {
///     let message = client.encrypt(plaintext, &EncryptOptions::new())?;
///     Ok(client.decrypt(&message, &DecryptOptions::new())?.plaintext)
/// }
///
/// # fn main() -> envelope::Result<()> {
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// assert_eq!(round_trip(&client, b"secret")?, b"secret");
/// # Ok(())
/// # }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while encrypting or decrypting.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{Error, PolicyViolation};
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context([("tenant", "acme")].into()))?;
///
/// let expected = DecryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "globex")]));
/// match client.decrypt(&message, &expected) {
///     Err(Error::Policy(PolicyViolation::EncryptionContextMismatch { key })) => assert_eq!(key, "tenant"),
///     other => panic!("expected a context mismatch, got {other:?}"),
/// }
///
/// let mut tampered = message.clone();
/// *tampered.last_mut().unwrap() ^= 1; // inside the footer's signature
/// assert!(matches!(client.decrypt(&tampered, &DecryptOptions::new()), Err(Error::Authentication(_))));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message failed a cryptographic check: it was tampered with, truncated in a way only a
    /// check can notice, or the key is wrong.
    #[error("authentication failed: {0}")]
    Authentication(AuthenticationFailure),
    /// The bytes are not a well-formed message.
    #[error("malformed message: {0}")]
    Malformed(Malformed),
    /// No keyring could produce or recover a data key.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The message or request breaks a configured rule.
    #[error("policy violation: {0}")]
    Policy(PolicyViolation),
    /// The API was used in a way it does not allow.
    #[error("invalid use: {0}")]
    Usage(String),
    /// Something failed that no input or call should be able to cause: a worker thread died, the
    /// system random number generator failed, or a primitive refused what envelope handed it. A
    /// bug (or a broken platform), never the caller's mistake; the operation released nothing.
    #[error("internal error: {0}")]
    Internal(String),
    /// Reading or writing the underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Which authentication check failed.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{AuthenticationFailure, Error};
/// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// let mut message = client.encrypt(b"secret", &options)?;
///
/// // The last byte of an unsigned message belongs to the final frame's tag.
/// *message.last_mut().unwrap() ^= 1;
/// let error = client.decrypt(&message, &DecryptOptions::new()).unwrap_err();
/// assert!(matches!(error, Error::Authentication(AuthenticationFailure::BodyTag)));
/// assert_eq!(error.to_string(), "authentication failed: body authentication tag does not verify");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticationFailure {
    /// The header authentication tag did not verify.
    HeaderTag,
    /// The header's key commitment does not match the data key.
    KeyCommitment,
    /// A frame's (or the single block's) authentication tag did not verify.
    BodyTag,
    /// The footer signature did not verify.
    Signature,
    /// A data key could not be unwrapped because its wrapping did not verify.
    EncryptedDataKey,
}

impl fmt::Display for AuthenticationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthenticationFailure::HeaderTag => "header authentication tag does not verify",
            AuthenticationFailure::KeyCommitment => "key commitment does not match the data key",
            AuthenticationFailure::BodyTag => "body authentication tag does not verify",
            AuthenticationFailure::Signature => "message signature does not verify",
            AuthenticationFailure::EncryptedDataKey => "encrypted data key does not verify",
        })
    }
}

/// A structural problem with the message bytes.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{Error, Malformed};
/// use envelope::{Client, DecryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// match client.decrypt(b"\x07 is not a version byte", &DecryptOptions::new()) {
///     Err(Error::Malformed(Malformed::InvalidField { field, .. })) => assert_eq!(field, "version"),
///     other => panic!("expected a malformed header, got {other:?}"),
/// }
/// assert!(matches!(
///     client.decrypt(&[0x02], &DecryptOptions::new()),
///     Err(Error::Malformed(Malformed::Truncated { .. }))
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The input ended before the named field was complete.
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A field holds a value the format does not allow.
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Bytes follow the end of the message.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Truncated { field } => write!(f, "input ends inside {field}"),
            Malformed::InvalidField { field, detail } => write!(f, "{field}: {detail}"),
            Malformed::TrailingBytes { count } => write!(f, "{count} bytes follow the end of the message"),
        }
    }
}

/// A configured rule the message or request breaks.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{Error, PolicyViolation};
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"secret", &EncryptOptions::new().frame_length(64 * 1024))?;
///
/// // A reader that holds at most 16 KiB per frame refuses the message before reading its body.
/// match client.decrypt(&message, &DecryptOptions::new().max_frame_length(16 * 1024)) {
///     Err(Error::Policy(PolicyViolation::FrameTooLong { limit, found })) => {
///         assert_eq!((limit, found), (16384, 65536));
///     }
///     other => panic!("expected FrameTooLong, got {other:?}"),
/// }
///
/// let reserved = EncryptOptions::new().encryption_context([("aws-crypto-mine", "x")].into());
/// assert!(matches!(
///     client.encrypt(b"secret", &reserved),
///     Err(Error::Policy(PolicyViolation::ReservedEncryptionContextKey(_)))
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// The commitment policy forbids this suite for this operation.
    CommitmentPolicy {
        /// The suite id.
        suite: u16,
        /// The policy's name.
        policy: &'static str,
    },
    /// The message holds more encrypted data keys than allowed.
    TooManyEncryptedDataKeys {
        /// The configured maximum.
        limit: usize,
        /// How many the message or materials hold.
        found: usize,
    },
    /// The header is longer than the reader allows (`DecryptOptions::max_header_length`).
    HeaderTooLong {
        /// The configured maximum, in bytes.
        limit: usize,
        /// How long the fields read so far prove the header to be, at least.
        at_least: usize,
    },
    /// A frame (or a non-framed body) is longer than the reader allows
    /// (`DecryptOptions::max_frame_length`).
    FrameTooLong {
        /// The configured maximum, in bytes of plaintext.
        limit: usize,
        /// The length the message declares.
        found: u64,
    },
    /// An encryption context key uses the reserved `aws-crypto-` prefix.
    ReservedEncryptionContextKey(String),
    /// The encryption context given on decrypt does not match the message.
    EncryptionContextMismatch {
        /// The key whose value is missing or different.
        key: String,
    },
    /// A required encryption context key is missing.
    MissingRequiredEncryptionContextKey(String),
    /// A signed message was given to a reader that accepts only unsigned messages.
    SignedMessageRefused,
    /// A suite was requested that the materials do not allow.
    SuiteMismatch {
        /// What the caller asked for.
        requested: u16,
        /// What the materials carry.
        provided: u16,
    },
    /// A DB-ESDK suite (0x6700, 0x6701) was asked for, or came back from the materials manager,
    /// for an ESDK message: those suites are for DynamoDB items, never for messages.
    NotAMessageSuite {
        /// The suite id.
        suite: u16,
    },
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyViolation::CommitmentPolicy { suite, policy } => {
                write!(f, "algorithm suite 0x{suite:04X} is not allowed by commitment policy {policy}")
            }
            PolicyViolation::TooManyEncryptedDataKeys { limit, found } => {
                write!(f, "{found} encrypted data keys exceed the configured maximum of {limit}")
            }
            PolicyViolation::HeaderTooLong { limit, at_least } => write!(
                f,
                "the header is at least {at_least} bytes, over the maximum of {limit} (raise DecryptOptions::max_header_length to read it)"
            ),
            PolicyViolation::FrameTooLong { limit, found } => write!(
                f,
                "the message declares {found}-byte frames, over the maximum of {limit} (raise DecryptOptions::max_frame_length to read it)"
            ),
            PolicyViolation::ReservedEncryptionContextKey(key) => {
                write!(f, "encryption context key {key:?} uses the reserved prefix \"aws-crypto-\"")
            }
            PolicyViolation::EncryptionContextMismatch { key } => {
                write!(f, "encryption context key {key:?} is missing from the message or has another value")
            }
            PolicyViolation::MissingRequiredEncryptionContextKey(key) => {
                write!(f, "required encryption context key {key:?} is missing")
            }
            PolicyViolation::SignedMessageRefused => {
                f.write_str("the message is signed, and this reader accepts only unsigned messages")
            }
            PolicyViolation::SuiteMismatch { requested, provided } => {
                write!(f, "materials carry suite 0x{provided:04X} but 0x{requested:04X} was requested")
            }
            PolicyViolation::NotAMessageSuite { suite } => write!(
                f,
                "algorithm suite 0x{suite:04X} is a DB-ESDK suite (DynamoDB items): ESDK messages are never written with it"
            ),
        }
    }
}

/// Why a keyring could not do its job.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::error::{EdkFailureReason, Error, KeyringError};
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let writer = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = writer.encrypt(b"secret", &EncryptOptions::new())?;
///
/// // Same namespace and name, other key bytes: the EDK is this keyring's, but it does not unwrap.
/// let reader = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![8; 32])?));
/// match reader.decrypt(&message, &DecryptOptions::new()) {
///     Err(Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures))) => {
///         assert_eq!(failures.len(), 1);
///         assert_eq!(failures[0].provider_id, "my-app");
///         assert!(matches!(failures[0].reason, EdkFailureReason::Failed(_)));
///     }
///     other => panic!("expected NoDataKeyUnwrapped, got {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// No keyring could recover the data key; lists every EDK and why it was not unwrapped.
    #[error("no keyring could decrypt a data key: {}", DisplayFailures(.0))]
    NoDataKeyUnwrapped(Vec<EdkFailure>),
    /// A keyring could not generate or wrap a data key.
    #[error("keyring failed to wrap the data key: {0}")]
    Wrap(String),
    /// A keyring is misconfigured.
    #[error("invalid keyring configuration: {0}")]
    Configuration(String),
    /// A remote key service answered with an error.
    #[error("key service error: {0}")]
    Service(String),
}

/// What happened to one encrypted data key during decryption.
///
/// ```
/// use envelope::error::{EdkFailure, EdkFailureReason};
/// use envelope::EncryptedDataKey;
///
/// let edk = EncryptedDataKey::new("my-app", b"key-2".to_vec(), vec![0; 60]);
/// let failure = EdkFailure::not_mine(&edk, "raw AES keyring my-app/key-1", "key name differs");
/// assert_eq!(failure.provider_info, "key-2");
/// assert_eq!(failure.reason, EdkFailureReason::NotMine("key name differs".into()));
/// assert_eq!(failure.to_string(), "EDK my-app/key-2 skipped by raw AES keyring my-app/key-1: key name differs");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdkFailure {
    /// Provider id of the EDK.
    pub provider_id: String,
    /// Provider info of the EDK, shown as text where it is UTF-8, hex otherwise.
    pub provider_info: String,
    /// The keyring that looked at it (its provider id or kind).
    pub keyring: String,
    /// Why it was not unwrapped.
    pub reason: EdkFailureReason,
}

/// Why an EDK was not unwrapped.
///
/// ```
/// use envelope::error::{EdkFailure, EdkFailureReason};
/// use envelope::EncryptedDataKey;
///
/// # let edk = EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![]);
/// # let failures = vec![EdkFailure::failed(&edk, "my keyring", "tag mismatch")];
/// // Tell "no key of mine" apart from "my key, but it did not unwrap" (a wrong key or a damaged EDK).
/// let damaged: Vec<&EdkFailure> =
///     failures.iter().filter(|failure| matches!(failure.reason, EdkFailureReason::Failed(_))).collect();
/// assert_eq!(damaged.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdkFailureReason {
    /// The EDK belongs to another key (provider id, key name or parameters differ).
    NotMine(String),
    /// The EDK matched this keyring, but unwrapping failed.
    Failed(String),
}

impl EdkFailure {
    /// An EDK the keyring does not own.
    ///
    /// ```
    /// use envelope::error::{EdkFailure, KeyringError};
    /// use envelope::EncryptedDataKey;
    ///
    /// // In a keyring's `on_decrypt`: EDKs of other providers are skipped, and said so.
    /// let edks = [EncryptedDataKey::new("aws-kms", b"arn:aws:kms:us-east-1:111122223333:key/k".to_vec(), vec![1; 8])];
    /// let failures: Vec<EdkFailure> = edks
    ///     .iter()
    ///     .filter(|edk| edk.provider_id != "my-app")
    ///     .map(|edk| EdkFailure::not_mine(edk, "my keyring", format!("provider id {:?}", edk.provider_id)))
    ///     .collect();
    /// let error = KeyringError::NoDataKeyUnwrapped(failures);
    /// assert!(error.to_string().contains("skipped by my keyring"));
    /// ```
    pub fn not_mine(edk: &crate::EncryptedDataKey, keyring: impl Into<String>, why: impl Into<String>) -> Self {
        EdkFailure::new(edk, keyring, EdkFailureReason::NotMine(why.into()))
    }

    /// An EDK the keyring owns but could not unwrap.
    ///
    /// ```
    /// use envelope::error::{EdkFailure, EdkFailureReason};
    /// use envelope::EncryptedDataKey;
    ///
    /// // In a keyring's `on_decrypt`: the EDK is ours, but unwrapping it failed.
    /// let edk = EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![0; 48]);
    /// let failure = EdkFailure::failed(&edk, "my keyring", "unwrapping failed");
    /// assert!(matches!(failure.reason, EdkFailureReason::Failed(_)));
    /// assert_eq!(failure.to_string(), "EDK my-app/key-1 failed by my keyring: unwrapping failed");
    /// ```
    pub fn failed(edk: &crate::EncryptedDataKey, keyring: impl Into<String>, why: impl Into<String>) -> Self {
        EdkFailure::new(edk, keyring, EdkFailureReason::Failed(why.into()))
    }

    fn new(edk: &crate::EncryptedDataKey, keyring: impl Into<String>, reason: EdkFailureReason) -> Self {
        EdkFailure {
            provider_id: edk.provider_id.clone(),
            provider_info: edk.provider_info_display(),
            keyring: keyring.into(),
            reason,
        }
    }
}

impl fmt::Display for EdkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, why) = match &self.reason {
            EdkFailureReason::NotMine(why) => ("skipped", why),
            EdkFailureReason::Failed(why) => ("failed", why),
        };
        write!(f, "EDK {}/{} {kind} by {}: {why}", self.provider_id, self.provider_info, self.keyring)
    }
}

struct DisplayFailures<'a>(&'a [EdkFailure]);

impl fmt::Display for DisplayFailures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no encrypted data key was tried");
        }
        for (i, failure) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn truncated(field: &'static str) -> Error {
        Error::Malformed(Malformed::Truncated { field })
    }

    pub(crate) fn invalid(field: &'static str, detail: impl Into<String>) -> Error {
        Error::Malformed(Malformed::InvalidField { field, detail: detail.into() })
    }

    pub(crate) fn usage(detail: impl Into<String>) -> Error {
        Error::Usage(detail.into())
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Error {
        Error::Internal(detail.into())
    }

    /// True when the input ended early: a streaming reader may wait for more bytes.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
    ///
    /// let cut_short = client.decrypt(&message[..40], &DecryptOptions::new()).unwrap_err();
    /// assert!(cut_short.is_truncation(), "{cut_short}");
    /// let mut tampered = message.clone();
    /// tampered[0] = 9;
    /// assert!(!client.decrypt(&tampered, &DecryptOptions::new()).unwrap_err().is_truncation());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_truncation(&self) -> bool {
        matches!(self, Error::Malformed(Malformed::Truncated { .. }))
    }
}

impl From<AuthenticationFailure> for Error {
    fn from(failure: AuthenticationFailure) -> Error {
        Error::Authentication(failure)
    }
}

impl From<PolicyViolation> for Error {
    fn from(violation: PolicyViolation) -> Error {
        Error::Policy(violation)
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        match error {
            Error::Io(inner) => inner,
            Error::Malformed(Malformed::Truncated { .. }) => io::Error::new(io::ErrorKind::UnexpectedEof, error),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
