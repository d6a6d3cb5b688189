//! A database-independent query model: conditions on attributes (or beacon names), compared
//! with literal values, joined by AND / OR / NOT. The DynamoDB client parses filter strings into
//! it and the SQLite table renders it as SQL; [`translate`](super::SearchableTable::translate)
//! rewrites it onto beacons and [`recheck`](super::SearchableTable::recheck) evaluates it on
//! plaintext.

use crate::item::AttributeValue;

/// One side of a comparison: an attribute (or beacon) name, a document path into an
/// attribute, or a literal value.
///
/// ```
/// use envelope_dbe::item::AttributeValue;
/// use envelope_dbe::search::{DocumentPath, Operand, PathStep};
///
/// let name = Operand::attr("Email");
/// assert_eq!(name.as_attr(), Some("Email"));
/// let literal = Operand::from(AttributeValue::S("a@example.com".into()));
/// assert_eq!(literal.as_attr(), None);
/// // `Meta.region`: a path reads its top-level attribute, `Meta`.
/// let path = Operand::Path(DocumentPath::new("Meta", [PathStep::key("region")]));
/// assert_eq!(path.as_attr(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A top-level attribute name, or the name of a beacon (standard, compound or signed).
    Attr(String),
    /// A path into the maps and lists of a top-level attribute (`Meta.region`, `Lines[0].sku`).
    /// The attribute must be stored in plaintext (signed or unsigned): an encrypted one is
    /// queried through its beacons, and a beacon has nothing inside.
    Path(DocumentPath),
    /// A literal value.
    Value(AttributeValue),
}

/// One step of a [`DocumentPath`]: a map key or a list index.
///
/// ```
/// use envelope_dbe::search::PathStep;
///
/// assert_eq!(PathStep::key("city"), PathStep::Key("city".to_owned()));
/// assert_ne!(PathStep::Index(0), PathStep::key("0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.name`: a member of a map.
    Key(String),
    /// `[n]`: an element of a list.
    Index(usize),
}

impl PathStep {
    /// A map-key step.
    pub fn key(name: impl Into<String>) -> PathStep {
        PathStep::Key(name.into())
    }
}

/// A document path: a top-level attribute, then at least one step into its maps and lists, as
/// DynamoDB's `Doc.addr[0].city`.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::item::AttributeValue as V;
/// use envelope_dbe::search::{DocumentPath, PathStep};
///
/// let city = V::M(BTreeMap::from([("city".to_owned(), V::S("Lyon".into()))]));
/// let doc = V::M(BTreeMap::from([("addr".to_owned(), V::L(vec![city]))]));
/// let path = DocumentPath::new("Doc", [PathStep::key("addr"), PathStep::Index(0), PathStep::key("city")]);
/// assert_eq!(path.attribute(), "Doc");
/// assert_eq!(path.select(&doc), Some(&V::S("Lyon".into())));
/// assert_eq!(DocumentPath::new("Doc", [PathStep::Index(0)]).select(&doc), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPath {
    attribute: String,
    steps: Vec<PathStep>,
}

impl DocumentPath {
    /// The path from `attribute` through `steps`.
    pub fn new(attribute: impl Into<String>, steps: impl IntoIterator<Item = PathStep>) -> DocumentPath {
        DocumentPath { attribute: attribute.into(), steps: steps.into_iter().collect() }
    }

    /// The top-level attribute the path starts at.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// The steps after the attribute.
    ///
    /// ```
    /// use envelope_dbe::search::{DocumentPath, PathStep};
    ///
    /// let path = DocumentPath::new("Lines", [PathStep::Index(2), PathStep::key("sku")]);
    /// assert_eq!(path.steps(), [PathStep::Index(2), PathStep::key("sku")]);
    /// ```
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    /// The value the steps reach inside `value` (the attribute's value); `None` when a step
    /// finds no such key or index, or a value of another type, as DynamoDB treats a path that
    /// does not exist.
    pub fn select<'v>(&self, value: &'v AttributeValue) -> Option<&'v AttributeValue> {
        self.steps.iter().try_fold(value, |current, step| match (step, current) {
            (PathStep::Key(key), AttributeValue::M(map)) => map.get(key),
            (PathStep::Index(index), AttributeValue::L(list)) => list.get(*index),
            _ => None,
        })
    }
}

impl Operand {
    /// An attribute (or beacon) operand.
    pub fn attr(name: impl Into<String>) -> Operand {
        Operand::Attr(name.into())
    }

    /// The attribute name, if this operand is one.
    pub fn as_attr(&self) -> Option<&str> {
        match self {
            Operand::Attr(name) => Some(name),
            Operand::Path(_) | Operand::Value(_) => None,
        }
    }
}

impl From<AttributeValue> for Operand {
    fn from(value: AttributeValue) -> Operand {
        Operand::Value(value)
    }
}

/// A comparison operator.
///
/// ```
/// use envelope_dbe::search::CompareOp;
///
/// assert_eq!(CompareOp::Ne.symbol(), "<>");
/// // `:v <= Year` is `Year >= :v`.
/// assert_eq!(CompareOp::Le.flipped(), CompareOp::Ge);
/// assert!(CompareOp::Lt.is_range() && !CompareOp::Eq.is_range());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as DynamoDB (and SQL, but for `<>`) spells it.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// The operator with its sides swapped (`a < b` ⇔ `b > a`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            same => same,
        }
    }

    /// True for `<`, `<=`, `>`, `>=`.
    pub fn is_range(self) -> bool {
        matches!(self, CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge)
    }
}

/// A query condition, with DynamoDB's semantics (comparisons with a missing attribute are
/// false, strings compare by UTF-8 bytes, numbers by value).
///
/// ```
/// use envelope_dbe::item::AttributeValue as V;
/// use envelope_dbe::search::{CompareOp, Condition, Operand};
///
/// // Email = "a@example.com" AND (Year BETWEEN 1990 AND 1999 OR begins_with(Code, "X"))
/// let query = Condition::eq("Email", V::S("a@example.com".into())).and(
///     Condition::between("Year", V::N("1990".into()), V::N("1999".into()))
///         .or(Condition::begins_with("Code", V::S("X".into()))),
/// );
/// assert!(matches!(query, Condition::And(ref parts) if parts.len() == 2));
/// // Operands may come in either order, as in DynamoDB (`:v <= Comp`).
/// let flipped = Condition::Compare(Operand::Value(V::S("F_".into())), CompareOp::Le, Operand::attr("Comp"));
/// assert_eq!(flipped.attributes(), vec!["Comp"]);
///
/// // Year > 2000 AND NOT (Status IN ("closed", "spam")) AND contains(Tags, "urgent")
/// let open = Condition::compare("Year", CompareOp::Gt, V::N("2000".into()))
///     .and(Condition::in_list("Status", [V::S("closed".into()), V::S("spam".into())]).not())
///     .and(Condition::contains("Tags", V::S("urgent".into())));
/// assert_eq!(open.attributes(), vec!["Year", "Status", "Tags"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `left op right`.
    Compare(Operand, CompareOp, Operand),
    /// `subject BETWEEN low AND high` (inclusive).
    Between(Operand, Operand, Operand),
    /// `subject IN (list…)`.
    In(Operand, Vec<Operand>),
    /// `begins_with(subject, prefix)` (strings and binaries).
    BeginsWith(Operand, Operand),
    /// `contains(subject, operand)`: substring of a string, member of a set or list.
    Contains(Operand, Operand),
    /// `attribute_exists(name)`.
    Exists(String),
    /// `attribute_not_exists(name)`.
    NotExists(String),
    /// All must hold (an empty list holds).
    And(Vec<Condition>),
    /// One must hold (an empty list does not).
    Or(Vec<Condition>),
    /// The negation.
    Not(Box<Condition>),
}

impl Condition {
    /// `attr = value`.
    pub fn eq(attr: impl Into<String>, value: AttributeValue) -> Condition {
        Condition::compare(attr, CompareOp::Eq, value)
    }

    /// `attr op value`.
    pub fn compare(attr: impl Into<String>, op: CompareOp, value: AttributeValue) -> Condition {
        Condition::Compare(Operand::attr(attr), op, Operand::Value(value))
    }

    /// `attr IN (values…)`.
    pub fn in_list(attr: impl Into<String>, values: impl IntoIterator<Item = AttributeValue>) -> Condition {
        Condition::In(Operand::attr(attr), values.into_iter().map(Operand::Value).collect())
    }

    /// `begins_with(attr, prefix)`.
    pub fn begins_with(attr: impl Into<String>, prefix: AttributeValue) -> Condition {
        Condition::BeginsWith(Operand::attr(attr), Operand::Value(prefix))
    }

    /// `attr BETWEEN low AND high`.
    pub fn between(attr: impl Into<String>, low: AttributeValue, high: AttributeValue) -> Condition {
        Condition::Between(Operand::attr(attr), Operand::Value(low), Operand::Value(high))
    }

    /// `contains(attr, value)`.
    pub fn contains(attr: impl Into<String>, value: AttributeValue) -> Condition {
        Condition::Contains(Operand::attr(attr), Operand::Value(value))
    }

    /// `self AND other` (flattening nested ANDs).
    pub fn and(self, other: Condition) -> Condition {
        let mut parts = match self {
            Condition::And(parts) => parts,
            single => vec![single],
        };
        match other {
            Condition::And(more) => parts.extend(more),
            single => parts.push(single),
        }
        Condition::And(parts)
    }

    /// `self OR other` (flattening nested ORs).
    pub fn or(self, other: Condition) -> Condition {
        let mut parts = match self {
            Condition::Or(parts) => parts,
            single => vec![single],
        };
        match other {
            Condition::Or(more) => parts.extend(more),
            single => parts.push(single),
        }
        Condition::Or(parts)
    }

    /// `NOT self`.
    #[allow(clippy::should_implement_trait)] // a builder beside `and`/`or`, not a bool negation
    pub fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }

    /// Evaluates the condition on `item` with DynamoDB's semantics, reading names as plain
    /// attributes: what a database does with a [translated](super::BeaconQuery) condition on
    /// stored items, or with a plaintext one on a plaintext table. (Beacon names are resolved
    /// by [`SearchableTable::recheck`](super::SearchableTable::recheck) instead.)
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use envelope_dbe::item::AttributeValue as V;
    /// use envelope_dbe::search::Condition;
    /// let item = BTreeMap::from([("n".to_owned(), V::N("10".into()))]);
    /// assert!(Condition::between("n", V::N("9".into()), V::N("1e1".into())).evaluate(&item)?);
    /// assert!(!Condition::eq("missing", V::N("10".into())).evaluate(&item)?);
    /// # Ok::<(), envelope_dbe::search::SearchError>(())
    /// ```
    pub fn evaluate(&self, item: &crate::item::Item) -> Result<bool, super::SearchError> {
        super::eval::evaluate(self, &|name: &str| Ok(item.get(name).cloned()))
    }

    /// Every attribute (or beacon) name the condition reads, in order of appearance (for a
    /// document path, its top-level attribute).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit_names(&mut |name| out.push(name));
        out
    }

    fn visit_names<'a>(&'a self, f: &mut dyn FnMut(&'a str)) {
        let operand = |o: &'a Operand, f: &mut dyn FnMut(&'a str)| match o {
            Operand::Attr(name) => f(name),
            Operand::Path(path) => f(path.attribute()),
            Operand::Value(_) => {}
        };
        match self {
            Condition::Compare(a, _, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
                operand(a, f);
                operand(b, f);
            }
            Condition::Between(a, b, c) => {
                operand(a, f);
                operand(b, f);
                operand(c, f);
            }
            Condition::In(a, list) => {
                operand(a, f);
                list.iter().for_each(|o| operand(o, f));
            }
            Condition::Exists(name) | Condition::NotExists(name) => f(name),
            Condition::And(parts) | Condition::Or(parts) => parts.iter().for_each(|p| p.visit_names(f)),
            Condition::Not(inner) => inner.visit_names(f),
        }
    }
}
