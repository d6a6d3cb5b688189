//! What happens to one attribute on encrypt: encrypted and signed, signed only, signed and put
//! into the encryption context, or left alone.

/// The crypto action of one attribute.
///
/// ```
/// use envelope_dbe::item::CryptoAction;
///
/// assert_eq!(CryptoAction::EncryptAndSign.legend_byte(), Some(b'e'));
/// assert_eq!(CryptoAction::DoNothing.legend_byte(), None);
/// assert_eq!(CryptoAction::from_legend_byte(b'c'), Some(CryptoAction::SignAndIncludeInEncryptionContext));
/// assert_eq!("SIGN_ONLY".parse::<CryptoAction>(), Ok(CryptoAction::SignOnly));
/// assert!(CryptoAction::SignOnly.is_signed() && !CryptoAction::DoNothing.is_signed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoAction {
    /// Encrypted, and covered by the footer's signatures.
    EncryptAndSign,
    /// Stored in plaintext, covered by the footer's signatures.
    SignOnly,
    /// Stored in plaintext, signed, and its value bound into the encryption context
    /// (`aws-crypto-attr.<name>`; makes the header version 2).
    SignAndIncludeInEncryptionContext,
    /// Neither encrypted nor signed.
    DoNothing,
}

impl CryptoAction {
    /// The header legend byte (`e`, `s`, `c`); `None` for an unauthenticated attribute.
    pub fn legend_byte(self) -> Option<u8> {
        match self {
            CryptoAction::EncryptAndSign => Some(b'e'),
            CryptoAction::SignOnly => Some(b's'),
            CryptoAction::SignAndIncludeInEncryptionContext => Some(b'c'),
            CryptoAction::DoNothing => None,
        }
    }

    /// The action a legend byte stands for.
    pub fn from_legend_byte(byte: u8) -> Option<CryptoAction> {
        match byte {
            b'e' => Some(CryptoAction::EncryptAndSign),
            b's' => Some(CryptoAction::SignOnly),
            b'c' => Some(CryptoAction::SignAndIncludeInEncryptionContext),
            _ => None,
        }
    }

    /// Whether the footer covers the attribute.
    pub fn is_signed(self) -> bool {
        self != CryptoAction::DoNothing
    }
}

/// The configuration name was not one of the four actions.
///
/// ```
/// use envelope_dbe::item::{CryptoAction, UnknownCryptoAction};
///
/// let error = "ENCRYPT".parse::<CryptoAction>().unwrap_err();
/// assert_eq!(error, UnknownCryptoAction("ENCRYPT".into()));
/// assert_eq!(error.to_string(), r#"unknown crypto action "ENCRYPT""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown crypto action {0:?}")]
pub struct UnknownCryptoAction(pub String);

impl std::str::FromStr for CryptoAction {
    type Err = UnknownCryptoAction;

    /// The DB-ESDK configuration names; `CONTEXT_AND_SIGN` is an accepted alias.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "ENCRYPT_AND_SIGN" => Ok(CryptoAction::EncryptAndSign),
            "SIGN_ONLY" => Ok(CryptoAction::SignOnly),
            "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT" | "CONTEXT_AND_SIGN" => {
                Ok(CryptoAction::SignAndIncludeInEncryptionContext)
            }
            "DO_NOTHING" => Ok(CryptoAction::DoNothing),
            other => Err(UnknownCryptoAction(other.to_owned())),
        }
    }
}
