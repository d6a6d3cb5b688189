//! Typed errors of the item format: a bad value, header or footer names what is wrong, never
//! panics, and never yields partial output.

/// A serialized attribute value that does not follow the canonical form, or a value that cannot
/// be serialized.
///
/// ```
/// use envelope_dbe::item::{AttributeValue, ValueError};
///
/// // BOOL (type 0x0004) holds exactly 00 or 01.
/// assert_eq!(AttributeValue::deserialize_typed(&[0x00, 0x04, 0x02]), Err(ValueError::BadBool));
/// assert_eq!(AttributeValue::deserialize_typed(&[0x00]), Err(ValueError::Truncated));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The bytes end inside a length or a value.
    #[error("value bytes end too early")]
    Truncated,
    /// Bytes left after a complete value.
    #[error("{0} unexpected bytes after the value")]
    TrailingBytes(usize),
    /// A type id no DynamoDB type has.
    #[error("unknown type id {0:02x?}")]
    UnknownType([u8; 2]),
    /// A string that is not UTF-8.
    #[error("a string value is not UTF-8")]
    NotUtf8,
    /// Text that is not a DynamoDB number.
    #[error("{0:?} is not a number")]
    BadNumber(String),
    /// A number beyond DynamoDB's 38 digits or 1E-130 ..< 1E+126.
    #[error("{0:?} is outside DynamoDB's number range or precision")]
    NumberOutOfRange(String),
    /// A BOOL that is not exactly `00` or `01`.
    #[error("a BOOL value is not one byte 00 or 01")]
    BadBool,
    /// A NULL with value bytes.
    #[error("a NULL value carries bytes")]
    BadNull,
    /// The same member twice in a set.
    #[error("a set holds the same member twice")]
    DuplicateSetMember,
    /// A map key whose type is not S.
    #[error("a map key is not a string")]
    MapKeyNotString,
    /// The same key twice in a map.
    #[error("map key {0:?} appears twice")]
    DuplicateMapKey(String),
    /// Nesting deeper than DynamoDB's 32 levels.
    #[error("value nested deeper than 32 levels")]
    TooDeep,
    /// A length beyond `u32`.
    #[error("value too long to serialize")]
    TooLong,
}

/// An `aws_dbe_head` attribute that cannot be parsed or serialized.
///
/// ```
/// use envelope_dbe::item::Header;
///
/// // A malformed aws_dbe_head is an error to report, never a panic.
/// let error = Header::parse(&[0x01, 0x07]).unwrap_err();
/// println!("refusing the item: {error}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The bytes end inside the named field.
    #[error("header ends inside its {0}")]
    Truncated(&'static str),
    /// A format version other than 1 or 2.
    #[error("unsupported header version {0}")]
    UnsupportedVersion(u8),
    /// A flavor other than 0 (suite 0x6700) or 1 (suite 0x6701).
    #[error("unknown header flavor {0}")]
    UnknownFlavor(u8),
    /// A legend byte other than `e`, `s` or `c`.
    #[error("unknown legend byte {0:#04x}")]
    BadLegendByte(u8),
    /// A `c` legend byte in a version-1 header (only version 2 has it).
    #[error("legend byte 'c' in a version 1 header")]
    ContextActionInVersion1,
    /// An encryption-context key or value that is not UTF-8.
    #[error("an encryption context entry is not UTF-8")]
    ContextNotUtf8,
    /// Encryption-context keys not strictly ascending (unsorted or duplicated).
    #[error("encryption context key {0:?} is out of order or repeated")]
    ContextNotSorted(String),
    /// No encrypted data key.
    #[error("the header holds no encrypted data key")]
    NoEncryptedDataKeys,
    /// A key provider id that is not UTF-8.
    #[error("a key provider id is not UTF-8")]
    ProviderIdNotUtf8,
    /// Bytes left after the commitment.
    #[error("{0} unexpected bytes after the header commitment")]
    TrailingBytes(usize),
    /// A field too long for its length prefix, or too many entries.
    #[error("header {0} too long to serialize")]
    TooLong(&'static str),
}

/// An `aws_dbe_foot` attribute whose length does not fit the header.
///
/// ```
/// use envelope_dbe::item::Footer;
///
/// // A footer is whole recipient tags (and a signature under 0x6701); anything else is refused.
/// let error = Footer::parse(&[0; 47], 1, false).unwrap_err();
/// println!("refusing the item: {error}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FooterError {
    /// The footer must be 48 bytes per EDK, plus 103 with an ECDSA signature.
    #[error("footer is {found} bytes, expected {expected}")]
    WrongLength {
        /// Length the header implies.
        expected: usize,
        /// Length found.
        found: usize,
    },
}

/// An item that does not decrypt: every variant that concerns one attribute names it, and no
/// variant carries partial plaintext.
///
/// ```
/// use envelope_dbe::item::{Header, ItemError};
///
/// fn check(head: &[u8]) -> Result<(), ItemError> {
///     Header::parse(head)?; // a HeaderError converts into an ItemError
///     Ok(())
/// }
/// assert!(check(&[0x01]).is_err());
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// The item lacks `aws_dbe_head` or `aws_dbe_foot`, or holds one that is not binary.
    #[error("the item has no binary {0} attribute")]
    MissingAttribute(&'static str),
    /// The header does not parse.
    #[error("aws_dbe_head: {0}")]
    Header(#[from] HeaderError),
    /// The footer does not fit the header.
    #[error("aws_dbe_foot: {0}")]
    Footer(#[from] FooterError),
    /// The config and the item sign a different number of attributes than the header records.
    #[error("the header records {in_header} signed attributes, the config and item give {in_item}: {attributes:?}")]
    SignedAttributesMismatch {
        /// Legend length.
        in_header: usize,
        /// Signed attributes found.
        in_item: usize,
        /// Their names, in canonical order.
        attributes: Vec<String>,
    },
    /// A key attribute needed for the encryption context is missing or encrypted.
    #[error("key attribute {0:?} is missing, or not stored in plaintext")]
    KeyAttribute(String),
    /// An attribute's stored value is malformed.
    #[error("attribute {attribute:?}: {source}")]
    Value {
        /// Attribute name.
        attribute: String,
        /// What is wrong.
        source: ValueError,
    },
    /// An encrypted attribute is not binary, too short, or fails authentication.
    #[error("attribute {0:?} does not decrypt")]
    AttributeDecrypt(String),
    /// The materials manager or keyring failed (no key unwrapped, context mismatch, ...).
    #[error("materials: {0}")]
    Materials(#[from] envelope::Error),
    /// The header commitment does not match the data key.
    #[error("the header commitment does not match the data key")]
    Commitment,
    /// No recipient tag matched: some signed attribute, the header or the context changed.
    #[error("no recipient tag matches: a signed attribute, the header or the encryption context changed")]
    RecipientTag,
    /// The ECDSA signature does not verify.
    #[error("the item signature does not verify")]
    Signature,
    /// An internal primitive failed.
    #[error("cryptographic operation failed")]
    Crypto,
    /// An attribute to encrypt that the config neither names nor allows unsigned.
    #[error("attribute {0:?} has no crypto action in the config and is not allowed unsigned")]
    UnconfiguredAttribute(String),
    /// An attribute to encrypt whose name uses the SDK's reserved prefix `aws_dbe_`.
    #[error("attribute {0:?} uses the reserved prefix aws_dbe_")]
    ReservedAttribute(String),
    /// A plaintext item (no header, no footer) under a policy that forbids reading one.
    #[error("the item is not encrypted and the config forbids plaintext reads")]
    PlaintextItem,
    /// Something this version does not do yet.
    #[error("not supported yet: {0}")]
    Unsupported(&'static str),
}
