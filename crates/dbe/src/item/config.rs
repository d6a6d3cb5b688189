//! The per-table configuration an item is encrypted and decrypted with.

use std::collections::BTreeMap;

use super::action::CryptoAction;

/// One logical table's item-encryption settings (the DB-ESDK's table config, without search).
///
/// ```
/// use envelope_dbe::item::{CryptoAction, TableConfig};
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
