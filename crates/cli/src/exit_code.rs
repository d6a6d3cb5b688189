//! Documented exit codes, and the mapping from failures to them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a message could not be encrypted or decrypted: no key could unwrap it, it failed authentication, it is malformed, or a policy (commitment, encryption context, unsigned-only, data-key limit) refused it |
//! | 2 | usage: a flag or value is wrong (clap's own errors use 2 too) |
//! | 3 | files: an input is missing or unreadable, an output exists (see --overwrite), input and output are the same file, binary output to a terminal |
//! | 4 | KMS, S3, DynamoDB or a branch key store: it could not be reached or refused a request (key not found, disabled, access denied; table missing; branch key or store missing, key-store item tampered or under another KMS key) |

use std::fmt;
use std::process::ExitCode;

use envelope::error::{EdkFailureReason, KeyringError};
use envelope_keyrings::hierarchy::wrapping::PROVIDER_ID as HIERARCHY_PROVIDER_ID;

/// The help text's summary of [the codes](self).
pub const HELP: &str = "Exit codes: 0 success; 1 a message could not be encrypted or decrypted (no key could \
unwrap it, authentication failed, malformed, refused by a policy); 2 usage error; 3 file error (missing input, \
existing output without --overwrite, same file in and out, binary output to a terminal); 4 KMS, S3, DynamoDB or the \
branch key store unreachable or refused the request.";

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// 1.
    Message,
    /// 2.
    Usage,
    /// 3.
    Files,
    /// 4.
    Kms,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Message => 1,
            Kind::Usage => 2,
            Kind::Files => 3,
            Kind::Kms => 4,
        }
    }

    /// As an [`ExitCode`].
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

/// A failure with its kind and a message that says what to do next.
#[derive(Debug)]
pub struct Failure {
    /// The kind.
    pub kind: Kind,
    /// What went wrong.
    pub error: anyhow::Error,
    /// What to do about it, where we know.
    pub hint: Option<&'static str>,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> Failure {
        Failure { kind, error: error.into(), hint: None }
    }

    /// A usage failure with this message.
    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure::new(Kind::Usage, anyhow::anyhow!("{message}"))
    }

    /// A file failure with this message.
    pub fn files(message: impl fmt::Display) -> Failure {
        Failure::new(Kind::Files, anyhow::anyhow!("{message}"))
    }

    /// Adds context in front of the message.
    pub fn context(self, context: impl fmt::Display + Send + Sync + 'static) -> Failure {
        Failure { kind: self.kind, error: self.error.context(context), hint: self.hint }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)?;
        if let Some(hint) = self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<envelope::Error> for Failure {
    fn from(error: envelope::Error) -> Failure {
        let kind = kind_of(&error);
        let hint = hint_for(&error);
        Failure { kind, error: anyhow::Error::new(error), hint }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        // Errors the message layer raised travel inside io::Error through Read/Write.
        if error.get_ref().is_some_and(|inner| inner.is::<envelope::Error>()) {
            let inner = error.into_inner().map(|inner| inner.downcast::<envelope::Error>());
            if let Some(Ok(inner)) = inner {
                return Failure::from(*inner);
            }
            return Failure::new(Kind::Message, anyhow::anyhow!("the message could not be processed"));
        }
        Failure::new(Kind::Files, error)
    }
}

pub(crate) fn kind_of(error: &envelope::Error) -> Kind {
    match error {
        envelope::Error::Usage(_) => Kind::Usage,
        envelope::Error::Io(_) => Kind::Files,
        envelope::Error::Keyring(KeyringError::Service(_)) => Kind::Kms,
        envelope::Error::Keyring(KeyringError::Configuration(_)) => Kind::Usage,
        envelope::Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures))
            if failures.iter().any(|failure| {
                failure.provider_id.starts_with("aws-kms")
                    && failure.provider_id != HIERARCHY_PROVIDER_ID
                    && matches!(failure.reason, EdkFailureReason::Failed(_))
            }) =>
        {
            // A KMS key matched but the call failed: KMS is unreachable or refused us, which the
            // user fixes on the KMS side. (A hierarchy EDK that fails is a damaged EDK, or a key
            // store failure, which crypt::hierarchy classifies with the store's own error.)
            Kind::Kms
        }
        _ => Kind::Message,
    }
}

/// What to do next, for the failures where we can say.
fn hint_for(error: &envelope::Error) -> Option<&'static str> {
    use envelope::error::PolicyViolation;
    match error {
        envelope::Error::Keyring(KeyringError::NoDataKeyUnwrapped(_)) => Some(
            "no wrapping key could decrypt this message's data key; pass a --wrapping-keys that encrypted it \
             (--metadata-output shows the message's encrypted data keys)",
        ),
        envelope::Error::Keyring(KeyringError::Service(_)) => {
            Some("KMS refused or could not serve the request; check the key id, its Region and state, and your access")
        }
        envelope::Error::Policy(PolicyViolation::CommitmentPolicy { .. }) => Some(
            "the commitment policy does not allow this algorithm suite: encrypting with a non-committing suite needs \
             --commitment-policy forbid-encrypt-allow-decrypt, reading one needs require-encrypt-allow-decrypt",
        ),
        envelope::Error::Policy(PolicyViolation::SignedMessageRefused) => {
            Some("the message is signed and --decrypt-unsigned was given; drop --decrypt-unsigned to read it")
        }
        envelope::Error::Policy(PolicyViolation::EncryptionContextMismatch { .. })
        | envelope::Error::Policy(PolicyViolation::MissingRequiredEncryptionContextKey(_)) => {
            Some("the message's encryption context does not match --encryption-context")
        }
        envelope::Error::Policy(PolicyViolation::TooManyEncryptedDataKeys { .. }) => {
            Some("the message has more encrypted data keys than --max-encrypted-data-keys allows")
        }
        envelope::Error::Authentication(_) => {
            Some("the message was modified, truncated, or written under another key; no plaintext was released")
        }
        envelope::Error::Malformed(_) => Some("the input is not an AWS Encryption SDK message, or it is damaged"),
        _ => None,
    }
}
