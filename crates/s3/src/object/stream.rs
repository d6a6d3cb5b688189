//! Bodies as streams: the incremental AES-GCM of envelope-gcm-stream behind the same checks as
//! the one-shot path (commitment policy, key commitment in constant time, then the tag).
//!
//! A [`BodyEncryptor`] encrypts a body part by part (multipart puts) and yields the tag at the
//! end. A [`BodyDecryptor`] decrypts part by part and verifies the tag at the end; what its
//! `update` returns is **not yet authenticated**, which is why it is crate-private: the public
//! readers built on it ([`DecryptingReader`]) release bytes only under a stated policy.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use envelope_gcm_stream::{GcmDecryptor, GcmEncryptor};
use tokio::io::{AsyncRead, ReadBuf};
use tracing::debug;
use zeroize::Zeroizing;

use super::ObjectCrypto;
use crate::content::{self, TAG_LEN};
use crate::error::{Error, PolicyViolation, Result, SecurityError};
use crate::metadata::ContentMetadata;
use crate::suite::{ContentSuite, check_decrypt, check_encrypt};
use crate::wrap::{UnwrapRequest, WrapRequest, check_caller_context};

/// Encrypts one object's body incrementally; [`finish`](Self::finish) returns the 16-byte tag
/// that ends the body.
///
/// ```
/// use envelope_s3::wrap::AesGcmKeyring;
/// use envelope_s3::ObjectCrypto;
///
/// # async fn demo() -> envelope_s3::Result<()> {
/// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
/// let (metadata, mut encryptor) = crypto.begin_encrypt(&Default::default(), None).await?;
/// let mut first = b"part one, ".to_vec();
/// let mut second = b"part two".to_vec();
/// encryptor.update(&mut first)?;
/// encryptor.update(&mut second)?;
/// let body = [first, second, encryptor.finish()?.to_vec()].concat();
/// assert_eq!(crypto.decrypt(&metadata, body, &Default::default()).await?, b"part one, part two");
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct BodyEncryptor {
    gcm: GcmEncryptor,
}

impl BodyEncryptor {
    /// Encrypts the next plaintext bytes in place.
    ///
    /// ```
    /// # use envelope_s3::{wrap::AesGcmKeyring, ObjectCrypto};
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let (_, mut encryptor) = crypto.begin_encrypt(&Default::default(), None).await?;
    /// let mut data = *b"abc";
    /// encryptor.update(&mut data)?;
    /// assert_ne!(&data, b"abc");
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn update(&mut self, data: &mut [u8]) -> Result<()> {
        self.gcm.update(data).map_err(|error| Error::Usage(error.to_string()))
    }

    /// Plaintext bytes encrypted so far.
    ///
    /// ```
    /// # use envelope_s3::{wrap::AesGcmKeyring, ObjectCrypto};
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let (_, mut encryptor) = crypto.begin_encrypt(&Default::default(), None).await?;
    /// encryptor.update(&mut [0; 10])?;
    /// assert_eq!(encryptor.processed(), 10);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn processed(&self) -> u64 {
        self.gcm.processed()
    }

    /// Ends the body: the tag to append after the last ciphertext byte.
    ///
    /// ```
    /// # use envelope_s3::{wrap::AesGcmKeyring, ObjectCrypto};
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let (_, encryptor) = crypto.begin_encrypt(&Default::default(), None).await?;
    /// assert_eq!(encryptor.finish()?.len(), 16);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn finish(self) -> Result<[u8; TAG_LEN]> {
        self.gcm.finish().map_err(|error| Error::internal(error.to_string()))
    }
}

impl fmt::Debug for BodyEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BodyEncryptor([REDACTED], {} bytes)", self.processed())
    }
}

/// Decrypts a body incrementally. Crate-private: its output is unauthenticated until
/// [`finish`](Self::finish).
pub(crate) struct BodyDecryptor {
    gcm: GcmDecryptor,
}

impl BodyDecryptor {
    pub(crate) fn update(&mut self, data: &mut [u8]) -> Result<()> {
        self.gcm.update(data).map_err(|error| Error::Usage(error.to_string()))
    }

    pub(crate) fn finish(self, tag: &[u8; TAG_LEN]) -> Result<()> {
        self.gcm.finish(tag).map_err(|error| match error {
            envelope_gcm_stream::Error::TagMismatch => SecurityError::TagMismatch.into(),
            other => Error::internal(other.to_string()),
        })
    }
}

impl ObjectCrypto {
    /// Starts an object: wraps a fresh data key, returns the metadata to store and the body's
    /// incremental encryptor. `recorded_length` is the plaintext length to record in V2 metadata
    /// when known in advance (V3 records none).
    ///
    /// ```
    /// use envelope_s3::wrap::AesGcmKeyring;
    /// use envelope_s3::{FormatVersion, ObjectCrypto};
    ///
    /// # async fn demo() -> envelope_s3::Result<()> {
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let (metadata, _encryptor) = crypto.begin_encrypt(&Default::default(), None).await?;
    /// assert_eq!(metadata.version(), FormatVersion::V3);
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn begin_encrypt(
        &self,
        encryption_context: &BTreeMap<String, String>,
        recorded_length: Option<u64>,
    ) -> Result<(ContentMetadata, BodyEncryptor)> {
        check_encrypt(self.policy, self.suite)?;
        check_caller_context(encryption_context)?;
        let wrapped = self.keyring.wrap(&WrapRequest::new(self.suite, encryption_context.clone())).await?;
        let data_key = wrapped.data_key.expose_secret();
        let params = content::fresh_params(self.suite, data_key)?;
        let (key, iv, aad) = content::gcm_inputs(&params, data_key)?;
        let gcm = GcmEncryptor::new(&key, &iv, aad).map_err(|error| Error::internal(error.to_string()))?;
        let recorded_length = recorded_length.filter(|_| matches!(self.suite, ContentSuite::AesGcm));
        let metadata = ContentMetadata::new(
            params,
            wrapped.encrypted_data_key,
            wrapped.wrap,
            wrapped.description,
            recorded_length,
        )?;
        debug!(suite = %self.suite, wrap = %wrapped.wrap, "started a streamed object body");
        Ok((metadata, BodyEncryptor { gcm }))
    }

    /// Every check before a streamed decryption: the commitment policy, the legacy opt-ins, the
    /// unwrap (with its context check) and the key commitment; returns the content key, from
    /// which one or more passes over the body can be made.
    pub(crate) async fn begin_decrypt(
        &self,
        metadata: &ContentMetadata,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<ContentKey> {
        let suite = metadata.suite();
        check_decrypt(self.policy, suite)?;
        if suite.is_legacy() {
            return Err(if self.legacy_unauthenticated {
                Error::Usage("legacy CBC objects are read whole, not streamed".into())
            } else {
                PolicyViolation::LegacyContentCipher { cipher: suite.cek_alg() }.into()
            });
        }
        let request = UnwrapRequest::new(metadata, encryption_context).with_legacy_wrapping(self.legacy_wrapping);
        let data_key = self.keyring.unwrap(&request).await?;
        let (key, iv, aad) = content::gcm_inputs(metadata.content(), data_key.expose_secret())?;
        Ok(ContentKey { key, iv, aad })
    }
}

/// A body's checked content key (zeroized on drop), for one or more decryption passes.
pub(crate) struct ContentKey {
    key: Zeroizing<[u8; 32]>,
    iv: [u8; 12],
    aad: &'static [u8],
}

impl ContentKey {
    /// AES-CTR over body bytes starting at `offset`, unauthenticated (ranged reads).
    pub(crate) fn ctr_at(&self, offset: u64, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        content::ctr::decrypt_at(self.key.as_ref(), self.iv, offset, ciphertext)
    }

    /// AES-CTR in place over body bytes starting at `offset`, a multiple of 16, unauthenticated
    /// (the release pass over a spool file whose tag verified).
    pub(crate) fn ctr_in_place_at(&self, offset: u64, data: &mut [u8]) -> Result<()> {
        content::ctr::decrypt_in_place_at(self.key.as_ref(), self.iv, offset, data)
    }

    pub(crate) fn decryptor(&self) -> Result<BodyDecryptor> {
        let gcm =
            GcmDecryptor::new(&self.key, &self.iv, self.aad).map_err(|error| Error::internal(error.to_string()))?;
        Ok(BodyDecryptor { gcm })
    }
}

/// The tests' working buffer size (the client picks its own).
#[cfg(test)]
const CHUNK: usize = 64 << 10;

/// Decrypts a body (ciphertext ‖ tag) as it is read; the last 16 bytes are held back as the tag
/// and checked at the end, where a mismatch is an `InvalidData` error instead of end-of-file.
///
/// Bytes it yields before the end are authenticated only when the end is reached without error.
/// The S3 client uses it in two ways only: over a body whose tag already verified in a first
/// pass (the default for large objects), or over the network stream when the caller opted in to
/// delayed authentication.
pub(crate) struct DecryptingReader<R> {
    inner: R,
    decryptor: Option<BodyDecryptor>,
    buffer: Vec<u8>,
    /// `buffer[position..ready]` is decrypted and not yet returned.
    position: usize,
    ready: usize,
    /// `buffer[ready..filled]` is ciphertext held back (at most the tag's length).
    filled: usize,
    failed: bool,
}

impl<R> DecryptingReader<R> {
    #[cfg(test)]
    pub(crate) fn new(inner: R, decryptor: BodyDecryptor) -> DecryptingReader<R> {
        DecryptingReader::with_chunk(inner, decryptor, CHUNK)
    }

    /// A reader whose working buffer holds `chunk` bytes: each read of the inner reader asks for
    /// up to that much (large for a file, where each read is a trip through the blocking pool).
    pub(crate) fn with_chunk(inner: R, decryptor: BodyDecryptor, chunk: usize) -> DecryptingReader<R> {
        DecryptingReader {
            inner,
            decryptor: Some(decryptor),
            buffer: vec![0; chunk.max(1) + TAG_LEN],
            position: 0,
            ready: 0,
            filled: 0,
            failed: false,
        }
    }
}

fn tag_error(error: Error) -> std::io::Error {
    std::io::Error::from(error)
}

impl<R: AsyncRead + Unpin> AsyncRead for DecryptingReader<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.failed {
                return Poll::Ready(Err(tag_error(SecurityError::TagMismatch.into())));
            }
            if this.position < this.ready {
                let count = out.remaining().min(this.ready - this.position);
                out.put_slice(&this.buffer[this.position..this.position + count]);
                this.position += count;
                return Poll::Ready(Ok(()));
            }
            let Some(decryptor) = this.decryptor.as_mut() else {
                return Poll::Ready(Ok(())); // verified end of the body
            };
            // Move the held-back bytes to the front and read more after them.
            this.buffer.copy_within(this.ready..this.filled, 0);
            this.filled -= this.ready;
            this.position = 0;
            this.ready = 0;
            let mut read = ReadBuf::new(&mut this.buffer[this.filled..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let count = read.filled().len();
            if count == 0 {
                let tag: Option<[u8; TAG_LEN]> = this.buffer[..this.filled].try_into().ok();
                let decryptor = this.decryptor.take().expect("checked above");
                let verified = match tag {
                    Some(tag) => decryptor.finish(&tag),
                    None => Err(SecurityError::TagMismatch.into()), // shorter than a tag: truncated
                };
                this.filled = 0;
                if let Err(error) = verified {
                    this.failed = true;
                    return Poll::Ready(Err(tag_error(error)));
                }
                return Poll::Ready(Ok(()));
            }
            this.filled += count;
            if this.filled > TAG_LEN {
                let ready = this.filled - TAG_LEN;
                if let Err(error) = decryptor.update(&mut this.buffer[..ready]) {
                    this.failed = true;
                    return Poll::Ready(Err(tag_error(error)));
                }
                this.ready = ready;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::test_support::Trickle;
    use crate::wrap::AesGcmKeyring;

    fn crypto() -> ObjectCrypto {
        ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).unwrap())
    }

    #[tokio::test]
    async fn streamed_bodies_equal_one_shot_bodies_both_ways() {
        for suite_policy in
            [crate::CommitmentPolicy::RequireEncryptRequireDecrypt, crate::CommitmentPolicy::ForbidEncryptAllowDecrypt]
        {
            let crypto = crypto().commitment_policy(suite_policy);
            for len in [0usize, 1, 15, 16, 17, 1000, CHUNK - 1, CHUNK, CHUNK + 17, 3 * CHUNK + 5] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let (metadata, mut encryptor) = crypto.begin_encrypt(&BTreeMap::new(), Some(len as u64)).await.unwrap();
                let mut body = plaintext.clone();
                for piece in body.chunks_mut(7919) {
                    encryptor.update(piece).unwrap();
                }
                body.extend_from_slice(&encryptor.finish().unwrap());
                // The one-shot path reads what the streamed path wrote.
                assert_eq!(crypto.decrypt(&metadata, body.clone(), &BTreeMap::new()).await.unwrap(), plaintext);
                for step in [1usize, 16, 17, 4096, usize::MAX] {
                    if step == 1 && len > 2000 {
                        continue;
                    }
                    let decryptor =
                        crypto.begin_decrypt(&metadata, &BTreeMap::new()).await.unwrap().decryptor().unwrap();
                    let mut reader = DecryptingReader::new(Trickle { data: &body, step }, decryptor);
                    let mut out = Vec::new();
                    reader.read_to_end(&mut out).await.unwrap();
                    assert_eq!(out, plaintext, "len {len} step {step}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_tampered_or_truncated_stream_ends_in_an_error_not_eof() {
        let crypto = crypto();
        let (metadata, mut encryptor) = crypto.begin_encrypt(&BTreeMap::new(), None).await.unwrap();
        let mut body = vec![5u8; 200];
        encryptor.update(&mut body).unwrap();
        body.extend_from_slice(&encryptor.finish().unwrap());
        for forged in [
            {
                let mut b = body.clone();
                b[3] ^= 1;
                b
            },
            {
                let mut b = body.clone();
                *b.last_mut().unwrap() ^= 1;
                b
            },
            body[..body.len() - 1].to_vec(),
            body[..10].to_vec(),
            Vec::new(),
        ] {
            let decryptor = crypto.begin_decrypt(&metadata, &BTreeMap::new()).await.unwrap().decryptor().unwrap();
            let mut reader = DecryptingReader::new(&forged[..], decryptor);
            let error = reader.read_to_end(&mut Vec::new()).await.unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
            assert!(reader.read(&mut [0; 8]).await.is_err(), "stays failed");
        }
    }

    #[tokio::test]
    async fn streamed_decryption_checks_the_commitment_before_any_byte() {
        let crypto = crypto();
        let (metadata, _) = crypto.begin_encrypt(&BTreeMap::new(), None).await.unwrap();
        let mut stored = metadata.to_object_metadata();
        let forged_commitment = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode([0u8; crate::metadata::COMMITMENT_LEN])
        };
        stored.insert("x-amz-d".into(), forged_commitment);
        let crate::MetadataLocation::Object(forged) = ContentMetadata::locate(&stored).unwrap() else { panic!() };
        let error = crypto.begin_decrypt(&forged, &BTreeMap::new()).await.err().unwrap();
        assert!(matches!(error, Error::Security(SecurityError::CommitmentMismatch)));
    }
}
