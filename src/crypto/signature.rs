//! ECDSA signing keys and verification keys for the message footer.
//!
//! spec: framework/transitive-requirements.md — the public key travels in the encryption context
//! as the base64 of its SEC1 compressed point; signatures are DER ECDSA-Sig-Value.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1, ECDSA_P384_SHA384_ASN1_SIGNING,
    EcdsaKeyPair, KeyPair, ParsedPublicKey,
};
use base64::Engine as _;

use super::background_hash::BackgroundHasher;
use crate::error::{AuthenticationFailure, Error, Result};
use crate::suite::SignatureAlgorithm;

/// A running hash over the bytes a signature covers.
///
/// A stream can let the hash move to another core (`SignatureHasher::hash_in_background`) once
/// it has absorbed enough bytes to be worth a thread; the one-shot path runs its own threads and
/// keeps the hash where it is.
pub(crate) struct SignatureHasher {
    state: HashState,
    /// Absorbed bytes after which the hash moves to a worker thread, when the owner allows it.
    background_after: Option<u64>,
    absorbed: u64,
}

enum HashState {
    Inline(digest::Context),
    Background(BackgroundHasher),
}

/// Streams shorter than this never start a hashing thread.
const BACKGROUND_AFTER_BYTES: u64 = 1024 * 1024;

impl SignatureHasher {
    /// A fresh hash for `algorithm`.
    pub(crate) fn new(algorithm: SignatureAlgorithm) -> SignatureHasher {
        SignatureHasher {
            state: HashState::Inline(digest::Context::new(digest_for(algorithm))),
            background_after: None,
            absorbed: 0,
        }
    }

    /// Lets the hash move to a worker thread once the message passes 1 MiB, so a stream seals or
    /// opens frames on one core while the other hashes them.
    pub(crate) fn hash_in_background(&mut self) {
        self.background_after = Some(BACKGROUND_AFTER_BYTES);
    }

    /// Adds bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            HashState::Inline(context) => {
                context.update(bytes);
                self.absorbed += bytes.len() as u64;
                if self.background_after.is_some_and(|after| self.absorbed >= after) {
                    self.background_after = None;
                    // Without a thread the hash simply stays inline.
                    if let Some(background) = BackgroundHasher::start(context.clone()) {
                        self.state = HashState::Background(background);
                    }
                }
            }
            HashState::Background(background) => background.update(bytes),
        }
    }

    fn finish(self) -> Result<digest::Digest> {
        match self.state {
            HashState::Inline(context) => Ok(context.finish()),
            HashState::Background(background) => Ok(background.finish()?.finish()),
        }
    }
}

impl fmt::Debug for SignatureHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignatureHasher")
    }
}

fn digest_for(algorithm: SignatureAlgorithm) -> &'static digest::Algorithm {
    match algorithm {
        SignatureAlgorithm::EcdsaP256Sha256 => &digest::SHA256,
        SignatureAlgorithm::EcdsaP384Sha384 => &digest::SHA384,
    }
}

/// A private ECDSA key that signs one message. Debug never shows the private scalar.
///
/// ```
/// use envelope::suite::SignatureAlgorithm;
/// use envelope::SigningKey;
///
/// # fn main() -> envelope::Result<()> {
/// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
/// assert_eq!(format!("{key:?}"), "SigningKey { algorithm: EcdsaP384Sha384, .. }");
/// # Ok(())
/// # }
/// ```
pub struct SigningKey {
    algorithm: SignatureAlgorithm,
    /// Shared only by the caching materials manager, which signs every message of one cached
    /// entry with the entry's key (as the other ESDKs' caching managers do).
    pair: Arc<EcdsaKeyPair>,
    /// The SEC1 compressed public point, encoded once when the key is made: the encoding needs a
    /// field inversion, and keys made ahead of time on another core should carry it ready.
    public_compressed: Vec<u8>,
}

impl SigningKey {
    /// A fresh key pair.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{AlgorithmSuite, EncryptionContext, EncryptionMaterials, SigningKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // A materials manager makes one key per signed message, for the suite's algorithm.
    /// let suite = AlgorithmSuite::DEFAULT;
    /// let algorithm: SignatureAlgorithm = suite.signature().expect("a signed suite");
    /// let key = SigningKey::generate(algorithm)?;
    /// let context = EncryptionContext::new().with("aws-crypto-public-key", key.public_key_context_value());
    /// let materials = EncryptionMaterials::new(suite, context, vec![], Some(key))?;
    /// assert!(materials.signing_key().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn generate(algorithm: SignatureAlgorithm) -> Result<SigningKey> {
        let signing = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        let pair = EcdsaKeyPair::generate(signing).map_err(|_| Error::internal("ECDSA key generation failed"))?;
        let point: EcPublicKeyCompressedBin<'_> =
            pair.public_key().as_be_bytes().map_err(|_| Error::internal("could not encode the ECDSA public key"))?;
        let public_compressed = point.as_ref().to_vec();
        Ok(SigningKey { algorithm, pair: Arc::new(pair), public_compressed })
    }

    /// The curve and hash.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::SigningKey;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?;
    /// assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    /// # Ok(())
    /// # }
    /// ```
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The SEC1 compressed public point.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// let point = key.public_key_compressed();
    /// assert_eq!(point.len(), 49, "one prefix byte and the 48-byte x-coordinate");
    /// let verifier = VerificationKey::from_sec1(SignatureAlgorithm::EcdsaP384Sha384, point)?;
    /// # let _ = verifier;
    /// # Ok(())
    /// # }
    /// ```
    pub fn public_key_compressed(&self) -> &[u8] {
        &self.public_compressed
    }

    /// The value stored under `aws-crypto-public-key`: base64 of the compressed point.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// // What a signed message stores under `aws-crypto-public-key`, and what a reader parses back.
    /// let stored = key.public_key_context_value();
    /// let verifier = VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, &stored)?;
    /// assert_eq!(verifier.algorithm(), key.algorithm());
    /// # Ok(())
    /// # }
    /// ```
    pub fn public_key_context_value(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public_compressed)
    }

    /// The same key pair again, for another message of a cached materials entry. Crate-private:
    /// callers get a fresh key per message unless they opt into caching.
    pub(crate) fn share(&self) -> SigningKey {
        SigningKey {
            algorithm: self.algorithm,
            pair: Arc::clone(&self.pair),
            public_compressed: self.public_compressed.clone(),
        }
    }

    /// Signs `message` outside an ESDK message (the DB-ESDK footer signs its 48-byte canonical
    /// hash this way): the algorithm's hash of `message`, then ECDSA; returns a DER
    /// ECDSA-Sig-Value, whose length varies with the signature (up to 104 bytes for P-384).
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::SigningKey;
    /// use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_ASN1};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// let signature = key.sign_message(b"canonical hash")?;
    /// let public = UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, key.public_key_compressed());
    /// assert!(public.verify(b"canonical hash", &signature).is_ok());
    /// assert!(public.verify(b"another hash", &signature).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature = self
            .pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
            .map_err(|_| Error::internal("ECDSA signing failed"))?;
        Ok(signature.as_ref().to_vec())
    }

    /// Signs the hashed message; returns a DER signature.
    pub(crate) fn sign(&self, hasher: SignatureHasher) -> Result<Vec<u8>> {
        let signature =
            self.pair.sign_digest(&hasher.finish()?).map_err(|_| Error::internal("ECDSA signing failed"))?;
        Ok(signature.as_ref().to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// A public ECDSA key that verifies one message's footer. Cheap to clone.
///
/// ```
/// use envelope::blocking::BlockingClient;
/// use envelope::suite::SignatureAlgorithm;
/// use envelope::{Client, DecryptOptions, EncryptOptions, VerificationKey};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
/// let message = client.encrypt(b"signed", &EncryptOptions::new())?;
/// let info = client.decrypt(&message, &DecryptOptions::new())?.info;
///
/// // The key that verified this message's footer, from its header.
/// let stored = &info.encryption_context["aws-crypto-public-key"];
/// let key = VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, stored)?;
/// assert_eq!(Some(key.algorithm()), info.algorithm_suite.signature());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    algorithm: SignatureAlgorithm,
    key: std::sync::Arc<ParsedPublicKey>,
}

impl VerificationKey {
    /// Parses the base64 value of `aws-crypto-public-key`.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let stored = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?.public_key_context_value();
    /// assert!(VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, &stored).is_ok());
    ///
    /// assert!(VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP384Sha384, "not base64!").is_err());
    /// // A P-384 point is not a P-256 key.
    /// assert!(VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP256Sha256, &stored).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_context_value(algorithm: SignatureAlgorithm, value: &str) -> Result<VerificationKey> {
        let point = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| Error::invalid("aws-crypto-public-key", "not valid base64"))?;
        VerificationKey::from_sec1(algorithm, &point)
    }

    /// Parses a SEC1 point (compressed or not).
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let signer = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?;
    /// let key = VerificationKey::from_sec1(SignatureAlgorithm::EcdsaP256Sha256, signer.public_key_compressed())?;
    /// assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    /// let truncated = &signer.public_key_compressed()[..20];
    /// assert!(VerificationKey::from_sec1(SignatureAlgorithm::EcdsaP256Sha256, truncated).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_sec1(algorithm: SignatureAlgorithm, point: &[u8]) -> Result<VerificationKey> {
        let verification = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
            SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1,
        };
        let key = ParsedPublicKey::new(verification, point)
            .map_err(|_| Error::invalid("aws-crypto-public-key", "not a point on the suite's curve"))?;
        Ok(VerificationKey { algorithm, key: std::sync::Arc::new(key) })
    }

    /// The curve and hash.
    ///
    /// ```
    /// use envelope::suite::SignatureAlgorithm;
    /// use envelope::{SigningKey, VerificationKey};
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let stored = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?.public_key_context_value();
    /// let key = VerificationKey::from_context_value(SignatureAlgorithm::EcdsaP256Sha256, &stored)?;
    /// assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    /// # Ok(())
    /// # }
    /// ```
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Checks a DER signature over the hashed message.
    pub(crate) fn verify(&self, hasher: SignatureHasher, signature: &[u8]) -> Result<()> {
        self.key.verify_digest_sig(&hasher.finish()?, signature).map_err(|_| AuthenticationFailure::Signature.into())
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_through_the_context_value() {
        for algorithm in [SignatureAlgorithm::EcdsaP256Sha256, SignatureAlgorithm::EcdsaP384Sha384] {
            let key = SigningKey::generate(algorithm).unwrap();
            let mut hasher = SignatureHasher::new(algorithm);
            hasher.update(b"header and body");
            let signature = key.sign(hasher).unwrap();
            let verifier = VerificationKey::from_context_value(algorithm, &key.public_key_context_value()).unwrap();
            let mut good = SignatureHasher::new(algorithm);
            good.update(b"header and body");
            verifier.verify(good, &signature).unwrap();
            let mut bad = SignatureHasher::new(algorithm);
            bad.update(b"header and bodY");
            assert!(verifier.verify(bad, &signature).is_err());
        }
    }
}
