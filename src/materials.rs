//! Cryptographic materials: the data key, its encrypted copies, the encryption context and the
//! signing or verification key that one message needs.
//!
//! spec: framework/structures.md

use std::fmt;

use zeroize::Zeroizing;

use crate::crypto::signature::{SigningKey, VerificationKey};
use crate::error::{Error, KeyringError, PolicyViolation, Result};
use crate::suite::{AlgorithmSuite, EdkWrapping};

pub use crate::encryption_context::EncryptionContext;

/// Prefix of encryption context keys that only the SDK itself may write.
///
/// ```
/// use envelope::materials::RESERVED_CONTEXT_PREFIX;
/// use envelope::EncryptionContext;
///
/// // Drop SDK-written pairs before showing a message's context to a user.
/// let stored = EncryptionContext::from([("tenant", "acme"), ("aws-crypto-public-key", "A0Jk…")]);
/// let callers: EncryptionContext = stored
///     .iter()
///     .filter(|(key, _)| !key.starts_with(RESERVED_CONTEXT_PREFIX))
///     .map(|(key, value)| (key.as_str(), value.as_str()))
///     .collect();
/// assert_eq!(callers, EncryptionContext::from([("tenant", "acme")]));
/// ```
pub const RESERVED_CONTEXT_PREFIX: &str = "aws-crypto-";

/// Context key that carries the signature verification key of signed suites.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::materials::PUBLIC_KEY_CONTEXT_KEY;
/// use envelope::{AlgorithmSuite, Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let signed = client.encrypt(b"x", &EncryptOptions::new())?;
/// let unsigned_suite = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
/// let unsigned = client.encrypt(b"x", &unsigned_suite)?;
/// let has_key = |message: &[u8]| -> envelope::Result<bool> {
///     let info = client.decrypt(message, &DecryptOptions::new())?.info;
///     Ok(info.encryption_context.contains_key(PUBLIC_KEY_CONTEXT_KEY))
/// };
/// assert!(has_key(&signed)?);
/// assert!(!has_key(&unsigned)?);
/// # Ok(())
/// # }
/// ```
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// A plaintext data key. Zeroized on drop; its Debug output is redacted.
///
/// ```
/// use envelope::DataKey;
///
/// # fn main() -> envelope::Result<()> {
/// let key = DataKey::generate(32)?;
/// assert_eq!(key.len(), 32);
/// assert_eq!(format!("{key:?}"), "DataKey([REDACTED; 32 bytes])");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DataKey(Zeroizing<Vec<u8>>);

impl DataKey {
    /// Wraps key bytes.
    ///
    /// ```
    /// use envelope::DataKey;
    ///
    /// // E.g. in a keyring that has just unwrapped an EDK: the bytes are moved in, not copied.
    /// let unwrapped: Vec<u8> = vec![0x5A; 32];
    /// let key = DataKey::new(unwrapped);
    /// assert_eq!(key.len(), 32);
    /// ```
    pub fn new(bytes: Vec<u8>) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// A fresh random data key of `len` bytes.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::DEFAULT;
    /// let key = DataKey::generate(suite.data_key_len())?;
    /// assert_ne!(key.expose_secret(), DataKey::generate(suite.data_key_len())?.expose_secret());
    /// # Ok(())
    /// # }
    /// ```
    pub fn generate(len: usize) -> Result<DataKey> {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        crate::crypto::rand::fill(&mut bytes)?;
        Ok(DataKey(bytes))
    }

    /// The key bytes. Named so that every use is easy to find in review.
    ///
    /// ```
    /// use envelope::DataKey;
    ///
    /// let key = DataKey::new(vec![1, 2, 3, 4]);
    /// // Hand the bytes to a wrapping primitive; never log or store them.
    /// let bytes: &[u8] = key.expose_secret();
    /// assert_eq!(bytes, [1, 2, 3, 4]);
    /// ```
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bytes.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey};
    ///
    /// let key = DataKey::new(vec![0; 24]);
    /// assert_eq!(key.len(), AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384.data_key_len());
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (never true for a key that passed materials validation).
    ///
    /// ```
    /// use envelope::DataKey;
    ///
    /// assert!(DataKey::new(Vec::new()).is_empty());
    /// assert!(!DataKey::new(vec![0; 16]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey([REDACTED; {} bytes])", self.0.len())
    }
}

/// The key of one encrypted data key's symmetric signature (the DB-ESDK suites): derived from
/// that EDK's intermediate key, so only its recipients can compute or check the signature.
/// Zeroized on drop; its Debug output is redacted.
///
/// spec: framework/structures.md#symmetric-signing-keys, algorithm-suites.md#intermediate-key-wrapping
///
/// ```
/// use envelope::SymmetricSigningKey;
///
/// let key = SymmetricSigningKey::new(vec![7; 32]);
/// assert_eq!(key.expose_secret(), &[7; 32]);
/// assert_eq!(format!("{key:?}"), "SymmetricSigningKey([REDACTED; 32 bytes])");
/// ```
#[derive(Clone)]
pub struct SymmetricSigningKey(Zeroizing<Vec<u8>>);

impl SymmetricSigningKey {
    /// Wraps key bytes (a keyring derives them; see the hierarchical keyring's intermediate
    /// key wrapping).
    ///
    /// ```
    /// use envelope::SymmetricSigningKey;
    ///
    /// let key = SymmetricSigningKey::new(vec![0x42; 32]);
    /// assert_eq!(key.expose_secret().len(), 32);
    /// ```
    pub fn new(bytes: Vec<u8>) -> SymmetricSigningKey {
        SymmetricSigningKey(Zeroizing::new(bytes))
    }

    /// The key bytes. Named so that every use is easy to find in review.
    ///
    /// ```
    /// use envelope::SymmetricSigningKey;
    ///
    /// let key = SymmetricSigningKey::new(vec![1, 2, 3]);
    /// assert_eq!(key.expose_secret(), &[1, 2, 3]);
    /// ```
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SymmetricSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SymmetricSigningKey([REDACTED; {} bytes])", self.0.len())
    }
}

/// One encrypted copy of the data key, as stored in the message header.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
/// let info = client.decrypt(&message, &DecryptOptions::new())?.info;
///
/// // A raw AES EDK names its key namespace as provider id; its provider info starts with the key name.
/// let edk = &info.encrypted_data_keys[0];
/// assert_eq!(edk.provider_id, "my-app");
/// assert!(edk.provider_info.starts_with(b"key-1"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EncryptedDataKey {
    /// Who can decrypt it: `aws-kms`, or a raw keyring's key namespace.
    pub provider_id: String,
    /// Provider-specific key information (e.g. the KMS key ARN, or the raw key name and IV).
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

impl EncryptedDataKey {
    /// Builds an EDK.
    ///
    /// ```
    /// use envelope::EncryptedDataKey;
    ///
    /// let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let edk = EncryptedDataKey::new("aws-kms", arn.as_bytes().to_vec(), vec![0x01; 184]);
    /// assert_eq!(edk.provider_id, "aws-kms");
    /// // Debug shows who can decrypt it and the ciphertext's length, not the ciphertext.
    /// assert!(format!("{edk:?}").contains("ciphertext_len: 184"));
    /// ```
    pub fn new(provider_id: impl Into<String>, provider_info: Vec<u8>, ciphertext: Vec<u8>) -> Self {
        EncryptedDataKey { provider_id: provider_id.into(), provider_info, ciphertext }
    }

    /// Provider info as text when it is UTF-8, hex otherwise (for messages and metadata).
    ///
    /// ```
    /// use envelope::EncryptedDataKey;
    ///
    /// let kms = EncryptedDataKey::new("aws-kms", b"arn:aws:kms:us-east-1:111122223333:key/k".to_vec(), vec![]);
    /// assert_eq!(kms.provider_info_display(), "arn:aws:kms:us-east-1:111122223333:key/k");
    ///
    /// let binary = EncryptedDataKey::new("my-app", vec![0x00, 0xff], vec![]);
    /// assert_eq!(binary.provider_info_display(), "00ff");
    /// ```
    pub fn provider_info_display(&self) -> String {
        match std::str::from_utf8(&self.provider_info) {
            Ok(text) if text.chars().all(|c| !c.is_control()) => text.to_owned(),
            _ => self.provider_info.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl fmt::Debug for EncryptedDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedDataKey")
            .field("provider_id", &self.provider_id)
            .field("provider_info", &self.provider_info_display())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Everything needed to write one message.
///
/// ```
/// use envelope::{AlgorithmSuite, DataKey, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
///
/// # fn main() -> envelope::Result<()> {
/// // What a keyring does with the materials on encrypt: set the data key, add its wrapped copy.
/// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
/// let mut materials = EncryptionMaterials::new(suite, EncryptionContext::from([("tenant", "acme")]), vec![], None)?;
/// materials.set_data_key(DataKey::generate(suite.data_key_len())?)?;
/// materials.push_encrypted_data_key(EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![0; 60]));
/// assert_eq!(materials.encrypted_data_keys().len(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct EncryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_encryption_context_keys: Vec<String>,
    data_key: Option<DataKey>,
    encrypted_data_keys: Vec<EncryptedDataKey>,
    signing_key: Option<SigningKey>,
    /// One per EDK, in EDK order, under suites with a symmetric signature; empty otherwise.
    symmetric_signing_keys: Vec<SymmetricSigningKey>,
}

impl EncryptionMaterials {
    /// Materials for `suite` with no data key yet. A signing key is required exactly when the
    /// suite signs.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials, SigningKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let unsigned = EncryptionMaterials::new(suite, context.clone(), vec![], None)?;
    /// assert!(unsigned.data_key().is_none());
    ///
    /// // A signed suite needs a signing key of its algorithm.
    /// let signing_key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// assert!(EncryptionMaterials::new(AlgorithmSuite::DEFAULT, context.clone(), vec![], Some(signing_key)).is_ok());
    /// assert!(EncryptionMaterials::new(AlgorithmSuite::DEFAULT, context.clone(), vec![], None).is_err());
    ///
    /// // Required keys must be in the context.
    /// assert!(EncryptionMaterials::new(suite, context, vec!["region".into()], None).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_encryption_context_keys: Vec<String>,
        signing_key: Option<SigningKey>,
    ) -> Result<EncryptionMaterials> {
        match (&signing_key, suite.signature()) {
            (Some(key), Some(alg)) if key.algorithm() == alg => {}
            (None, None) => {}
            _ => return Err(Error::usage(format!("suite {suite} and the signing key do not agree"))),
        }
        for key in &required_encryption_context_keys {
            if !encryption_context.contains_key(key) {
                return Err(PolicyViolation::MissingRequiredEncryptionContextKey(key.clone()).into());
            }
        }
        Ok(EncryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys,
            data_key: None,
            encrypted_data_keys: Vec::new(),
            signing_key,
            symmetric_signing_keys: Vec::new(),
        })
    }

    /// The suite the message will use.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// // A keyring sizes the data key it generates by the suite.
    /// let key = DataKey::generate(materials.suite().data_key_len())?;
    /// assert_eq!(key.len(), 32);
    /// # Ok(())
    /// # }
    /// ```
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context, including `aws-crypto-public-key` for signed suites.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = EncryptionMaterials::new(suite, context.clone(), vec![], None)?;
    /// // A keyring that binds the context (raw AES does) authenticates exactly these pairs.
    /// assert_eq!(materials.encryption_context(), &context);
    /// # Ok(())
    /// # }
    /// ```
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// Context keys that are authenticated but not stored in the message.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "billing")]);
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = EncryptionMaterials::new(suite, context, vec!["tenant".into()], None)?;
    /// // "tenant" is authenticated but left out of the message: readers must supply it.
    /// assert_eq!(materials.required_encryption_context_keys(), ["tenant"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn required_encryption_context_keys(&self) -> &[String] {
        &self.required_encryption_context_keys
    }

    /// The plaintext data key, once a keyring has generated it.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// // A keyring generates the data key only when no keyring before it did.
    /// if materials.data_key().is_none() {
    ///     materials.set_data_key(DataKey::generate(suite.data_key_len())?)?;
    /// }
    /// assert_eq!(materials.data_key().map(DataKey::len), Some(32));
    /// # Ok(())
    /// # }
    /// ```
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or the length does not fit the suite.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.set_data_key(DataKey::new(vec![0; 16])).is_err(), "this suite needs 32 bytes");
    /// materials.set_data_key(DataKey::generate(32)?)?;
    /// assert!(materials.set_data_key(DataKey::generate(32)?).is_err(), "set only once");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        fill_data_key(&mut self.data_key, self.suite, key, "encryption")
    }

    /// The encrypted copies of the data key collected so far.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.encrypted_data_keys().is_empty());
    /// materials.push_encrypted_data_key(EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![0; 60]));
    /// assert_eq!(materials.encrypted_data_keys()[0].provider_id, "my-app");
    /// # Ok(())
    /// # }
    /// ```
    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }

    /// Adds an encrypted copy of the data key.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, EncryptedDataKey, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// # let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// # materials.set_data_key(DataKey::generate(32)?)?;
    /// // In a keyring's `on_encrypt`, after wrapping the data key under its own key:
    /// let wrapped: Vec<u8> = vec![0; 60]; // the wrapped key, from the keyring's cipher
    /// materials.push_encrypted_data_key(EncryptedDataKey::new("my-app", b"key-1".to_vec(), wrapped));
    /// assert_eq!(materials.encrypted_data_keys().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_encrypted_data_key(&mut self, edk: EncryptedDataKey) {
        self.encrypted_data_keys.push(edk);
    }

    /// Adds an encrypted copy of the data key made with intermediate key wrapping, and the
    /// symmetric signing key derived from its intermediate key. Fails unless the suite has a
    /// symmetric signature (the DB-ESDK suites), or when EDKs were added without their keys.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, EncryptedDataKey, EncryptionContext, EncryptionMaterials, SymmetricSigningKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    /// let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// materials.set_data_key(DataKey::generate(32)?)?;
    /// let edk = EncryptedDataKey::new("my-app", b"key-1".to_vec(), vec![0; 140]);
    /// materials.push_encrypted_data_key_with_signing_key(edk, SymmetricSigningKey::new(vec![5; 32]))?;
    /// assert_eq!(materials.symmetric_signing_keys().len(), materials.encrypted_data_keys().len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_encrypted_data_key_with_signing_key(
        &mut self,
        edk: EncryptedDataKey,
        signing_key: SymmetricSigningKey,
    ) -> Result<()> {
        if self.suite.symmetric_signature().is_none() {
            return Err(Error::usage(format!("suite {} has no symmetric signature", self.suite)));
        }
        if self.symmetric_signing_keys.len() != self.encrypted_data_keys.len() {
            return Err(Error::usage(format!(
                "suite {} needs intermediate key wrapping for every encrypted data key, and one was added without its symmetric signing key",
                self.suite
            )));
        }
        self.encrypted_data_keys.push(edk);
        self.symmetric_signing_keys.push(signing_key);
        Ok(())
    }

    /// The symmetric signing keys, one per encrypted data key in the same order (empty unless the
    /// suite has a symmetric signature).
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.symmetric_signing_keys().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn symmetric_signing_keys(&self) -> &[SymmetricSigningKey] {
        &self.symmetric_signing_keys
    }

    /// Checks that every encrypted data key came with its symmetric signing key when the suite
    /// needs intermediate key wrapping (a keyring that wraps the data key directly under such a
    /// suite is refused here, whoever wrote it).
    pub(crate) fn check_edk_wrapping(&self) -> Result<()> {
        if self.suite.edk_wrapping() == EdkWrapping::Intermediate
            && self.symmetric_signing_keys.len() != self.encrypted_data_keys.len()
        {
            return Err(KeyringError::Wrap(format!(
                "suite {} needs intermediate key wrapping, but the keyring wrapped {} of {} encrypted data keys without it \
                 (only the hierarchical keyring implements intermediate key wrapping)",
                self.suite,
                self.encrypted_data_keys.len() - self.symmetric_signing_keys.len().min(self.encrypted_data_keys.len()),
                self.encrypted_data_keys.len()
            ))
            .into());
        }
        Ok(())
    }

    /// The key that signs the message, for signed suites.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials, SigningKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// let materials = EncryptionMaterials::new(AlgorithmSuite::DEFAULT, EncryptionContext::new(), vec![], Some(key))?;
    /// assert_eq!(materials.signing_key().map(|key| key.algorithm()), Some(SignatureAlgorithm::EcdsaP384Sha384));
    /// # Ok(())
    /// # }
    /// ```
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref()
    }

    /// A copy for one more message (the caching materials manager hands one out per hit): the
    /// data key bytes are copied into a new zeroize-on-drop buffer, the signing key pair is shared.
    pub(crate) fn duplicate(&self) -> EncryptionMaterials {
        EncryptionMaterials {
            suite: self.suite,
            encryption_context: self.encryption_context.clone(),
            required_encryption_context_keys: self.required_encryption_context_keys.clone(),
            data_key: self.data_key.clone(),
            encrypted_data_keys: self.encrypted_data_keys.clone(),
            signing_key: self.signing_key.as_ref().map(SigningKey::share),
            symmetric_signing_keys: self.symmetric_signing_keys.clone(),
        }
    }

    /// Splits the materials into the parts the message writer consumes.
    pub(crate) fn into_parts(self) -> Result<EncryptionParts> {
        let data_key = self.data_key.ok_or_else(|| Error::usage("encryption materials hold no data key"))?;
        if self.encrypted_data_keys.is_empty() {
            return Err(Error::usage("encryption materials hold no encrypted data key"));
        }
        Ok(EncryptionParts {
            suite: self.suite,
            encryption_context: self.encryption_context,
            required_encryption_context_keys: self.required_encryption_context_keys,
            data_key,
            encrypted_data_keys: self.encrypted_data_keys,
            signing_key: self.signing_key,
        })
    }
}

/// Validated encryption materials, taken apart for the writer.
pub(crate) struct EncryptionParts {
    pub suite: AlgorithmSuite,
    pub encryption_context: EncryptionContext,
    pub required_encryption_context_keys: Vec<String>,
    pub data_key: DataKey,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    pub signing_key: Option<SigningKey>,
}

/// Everything needed to read one message.
///
/// ```
/// use envelope::{AlgorithmSuite, DataKey, DecryptionMaterials, EncryptionContext};
///
/// # fn main() -> envelope::Result<()> {
/// // What a keyring does with the materials on decrypt: set the key it unwrapped.
/// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
/// let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
/// let unwrapped = DataKey::new(vec![0x11; 32]); // from the keyring's cipher
/// materials.set_data_key(unwrapped)?;
/// assert!(materials.data_key().is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DecryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_encryption_context_keys: Vec<String>,
    data_key: Option<DataKey>,
    verification_key: Option<VerificationKey>,
    /// Set with the data key under suites with a symmetric signature.
    symmetric_signing_key: Option<SymmetricSigningKey>,
}

impl DecryptionMaterials {
    /// Materials for `suite` with no data key yet. A verification key is required exactly when
    /// the suite signs.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext, SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let context = EncryptionContext::new();
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let unsigned = DecryptionMaterials::new(suite, context.clone(), vec![], None)?;
    /// assert!(unsigned.verification_key().is_none());
    ///
    /// // A signed suite needs the verification key from the message's `aws-crypto-public-key` pair.
    /// # let signer = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// # let stored = signer.public_key_context_value();
    /// let key = VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, &stored)?;
    /// assert!(DecryptionMaterials::new(AlgorithmSuite::DEFAULT, context.clone(), vec![], Some(key)).is_ok());
    /// assert!(DecryptionMaterials::new(AlgorithmSuite::DEFAULT, context, vec![], None).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_encryption_context_keys: Vec<String>,
        verification_key: Option<VerificationKey>,
    ) -> Result<DecryptionMaterials> {
        match (&verification_key, suite.signature()) {
            (Some(key), Some(alg)) if key.algorithm() == alg => {}
            (None, None) => {}
            _ => return Err(Error::usage(format!("suite {suite} and the verification key do not agree"))),
        }
        Ok(DecryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys,
            data_key: None,
            verification_key,
            symmetric_signing_key: None,
        })
    }

    /// The message's suite.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256;
    /// let materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// // A keyring checks that the key it unwrapped has the suite's length.
    /// assert_eq!(materials.suite().data_key_len(), 16);
    /// # Ok(())
    /// # }
    /// ```
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context: stored pairs plus the reproduced required pairs.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = DecryptionMaterials::new(suite, context, vec![], None)?;
    /// assert_eq!(materials.encryption_context().get("tenant").map(String::as_str), Some("acme"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// Context keys that were authenticated but not stored in the message.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // The context holds the stored pairs and the required pairs the reader supplied.
    /// let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "billing")]);
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let materials = DecryptionMaterials::new(suite, context, vec!["tenant".into()], None)?;
    /// assert_eq!(materials.required_encryption_context_keys(), ["tenant"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn required_encryption_context_keys(&self) -> &[String] {
        &self.required_encryption_context_keys
    }

    /// The plaintext data key, once a keyring has recovered it.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    /// let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.data_key().is_none());
    /// materials.set_data_key(DataKey::new(vec![0x11; 32]))?;
    /// assert_eq!(materials.data_key().map(DataKey::len), Some(32));
    /// # Ok(())
    /// # }
    /// ```
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or the length does not fit the suite.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256;
    /// let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.set_data_key(DataKey::new(vec![0; 32])).is_err(), "this suite needs 16 bytes");
    /// materials.set_data_key(DataKey::new(vec![0; 16]))?;
    /// assert!(materials.set_data_key(DataKey::new(vec![0; 16])).is_err(), "set only once");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        // spec: structures.md#symmetric-signing-key — present if and only if the data key is.
        if self.suite.edk_wrapping() == EdkWrapping::Intermediate {
            return Err(KeyringError::Wrap(format!(
                "suite {} needs intermediate key wrapping, which this keyring does not implement \
                 (only the hierarchical keyring does): the data key must come with its symmetric signing key",
                self.suite
            ))
            .into());
        }
        fill_data_key(&mut self.data_key, self.suite, key, "decryption")
    }

    /// Sets the data key unwrapped with intermediate key wrapping, and the symmetric signing key
    /// derived from that EDK's intermediate key. Fails unless the suite has a symmetric signature,
    /// if a data key is already set, or if the length does not fit the suite.
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DataKey, DecryptionMaterials, EncryptionContext, SymmetricSigningKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    /// let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// // A keyring that wraps data keys directly cannot serve this suite.
    /// assert!(materials.set_data_key(DataKey::new(vec![0x11; 32])).is_err());
    /// materials.set_data_key_with_signing_key(DataKey::new(vec![0x11; 32]), SymmetricSigningKey::new(vec![5; 32]))?;
    /// assert!(materials.symmetric_signing_key().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_data_key_with_signing_key(&mut self, key: DataKey, signing_key: SymmetricSigningKey) -> Result<()> {
        if self.suite.symmetric_signature().is_none() {
            return Err(Error::usage(format!("suite {} has no symmetric signature", self.suite)));
        }
        fill_data_key(&mut self.data_key, self.suite, key, "decryption")?;
        self.symmetric_signing_key = Some(signing_key);
        Ok(())
    }

    /// The symmetric signing key of the EDK that was unwrapped (suites with a symmetric
    /// signature only).
    ///
    /// ```
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let suite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
    /// let materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None)?;
    /// assert!(materials.symmetric_signing_key().is_none(), "no data key yet");
    /// # Ok(())
    /// # }
    /// ```
    pub fn symmetric_signing_key(&self) -> Option<&SymmetricSigningKey> {
        self.symmetric_signing_key.as_ref()
    }

    /// The key that verifies the footer signature, for signed suites.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{AlgorithmSuite, DecryptionMaterials, EncryptionContext, SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let stored = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?.public_key_context_value();
    /// let key = VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, &stored)?;
    /// let materials = DecryptionMaterials::new(AlgorithmSuite::DEFAULT, EncryptionContext::new(), vec![], Some(key))?;
    /// assert_eq!(materials.verification_key().map(|key| key.algorithm()), Some(SignatureAlgorithm::EcdsaP384Sha384));
    /// # Ok(())
    /// # }
    /// ```
    pub fn verification_key(&self) -> Option<&VerificationKey> {
        self.verification_key.as_ref()
    }

    /// A copy for one more message (the caching materials manager hands one out per hit); the
    /// data key bytes are copied into a new zeroize-on-drop buffer.
    pub(crate) fn duplicate(&self) -> DecryptionMaterials {
        DecryptionMaterials {
            suite: self.suite,
            encryption_context: self.encryption_context.clone(),
            required_encryption_context_keys: self.required_encryption_context_keys.clone(),
            data_key: self.data_key.clone(),
            verification_key: self.verification_key.clone(),
            symmetric_signing_key: self.symmetric_signing_key.clone(),
        }
    }

    pub(crate) fn into_parts(self) -> Result<(DataKey, Option<VerificationKey>)> {
        let data_key = self.data_key.ok_or_else(|| Error::usage("decryption materials hold no data key"))?;
        Ok((data_key, self.verification_key))
    }
}

/// Puts a data key into an empty slot, checking its length against the suite.
fn fill_data_key(slot: &mut Option<DataKey>, suite: AlgorithmSuite, key: DataKey, kind: &str) -> Result<()> {
    if slot.is_some() {
        return Err(Error::usage(format!("{kind} materials already hold a data key")));
    }
    if key.len() != suite.data_key_len() {
        return Err(Error::usage(format!(
            "data key is {} bytes; suite {suite} needs {}",
            key.len(),
            suite.data_key_len()
        )));
    }
    *slot = Some(key);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_debug_is_redacted() {
        let key = DataKey::new(vec![0xAB; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab"), "{shown}");
    }

    #[test]
    fn materials_refuse_a_second_or_misfit_data_key() {
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let mut materials = EncryptionMaterials::new(suite, EncryptionContext::new(), vec![], None).unwrap();
        assert!(materials.set_data_key(DataKey::new(vec![0; 16])).is_err());
        materials.set_data_key(DataKey::new(vec![0; 32])).unwrap();
        assert!(materials.set_data_key(DataKey::new(vec![0; 32])).is_err());
    }
}
