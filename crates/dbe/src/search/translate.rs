//! Rewriting a plaintext query onto beacons (spec: dynamodb-encryption-client/ddb-support.md
//! "QueryInputForBeacons"): a beacon name becomes `aws_dbe_b_<name>` and the literal values
//! compared with it become beacon values; signed attributes pass through; a condition the
//! beacons cannot answer without losing matches is a typed error.

use std::collections::BTreeMap;

use super::error::SearchError;
use super::query::{CompareOp, Condition, DocumentPath, Operand};
use crate::beacon::compound::ResolvedCompound;
use crate::beacon::{BEACON_ATTRIBUTE_PREFIX, BeaconKeys, BeaconVersion, StandardBeacon};
use crate::item::{AttributeValue, CryptoAction};

/// A query rewritten onto beacons, ready for a database to run.
///
/// ```
/// # use std::collections::BTreeMap;
/// # use std::sync::Arc;
/// # use std::time::Duration;
/// use envelope::{AlgorithmSuite, DefaultMaterialsManager};
/// use envelope_dbe::beacon::{BeaconKeySource, BeaconVersionConfig, SingleKeySource, StandardBeacon};
/// use envelope_dbe::item::{AttributeValue as V, CryptoAction, TableConfig};
/// use envelope_dbe::search::{Condition, SearchableTable};
/// use envelope_keyrings::hierarchy::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut store = StaticKeyStore::new("example");
/// # let secret = || BranchKeySecret::from_slice(&[7; 32]);
/// # store.add_branch_key(BranchKeyMaterials::new("b", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", BTreeMap::new(), secret()?)?, true)?;
/// # store.add_beacon_key(BeaconKeyMaterials::new("b", BTreeMap::new(), secret()?));
/// # let store = Arc::new(store);
/// # let keyring = HierarchicalKeyring::builder(Arc::clone(&store)).branch_key_id("b").ttl(Duration::from_secs(60)).build()?;
/// let config = TableConfig::new("People", "id").action("id", CryptoAction::SignOnly).action("email", CryptoAction::EncryptAndSign);
/// let table = SearchableTable::new(config, Arc::new(DefaultMaterialsManager::new(keyring)),
///         AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384)
///     .with_beacons(
///         BeaconVersionConfig { version: 1, standard_beacons: vec![StandardBeacon::new("email", 8)?], ..Default::default() },
///         BeaconKeySource::Single(SingleKeySource::new(store, "b", Duration::from_secs(60))),
///     )?;
///
/// let query = table.translate(&Condition::eq("email", V::S("a@example.com".into()))).await?;
/// assert!(query.uses_beacons, "the database's matches must be re-checked");
/// assert_eq!(query.partitions.len(), 1); // no partitions: one condition to run
/// let Some(Condition::Compare(attribute, _, _)) = &query.partitions[0] else { unreachable!() };
/// assert_eq!(attribute.as_attr(), Some("aws_dbe_b_email"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconQuery {
    /// The plaintext query it came from (what [`recheck`](super::SearchableTable::recheck)
    /// evaluates on each decrypted result).
    pub original: Condition,
    /// One rewritten condition per beacon partition (a single entry when the table has no
    /// partitions): run each and merge the results. `None`: no condition, every item matches
    /// (a multi-tenant query whose only condition named the unstored key field).
    pub partitions: Vec<Option<Condition>>,
    /// True when a beacon takes part: results may hold collisions and must be re-checked.
    pub uses_beacons: bool,
    /// The beacon key id a multi-tenant query named: results encrypted under another branch
    /// key are dropped.
    pub beacon_key_id: Option<String>,
}

/// What a name in a query refers to.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// A stored plaintext attribute (signed, unsigned, or a signed beacon): passes through.
    Plain,
    /// A multi-tenant key field that is not stored: its condition only selects the tenant.
    KeyField,
    /// A stored standard beacon.
    Standard(&'a StandardBeacon),
    /// A compound beacon with an encrypted part.
    Compound(&'a ResolvedCompound),
}

impl Target<'_> {
    fn is_beacon(&self) -> bool {
        matches!(self, Target::Standard(_) | Target::Compound(_))
    }
}

/// Names resolved against a table's actions and beacon version.
pub(crate) struct Names<'a> {
    pub(crate) version: Option<&'a BeaconVersion>,
    pub(crate) actions: &'a BTreeMap<String, CryptoAction>,
    /// The multi-tenant key field, when it is not stored in items.
    pub(crate) unstored_key_field: Option<&'a str>,
}

impl<'a> Names<'a> {
    pub(crate) fn target(&self, name: &str) -> Result<Target<'a>, SearchError> {
        if self.unstored_key_field == Some(name) {
            return Ok(Target::KeyField);
        }
        if let Some(version) = self.version {
            if let Some(beacon) = version.standard_beacon(name) {
                if !beacon.is_stored() {
                    return Err(SearchError::UnsupportedOperator {
                        beacon: name.to_owned(),
                        operator: "any condition",
                        reason: "a part-only beacon is not stored; query the compound beacon that uses it",
                    });
                }
                return Ok(Target::Standard(beacon));
            }
            if let Some(compound) = version.compound_beacon(name) {
                return Ok(if compound.is_signed_beacon() { Target::Plain } else { Target::Compound(compound) });
            }
            if version.is_virtual_field(name) {
                return Err(SearchError::VirtualFieldQueried(name.to_owned()));
            }
        }
        if self.actions.get(name) == Some(&CryptoAction::EncryptAndSign) {
            return Err(SearchError::EncryptedWithoutBeacon(name.to_owned()));
        }
        Ok(Target::Plain)
    }

    /// True when `condition` reads a beacon (so keys are needed and results re-checked).
    /// A document path may only reach into an attribute stored in plaintext: an encrypted
    /// one is queried through its beacons, and a beacon (or virtual field, or the tenant's key
    /// field) is one value with nothing inside.
    pub(crate) fn check_path(&self, path: &DocumentPath) -> Result<(), SearchError> {
        let name = path.attribute();
        let is_beacon = self.version.is_some_and(|version| {
            version.standard_beacon(name).is_some()
                || version.compound_beacon(name).is_some()
                || version.is_virtual_field(name)
        });
        if is_beacon || self.unstored_key_field == Some(name) {
            return Err(SearchError::UnsupportedOperator {
                beacon: name.to_owned(),
                operator: "a document path",
                reason: "a beacon is one value with nothing inside; query it by its name",
            });
        }
        if self.actions.get(name) == Some(&CryptoAction::EncryptAndSign) {
            return Err(SearchError::EncryptedWithoutBeacon(name.to_owned()));
        }
        Ok(())
    }

    pub(crate) fn uses_beacons(&self, condition: &Condition) -> Result<bool, SearchError> {
        for name in condition.attributes() {
            if self.target(name)?.is_beacon() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The beacon key id a multi-tenant query names (`keyField = "id"` joined by AND), and the
    /// query without those conditions when the key field is not stored.
    pub(crate) fn split_key_field(
        &self,
        key_field: &str,
        condition: &Condition,
    ) -> Result<(Option<String>, Option<Condition>), SearchError> {
        let parts: Vec<&Condition> = match condition {
            Condition::And(parts) => parts.iter().collect(),
            single => vec![single],
        };
        let mut id: Option<String> = None;
        let mut rest = Vec::new();
        for part in parts {
            let named = match part {
                Condition::Compare(Operand::Attr(name), CompareOp::Eq, Operand::Value(AttributeValue::S(value)))
                | Condition::Compare(Operand::Value(AttributeValue::S(value)), CompareOp::Eq, Operand::Attr(name))
                    if name == key_field =>
                {
                    Some(value)
                }
                _ => None,
            };
            match named {
                Some(value) => {
                    if id.as_ref().is_some_and(|known| known != value) {
                        return Err(SearchError::AmbiguousBeaconKeyId(key_field.to_owned()));
                    }
                    id = Some(value.clone());
                    if self.unstored_key_field.is_none() {
                        rest.push(part.clone());
                    }
                }
                None => {
                    if self.unstored_key_field.is_some() && part.attributes().contains(&key_field) {
                        return Err(SearchError::AmbiguousBeaconKeyId(key_field.to_owned()));
                    }
                    rest.push(part.clone());
                }
            }
        }
        let rest = match rest.len() {
            0 => None,
            1 => rest.pop(),
            _ => Some(Condition::And(rest)),
        };
        Ok((id, rest))
    }
}

/// Rewrites one condition for one partition.
pub(crate) struct Rewriter<'a> {
    pub(crate) names: &'a Names<'a>,
    pub(crate) keys: Option<&'a BeaconKeys>,
    pub(crate) partition: u8,
}

/// How a value compared with a beacon is turned into a beacon value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// `=` and `IN`: the whole value.
    Equality,
    /// Prefixes, ranges and `contains`: a trailing bare encrypted prefix stays open.
    Open,
}

impl Rewriter<'_> {
    pub(crate) fn rewrite(&self, condition: &Condition) -> Result<Condition, SearchError> {
        Ok(match condition {
            Condition::Compare(a, op, b) => self.compare(a, *op, b)?,
            Condition::Between(subject, low, high) => match self.beacon_of(subject)? {
                None => {
                    self.no_beacon_among(&[low, high], "BETWEEN")?;
                    condition.clone()
                }
                Some((name, target)) => {
                    let (Some(lo), Some(hi)) = (literal_string(low), literal_string(high)) else {
                        return Err(unsupported(name, "BETWEEN", "a beacon's bounds must be literal strings"));
                    };
                    match target {
                        Target::Compound(compound) if compound.between_comparable(lo, hi) => Condition::Between(
                            self.renamed(name),
                            self.beacon_value(name, target, low, Use::Open)?,
                            self.beacon_value(name, target, high, Use::Open)?,
                        ),
                        Target::Compound(_) => {
                            return Err(unsupported(
                                name,
                                "BETWEEN",
                                "after their common parts, the bounds must hold only signed parts (an encrypted part may only end them as a bare prefix)",
                            ));
                        }
                        _ => return Err(unsupported(name, "BETWEEN", "a standard beacon's hashes keep no order")),
                    }
                }
            },
            Condition::In(subject, list) => match self.beacon_of(subject)? {
                None => {
                    self.no_beacon_among(&list.iter().collect::<Vec<_>>(), "IN")?;
                    condition.clone()
                }
                Some((name, Target::Standard(beacon))) if beacon.is_set() => {
                    return Err(unsupported(name, "IN", "a set beacon answers contains only"));
                }
                Some((name, target)) => {
                    let values = list
                        .iter()
                        .map(|value| self.beacon_value(name, target, value, Use::Equality))
                        .collect::<Result<_, _>>()?;
                    Condition::In(self.renamed(name), values)
                }
            },
            Condition::BeginsWith(subject, prefix) => match self.beacon_of(subject)? {
                None => {
                    self.no_beacon_among(&[prefix], "begins_with")?;
                    condition.clone()
                }
                Some((name, target @ Target::Compound(_))) => {
                    Condition::BeginsWith(self.renamed(name), self.beacon_value(name, target, prefix, Use::Open)?)
                }
                Some((name, _)) => {
                    return Err(unsupported(name, "begins_with", "a standard beacon matches whole values only"));
                }
            },
            Condition::Contains(subject, operand) => match self.beacon_of(subject)? {
                None => {
                    self.no_beacon_among(&[operand], "contains")?;
                    condition.clone()
                }
                Some((name, target @ Target::Compound(_))) => {
                    Condition::Contains(self.renamed(name), self.beacon_value(name, target, operand, Use::Open)?)
                }
                Some((name, target @ Target::Standard(beacon))) if beacon.is_set() => {
                    Condition::Contains(self.renamed(name), self.beacon_value(name, target, operand, Use::Equality)?)
                }
                Some((name, _)) => {
                    return Err(unsupported(name, "contains", "only set beacons and compound beacons answer contains"));
                }
            },
            Condition::Exists(name) | Condition::NotExists(name) => {
                let renamed = match self.names.target(name)? {
                    Target::Standard(_) | Target::Compound(_) => format!("{BEACON_ATTRIBUTE_PREFIX}{name}"),
                    Target::Plain | Target::KeyField => name.clone(),
                };
                if matches!(condition, Condition::Exists(_)) {
                    Condition::Exists(renamed)
                } else {
                    Condition::NotExists(renamed)
                }
            }
            Condition::And(parts) => Condition::And(parts.iter().map(|p| self.rewrite(p)).collect::<Result<_, _>>()?),
            Condition::Or(parts) => Condition::Or(parts.iter().map(|p| self.rewrite(p)).collect::<Result<_, _>>()?),
            Condition::Not(inner) => {
                // NOT of a beacon match would also drop the items whose beacon merely collides.
                let only_existence = |c: &Condition| matches!(c, Condition::Exists(_) | Condition::NotExists(_));
                if !only_existence(inner) && self.names.uses_beacons(inner)? {
                    let name = inner.attributes().into_iter().next().unwrap_or_default().to_owned();
                    return Err(unsupported(
                        &name,
                        "NOT",
                        "negating a beacon match would drop items whose beacons collide",
                    ));
                }
                Condition::Not(Box::new(self.rewrite(inner)?))
            }
        })
    }

    fn compare(&self, a: &Operand, op: CompareOp, b: &Operand) -> Result<Condition, SearchError> {
        let (beacon_a, beacon_b) = (self.beacon_of(a)?, self.beacon_of(b)?);
        let (name, target, value, beacon_left) = match (beacon_a, beacon_b) {
            (None, None) => return Ok(Condition::Compare(a.clone(), op, b.clone())),
            (Some((name, target)), None) => (name, target, b, true),
            (None, Some((name, target))) => (name, target, a, false),
            (Some(_), Some(_)) => return Ok(Condition::Compare(self.beacon_side(a), op, self.beacon_side(b))),
        };
        if matches!(value, Operand::Attr(_)) {
            // A beacon against another attribute: the DB-ESDK renames the beacon and lets the
            // database compare (a hash with a plaintext rarely matches); the re-check decides.
            return Ok(Condition::Compare(self.beacon_side(a), op, self.beacon_side(b)));
        }
        if matches!(target, Target::Standard(beacon) if beacon.is_set()) {
            return Err(unsupported(name, op.symbol(), "a set beacon answers contains only"));
        }
        let beacon_value = match (target, op) {
            (_, CompareOp::Eq) => self.beacon_value(name, target, value, Use::Equality)?,
            (_, CompareOp::Ne) => {
                return Err(unsupported(name, "<>", "a beacon cannot tell a different value from a colliding one"));
            }
            (Target::Compound(compound), _) => match literal_string(value) {
                Some(text) if compound.less_than_comparable(text) => {
                    self.beacon_value(name, target, value, Use::Open)?
                }
                _ => {
                    return Err(unsupported(
                        name,
                        op.symbol(),
                        "a range value may hold only signed parts, optionally ending in a bare encrypted prefix",
                    ));
                }
            },
            _ => return Err(unsupported(name, op.symbol(), "a standard beacon's hashes keep no order")),
        };
        Ok(if beacon_left {
            Condition::Compare(self.renamed(name), op, beacon_value)
        } else {
            Condition::Compare(beacon_value, op, self.renamed(name))
        })
    }

    /// The beacon an operand names, if any (errors for encrypted attributes without one).
    fn beacon_of<'o>(&self, operand: &'o Operand) -> Result<Option<(&'o str, Target<'_>)>, SearchError> {
        let name = match operand {
            Operand::Attr(name) => name,
            Operand::Path(path) => {
                self.names.check_path(path)?;
                return Ok(None);
            }
            Operand::Value(_) => return Ok(None),
        };
        let target = self.names.target(name)?;
        Ok(target.is_beacon().then_some((name.as_str(), target)))
    }

    fn no_beacon_among(&self, operands: &[&Operand], operator: &'static str) -> Result<(), SearchError> {
        for operand in operands {
            if let Some((name, _)) = self.beacon_of(operand)? {
                return Err(unsupported(name, operator, "a beacon is compared only with literal values"));
            }
        }
        Ok(())
    }

    /// An operand with a beacon name renamed to its attribute, anything else unchanged.
    fn beacon_side(&self, operand: &Operand) -> Operand {
        match operand {
            Operand::Attr(name) if self.names.target(name).is_ok_and(|t| t.is_beacon()) => self.renamed(name),
            other => other.clone(),
        }
    }

    fn renamed(&self, name: &str) -> Operand {
        Operand::Attr(format!("{BEACON_ATTRIBUTE_PREFIX}{name}"))
    }

    fn beacon_value(
        &self,
        name: &str,
        target: Target<'_>,
        operand: &Operand,
        usage: Use,
    ) -> Result<Operand, SearchError> {
        let Operand::Value(value) = operand else {
            return Err(unsupported(name, "a comparison", "a beacon is compared only with literal values"));
        };
        let (Some(version), Some(keys)) = (self.names.version, self.keys) else {
            return Err(crate::beacon::BeaconError::MissingKey(name.to_owned()).into());
        };
        let beacon = match target {
            Target::Compound(compound) => {
                let AttributeValue::S(text) = value else {
                    return Err(unsupported(name, "a comparison", "a compound beacon is queried with strings"));
                };
                AttributeValue::S(version.compound_query(compound, text, keys, self.partition, usage == Use::Open)?)
            }
            _ => version.query_value(name, value, keys, self.partition)?,
        };
        Ok(Operand::Value(beacon))
    }
}

fn literal_string(operand: &Operand) -> Option<&str> {
    match operand {
        Operand::Value(AttributeValue::S(text)) => Some(text),
        _ => None,
    }
}

fn unsupported(beacon: &str, operator: &'static str, reason: &'static str) -> SearchError {
    SearchError::UnsupportedOperator { beacon: beacon.to_owned(), operator, reason }
}
