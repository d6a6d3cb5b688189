//! [`EncryptionContext`]: the key-value pairs a message binds as additional authenticated data.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Key-value pairs bound to a message as additional authenticated data. Not secret: the pairs
/// are stored in the clear in the message header.
///
/// Build it from string slices, without `.to_string()`:
///
/// ```
/// use envelope::EncryptionContext;
///
/// let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "invoices")]);
/// let same = EncryptionContext::new().with("purpose", "invoices").with("tenant", "acme");
/// let collected: EncryptionContext = vec![("tenant", "acme"), ("purpose", "invoices")].into_iter().collect();
/// assert_eq!(context, same);
/// assert_eq!(context, collected);
/// assert_eq!(context.get("tenant").map(String::as_str), Some("acme"));
/// ```
///
/// It reads like the `BTreeMap<String, String>` it wraps (through `Deref`), which keeps keys in
/// `str` order: UTF-8 byte order, the order the format serializes them in.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    /// An empty context.
    ///
    /// ```
    /// use envelope::EncryptionContext;
    ///
    /// let mut context = EncryptionContext::new();
    /// assert!(context.is_empty());
    /// context.insert("tenant", "acme");
    /// assert_eq!(context.len(), 1);
    /// ```
    pub fn new() -> EncryptionContext {
        EncryptionContext(BTreeMap::new())
    }

    /// The context with one more pair (replacing the value of an existing key).
    ///
    /// ```
    /// use envelope::EncryptionContext;
    ///
    /// let tenant = String::from("acme");
    /// let context = EncryptionContext::new().with("tenant", &tenant).with("invoice", format!("{}-{}", 2026, 42));
    /// assert_eq!(context.get("invoice").map(String::as_str), Some("2026-42"));
    /// ```
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> EncryptionContext {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Adds a pair; returns the value it replaced.
    ///
    /// ```
    /// use envelope::EncryptionContext;
    ///
    /// let mut context = EncryptionContext::from([("stage", "draft")]);
    /// let previous = context.insert("stage", "final");
    /// assert_eq!(previous.as_deref(), Some("draft"));
    /// assert_eq!(context.insert("owner", "billing"), None);
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// The value of `key`, if present.
    ///
    /// ```
    /// use envelope::EncryptionContext;
    ///
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// assert_eq!(context.get("tenant").map(String::as_str), Some("acme"));
    /// assert_eq!(context.get("region"), None);
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&String>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.get(key)
    }

    /// The pairs as a map.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    ///
    /// use envelope::EncryptionContext;
    ///
    /// // Hand the pairs to code that takes a map (e.g. to log them; they are not secret).
    /// fn log_pairs(pairs: &BTreeMap<String, String>) -> String {
    ///     pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(",")
    /// }
    /// let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "backup")]);
    /// assert_eq!(log_pairs(context.as_map()), "purpose=backup,tenant=acme");
    /// ```
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The pairs as a map, by value.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    ///
    /// use envelope::EncryptionContext;
    ///
    /// let map: BTreeMap<String, String> = EncryptionContext::from([("tenant", "acme")]).into_map();
    /// assert_eq!(map["tenant"], "acme");
    /// ```
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl Deref for EncryptionContext {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl DerefMut for EncryptionContext {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.0
    }
}

impl fmt::Debug for EncryptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for EncryptionContext {
    fn from(pairs: [(K, V); N]) -> EncryptionContext {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for EncryptionContext {
    fn from(map: BTreeMap<String, String>) -> EncryptionContext {
        EncryptionContext(map)
    }
}

impl From<EncryptionContext> for BTreeMap<String, String> {
    fn from(context: EncryptionContext) -> BTreeMap<String, String> {
        context.0
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> EncryptionContext {
        EncryptionContext(pairs.into_iter().map(|(key, value)| (key.into(), value.into())).collect())
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for EncryptionContext {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        self.0.extend(pairs.into_iter().map(|(key, value)| (key.into(), value.into())));
    }
}

impl IntoIterator for EncryptionContext {
    type Item = (String, String);
    type IntoIter = btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a EncryptionContext {
    type Item = (&'a String, &'a String);
    type IntoIter = btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl PartialEq<BTreeMap<String, String>> for EncryptionContext {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_from_str_pairs_without_allocating_by_hand() {
        let from_array = EncryptionContext::from([("b", "2"), ("a", "1")]);
        let from_owned = EncryptionContext::from([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())]);
        let from_with = EncryptionContext::new().with("a", "1").with("b", "2");
        let collected: EncryptionContext = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(from_array, from_owned);
        assert_eq!(from_array, from_with);
        assert_eq!(from_array, collected);
        assert_eq!(from_array.keys().collect::<Vec<_>>(), ["a", "b"], "keys in byte order");
    }

    #[test]
    fn later_pairs_replace_earlier_ones() {
        let context = EncryptionContext::new().with("k", "old").with("k", "new");
        assert_eq!(context.len(), 1);
        assert_eq!(context.get("k").map(String::as_str), Some("new"));
    }
}
