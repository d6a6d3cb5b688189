//! Compound beacons: a string of prefixed parts joined by a split character, each part either
//! a signed attribute's plaintext or a standard beacon of an encrypted one, e.g.
//! `Y_1984.N_7d9bfa40`. A compound beacon with only signed parts is a *signed beacon*, stored
//! under its own name.
//!
//! spec: searchable-encryption/beacons.md "Compound Beacon", "value for a compound beacon",
//! "getPart for a compound beacon", "Default Construction", "Initialization Failure"

use std::collections::BTreeSet;

use super::config_error::ConfigError;
use super::error::BeaconError;
use super::location::TerminalLocation;
use super::standard::StandardBeacon;

/// A part holding a standard beacon of an encrypted value.
///
/// ```
/// use envelope_dbe::beacon::EncryptedPart;
///
/// // The part "N_" followed by the beacon of the standard beacon "Name".
/// let part = EncryptedPart::new("Name", "N_");
/// assert_eq!((part.name.as_str(), part.prefix.as_str()), ("Name", "N_"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPart {
    /// The standard beacon's name.
    pub name: String,
    /// The literal written before the beacon.
    pub prefix: String,
}

impl EncryptedPart {
    /// The part of standard beacon `name`, written after `prefix`.
    pub fn new(name: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self { name: name.into(), prefix: prefix.into() }
    }
}

/// A part holding the plaintext of a signed (not encrypted) value.
///
/// ```
/// use envelope_dbe::beacon::SignedPart;
///
/// // "Y_" followed by the plaintext of the (signed) attribute Year.
/// let year = SignedPart::new("Year", "Y_")?;
/// assert_eq!(year.location.to_string(), "Year");
/// // A part named "City" that reads a nested value.
/// let city = SignedPart::new("City", "C_")?.with_location("Address.City")?;
/// assert_eq!(city.location.attribute(), "Address");
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPart {
    /// The part's name.
    pub name: String,
    /// The literal written before the value.
    pub prefix: String,
    /// Where the value is read; the name when not given.
    pub location: TerminalLocation,
}

impl SignedPart {
    /// The part `name` reading the top-level attribute `name`, written after `prefix`.
    pub fn new(name: impl Into<String>, prefix: impl Into<String>) -> Result<Self, BeaconError> {
        let name = name.into();
        Ok(Self { location: TerminalLocation::parse(&name)?, name, prefix: prefix.into() })
    }

    /// Reads `location` (a document path) instead.
    pub fn with_location(mut self, location: &str) -> Result<Self, BeaconError> {
        self.location = TerminalLocation::parse(location)?;
        Ok(self)
    }
}

/// One part of a constructor: a part name and whether it must be present.
///
/// ```
/// use envelope_dbe::beacon::ConstructorPart;
///
/// assert!(ConstructorPart::required("Year").required);
/// assert!(!ConstructorPart::optional("Name").required);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstructorPart {
    /// The part's name (local to the beacon or from the global parts list).
    pub name: String,
    /// Whether the constructor applies only when this part's value exists.
    pub required: bool,
}

impl ConstructorPart {
    /// A required part.
    pub fn required(name: impl Into<String>) -> Self {
        Self { name: name.into(), required: true }
    }

    /// An optional part.
    pub fn optional(name: impl Into<String>) -> Self {
        Self { name: name.into(), required: false }
    }
}

/// An ordered list of parts; the first constructor whose required parts all exist builds the
/// beacon.
///
/// ```
/// use envelope_dbe::beacon::{Constructor, ConstructorPart};
///
/// // Applies to items that have a Year; adds the Name part when there is one.
/// let constructor = Constructor { parts: vec![ConstructorPart::required("Year"), ConstructorPart::optional("Name")] };
/// assert_eq!(constructor.parts.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constructor {
    /// The parts, in beacon order.
    pub parts: Vec<ConstructorPart>,
}

/// A compound beacon's configuration.
///
/// ```
/// use envelope_dbe::beacon::{CompoundBeacon, EncryptedPart, SignedPart};
/// let beacon = CompoundBeacon::new("YearName", '.')
///     .with_signed(vec![SignedPart::new("Year", "Y_")?])
///     .with_encrypted(vec![EncryptedPart::new("Name", "N_")]);
/// assert!(!beacon.is_signed_beacon());
/// assert_eq!((beacon.name(), beacon.split()), ("YearName", '.'));
/// assert_eq!((beacon.signed().len(), beacon.encrypted().len()), (1, 1));
///
/// // Built as Y_<year>.N_<name> when the item has a Name, else as just Y_<year>.
/// use envelope_dbe::beacon::{Constructor, ConstructorPart};
/// let beacon = beacon.with_constructors(vec![
///     Constructor { parts: vec![ConstructorPart::required("Year"), ConstructorPart::required("Name")] },
///     Constructor { parts: vec![ConstructorPart::required("Year")] },
/// ]);
/// # let _ = beacon;
/// # Ok::<(), envelope_dbe::beacon::BeaconError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundBeacon {
    name: String,
    split: char,
    encrypted: Vec<EncryptedPart>,
    signed: Vec<SignedPart>,
    constructors: Option<Vec<Constructor>>,
}

impl CompoundBeacon {
    /// A compound beacon `name` whose parts are joined with `split`.
    pub fn new(name: impl Into<String>, split: char) -> Self {
        Self { name: name.into(), split, encrypted: Vec::new(), signed: Vec::new(), constructors: None }
    }

    /// Sets the beacon's own encrypted parts.
    pub fn with_encrypted(mut self, parts: Vec<EncryptedPart>) -> Self {
        self.encrypted = parts;
        self
    }

    /// Sets the beacon's own signed parts.
    pub fn with_signed(mut self, parts: Vec<SignedPart>) -> Self {
        self.signed = parts;
        self
    }

    /// Sets the constructors (default: all signed parts then all encrypted parts, required).
    pub fn with_constructors(mut self, constructors: Vec<Constructor>) -> Self {
        self.constructors = Some(constructors);
        self
    }

    /// The beacon's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The split character.
    pub fn split(&self) -> char {
        self.split
    }

    /// The beacon's own encrypted parts.
    pub fn encrypted(&self) -> &[EncryptedPart] {
        &self.encrypted
    }

    /// The beacon's own signed parts.
    pub fn signed(&self) -> &[SignedPart] {
        &self.signed
    }

    /// True when the beacon has only signed parts (its own and those its constructors name
    /// from the global list are checked when the version is built); such a beacon is stored
    /// in plaintext under its own name.
    pub fn is_signed_beacon(&self) -> bool {
        self.encrypted.is_empty()
    }
}

/// A part resolved against the version's standard beacons.
#[derive(Debug, Clone)]
pub(crate) enum ResolvedPart {
    Signed { name: String, prefix: String, location: TerminalLocation },
    Encrypted { prefix: String, beacon: StandardBeacon },
}

impl ResolvedPart {
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Signed { name, .. } => name,
            Self::Encrypted { beacon, .. } => beacon.name(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        match self {
            Self::Signed { prefix, .. } | Self::Encrypted { prefix, .. } => prefix,
        }
    }

    /// The location whose string the part uses.
    pub(crate) fn location(&self) -> &TerminalLocation {
        match self {
            Self::Signed { location, .. } => location,
            Self::Encrypted { beacon, .. } => beacon.location(),
        }
    }
}

/// A compound beacon ready to compute: parts resolved, constructors as part indexes.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedCompound {
    pub(crate) name: String,
    pub(crate) split: char,
    pub(crate) parts: Vec<ResolvedPart>,
    /// Each constructor: (index into `parts`, required).
    pub(crate) constructors: Vec<Vec<(usize, bool)>>,
}

/// How a resolved compound beacon gets part values and hashes.
pub(crate) trait PartValues {
    /// The string at `location` (virtual field or document path), `None` if absent.
    fn string_at(&self, location: &TerminalLocation) -> Result<Option<String>, BeaconError>;
    /// The standard beacon of `text` for an encrypted part.
    fn hash(&self, beacon: &StandardBeacon, text: &str) -> Result<String, BeaconError>;
}

impl ResolvedCompound {
    /// Resolves `beacon` against the version's standard beacons and global parts, checking the
    /// rules of beacons.md "Initialization Failure".
    pub(crate) fn resolve(
        beacon: &CompoundBeacon,
        standard: &[StandardBeacon],
        global_encrypted: &[EncryptedPart],
        global_signed: &[SignedPart],
    ) -> Result<Self, ConfigError> {
        let find_standard = |name: &str| -> Result<StandardBeacon, ConfigError> {
            let found = standard
                .iter()
                .find(|b| b.name() == name)
                .ok_or_else(|| ConfigError::UnknownEncryptedPart(name.to_owned()))?;
            if found.is_set() {
                return Err(ConfigError::SetBeaconAsPart { compound: beacon.name.clone(), beacon: name.to_owned() });
            }
            Ok(found.clone())
        };
        let signed_part = |p: &SignedPart| ResolvedPart::Signed {
            name: p.name.clone(),
            prefix: p.prefix.clone(),
            location: p.location.clone(),
        };
        // Local parts, signed first: the default constructor's order.
        let mut parts: Vec<ResolvedPart> = beacon.signed.iter().map(signed_part).collect();
        for p in &beacon.encrypted {
            parts.push(ResolvedPart::Encrypted { prefix: p.prefix.clone(), beacon: find_standard(&p.name)? });
        }
        let mut seen = BTreeSet::new();
        for part in &parts {
            if !seen.insert(part.name().to_owned()) {
                return Err(ConfigError::DuplicatePart(part.name().to_owned()));
            }
        }
        let constructors = match &beacon.constructors {
            None => {
                if parts.is_empty() {
                    return Err(ConfigError::NoParts(beacon.name.clone()));
                }
                vec![(0..parts.len()).map(|i| (i, true)).collect()]
            }
            Some(list) => {
                let mut resolved = Vec::with_capacity(list.len());
                let mut required_sets = BTreeSet::new();
                for constructor in list {
                    if constructor.parts.is_empty() {
                        return Err(ConfigError::EmptyConstructor(beacon.name.clone()));
                    }
                    if !constructor.parts.iter().any(|p| p.required) {
                        return Err(ConfigError::NoRequiredPart(beacon.name.clone()));
                    }
                    let mut indexes = Vec::with_capacity(constructor.parts.len());
                    for cp in &constructor.parts {
                        let index = match parts.iter().position(|p| p.name() == cp.name) {
                            Some(index) => index,
                            None => {
                                let global = if let Some(p) = global_signed.iter().find(|p| p.name == cp.name) {
                                    signed_part(p)
                                } else if let Some(p) = global_encrypted.iter().find(|p| p.name == cp.name) {
                                    ResolvedPart::Encrypted {
                                        prefix: p.prefix.clone(),
                                        beacon: find_standard(&p.name)?,
                                    }
                                } else {
                                    return Err(ConfigError::UnknownConstructorPart {
                                        beacon: beacon.name.clone(),
                                        part: cp.name.clone(),
                                    });
                                };
                                parts.push(global);
                                parts.len() - 1
                            }
                        };
                        indexes.push((index, cp.required));
                    }
                    let required: BTreeSet<usize> = indexes.iter().filter(|(_, r)| *r).map(|(i, _)| *i).collect();
                    if !required_sets.insert(required) {
                        return Err(ConfigError::DuplicateConstructor(beacon.name.clone()));
                    }
                    resolved.push(indexes);
                }
                resolved
            }
        };
        check_prefixes(&beacon.name, &parts)?;
        Ok(Self { name: beacon.name.clone(), split: beacon.split, parts, constructors })
    }

    /// True when every part is signed: a signed beacon, stored under its own name.
    pub(crate) fn is_signed_beacon(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, ResolvedPart::Signed { .. }))
    }

    /// True when `piece` is exactly the prefix of an encrypted part (a query's open end).
    pub(crate) fn is_bare_encrypted_prefix(&self, piece: &str) -> bool {
        self.parts.iter().any(|p| matches!(p, ResolvedPart::Encrypted { prefix, .. } if prefix == piece))
    }

    /// True when a query value can be compared with `<`, `<=`, `>`, `>=` against stored
    /// beacons: every piece is a signed part's, except that the last may be a bare encrypted
    /// prefix (hashes do not keep order). spec: beacons.md "LessThanComparable"
    pub(crate) fn less_than_comparable(&self, query: &str) -> bool {
        let pieces: Vec<&str> = query.split(self.split).collect();
        pieces.iter().enumerate().all(|(i, piece)| match self.parts.iter().find(|p| piece.starts_with(p.prefix())) {
            Some(ResolvedPart::Signed { .. }) => true,
            Some(ResolvedPart::Encrypted { prefix, .. }) => i + 1 == pieces.len() && prefix == piece,
            None => false,
        })
    }

    /// True when `low BETWEEN high` can be answered: after the pieces both share, each rest is
    /// [less-than comparable](Self::less_than_comparable).
    pub(crate) fn between_comparable(&self, low: &str, high: &str) -> bool {
        let a: Vec<&str> = low.split(self.split).collect();
        let b: Vec<&str> = high.split(self.split).collect();
        let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let split = self.split.to_string();
        let rest = |pieces: &[&str]| pieces.is_empty() || self.less_than_comparable(&pieces.join(&split));
        rest(&a[common..]) && rest(&b[common..])
    }

    /// The beacon of an item: the first constructor whose required parts all exist, its parts'
    /// values joined with the split character; `None` if no constructor applies.
    pub(crate) fn value(&self, source: &dyn PartValues) -> Result<Option<String>, BeaconError> {
        let mut cache: Vec<Option<Option<String>>> = vec![None; self.parts.len()];
        'constructors: for constructor in &self.constructors {
            let mut pieces = Vec::with_capacity(constructor.len());
            for &(index, required) in constructor {
                let part = &self.parts[index];
                let plain = match &cache[index] {
                    Some(known) => known.clone(),
                    None => {
                        let found = source.string_at(part.location())?;
                        cache[index] = Some(found.clone());
                        found
                    }
                };
                let Some(plain) = plain else {
                    if required {
                        continue 'constructors;
                    }
                    continue;
                };
                if plain.contains(self.split) {
                    return Err(BeaconError::SplitCharacterInValue {
                        part: part.name().to_owned(),
                        beacon: self.name.clone(),
                        split: self.split,
                    });
                }
                pieces.push(self.part_value(part, &plain, source)?);
            }
            return Ok(Some(pieces.join(&self.split.to_string())));
        }
        Ok(None)
    }

    /// The beacon of a query value (getPart): each piece between split characters is matched
    /// to a part by its prefix, and encrypted pieces are hashed.
    pub(crate) fn query_value(&self, query: &str, source: &dyn PartValues) -> Result<String, BeaconError> {
        let mut pieces = Vec::new();
        let mut order = Vec::new();
        for piece in query.split(self.split) {
            let index = self.parts.iter().position(|p| piece.starts_with(p.prefix())).ok_or_else(|| {
                BeaconError::InvalidQueryValue {
                    beacon: self.name.clone(),
                    reason: "a piece of the value starts with no part's prefix".to_owned(),
                }
            })?;
            let part = &self.parts[index];
            order.push(index);
            pieces.push(self.part_value(part, &piece[part.prefix().len()..], source)?);
        }
        if !self.constructors.iter().any(|c| can_construct(c, &order)) {
            let parsed: String = order.iter().map(|&i| self.parts[i].prefix()).collect();
            let available: Vec<String> = self
                .constructors
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|&(i, required)| {
                            let prefix = self.parts[i].prefix();
                            if required { prefix.to_owned() } else { format!("[{prefix}]") }
                        })
                        .collect()
                })
                .collect();
            return Err(BeaconError::InvalidQueryValue {
                beacon: self.name.clone(),
                reason: format!(
                    "the value's parts, in order {parsed}, fit no constructor (available: {})",
                    available.join(", ")
                ),
            });
        }
        Ok(pieces.join(&self.split.to_string()))
    }

    /// prefix ‖ plaintext for a signed part, prefix ‖ string hash for an encrypted one.
    fn part_value(&self, part: &ResolvedPart, plain: &str, source: &dyn PartValues) -> Result<String, BeaconError> {
        Ok(match part {
            ResolvedPart::Signed { prefix, .. } => format!("{prefix}{plain}"),
            ResolvedPart::Encrypted { prefix, beacon } => {
                format!("{prefix}{}", source.hash(beacon, plain)?)
            }
        })
    }
}

/// Whether a query's parts (`order`, part indexes) can come from `constructor`: they must
/// appear in the constructor's order, starting anywhere, and once the first has matched only
/// optional constructor parts may be skipped between them.
fn can_construct(constructor: &[(usize, bool)], order: &[usize]) -> bool {
    let mut wanted = order.iter().peekable();
    let mut matched = false;
    for &(index, required) in constructor {
        match wanted.peek() {
            None => return true,
            Some(&&next) if next == index => {
                wanted.next();
                matched = true;
            }
            Some(_) if required && matched => return false,
            Some(_) => {}
        }
    }
    wanted.peek().is_none()
}

/// No part's prefix may start another part's prefix (values would be ambiguous).
fn check_prefixes(beacon: &str, parts: &[ResolvedPart]) -> Result<(), ConfigError> {
    for (i, a) in parts.iter().enumerate() {
        for b in &parts[i + 1..] {
            if a.prefix().starts_with(b.prefix()) || b.prefix().starts_with(a.prefix()) {
                return Err(ConfigError::PrefixConflict {
                    beacon: beacon.to_owned(),
                    part: a.name().to_owned(),
                    prefix: a.prefix().to_owned(),
                    other: b.name().to_owned(),
                    other_prefix: b.prefix().to_owned(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::can_construct;

    #[test]
    fn query_part_order() {
        // Constructors of the fixture beacon Mixed: N_ Y_ (both required), T_ [M_].
        let (n, y, t, m) = (0, 1, 2, 3);
        let first = [(n, true), (y, true)];
        let second = [(t, true), (m, false)];
        let fits = |order: &[usize]| can_construct(&first, order) || can_construct(&second, order);
        for ok in [&[n, y][..], &[n], &[y], &[t], &[m], &[t, m], &[]] {
            assert!(fits(ok), "{ok:?}");
        }
        for bad in [&[n, n][..], &[y, n], &[m, t]] {
            assert!(!fits(bad), "{bad:?}");
        }
        // Optional parts may be skipped after a match, required ones may not.
        let with_optional = [(n, true), (m, false), (y, true)];
        assert!(can_construct(&with_optional, &[n, y]));
        let all_required = [(n, true), (m, true), (y, true)];
        assert!(!can_construct(&all_required, &[n, y]));
    }
}
