//! Content metadata: what an encrypted object stores beside its body, in the V1, V2 and V3
//! formats, in the object's user metadata or in an instruction file.
//!
//! spec: data-format/content-metadata.md, data-format/metadata-strategy.md
//!
//! Reading is strict: keys of two format versions together, a V3 instruction file holding keys
//! that must stay in the object, unknown algorithms and malformed values are errors (the first
//! three are [`SecurityError`]s), never guesses.

mod header_text;
mod json_map;
pub mod keys;
mod wrap_alg;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

pub use wrap_alg::WrapAlgorithm;

use crate::error::{Error, Result, SecurityError};
use crate::suite::ContentSuite;
use keys::*;

/// Length of the CBC IV (V1/V2 legacy objects).
///
/// ```
/// assert_eq!(envelope_s3::metadata::CBC_IV_LEN, 16); // the AES block
/// ```
pub const CBC_IV_LEN: usize = 16;
/// Length of the GCM IV of V2 objects.
///
/// ```
/// assert_eq!(envelope_s3::metadata::GCM_IV_LEN, 12);
/// ```
pub const GCM_IV_LEN: usize = 12;
/// Length of the V3 message id (`x-amz-i`), the HKDF salt.
///
/// ```
/// assert_eq!(envelope_s3::metadata::MESSAGE_ID_LEN, 28);
/// ```
pub const MESSAGE_ID_LEN: usize = 28;
/// Length of the V3 key commitment (`x-amz-d`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::COMMITMENT_LEN, 28);
/// ```
pub const COMMITMENT_LEN: usize = 28;

/// The metadata format version.
///
/// ```
/// use envelope_s3::{ContentMetadata, FormatVersion};
/// # let metadata = envelope_s3::metadata::example_v3();
/// // V3 objects are the committing ones.
/// assert_eq!(metadata.version(), FormatVersion::V3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatVersion {
    /// `x-amz-key`: the first clients (CBC content).
    V1,
    /// `x-amz-key-v2`: S3EC v2 (Java/Go/.NET v3), AES-GCM content.
    V2,
    /// `x-amz-3` with `x-amz-c`, `x-amz-d`, `x-amz-i`: key-committing AES-GCM content.
    V3,
}

/// The per-object inputs of the content cipher.
///
/// ```
/// use envelope_s3::{ContentParams, ContentSuite};
///
/// let params = ContentParams::Gcm { iv: [7; 12] };
/// assert_eq!(params.suite(), ContentSuite::AesGcm);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentParams {
    /// AES-256-CBC with PKCS #7 padding (legacy).
    Cbc {
        /// The 16-byte IV (`x-amz-iv`).
        iv: [u8; CBC_IV_LEN],
    },
    /// AES-256-GCM under the data key itself.
    Gcm {
        /// The 12-byte IV (`x-amz-iv`).
        iv: [u8; GCM_IV_LEN],
    },
    /// AES-256-GCM under a key derived from the data key and the message id.
    Committing {
        /// The message id (`x-amz-i`), the HKDF salt.
        message_id: [u8; MESSAGE_ID_LEN],
        /// The key commitment (`x-amz-d`).
        commitment: [u8; COMMITMENT_LEN],
    },
}

impl ContentParams {
    /// The content suite these parameters belong to.
    ///
    /// ```
    /// use envelope_s3::{ContentParams, ContentSuite};
    ///
    /// let params = ContentParams::Committing { message_id: [1; 28], commitment: [2; 28] };
    /// assert_eq!(params.suite(), ContentSuite::AesGcmCommitting);
    /// ```
    pub fn suite(&self) -> ContentSuite {
        match self {
            ContentParams::Cbc { .. } => ContentSuite::AesCbcLegacy,
            ContentParams::Gcm { .. } => ContentSuite::AesGcm,
            ContentParams::Committing { .. } => ContentSuite::AesGcmCommitting,
        }
    }
}

/// What the wrapped data key was bound to: a raw key's material description, or the KMS
/// encryption context (with the reserved `aws:x-amz-cek-alg` key the writer added).
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::KeyDescription;
///
/// let description = KeyDescription::MaterialDescription(BTreeMap::from([("owner".into(), "ops".into())]));
/// assert_eq!(description.entries()["owner"], "ops");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDescription {
    /// The material description of a raw AES or RSA key (`x-amz-matdesc` / `x-amz-m`).
    MaterialDescription(BTreeMap<String, String>),
    /// The KMS encryption context (`x-amz-matdesc` / `x-amz-t`).
    EncryptionContext(BTreeMap<String, String>),
}

impl KeyDescription {
    /// The pairs, whichever kind this is.
    ///
    /// ```
    /// use envelope_s3::KeyDescription;
    ///
    /// assert!(KeyDescription::EncryptionContext(Default::default()).entries().is_empty());
    /// ```
    pub fn entries(&self) -> &BTreeMap<String, String> {
        match self {
            KeyDescription::MaterialDescription(map) | KeyDescription::EncryptionContext(map) => map,
        }
    }
}

/// Everything an encrypted object stores beside its body.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::{ContentMetadata, MetadataLocation};
///
/// # fn main() -> envelope_s3::Result<()> {
/// # let written = envelope_s3::metadata::example_v3();
/// let stored: BTreeMap<String, String> = written.to_object_metadata();
/// let MetadataLocation::Object(read) = ContentMetadata::locate(&stored)? else {
///     panic!("V3 metadata written to the object is read from the object");
/// };
/// assert_eq!(read, written);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentMetadata {
    version: FormatVersion,
    content: ContentParams,
    encrypted_data_key: Vec<u8>,
    wrap: Option<WrapAlgorithm>,
    description: KeyDescription,
    unencrypted_content_length: Option<u64>,
}

/// Where the metadata of an object is, after reading its user metadata.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::{ContentMetadata, MetadataLocation};
///
/// # fn main() -> envelope_s3::Result<()> {
/// // No encryption keys in the object's metadata: look for `<key>.instruction`.
/// let plain: BTreeMap<String, String> = BTreeMap::new();
/// assert!(matches!(ContentMetadata::locate(&plain)?, MetadataLocation::InstructionFile(_)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataLocation {
    /// All of it is in the object's metadata.
    Object(ContentMetadata),
    /// Some or all of it is in an instruction file; complete it with
    /// [`PendingInstructionFile::complete`].
    InstructionFile(PendingInstructionFile),
}

/// The part of the metadata read from the object, waiting for its instruction file.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_s3::{ContentMetadata, MetadataLocation};
///
/// # fn main() -> envelope_s3::Result<()> {
/// # let written = envelope_s3::metadata::example_v3();
/// let (object_part, instruction_file) = written.to_instruction_file();
/// let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part)? else {
///     panic!("x-amz-3 is in the instruction file");
/// };
/// assert_eq!(pending.complete(&instruction_file)?, written);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInstructionFile {
    /// The V3 keys that stay in the object (`x-amz-c`, `x-amz-d`, `x-amz-i`), if any.
    object_v3: BTreeMap<String, String>,
    /// `x-amz-unencrypted-content-length` when the object's metadata holds it (V1/V2: it stays
    /// there, because the Python client refuses instruction files holding it).
    object_length: Option<u64>,
}

impl PendingInstructionFile {
    /// Completes the metadata with the instruction file's JSON text.
    ///
    /// A V3 instruction file may not hold `x-amz-c`, `x-amz-d` or `x-amz-i`
    /// ([`SecurityError::InstructionFileTampered`]); a V1/V2 one holds everything.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_s3::error::{Error, SecurityError};
    /// use envelope_s3::{ContentMetadata, MetadataLocation};
    ///
    /// # fn main() -> envelope_s3::Result<()> {
    /// # let written = envelope_s3::metadata::example_v3();
    /// let (object_part, _) = written.to_instruction_file();
    /// let MetadataLocation::InstructionFile(pending) = ContentMetadata::locate(&object_part)? else { panic!() };
    /// // A commitment pasted into the instruction file is tampering, whatever its value.
    /// let forged = r#"{"x-amz-3":"AAAA","x-amz-w":"12","x-amz-d":"AAAA"}"#;
    /// let error = pending.complete(forged).unwrap_err();
    /// assert!(matches!(error, Error::Security(SecurityError::InstructionFileTampered { key: "x-amz-d" })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn complete(&self, instruction_file: &str) -> Result<ContentMetadata> {
        let file = json_map::parse(instruction_file).map_err(|why| Error::malformed("instruction file", why))?;
        let file: BTreeMap<&str, &str> = file.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if self.object_v3.is_empty() {
            // spec: metadata-strategy.md#v3-instruction-files — c/d/i are never in an instruction file,
            // so a file holding them without the object holding them is tampering too.
            reject_object_only_keys(&file)?;
            check_not_mixed(&file)?;
            if has_any(&file, V3_ONLY) {
                return Err(Error::malformed(CONTENT_CIPHER_V3, "missing from the object's metadata"));
            }
            let mut metadata = match parse_complete(&file)? {
                Some(metadata) => metadata,
                None => return Err(Error::malformed("instruction file", "holds no encrypted data key")),
            };
            match (metadata.unencrypted_content_length, self.object_length) {
                (Some(in_file), Some(in_object)) if in_file != in_object => {
                    return Err(Error::malformed(
                        UNENCRYPTED_CONTENT_LENGTH,
                        format!("{in_object} in the object's metadata, {in_file} in the instruction file"),
                    ));
                }
                (None, Some(in_object)) => metadata.unencrypted_content_length = Some(in_object),
                _ => {}
            }
            return Ok(metadata);
        }
        reject_object_only_keys(&file)?;
        let mut merged: BTreeMap<&str, &str> = self.object_v3.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (key, value) in &file {
            if is_format_key(key) {
                merged.insert(key, value);
            }
        }
        check_not_mixed(&merged)?;
        if !merged.contains_key(ENCRYPTED_DATA_KEY_V3) {
            return Err(Error::malformed(ENCRYPTED_DATA_KEY_V3, "missing from the instruction file"));
        }
        parse_v3(&merged)
    }
}

impl ContentMetadata {
    /// Metadata for a new object; refuses combinations no format allows (CBC is never written,
    /// legacy wraps have no V3 code, the description kind must fit the wrap).
    pub(crate) fn new(
        content: ContentParams,
        encrypted_data_key: Vec<u8>,
        wrap: WrapAlgorithm,
        description: KeyDescription,
        unencrypted_content_length: Option<u64>,
    ) -> Result<ContentMetadata> {
        let version = match &content {
            ContentParams::Cbc { .. } => return Err(Error::Usage("CBC content is never written".into())),
            ContentParams::Gcm { .. } => FormatVersion::V2,
            ContentParams::Committing { .. } => FormatVersion::V3,
        };
        if wrap.is_legacy() {
            return Err(Error::Usage(format!("the legacy wrapping algorithm {wrap} is never written")));
        }
        if wrap.uses_kms() != matches!(description, KeyDescription::EncryptionContext(_)) {
            return Err(Error::internal(format!("wrap {wrap} with the other kind of key description")));
        }
        if encrypted_data_key.is_empty() {
            return Err(Error::internal("an empty encrypted data key"));
        }
        Ok(ContentMetadata {
            version,
            content,
            encrypted_data_key,
            wrap: Some(wrap),
            description,
            unencrypted_content_length,
        })
    }

    /// Reads the object's user metadata (names without `x-amz-meta-`; other keys are ignored).
    ///
    /// spec: content-metadata.md#determining-s3ec-object-status — V1, V2 or V3 in the object, or
    /// else the instruction file.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_s3::error::{Error, SecurityError};
    /// use envelope_s3::ContentMetadata;
    ///
    /// # let v3 = envelope_s3::metadata::example_v3();
    /// let mut stored = v3.to_object_metadata();
    /// stored.insert("x-amz-key-v2".into(), "AAAA".into());
    /// let error = ContentMetadata::locate(&stored).unwrap_err();
    /// assert!(matches!(error, Error::Security(SecurityError::MixedFormats { .. })));
    /// ```
    pub fn locate<K: AsRef<str>, V: AsRef<str>, M>(object_metadata: M) -> Result<MetadataLocation>
    where
        M: IntoIterator<Item = (K, V)>,
    {
        let owned: Vec<(K, V)> = object_metadata.into_iter().collect();
        let map: BTreeMap<&str, &str> =
            owned.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(k, _)| is_format_key(k)).collect();
        check_not_mixed(&map)?;
        if let Some(metadata) = parse_complete(&map)? {
            return Ok(MetadataLocation::Object(metadata));
        }
        // Not complete: either the V3 object part, or nothing (everything in the file).
        let object_v3: BTreeMap<String, String> = V3_OBJECT_ONLY
            .iter()
            .filter_map(|key| map.get(key).map(|value| ((*key).to_owned(), (*value).to_owned())))
            .collect();
        if !object_v3.is_empty() {
            for key in V3_OBJECT_ONLY {
                if !map.contains_key(key) {
                    return Err(Error::malformed(key, "missing from the object's metadata"));
                }
            }
        }
        if has_any(&map, V1_V2_SHARED.iter().filter(|key| **key != UNENCRYPTED_CONTENT_LENGTH)) {
            return Err(Error::malformed(KEY_V2, "the object has an IV or description but no encrypted data key"));
        }
        let object_length = content_length(&map)?;
        Ok(MetadataLocation::InstructionFile(PendingInstructionFile { object_v3, object_length }))
    }

    /// All the metadata as object user metadata (names without `x-amz-meta-`).
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// let stored = metadata.to_object_metadata();
    /// assert_eq!(stored["x-amz-c"], "115");
    /// assert_eq!(stored["x-amz-w"], "12");
    /// ```
    pub fn to_object_metadata(&self) -> BTreeMap<String, String> {
        self.entries().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// The metadata split for instruction-file storage: what stays in the object's metadata, and
    /// the instruction file's JSON text.
    ///
    /// spec: metadata-strategy.md — V1/V2 put everything in the file; V3 keeps `x-amz-c`,
    /// `x-amz-d` and `x-amz-i` in the object and moves the rest. `x-amz-unencrypted-content-length`
    /// (V1/V2) stays in the object: the Python client refuses instruction files holding it.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// let (object, file) = metadata.to_instruction_file();
    /// assert_eq!(object.len(), 3);
    /// assert!(file.contains("\"x-amz-3\"") && !file.contains("\"x-amz-d\""));
    /// ```
    pub fn to_instruction_file(&self) -> (BTreeMap<String, String>, String) {
        let mut object = BTreeMap::new();
        let mut file = BTreeMap::new();
        for (key, value) in self.entries() {
            // The length stays with the object: the Python client refuses instruction files
            // holding it (it is no part of what key rotation changes anyway).
            if (self.version == FormatVersion::V3 && V3_OBJECT_ONLY.contains(&key)) || key == UNENCRYPTED_CONTENT_LENGTH
            {
                object.insert(key.to_owned(), value);
            } else {
                file.insert(key.to_owned(), value);
            }
        }
        (object, json_map::write(&file))
    }

    /// The format version.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert_eq!(metadata.version(), envelope_s3::FormatVersion::V3);
    /// ```
    pub fn version(&self) -> FormatVersion {
        self.version
    }

    /// The content cipher's parameters.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert_eq!(metadata.content().suite(), envelope_s3::ContentSuite::AesGcmCommitting);
    /// ```
    pub fn content(&self) -> &ContentParams {
        &self.content
    }

    /// The content suite.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert!(metadata.suite().is_committing());
    /// ```
    pub fn suite(&self) -> ContentSuite {
        self.content.suite()
    }

    /// The wrapped data key.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert!(!metadata.encrypted_data_key().is_empty());
    /// ```
    pub fn encrypted_data_key(&self) -> &[u8] {
        &self.encrypted_data_key
    }

    /// The wrapping algorithm; `None` for V1 objects, whose format does not record it.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert_eq!(metadata.wrap(), Some(envelope_s3::WrapAlgorithm::KmsContext));
    /// ```
    pub fn wrap(&self) -> Option<WrapAlgorithm> {
        self.wrap
    }

    /// The material description or KMS encryption context.
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert_eq!(metadata.description().entries()["aws:x-amz-cek-alg"], "115");
    /// ```
    pub fn description(&self) -> &KeyDescription {
        &self.description
    }

    /// `x-amz-unencrypted-content-length`, when stored (V1/V2).
    ///
    /// ```
    /// # let metadata = envelope_s3::metadata::example_v3();
    /// assert_eq!(metadata.unencrypted_content_length(), None, "V3 does not store it");
    /// ```
    pub fn unencrypted_content_length(&self) -> Option<u64> {
        self.unencrypted_content_length
    }

    fn entries(&self) -> Vec<(&'static str, String)> {
        // ASCII JSON (\u escapes): the values travel in HTTP headers, which S3 would double-encode.
        let description = json_map::write_ascii(self.description.entries());
        let edk = BASE64.encode(&self.encrypted_data_key);
        let mut out = Vec::new();
        match (self.version, &self.content) {
            (FormatVersion::V3, ContentParams::Committing { message_id, commitment }) => {
                out.push((CONTENT_CIPHER_V3, self.suite().cek_alg().to_owned()));
                out.push((ENCRYPTED_DATA_KEY_V3, edk));
                if let Some(code) = self.wrap.and_then(WrapAlgorithm::v3_code) {
                    out.push((ENCRYPTED_DATA_KEY_ALGORITHM_V3, code.to_owned()));
                }
                let description_key = match self.description {
                    KeyDescription::EncryptionContext(_) => ENCRYPTION_CONTEXT_V3,
                    KeyDescription::MaterialDescription(_) => MAT_DESC_V3,
                };
                out.push((description_key, description));
                out.push((KEY_COMMITMENT_V3, BASE64.encode(commitment)));
                out.push((MESSAGE_ID_V3, BASE64.encode(message_id)));
            }
            (version, content) => {
                let iv = match content {
                    ContentParams::Cbc { iv } => BASE64.encode(iv),
                    ContentParams::Gcm { iv } => BASE64.encode(iv),
                    ContentParams::Committing { message_id, .. } => BASE64.encode(message_id),
                };
                if version == FormatVersion::V1 {
                    out.push((KEY_V1, edk));
                } else {
                    out.push((KEY_V2, edk));
                    if let Some(wrap) = self.wrap {
                        out.push((WRAP_ALG, wrap.v2_name().to_owned()));
                    }
                    out.push((CEK_ALG, self.suite().cek_alg().to_owned()));
                    if matches!(content, ContentParams::Gcm { .. }) {
                        out.push((TAG_LEN, "128".to_owned()));
                    }
                }
                out.push((IV, iv));
                out.push((MATDESC, description));
                if let Some(length) = self.unencrypted_content_length {
                    out.push((UNENCRYPTED_CONTENT_LENGTH, length.to_string()));
                }
            }
        }
        out
    }
}

fn is_format_key(key: &str) -> bool {
    V1_ONLY.contains(&key) || V2_ONLY.contains(&key) || V1_V2_SHARED.contains(&key) || V3_ONLY.contains(&key)
}

fn has_any<'a>(map: &BTreeMap<&str, &str>, keys: impl IntoIterator<Item = &'a &'a str>) -> bool {
    keys.into_iter().any(|key| map.contains_key(key))
}

/// spec: content-metadata.md — keys exclusive to different versions together SHOULD throw.
fn check_not_mixed(map: &BTreeMap<&str, &str>) -> Result<()> {
    let found = |keys: &[&'static str]| -> Vec<&'static str> {
        keys.iter().copied().filter(|key| map.contains_key(key)).collect()
    };
    let v1 = found(V1_ONLY);
    let v2 = found(V2_ONLY);
    let v1_v2 = found(V1_V2_SHARED);
    let v3 = found(V3_ONLY);
    let versions = [!v1.is_empty(), !v2.is_empty(), !v3.is_empty()].into_iter().filter(|present| *present).count();
    if versions > 1 || (!v3.is_empty() && !v1_v2.is_empty()) {
        let mut all = v1;
        all.extend(v2);
        all.extend(v1_v2);
        all.extend(v3);
        return Err(SecurityError::MixedFormats { found: all }.into());
    }
    Ok(())
}

fn reject_object_only_keys(file: &BTreeMap<&str, &str>) -> Result<()> {
    // spec: metadata-strategy.md#v3-instruction-files — c, d and i MUST NOT be in the file.
    match V3_OBJECT_ONLY.iter().find(|key| file.contains_key(*key)) {
        Some(key) => Err(SecurityError::InstructionFileTampered { key }.into()),
        None => Ok(()),
    }
}

/// Parses a map that holds (or should hold) a whole format; `None` when it holds no data key.
fn parse_complete(map: &BTreeMap<&str, &str>) -> Result<Option<ContentMetadata>> {
    if map.contains_key(KEY_V1) {
        return parse_v1(map).map(Some);
    }
    if has_any(map, V2_ONLY) {
        if !map.contains_key(KEY_V2) {
            return Err(Error::malformed(KEY_V2, "missing beside other V2 keys"));
        }
        return parse_v2(map).map(Some);
    }
    if map.contains_key(ENCRYPTED_DATA_KEY_V3) {
        return parse_v3(map).map(Some);
    }
    if has_any(map, &[ENCRYPTED_DATA_KEY_ALGORITHM_V3, MAT_DESC_V3, ENCRYPTION_CONTEXT_V3]) {
        return Err(Error::malformed(ENCRYPTED_DATA_KEY_V3, "missing beside other V3 keys"));
    }
    Ok(None)
}

fn required<'a>(map: &BTreeMap<&str, &'a str>, key: &'static str) -> Result<&'a str> {
    map.get(key).copied().ok_or_else(|| Error::malformed(key, "missing"))
}

fn base64_field(map: &BTreeMap<&str, &str>, key: &'static str) -> Result<Vec<u8>> {
    let bytes =
        BASE64.decode(required(map, key)?).map_err(|error| Error::malformed(key, format!("not base64: {error}")))?;
    if bytes.is_empty() {
        return Err(Error::malformed(key, "empty"));
    }
    Ok(bytes)
}

fn fixed_field<const N: usize>(map: &BTreeMap<&str, &str>, key: &'static str) -> Result<[u8; N]> {
    let bytes = base64_field(map, key)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| Error::malformed(key, format!("{} bytes, not {N}", bytes.len())))
}

fn description_map(map: &BTreeMap<&str, &str>, key: &'static str) -> Result<BTreeMap<String, String>> {
    match map.get(key) {
        // spec: content-metadata.md — the default description is the empty JSON map.
        None => Ok(BTreeMap::new()),
        Some(text) => {
            // spec: metadata-strategy.md#object-metadata — S3's double encoding of non-ASCII values.
            let text = header_text::decode(text).map_err(|why| Error::malformed(key, why))?;
            json_map::parse(&text).map_err(|why| Error::malformed(key, why))
        }
    }
}

fn content_length(map: &BTreeMap<&str, &str>) -> Result<Option<u64>> {
    map.get(UNENCRYPTED_CONTENT_LENGTH)
        .map(|text| {
            text.parse::<u64>()
                .map_err(|_| Error::malformed(UNENCRYPTED_CONTENT_LENGTH, format!("{text:?} is not a byte count")))
        })
        .transpose()
}

fn parse_v1(map: &BTreeMap<&str, &str>) -> Result<ContentMetadata> {
    let encrypted_data_key = base64_field(map, KEY_V1)?;
    // V1 objects are CBC: the format has no cipher key.
    let iv = fixed_field::<CBC_IV_LEN>(map, IV)?;
    let entries = description_map(map, MATDESC)?;
    let (wrap, description) = unrecorded_wrap(&encrypted_data_key, entries);
    Ok(ContentMetadata {
        version: FormatVersion::V1,
        content: ContentParams::Cbc { iv },
        encrypted_data_key,
        wrap,
        description,
        unencrypted_content_length: content_length(map)?,
    })
}

/// The wrap of an object that records none (V1, and V2 CBC objects of "encryption only" clients):
/// the legacy KMS clients stored the key id in the description; otherwise, like the Java client,
/// the wrapped key's length tells RSA (longer than a 32-byte key padded to 48) from AES-ECB.
fn unrecorded_wrap(
    encrypted_data_key: &[u8],
    entries: BTreeMap<String, String>,
) -> (Option<WrapAlgorithm>, KeyDescription) {
    if entries.contains_key("kms_cmk_id") {
        (Some(WrapAlgorithm::KmsLegacy), KeyDescription::EncryptionContext(entries))
    } else if encrypted_data_key.len() > 48 {
        (Some(WrapAlgorithm::RsaPkcs1Legacy), KeyDescription::MaterialDescription(entries))
    } else {
        (Some(WrapAlgorithm::AesEcbLegacy), KeyDescription::MaterialDescription(entries))
    }
}

fn parse_v2(map: &BTreeMap<&str, &str>) -> Result<ContentMetadata> {
    let encrypted_data_key = base64_field(map, KEY_V2)?;
    let cek_alg = required(map, CEK_ALG)?;
    if !map.contains_key(WRAP_ALG) && ContentSuite::from_cek_alg(cek_alg) == Some(ContentSuite::AesCbcLegacy) {
        // spec: content-metadata.md says x-amz-wrap-alg MUST be present; CBC objects of the old
        // "encryption only" clients lack it, and the Java client reads them by inference.
        if map.contains_key(TAG_LEN) {
            return Err(Error::malformed(TAG_LEN, "present for CBC content"));
        }
        let (wrap, description) = unrecorded_wrap(&encrypted_data_key, description_map(map, MATDESC)?);
        return Ok(ContentMetadata {
            version: FormatVersion::V2,
            content: ContentParams::Cbc { iv: fixed_field::<CBC_IV_LEN>(map, IV)? },
            encrypted_data_key,
            wrap,
            description,
            unencrypted_content_length: content_length(map)?,
        });
    }
    let wrap_name = required(map, WRAP_ALG)?;
    let wrap = WrapAlgorithm::from_v2_name(wrap_name)
        .ok_or_else(|| SecurityError::UnknownAlgorithm { key: WRAP_ALG, value: wrap_name.to_owned() })?;
    let unknown_cek = || SecurityError::UnknownAlgorithm { key: CEK_ALG, value: cek_alg.to_owned() };
    let content = match ContentSuite::from_cek_alg(cek_alg) {
        Some(ContentSuite::AesGcm) => {
            // spec: content-metadata.md — the tag length MUST be 128 when present (Python omits it).
            if let Some(tag_len) = map.get(TAG_LEN) {
                if *tag_len != "128" {
                    return Err(SecurityError::UnknownAlgorithm { key: TAG_LEN, value: (*tag_len).to_owned() }.into());
                }
            }
            ContentParams::Gcm { iv: fixed_field::<GCM_IV_LEN>(map, IV)? }
        }
        Some(ContentSuite::AesCbcLegacy) => {
            if map.contains_key(TAG_LEN) {
                return Err(Error::malformed(TAG_LEN, "present for CBC content"));
            }
            ContentParams::Cbc { iv: fixed_field::<CBC_IV_LEN>(map, IV)? }
        }
        // spec: content-metadata.md — 0x0073 MUST use the V3 format only.
        Some(ContentSuite::AesGcmCommitting) | None => return Err(unknown_cek().into()),
    };
    let entries = description_map(map, MATDESC)?;
    let description = if wrap.uses_kms() {
        KeyDescription::EncryptionContext(entries)
    } else {
        KeyDescription::MaterialDescription(entries)
    };
    Ok(ContentMetadata {
        version: FormatVersion::V2,
        content,
        encrypted_data_key,
        wrap: Some(wrap),
        description,
        unencrypted_content_length: content_length(map)?,
    })
}

fn parse_v3(map: &BTreeMap<&str, &str>) -> Result<ContentMetadata> {
    let cek_alg = required(map, CONTENT_CIPHER_V3)?;
    // spec: content-metadata.md — V3 is the committing suite's format and no other's.
    if ContentSuite::from_cek_alg(cek_alg) != Some(ContentSuite::AesGcmCommitting) {
        return Err(SecurityError::UnknownAlgorithm { key: CONTENT_CIPHER_V3, value: cek_alg.to_owned() }.into());
    }
    let encrypted_data_key = base64_field(map, ENCRYPTED_DATA_KEY_V3)?;
    let code = required(map, ENCRYPTED_DATA_KEY_ALGORITHM_V3)?;
    let wrap = WrapAlgorithm::from_v3_code(code).ok_or_else(|| SecurityError::UnknownAlgorithm {
        key: ENCRYPTED_DATA_KEY_ALGORITHM_V3,
        value: code.to_owned(),
    })?;
    // spec: content-metadata.md — x-amz-t goes with kms+context, x-amz-m with the raw wraps; the
    // other kind present is a deviation from the format.
    let (own, other) =
        if wrap.uses_kms() { (ENCRYPTION_CONTEXT_V3, MAT_DESC_V3) } else { (MAT_DESC_V3, ENCRYPTION_CONTEXT_V3) };
    if map.contains_key(other) {
        return Err(Error::malformed(other, format!("present with wrapping algorithm {wrap}")));
    }
    let entries = description_map(map, own)?;
    let description = if wrap.uses_kms() {
        KeyDescription::EncryptionContext(entries)
    } else {
        KeyDescription::MaterialDescription(entries)
    };
    let commitment = fixed_field::<COMMITMENT_LEN>(map, KEY_COMMITMENT_V3)?;
    let message_id = fixed_field::<MESSAGE_ID_LEN>(map, MESSAGE_ID_V3)?;
    Ok(ContentMetadata {
        version: FormatVersion::V3,
        content: ContentParams::Committing { message_id, commitment },
        encrypted_data_key,
        wrap: Some(wrap),
        description,
        unencrypted_content_length: None,
    })
}

/// A V3 KMS metadata value for examples and tests (not a real object's).
#[doc(hidden)]
pub fn example_v3() -> ContentMetadata {
    ContentMetadata {
        version: FormatVersion::V3,
        content: ContentParams::Committing { message_id: [1; MESSAGE_ID_LEN], commitment: [2; COMMITMENT_LEN] },
        encrypted_data_key: vec![3; 40],
        wrap: Some(WrapAlgorithm::KmsContext),
        description: KeyDescription::EncryptionContext(BTreeMap::from([
            ("aws:x-amz-cek-alg".to_owned(), "115".to_owned()),
            ("tenant".to_owned(), "acme".to_owned()),
        ])),
        unencrypted_content_length: None,
    }
}

#[cfg(test)]
mod tests;
