//! Structured encryption of one database item: each attribute encrypted and signed, signed only,
//! or left alone, as its crypto action says; the header and footer travel as attributes.
//!
//! Built so far: the attribute model and its canonical serialization ([`AttributeValue`],
//! [`normalize_number`]), crypto actions ([`CryptoAction`]), and the `aws_dbe_head` /
//! `aws_dbe_foot` formats ([`Header`], [`Footer`]), each parsed strictly into typed errors, and
//! [`decrypt_item`]: a whole item verified (commitment, recipient tag, signature) and then
//! decrypted under a [`TableConfig`] with any envelope materials manager, and [`encrypt_item`]
//! (suite 0x6700 for now).
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/structured-encryption/`

mod action;
mod config;
mod decrypt;
mod encrypt;
mod error;
mod footer;
mod header;
mod json;
mod keys;
mod value;

pub use action::{CryptoAction, UnknownCryptoAction};
pub use config::{PlaintextOverride, TableConfig, UnknownPlaintextOverride};
pub use decrypt::{Item, decrypt_item};
pub use encrypt::{RESERVED_PREFIX, encrypt_item};
pub use error::{FooterError, HeaderError, ItemError, ValueError};
pub use footer::{Footer, SIGNATURE_LEN, TAG_LEN};
pub use header::{COMMITMENT_LEN, Header, MESSAGE_ID_LEN, flavor_of};
pub use json::{JsonError, item_from_json, item_from_value, item_to_json};
pub use value::{AttributeValue, MAX_DEPTH, TypeId, normalize_number, utf16_cmp};

/// Name of the header attribute.
///
/// ```
/// use envelope_dbe::item::{FOOTER_ATTRIBUTE, HEADER_ATTRIBUTE, RESERVED_PREFIX};
///
/// // Every encrypted item carries both; neither name can be one of the caller's attributes.
/// assert_eq!(HEADER_ATTRIBUTE, "aws_dbe_head");
/// assert!(HEADER_ATTRIBUTE.starts_with(RESERVED_PREFIX) && FOOTER_ATTRIBUTE.starts_with(RESERVED_PREFIX));
/// ```
pub const HEADER_ATTRIBUTE: &str = "aws_dbe_head";
/// Name of the footer attribute.
///
/// ```
/// assert_eq!(envelope_dbe::item::FOOTER_ATTRIBUTE, "aws_dbe_foot");
/// ```
pub const FOOTER_ATTRIBUTE: &str = "aws_dbe_foot";
