//! The parsers, for the fuzz targets and the corpus replay test (`fuzz/checks.rs`) only.
//!
//! Not part of the API and exempt from semver. It exposes byte parsing and serialization, never a
//! key, a nonce or a way to mint a proof that a header authenticated: everything here is safe to
//! call on attacker-chosen bytes, which is what fuzzing does.

pub use crate::crypto::aead::{IV_LEN, TAG_LEN};
pub use crate::message::body::{
    BodyPart, MAX_NON_FRAMED_LEN, PartLocation, SINGLE_BLOCK_PREFIX_LEN, locate_footer, locate_frame,
    parse_single_block_prefix,
};
pub use crate::message::context::{parse as parse_encryption_context, serialize as serialize_encryption_context};
pub use crate::message::header::{Header, ParseLimits, ParsedHeader, parse as parse_header};
