//! The paved path: a `Client` holding a materials manager and the policies, with one-shot and
//! streaming encrypt and decrypt.

use std::sync::Arc;

use crate::cmm::{DecryptionMaterialsRequest, DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
use crate::crypto::aead::{IV_LEN, TAG_LEN};
use crate::crypto::kdf::COMMITMENT_LEN;
use crate::error::{Error, PolicyViolation, Result};
use crate::header_auth::authenticate_header;
use crate::keyring::Keyring;
use crate::materials::{EncryptedDataKey, EncryptionContext, EncryptionParts, RESERVED_CONTEXT_PREFIX};
use crate::message::header::{self, ContentType, ParseLimits, ParsedHeader};
use crate::redacted::Redacted;
use crate::stream::decryptor::BodyDecryptor;
use crate::stream::encryptor::Encryptor;
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Default frame length of messages envelope writes.
///
/// ```
/// use envelope::client::DEFAULT_FRAME_LENGTH;
/// use envelope::EncryptOptions;
///
/// assert_eq!(EncryptOptions::new().frame_length, DEFAULT_FRAME_LENGTH);
/// // Larger frames mean fewer tags and less overhead, and more memory per stream.
/// let bulk = EncryptOptions::new().frame_length(16 * DEFAULT_FRAME_LENGTH);
/// # let _ = bulk;
/// ```
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

/// Default [`DecryptOptions::max_header_length`]: 1 MiB, room for thousands of encrypted data keys
/// (a KMS one takes about 300 bytes) and the largest encryption context (64 KiB).
///
/// ```
/// use envelope::client::DEFAULT_MAX_HEADER_LENGTH;
/// use envelope::DecryptOptions;
///
/// assert_eq!(DecryptOptions::new().max_header_length, DEFAULT_MAX_HEADER_LENGTH);
/// let tight = DecryptOptions::new().max_header_length(DEFAULT_MAX_HEADER_LENGTH / 16);
/// # let _ = tight;
/// ```
pub const DEFAULT_MAX_HEADER_LENGTH: usize = 1 << 20;

/// Default [`DecryptOptions::max_frame_length`]: 4 MiB, a thousand times the default frame length.
///
/// ```
/// use envelope::client::{DEFAULT_FRAME_LENGTH, DEFAULT_MAX_FRAME_LENGTH};
/// use envelope::DecryptOptions;
///
/// assert_eq!(DecryptOptions::new().max_frame_length, DEFAULT_MAX_FRAME_LENGTH);
/// assert_eq!(DEFAULT_MAX_FRAME_LENGTH, 1024 * DEFAULT_FRAME_LENGTH as usize);
/// ```
pub const DEFAULT_MAX_FRAME_LENGTH: usize = 4 << 20;

/// Encrypts and decrypts messages with one materials manager and one set of policies.
///
/// Cheap to clone; share one per application.
///
/// ```
/// use envelope::{Client, CommitmentPolicy, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> envelope::Result<()> {
/// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?)
///     .commitment_policy(CommitmentPolicy::RequireEncryptRequireDecrypt)
///     .max_encrypted_data_keys(Some(3));
///
/// // Clones share the materials manager; hand one to each task.
/// let worker = client.clone();
/// let message = tokio::spawn(async move { worker.encrypt(b"from a task", &EncryptOptions::new()).await })
///     .await
///     .expect("the task ran")?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new()).await?.plaintext, b"from a task");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) cmm: Arc<dyn MaterialsManager>,
    pub(crate) config: ClientConfig,
}

/// Policies a client applies to every message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientConfig {
    pub commitment_policy: CommitmentPolicy,
    pub max_encrypted_data_keys: Option<usize>,
    pub net_v4_0_0_retry: bool,
}

impl Client {
    /// A client over a materials manager.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::cmm::RequiredEncryptionContextMaterialsManager;
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // Every message must carry a "tenant" pair, authenticated but not stored in the message.
    /// let keyring = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let cmm = RequiredEncryptionContextMaterialsManager::from_keyring(keyring, vec!["tenant".into()])?;
    /// let client = BlockingClient::new(Client::new(cmm));
    ///
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context.clone()))?;
    /// assert!(client.decrypt(&message, &DecryptOptions::new()).is_err(), "the reader must supply the tenant");
    /// let decrypted = client.decrypt(&message, &DecryptOptions::new().encryption_context(context))?;
    /// assert_eq!(decrypted.plaintext, b"secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(cmm: impl MaterialsManager + 'static) -> Client {
        Client::from_arc(Arc::new(cmm))
    }

    /// A client over a shared materials manager.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{
    ///     Client, CommitmentPolicy, DecryptOptions, DefaultMaterialsManager, EncryptOptions, MaterialsManager,
    /// };
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // One manager (and its keyring) behind two clients with different policies.
    /// let cmm: Arc<dyn MaterialsManager> =
    ///     Arc::new(DefaultMaterialsManager::new(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let strict = BlockingClient::new(Client::from_arc(cmm.clone()));
    /// let migrating = BlockingClient::new(
    ///     Client::from_arc(cmm).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt),
    /// );
    ///
    /// let message = migrating.encrypt(b"secret", &EncryptOptions::new())?;
    /// assert_eq!(strict.decrypt(&message, &DecryptOptions::new())?.plaintext, b"secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_arc(cmm: Arc<dyn MaterialsManager>) -> Client {
        Client {
            cmm,
            config: ClientConfig {
                commitment_policy: CommitmentPolicy::default(),
                max_encrypted_data_keys: None,
                net_v4_0_0_retry: true,
            },
        }
    }

    /// A client over a keyring, through the default materials manager.
    ///
    /// ```
    /// use envelope::{Client, CommitmentPolicy};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// assert_eq!(client.policy(), CommitmentPolicy::RequireEncryptRequireDecrypt);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_keyring(keyring: impl Keyring + 'static) -> Client {
        Client::new(DefaultMaterialsManager::new(keyring))
    }

    /// Sets the commitment policy (default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`).
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let keyring = || RawAesKeyring::new("my-app", "key-1", vec![7; 32]);
    /// // A writer that 1.x readers understand, and a reader that accepts its messages during a migration.
    /// let legacy = CommitmentPolicy::ForbidEncryptAllowDecrypt;
    /// let legacy_writer = BlockingClient::new(Client::with_keyring(keyring()?).commitment_policy(legacy));
    /// let message = legacy_writer.encrypt(b"old format", &EncryptOptions::new())?;
    ///
    /// let migrating = CommitmentPolicy::RequireEncryptAllowDecrypt;
    /// let reader = BlockingClient::new(Client::with_keyring(keyring()?).commitment_policy(migrating));
    /// let decrypted = reader.decrypt(&message, &DecryptOptions::new())?;
    /// assert_eq!(decrypted.info.algorithm_suite, AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384);
    ///
    /// // The default policy refuses the non-committing message.
    /// let strict = BlockingClient::new(Client::with_keyring(keyring()?));
    /// assert!(strict.decrypt(&message, &DecryptOptions::new()).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn commitment_policy(mut self, policy: CommitmentPolicy) -> Client {
        self.config.commitment_policy = policy;
        self
    }

    /// Limits how many encrypted data keys a message may carry (default: no limit).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::error::{Error, PolicyViolation};
    /// use envelope::{Client, DecryptOptions, EncryptOptions, Keyring, MultiKeyring};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let first: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-1", vec![1; 32])?);
    /// let second: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("my-app", "key-2", vec![2; 32])?);
    /// let writer = BlockingClient::new(Client::with_keyring(MultiKeyring::new(Some(first.clone()), vec![second])?));
    /// let message = writer.encrypt(b"two copies of the data key", &EncryptOptions::new())?;
    ///
    /// // A reader that bounds the work one message can cause refuses it before trying any key.
    /// let reader = BlockingClient::new(Client::with_keyring(first).max_encrypted_data_keys(Some(1)));
    /// assert!(matches!(
    ///     reader.decrypt(&message, &DecryptOptions::new()),
    ///     Err(Error::Policy(PolicyViolation::TooManyEncryptedDataKeys { limit: 1, found: 2 }))
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_encrypted_data_keys(mut self, limit: Option<usize>) -> Client {
        self.config.max_encrypted_data_keys = limit;
        self
    }

    /// Whether to read messages written by .NET ESDK 4.0.0 by retrying header authentication with
    /// its key derivation, as AWS's own readers do (default: on).
    ///
    /// ```
    /// use envelope::Client;
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // A reader that never sees messages from .NET ESDK 4.0.0 can skip the second attempt.
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?).net_v4_0_0_retry(false);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn net_v4_0_0_retry(mut self, enabled: bool) -> Client {
        self.config.net_v4_0_0_retry = enabled;
        self
    }

    /// The configured commitment policy.
    ///
    /// ```
    /// use envelope::{Client, CommitmentPolicy};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let migrating = client.clone().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    /// assert_eq!(client.policy(), CommitmentPolicy::RequireEncryptRequireDecrypt);
    /// assert_eq!(migrating.policy().name(), "REQUIRE_ENCRYPT_ALLOW_DECRYPT");
    /// # Ok(())
    /// # }
    /// ```
    pub fn policy(&self) -> CommitmentPolicy {
        self.config.commitment_policy
    }
}

/// Options for writing one message.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let options = EncryptOptions::new()
///     .encryption_context(EncryptionContext::from([("purpose", "backup")]))
///     .algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey)
///     .frame_length(64 * 1024);
/// let message = client.encrypt(&vec![0u8; 100_000], &options)?;
///
/// let info = client.decrypt(&message, &DecryptOptions::new())?.info;
/// assert_eq!(info.algorithm_suite, AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// assert_eq!(info.frame_length, 65536);
/// assert_eq!(info.encryption_context, options.encryption_context);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncryptOptions {
    /// The encryption context (no key may start with `aws-crypto-`).
    pub encryption_context: EncryptionContext,
    /// The suite; `None` takes the commitment policy's default (0x0578).
    pub algorithm_suite: Option<AlgorithmSuite>,
    /// Plaintext bytes per frame (default 4096).
    pub frame_length: u32,
    /// Whether a stream of a signed suite may hash on a worker thread once it passes 1 MiB. `None`
    /// leaves it to the front-end: yes for blocking streams, no for async ones. (One-shot calls
    /// always use both cores for large messages.)
    pub hash_on_worker_thread: Option<bool>,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions {
            encryption_context: EncryptionContext::new(),
            algorithm_suite: None,
            frame_length: DEFAULT_FRAME_LENGTH,
            hash_on_worker_thread: None,
        }
    }
}

impl EncryptOptions {
    /// Default options.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, CommitmentPolicy, EncryptOptions};
    ///
    /// let options = EncryptOptions::new();
    /// assert!(options.encryption_context.is_empty());
    /// assert_eq!(options.frame_length, envelope::client::DEFAULT_FRAME_LENGTH);
    /// // No suite named: the client's commitment policy picks it (0x0578 by default).
    /// assert_eq!(options.algorithm_suite, None);
    /// assert_eq!(CommitmentPolicy::default().default_suite(), AlgorithmSuite::DEFAULT);
    /// ```
    pub fn new() -> Self {
        EncryptOptions::default()
    }

    /// Sets the encryption context.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let context = EncryptionContext::new().with("tenant", "acme").with("document", "invoice-2026-001");
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context))?;
    ///
    /// // The pairs travel in the clear in the header: a reader checks them before trusting the plaintext.
    /// let decrypted = client.decrypt(&message, &DecryptOptions::new())?;
    /// assert_eq!(decrypted.info.encryption_context.get("tenant").map(String::as_str), Some("acme"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn encryption_context(mut self, context: EncryptionContext) -> Self {
        self.encryption_context = context;
        self
    }

    /// Sets the suite.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// // Committing but unsigned: smaller and faster, when whoever can decrypt may also encrypt.
    /// let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    /// let message = client.encrypt(b"secret", &options)?;
    /// assert!(!client.decrypt(&message, &DecryptOptions::new())?.info.algorithm_suite.is_signing());
    ///
    /// // The default policy refuses a suite without key commitment.
    /// let legacy = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256);
    /// assert!(client.encrypt(b"secret", &legacy).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn algorithm_suite(mut self, suite: AlgorithmSuite) -> Self {
        self.algorithm_suite = Some(suite);
        self
    }

    /// Sets the frame length.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let writer = client.encrypting_writer(Vec::new(), &EncryptOptions::new().frame_length(1 << 20))?;
    /// assert_eq!(writer.info().frame_length, 1 << 20);
    ///
    /// // Zero would mean a non-framed message, which envelope never writes.
    /// assert!(client.encrypt(b"secret", &EncryptOptions::new().frame_length(0)).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn frame_length(mut self, frame_length: u32) -> Self {
        self.frame_length = frame_length;
        self
    }

    /// Lets (or forbids) a long signed stream hash on a worker thread. Async streams default to
    /// no: when the worker falls behind, a write waits for it on the executor's thread (for at most
    /// the time it takes to hash 256 KiB).
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// // A server that runs one stream per core gains nothing from a second thread per stream.
    /// let options = EncryptOptions::new().hash_on_worker_thread(false);
    /// let mut writer = client.encrypting_writer(Vec::new(), &options)?;
    /// writer.write_all(&vec![0u8; 2 << 20])?;
    /// let message = writer.finish()?;
    /// assert!(message.len() > 2 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn hash_on_worker_thread(mut self, allowed: bool) -> Self {
        self.hash_on_worker_thread = Some(allowed);
        self
    }
}

/// Options for reading one message.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// # let context = EncryptionContext::from([("tenant", "acme")]);
/// # let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context))?;
/// // A reader of untrusted messages: expect the tenant, and bound what one message may cost.
/// let options = DecryptOptions::new()
///     .encryption_context(EncryptionContext::from([("tenant", "acme")]))
///     .max_header_length(64 * 1024)
///     .max_frame_length(256 * 1024);
/// assert_eq!(client.decrypt(&message, &options)?.plaintext, b"secret");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecryptOptions {
    /// The encryption context the caller expects: stored pairs must match; pairs that the message
    /// does not store are required-context pairs and are authenticated.
    pub encryption_context: Option<EncryptionContext>,
    /// Refuse signed messages (streaming readers that must release plaintext early use this).
    pub unsigned_only: bool,
    /// Whether a stream of a signed message may hash on a worker thread once it passes 1 MiB;
    /// `None`: yes for blocking streams, no for async ones.
    pub hash_on_worker_thread: Option<bool>,
    /// Longest header accepted, in bytes (default [`DEFAULT_MAX_HEADER_LENGTH`]). A longer one is
    /// refused with [`PolicyViolation::HeaderTooLong`] as soon as its fields prove it longer,
    /// before the rest of it is read: a reader never holds more header than this.
    pub max_header_length: usize,
    /// Longest frame accepted, in bytes of plaintext (default [`DEFAULT_MAX_FRAME_LENGTH`]); the
    /// body of a non-framed message counts as one frame. Checked on the header's frame-length
    /// field (or the non-framed body's length field) before any of the body is read, and refused
    /// with [`PolicyViolation::FrameTooLong`]: a stream holds about one frame, so this bounds its
    /// memory. One-shot decryption applies the same limits.
    pub max_frame_length: usize,
}

impl Default for DecryptOptions {
    fn default() -> Self {
        DecryptOptions {
            encryption_context: None,
            unsigned_only: false,
            hash_on_worker_thread: None,
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
        }
    }
}

impl DecryptOptions {
    /// Default options.
    ///
    /// ```
    /// use envelope::client::{DEFAULT_MAX_FRAME_LENGTH, DEFAULT_MAX_HEADER_LENGTH};
    /// use envelope::DecryptOptions;
    ///
    /// let options = DecryptOptions::new();
    /// assert_eq!(options.encryption_context, None);
    /// assert!(!options.unsigned_only);
    /// assert_eq!(options.max_header_length, DEFAULT_MAX_HEADER_LENGTH);
    /// assert_eq!(options.max_frame_length, DEFAULT_MAX_FRAME_LENGTH);
    /// ```
    pub fn new() -> Self {
        DecryptOptions::default()
    }

    /// Sets the expected (reproduced) encryption context.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let stored = EncryptionContext::from([("tenant", "acme"), ("document", "invoice-7")]);
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(stored))?;
    ///
    /// // Pairs the caller expects must match the message; a subset is enough.
    /// let expect = |tenant| DecryptOptions::new().encryption_context(EncryptionContext::from([("tenant", tenant)]));
    /// assert!(client.decrypt(&message, &expect("acme")).is_ok());
    /// assert!(client.decrypt(&message, &expect("globex")).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn encryption_context(mut self, context: EncryptionContext) -> Self {
        self.encryption_context = Some(context);
        self
    }

    /// Refuses signed messages.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::error::{Error, PolicyViolation};
    /// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let signed = client.encrypt(b"secret", &EncryptOptions::new())?;
    /// let unsigned_suite = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    /// let unsigned = client.encrypt(b"secret", &unsigned_suite)?;
    ///
    /// let options = DecryptOptions::new().unsigned_only();
    /// assert!(client.decrypt(&unsigned, &options).is_ok());
    /// assert!(matches!(client.decrypt(&signed, &options), Err(Error::Policy(PolicyViolation::SignedMessageRefused))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsigned_only(mut self) -> Self {
        self.unsigned_only = true;
        self
    }

    /// Lets (or forbids) a long signed stream hash on a worker thread (see
    /// [`EncryptOptions::hash_on_worker_thread`]).
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// # let message = client.encrypt(&vec![1u8; 2 << 20], &EncryptOptions::new())?;
    /// // Keep the signature hash on the reading thread.
    /// let options = DecryptOptions::new().hash_on_worker_thread(false);
    /// let mut plaintext = Vec::new();
    /// client.decrypting_reader(&message[..], &options)?.read_to_end(&mut plaintext)?;
    /// assert_eq!(plaintext.len(), 2 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn hash_on_worker_thread(mut self, allowed: bool) -> Self {
        self.hash_on_worker_thread = Some(allowed);
        self
    }

    /// Sets the longest header accepted, in bytes (see [`DecryptOptions::max_header_length`]).
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::error::{Error, PolicyViolation};
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let context: EncryptionContext = (0..100).map(|i| (format!("key-{i}"), "value")).collect();
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context))?;
    ///
    /// let small = DecryptOptions::new().max_header_length(1024);
    /// assert!(matches!(
    ///     client.decrypt(&message, &small),
    ///     Err(Error::Policy(PolicyViolation::HeaderTooLong { limit: 1024, .. }))
    /// ));
    /// assert!(client.decrypt(&message, &DecryptOptions::new()).is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_header_length(mut self, bytes: usize) -> Self {
        self.max_header_length = bytes;
        self
    }

    /// Sets the longest frame accepted, in bytes (see [`DecryptOptions::max_frame_length`]).
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().frame_length(1 << 20))?;
    ///
    /// // A stream holds about one frame: this reader refuses frames over 64 KiB, so 1 MiB ones fail.
    /// let options = DecryptOptions::new().max_frame_length(64 * 1024);
    /// assert!(client.decrypting_reader(&message[..], &options).is_err());
    ///
    /// let mut plaintext = Vec::new();
    /// client.decrypting_reader(&message[..], &DecryptOptions::new())?.read_to_end(&mut plaintext)?;
    /// assert_eq!(plaintext, b"secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_frame_length(mut self, bytes: usize) -> Self {
        self.max_frame_length = bytes;
        self
    }
}

/// What a header says, available before any body byte is read.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::suite::MessageFormat;
/// use envelope::{AlgorithmSuite, Client, ContentType, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// let info = client.decrypt(&message, &DecryptOptions::new())?.info;
///
/// assert_eq!(info.algorithm_suite, AlgorithmSuite::DEFAULT);
/// assert_eq!(info.message_id.len(), MessageFormat::V2.message_id_len());
/// assert_eq!(info.content_type, ContentType::Framed);
/// assert!(info.commitment.is_some(), "v2 messages commit to their key");
/// // A signed suite stores its verification key in the context.
/// assert!(info.encryption_context.contains_key("aws-crypto-public-key"));
/// let providers: Vec<&str> = info.encrypted_data_keys.iter().map(|edk| edk.provider_id.as_str()).collect();
/// assert_eq!(providers, ["my-app"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MessageInfo {
    /// The suite.
    pub algorithm_suite: AlgorithmSuite,
    /// The message id (16 bytes for v1, 32 for v2).
    pub message_id: Vec<u8>,
    /// The encryption context stored in the header.
    pub encryption_context: EncryptionContext,
    /// The encrypted data keys.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The frame length (0 for a non-framed message).
    pub frame_length: u32,
    /// Framed or non-framed body.
    pub content_type: ContentType,
    /// The header-authentication IV (all zeros in format v2, which does not store it).
    pub header_auth_iv: [u8; IV_LEN],
    /// The header-authentication tag.
    pub header_auth_tag: [u8; TAG_LEN],
    /// The key commitment (format v2 only).
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// A decrypted message. Its Debug output shows the plaintext's length, never its bytes.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, Decrypted, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"card 4111", &EncryptOptions::new())?;
/// let decrypted: Decrypted = client.decrypt(&message, &DecryptOptions::new())?;
///
/// assert_eq!(decrypted.plaintext, b"card 4111");
/// // Safe to log: the plaintext shows as a length.
/// let logged = format!("{decrypted:?}");
/// assert!(!logged.contains("52, 49, 49, 49"), "{logged}");
/// # Ok(())
/// # }
/// ```
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The header facts.
    pub info: MessageInfo,
}

impl Client {
    /// Encrypts `plaintext` into one message.
    ///
    /// ```
    /// use envelope::{Client, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
    /// let message = client.encrypt(b"secret", &options).await?;
    /// assert_eq!(message[0], 0x02, "the default suite writes format v2");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn encrypt(&self, plaintext: &[u8], options: &EncryptOptions) -> Result<Vec<u8>> {
        let parts = self.encryption_parts(options, Some(plaintext.len() as u64)).await?;
        crate::oneshot::encrypt(parts, options.frame_length, plaintext)
    }

    /// Decrypts one message. Nothing is returned unless the whole message authenticates.
    ///
    /// ```
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let message = client.encrypt(b"secret", &EncryptOptions::new()).await?;
    ///
    /// let decrypted = client.decrypt(&message, &DecryptOptions::new()).await?;
    /// assert_eq!(decrypted.plaintext, b"secret");
    ///
    /// let mut tampered = message;
    /// tampered[60] ^= 1;
    /// assert!(client.decrypt(&tampered, &DecryptOptions::new()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn decrypt(&self, message: &[u8], options: &DecryptOptions) -> Result<Decrypted> {
        let parsed = header::parse(message, self.parse_limits(options))?;
        let body = self.open(&parsed, &message[..parsed.len], options).await?;
        let plaintext = crate::oneshot::decrypt_body(&parsed, body, message, options.max_frame_length)?;
        Ok(Decrypted { plaintext, info: MessageInfo::from(&parsed) })
    }

    /// Starts a message on a tokio `AsyncWrite`. Call `finish` (or `shutdown`) when done.
    ///
    /// ```
    /// use tokio::io::AsyncWriteExt;
    ///
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// // Any tokio AsyncWrite: a file, a socket, or here a Vec.
    /// let mut writer = client.encrypting_async_writer(Vec::new(), &EncryptOptions::new()).await?;
    /// writer.write_all(b"first part, ").await?;
    /// writer.write_all(b"second part").await?;
    /// let message: Vec<u8> = writer.finish().await?;
    /// # assert!(!message.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn encrypting_async_writer<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        inner: W,
        options: &EncryptOptions,
    ) -> Result<crate::stream::AsyncEncryptingWriter<W>> {
        let started = self.start_message(options, false).await?;
        Ok(crate::stream::AsyncEncryptingWriter::new(inner, started.encryptor, started.header, started.info))
    }

    /// Reads a header from a tokio `AsyncRead` and returns a reader of the plaintext.
    ///
    /// ```
    /// use tokio::io::AsyncReadExt;
    ///
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> envelope::Result<()> {
    /// let client = Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?);
    /// let message = client.encrypt(b"streamed", &EncryptOptions::new()).await?;
    ///
    /// // Any tokio AsyncRead: a file, a socket, or here a byte slice.
    /// let mut reader = client.decrypting_async_reader(&message[..], &DecryptOptions::new()).await?;
    /// assert!(reader.info().algorithm_suite.is_signing());
    /// let mut plaintext = Vec::new();
    /// reader.read_to_end(&mut plaintext).await?;
    /// assert_eq!(plaintext, b"streamed");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn decrypting_async_reader<R: tokio::io::AsyncRead + Unpin>(
        &self,
        mut inner: R,
        options: &DecryptOptions,
    ) -> Result<crate::stream::AsyncDecryptingReader<R>> {
        let (parsed, bytes) = crate::stream::async_io::read_header(&mut inner, self.parse_limits(options)).await?;
        let opened = self.open_stream(parsed, bytes, options, false).await?;
        Ok(crate::stream::AsyncDecryptingReader::new(inner, opened.body, opened.info, opened.leftover))
    }

    /// The materials step of a streaming writer: materials, header, and a ready encryptor.
    /// `hash_on_worker_by_default` is the front-end's answer when the options leave it open.
    pub(crate) async fn start_message(
        &self,
        options: &EncryptOptions,
        hash_on_worker_by_default: bool,
    ) -> Result<StartedMessage> {
        let parts = self.encryption_parts(options, None).await?;
        let (mut encryptor, header) = Encryptor::start(parts, options.frame_length)?;
        if options.hash_on_worker_thread.unwrap_or(hash_on_worker_by_default) {
            encryptor.hash_in_background();
        }
        let info = written_header_info(&header)?;
        Ok(StartedMessage { encryptor, header, info })
    }

    /// The materials step of a streaming reader whose front-end has read the header (`bytes`
    /// holds the header and whatever body bytes were read past it).
    pub(crate) async fn open_stream(
        &self,
        parsed: ParsedHeader,
        mut bytes: Vec<u8>,
        options: &DecryptOptions,
        hash_on_worker_by_default: bool,
    ) -> Result<OpenedStream> {
        let mut body = self.open(&parsed, &bytes[..parsed.len], options).await?;
        if options.hash_on_worker_thread.unwrap_or(hash_on_worker_by_default) {
            body.hash_in_background();
        }
        let leftover = bytes.split_off(parsed.len);
        Ok(OpenedStream { body, info: MessageInfo::from(&parsed), leftover })
    }

    pub(crate) fn parse_limits(&self, options: &DecryptOptions) -> ParseLimits {
        ParseLimits {
            max_encrypted_data_keys: self.config.max_encrypted_data_keys,
            max_header_length: Some(options.max_header_length),
            max_frame_length: Some(options.max_frame_length),
        }
    }

    /// Validates the request, asks the materials manager, and checks what comes back.
    async fn encryption_parts(
        &self,
        options: &EncryptOptions,
        max_plaintext_length: Option<u64>,
    ) -> Result<EncryptionParts> {
        if options.frame_length == 0 {
            return Err(Error::usage("frame length must be at least 1 (envelope never writes non-framed messages)"));
        }
        // spec: client-apis/encrypt.md — callers may not use the reserved prefix.
        if let Some(key) = options.encryption_context.keys().find(|key| key.starts_with(RESERVED_CONTEXT_PREFIX)) {
            return Err(PolicyViolation::ReservedEncryptionContextKey(key.clone()).into());
        }
        let policy = self.config.commitment_policy;
        // A DB-ESDK suite, asked for directly or as the policy's default, is refused before the
        // materials manager runs (no key service call for a message that cannot be written).
        let requested_or_default = options.algorithm_suite.unwrap_or_else(|| policy.default_suite());
        if !requested_or_default.is_esdk_message_suite() {
            return Err(PolicyViolation::NotAMessageSuite { suite: requested_or_default.id() }.into());
        }
        if let Some(suite) = options.algorithm_suite {
            if !policy.allows_encrypt(suite) {
                return Err(PolicyViolation::CommitmentPolicy { suite: suite.id(), policy: policy.name() }.into());
            }
        }
        let request = EncryptionMaterialsRequest::new(options.encryption_context.clone(), policy)
            .with_algorithm_suite(options.algorithm_suite)
            .with_max_plaintext_length(max_plaintext_length);
        let materials = self.cmm.encryption_materials(request).await?;
        let suite = materials.suite();
        if !suite.is_esdk_message_suite() {
            return Err(PolicyViolation::NotAMessageSuite { suite: suite.id() }.into());
        }
        // A third-party materials manager must not smuggle in a suite the policy forbids.
        if !policy.allows_encrypt(suite) {
            return Err(PolicyViolation::CommitmentPolicy { suite: suite.id(), policy: policy.name() }.into());
        }
        if let Some(requested) = options.algorithm_suite {
            if requested != suite {
                return Err(PolicyViolation::SuiteMismatch { requested: requested.id(), provided: suite.id() }.into());
            }
        }
        if let Some(limit) = self.config.max_encrypted_data_keys {
            let found = materials.encrypted_data_keys().len();
            if found > limit {
                return Err(PolicyViolation::TooManyEncryptedDataKeys { limit, found }.into());
            }
        }
        materials.into_parts()
    }

    /// Checks the header against the policies, gets the data key, and authenticates the header.
    async fn open(
        &self,
        parsed: &ParsedHeader,
        header_bytes: &[u8],
        options: &DecryptOptions,
    ) -> Result<BodyDecryptor> {
        let header = &parsed.header;
        let policy = self.config.commitment_policy;
        if !policy.allows_decrypt(header.suite) {
            return Err(PolicyViolation::CommitmentPolicy { suite: header.suite.id(), policy: policy.name() }.into());
        }
        if options.unsigned_only && header.suite.is_signing() {
            return Err(PolicyViolation::SignedMessageRefused.into());
        }
        let request = DecryptionMaterialsRequest::new(
            header.suite,
            policy,
            header.encrypted_data_keys.clone(),
            header.encryption_context.clone(),
            options.encryption_context.clone(),
        );
        let materials = self.cmm.decryption_materials(request).await?;
        if materials.suite() != header.suite {
            return Err(PolicyViolation::SuiteMismatch {
                requested: header.suite.id(),
                provided: materials.suite().id(),
            }
            .into());
        }
        let (key, proof) = authenticate_header(parsed, &materials, self.config.net_v4_0_0_retry)?;
        let (_, verification_key) = materials.into_parts()?;
        Ok(BodyDecryptor::new(parsed, header_bytes, key, proof, verification_key, options.max_frame_length))
    }
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext", &Redacted::of(&self.plaintext))
            .field("info", &self.info)
            .finish()
    }
}

/// A streaming writer's start: the header to write first and the encryptor for the body.
pub(crate) struct StartedMessage {
    pub encryptor: Encryptor,
    pub header: Vec<u8>,
    pub info: MessageInfo,
}

/// A streaming reader's start: the authenticated header's body decryptor and the body bytes
/// already read.
pub(crate) struct OpenedStream {
    pub body: BodyDecryptor,
    pub info: MessageInfo,
    pub leftover: Vec<u8>,
}

/// What a header we just wrote says (streaming writers report it before any body byte).
fn written_header_info(header: &[u8]) -> Result<MessageInfo> {
    let parsed = header::parse(header, ParseLimits::default())?;
    Ok(MessageInfo::from(&parsed))
}

impl From<&ParsedHeader> for MessageInfo {
    fn from(parsed: &ParsedHeader) -> MessageInfo {
        let header = &parsed.header;
        MessageInfo {
            algorithm_suite: header.suite,
            message_id: header.message_id.clone(),
            encryption_context: header.encryption_context.clone(),
            encrypted_data_keys: header.encrypted_data_keys.clone(),
            frame_length: header.frame_length,
            content_type: header.content_type,
            header_auth_iv: parsed.auth_iv,
            header_auth_tag: parsed.auth_tag,
            commitment: header.commitment,
        }
    }
}
