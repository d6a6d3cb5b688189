//! KMS errors as they travel on the wire: an exception name (`__type`), a message and an HTTP status.
//!
//! The names are KMS's own (from the botocore service model) because SDKs map errors to typed
//! variants by name alone; a wrong name surfaces as an "unhandled" error in every client.

use std::fmt;

/// One KMS error: the exception name and a human message.
///
/// Messages never contain key material, plaintext or signatures; they name identifiers and limits.
/// [`Emulator::call`](crate::Emulator::call) returns it; over HTTP it is the response body.
///
/// ```
/// use envelope_kms_local::{Emulator, KmsError, Settings};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-kms-error-{}", std::process::id()));
/// let emulator = Emulator::open(&Settings::new(&dir))?;
/// let missing = serde_json::json!({"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"});
/// let error: KmsError = emulator.call("us-east-1", "DescribeKey", &missing).unwrap_err();
/// assert_eq!(error.kind(), "NotFoundException"); // the `__type` SDKs map to a typed error
/// assert_eq!(error.status(), 400);
/// assert!(error.message().contains("1234abcd-12ab-34cd-56ef-1234567890ab"));
/// emulator.close();
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    kind: &'static str,
    message: String,
}

impl KmsError {
    /// An error with an exception name taken from the KMS model.
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The `__type` value.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// HTTP status: KMS marks only three exceptions as server faults.
    pub fn status(&self) -> u16 {
        match self.kind {
            "KMSInternalException" | "DependencyTimeoutException" | "KeyUnavailableException" => 500,
            _ => 400,
        }
    }

    /// The JSON body `{"__type": ..., "message": ...}`; without `message` when there is none,
    /// as KMS sends its message-less errors (`InvalidCiphertextException`,
    /// `NotAuthorizedException`).
    pub(crate) fn to_body(&self) -> Vec<u8> {
        let body = if self.message.is_empty() {
            serde_json::json!({ "__type": self.kind })
        } else {
            serde_json::json!({ "__type": self.kind, "message": self.message })
        };
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"__type\":\"KMSInternalException\"}".to_vec())
    }

    /// `NotFoundException`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new("NotFoundException", message)
    }
    /// `ValidationException`, in AWS's "1 validation error detected" style.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }
    /// A constraint failure on one field, worded like AWS's model validation.
    pub(crate) fn constraint(field: &str, constraint: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }
    /// `KMSInvalidStateException`.
    pub(crate) fn invalid_state(message: impl Into<String>) -> Self {
        Self::new("KMSInvalidStateException", message)
    }
    /// `DisabledException`.
    pub(crate) fn disabled(message: impl Into<String>) -> Self {
        Self::new("DisabledException", message)
    }
    /// `InvalidKeyUsageException`.
    pub(crate) fn key_usage(message: impl Into<String>) -> Self {
        Self::new("InvalidKeyUsageException", message)
    }
    /// `InvalidCiphertextException`, deliberately without detail.
    pub(crate) fn invalid_ciphertext() -> Self {
        Self::new("InvalidCiphertextException", "")
    }
    /// `UnsupportedOperationException`.
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new("UnsupportedOperationException", message)
    }
    /// `AccessDeniedException`.
    pub(crate) fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDeniedException", message)
    }
    /// `KMSInternalException`.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new("KMSInternalException", message)
    }
    /// `InvalidArnException`.
    pub(crate) fn invalid_arn(message: impl Into<String>) -> Self {
        Self::new("InvalidArnException", message)
    }
    /// `DryRunOperationException`, the answer to a DryRun that would have succeeded.
    pub(crate) fn dry_run() -> Self {
        Self::new("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for KmsError {}

/// Shorthand for results whose error is a [`KmsError`].
pub(crate) type KmsResult<T> = Result<T, KmsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_faults_are_500() {
        assert_eq!(KmsError::internal("x").status(), 500);
        assert_eq!(KmsError::new("KeyUnavailableException", "x").status(), 500);
        assert_eq!(KmsError::not_found("x").status(), 400);
        let body: serde_json::Value = serde_json::from_slice(&KmsError::not_found("gone").to_body()).unwrap();
        assert_eq!(body["__type"], "NotFoundException");
        assert_eq!(body["message"], "gone");
        let bare: serde_json::Value = serde_json::from_slice(&KmsError::invalid_ciphertext().to_body()).unwrap();
        assert_eq!(bare, serde_json::json!({"__type": "InvalidCiphertextException"}));
    }
}
