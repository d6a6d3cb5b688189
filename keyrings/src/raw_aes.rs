//! The raw AES keyring: wraps data keys locally with AES-GCM under a caller-supplied key.
//!
//! spec: framework/raw-aes-keyring.md

use std::fmt;

use async_trait::async_trait;
use envelope::error::{EdkFailure, KeyringError};
use envelope::keyring::ensure_no_data_key;
use envelope::serialize_encryption_context;
use envelope::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, Result};
use zeroize::Zeroizing;

use crate::aes_gcm::{IV_LEN, TAG_LEN, WrappingKey, fill_random};
use crate::validate_names;

/// The tag length written into (and required of) the provider info, in bits.
const TAG_LEN_BITS: u32 = (TAG_LEN * 8) as u32;
/// Bytes after the key name in the provider info: tag length (4), IV length (4), IV.
const PROVIDER_INFO_SUFFIX_LEN: usize = 4 + 4 + IV_LEN;

/// Wraps data keys with AES-GCM under a local 128-, 192- or 256-bit key.
///
/// Every EDK it writes is bound to the full encryption context of the message (the context is the
/// AES-GCM additional authenticated data), so it only unwraps under the same context. EDKs carry
/// the key namespace as provider id and `key name ‖ tag bits ‖ IV length ‖ IV` as provider info:
/// messages interoperate with every AWS Encryption SDK's raw AES keyring (or JCE / raw master key)
/// configured with the same namespace, name and key.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// // In practice the 32 bytes come from a secrets store, never from source code.
/// # let key_from_secrets_store = || vec![0x42; 32];
/// let keyring = RawAesKeyring::new("billing", "2026-01", key_from_secrets_store())?;
/// let client = BlockingClient::new(Client::with_keyring(keyring));
///
/// let context = EncryptionContext::from([("invoice", "2026-0042")]);
/// let message = client.encrypt(b"amount due: 120 EUR", &EncryptOptions::new().encryption_context(context))?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"amount due: 120 EUR");
/// # Ok(())
/// # }
/// ```
pub struct RawAesKeyring {
    key_namespace: String,
    key_name: String,
    /// Built once: no key schedule per message.
    key: WrappingKey,
    key_bits: usize,
    /// `key name ‖ tag length ‖ IV length`: everything in the provider info but the IV.
    provider_info_prefix: Vec<u8>,
    /// How failures name this keyring.
    label: String,
}

impl RawAesKeyring {
    /// A keyring over `wrapping_key` (16, 24 or 32 random bytes).
    ///
    /// Fails when the key has another length, or when the namespace is reserved for the AWS KMS
    /// keyrings (`aws-kms…`). The key bytes are zeroized once the AES key schedule is built.
    ///
    /// ```
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("billing", "2026-01", vec![0x42; 32])?;
    /// assert_eq!(keyring.key_bits(), 256);
    ///
    /// assert!(RawAesKeyring::new("billing", "short", vec![0x42; 20]).is_err(), "16, 24 or 32 bytes only");
    /// assert!(RawAesKeyring::new("aws-kms", "2026-01", vec![0x42; 32]).is_err(), "namespace reserved for KMS");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        key_namespace: impl Into<String>,
        key_name: impl Into<String>,
        wrapping_key: Vec<u8>,
    ) -> Result<RawAesKeyring> {
        let wrapping_key = Zeroizing::new(wrapping_key);
        let key_namespace = key_namespace.into();
        let key_name = key_name.into();
        validate_names("raw AES", &key_namespace, &key_name, PROVIDER_INFO_SUFFIX_LEN)?;
        // spec: raw-aes-keyring.md#wrapping-algorithm — initialization MUST fail on another key length.
        if !matches!(wrapping_key.len(), 16 | 24 | 32) {
            return Err(KeyringError::Configuration(format!(
                "a raw AES wrapping key is 16, 24 or 32 bytes, not {}",
                wrapping_key.len()
            ))
            .into());
        }
        let key = WrappingKey::new(&wrapping_key)?;
        let mut provider_info_prefix = Vec::with_capacity(key_name.len() + 8);
        provider_info_prefix.extend_from_slice(key_name.as_bytes());
        provider_info_prefix.extend_from_slice(&TAG_LEN_BITS.to_be_bytes());
        provider_info_prefix.extend_from_slice(&(IV_LEN as u32).to_be_bytes());
        let label = format!("raw AES keyring {key_namespace}/{key_name}");
        Ok(RawAesKeyring {
            key_namespace,
            key_name,
            key,
            key_bits: wrapping_key.len() * 8,
            provider_info_prefix,
            label,
        })
    }

    /// The key namespace: the provider id of the EDKs this keyring writes.
    ///
    /// ```
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("billing", "2026-01", vec![0x42; 32])?;
    /// assert_eq!(keyring.key_namespace(), "billing");
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_namespace(&self) -> &str {
        &self.key_namespace
    }

    /// The key name: the start of the provider info of the EDKs this keyring writes.
    ///
    /// ```
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let keyring = RawAesKeyring::new("billing", "2026-01", vec![0x42; 32])?;
    /// // Readers in other SDKs must configure the same namespace and name to find their EDK.
    /// assert_eq!((keyring.key_namespace(), keyring.key_name()), ("billing", "2026-01"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// Wrapping key length in bits (128, 192 or 256).
    ///
    /// ```
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// assert_eq!(RawAesKeyring::new("billing", "k128", vec![1; 16])?.key_bits(), 128);
    /// assert_eq!(RawAesKeyring::new("billing", "k192", vec![1; 24])?.key_bits(), 192);
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_bits(&self) -> usize {
        self.key_bits
    }

    /// Whether `edk` was written by this keyring's key; on success returns its IV.
    ///
    /// spec: raw-aes-keyring.md#ondecrypt — decrypt is attempted only if the provider id, key name,
    /// IV length and tag length all match and the ciphertext deserializes.
    fn match_edk<'e>(&self, edk: &'e EncryptedDataKey, data_key_len: usize) -> Result<&'e [u8; IV_LEN], String> {
        if edk.provider_id != self.key_namespace {
            return Err(format!("provider id is not {:?}", self.key_namespace));
        }
        let Some(rest) = edk.provider_info.strip_prefix(self.key_name.as_bytes()) else {
            return Err(format!("key name is not {:?}", self.key_name));
        };
        // The key name has no length prefix. If what follows our name does not parse as
        // tag length ‖ IV length ‖ IV, the stored name merely starts with ours ("aes" vs "aes-256").
        let (Some(tag_bits), Some(iv_len)) = (be_u32(rest, 0), be_u32(rest, 4)) else {
            return Err(format!("key name is not {:?}", self.key_name));
        };
        if rest.len() - 8 != iv_len as usize {
            return Err(format!("key name is not {:?}", self.key_name));
        }
        if tag_bits != TAG_LEN_BITS {
            return Err(format!("tag length is {tag_bits} bits; this keyring uses {TAG_LEN_BITS}"));
        }
        let Ok(iv) = <&[u8; IV_LEN]>::try_from(&rest[8..]) else {
            return Err(format!("IV length is {iv_len} bytes; this keyring uses {IV_LEN}"));
        };
        if edk.ciphertext.len() != data_key_len + TAG_LEN {
            return Err(format!(
                "ciphertext is {} bytes; a {data_key_len}-byte data key wraps to {}",
                edk.ciphertext.len(),
                data_key_len + TAG_LEN
            ));
        }
        Ok(iv)
    }
}

#[async_trait]
impl Keyring for RawAesKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw AES keyring")?;
        // spec: raw-aes-keyring.md#onencrypt — if the context cannot be serialized, OnEncrypt MUST fail.
        let aad = serialize_encryption_context(materials.encryption_context())?;
        // spec: raw-aes-keyring.md#onencrypt — a cryptographically random IV of the algorithm's length.
        let mut iv = [0u8; IV_LEN];
        if materials.data_key().is_none() {
            // spec: raw-aes-keyring.md#onencrypt — generate a random data key when there is none.
            // One draw for key and IV: aws-lc pays a fixed cost per call (it mixes in fresh
            // CPU entropy every time), which dominates this function. Disjoint parts of one
            // CSPRNG output are as independent as two outputs.
            let key_len = materials.suite().data_key_len();
            let mut random = Zeroizing::new(vec![0u8; key_len + IV_LEN]);
            fill_random(&mut random)?;
            iv.copy_from_slice(&random[key_len..]);
            random.truncate(key_len);
            materials.set_data_key(DataKey::new(std::mem::take(&mut *random)))?;
        } else {
            fill_random(&mut iv)?;
        }
        let Some(data_key) = materials.data_key() else {
            return Err(KeyringError::Wrap("encryption materials lost their data key".into()).into());
        };

        // The buffer holds the plaintext key until sealed; capacity is exact so it never reallocates
        // (which would leave an unzeroized copy behind).
        let mut ciphertext = Vec::with_capacity(data_key.len() + TAG_LEN);
        ciphertext.extend_from_slice(data_key.expose_secret());
        // spec: raw-aes-keyring.md#onencrypt — AAD is the serialized encryption context.
        let tag = match self.key.seal_in_place(&iv, &aad, &mut ciphertext) {
            Ok(tag) => tag,
            Err(error) => {
                zeroize::Zeroize::zeroize(&mut ciphertext);
                return Err(KeyringError::Wrap(format!("{}: {error}", self.label)).into());
            }
        };
        ciphertext.extend_from_slice(&tag);

        let mut provider_info = Vec::with_capacity(self.provider_info_prefix.len() + IV_LEN);
        provider_info.extend_from_slice(&self.provider_info_prefix);
        provider_info.extend_from_slice(&iv);
        // spec: raw-aes-keyring.md#onencrypt — provider id is the key namespace.
        materials.push_encrypted_data_key(EncryptedDataKey {
            provider_id: self.key_namespace.clone(),
            provider_info,
            ciphertext,
        });
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        // spec: algorithm-suites.md#intermediate-key-wrapping — not implemented here; refused.
        crate::refuse_intermediate_wrapping(materials.suite(), "raw AES keyring")?;
        // spec: raw-aes-keyring.md#ondecrypt — MUST fail if the materials already hold a data key.
        ensure_no_data_key(&materials)?;
        // spec: raw-aes-keyring.md#ondecrypt — if the context cannot be serialized, OnDecrypt MUST fail.
        let aad = serialize_encryption_context(materials.encryption_context())?;
        let data_key_len = materials.suite().data_key_len();
        let mut failures = Vec::new();
        // spec: raw-aes-keyring.md#ondecrypt — try each EDK serially until one decrypts.
        for edk in edks {
            let iv = match self.match_edk(edk, data_key_len) {
                Ok(iv) => iv,
                Err(why) => {
                    failures.push(EdkFailure::not_mine(edk, self.label.as_str(), why));
                    continue;
                }
            };
            let (encrypted_key, tag) = edk.ciphertext.split_at(data_key_len);
            let mut plaintext = Zeroizing::new(encrypted_key.to_vec());
            match self.key.open_in_place(iv, &aad, &mut plaintext, tag) {
                Ok(()) => {
                    // spec: raw-aes-keyring.md#ondecrypt — set the data key and return the materials.
                    materials.set_data_key(DataKey::new(std::mem::take(&mut *plaintext)))?;
                    return Ok(materials);
                }
                Err(_) => failures.push(EdkFailure::failed(
                    edk,
                    self.label.as_str(),
                    "AES-GCM tag does not verify (another key with this name, another encryption context, or a modified EDK)",
                )),
            }
        }
        // spec: raw-aes-keyring.md#ondecrypt — if no decryption succeeds, the keyring MUST fail.
        Err(KeyringError::NoDataKeyUnwrapped(failures).into())
    }
}

impl fmt::Debug for RawAesKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAesKeyring")
            .field("key_namespace", &self.key_namespace)
            .field("key_name", &self.key_name)
            .field("key_bits", &self.key_bits)
            .finish_non_exhaustive()
    }
}

/// The big-endian u32 at `at`, if `bytes` is long enough.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([field[0], field[1], field[2], field[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine as _;
    use envelope::error::EdkFailureReason;
    use envelope::{AlgorithmSuite, EncryptionContext, Error};

    const SUITE: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;

    fn context() -> EncryptionContext {
        EncryptionContext::from([("purpose".to_owned(), "test".to_owned()), ("tenant".to_owned(), "a".to_owned())])
    }

    fn keyring(bits: usize) -> RawAesKeyring {
        RawAesKeyring::new("ns", "key", vec![7u8; bits / 8]).unwrap()
    }

    async fn encrypt(
        keyring: &RawAesKeyring,
        suite: AlgorithmSuite,
        context: EncryptionContext,
    ) -> EncryptionMaterials {
        let materials = EncryptionMaterials::new(suite, context, vec![], None).unwrap();
        keyring.on_encrypt(materials).await.unwrap()
    }

    fn decryption_materials(suite: AlgorithmSuite, context: EncryptionContext) -> DecryptionMaterials {
        DecryptionMaterials::new(suite, context, vec![], None).unwrap()
    }

    fn failures(error: Error) -> Vec<EdkFailure> {
        match error {
            Error::Keyring(KeyringError::NoDataKeyUnwrapped(failures)) => failures,
            other => panic!("expected NoDataKeyUnwrapped, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn round_trips_with_every_key_size_and_data_key_length() {
        for bits in [128, 192, 256] {
            let keyring = keyring(bits);
            for suite in [
                AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
                AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256,
                AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            ] {
                let encrypted = encrypt(&keyring, suite, context()).await;
                let edks = encrypted.encrypted_data_keys();
                assert_eq!(edks.len(), 1);
                assert_eq!(edks[0].ciphertext.len(), suite.data_key_len() + 16);
                let decrypted = keyring.on_decrypt(decryption_materials(suite, context()), edks).await.unwrap();
                assert_eq!(
                    decrypted.data_key().unwrap().expose_secret(),
                    encrypted.data_key().unwrap().expose_secret(),
                    "{bits}-bit key, suite {suite}"
                );
            }
        }
    }

    #[tokio::test]
    async fn wraps_an_existing_data_key_without_replacing_it() {
        let mut materials = EncryptionMaterials::new(SUITE, context(), vec![], None).unwrap();
        materials.set_data_key(DataKey::new(vec![9; 32])).unwrap();
        let materials = keyring(256).on_encrypt(materials).await.unwrap();
        assert_eq!(materials.data_key().unwrap().expose_secret(), &[9; 32]);
        assert_eq!(materials.encrypted_data_keys().len(), 1);
    }

    #[tokio::test]
    async fn provider_info_has_the_spec_layout() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let edk = &encrypted.encrypted_data_keys()[0];
        assert_eq!(edk.provider_id, "ns");
        assert_eq!(edk.provider_info.len(), 3 + 4 + 4 + 12);
        assert_eq!(&edk.provider_info[..11], b"key\x00\x00\x00\x80\x00\x00\x00\x0c");
    }

    #[tokio::test]
    async fn official_vector_key_writes_the_official_layout() {
        // The AES-256 key of the cross-language test vectors (keys.json, "aes-256").
        let key =
            base64::engine::general_purpose::STANDARD.decode("AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=").unwrap();
        let keyring = RawAesKeyring::new("aws-raw-vectors-persistant", "aes-256", key).unwrap();
        let encrypted = encrypt(&keyring, SUITE, context()).await;
        let edk = &encrypted.encrypted_data_keys()[0];
        assert_eq!(edk.provider_id, "aws-raw-vectors-persistant");
        assert_eq!(hex::encode(&edk.provider_info[..15]), "6165732d32353600000080".to_owned() + "0000000c");
        assert_eq!(edk.provider_info.len(), 27);
        assert_eq!(edk.ciphertext.len(), 48);
    }

    #[tokio::test]
    async fn known_answer_unwraps_a_fixed_edk() {
        // A fixed EDK built independently with the vector key: AES-256-GCM over a data key of
        // 0x00..0x1f, IV 0x01.., AAD = serialized {"a": "b"}. Checks the AAD serialization and
        // the field order of provider info and ciphertext against a second implementation
        // (aws-lc-rs used directly, not through the keyring).
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key =
            base64::engine::general_purpose::STANDARD.decode("AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=").unwrap();
        let iv: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let data_key: Vec<u8> = (0u8..32).collect();
        // count 1, key "a" (len 1), value "b" (len 1)
        let aad = [0, 1, 0, 1, b'a', 0, 1, b'b'];
        let sealer = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
        let mut ciphertext = data_key.clone();
        sealer
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::from(&aad[..]), &mut ciphertext)
            .unwrap();
        let mut provider_info = b"aes-256".to_vec();
        provider_info.extend_from_slice(&[0, 0, 0, 128, 0, 0, 0, 12]);
        provider_info.extend_from_slice(&iv);
        let edk = EncryptedDataKey::new("aws-raw-vectors-persistant", provider_info, ciphertext);

        let keyring = RawAesKeyring::new("aws-raw-vectors-persistant", "aes-256", key).unwrap();
        let ctx = EncryptionContext::from([("a".to_owned(), "b".to_owned())]);
        let decrypted = keyring.on_decrypt(decryption_materials(SUITE, ctx), &[edk]).await.unwrap();
        assert_eq!(decrypted.data_key().unwrap().expose_secret(), &data_key[..]);
    }

    #[tokio::test]
    async fn another_key_name_or_namespace_is_not_mine() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let edks = encrypted.encrypted_data_keys();
        for other in [
            RawAesKeyring::new("ns", "other", vec![7u8; 32]).unwrap(),
            RawAesKeyring::new("ns", "ke", vec![7u8; 32]).unwrap(),
            RawAesKeyring::new("ns", "key-2", vec![7u8; 32]).unwrap(),
            RawAesKeyring::new("other-ns", "key", vec![7u8; 32]).unwrap(),
        ] {
            let error = other.on_decrypt(decryption_materials(SUITE, context()), edks).await.unwrap_err();
            let failures = failures(error);
            assert_eq!(failures.len(), 1);
            assert!(matches!(failures[0].reason, EdkFailureReason::NotMine(_)), "{other:?}: {failures:?}");
        }
    }

    #[tokio::test]
    async fn a_prefix_of_the_key_name_is_not_mine() {
        // "ke" is a prefix of "key": the bytes after "ke" must not be mistaken for lengths.
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let short = RawAesKeyring::new("ns", "ke", vec![7u8; 32]).unwrap();
        let failure = &failures(
            short
                .on_decrypt(decryption_materials(SUITE, context()), encrypted.encrypted_data_keys())
                .await
                .unwrap_err(),
        )[0];
        assert_eq!(failure.reason, EdkFailureReason::NotMine("key name is not \"ke\"".into()));
    }

    #[tokio::test]
    async fn tampered_edk_fails_and_says_so() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let mut edk = encrypted.encrypted_data_keys()[0].clone();
        edk.ciphertext[0] ^= 1;
        let error = keyring(256).on_decrypt(decryption_materials(SUITE, context()), &[edk]).await.unwrap_err();
        let failures = failures(error);
        assert_eq!(failures.len(), 1);
        assert!(matches!(failures[0].reason, EdkFailureReason::Failed(_)), "{failures:?}");
        assert!(failures[0].keyring.contains("ns/key"));
    }

    #[tokio::test]
    async fn wrong_length_fields_are_not_mine() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let original = encrypted.encrypted_data_keys()[0].clone();
        let mut tag_bits = original.clone();
        tag_bits.provider_info[6] = 0x60; // 96-bit tag
        let mut iv_len = original.clone();
        iv_len.provider_info[10] = 16;
        iv_len.provider_info.extend_from_slice(&[0; 4]);
        let mut short_ciphertext = original.clone();
        short_ciphertext.ciphertext.pop();
        for edk in [tag_bits, iv_len, short_ciphertext] {
            let error = keyring(256).on_decrypt(decryption_materials(SUITE, context()), &[edk]).await.unwrap_err();
            let failures = failures(error);
            assert!(matches!(failures[0].reason, EdkFailureReason::NotMine(_)), "{failures:?}");
        }
    }

    #[tokio::test]
    async fn encryption_context_is_bound() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let mut other = context();
        other.insert("tenant", "b");
        for ctx in [other, EncryptionContext::new()] {
            let error =
                keyring(256).on_decrypt(decryption_materials(SUITE, ctx), encrypted.encrypted_data_keys()).await;
            assert!(matches!(failures(error.unwrap_err())[0].reason, EdkFailureReason::Failed(_)));
        }
    }

    #[tokio::test]
    async fn unserializable_context_fails_encrypt() {
        // spec: if the context cannot be serialized, OnEncrypt MUST fail.
        let ctx = EncryptionContext::from([("k".to_owned(), "v".repeat(65536))]);
        let materials = EncryptionMaterials::new(SUITE, ctx, vec![], None).unwrap();
        assert!(keyring(256).on_encrypt(materials).await.is_err());
    }

    #[tokio::test]
    async fn empty_context_round_trips() {
        let encrypted = encrypt(&keyring(128), SUITE, EncryptionContext::new()).await;
        let decrypted = keyring(128)
            .on_decrypt(decryption_materials(SUITE, EncryptionContext::new()), encrypted.encrypted_data_keys())
            .await
            .unwrap();
        assert!(decrypted.data_key().is_some());
    }

    #[tokio::test]
    async fn wrong_wrapping_key_fails() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let other = RawAesKeyring::new("ns", "key", vec![8u8; 32]).unwrap();
        let error = other.on_decrypt(decryption_materials(SUITE, context()), encrypted.encrypted_data_keys()).await;
        assert!(matches!(failures(error.unwrap_err())[0].reason, EdkFailureReason::Failed(_)));
    }

    #[tokio::test]
    async fn later_edk_wins_after_failures_and_every_failure_is_listed() {
        let first = encrypt(&RawAesKeyring::new("ns", "other", vec![1u8; 32]).unwrap(), SUITE, context()).await;
        let second = encrypt(&keyring(256), SUITE, context()).await;
        let mut edks = first.encrypted_data_keys().to_vec();
        edks.extend_from_slice(second.encrypted_data_keys());
        let decrypted = keyring(256).on_decrypt(decryption_materials(SUITE, context()), &edks).await.unwrap();
        assert_eq!(decrypted.data_key().unwrap().expose_secret(), second.data_key().unwrap().expose_secret());

        let none = RawAesKeyring::new("ns", "third", vec![1u8; 32]).unwrap();
        let error = none.on_decrypt(decryption_materials(SUITE, context()), &edks).await.unwrap_err();
        assert_eq!(failures(error).len(), 2);
    }

    #[tokio::test]
    async fn refuses_materials_that_already_hold_a_key() {
        let encrypted = encrypt(&keyring(256), SUITE, context()).await;
        let mut materials = decryption_materials(SUITE, context());
        materials.set_data_key(DataKey::new(vec![0; 32])).unwrap();
        let error = keyring(256).on_decrypt(materials, encrypted.encrypted_data_keys()).await.unwrap_err();
        assert!(matches!(error, Error::Usage(_)), "{error:?}");
    }

    #[test]
    fn rejects_bad_configuration() {
        for len in [0, 15, 17, 31, 33, 64] {
            assert!(RawAesKeyring::new("ns", "key", vec![0; len]).is_err(), "{len}-byte key accepted");
        }
        assert!(RawAesKeyring::new("aws-kms", "key", vec![0; 32]).is_err());
        assert!(RawAesKeyring::new("aws-kms-hierarchy", "key", vec![0; 32]).is_err());
        assert!(RawAesKeyring::new("ns", "k".repeat(65536), vec![0; 32]).is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let keyring = RawAesKeyring::new("ns", "key", vec![0xAB; 32]).unwrap();
        let shown = format!("{keyring:?}");
        assert!(shown.contains("ns") && shown.contains("key") && shown.contains("256"), "{shown}");
        assert!(!shown.to_lowercase().contains("ab, ") && !shown.contains("171"), "{shown}");
    }
}
