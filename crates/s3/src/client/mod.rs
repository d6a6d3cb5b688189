//! The S3 operations over the official aws-sdk-s3 client: put, get, ranged get and delete of
//! encrypted objects, with their metadata in the object or in an instruction file.
//!
//! Memory is bounded whatever the object's size:
//! - **put** reads the body up to the multipart threshold; at or under it the object is sealed in
//!   memory and sent with one PutObject, above it the body is sent as a multipart upload whose
//!   parts are encrypted in order as ONE AES-GCM stream (the tag ends the last part), up to
//!   [`PARTS_IN_FLIGHT`] uploading while the next is encrypted. A put holds at most about the
//!   threshold plus three parts. A failed multipart put is aborted: no object.
//! - **get** releases no plaintext before the tag verified ([`Authentication::VerifyFirst`], the
//!   default): a body of at most [`S3EncryptionClient::memory_limit`] bytes (8 MiB by default,
//!   and never more than [`ObjectCrypto::buffer_limit`]) is read and opened in memory; a larger one is copied to a private temporary file (created unlinked, so nothing is
//!   left behind) while its tag is checked, and only then decrypted from that file (each piece
//!   checked against a seal taken as it was written, then decrypted in parallel) as the caller
//!   reads. Plaintext never touches the disk. [`Authentication::Delayed`] is the caller's explicit
//!   opt-in to decrypting the network stream as it arrives: bytes are released before the tag is
//!   checked, and a bad tag is an error at the end of the stream.
//! - **get to a file** ([`S3EncryptionClient::get_to_path`]) is verified first in one pass: the
//!   plaintext is decrypted as it arrives into an owner-only temporary file beside the
//!   destination (unnamed on Linux, so a killed process leaves nothing), which is flushed and
//!   given its name only after the tag verified (deleted on any failure), so it costs about what a plain get written to a file does, with no spool file.
//! - **ranged get** is unauthenticated by nature (the tag covers the whole object), so it needs
//!   [`ObjectCrypto::legacy_unauthenticated_modes`], as in the Java client. The range is read
//!   in memory (at most the buffer limit).
//!
//! ```no_run
//! use envelope_s3::client::{s3_config, AddressingStyle, PutOptions, S3EncryptionClient};
//! use envelope_s3::wrap::AesGcmKeyring;
//! use envelope_s3::ObjectCrypto;
//!
//! # async fn demo() -> envelope_s3::Result<()> {
//! let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let s3 = aws_sdk_s3::Client::from_conf(s3_config(&sdk, AddressingStyle::Auto));
//! let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
//! let client = S3EncryptionClient::new(s3, crypto);
//! client.put_bytes("bucket", "report.csv", b"a,b\n1,2\n".to_vec(), &PutOptions::default()).await?;
//! let plaintext = client.get_bytes("bucket", "report.csv", &Default::default()).await?;
//! assert_eq!(plaintext, b"a,b\n1,2\n");
//! client.delete_object("bucket", "report.csv").await?;
//! # Ok(())
//! # }
//! ```

mod download;
mod endpoint;
mod get;
mod multipart;
mod put;
mod range;
mod rotate;
mod spool;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use tracing::debug;

pub use download::{Download, DownloadOptions};
pub use endpoint::{AddressingStyle, s3_config};
pub use get::{DecryptedObject, DecryptedRange};
pub use multipart::{MAX_PARTS_IN_FLIGHT, MultipartUpload, PARTS_IN_FLIGHT};
pub use put::{PutOptions, PutOutcome};
pub use range::ByteRange;

use crate::error::{Error, Result};
use crate::object::ObjectCrypto;

/// The instruction file's name is the object's key plus this suffix.
///
/// ```
/// use envelope_s3::client::DEFAULT_INSTRUCTION_SUFFIX;
///
/// assert_eq!(format!("reports/q3.pdf{DEFAULT_INSTRUCTION_SUFFIX}"), "reports/q3.pdf.instruction");
/// ```
pub const DEFAULT_INSTRUCTION_SUFFIX: &str = ".instruction";
/// Metadata key marking an instruction file (its value is empty).
///
/// ```
/// use std::collections::HashMap;
/// use envelope_s3::client::INSTRUCTION_FILE_MARKER;
///
/// // Listing a bucket: an object whose user metadata has the marker is an instruction file.
/// let user_metadata = HashMap::from([(INSTRUCTION_FILE_MARKER.to_owned(), String::new())]);
/// assert!(user_metadata.contains_key("x-amz-crypto-instr-file"));
/// ```
pub const INSTRUCTION_FILE_MARKER: &str = "x-amz-crypto-instr-file";
/// Default multipart threshold and part size: 8 MiB.
///
/// ```
/// use envelope_s3::client::{DEFAULT_PART_SIZE, MIN_PART_SIZE};
///
/// assert_eq!(DEFAULT_PART_SIZE, 8 * 1024 * 1024);
/// assert!(DEFAULT_PART_SIZE >= MIN_PART_SIZE);
/// ```
pub const DEFAULT_PART_SIZE: usize = 8 << 20;
/// S3's smallest part (all but the last).
///
/// ```
/// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
/// use envelope_s3::client::MIN_PART_SIZE;
///
/// # fn main() -> envelope_s3::Result<()> {
/// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
/// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
/// let client = S3EncryptionClient::new(s3, crypto);
/// assert!(client.clone().part_size(MIN_PART_SIZE - 1).is_err(), "S3 refuses smaller parts");
/// let client = client.part_size(MIN_PART_SIZE)?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub const MIN_PART_SIZE: usize = 5 << 20;
/// S3's largest number of parts in one upload.
///
/// ```
/// use envelope_s3::client::{DEFAULT_PART_SIZE, MAX_PARTS};
///
/// // The largest object a put can write with the default part size: about 78 GiB.
/// let largest = DEFAULT_PART_SIZE as u64 * MAX_PARTS as u64;
/// assert_eq!(largest, 83_886_080_000);
/// ```
pub const MAX_PARTS: i32 = 10_000;

/// When a get may release plaintext.
///
/// ```
/// use envelope_s3::client::Authentication;
///
/// assert_eq!(Authentication::default(), Authentication::VerifyFirst);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Authentication {
    /// No plaintext before the whole body's tag verified (in memory up to the buffer limit,
    /// through a private temporary file of ciphertext above it).
    #[default]
    VerifyFirst,
    /// Decrypt the stream as it arrives; the tag is checked at the end, and a mismatch is an
    /// `InvalidData` error from the reader after bytes were already released. Only for callers
    /// who can undo what they did with those bytes.
    Delayed,
}

/// Puts, gets and deletes client-side encrypted objects through an `aws_sdk_s3::Client`.
///
/// Defaults: metadata in the object's metadata, instruction files named
/// `<key>.instruction`, multipart above 8 MiB in 8 MiB parts, [`Authentication::VerifyFirst`]
/// with bodies up to 8 MiB opened in memory.
/// The format (V3 by default, V2 with `ForbidEncryptAllowDecrypt`), commitment policy, legacy
/// opt-ins and in-memory limit come from the [`ObjectCrypto`].
///
/// ```
/// use aws_sdk_s3::config::{BehaviorVersion, Region};
/// use envelope_s3::client::{Authentication, S3EncryptionClient};
/// use envelope_s3::wrap::AesGcmKeyring;
/// use envelope_s3::ObjectCrypto;
///
/// # fn main() -> envelope_s3::Result<()> {
/// let config = aws_sdk_s3::Config::builder()
///     .behavior_version(BehaviorVersion::latest())
///     .region(Region::new("us-east-1"))
///     .build();
/// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
/// let client = S3EncryptionClient::new(aws_sdk_s3::Client::from_conf(config), crypto)
///     .instruction_file(true)
///     .part_size(16 << 20)?
///     .authentication(Authentication::VerifyFirst);
/// assert_eq!(client.multipart_threshold(), 8 << 20);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct S3EncryptionClient {
    s3: aws_sdk_s3::Client,
    crypto: ObjectCrypto,
    instruction_file: bool,
    instruction_suffix: String,
    multipart_threshold: u64,
    part_size: usize,
    parts_in_flight: usize,
    authentication: Authentication,
    memory_limit: u64,
    spool_dir: Option<PathBuf>,
}

impl S3EncryptionClient {
    /// A client over `s3` (see [`s3_config`]) and `crypto`, with the defaults.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// assert_eq!(client.instruction_suffix(), ".instruction");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(s3: aws_sdk_s3::Client, crypto: ObjectCrypto) -> S3EncryptionClient {
        S3EncryptionClient {
            s3,
            crypto,
            instruction_file: false,
            instruction_suffix: DEFAULT_INSTRUCTION_SUFFIX.to_owned(),
            multipart_threshold: DEFAULT_PART_SIZE as u64,
            part_size: DEFAULT_PART_SIZE,
            parts_in_flight: PARTS_IN_FLIGHT,
            authentication: Authentication::VerifyFirst,
            memory_limit: DEFAULT_PART_SIZE as u64,
            spool_dir: None,
        }
    }

    /// Puts write their metadata to an instruction file (`<key>` + suffix) instead of the object's
    /// metadata, unless a put says otherwise ([`PutOptions::instruction_file`]). V3 objects keep
    /// `x-amz-c`, `x-amz-d` and `x-amz-i` in the object either way.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto).instruction_file(true);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn instruction_file(mut self, enabled: bool) -> S3EncryptionClient {
        self.instruction_file = enabled;
        self
    }

    /// The suffix of the instruction files this client reads, and of those its re-wraps write
    /// (default `.instruction`). Puts always write `<key>.instruction`, as the S3 Encryption
    /// Client specification requires: a custom suffix names the additional instruction file a
    /// re-wrap creates for another key (one per recipient), which readers holding that key then
    /// name here. Deletes remove both files.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto).with_instruction_suffix(".keys");
    /// assert_eq!(client.instruction_suffix(), ".keys");
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_instruction_suffix(mut self, suffix: impl Into<String>) -> S3EncryptionClient {
        self.instruction_suffix = suffix.into();
        self
    }

    /// The instruction-file suffix.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert_eq!(S3EncryptionClient::new(s3, crypto).instruction_suffix(), ".instruction");
    /// # Ok(())
    /// # }
    /// ```
    pub fn instruction_suffix(&self) -> &str {
        &self.instruction_suffix
    }

    /// Bodies longer than `bytes` are put with a multipart upload (default 8 MiB). A put holds up
    /// to this many bytes in memory before it decides.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto).with_multipart_threshold(5 << 20);
    /// assert_eq!(client.multipart_threshold(), 5 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_multipart_threshold(mut self, bytes: u64) -> S3EncryptionClient {
        self.multipart_threshold = bytes;
        self
    }

    /// The multipart threshold in bytes.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert_eq!(S3EncryptionClient::new(s3, crypto).multipart_threshold(), 8 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multipart_threshold(&self) -> u64 {
        self.multipart_threshold
    }

    /// The plaintext size of every part but the last (at least S3's 5 MiB; default 8 MiB).
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// assert!(client.clone().part_size(1 << 20).is_err(), "under S3's 5 MiB minimum");
    /// assert!(client.part_size(5 << 20).is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn part_size(mut self, bytes: usize) -> Result<S3EncryptionClient> {
        if bytes < MIN_PART_SIZE {
            return Err(Error::Usage(format!("a part holds at least {MIN_PART_SIZE} bytes (S3's minimum)")));
        }
        self.part_size = bytes;
        Ok(self)
    }

    /// How many part uploads of a multipart put may run at once (1 to 16; default
    /// [`PARTS_IN_FLIGHT`]). Each one holds a part in memory, so a put holds about the threshold
    /// plus `n + 1` parts; more parts in flight help on links with a high latency per request.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// assert!(client.clone().with_parts_in_flight(0).is_err());
    /// assert_eq!(client.with_parts_in_flight(8)?.parts_in_flight(), 8);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_parts_in_flight(mut self, parts: usize) -> Result<S3EncryptionClient> {
        if !(1..=MAX_PARTS_IN_FLIGHT).contains(&parts) {
            return Err(Error::Usage(format!("parts in flight must be 1 to {MAX_PARTS_IN_FLIGHT}, not {parts}")));
        }
        self.parts_in_flight = parts;
        Ok(self)
    }

    /// How many part uploads may run at once.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// use envelope_s3::client::PARTS_IN_FLIGHT;
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// assert_eq!(client.parts_in_flight(), PARTS_IN_FLIGHT);
    /// # Ok(())
    /// # }
    /// ```
    pub fn parts_in_flight(&self) -> usize {
        self.parts_in_flight
    }

    /// When gets may release plaintext (default [`Authentication::VerifyFirst`]).
    ///
    /// ```
    /// # use envelope_s3::{client::{Authentication, S3EncryptionClient}, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// // The caller's explicit opt-in to releasing bytes before the tag is checked.
    /// let client = S3EncryptionClient::new(s3, crypto).authentication(Authentication::Delayed);
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn authentication(mut self, authentication: Authentication) -> S3EncryptionClient {
        self.authentication = authentication;
        self
    }

    /// Verified-first gets of bodies up to `bytes` are opened in memory; larger ones go through
    /// the spool file (default 8 MiB; [`ObjectCrypto::buffer_limit`] caps it).
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto).with_memory_limit(1 << 20);
    /// assert_eq!(client.memory_limit(), 1 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_memory_limit(mut self, bytes: u64) -> S3EncryptionClient {
        self.memory_limit = bytes;
        self
    }

    /// The in-memory limit of verified-first gets.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// assert_eq!(S3EncryptionClient::new(s3, crypto).memory_limit(), 8 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    /// Where large verified-first gets keep their ciphertext while it is checked (default: the
    /// system's temporary directory). The file is unlinked as soon as it is created.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto).spool_dir(std::env::temp_dir());
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> S3EncryptionClient {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The object crypto configuration.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// assert!(client.crypto().suite().is_committing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn crypto(&self) -> &ObjectCrypto {
        &self.crypto
    }

    /// The underlying S3 client.
    ///
    /// ```
    /// # use envelope_s3::{client::S3EncryptionClient, wrap::AesGcmKeyring, ObjectCrypto};
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build());
    /// # let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], Default::default())?);
    /// let client = S3EncryptionClient::new(s3, crypto);
    /// let _plain: &aws_sdk_s3::Client = client.s3();
    /// # Ok(())
    /// # }
    /// ```
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// Deletes the object and its instruction file `<key>.instruction`, and `<key><suffix>` too
    /// when this client's suffix is a custom one (deleting a missing key is not an error in S3,
    /// so this succeeds for objects that had none).
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// client.delete_object("bucket", "report.csv").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.s3.delete_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("DeleteObject", e))?;
        let mut instruction_files = vec![Self::default_instruction_key(key)];
        if self.instruction_suffix != DEFAULT_INSTRUCTION_SUFFIX {
            instruction_files.push(self.instruction_key(key));
        }
        for instruction in &instruction_files {
            self.s3
                .delete_object()
                .bucket(bucket)
                .key(instruction)
                .send()
                .await
                .map_err(|e| s3_error("DeleteObject", e))?;
        }
        debug!(bucket, key, "deleted an object and its instruction files");
        Ok(())
    }

    /// The instruction file this client reads (and a re-wrap writes): `<key><suffix>`.
    fn instruction_key(&self, key: &str) -> String {
        format!("{key}{}", self.instruction_suffix)
    }

    /// The instruction file a put writes: always `<key>.instruction`, whatever the suffix.
    fn default_instruction_key(key: &str) -> String {
        format!("{key}{DEFAULT_INSTRUCTION_SUFFIX}")
    }
}

impl fmt::Debug for S3EncryptionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3EncryptionClient")
            .field("crypto", &self.crypto)
            .field("instruction_file", &self.instruction_file)
            .field("instruction_suffix", &self.instruction_suffix)
            .field("multipart_threshold", &self.multipart_threshold)
            .field("part_size", &self.part_size)
            .field("parts_in_flight", &self.parts_in_flight)
            .field("authentication", &self.authentication)
            .field("memory_limit", &self.memory_limit)
            .finish_non_exhaustive()
    }
}

/// An S3 failure as [`Error::S3`], with S3's code and message when it sent one.
pub(crate) fn s3_error<E, R>(operation: &'static str, error: aws_sdk_s3::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let message = match error.as_service_error().and_then(|service| service.code().map(|code| (code, service))) {
        Some((code, service)) => format!("{code}: {}", service.message().unwrap_or("(no message)")),
        None => DisplayErrorContext(&error).to_string(),
    };
    Error::S3 { operation, message }
}

/// The user metadata map S3 takes.
pub(crate) fn metadata_map(map: BTreeMap<String, String>) -> std::collections::HashMap<String, String> {
    map.into_iter().collect()
}
