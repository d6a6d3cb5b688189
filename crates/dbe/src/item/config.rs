//! The per-table configuration an item is encrypted and decrypted with.

use std::collections::BTreeMap;

use super::action::CryptoAction;

/// What to do with plaintext items: during a migration to encryption, a table holds both.
///
/// An item is plaintext when it has neither `aws_dbe_head` nor `aws_dbe_foot`.
///
/// ```
/// use envelope_dbe::item::PlaintextOverride;
///
/// let policy = PlaintextOverride::default();
/// assert_eq!(policy, PlaintextOverride::ForbidPlaintextWriteForbidPlaintextRead);
/// assert!(!policy.allows_plaintext_read());
/// assert!(PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead.forces_plaintext_write());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlaintextOverride {
    /// Write every item in plaintext (first step of a migration); read both.
    ForcePlaintextWriteAllowPlaintextRead,
    /// Encrypt every item; still read plaintext ones (middle of a migration).
    ForbidPlaintextWriteAllowPlaintextRead,
    /// Encrypt every item; refuse plaintext ones (the default, and the end of a migration).
    #[default]
    ForbidPlaintextWriteForbidPlaintextRead,
}

impl PlaintextOverride {
    /// Whether an item without header and footer is returned as it is.
    pub fn allows_plaintext_read(self) -> bool {
        self != PlaintextOverride::ForbidPlaintextWriteForbidPlaintextRead
    }

    /// Whether items are written without encryption.
    pub fn forces_plaintext_write(self) -> bool {
        self == PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead
    }
}

/// The DB-ESDK configuration name was not one of the three policies.
///
/// ```
/// use envelope_dbe::item::{PlaintextOverride, UnknownPlaintextOverride};
///
/// assert_eq!(
///     "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ".parse(),
///     Ok(PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead)
/// );
/// assert_eq!("ALLOW".parse::<PlaintextOverride>(), Err(UnknownPlaintextOverride("ALLOW".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown plaintext override {0:?}")]
pub struct UnknownPlaintextOverride(pub String);

impl std::str::FromStr for PlaintextOverride {
    type Err = UnknownPlaintextOverride;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" => {
                Ok(PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead)
            }
            "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" => {
                Ok(PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead)
            }
            "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ" => {
                Ok(PlaintextOverride::ForbidPlaintextWriteForbidPlaintextRead)
            }
            other => Err(UnknownPlaintextOverride(other.to_owned())),
        }
    }
}

/// One logical table's item-encryption settings (the DB-ESDK's table config, without search).
///
/// ```
/// use envelope_dbe::item::{CryptoAction, PlaintextOverride, TableConfig};
///
/// let config = TableConfig::new("Orders", "OrderId")
///     .sort_key("Line")
///     .action("OrderId", CryptoAction::SignOnly)
///     .action("Line", CryptoAction::SignOnly)
///     .action("Card", CryptoAction::EncryptAndSign)
///     .allowed_unsigned_prefix(":");
/// assert_eq!(config.action_of("Card"), CryptoAction::EncryptAndSign);
/// assert_eq!(config.action_of(":note"), CryptoAction::DoNothing);
/// // An attribute the config does not know is treated as signed, so it cannot slip in unnoticed.
/// assert_eq!(config.action_of("Other"), CryptoAction::SignOnly);
///
/// // During a migration: read old plaintext items, leave one attribute unsigned by name.
/// let migrating = config
///     .allowed_unsigned("Comment")
///     .plaintext_override(PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead);
/// assert!(migrating.is_allowed_unsigned("Comment") && migrating.is_allowed_unsigned(":note"));
/// assert!(!migrating.is_allowed_unsigned("Card"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConfig {
    /// Logical table name (`aws-crypto-table-name`, and the prefix of every canonical path).
    pub logical_table_name: String,
    /// Partition key attribute name.
    pub partition_key: String,
    /// Sort key attribute name, if the table has one.
    pub sort_key: Option<String>,
    /// Attribute name → action on encrypt.
    pub actions: BTreeMap<String, CryptoAction>,
    /// Attributes that may be left unsigned (DO_NOTHING).
    pub allowed_unsigned_attributes: Vec<String>,
    /// A name prefix that marks attributes as allowed to be unsigned.
    pub allowed_unsigned_prefix: Option<String>,
    /// Plaintext items during a migration (default: neither written nor read).
    pub plaintext_override: PlaintextOverride,
}

impl TableConfig {
    /// A config with no actions yet.
    pub fn new(logical_table_name: impl Into<String>, partition_key: impl Into<String>) -> TableConfig {
        TableConfig {
            logical_table_name: logical_table_name.into(),
            partition_key: partition_key.into(),
            sort_key: None,
            actions: BTreeMap::new(),
            allowed_unsigned_attributes: Vec::new(),
            allowed_unsigned_prefix: None,
            plaintext_override: PlaintextOverride::default(),
        }
    }

    /// Sets the sort key name.
    pub fn sort_key(mut self, name: impl Into<String>) -> TableConfig {
        self.sort_key = Some(name.into());
        self
    }

    /// Sets one attribute's action.
    pub fn action(mut self, name: impl Into<String>, action: CryptoAction) -> TableConfig {
        self.actions.insert(name.into(), action);
        self
    }

    /// Adds an attribute that may be unsigned.
    pub fn allowed_unsigned(mut self, name: impl Into<String>) -> TableConfig {
        self.allowed_unsigned_attributes.push(name.into());
        self
    }

    /// Sets the prefix of attributes that may be unsigned.
    pub fn allowed_unsigned_prefix(mut self, prefix: impl Into<String>) -> TableConfig {
        self.allowed_unsigned_prefix = Some(prefix.into());
        self
    }

    /// Sets the plaintext override policy.
    pub fn plaintext_override(mut self, policy: PlaintextOverride) -> TableConfig {
        self.plaintext_override = policy;
        self
    }

    /// Whether `name` may be unsigned by the allow-list or prefix.
    pub fn is_allowed_unsigned(&self, name: &str) -> bool {
        self.allowed_unsigned_attributes.iter().any(|allowed| allowed == name)
            || self.allowed_unsigned_prefix.as_deref().is_some_and(|prefix| name.starts_with(prefix))
    }

    /// The action for `name`: the configured one; else DO_NOTHING when the allow-list or prefix
    /// admits it unsigned; else SIGN_ONLY (on decrypt, an unknown attribute counts as signed).
    pub fn action_of(&self, name: &str) -> CryptoAction {
        match self.actions.get(name) {
            Some(action) => *action,
            None if self.is_allowed_unsigned(name) => CryptoAction::DoNothing,
            None => CryptoAction::SignOnly,
        }
    }
}
