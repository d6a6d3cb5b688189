//! KMS key policy parsing, validation and evaluation.
//!
//! Evaluation follows IAM's order for a single resource policy: any matching
//! `Deny` statement wins ([`Decision::ExplicitDeny`]); otherwise any matching
//! `Allow` gives [`Decision::Allow`]; otherwise [`Decision::ImplicitDeny`].
//!
//! Parse once with [`Policy::parse`] and cache the result: evaluation then
//! does no JSON work, which matters at thousands of requests per second.
//! [`evaluate`] is the convenience form that parses on every call.
//!
//! Supported statement elements: `Sid`, `Effect`, `Principal`/`NotPrincipal`,
//! `Action`/`NotAction`, `Resource`/`NotResource` and `Condition` with the
//! `String*`, `Arn*`, `Numeric*`, `Date*`, `Bool`, `IpAddress`/`NotIpAddress`
//! and `Null` operators, the `ForAnyValue:` and `ForAllValues:` set
//! qualifiers and the `IfExists` suffix.
//!
//! Condition keys known here: `kms:EncryptionContext:<key>`,
//! `kms:EncryptionContextKeys`, `kms:CallerAccount`, `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `kms:GrantIsForAWSResource` (always `false`) and
//! `kms:ViaService` (never present). Every other key is asked of the
//! request's [`FactSource`]; a key nobody can answer for is *unknown*, and a
//! condition on it fails closed: a `Deny` statement applies, an `Allow`
//! statement does not. (Treating it as absent would let `StringEquals` on,
//! say, `aws:SourceIp` quietly switch a `Deny` off.)

use std::collections::BTreeMap;

use serde_json::Value;

use super::condition_values::{FactSource, Lookup, date, ip_in_range, number};
use super::{glob_match, glob_match_ignore_case, is_account_id, principal_matches};

/// Largest key policy KMS accepts (the 32 KB key-policy quota).
pub(crate) const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The facts about one request that a key policy can test.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestContext<'a> {
    /// Authenticated caller, e.g. `arn:aws:iam::111122223333:user/alice`.
    pub(crate) principal_arn: &'a str,
    /// The caller's 12-digit account id.
    pub(crate) caller_account: &'a str,
    /// IAM action, e.g. `kms:Encrypt`. ReEncrypt is authorized as
    /// `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the
    /// destination key, as in real KMS.
    pub(crate) action: &'a str,
    /// ARN of the KMS key the request acts on.
    pub(crate) resource_arn: &'a str,
    /// The request's encryption context, when the operation takes one.
    pub(crate) encryption_context: Option<&'a BTreeMap<String, String>>,
    /// Everything else a condition may test (transport, source address,
    /// request parameters, key properties). `None`: such keys are unknown,
    /// so conditions on them fail closed.
    pub(crate) facts: Option<&'a dyn FactSource>,
}

/// Outcome of evaluating a policy for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Decision {
    /// At least one `Allow` statement matched and no `Deny` did.
    Allow,
    /// A `Deny` statement matched; nothing can override it.
    ExplicitDeny,
    /// No statement matched (a grant may still allow the request).
    ImplicitDeny,
}

impl Decision {
    /// True only for [`Decision::Allow`].
    pub(crate) fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Checks a policy document for `PutKeyPolicy`/`CreateKey`. The `Err` text is
/// the message for a `MalformedPolicyDocumentException`.
///
/// Rejects: more than 32 KiB, invalid JSON, a missing or empty `Statement`,
/// an `Effect` other than `Allow`/`Deny`, statements without an action or
/// principal, and malformed principals or conditions. It does not check that
/// principals exist, which would break tools that create policies for
/// principals this emulator has never heard of.
pub(crate) fn validate(policy_json: &str) -> Result<(), String> {
    if policy_json.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes ({} bytes).",
            policy_json.len()
        ));
    }
    Policy::parse(policy_json).map(|_| ())
}

/// The policy KMS attaches to a key created without one: the account (and so,
/// through IAM, every principal in it) may do anything with the key. The
/// layout matches what real KMS returns from `GetKeyPolicy`.
pub(crate) fn default_key_policy(account: &str) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

/// Whether `policy` would still let `principal_arn` call `kms:PutKeyPolicy`
/// on `key_arn`; KMS refuses policies that fail this unless
/// `BypassPolicyLockoutSafetyCheck` is set ("The new key policy will not
/// allow you to update the key policy in the future."). Condition keys (source
/// address, transport, time, key properties) are answered from `facts`, the
/// facts of the request that sets the policy, as KMS does; without facts,
/// conditions on anything but the caller fail closed.
pub(crate) fn allows_policy_update_with(
    policy: &Policy,
    principal_arn: &str,
    caller_account: &str,
    key_arn: &str,
    facts: Option<&dyn FactSource>,
) -> bool {
    policy
        .evaluate(&RequestContext {
            principal_arn,
            caller_account,
            action: "kms:PutKeyPolicy",
            resource_arn: key_arn,
            encryption_context: None,
            facts,
        })
        .is_allowed()
}

/// A parsed key policy, ready for repeated evaluation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Policy {
    /// The `Version` element, if present.
    pub(crate) version: Option<String>,
    /// The `Id` element, if present.
    pub(crate) id: Option<String>,
    statements: Vec<Statement>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq)]
enum Who {
    /// `Principal`: the statement applies to these principals.
    Principal(Principals),
    /// `NotPrincipal`: the statement applies to everyone except these.
    NotPrincipal(Principals),
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Principals {
    /// `*`, account ids, and AWS principal ARNs.
    aws: Vec<String>,
}

impl Principals {
    fn contains(&self, ctx: &RequestContext<'_>) -> bool {
        // Service, Federated and CanonicalUser principals never match: our
        // callers are always IAM principals.
        self.aws.iter().any(|p| principal_matches(p, ctx.principal_arn, ctx.caller_account))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Matcher {
    Is(Vec<String>),
    Not(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
struct Statement {
    sid: Option<String>,
    effect: Effect,
    who: Who,
    action: Matcher,
    resource: Matcher,
    conditions: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
enum Op {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    Bool,
    Null,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    IpAddress,
    NotIpAddress,
    /// An operator we do not implement; the statement fails closed.
    Unknown(String),
}

impl Op {
    /// Negated operators hold when no request value matches a policy value,
    /// and (as in IAM) when the key is absent.
    fn negated(&self) -> bool {
        matches!(
            self,
            Op::StringNotEquals
                | Op::StringNotEqualsIgnoreCase
                | Op::StringNotLike
                | Op::NumericNotEquals
                | Op::DateNotEquals
                | Op::NotIpAddress
        )
    }
}

/// Three-valued outcome of one condition: a condition on an unknown key is
/// neither true nor false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl From<bool> for Truth {
    fn from(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    op: Op,
    qualifier: SetQualifier,
    if_exists: bool,
    /// Condition key, lowercased (condition keys are case-insensitive).
    key: String,
    values: Vec<String>,
}

fn malformed(msg: &str) -> String {
    msg.to_string()
}

impl Policy {
    /// Parses a key policy document. The `Err` text suits a
    /// `MalformedPolicyDocumentException` message. (Size is checked by
    /// [`validate`], not here.)
    pub(crate) fn parse(policy_json: &str) -> Result<Policy, String> {
        let doc: Value = serde_json::from_str(policy_json).map_err(|e| format!("Policy is not valid JSON: {e}"))?;
        let obj = doc.as_object().ok_or_else(|| malformed("Policy must be a JSON object."))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
                return Err(format!("Policy contains an unsupported element: {k}"));
            }
        }
        let version = match obj.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(_) => {
                return Err(malformed("Policy Version must be \"2012-10-17\" or \"2008-10-17\"."));
            }
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(malformed("Policy Id must be a string.")),
        };
        let raw_statements: Vec<&Value> = match obj.get("Statement") {
            None => {
                return Err(malformed("Policy is missing the required Statement element."));
            }
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => {
                return Err(malformed("Statement must be an object or a list of objects."));
            }
        };
        if raw_statements.is_empty() {
            return Err(malformed("Policy must contain at least one statement."));
        }
        let statements = raw_statements.into_iter().map(parse_statement).collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { version, id, statements })
    }

    /// Evaluates the policy for one request (see the module docs for the
    /// combining rule).
    pub(crate) fn evaluate(&self, ctx: &RequestContext<'_>) -> Decision {
        let mut allowed = false;
        for st in &self.statements {
            if st.applies(ctx) {
                match st.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
        if allowed { Decision::Allow } else { Decision::ImplicitDeny }
    }

    /// Number of statements.
    #[cfg(test)]
    pub(crate) fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Statement ids (`Sid`), in document order; `None` for unnamed ones.
    #[cfg(test)]
    pub(crate) fn statement_ids(&self) -> Vec<Option<&str>> {
        self.statements.iter().map(|s| s.sid.as_deref()).collect()
    }
}

fn parse_statement(v: &Value) -> Result<Statement, String> {
    let obj = v.as_object().ok_or_else(|| malformed("Each policy statement must be a JSON object."))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(format!("Policy statement contains an unsupported element: {k}"));
        }
    }
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("Statement Sid must be a string.")),
    };
    let effect = match obj.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(_) => {
            return Err(malformed(
                "Policy contains a statement with an invalid Effect; it must be \"Allow\" or \"Deny\".",
            ));
        }
        None => return Err(malformed("Policy contains a statement with no Effect.")),
    };
    let who = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(p), None) => Who::Principal(parse_principals(p)?),
        (None, Some(p)) => Who::NotPrincipal(parse_principals(p)?),
        (Some(_), Some(_)) => {
            return Err(malformed("A policy statement cannot have both Principal and NotPrincipal."));
        }
        (None, None) => {
            return Err(malformed("Policy contains a statement with no Principal; key policies must name one."));
        }
    };
    let action = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => Matcher::Is(string_list(a, "Action")?),
        (None, Some(a)) => Matcher::Not(string_list(a, "NotAction")?),
        (Some(_), Some(_)) => {
            return Err(malformed("A policy statement cannot have both Action and NotAction."));
        }
        (None, None) => return Err(malformed("Policy contains a statement with no Action.")),
    };
    let resource = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(r), None) => Matcher::Is(string_list(r, "Resource")?),
        (None, Some(r)) => Matcher::Not(string_list(r, "NotResource")?),
        (Some(_), Some(_)) => {
            return Err(malformed("A policy statement cannot have both Resource and NotResource."));
        }
        // In a key policy the only resource is the key itself, so a missing
        // Resource can only mean "this key".
        (None, None) => Matcher::Is(vec!["*".to_string()]),
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c)?,
    };
    Ok(Statement { sid, effect, who, action, resource, conditions })
}

fn parse_principals(v: &Value) -> Result<Principals, String> {
    let invalid = || malformed("Policy contains a statement with one or more invalid principals.");
    match v {
        Value::String(s) if s == "*" => Ok(Principals { aws: vec!["*".to_string()] }),
        Value::Object(map) if !map.is_empty() => {
            let mut out = Principals::default();
            for (kind, val) in map {
                let list = string_list(val, "Principal").map_err(|_| invalid())?;
                match kind.as_str() {
                    "AWS" => {
                        for p in list {
                            if !plausible_aws_principal(&p) {
                                return Err(invalid());
                            }
                            out.aws.push(p);
                        }
                    }
                    // Accepted so real-world policies load, but such
                    // principals never match an emulator caller.
                    "Service" | "Federated" | "CanonicalUser" => {}
                    _ => return Err(invalid()),
                }
            }
            Ok(out)
        }
        _ => Err(invalid()),
    }
}

/// `*`, an account id, an ARN, or an IAM unique id (what IAM leaves in a
/// policy after the named principal is deleted).
fn plausible_aws_principal(p: &str) -> bool {
    p == "*"
        || is_account_id(p)
        || (p.starts_with("arn:") && p.split(':').count() >= 6)
        || (p.len() >= 16 && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// A string or a non-empty list of strings.
fn string_list(v: &Value, element: &str) -> Result<Vec<String>, String> {
    let err = || format!("Policy statement element {element} must be a string or a list of strings.");
    match v {
        Value::String(s) if !s.is_empty() => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| match x {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                _ => Err(err()),
            })
            .collect(),
        _ => Err(err()),
    }
}

fn parse_conditions(v: &Value) -> Result<Vec<Condition>, String> {
    let bad = || malformed("Policy contains a statement with one or more invalid conditions.");
    let ops = v.as_object().ok_or_else(bad)?;
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let keys = keys.as_object().ok_or_else(bad)?;
        let (qualifier, rest) = if let Some(r) = strip_prefix_ignore_case(op_name, "ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else if let Some(r) = strip_prefix_ignore_case(op_name, "ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else {
            (SetQualifier::Single, op_name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let op = match base {
            "StringEquals" => Op::StringEquals,
            "StringNotEquals" => Op::StringNotEquals,
            "StringEqualsIgnoreCase" => Op::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Op::StringNotEqualsIgnoreCase,
            // IAM's ArnEquals and ArnLike are the same operator: both take
            // wildcards in every ARN segment.
            "StringLike" | "ArnLike" | "ArnEquals" => Op::StringLike,
            "StringNotLike" | "ArnNotLike" | "ArnNotEquals" => Op::StringNotLike,
            "Bool" => Op::Bool,
            "Null" if !if_exists => Op::Null,
            "NumericEquals" => Op::NumericEquals,
            "NumericNotEquals" => Op::NumericNotEquals,
            "NumericLessThan" => Op::NumericLessThan,
            "NumericLessThanEquals" => Op::NumericLessThanEquals,
            "NumericGreaterThan" => Op::NumericGreaterThan,
            "NumericGreaterThanEquals" => Op::NumericGreaterThanEquals,
            "DateEquals" => Op::DateEquals,
            "DateNotEquals" => Op::DateNotEquals,
            "DateLessThan" => Op::DateLessThan,
            "DateLessThanEquals" => Op::DateLessThanEquals,
            "DateGreaterThan" => Op::DateGreaterThan,
            "DateGreaterThanEquals" => Op::DateGreaterThanEquals,
            "IpAddress" => Op::IpAddress,
            "NotIpAddress" => Op::NotIpAddress,
            _ => Op::Unknown(op_name.clone()),
        };
        for (key, vals) in keys {
            let values = match vals {
                Value::Array(a) => a.iter().map(scalar_text).collect::<Option<Vec<_>>>(),
                other => scalar_text(other).map(|s| vec![s]),
            }
            .ok_or_else(bad)?;
            if values.is_empty() {
                return Err(bad());
            }
            out.push(Condition { op: op.clone(), qualifier, if_exists, key: key.to_ascii_lowercase(), values });
        }
    }
    Ok(out)
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// IAM accepts `true`, `"true"` and `5` alike as condition values.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Statement {
    fn applies(&self, ctx: &RequestContext<'_>) -> bool {
        let who = match &self.who {
            Who::Principal(p) => p.contains(ctx),
            Who::NotPrincipal(p) => !p.contains(ctx),
        };
        if !who {
            return false;
        }
        let action = match &self.action {
            Matcher::Is(list) => list.iter().any(|p| glob_match_ignore_case(p, ctx.action)),
            Matcher::Not(list) => !list.iter().any(|p| glob_match_ignore_case(p, ctx.action)),
        };
        if !action {
            return false;
        }
        let resource = match &self.resource {
            Matcher::Is(list) => list.iter().any(|p| glob_match(p, ctx.resource_arn)),
            Matcher::Not(list) => !list.iter().any(|p| glob_match(p, ctx.resource_arn)),
        };
        if !resource {
            return false;
        }
        // Conditions are ANDed: one that is definitely false switches the
        // statement off whatever the others say. Otherwise anything we cannot
        // evaluate fails closed: an Allow we cannot evaluate does not allow,
        // and a Deny we cannot evaluate still denies.
        let mut unknown = None;
        for c in &self.conditions {
            match c.eval(ctx) {
                Truth::False => return false,
                Truth::True => {}
                Truth::Unknown => unknown = Some(c),
            }
        }
        if let Some(c) = unknown {
            tracing::debug!(
                key = %c.key,
                operator = ?c.op,
                sid = self.sid.as_deref().unwrap_or(""),
                "key policy condition cannot be evaluated here; failing closed"
            );
            return self.effect == Effect::Deny;
        }
        true
    }
}

/// Values of a condition key for this request.
fn context_values(key: &str, ctx: &RequestContext<'_>) -> Lookup {
    const EC_PREFIX: &str = "kms:encryptioncontext:";
    let present = |v: Vec<String>| {
        if v.is_empty() { Lookup::Absent } else { Lookup::Present(v) }
    };
    match key {
        "kms:calleraccount" | "aws:principalaccount" => Lookup::Present(vec![ctx.caller_account.to_string()]),
        "aws:principalarn" => Lookup::Present(vec![ctx.principal_arn.to_string()]),
        // Emulated callers are never AWS services.
        "kms:grantisforawsresource" => Lookup::Present(vec!["false".to_string()]),
        "kms:viaservice" => Lookup::Absent,
        "kms:encryptioncontextkeys" => match ctx.encryption_context {
            Some(ec) => present(ec.keys().cloned().collect()),
            None => Lookup::Absent,
        },
        k if k.starts_with(EC_PREFIX) => {
            // The context key inside the condition key is matched
            // case-insensitively (condition keys are); its value is not.
            let wanted = &k[EC_PREFIX.len()..];
            match ctx.encryption_context {
                Some(ec) => {
                    present(ec.iter().filter(|(ek, _)| ek.to_lowercase() == wanted).map(|(_, v)| v.clone()).collect())
                }
                None => Lookup::Absent,
            }
        }
        _ => ctx.facts.map_or(Lookup::Unknown, |f| f.lookup(key)),
    }
}

impl Condition {
    fn eval(&self, ctx: &RequestContext<'_>) -> Truth {
        if matches!(self.op, Op::Unknown(_)) {
            return Truth::Unknown;
        }
        let found = match context_values(&self.key, ctx) {
            Lookup::Unknown => return Truth::Unknown,
            Lookup::Absent => None,
            Lookup::Present(v) => Some(v).filter(|v| !v.is_empty()),
        };
        self.holds(found).into()
    }

    fn holds(&self, found: Option<Vec<String>>) -> bool {
        if self.op == Op::Null {
            // Null:"true" asks "is the key absent?".
            let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return want_absent == found.is_none();
        }
        let negated = self.op.negated();
        let Some(found) = found else {
            return match self.qualifier {
                // Vacuously true: every one of zero values matches.
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => self.if_exists,
                // IAM: a missing key fails positive operators and satisfies
                // negated ones; IfExists makes it satisfy both.
                SetQualifier::Single => self.if_exists || negated,
            };
        };
        // `positive(v)`: request value v matches at least one policy value
        // under the operator's un-negated form.
        let positive = |v: &str| self.values.iter().any(|p| self.matches_one(p, v));
        let pass = |v: &str| if negated { !positive(v) } else { positive(v) };
        match self.qualifier {
            SetQualifier::ForAllValues => found.iter().all(|v| pass(v)),
            SetQualifier::ForAnyValue => found.iter().any(|v| pass(v)),
            SetQualifier::Single => {
                if negated {
                    // "Not equal to any listed value" for every value given.
                    found.iter().all(|v| !positive(v))
                } else {
                    found.iter().any(|v| positive(v))
                }
            }
        }
    }

    fn matches_one(&self, policy_value: &str, request_value: &str) -> bool {
        match self.op {
            Op::StringEquals | Op::StringNotEquals => policy_value == request_value,
            Op::StringEqualsIgnoreCase | Op::StringNotEqualsIgnoreCase => {
                policy_value.to_lowercase() == request_value.to_lowercase()
            }
            Op::StringLike | Op::StringNotLike => glob_match(policy_value, request_value),
            Op::Bool => policy_value.eq_ignore_ascii_case(request_value),
            Op::NumericEquals | Op::NumericNotEquals => {
                compare(number(request_value), number(policy_value), |r, p| r == p)
            }
            Op::NumericLessThan => compare(number(request_value), number(policy_value), |r, p| r < p),
            Op::NumericLessThanEquals => compare(number(request_value), number(policy_value), |r, p| r <= p),
            Op::NumericGreaterThan => compare(number(request_value), number(policy_value), |r, p| r > p),
            Op::NumericGreaterThanEquals => compare(number(request_value), number(policy_value), |r, p| r >= p),
            Op::DateEquals | Op::DateNotEquals => compare(date(request_value), date(policy_value), |r, p| r == p),
            Op::DateLessThan => compare(date(request_value), date(policy_value), |r, p| r < p),
            Op::DateLessThanEquals => compare(date(request_value), date(policy_value), |r, p| r <= p),
            Op::DateGreaterThan => compare(date(request_value), date(policy_value), |r, p| r > p),
            Op::DateGreaterThanEquals => compare(date(request_value), date(policy_value), |r, p| r >= p),
            Op::IpAddress | Op::NotIpAddress => ip_in_range(policy_value, request_value),
            Op::Null | Op::Unknown(_) => false,
        }
    }
}

/// Applies `cmp(request, policy)` when both sides parse; a value that does
/// not parse matches nothing.
fn compare<T>(request: Option<T>, policy: Option<T>, cmp: impl Fn(T, T) -> bool) -> bool {
    match (request, policy) {
        (Some(r), Some(p)) => cmp(r, p),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "111122223333";
    const OTHER: &str = "444455556666";
    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const BOB: &str = "arn:aws:iam::111122223333:user/bob";
    const MALLORY: &str = "arn:aws:iam::444455556666:user/mallory";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ctx<'a>(
        principal: &'a str,
        account: &'a str,
        action: &'a str,
        ec: Option<&'a BTreeMap<String, String>>,
    ) -> RequestContext<'a> {
        RequestContext {
            principal_arn: principal,
            caller_account: account,
            action,
            resource_arn: KEY,
            encryption_context: ec,
            facts: None,
        }
    }

    fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn policy(statements: &str) -> Policy {
        Policy::parse(&format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)).unwrap()
    }

    #[test]
    fn default_policy_shape_and_semantics() {
        let text = default_key_policy(ACCT);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["Version"], "2012-10-17");
        assert_eq!(v["Id"], "key-default-1");
        let st = &v["Statement"][0];
        assert_eq!(st["Sid"], "Enable IAM User Permissions");
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(st["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
        assert_eq!(st["Action"], "kms:*");
        assert_eq!(st["Resource"], "*");
        validate(&text).unwrap();

        let p = Policy::parse(&text).unwrap();
        for who in [ALICE, BOB, "arn:aws:iam::111122223333:root", "arn:aws:sts::111122223333:assumed-role/R/s"] {
            for action in ["kms:Encrypt", "kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"] {
                assert_eq!(p.evaluate(&ctx(who, ACCT, action, None)), Decision::Allow, "{who} {action}");
            }
        }
        assert_eq!(p.evaluate(&ctx(MALLORY, OTHER, "kms:Decrypt", None)), Decision::ImplicitDeny);
        assert!(allows_policy_update_with(&p, ALICE, ACCT, KEY, None));
        assert!(!allows_policy_update_with(&p, MALLORY, OTHER, KEY, None));
    }

    #[test]
    fn explicit_deny_wins() {
        let p = policy(&format!(
            r#"[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},
               {{"Sid":"NoBobDecrypt","Effect":"Deny","Principal":{{"AWS":"{BOB}"}},"Action":"kms:Decrypt","Resource":"*"}}]"#
        ));
        assert_eq!(p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)), Decision::Allow);
        assert_eq!(p.evaluate(&ctx(BOB, ACCT, "kms:Decrypt", None)), Decision::ExplicitDeny);
        assert_eq!(p.evaluate(&ctx(BOB, ACCT, "kms:Encrypt", None)), Decision::Allow);
        assert_eq!(p.statement_ids(), vec![None, Some("NoBobDecrypt")]);
    }

    #[test]
    fn principal_forms() {
        // Bare account id, list form, cross-account ARN, wildcard.
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":["{OTHER}","{ALICE}"]}},"Action":"kms:Encrypt","Resource":"*"}}"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)).is_allowed());
        assert!(!p.evaluate(&ctx(BOB, ACCT, "kms:Encrypt", None)).is_allowed());
        assert!(p.evaluate(&ctx(MALLORY, OTHER, "kms:Encrypt", None)).is_allowed());

        let p = policy(r#"{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"}"#);
        assert!(p.evaluate(&ctx(MALLORY, OTHER, "kms:Encrypt", None)).is_allowed());
        let p = policy(r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*"}"#);
        assert!(p.evaluate(&ctx(MALLORY, OTHER, "kms:Encrypt", None)).is_allowed());

        // Service principals are accepted but never match an IAM caller.
        let p = policy(
            r#"{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:*","Resource":"*"}"#,
        );
        assert_eq!(p.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)), Decision::ImplicitDeny);
    }

    #[test]
    fn not_principal() {
        let p = policy(&format!(
            r#"[{{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}},
               {{"Effect":"Deny","NotPrincipal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*"}}]"#
        ));
        assert_eq!(p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)), Decision::Allow);
        assert_eq!(p.evaluate(&ctx(BOB, ACCT, "kms:Decrypt", None)), Decision::ExplicitDeny);
    }

    #[test]
    fn wildcard_actions() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":["kms:Gen*","kms:Encrypt?","KMS:describekey"],"Resource":"*"}}"#
        ));
        let ok = |a: &str| p.evaluate(&ctx(ALICE, ACCT, a, None)).is_allowed();
        assert!(ok("kms:GenerateDataKey"));
        assert!(ok("kms:GenerateDataKeyWithoutPlaintext"));
        assert!(ok("kms:generatemac"));
        assert!(!ok("kms:Encrypt"), "? needs exactly one character");
        assert!(ok("kms:EncryptX"));
        assert!(ok("kms:DescribeKey"), "action names are case-insensitive");
        assert!(!ok("kms:Decrypt"));

        let p = policy(&format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"*","Resource":"*"}}"#));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Anything", None)).is_allowed());
    }

    #[test]
    fn not_action_and_not_resource() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"NotAction":["kms:ScheduleKeyDeletion","kms:Put*"],"Resource":"*"}}"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)).is_allowed());
        assert!(!p.evaluate(&ctx(ALICE, ACCT, "kms:ScheduleKeyDeletion", None)).is_allowed());
        assert!(!p.evaluate(&ctx(ALICE, ACCT, "kms:PutKeyPolicy", None)).is_allowed());

        let p = policy(&format!(
            r#"[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:*","Resource":"arn:aws:kms:*:{ACCT}:key/*"}},
               {{"Effect":"Deny","Principal":"*","Action":"kms:*","NotResource":"arn:aws:kms:us-east-1:*"}}]"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)).is_allowed());
        let mut c = ctx(ALICE, ACCT, "kms:Encrypt", None);
        c.resource_arn = "arn:aws:kms:eu-west-1:111122223333:key/x";
        assert_eq!(p.evaluate(&c), Decision::ExplicitDeny);
        c.resource_arn = "arn:aws:kms:us-east-1:444455556666:key/x";
        assert_eq!(p.evaluate(&c), Decision::ImplicitDeny);
    }

    #[test]
    fn encryption_context_string_equals() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringEquals":{{"kms:EncryptionContext:Department":["IT","Sales"]}}}}}}"#
        ));
        let ok = |e: Option<&BTreeMap<String, String>>| p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", e)).is_allowed();
        assert!(ok(Some(&ec(&[("Department", "IT")]))));
        assert!(ok(Some(&ec(&[("Department", "Sales"), ("Project", "x")]))));
        // Condition key name is case-insensitive, value is not.
        assert!(ok(Some(&ec(&[("department", "IT")]))));
        assert!(!ok(Some(&ec(&[("Department", "it")]))));
        assert!(!ok(Some(&ec(&[("Department", "HR")]))));
        assert!(!ok(Some(&ec(&[("Project", "IT")]))));
        assert!(!ok(None));

        // Condition keys themselves are case-insensitive.
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringEquals":{{"KMS:ENCRYPTIONCONTEXT:Department":"IT"}}}}}}"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", Some(&ec(&[("Department", "IT")])))).is_allowed());
    }

    #[test]
    fn negated_and_if_exists() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringNotEquals":{{"kms:EncryptionContext:Stage":"prod"}}}}}}"#
        ));
        let ok = |e: Option<&BTreeMap<String, String>>| p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", e)).is_allowed();
        assert!(ok(Some(&ec(&[("Stage", "dev")]))));
        assert!(!ok(Some(&ec(&[("Stage", "prod")]))));
        assert!(ok(None), "negated operator on an absent key holds");

        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringEqualsIfExists":{{"kms:EncryptionContext:Stage":"dev"}}}}}}"#
        ));
        let ok = |e: Option<&BTreeMap<String, String>>| p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", e)).is_allowed();
        assert!(ok(None));
        assert!(ok(Some(&ec(&[("Stage", "dev")]))));
        assert!(!ok(Some(&ec(&[("Stage", "prod")]))));

        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringEqualsIgnoreCase":{{"kms:EncryptionContext:Stage":"DEV"}},
                              "StringLike":{{"aws:PrincipalArn":"arn:aws:iam::*:user/al*"}},
                              "StringNotLike":{{"kms:EncryptionContext:Stage":"*x*"}}}}}}"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", Some(&ec(&[("Stage", "dev")])))).is_allowed());
        assert!(!p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", Some(&ec(&[("Stage", "devx")])))).is_allowed());
    }

    #[test]
    fn encryption_context_keys_set_operators() {
        let all = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Encrypt","Resource":"*",
                "Condition":{{"ForAllValues:StringEquals":{{"kms:EncryptionContextKeys":["Department","Project"]}}}}}}"#
        ));
        let ok = |e: Option<&BTreeMap<String, String>>| all.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", e)).is_allowed();
        assert!(ok(Some(&ec(&[("Department", "a")]))));
        assert!(ok(Some(&ec(&[("Department", "a"), ("Project", "b")]))));
        assert!(!ok(Some(&ec(&[("Department", "a"), ("Other", "b")]))));
        // Keys are compared case-sensitively in kms:EncryptionContextKeys.
        assert!(!ok(Some(&ec(&[("department", "a")]))));
        // ForAllValues over an empty set is vacuously true (a known IAM pitfall).
        assert!(ok(None));

        let any = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Encrypt","Resource":"*",
                "Condition":{{"ForAnyValue:StringLike":{{"kms:EncryptionContextKeys":"Proj*"}}}}}}"#
        ));
        let ok = |e: Option<&BTreeMap<String, String>>| any.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", e)).is_allowed();
        assert!(ok(Some(&ec(&[("Department", "a"), ("Project", "b")]))));
        assert!(!ok(Some(&ec(&[("Department", "a")]))));
        assert!(!ok(None));

        // Null: require some encryption context.
        let null = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:Encrypt","Resource":"*",
                "Condition":{{"Null":{{"kms:EncryptionContextKeys":"false"}}}}}}"#
        ));
        assert!(null.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", Some(&ec(&[("a", "b")])))).is_allowed());
        assert!(!null.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", Some(&ec(&[])))).is_allowed());
        assert!(!null.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)).is_allowed());
    }

    #[test]
    fn caller_account_and_bool_keys() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringEquals":{{"kms:CallerAccount":"{ACCT}"}}, "Bool":{{"kms:GrantIsForAWSResource":false}}}}}}"#
        ));
        assert!(p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)).is_allowed());
        assert!(!p.evaluate(&ctx(MALLORY, OTHER, "kms:Decrypt", None)).is_allowed());

        let p = policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                "Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}"#,
        );
        assert!(!p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)).is_allowed());

        // kms:ViaService is never present.
        let p = policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                "Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}"#,
        );
        assert!(!p.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)).is_allowed());
    }

    #[test]
    fn unknown_operator_fails_closed() {
        let allow = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:*","Resource":"*",
                "Condition":{{"DateGreaterThan":{{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}}}}"#
        ));
        assert_eq!(allow.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)), Decision::ImplicitDeny);

        let deny = policy(&format!(
            r#"[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"kms:*","Resource":"*"}},
               {{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                 "Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}]"#
        ));
        assert_eq!(deny.evaluate(&ctx(ALICE, ACCT, "kms:Decrypt", None)), Decision::ExplicitDeny);
        assert_eq!(deny.evaluate(&ctx(ALICE, ACCT, "kms:Encrypt", None)), Decision::Allow);
    }

    #[test]
    fn validation_errors() {
        assert!(validate("not json").is_err());
        assert!(validate("[]").is_err());
        assert!(validate(r#"{"Version":"2012-10-17"}"#).is_err());
        assert!(validate(r#"{"Statement":[]}"#).is_err());
        let st = |s: &str| validate(&format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#));
        assert!(st(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#).is_ok());
        assert!(st(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*"}"#).is_ok(), "Resource is optional");
        assert!(st(r#"{"Effect":"Permit","Principal":"*","Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Principal":"*","Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Effect":"Allow","Principal":"*","Resource":"*"}"#).is_err());
        assert!(
            st(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:X","Resource":"*"}"#).is_err()
        );
        assert!(st(r#"{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"kms:*","Resource":"*"}"#).is_err());
        assert!(st(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":"x"}"#).is_err());
        assert!(st(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Extra":1}"#).is_err());
        assert!(
            validate(r#"{"Version":"2099-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#)
                .is_err()
        );
        // A single statement object (not a list) is fine.
        assert!(validate(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#).is_ok());

        let big = format!(
            r#"{{"Statement":[{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"kms:*"}}]}}"#,
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert!(validate(&big).unwrap_err().contains("maximum size"));
    }
}
