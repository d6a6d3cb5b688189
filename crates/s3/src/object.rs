//! Encrypting and decrypting one object's body with its metadata, in memory or from a reader.
//!
//! Authentication policy: nothing decrypted leaves this module before every check passed (the
//! commitment policy, then the key commitment in constant time, then the GCM tag over the whole
//! body). The in-memory calls seal and open a body whole with aws-lc-rs; the readers buffer up
//! to [`ObjectCrypto::max_buffer`] bytes (64 MiB by default, as the Java client's buffer) and
//! refuse larger objects instead of releasing unauthenticated bytes. Bodies of any size are
//! streamed by the S3 client ([`crate::client`]) with [`ObjectCrypto::begin_encrypt`] and the
//! crate's incremental decryption (aws-lc's GCM through envelope-gcm-stream), under the release
//! policy stated there. Legacy CBC objects carry no authentication at all; they are read only
//! after the caller's explicit [`ObjectCrypto::legacy_unauthenticated_modes`] opt-in.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tracing::debug;

use crate::content;
use crate::error::{PolicyViolation, Result};
use crate::metadata::{ContentMetadata, FormatVersion};
use crate::suite::{CommitmentPolicy, ContentSuite, check_decrypt, check_encrypt};
use crate::wrap::{S3Keyring, UnwrapRequest, WrapRequest, check_caller_context};

mod stream;

pub use stream::BodyEncryptor;
pub(crate) use stream::{BodyDecryptor, ContentKey, DecryptingReader};

/// Default in-memory limit of the readers: 64 MiB.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::object::DEFAULT_MAX_BUFFER;
/// use envelope_s3::{wrap::AesGcmKeyring, ObjectCrypto};
///
/// # fn main() -> envelope_s3::Result<()> {
/// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new())?);
/// assert_eq!(crypto.buffer_limit(), DEFAULT_MAX_BUFFER);
/// assert_eq!(crypto.max_buffer(1 << 20).buffer_limit(), 1 << 20);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_MAX_BUFFER: u64 = 64 << 20;

/// Encrypts and decrypts object bodies under one keyring and one configuration.
///
/// Defaults: V3 (0x0073) with `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`, no legacy modes, 64 MiB buffer.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::wrap::AesGcmKeyring;
/// use envelope_s3::ObjectCrypto;
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new())?);
/// let no_context = BTreeMap::new();
/// let object = crypto.encrypt(b"hello".to_vec(), &no_context).await?;
/// // Store `object.metadata.to_object_metadata()` as the object's user metadata, `object.body` as its body.
/// let plaintext = crypto.decrypt(&object.metadata, object.body, &no_context).await?;
/// assert_eq!(plaintext, b"hello");
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone)]
pub struct ObjectCrypto {
    keyring: Arc<dyn S3Keyring>,
    policy: CommitmentPolicy,
    suite: ContentSuite,
    legacy_unauthenticated: bool,
    legacy_wrapping: bool,
    max_buffer: u64,
}

/// An encrypted body and the metadata to store with it.
///
/// ```
/// use envelope_s3::wrap::AesGcmKeyring;
/// use envelope_s3::{FormatVersion, ObjectCrypto};
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
/// let object = crypto.encrypt(vec![0; 100], &Default::default()).await?;
/// assert_eq!(object.body.len(), 100 + 16, "GCM appends a 16-byte tag");
/// assert_eq!(object.metadata.version(), FormatVersion::V3);
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncryptedObject {
    /// The content metadata (object user metadata, or split with an instruction file).
    pub metadata: ContentMetadata,
    /// The object body: ciphertext ‖ tag.
    pub body: Vec<u8>,
}

impl ObjectCrypto {
    /// A client over `keyring` with the defaults.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::{ContentSuite, ObjectCrypto};
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert_eq!(crypto.suite(), ContentSuite::AesGcmCommitting);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(keyring: impl S3Keyring + 'static) -> ObjectCrypto {
        ObjectCrypto::with_keyring(Arc::new(keyring))
    }

    /// A client over a shared keyring.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use envelope_s3::wrap::{AesGcmKeyring, S3Keyring};
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let keyring: Arc<dyn S3Keyring> = Arc::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let crypto = ObjectCrypto::with_keyring(keyring.clone());
    /// # let _ = crypto;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_keyring(keyring: Arc<dyn S3Keyring>) -> ObjectCrypto {
        let policy = CommitmentPolicy::RequireEncryptRequireDecrypt;
        ObjectCrypto {
            keyring,
            policy,
            suite: ContentSuite::default_for(policy),
            legacy_unauthenticated: false,
            legacy_wrapping: false,
            max_buffer: DEFAULT_MAX_BUFFER,
        }
    }

    /// Sets the commitment policy and the suite it writes (V2 for `FORBID_ENCRYPT_ALLOW_DECRYPT`,
    /// V3 otherwise).
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::{CommitmentPolicy, ContentSuite, ObjectCrypto};
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?)
    ///     .commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt);
    /// assert_eq!(crypto.suite(), ContentSuite::AesGcm);
    /// # Ok(())
    /// # }
    /// ```
    pub fn commitment_policy(mut self, policy: CommitmentPolicy) -> ObjectCrypto {
        self.policy = policy;
        self.suite = ContentSuite::default_for(policy);
        self
    }

    /// Sets the suite to write; it must agree with the commitment policy and may not be legacy.
    ///
    /// spec: client.md#encryption-algorithm, client.md#key-commitment
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::{ContentSuite, ObjectCrypto};
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert!(crypto.clone().content_suite(ContentSuite::AesGcm).is_err(), "the default policy requires V3");
    /// assert!(crypto.content_suite(ContentSuite::AesCbcLegacy).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn content_suite(mut self, suite: ContentSuite) -> Result<ObjectCrypto> {
        check_encrypt(self.policy, suite)?;
        self.suite = suite;
        Ok(self)
    }

    /// Allows reading legacy unauthenticated content (CBC). Off by default.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?)
    ///     .legacy_unauthenticated_modes(true);
    /// # let _ = crypto;
    /// # Ok(())
    /// # }
    /// ```
    pub fn legacy_unauthenticated_modes(mut self, enabled: bool) -> ObjectCrypto {
        self.legacy_unauthenticated = enabled;
        self
    }

    /// Allows reading data keys wrapped with legacy algorithms: `kms` (KMS without the reserved
    /// context key), `AESWrap` (RFC 3394), `AES` (ECB, V1) and `RSA` (PKCS #1 v1.5). Off by
    /// default; never used for writing.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?)
    ///     .legacy_wrapping_algorithms(true);
    /// # let _ = crypto;
    /// # Ok(())
    /// # }
    /// ```
    pub fn legacy_wrapping_algorithms(mut self, enabled: bool) -> ObjectCrypto {
        self.legacy_wrapping = enabled;
        self
    }

    /// Sets the readers' in-memory limit in bytes (plaintext for encryption, ciphertext for
    /// decryption).
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?).max_buffer(1 << 20);
    /// assert_eq!(crypto.buffer_limit(), 1 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_buffer(mut self, bytes: u64) -> ObjectCrypto {
        self.max_buffer = bytes;
        self
    }

    /// The readers' in-memory limit in bytes.
    ///
    /// ```
    /// use envelope_s3::object::DEFAULT_MAX_BUFFER;
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert_eq!(crypto.buffer_limit(), DEFAULT_MAX_BUFFER);
    /// # Ok(())
    /// # }
    /// ```
    pub fn buffer_limit(&self) -> u64 {
        self.max_buffer
    }

    /// The keyring (the old one of an instruction-file rotation).
    pub(crate) fn keyring(&self) -> &dyn S3Keyring {
        self.keyring.as_ref()
    }

    /// Whether the legacy opt-in (CBC content, unauthenticated ranges) is on.
    pub(crate) fn allows_unauthenticated(&self) -> bool {
        self.legacy_unauthenticated
    }

    /// The suite this client writes.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::{ContentSuite, ObjectCrypto};
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert!(crypto.suite().is_committing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn suite(&self) -> ContentSuite {
        self.suite
    }

    /// Encrypts a whole body held in memory.
    ///
    /// `encryption_context` is bound by KMS wraps (and must be given again on read); raw keys
    /// refuse a non-empty one. It may not use the reserved `aws:x-amz-cek-alg` key.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let reserved = BTreeMap::from([("aws:x-amz-cek-alg".to_string(), "115".to_string())]);
    /// assert!(crypto.encrypt(b"x".to_vec(), &reserved).await.is_err());
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn encrypt(
        &self,
        plaintext: Vec<u8>,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<EncryptedObject> {
        check_encrypt(self.policy, self.suite)?;
        check_caller_context(encryption_context)?;
        let length = plaintext.len() as u64;
        let wrapped = self.keyring.wrap(&WrapRequest::new(self.suite, encryption_context.clone())).await?;
        let data_key = wrapped.data_key.expose_secret();
        let params = content::fresh_params(self.suite, data_key)?;
        let body = content::encrypt(&params, data_key, plaintext)?;
        // spec: content-metadata.md — V2 SHOULD record the plaintext length; V3 has no such key.
        let recorded_length = matches!(self.suite, ContentSuite::AesGcm).then_some(length);
        let metadata = ContentMetadata::new(
            params,
            wrapped.encrypted_data_key,
            wrapped.wrap,
            wrapped.description,
            recorded_length,
        )?;
        debug!(suite = %self.suite, wrap = %wrapped.wrap, bytes = length, "encrypted an object body");
        Ok(EncryptedObject { metadata, body })
    }

    /// Decrypts a whole body held in memory; returns plaintext only once it authenticated.
    ///
    /// `encryption_context` must equal the stored KMS context minus its reserved keys.
    ///
    /// ```
    /// use envelope_s3::error::{Error, SecurityError};
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let mut object = crypto.encrypt(b"hello".to_vec(), &Default::default()).await?;
    /// object.body[0] ^= 1;
    /// let error = crypto.decrypt(&object.metadata, object.body, &Default::default()).await.unwrap_err();
    /// assert!(matches!(error, Error::Security(SecurityError::TagMismatch)));
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn decrypt(
        &self,
        metadata: &ContentMetadata,
        body: Vec<u8>,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>> {
        let suite = metadata.suite();
        // spec: decryption.md#key-commitment — the policy is checked before any decryption.
        check_decrypt(self.policy, suite)?;
        // spec: decryption.md#legacy-decryption — CBC only with the explicit opt-in.
        if suite.is_legacy() && !self.legacy_unauthenticated {
            return Err(PolicyViolation::LegacyContentCipher { cipher: suite.cek_alg() }.into());
        }
        let request = UnwrapRequest::new(metadata, encryption_context).with_legacy_wrapping(self.legacy_wrapping);
        let data_key = self.keyring.unwrap(&request).await?;
        let mut plaintext = content::decrypt(metadata.content(), data_key.expose_secret(), body)?;
        debug!(suite = %suite, version = ?metadata.version(), bytes = plaintext.len(), "decrypted an object body");
        if metadata.version() == FormatVersion::V1 {
            debug!("read a V1 (legacy CBC) object");
        }
        Ok(std::mem::take(&mut *plaintext))
    }

    /// Decrypts the body bytes that start at byte `offset` of the object (`ciphertext` is what a
    /// ranged GET of `bytes=offset-...` returned) **without authentication**: the GCM tag covers
    /// the whole object, so a range cannot be checked. Like the Java client, this needs
    /// [`legacy_unauthenticated_modes`](Self::legacy_unauthenticated_modes). The range must end
    /// before the tag (the last 16 bytes of the body); a V3 object's commitment is still checked.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let object = crypto.encrypt(b"0123456789abcdef-tail".to_vec(), &Default::default()).await?;
    /// assert!(crypto.decrypt_range(&object.metadata, 17, &object.body[17..21], &Default::default()).await.is_err());
    /// let ranged = crypto.legacy_unauthenticated_modes(true);
    /// let tail = ranged.decrypt_range(&object.metadata, 17, &object.body[17..21], &Default::default()).await?;
    /// assert_eq!(tail, b"tail");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn decrypt_range(
        &self,
        metadata: &ContentMetadata,
        offset: u64,
        ciphertext: &[u8],
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>> {
        let suite = metadata.suite();
        check_decrypt(self.policy, suite)?;
        // spec: decryption.md#ranged-gets; the Java client gates ranges behind the legacy opt-in.
        if !self.legacy_unauthenticated {
            return Err(PolicyViolation::UnauthenticatedRange.into());
        }
        let request = UnwrapRequest::new(metadata, encryption_context).with_legacy_wrapping(self.legacy_wrapping);
        let data_key = self.keyring.unwrap(&request).await?;
        let mut plaintext = content::decrypt_range(metadata.content(), data_key.expose_secret(), offset, ciphertext)?;
        debug!(suite = %suite, offset, bytes = plaintext.len(), "decrypted an unauthenticated range");
        Ok(std::mem::take(&mut *plaintext))
    }

    /// Encrypts everything `reader` yields (at most [`buffer_limit`](Self::buffer_limit) bytes);
    /// returns the metadata and a reader of the body.
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    /// use tokio::io::AsyncReadExt;
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let (metadata, mut body) = crypto.encrypt_reader(&b"streamed"[..], &Default::default()).await?;
    /// let mut stored = Vec::new();
    /// body.read_to_end(&mut stored).await?;
    /// let mut plaintext = crypto.decrypt_reader(&metadata, &stored[..], &Default::default()).await?;
    /// let mut out = Vec::new();
    /// plaintext.read_to_end(&mut out).await?;
    /// assert_eq!(out, b"streamed");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn encrypt_reader<R: AsyncRead + Unpin>(
        &self,
        reader: R,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<(ContentMetadata, BodyReader)> {
        let plaintext = read_bounded(reader, self.max_buffer).await?;
        let object = self.encrypt(plaintext, encryption_context).await?;
        Ok((object.metadata, BodyReader::new(object.body)))
    }

    /// Decrypts the body `reader` yields (at most [`buffer_limit`](Self::buffer_limit) bytes);
    /// the returned reader yields plaintext that has already authenticated.
    ///
    /// ```
    /// use envelope_s3::error::{Error, PolicyViolation};
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::ObjectCrypto;
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?).max_buffer(64);
    /// let object = crypto.encrypt(vec![0; 60], &Default::default()).await?;
    /// // 60 + 16 bytes of ciphertext are over the 64-byte limit: refused, nothing released.
    /// let error = crypto.decrypt_reader(&object.metadata, &object.body[..], &Default::default()).await.unwrap_err();
    /// assert!(matches!(error, Error::Policy(PolicyViolation::TooLarge { limit: 64 })));
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn decrypt_reader<R: AsyncRead + Unpin>(
        &self,
        metadata: &ContentMetadata,
        reader: R,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<BodyReader> {
        let body = read_bounded(reader, self.max_buffer).await?;
        let plaintext = self.decrypt(metadata, body, encryption_context).await?;
        Ok(BodyReader::new(plaintext))
    }
}

impl fmt::Debug for ObjectCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectCrypto")
            .field("keyring", &self.keyring)
            .field("policy", &self.policy)
            .field("suite", &self.suite)
            .field("legacy_unauthenticated", &self.legacy_unauthenticated)
            .field("legacy_wrapping", &self.legacy_wrapping)
            .field("max_buffer", &self.max_buffer)
            .finish()
    }
}

async fn read_bounded<R: AsyncRead + Unpin>(reader: R, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    reader.take(limit.saturating_add(1)).read_to_end(&mut out).await?;
    if out.len() as u64 > limit {
        return Err(PolicyViolation::TooLarge { limit }.into());
    }
    Ok(out)
}

/// An in-memory body as a tokio `AsyncRead` (ciphertext after encryption, authenticated
/// plaintext after decryption).
///
/// ```
/// use envelope_s3::object::BodyReader;
/// use tokio::io::AsyncReadExt;
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut reader = BodyReader::new(b"abc".to_vec());
/// assert_eq!(reader.len(), 3);
/// let mut out = String::new();
/// reader.read_to_string(&mut out).await?;
/// assert_eq!(out, "abc");
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct BodyReader(std::io::Cursor<Vec<u8>>);

impl BodyReader {
    /// A reader over `bytes`.
    ///
    /// ```
    /// use envelope_s3::object::BodyReader;
    ///
    /// assert!(BodyReader::new(Vec::new()).is_empty());
    /// ```
    pub fn new(bytes: Vec<u8>) -> BodyReader {
        BodyReader(std::io::Cursor::new(bytes))
    }

    /// The total length in bytes (for a Content-Length).
    ///
    /// ```
    /// use envelope_s3::object::BodyReader;
    ///
    /// assert_eq!(BodyReader::new(vec![0; 5]).len(), 5);
    /// ```
    pub fn len(&self) -> u64 {
        self.0.get_ref().len() as u64
    }

    /// Whether the body is empty.
    ///
    /// ```
    /// use envelope_s3::object::BodyReader;
    ///
    /// assert!(!BodyReader::new(vec![1]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.get_ref().is_empty()
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BodyReader([REDACTED; {} bytes])", self.len())
    }
}
