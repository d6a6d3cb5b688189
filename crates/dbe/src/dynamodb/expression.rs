//! DynamoDB condition expressions (the subset queries and conditional writes use) parsed into
//! the search core's [`Condition`], and conditions rendered back to expression text.
//!
//! Grammar (keywords case-insensitive; `#name` and `:value` placeholders resolved from the
//! request's ExpressionAttributeNames / ExpressionAttributeValues):
//!
//! ```text
//! condition := disjunct (OR disjunct)*
//! disjunct  := conjunct (AND conjunct)*
//! conjunct  := NOT conjunct | '(' condition ')' | function | comparison
//! function  := begins_with '(' operand ',' operand ')' | contains '(' operand ',' operand ')'
//!            | attribute_exists '(' path ')' | attribute_not_exists '(' path ')'
//! comparison:= operand ( ('=' | '<>' | '<' | '<=' | '>' | '>=') operand
//!                      | BETWEEN operand AND operand | IN '(' operand (',' operand)* ')' )
//! operand   := path | ':value'
//! path      := name ('.' name | '[' digits ']')*
//! name      := bare-name | '#name'
//! ```
//!
//! A document path (`Meta.region`, `Lines[0].sku`) reaches into a plaintext attribute (the
//! search core refuses one into an encrypted attribute or a beacon); existence tests take a
//! top-level attribute. Refused with a typed error: a path in `attribute_exists` /
//! `attribute_not_exists`, the `size` / `attribute_type` functions, anything else outside the
//! grammar. Bounded: at most [`MAX_EXPRESSION_LEN`] bytes (the
//! service's own limit) and [`MAX_NESTING`] levels of parentheses / NOT.

use std::collections::{BTreeMap, HashMap};

use crate::item::AttributeValue;
use crate::search::{CompareOp, Condition, DocumentPath, Operand, PathStep};

/// DynamoDB's limit on one expression's length, in bytes.
///
/// ```
/// use envelope_dbe::dynamodb::MAX_EXPRESSION_LEN;
///
/// assert_eq!(MAX_EXPRESSION_LEN, 4096);
/// ```
pub const MAX_EXPRESSION_LEN: usize = 4096;
/// How deep parentheses and NOT may nest (keeps the parser's recursion bounded).
///
/// ```
/// assert_eq!(envelope_dbe::dynamodb::MAX_NESTING, 64);
/// ```
pub const MAX_NESTING: usize = 64;

/// Why an expression was refused. Positions are byte offsets into the expression; messages
/// quote names and placeholders, never values.
///
/// ```
/// use std::collections::HashMap;
/// use envelope_dbe::dynamodb::{parse, ExpressionError};
///
/// let no_values = HashMap::new();
/// assert_eq!(parse("", &HashMap::new(), &no_values), Err(ExpressionError::Empty));
/// assert!(matches!(parse("a = :missing", &HashMap::new(), &no_values), Err(ExpressionError::UnknownValuePlaceholder(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpressionError {
    /// The expression is empty or only whitespace.
    #[error("the expression is empty")]
    Empty,
    /// Longer than DynamoDB allows.
    #[error("the expression is {0} bytes long; DynamoDB allows {MAX_EXPRESSION_LEN}")]
    TooLong(usize),
    /// Parentheses or NOT nested too deep.
    #[error("the expression nests deeper than {MAX_NESTING} levels")]
    TooDeep,
    /// A character no token starts with.
    #[error("unexpected character {found:?} at byte {at}")]
    UnexpectedChar {
        /// The character.
        found: char,
        /// Its byte offset.
        at: usize,
    },
    /// A token where the grammar wants something else.
    #[error("expected {expected} at byte {at}, found {found}")]
    Unexpected {
        /// What the grammar wanted.
        expected: &'static str,
        /// What was there (token text or "the end").
        found: String,
        /// Its byte offset.
        at: usize,
    },
    /// A `#name` placeholder missing from ExpressionAttributeNames.
    #[error("name placeholder {0} is not in ExpressionAttributeNames")]
    UnknownNamePlaceholder(String),
    /// A `:value` placeholder missing from ExpressionAttributeValues.
    #[error("value placeholder {0} is not in ExpressionAttributeValues")]
    UnknownValuePlaceholder(String),
    /// `#` or `:` with no name after it.
    #[error("empty placeholder at byte {0}")]
    EmptyPlaceholder(usize),
    /// A document path (`a.b`, `a[1]`) in `attribute_exists` / `attribute_not_exists`:
    /// existence is tested on top-level attributes.
    #[error("document path at byte {0} in an existence test: name a top-level attribute")]
    DocumentPath(usize),
    /// A function outside the supported subset (`size`, `attribute_type`, or unknown).
    #[error("function {0} is not supported in searchable expressions")]
    UnsupportedFunction(String),
    /// A condition that has no expression text (an empty OR, which never holds).
    #[error("the condition can never hold and has no DynamoDB expression")]
    Unrepresentable,
}

/// A condition or key-condition expression with its placeholders, as a DynamoDB request
/// carries it (values in envelope's attribute model).
///
/// ```
/// use std::collections::HashMap;
/// use envelope_dbe::dynamodb::Expression;
/// use envelope_dbe::item::AttributeValue as V;
/// use envelope_dbe::search::Condition;
///
/// let expression = Expression::new("#e = :e AND begins_with(Code, :c)")
///     .name("#e", "Email")
///     .value(":e", V::S("a@example.com".into()))
///     .value(":c", V::S("X".into()));
/// assert_eq!(
///     expression.parse()?,
///     Condition::eq("Email", V::S("a@example.com".into())).and(Condition::begins_with("Code", V::S("X".into())))
/// );
/// # Ok::<(), envelope_dbe::dynamodb::ExpressionError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expression {
    /// The expression text.
    pub text: String,
    /// ExpressionAttributeNames: `#placeholder` → attribute name.
    pub names: HashMap<String, String>,
    /// ExpressionAttributeValues: `:placeholder` → value.
    pub values: HashMap<String, AttributeValue>,
}

impl Expression {
    /// An expression with no placeholders yet.
    pub fn new(text: impl Into<String>) -> Expression {
        Expression { text: text.into(), ..Expression::default() }
    }

    /// Adds a `#name` placeholder.
    pub fn name(mut self, placeholder: impl Into<String>, name: impl Into<String>) -> Expression {
        self.names.insert(placeholder.into(), name.into());
        self
    }

    /// Adds a `:value` placeholder.
    pub fn value(mut self, placeholder: impl Into<String>, value: AttributeValue) -> Expression {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// Parses the text, resolving its placeholders.
    pub fn parse(&self) -> Result<Condition, ExpressionError> {
        parse(&self.text, &self.names, &self.values)
    }

    /// The expression for `condition`, with fresh placeholders (`#n0`, `:v0`, …) for every name
    /// and value, so reserved words and odd characters in names never matter.
    ///
    /// ```
    /// use envelope_dbe::dynamodb::Expression;
    /// use envelope_dbe::item::AttributeValue as V;
    /// use envelope_dbe::search::Condition;
    ///
    /// let condition = Condition::eq("aws_dbe_b_Email", V::S("3f".into())).not();
    /// let expression = Expression::render(&condition)?;
    /// assert_eq!(expression.text, "NOT (#n0 = :v0)");
    /// assert_eq!(expression.parse()?, condition);
    /// # Ok::<(), envelope_dbe::dynamodb::ExpressionError>(())
    /// ```
    pub fn render(condition: &Condition) -> Result<Expression, ExpressionError> {
        let mut rendered = render_shared(&[Some(condition)])?;
        let text = rendered.texts.pop().flatten().ok_or(ExpressionError::Unrepresentable)?;
        Ok(Expression { text, names: rendered.names, values: rendered.values })
    }
}

/// Several expressions of one request (a key condition and a filter share their placeholder
/// maps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RenderedSet {
    /// One text per condition given; `None` for no condition, or one that always holds.
    pub(crate) texts: Vec<Option<String>>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

/// Renders `conditions` with one set of fresh placeholders.
pub(crate) fn render_shared(conditions: &[Option<&Condition>]) -> Result<RenderedSet, ExpressionError> {
    let mut renderer = Renderer::default();
    let texts = conditions
        .iter()
        .map(|condition| condition.map(|c| renderer.condition(c)).transpose().map(Option::flatten))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RenderedSet {
        texts,
        names: renderer.names.into_iter().map(|(name, placeholder)| (placeholder, name)).collect(),
        values: renderer.values.into_iter().enumerate().map(|(i, v)| (format!(":v{i}"), v)).collect(),
    })
}

/// Parses `text` into a [`Condition`], resolving `#name` and `:value` placeholders.
///
/// ```
/// use std::collections::HashMap;
/// use envelope_dbe::dynamodb::parse;
/// use envelope_dbe::item::AttributeValue as V;
/// use envelope_dbe::search::Condition;
///
/// let names = HashMap::from([("#s".to_owned(), "Status".to_owned())]);
/// let values = HashMap::from([(":open".to_owned(), V::S("open".into()))]);
/// let condition = parse("#s = :open AND attribute_exists(Owner)", &names, &values)?;
/// assert_eq!(condition, Condition::eq("Status", V::S("open".into())).and(Condition::Exists("Owner".into())));
/// # Ok::<(), envelope_dbe::dynamodb::ExpressionError>(())
/// ```
pub fn parse(
    text: &str,
    names: &HashMap<String, String>,
    values: &HashMap<String, AttributeValue>,
) -> Result<Condition, ExpressionError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(ExpressionError::TooLong(text.len()));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ExpressionError::Empty);
    }
    let mut parser = Parser { tokens, next: 0, end: text.len(), names, values, depth: 0 };
    let condition = parser.condition()?;
    match parser.peek() {
        None => Ok(condition),
        Some(token) => Err(unexpected("AND, OR or the end", Some(token), parser.end)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A bare name or keyword.
    Word(String),
    /// `#name`.
    NameRef(String),
    /// `:value`.
    ValueRef(String),
    /// A run of digits (only list indexes use them).
    Digits,
    Compare(CompareOp),
    LParen,
    RParen,
    Comma,
    Dot,
    LBracket,
    RBracket,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    at: usize,
    text: String,
}

fn placeholder_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn tokenize(text: &str) -> Result<Vec<Token>, ExpressionError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let mut take_run = |first_len: usize, keep: fn(char) -> bool| {
            let mut end = at + first_len;
            chars.next();
            while let Some(&(i, d)) = chars.peek() {
                if !keep(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            end
        };
        let kind = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '#' | ':' => {
                let end = take_run(1, placeholder_char);
                if end == at + 1 {
                    return Err(ExpressionError::EmptyPlaceholder(at));
                }
                let name = text[at..end].to_owned();
                let kind = if c == '#' { Kind::NameRef(name) } else { Kind::ValueRef(name) };
                tokens.push(Token { kind, at, text: text[at..end].to_owned() });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = take_run(1, placeholder_char);
                tokens.push(Token { kind: Kind::Word(text[at..end].to_owned()), at, text: text[at..end].to_owned() });
                continue;
            }
            c if c.is_ascii_digit() => {
                let end = take_run(1, |d| d.is_ascii_digit());
                tokens.push(Token { kind: Kind::Digits, at, text: text[at..end].to_owned() });
                continue;
            }
            '=' => Kind::Compare(CompareOp::Eq),
            '<' | '>' => {
                chars.next();
                let next = chars.peek().map(|&(_, d)| d);
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (CompareOp::Ne, 2),
                    ('<', Some('=')) => (CompareOp::Le, 2),
                    ('>', Some('=')) => (CompareOp::Ge, 2),
                    ('<', _) => (CompareOp::Lt, 1),
                    _ => (CompareOp::Gt, 1),
                };
                if len == 2 {
                    chars.next();
                }
                tokens.push(Token { kind: Kind::Compare(op), at, text: text[at..at + len].to_owned() });
                continue;
            }
            '(' => Kind::LParen,
            ')' => Kind::RParen,
            ',' => Kind::Comma,
            '.' => Kind::Dot,
            '[' => Kind::LBracket,
            ']' => Kind::RBracket,
            found => return Err(ExpressionError::UnexpectedChar { found, at }),
        };
        chars.next();
        tokens.push(Token { kind, at, text: c.to_string() });
    }
    Ok(tokens)
}

fn unexpected(expected: &'static str, token: Option<&Token>, end: usize) -> ExpressionError {
    match token {
        Some(token) => ExpressionError::Unexpected { expected, found: format!("{:?}", token.text), at: token.at },
        None => ExpressionError::Unexpected { expected, found: "the end".into(), at: end },
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    next: usize,
    end: usize,
    names: &'a HashMap<String, String>,
    values: &'a HashMap<String, AttributeValue>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.next + offset)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += usize::from(token.is_some());
        token
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(word), .. }) if word.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, kind: Kind, expected: &'static str) -> Result<(), ExpressionError> {
        match self.peek() {
            Some(token) if token.kind == kind => {
                self.next += 1;
                Ok(())
            }
            other => Err(unexpected(expected, other, self.end)),
        }
    }

    fn expect_keyword(&mut self, keyword: &'static str) -> Result<(), ExpressionError> {
        if self.is_keyword(keyword) {
            self.next += 1;
            Ok(())
        } else {
            Err(unexpected(keyword, self.peek(), self.end))
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, ExpressionError>) -> Result<T, ExpressionError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ExpressionError::TooDeep);
        }
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn condition(&mut self) -> Result<Condition, ExpressionError> {
        let mut condition = self.disjunct()?;
        while self.is_keyword("OR") {
            self.next += 1;
            condition = condition.or(self.disjunct()?);
        }
        Ok(condition)
    }

    fn disjunct(&mut self) -> Result<Condition, ExpressionError> {
        let mut condition = self.conjunct()?;
        while self.is_keyword("AND") {
            self.next += 1;
            condition = condition.and(self.conjunct()?);
        }
        Ok(condition)
    }

    fn conjunct(&mut self) -> Result<Condition, ExpressionError> {
        if self.is_keyword("NOT") {
            self.next += 1;
            return self.nested(|p| Ok(p.conjunct()?.not()));
        }
        match self.peek().map(|t| &t.kind) {
            Some(Kind::LParen) => {
                self.next += 1;
                let inner = self.nested(|p| p.condition())?;
                self.expect(Kind::RParen, "')'")?;
                Ok(inner)
            }
            Some(Kind::Word(_)) if matches!(self.peek_at(1).map(|t| &t.kind), Some(Kind::LParen)) => self.function(),
            _ => self.comparison(),
        }
    }

    fn function(&mut self) -> Result<Condition, ExpressionError> {
        let Some(Token { kind: Kind::Word(name), .. }) = self.bump() else {
            return Err(unexpected("a function", self.peek(), self.end));
        };
        self.expect(Kind::LParen, "'('")?;
        let condition = match name.as_str() {
            "attribute_exists" | "attribute_not_exists" => {
                let at = self.peek().map_or(self.end, |token| token.at);
                let Operand::Attr(attr) = self.path()? else {
                    // The query model tests the existence of top-level attributes only.
                    return Err(ExpressionError::DocumentPath(at));
                };
                if name == "attribute_exists" { Condition::Exists(attr) } else { Condition::NotExists(attr) }
            }
            "begins_with" | "contains" => {
                // Either argument may be a value (`contains(:set, Attr)` asks whether the
                // attribute is a member of the given set); the search core handles both orders.
                let subject = self.operand()?;
                self.expect(Kind::Comma, "','")?;
                let argument = self.operand()?;
                if name == "contains" {
                    Condition::Contains(subject, argument)
                } else {
                    Condition::BeginsWith(subject, argument)
                }
            }
            _ => return Err(ExpressionError::UnsupportedFunction(name)),
        };
        self.expect(Kind::RParen, "')'")?;
        Ok(condition)
    }

    fn comparison(&mut self) -> Result<Condition, ExpressionError> {
        let left = self.operand()?;
        if let Some(Token { kind: Kind::Compare(op), .. }) = self.peek() {
            let op = *op;
            self.next += 1;
            return Ok(Condition::Compare(left, op, self.operand()?));
        }
        if self.is_keyword("BETWEEN") {
            self.next += 1;
            let low = self.operand()?;
            self.expect_keyword("AND")?;
            return Ok(Condition::Between(left, low, self.operand()?));
        }
        if self.is_keyword("IN") {
            self.next += 1;
            self.expect(Kind::LParen, "'('")?;
            let mut list = vec![self.operand()?];
            while matches!(self.peek().map(|t| &t.kind), Some(Kind::Comma)) {
                self.next += 1;
                list.push(self.operand()?);
            }
            self.expect(Kind::RParen, "')' or ','")?;
            return Ok(Condition::In(left, list));
        }
        Err(unexpected("a comparison, BETWEEN or IN", self.peek(), self.end))
    }

    fn operand(&mut self) -> Result<Operand, ExpressionError> {
        if let Some(Token { kind: Kind::ValueRef(placeholder), .. }) = self.peek() {
            let placeholder = placeholder.clone();
            self.next += 1;
            return match self.values.get(&placeholder) {
                Some(value) => Ok(Operand::Value(value.clone())),
                None => Err(ExpressionError::UnknownValuePlaceholder(placeholder)),
            };
        }
        self.path()
    }

    /// An attribute name, or a document path: the name, then `.name` and `[index]` steps.
    fn path(&mut self) -> Result<Operand, ExpressionError> {
        let name = self.path_name("an attribute name or :value")?;
        let mut steps = Vec::new();
        loop {
            match self.peek().map(|token| &token.kind) {
                Some(Kind::Dot) => {
                    self.next += 1;
                    steps.push(PathStep::Key(self.path_name("a name after '.'")?));
                }
                Some(Kind::LBracket) => {
                    self.next += 1;
                    let token = self.bump();
                    let index = match &token {
                        Some(Token { kind: Kind::Digits, text, .. }) => text.parse::<usize>().ok(),
                        _ => None,
                    };
                    let Some(index) = index else {
                        return Err(unexpected("a list index", token.as_ref(), self.end));
                    };
                    self.expect(Kind::RBracket, "']'")?;
                    steps.push(PathStep::Index(index));
                }
                _ => break,
            }
        }
        Ok(if steps.is_empty() { Operand::Attr(name) } else { Operand::Path(DocumentPath::new(name, steps)) })
    }

    /// A bare name or a `#name` placeholder, resolved.
    fn path_name(&mut self, expected: &'static str) -> Result<String, ExpressionError> {
        let name = match self.peek() {
            Some(Token { kind: Kind::NameRef(placeholder), .. }) => match self.names.get(placeholder) {
                Some(name) => name.clone(),
                None => return Err(ExpressionError::UnknownNamePlaceholder(placeholder.clone())),
            },
            Some(Token { kind: Kind::Word(word), .. }) if !is_reserved_keyword(word) => word.clone(),
            other => return Err(unexpected(expected, other, self.end)),
        };
        self.next += 1;
        Ok(name)
    }
}

/// Words of the grammar itself, which cannot be bare attribute names (use a `#name`).
fn is_reserved_keyword(word: &str) -> bool {
    ["AND", "OR", "NOT", "BETWEEN", "IN"].iter().any(|k| word.eq_ignore_ascii_case(k))
}

#[derive(Default)]
struct Renderer {
    /// Attribute name → placeholder, so a name used twice gets one placeholder.
    names: BTreeMap<String, String>,
    values: Vec<AttributeValue>,
}

impl Renderer {
    fn name(&mut self, name: &str) -> String {
        let next = self.names.len();
        self.names.entry(name.to_owned()).or_insert_with(|| format!("#n{next}")).clone()
    }

    fn operand(&mut self, operand: &Operand) -> String {
        match operand {
            Operand::Attr(name) => self.name(name),
            Operand::Path(path) => {
                let mut text = self.name(path.attribute());
                for step in path.steps() {
                    match step {
                        PathStep::Key(key) => {
                            text.push('.');
                            text.push_str(&self.name(key));
                        }
                        PathStep::Index(index) => text.push_str(&format!("[{index}]")),
                    }
                }
                text
            }
            Operand::Value(value) => {
                self.values.push(value.clone());
                format!(":v{}", self.values.len() - 1)
            }
        }
    }

    /// `None` for a condition that always holds (an empty AND).
    fn condition(&mut self, condition: &Condition) -> Result<Option<String>, ExpressionError> {
        Ok(Some(match condition {
            Condition::Compare(left, op, right) => {
                format!("{} {} {}", self.operand(left), op.symbol(), self.operand(right))
            }
            Condition::Between(subject, low, high) => {
                format!("{} BETWEEN {} AND {}", self.operand(subject), self.operand(low), self.operand(high))
            }
            Condition::In(subject, list) => {
                let subject = self.operand(subject);
                let list: Vec<String> = list.iter().map(|o| self.operand(o)).collect();
                if list.is_empty() {
                    return Err(ExpressionError::Unrepresentable);
                }
                format!("{subject} IN ({})", list.join(", "))
            }
            Condition::BeginsWith(subject, prefix) => {
                format!("begins_with({}, {})", self.operand(subject), self.operand(prefix))
            }
            Condition::Contains(subject, operand) => {
                format!("contains({}, {})", self.operand(subject), self.operand(operand))
            }
            Condition::Exists(name) => format!("attribute_exists({})", self.name(name)),
            Condition::NotExists(name) => format!("attribute_not_exists({})", self.name(name)),
            Condition::And(parts) => {
                let mut texts = Vec::new();
                for part in parts {
                    if let Some(text) = self.condition(part)? {
                        texts.push(text);
                    }
                }
                match texts.len() {
                    0 => return Ok(None),
                    1 => texts.remove(0),
                    _ => texts.iter().map(|t| format!("({t})")).collect::<Vec<_>>().join(" AND "),
                }
            }
            Condition::Or(parts) => {
                let mut texts = Vec::new();
                for part in parts {
                    match self.condition(part)? {
                        Some(text) => texts.push(text),
                        None => return Ok(None),
                    }
                }
                match texts.len() {
                    0 => return Err(ExpressionError::Unrepresentable),
                    1 => texts.remove(0),
                    _ => texts.iter().map(|t| format!("({t})")).collect::<Vec<_>>().join(" OR "),
                }
            }
            Condition::Not(inner) => match self.condition(inner)? {
                Some(text) => format!("NOT ({text})"),
                None => return Err(ExpressionError::Unrepresentable),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttributeValue as V;

    fn values() -> HashMap<String, AttributeValue> {
        HashMap::from([
            (":s".to_owned(), V::S("x".into())),
            (":n".to_owned(), V::N("1".into())),
            (":m".to_owned(), V::N("9".into())),
        ])
    }

    fn names() -> HashMap<String, String> {
        HashMap::from([("#a".to_owned(), "and".to_owned()), ("#d".to_owned(), "with.dot".to_owned())])
    }

    fn ok(text: &str) -> Condition {
        parse(text, &names(), &values()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> ExpressionError {
        parse(text, &names(), &values()).expect_err(text)
    }

    #[test]
    fn every_comparison_operator() {
        for (symbol, op) in [
            ("=", CompareOp::Eq),
            ("<>", CompareOp::Ne),
            ("<", CompareOp::Lt),
            ("<=", CompareOp::Le),
            (">", CompareOp::Gt),
            (">=", CompareOp::Ge),
        ] {
            assert_eq!(ok(&format!("A {symbol} :n")), Condition::compare("A", op, V::N("1".into())));
            assert_eq!(ok(&format!("A{symbol}:n")), Condition::compare("A", op, V::N("1".into())), "{symbol} unspaced");
        }
        // Value first, and attribute against attribute.
        assert_eq!(
            ok(":s = A"),
            Condition::Compare(Operand::Value(V::S("x".into())), CompareOp::Eq, Operand::attr("A"))
        );
        assert_eq!(ok("A = B"), Condition::Compare(Operand::attr("A"), CompareOp::Eq, Operand::attr("B")));
    }

    #[test]
    fn between_in_and_functions() {
        assert_eq!(ok("A between :n and :m"), Condition::between("A", V::N("1".into()), V::N("9".into())));
        assert_eq!(
            ok("A IN (:n, :m,:s)"),
            Condition::in_list("A", [V::N("1".into()), V::N("9".into()), V::S("x".into())])
        );
        assert_eq!(ok("begins_with(A, :s)"), Condition::begins_with("A", V::S("x".into())));
        assert_eq!(ok("contains ( A , :s )"), Condition::contains("A", V::S("x".into())));
        assert_eq!(ok("attribute_exists(#a)"), Condition::Exists("and".into()));
        assert_eq!(ok("attribute_not_exists(#d)"), Condition::NotExists("with.dot".into()));
    }

    #[test]
    fn document_paths() {
        let path = |steps: Vec<PathStep>| Operand::Path(DocumentPath::new("A", steps));
        assert_eq!(
            ok("A.b = :n"),
            Condition::Compare(path(vec![PathStep::key("b")]), CompareOp::Eq, Operand::Value(V::N("1".into())))
        );
        // Placeholders name one step each: `#d` is the single name "with.dot", not a path.
        assert_eq!(
            ok("A[0].#d[12] BETWEEN :n AND :m"),
            Condition::Between(
                path(vec![PathStep::Index(0), PathStep::key("with.dot"), PathStep::Index(12)]),
                Operand::Value(V::N("1".into())),
                Operand::Value(V::N("9".into()))
            )
        );
        assert_eq!(ok("#d = :n"), Condition::eq("with.dot", V::N("1".into())));
        assert_eq!(
            ok("begins_with(A . b, :s)"),
            Condition::BeginsWith(path(vec![PathStep::key("b")]), Operand::Value(V::S("x".into())))
        );
    }

    #[test]
    fn precedence_not_over_and_over_or() {
        let a = || Condition::eq("A", V::N("1".into()));
        let b = || Condition::eq("B", V::N("1".into()));
        let c = || Condition::eq("C", V::N("1".into()));
        assert_eq!(ok("A = :n OR B = :n AND C = :n"), a().or(b().and(c())));
        assert_eq!(ok("(A = :n OR B = :n) AND C = :n"), a().or(b()).and(c()));
        assert_eq!(ok("NOT A = :n AND B = :n"), a().not().and(b()));
        assert_eq!(ok("NOT (A = :n AND B = :n)"), a().and(b()).not());
        assert_eq!(ok("not not A = :n"), a().not().not());
        assert_eq!(ok("A = :n AND B = :n AND C = :n"), Condition::And(vec![a(), b(), c()]));
    }

    #[test]
    fn typed_errors() {
        assert_eq!(err("   "), ExpressionError::Empty);
        assert_eq!(err("A = :missing"), ExpressionError::UnknownValuePlaceholder(":missing".into()));
        assert_eq!(err("#missing = :n"), ExpressionError::UnknownNamePlaceholder("#missing".into()));
        assert_eq!(err("A = :"), ExpressionError::EmptyPlaceholder(4));
        assert_eq!(err("A = :n;"), ExpressionError::UnexpectedChar { found: ';', at: 6 });
        assert_eq!(err("attribute_exists(A.b)"), ExpressionError::DocumentPath(17));
        assert_eq!(err("attribute_not_exists(A[0])"), ExpressionError::DocumentPath(21));
        assert!(matches!(err("A. = :n"), ExpressionError::Unexpected { expected: "a name after '.'", .. }));
        assert!(matches!(err("A[x] = :n"), ExpressionError::Unexpected { expected: "a list index", .. }));
        assert!(matches!(err("A[99999999999999999999999] = :n"), ExpressionError::Unexpected { .. }));
        assert!(matches!(err("A[0 = :n"), ExpressionError::Unexpected { expected: "']'", .. }));
        assert_eq!(err("size(A) > :n"), ExpressionError::UnsupportedFunction("size".into()));
        assert_eq!(err("attribute_type(A, :s)"), ExpressionError::UnsupportedFunction("attribute_type".into()));
        assert_eq!(ok("contains(:s, A)"), Condition::Contains(Operand::Value(V::S("x".into())), Operand::attr("A")));
        assert!(matches!(err("A = :n AND"), ExpressionError::Unexpected { at: 10, .. }));
        assert!(matches!(err("A = :n B = :n"), ExpressionError::Unexpected { at: 7, .. }));
        assert!(matches!(err("(A = :n"), ExpressionError::Unexpected { expected: "')'", .. }));
        assert!(matches!(err("A BETWEEN :n :m"), ExpressionError::Unexpected { expected: "AND", .. }));
        assert!(matches!(err("A IN ()"), ExpressionError::Unexpected { .. }));
        assert!(matches!(err("AND = :n"), ExpressionError::Unexpected { .. }));
        assert!(matches!(err("A"), ExpressionError::Unexpected { .. }));
        assert_eq!(err(&"x".repeat(MAX_EXPRESSION_LEN + 1)), ExpressionError::TooLong(MAX_EXPRESSION_LEN + 1));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}A = :n{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse(&deep, &names(), &values()).is_ok());
        let too_deep = format!("{}A = :n{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        assert_eq!(err(&too_deep), ExpressionError::TooDeep);
        assert_eq!(err(&format!("{}A = :n", "NOT ".repeat(MAX_NESTING + 1))), ExpressionError::TooDeep);
    }

    #[test]
    fn rendering_round_trips() {
        for text in [
            "A = :n",
            "#a <> :s AND (B < :n OR NOT C >= :m)",
            "A BETWEEN :n AND :m OR A IN (:n, :s)",
            "begins_with(#d, :s) AND contains(A, :n) AND attribute_exists(B) AND attribute_not_exists(A)",
            ":n <= A",
            "A.b[3].#d = :s AND contains(#a[0], :n)",
        ] {
            let condition = ok(text);
            let rendered = Expression::render(&condition).unwrap();
            assert_eq!(rendered.parse().unwrap(), condition, "{text} → {}", rendered.text);
        }
    }

    #[test]
    fn rendering_reuses_name_placeholders_and_skips_empty_and() {
        let condition =
            Condition::eq("A", V::N("1".into())).and(Condition::And(vec![])).and(Condition::Exists("A".into()));
        let rendered = Expression::render(&condition).unwrap();
        assert_eq!(rendered.text, "(#n0 = :v0) AND (attribute_exists(#n0))");
        assert_eq!(rendered.names, HashMap::from([("#n0".to_owned(), "A".to_owned())]));
        assert_eq!(Expression::render(&Condition::Or(vec![])), Err(ExpressionError::Unrepresentable));
        assert_eq!(Expression::render(&Condition::And(vec![])), Err(ExpressionError::Unrepresentable));
    }
}
