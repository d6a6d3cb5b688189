//! One key-store item, the same in every backend: the MPL's DynamoDB record format.
//!
//! An item is a map of attribute name → typed value (DynamoDB's S, N and B). Both backends keep
//! exactly these attributes, so an item read from one store can be written into the other. The KMS
//! encryption context of an item is every attribute except `enc`, plus `tablename` = the logical
//! key store name; that is what binds an item to its store and makes any change to it fail KMS
//! Decrypt.
//!
//! spec: framework/branch-key-store.md#record-format, #encryption-context

use std::collections::BTreeMap;
use std::fmt;

/// `branch-key-id` (S): the partition key.
///
/// ```
/// assert_eq!(envelope_keystore::item::BRANCH_KEY_ID, "branch-key-id");
/// ```
pub const BRANCH_KEY_ID: &str = "branch-key-id";
/// `type` (S): the sort key (`branch:ACTIVE`, `beacon:ACTIVE` or `branch:version:<uuid>`).
///
/// ```
/// assert_eq!(envelope_keystore::item::TYPE, "type");
/// ```
pub const TYPE: &str = "type";
/// `enc` (B): the KMS ciphertext of the key.
///
/// ```
/// assert_eq!(envelope_keystore::item::ENC, "enc");
/// ```
pub const ENC: &str = "enc";
/// `create-time` (S): ISO 8601 UTC with microseconds.
///
/// ```
/// assert_eq!(envelope_keystore::item::CREATE_TIME, "create-time");
/// ```
pub const CREATE_TIME: &str = "create-time";
/// `kms-arn` (S): the KMS key that protects `enc`.
///
/// ```
/// assert_eq!(envelope_keystore::item::KMS_ARN, "kms-arn");
/// ```
pub const KMS_ARN: &str = "kms-arn";
/// `hierarchy-version` (N): always 1 for the items this crate writes.
///
/// ```
/// assert_eq!(envelope_keystore::item::HIERARCHY_VERSION, "hierarchy-version");
/// ```
pub const HIERARCHY_VERSION: &str = "hierarchy-version";
/// `version` (S): on `branch:ACTIVE` only, `branch:version:<uuid>` of the active version.
///
/// ```
/// assert_eq!(envelope_keystore::item::VERSION, "version");
/// ```
pub const VERSION: &str = "version";
/// `tablename`: in the KMS encryption context only (never stored), the logical key store name.
///
/// ```
/// assert_eq!(envelope_keystore::item::TABLE_NAME, "tablename");
/// ```
pub const TABLE_NAME: &str = "tablename";
/// Prefix of custom encryption context attributes.
///
/// ```
/// use envelope_keystore::item::CUSTOM_PREFIX;
///
/// // CreateKeyRequest::new().context("tenant", "acme") is stored as this attribute:
/// assert_eq!(format!("{CUSTOM_PREFIX}tenant"), "aws-crypto-ec:tenant");
/// ```
pub const CUSTOM_PREFIX: &str = "aws-crypto-ec:";

/// Sort key of the active version.
///
/// ```
/// assert_eq!(envelope_keystore::item::ACTIVE_TYPE, "branch:ACTIVE");
/// ```
pub const ACTIVE_TYPE: &str = "branch:ACTIVE";
/// Sort key of the beacon key.
///
/// ```
/// assert_eq!(envelope_keystore::item::BEACON_TYPE, "beacon:ACTIVE");
/// ```
pub const BEACON_TYPE: &str = "beacon:ACTIVE";
/// Prefix of the sort key of one version (and of the ACTIVE item's `version`).
///
/// ```
/// use envelope_keystore::item::VERSION_PREFIX;
///
/// let sort_key = format!("{VERSION_PREFIX}{}", "c5e8ab4f-4fb4-4ab2-9dc6-e8b5b6b8f7a1");
/// assert_eq!(sort_key.strip_prefix(VERSION_PREFIX), Some("c5e8ab4f-4fb4-4ab2-9dc6-e8b5b6b8f7a1"));
/// ```
pub const VERSION_PREFIX: &str = "branch:version:";
/// The only hierarchy version written and read (version 2 items use another protection scheme).
///
/// ```
/// assert_eq!(envelope_keystore::item::HIERARCHY_VERSION_1, "1");
/// ```
pub const HIERARCHY_VERSION_1: &str = "1";

/// Attribute names the key store reserves (a custom context key can never collide: it is prefixed).
const RESERVED: [&str; 8] = [BRANCH_KEY_ID, TYPE, ENC, CREATE_TIME, KMS_ARN, HIERARCHY_VERSION, VERSION, TABLE_NAME];

/// A typed attribute value, as DynamoDB types them.
///
/// ```
/// use envelope_keystore::item::AttributeValue;
///
/// let enc = AttributeValue::B(vec![1, 2, 3]);
/// // Debug never prints the bytes (a KMS ciphertext).
/// assert_eq!(format!("{enc:?}"), "B(<3 bytes>)");
/// assert_eq!(format!("{:?}", AttributeValue::N("1".into())), "N(1)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// String.
    S(String),
    /// Number, in its decimal text form.
    N(String),
    /// Binary.
    B(Vec<u8>),
}

impl fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::S(s) => write!(f, "S({s:?})"),
            AttributeValue::N(n) => write!(f, "N({n})"),
            // Only ever a KMS ciphertext, but there is no reason to print it.
            AttributeValue::B(b) => write!(f, "B(<{} bytes>)", b.len()),
        }
    }
}

/// An item as a backend stores it: attribute name → value.
///
/// ```
/// use envelope_keystore::item::{AttributeValue, RawItem, ACTIVE_TYPE, BRANCH_KEY_ID, TYPE};
///
/// let mut item = RawItem::new();
/// item.insert(BRANCH_KEY_ID.to_owned(), AttributeValue::S("tenant-a".into()));
/// item.insert(TYPE.to_owned(), AttributeValue::S(ACTIVE_TYPE.into()));
/// assert_eq!(item[TYPE], AttributeValue::S("branch:ACTIVE".into()));
/// ```
pub type RawItem = BTreeMap<String, AttributeValue>;

/// What an item holds.
///
/// ```
/// use envelope_keystore::item::ItemKind;
///
/// assert_eq!(ItemKind::Beacon.type_value(), "beacon:ACTIVE");
/// assert_eq!(ItemKind::Active("83eec007-5659-4554-bf11-699b90f41ac6".into()).type_value(), "branch:ACTIVE");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// `branch:ACTIVE`: a copy of the active version (the version's UUID).
    Active(String),
    /// `branch:version:<uuid>`: one version (the UUID).
    Version(String),
    /// `beacon:ACTIVE`: the beacon key.
    Beacon,
}

impl ItemKind {
    /// The sort key (`type`) of this kind.
    ///
    /// ```
    /// use envelope_keystore::item::ItemKind;
    ///
    /// let version = ItemKind::Version("83eec007-5659-4554-bf11-699b90f41ac6".into());
    /// assert_eq!(version.type_value(), "branch:version:83eec007-5659-4554-bf11-699b90f41ac6");
    /// ```
    pub fn type_value(&self) -> String {
        match self {
            ItemKind::Active(_) => ACTIVE_TYPE.to_owned(),
            ItemKind::Version(version) => format!("{VERSION_PREFIX}{version}"),
            ItemKind::Beacon => BEACON_TYPE.to_owned(),
        }
    }
}

/// A validated key-store item: the attributes the KMS encryption context is made of, and `enc`.
///
/// The three records CreateKey writes, built as the store builds them:
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_keystore::item::{ItemKind, KeyItem};
///
/// let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
/// let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let version = "83eec007-5659-4554-bf11-699b90f41ac6";
/// let version_context = KeyItem::version_context("tenant-a", version, "2024-01-01T00:00:00.000000Z", arn, &custom);
/// let active = KeyItem::from_context(KeyItem::active_context_from_version(&version_context), vec![2])?;
/// let beacon = KeyItem::from_context(KeyItem::beacon_context_from_version(&version_context), vec![3])?;
/// let version_item = KeyItem::from_context(version_context, vec![1])?;
///
/// assert_eq!(version_item.kind(), &ItemKind::Version(version.into()));
/// assert_eq!(active.kind(), &ItemKind::Active(version.into()));
/// assert_eq!(beacon.kind(), &ItemKind::Beacon);
/// // What KMS binds: every attribute but `enc`, plus the logical store name.
/// let kms_context = active.kms_context("my-store");
/// assert_eq!(kms_context["tablename"], "my-store");
/// assert_eq!(kms_context["aws-crypto-ec:department"], "admin");
/// assert!(!kms_context.contains_key("enc"));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyItem {
    /// Every attribute but `enc`, as strings (`hierarchy-version` is stored as N, its text here).
    context: BTreeMap<String, String>,
    enc: Vec<u8>,
    kind: ItemKind,
}

impl fmt::Debug for KeyItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyItem").field("context", &self.context).field("enc_len", &self.enc.len()).finish()
    }
}

impl KeyItem {
    /// The item's attributes (without `enc`) for a new version of `branch_key_id`: the
    /// DECRYPT_ONLY record's encryption context, minus `tablename`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.context()["type"], "branch:version:83eec007-5659-4554-bf11-699b90f41ac6");
    /// assert_eq!(version.context()["hierarchy-version"], "1");
    /// assert_eq!(version.context()["aws-crypto-ec:department"], "admin");
    /// # Ok::<(), String>(())
    /// ```
    pub fn version_context(
        branch_key_id: &str,
        version: &str,
        create_time: &str,
        kms_arn: &str,
        custom: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut context: BTreeMap<String, String> =
            custom.iter().map(|(k, v)| (format!("{CUSTOM_PREFIX}{k}"), v.clone())).collect();
        context.insert(BRANCH_KEY_ID.into(), branch_key_id.into());
        context.insert(TYPE.into(), format!("{VERSION_PREFIX}{version}"));
        context.insert(CREATE_TIME.into(), create_time.into());
        context.insert(KMS_ARN.into(), kms_arn.into());
        context.insert(HIERARCHY_VERSION.into(), HIERARCHY_VERSION_1.into());
        context
    }

    /// The ACTIVE record's attributes made from a version's (same everything, `type` =
    /// `branch:ACTIVE`, plus `version`).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let active = KeyItem::active_context_from_version(version.context());
    /// assert_eq!(active["type"], "branch:ACTIVE");
    /// assert_eq!(active["version"], "branch:version:83eec007-5659-4554-bf11-699b90f41ac6");
    /// # Ok::<(), String>(())
    /// ```
    pub fn active_context_from_version(version_context: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut context = version_context.clone();
        if let Some(version_type) = context.insert(TYPE.into(), ACTIVE_TYPE.into()) {
            context.insert(VERSION.into(), version_type);
        }
        context
    }

    /// The beacon record's attributes made from a version's (`type` = `beacon:ACTIVE`).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let beacon = KeyItem::beacon_context_from_version(version.context());
    /// assert_eq!(beacon["type"], "beacon:ACTIVE");
    /// assert!(!beacon.contains_key("version"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn beacon_context_from_version(version_context: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut context = version_context.clone();
        context.insert(TYPE.into(), BEACON_TYPE.into());
        context
    }

    /// A new version's attributes made from the current ACTIVE item's (rotation keeps the branch
    /// key id, KMS key and custom context; new `type` and `create-time`; no `version`).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let active = KeyItem::active_context_from_version(version.context());
    /// let next = KeyItem::next_version_context(&active, "0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c", "2024-02-01T00:00:00.000000Z");
    /// assert_eq!(next["type"], "branch:version:0c4f2b07-3b0c-4b5a-9c2a-6f1d2e3a4b5c");
    /// assert_eq!(next["aws-crypto-ec:department"], "admin");
    /// assert!(!next.contains_key("version"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn next_version_context(
        active_context: &BTreeMap<String, String>,
        version: &str,
        create_time: &str,
    ) -> BTreeMap<String, String> {
        let mut context = active_context.clone();
        context.remove(VERSION);
        context.insert(TYPE.into(), format!("{VERSION_PREFIX}{version}"));
        context.insert(CREATE_TIME.into(), create_time.into());
        context
    }

    /// An item from its attributes (as built above) and its ciphertext.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.enc(), &[1, 2, 3]);
    /// // An empty ciphertext is not an item.
    /// assert!(KeyItem::from_context(version.context().clone(), Vec::new()).is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn from_context(context: BTreeMap<String, String>, enc: Vec<u8>) -> Result<KeyItem, String> {
        let mut raw: RawItem = context
            .into_iter()
            .map(|(k, v)| {
                let value = if k == HIERARCHY_VERSION { AttributeValue::N(v) } else { AttributeValue::S(v) };
                (k, value)
            })
            .collect();
        raw.insert(ENC.into(), AttributeValue::B(enc));
        KeyItem::from_raw(raw)
    }

    /// Validates a stored item: the attributes every record has, with their types, and the
    /// `type`/`version` combinations the spec allows.
    ///
    /// spec: branch-key-store.md#record-format (the MPL's `BranchKeyItem?` predicate)
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let mut raw = version.to_raw();
    /// assert_eq!(KeyItem::from_raw(raw.clone())?, version);
    /// raw.insert(item::HIERARCHY_VERSION.into(), item::AttributeValue::S("1".into()));
    /// assert!(KeyItem::from_raw(raw).unwrap_err().contains("not a number"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn from_raw(raw: RawItem) -> Result<KeyItem, String> {
        let mut context = BTreeMap::new();
        let mut enc = None;
        for (name, value) in raw {
            match (name.as_str(), value) {
                (ENC, AttributeValue::B(bytes)) => enc = Some(bytes),
                (ENC, _) => return Err(format!("attribute {ENC:?} is not binary (B)")),
                (HIERARCHY_VERSION, AttributeValue::N(n)) => {
                    context.insert(name, n);
                }
                (HIERARCHY_VERSION, _) => return Err(format!("attribute {HIERARCHY_VERSION:?} is not a number (N)")),
                (TABLE_NAME, _) => {
                    return Err(format!("attribute {TABLE_NAME:?} must not be stored (it is the logical store name)"));
                }
                (_, AttributeValue::S(s)) => {
                    context.insert(name, s);
                }
                (_, _) => return Err(format!("attribute {name:?} is not a string (S)")),
            }
        }
        let enc = enc.ok_or_else(|| format!("attribute {ENC:?} is missing"))?;
        if enc.is_empty() {
            return Err(format!("attribute {ENC:?} is empty"));
        }
        for required in [BRANCH_KEY_ID, TYPE, CREATE_TIME, KMS_ARN, HIERARCHY_VERSION] {
            match context.get(required) {
                None => return Err(format!("attribute {required:?} is missing")),
                Some(value) if value.is_empty() => return Err(format!("attribute {required:?} is empty")),
                Some(_) => {}
            }
        }
        let hierarchy_version = &context[HIERARCHY_VERSION];
        if hierarchy_version != HIERARCHY_VERSION_1 {
            return Err(format!(
                "hierarchy-version {hierarchy_version} is not supported (this key store reads version 1 items)"
            ));
        }
        for name in context.keys() {
            if !RESERVED.contains(&name.as_str()) && !name.starts_with(CUSTOM_PREFIX) {
                // The spec binds unknown attributes into the context too; they are kept, only noted.
                tracing::debug!(attribute = %name, "key-store item has an attribute outside the record format");
            }
        }
        let item_type = &context[TYPE];
        let kind = match (item_type.as_str(), context.get(VERSION)) {
            (ACTIVE_TYPE, Some(version)) => match version.strip_prefix(VERSION_PREFIX) {
                Some(uuid) if !uuid.is_empty() => ItemKind::Active(uuid.to_owned()),
                _ => return Err(format!("attribute {VERSION:?} does not start with {VERSION_PREFIX:?}")),
            },
            (ACTIVE_TYPE, None) => return Err(format!("a {ACTIVE_TYPE} item has no {VERSION:?} attribute")),
            (_, Some(_)) => return Err(format!("only the {ACTIVE_TYPE} item has a {VERSION:?} attribute")),
            (BEACON_TYPE, None) => ItemKind::Beacon,
            (other, None) => match other.strip_prefix(VERSION_PREFIX) {
                Some(uuid) if !uuid.is_empty() => ItemKind::Version(uuid.to_owned()),
                _ => {
                    return Err(format!(
                        "type {other:?} is none of {ACTIVE_TYPE}, {BEACON_TYPE}, {VERSION_PREFIX}<uuid>"
                    ));
                }
            },
        };
        Ok(KeyItem { context, enc, kind })
    }

    /// The item as a backend stores it.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let raw = version.to_raw();
    /// assert_eq!(raw["hierarchy-version"], item::AttributeValue::N("1".into()));
    /// assert_eq!(raw["enc"], item::AttributeValue::B(vec![1, 2, 3]));
    /// # Ok::<(), String>(())
    /// ```
    pub fn to_raw(&self) -> RawItem {
        let mut raw: RawItem = self
            .context
            .iter()
            .map(|(k, v)| {
                let value =
                    if k == HIERARCHY_VERSION { AttributeValue::N(v.clone()) } else { AttributeValue::S(v.clone()) };
                (k.clone(), value)
            })
            .collect();
        raw.insert(ENC.into(), AttributeValue::B(self.enc.clone()));
        raw
    }

    /// The KMS encryption context: every attribute but `enc`, plus `tablename`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// let kms_context = version.kms_context("my-store");
    /// assert_eq!(kms_context["tablename"], "my-store");
    /// assert_eq!(kms_context.len(), version.context().len() + 1);
    /// # Ok::<(), String>(())
    /// ```
    pub fn kms_context(&self, logical_name: &str) -> std::collections::HashMap<String, String> {
        let mut context: std::collections::HashMap<String, String> =
            self.context.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        context.insert(TABLE_NAME.into(), logical_name.into());
        context
    }

    /// Every attribute but `enc` (no `tablename`).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert!(!version.context().contains_key("tablename") && !version.context().contains_key("enc"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn context(&self) -> &BTreeMap<String, String> {
        &self.context
    }

    /// The KMS ciphertext.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.enc(), &[1, 2, 3]);
    /// # Ok::<(), String>(())
    /// ```
    pub fn enc(&self) -> &[u8] {
        &self.enc
    }

    /// What the item holds.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.kind(), &ItemKind::Version("83eec007-5659-4554-bf11-699b90f41ac6".into()));
    /// # Ok::<(), String>(())
    /// ```
    pub fn kind(&self) -> &ItemKind {
        &self.kind
    }

    /// `branch-key-id`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.branch_key_id(), "tenant-a");
    /// # Ok::<(), String>(())
    /// ```
    pub fn branch_key_id(&self) -> &str {
        &self.context[BRANCH_KEY_ID]
    }

    /// `type`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.item_type(), "branch:version:83eec007-5659-4554-bf11-699b90f41ac6");
    /// # Ok::<(), String>(())
    /// ```
    pub fn item_type(&self) -> &str {
        &self.context[TYPE]
    }

    /// `kms-arn`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.kms_arn(), arn);
    /// # Ok::<(), String>(())
    /// ```
    pub fn kms_arn(&self) -> &str {
        &self.context[KMS_ARN]
    }

    /// `create-time`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.create_time(), "2024-01-01T00:00:00.000000Z");
    /// # Ok::<(), String>(())
    /// ```
    pub fn create_time(&self) -> &str {
        &self.context[CREATE_TIME]
    }

    /// The custom encryption context, without the `aws-crypto-ec:` prefix.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use envelope_keystore::item::{self, ItemKind, KeyItem};
    /// # let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
    /// # let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// # let context = KeyItem::version_context("tenant-a", "83eec007-5659-4554-bf11-699b90f41ac6", "2024-01-01T00:00:00.000000Z", arn, &custom);
    /// let version = KeyItem::from_context(context, vec![1, 2, 3])?;
    /// assert_eq!(version.custom_context(), custom);
    /// # Ok::<(), String>(())
    /// ```
    pub fn custom_context(&self) -> BTreeMap<String, String> {
        self.context
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(CUSTOM_PREFIX).map(|k| (k.to_owned(), v.clone())))
            .collect()
    }
}

/// The `hierarchy-version` of a stored item when it is a number other than 1 (the MPL's newer
/// scheme, refused with its own error before the item is validated).
pub(crate) fn unsupported_hierarchy_version(raw: &RawItem) -> Option<&str> {
    match raw.get(HIERARCHY_VERSION) {
        Some(AttributeValue::N(version)) if version != HIERARCHY_VERSION_1 => Some(version),
        _ => None,
    }
}

/// Whether a custom encryption context key may be used (non-empty; the prefixed name is a valid
/// DynamoDB attribute name, at most 64 KiB).
///
/// ```
/// use envelope_keystore::item::check_custom_key;
///
/// assert!(check_custom_key("department").is_ok());
/// assert!(check_custom_key("").is_err());
/// ```
pub fn check_custom_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a custom encryption context key must not be empty".into());
    }
    if CUSTOM_PREFIX.len() + key.len() > 65_535 {
        return Err(format!("custom encryption context key {key:?} is too long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version_item() -> KeyItem {
        let custom = BTreeMap::from([("department".to_owned(), "admin".to_owned())]);
        let context = KeyItem::version_context("bk", "83eec007-5659-4554-bf11-699b90f41ac6", "t", "arn", &custom);
        KeyItem::from_context(context, vec![1, 2, 3]).unwrap()
    }

    #[test]
    fn the_three_records_of_a_branch_key() {
        let version = version_item();
        assert_eq!(version.kind(), &ItemKind::Version("83eec007-5659-4554-bf11-699b90f41ac6".into()));
        assert_eq!(version.context()["aws-crypto-ec:department"], "admin");
        assert!(!version.context().contains_key(VERSION));
        let active = KeyItem::from_context(KeyItem::active_context_from_version(version.context()), vec![4]).unwrap();
        assert_eq!(active.item_type(), ACTIVE_TYPE);
        assert_eq!(active.context()[VERSION], "branch:version:83eec007-5659-4554-bf11-699b90f41ac6");
        assert_eq!(active.kind(), &ItemKind::Active("83eec007-5659-4554-bf11-699b90f41ac6".into()));
        let beacon = KeyItem::from_context(KeyItem::beacon_context_from_version(version.context()), vec![5]).unwrap();
        assert_eq!(beacon.kind(), &ItemKind::Beacon);
        let kms = beacon.kms_context("logical");
        assert_eq!(kms[TABLE_NAME], "logical");
        assert!(!kms.contains_key(ENC));
        assert_eq!(kms[HIERARCHY_VERSION], "1");
    }

    #[test]
    fn stored_types_are_checked() {
        let mut raw = version_item().to_raw();
        assert_eq!(raw[HIERARCHY_VERSION], AttributeValue::N("1".into()));
        assert_eq!(KeyItem::from_raw(raw.clone()).unwrap(), version_item());
        raw.insert(HIERARCHY_VERSION.into(), AttributeValue::S("1".into()));
        assert!(KeyItem::from_raw(raw.clone()).unwrap_err().contains("hierarchy-version"));
        raw.insert(HIERARCHY_VERSION.into(), AttributeValue::N("2".into()));
        assert!(KeyItem::from_raw(raw.clone()).unwrap_err().contains("not supported"));
        let mut raw = version_item().to_raw();
        raw.insert(VERSION.into(), AttributeValue::S("branch:version:x".into()));
        assert!(KeyItem::from_raw(raw).is_err());
        let mut raw = version_item().to_raw();
        raw.remove(ENC);
        assert!(KeyItem::from_raw(raw).unwrap_err().contains("enc"));
        let mut raw = version_item().to_raw();
        raw.insert(TABLE_NAME.into(), AttributeValue::S("x".into()));
        assert!(KeyItem::from_raw(raw).is_err());
    }

    #[test]
    fn rotation_keeps_the_custom_context() {
        let version = version_item();
        let active = KeyItem::active_context_from_version(version.context());
        let next = KeyItem::next_version_context(&active, "v2", "t2");
        assert_eq!(next[TYPE], "branch:version:v2");
        assert_eq!(next[CREATE_TIME], "t2");
        assert_eq!(next["aws-crypto-ec:department"], "admin");
        assert!(!next.contains_key(VERSION));
    }
}
