//! The metadata keys of the three formats, and which version owns each.
//!
//! spec: data-format/content-metadata.md#content-metadata-mapkeys — stored as user metadata, so
//! S3 adds `x-amz-meta-` on the wire; these are the names without that prefix.

/// V1: the wrapped data key.
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::KEY_V1, "x-amz-key");
/// ```
pub const KEY_V1: &str = "x-amz-key";
/// V2: the wrapped data key.
///
/// ```
/// use std::collections::HashMap;
/// use envelope_s3::metadata::keys::{KEY_V1, KEY_V2};
///
/// // Which format wrote an object, from its user metadata (S3 strips `x-amz-meta-`):
/// let user_metadata = HashMap::from([(KEY_V2.to_owned(), "AQIDAHh...".to_owned())]);
/// assert!(user_metadata.contains_key("x-amz-key-v2") && !user_metadata.contains_key(KEY_V1));
/// ```
pub const KEY_V2: &str = "x-amz-key-v2";
/// V1/V2: the content IV.
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::IV, "x-amz-iv");
/// ```
pub const IV: &str = "x-amz-iv";
/// V1/V2: material description or KMS encryption context (JSON).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::MATDESC, "x-amz-matdesc");
/// ```
pub const MATDESC: &str = "x-amz-matdesc";
/// V1/V2: the plaintext length.
///
/// ```
/// use envelope_s3::metadata::keys::UNENCRYPTED_CONTENT_LENGTH;
///
/// // On the wire S3 adds the user-metadata prefix.
/// assert_eq!(format!("x-amz-meta-{UNENCRYPTED_CONTENT_LENGTH}"), "x-amz-meta-x-amz-unencrypted-content-length");
/// ```
pub const UNENCRYPTED_CONTENT_LENGTH: &str = "x-amz-unencrypted-content-length";
/// V2: the wrapping algorithm.
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::WRAP_ALG, "x-amz-wrap-alg");
/// ```
pub const WRAP_ALG: &str = "x-amz-wrap-alg";
/// V2: the content cipher.
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::CEK_ALG, "x-amz-cek-alg");
/// ```
pub const CEK_ALG: &str = "x-amz-cek-alg";
/// V2: the GCM tag length in bits.
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::TAG_LEN, "x-amz-tag-len");
/// ```
pub const TAG_LEN: &str = "x-amz-tag-len";

/// V3: the content cipher (`CONTENT_CIPHER_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::CONTENT_CIPHER_V3, "x-amz-c");
/// ```
pub const CONTENT_CIPHER_V3: &str = "x-amz-c";
/// V3: the wrapped data key (`ENCRYPTED_DATA_KEY_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::ENCRYPTED_DATA_KEY_V3, "x-amz-3");
/// ```
pub const ENCRYPTED_DATA_KEY_V3: &str = "x-amz-3";
/// V3: the wrapping algorithm code (`ENCRYPTED_DATA_KEY_ALGORITHM_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::ENCRYPTED_DATA_KEY_ALGORITHM_V3, "x-amz-w");
/// ```
pub const ENCRYPTED_DATA_KEY_ALGORITHM_V3: &str = "x-amz-w";
/// V3: the material description of raw keys (`MAT_DESC_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::MAT_DESC_V3, "x-amz-m");
/// ```
pub const MAT_DESC_V3: &str = "x-amz-m";
/// V3: the KMS encryption context (`ENCRYPTION_CONTEXT_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::ENCRYPTION_CONTEXT_V3, "x-amz-t");
/// ```
pub const ENCRYPTION_CONTEXT_V3: &str = "x-amz-t";
/// V3: the key commitment (`KEY_COMMITMENT_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::KEY_COMMITMENT_V3, "x-amz-d");
/// ```
pub const KEY_COMMITMENT_V3: &str = "x-amz-d";
/// V3: the message id, the HKDF salt (`MESSAGE_ID_V3`).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::MESSAGE_ID_V3, "x-amz-i");
/// ```
pub const MESSAGE_ID_V3: &str = "x-amz-i";

/// User metadata of an instruction file object (its value is empty).
///
/// ```
/// assert_eq!(envelope_s3::metadata::keys::INSTRUCTION_FILE_MARKER, "x-amz-crypto-instr-file");
/// ```
pub const INSTRUCTION_FILE_MARKER: &str = "x-amz-crypto-instr-file";

/// Keys only V1 uses.
pub(crate) const V1_ONLY: &[&str] = &[KEY_V1];
/// Keys only V2 uses.
pub(crate) const V2_ONLY: &[&str] = &[KEY_V2, WRAP_ALG, CEK_ALG, TAG_LEN];
/// Keys V1 and V2 share (never V3).
pub(crate) const V1_V2_SHARED: &[&str] = &[IV, MATDESC, UNENCRYPTED_CONTENT_LENGTH];
/// Keys only V3 uses.
pub(crate) const V3_ONLY: &[&str] = &[
    CONTENT_CIPHER_V3,
    ENCRYPTED_DATA_KEY_V3,
    ENCRYPTED_DATA_KEY_ALGORITHM_V3,
    MAT_DESC_V3,
    ENCRYPTION_CONTEXT_V3,
    KEY_COMMITMENT_V3,
    MESSAGE_ID_V3,
];
/// V3 keys that must stay in the object's metadata when an instruction file is used.
///
/// spec: data-format/metadata-strategy.md#v3-instruction-files
pub(crate) const V3_OBJECT_ONLY: &[&str] = &[CONTENT_CIPHER_V3, KEY_COMMITMENT_V3, MESSAGE_ID_V3];
