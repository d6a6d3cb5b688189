//! AWS KMS keyrings over `aws-sdk-kms` (the `kms` feature, on by default).
//!
//! | keyring | provider id | encrypt | decrypt |
//! |---|---|---|---|
//! | [`AwsKmsKeyring`] | `aws-kms` | GenerateDataKey / Encrypt | Decrypt, only EDKs of its own key ARN |
//! | [`AwsKmsMrkKeyring`] | `aws-kms` | same | Decrypt, also EDKs of the key's multi-Region replicas |
//! | [`AwsKmsDiscoveryKeyring`] | `aws-kms` | — | Decrypt with the ARN in the EDK (optional [`DiscoveryFilter`]) |
//! | [`AwsKmsMrkDiscoveryKeyring`] | `aws-kms` | — | same, calling one Region (MRK replicas there) |
//! | [`AwsKmsRsaKeyring`] | `aws-kms-rsa` | local RSA-OAEP with the KMS public key | Decrypt (RSAES_OAEP_*) |
//! | [`AwsKmsEcdhKeyring`] | `aws-kms-ecdh` | DeriveSharedSecret | DeriveSharedSecret |
//!
//! [`kms_multi_keyring`] and [`kms_mrk_multi_keyring`] build a generator and children from key
//! ARNs, getting one client per Region from a [`KmsClientSupplier`]. [`DefaultClientSupplier`]
//! honours the usual AWS configuration (including `AWS_ENDPOINT_URL_KMS`), or points at an
//! emulator with [`DefaultClientSupplier::with_endpoint`].
//!
//! KMS failures name the KMS error code, the operation and the key (for example
//! `KMS Decrypt with key arn:…: DisabledException: …`); on decrypt every EDK tried is listed in
//! [`KeyringError::NoDataKeyUnwrapped`].
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use envelope::{Client, DecryptOptions, EncryptOptions};
//! use envelope_keyrings::kms::{AwsKmsDiscoveryKeyring, AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
//!
//! # async fn demo() -> envelope::Result<()> {
//! let supplier = Arc::new(DefaultClientSupplier::from_env().await);
//! let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
//! let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
//! let message = Client::with_keyring(keyring).encrypt(b"hello", &EncryptOptions::new()).await?;
//!
//! let reader = Client::with_keyring(AwsKmsDiscoveryKeyring::new(supplier, None)?);
//! assert_eq!(reader.decrypt(&message, &DecryptOptions::new()).await?.plaintext, b"hello");
//! # Ok(())
//! # }
//! ```
//!
//! [`KeyringError::NoDataKeyUnwrapped`]: envelope::error::KeyringError::NoDataKeyUnwrapped

mod client_supplier;
mod discovery;
mod ecdh;
mod edk;
pub mod key_arn;
mod multi;
mod rsa;
mod symmetric;

use std::collections::HashMap;

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::RequestId;
use envelope::EncryptionContext;
use envelope::error::KeyringError;

/// The credential type [`DefaultClientSupplier::with_endpoint_and_credentials`] takes, re-exported so
/// callers need no direct dependency on `aws-credential-types`.
pub use aws_credential_types::Credentials;
pub use client_supplier::{DefaultClientSupplier, KmsClientSupplier, PERMISSIVE_ACCESS_KEY_ID};
pub use discovery::{AwsKmsDiscoveryKeyring, AwsKmsMrkDiscoveryKeyring, DiscoveryFilter};
pub use ecdh::AwsKmsEcdhKeyring;
pub use key_arn::{KmsArn, mrk_match};
pub use multi::{kms_mrk_discovery_multi_keyring, kms_mrk_multi_keyring, kms_multi_keyring};
pub use rsa::{AwsKmsRsaKeyring, KmsRsaPadding};
pub use symmetric::{AwsKmsKeyring, AwsKmsMrkKeyring};

/// Provider id of EDKs wrapped by a symmetric KMS key.
///
/// ```
/// use envelope::EncryptedDataKey;
/// use envelope_keyrings::kms::PROVIDER_ID;
///
/// # let arn = b"arn:aws:kms:us-east-1:111122223333:key/k".to_vec();
/// # let edks = vec![EncryptedDataKey::new("aws-kms", arn, vec![1; 8])];
/// // Which EDKs of a message a symmetric KMS key wrapped.
/// let kms_wrapped = edks.iter().filter(|edk| edk.provider_id == PROVIDER_ID).count();
/// assert_eq!(kms_wrapped, 1);
/// ```
pub const PROVIDER_ID: &str = "aws-kms";
/// Provider id of EDKs wrapped locally with a KMS RSA public key.
///
/// ```
/// use envelope::EncryptedDataKey;
/// use envelope_keyrings::kms::RSA_PROVIDER_ID;
///
/// let arn = b"arn:aws:kms:us-east-1:111122223333:key/k".to_vec();
/// let edk = EncryptedDataKey::new(RSA_PROVIDER_ID, arn, vec![1; 256]);
/// assert_eq!(edk.provider_id, "aws-kms-rsa");
/// ```
pub const RSA_PROVIDER_ID: &str = "aws-kms-rsa";

/// Fails unless a tokio runtime is current. Every KMS keyring operation calls it first: the
/// SDK's HTTP client needs a runtime's reactor and panics deep inside without one, while a caller
/// of `BlockingClient::new` (which polls on its own thread) deserves an error that says what to do.
pub(crate) fn require_runtime() -> envelope::Result<()> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(KeyringError::Configuration(
            "KMS keyrings need a tokio runtime: call them from async code, or build the client with \
             BlockingClient::with_runtime(client, runtime_handle)"
                .to_owned(),
        )
        .into());
    }
    Ok(())
}

/// Fetches a KMS key's public key (DER SubjectPublicKeyInfo) with GetPublicKey: what
/// [`AwsKmsRsaKeyring`] encrypts with.
///
/// ```no_run
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, EncryptOptions};
/// use envelope_keyrings::kms::{
///     get_public_key, AwsKmsRsaKeyring, DefaultClientSupplier, KmsClientSupplier, KmsRsaPadding,
/// };
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = tokio::runtime::Runtime::new()?;
/// let supplier = runtime.block_on(DefaultClientSupplier::from_env());
/// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
///
/// // Fetch the public key once (e.g. at start-up); encrypting then needs no KMS call at all.
/// let public_key_der = runtime.block_on(get_public_key(&supplier.client_for_region("us-east-1")?, key))?;
/// let keyring = AwsKmsRsaKeyring::new(key, Some(public_key_der), KmsRsaPadding::OaepSha256, None)?;
/// let message = BlockingClient::new(Client::with_keyring(keyring)).encrypt(b"hello", &EncryptOptions::new())?;
/// # Ok(())
/// # }
/// ```
pub async fn get_public_key(client: &aws_sdk_kms::Client, key_id: &str) -> envelope::Result<Vec<u8>> {
    let response = client
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|error| KeyringError::Service(describe_error("GetPublicKey", key_id, &error)))?;
    response.public_key().map(|blob| blob.as_ref().to_vec()).ok_or_else(|| {
        KeyringError::Service(format!("KMS GetPublicKey with key {key_id} returned no public key")).into()
    })
}

/// The encryption context as KMS takes it (`None` when empty, which KMS treats the same).
pub(crate) fn kms_context(context: &EncryptionContext) -> Option<HashMap<String, String>> {
    if context.is_empty() { None } else { Some(context.iter().map(|(k, v)| (k.clone(), v.clone())).collect()) }
}

/// Grant tokens as the SDK takes them.
pub(crate) fn kms_grant_tokens(tokens: &[String]) -> Option<Vec<String>> {
    if tokens.is_empty() { None } else { Some(tokens.to_vec()) }
}

/// `KMS <operation> with key <key> failed: <code>: <message> (request id …)`.
pub(crate) fn describe_error<E, R>(operation: &str, key_id: &str, error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    SdkError<E, R>: RequestId,
{
    let request = error.request_id().map(|id| format!(" (request id {id})")).unwrap_or_default();
    match error.as_service_error() {
        Some(service) => format!(
            "KMS {operation} with key {key_id} failed: {}: {}{request}",
            service.code().unwrap_or("UnknownError"),
            service.message().unwrap_or("no message"),
        ),
        None => format!("KMS {operation} with key {key_id} failed: {}{request}", DisplayErrorContext(error)),
    }
}
