//! Authentication and authorization for the local KMS emulator.
//!
//! Everything here is pure (no I/O except [`Credentials::from_file`]) so the
//! server can call it on the hot path and the rules can be unit-tested in
//! isolation:
//!
//! - [`sigv4`] verifies AWS Signature Version 4 on incoming requests, and
//!   [`signing_keys`] keeps the signing keys it derives;
//! - [`policy`] evaluates KMS key policies (explicit deny, allow, implicit deny),
//!   with [`condition_values`] for typed condition operators and the facts a
//!   request supplies to conditions;
//! - [`grants`] decides whether a grant permits a request and mints grant ids
//!   and tokens;
//! - [`Credentials`] is the strict-mode credentials file.
//!
//! The emulator does not model IAM identity policies. A principal's account is
//! read from its ARN, and "the account" (`arn:aws:iam::ACCOUNT:root` or a bare
//! account id) in a key policy or grant stands for every principal of that
//! account, which is what the default key policy needs in order to behave like
//! real KMS with permissive IAM.

pub(crate) mod condition_values;
pub(crate) mod grants;
pub(crate) mod policy;
pub(crate) mod signing_keys;
pub(crate) mod sigv4;

// AWS-shaped key policies, and SigV4 checked against AWS's own signer.
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod sigv4_tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// One entry of the strict-mode credentials file.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credential {
    /// The access key id clients sign with (`AKID` in `Credential=AKID/...`).
    pub(crate) access_key_id: String,
    /// The secret half of the key pair; never printed by `Debug`.
    pub(crate) secret_access_key: String,
    /// The IAM principal ARN requests with this key act as, e.g.
    /// `arn:aws:iam::111122223333:user/alice`.
    pub(crate) principal: String,
    /// When set, requests must carry exactly this `x-amz-security-token`.
    #[serde(default)]
    pub(crate) session_token: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets must never reach logs, even at debug level.
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("principal", &self.principal)
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credential {
    /// The secret material in the form [`sigv4::verify`] wants.
    pub(crate) fn to_secret(&self) -> sigv4::Secret {
        sigv4::Secret {
            secret_access_key: self.secret_access_key.clone(),
            session_token: self.session_token.clone(),
            principal: self.principal.clone(),
        }
    }
}

/// Why a credentials file could not be loaded.
#[derive(Debug)]
pub(crate) enum CredentialsError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The text is not the expected JSON shape.
    Parse(String),
    /// The JSON parsed but an entry is unusable (empty field, bad principal
    /// ARN, duplicate access key id).
    Invalid(String),
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::Io(e) => write!(f, "cannot read credentials file: {e}"),
            CredentialsError::Parse(m) => write!(f, "malformed credentials file: {m}"),
            CredentialsError::Invalid(m) => write!(f, "invalid credentials file: {m}"),
        }
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CredentialsError::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    credentials: Vec<Credential>,
}

/// The strict-mode credential store: access key id → [`Credential`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Credentials {
    by_access_key: BTreeMap<String, Credential>,
}

impl Credentials {
    /// Parses `{"credentials": [{"access_key_id", "secret_access_key",
    /// "principal", "session_token"?}, ...]}`.
    ///
    /// Rejects empty fields, principals that are not IAM/STS ARNs with a
    /// 12-digit account, and duplicate access key ids (a duplicate would make
    /// which secret applies depend on file order).
    pub(crate) fn from_json(text: &str) -> Result<Credentials, CredentialsError> {
        let file: CredentialsFile = serde_json::from_str(text).map_err(|e| CredentialsError::Parse(e.to_string()))?;
        let mut by_access_key = BTreeMap::new();
        for (i, c) in file.credentials.into_iter().enumerate() {
            if c.access_key_id.is_empty() {
                return Err(CredentialsError::Invalid(format!("entry {i}: access_key_id is empty")));
            }
            if c.secret_access_key.is_empty() {
                return Err(CredentialsError::Invalid(format!(
                    "entry {i} ({}): secret_access_key is empty",
                    c.access_key_id
                )));
            }
            if account_of_arn(&c.principal).is_none() {
                return Err(CredentialsError::Invalid(format!(
                    "entry {i} ({}): principal {:?} is not an ARN like arn:aws:iam::111122223333:user/name",
                    c.access_key_id, c.principal
                )));
            }
            if matches!(&c.session_token, Some(t) if t.is_empty()) {
                return Err(CredentialsError::Invalid(format!(
                    "entry {i} ({}): session_token is empty; omit it instead",
                    c.access_key_id
                )));
            }
            if by_access_key.contains_key(&c.access_key_id) {
                return Err(CredentialsError::Invalid(format!("duplicate access_key_id {}", c.access_key_id)));
            }
            by_access_key.insert(c.access_key_id.clone(), c);
        }
        Ok(Credentials { by_access_key })
    }

    /// Reads and parses a credentials file (see [`Credentials::from_json`]).
    pub(crate) fn from_file(path: impl AsRef<Path>) -> Result<Credentials, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(CredentialsError::Io)?;
        Credentials::from_json(&text)
    }

    /// The credential for an access key id, if configured.
    pub(crate) fn get(&self, access_key_id: &str) -> Option<&Credential> {
        self.by_access_key.get(access_key_id)
    }

    /// Lookup in the shape [`sigv4::verify`] takes:
    /// `verify(&req, &|akid| creds.secret(akid), now)`.
    pub(crate) fn secret(&self, access_key_id: &str) -> Option<sigv4::Secret> {
        self.get(access_key_id).map(Credential::to_secret)
    }

    /// All credentials, ordered by access key id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.by_access_key.values()
    }
}

/// The account id (12 ASCII digits) of an IAM or STS ARN such as
/// `arn:aws:iam::111122223333:user/alice`, `arn:aws:iam::111122223333:root` or
/// `arn:aws:sts::111122223333:assumed-role/R/s`. Other partitions (`aws-cn`,
/// `aws-us-gov`) are accepted.
pub(crate) fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, _partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if scheme != "arn" || !(service == "iam" || service == "sts") || !region.is_empty() {
        return None;
    }
    if !is_account_id(account) || resource.is_empty() {
        return None;
    }
    Some(account)
}

/// True for a 12-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The root ARN of an account, `arn:aws:iam::ACCOUNT:root`; used for the
/// default key policy and for grants' `IssuingAccount`.
pub(crate) fn account_root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// Whether `caller_arn` (the authenticated principal, in `caller_account`) is
/// covered by `pattern`, a principal as written in a key policy or grant.
///
/// - `*` covers everybody;
/// - a bare account id or `arn:<partition>:iam::ACCOUNT:root` covers every
///   principal of that account (we do not emulate IAM, so the account's IAM
///   policies are assumed to delegate everything);
/// - an IAM role ARN `arn:aws:iam::A:role/[path/]R` also covers that role's
///   sessions `arn:aws:sts::A:assumed-role/R/SESSION`, as in real AWS;
/// - anything else must equal the caller ARN exactly.
pub(crate) fn principal_matches(pattern: &str, caller_arn: &str, caller_account: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" {
        return true;
    }
    if is_account_id(pattern) {
        return pattern == caller_account;
    }
    if let Some(acct) = root_account(pattern) {
        return acct == caller_account;
    }
    if pattern == caller_arn {
        return true;
    }
    role_covers_session(pattern, caller_arn)
}

/// `Some(account)` when `arn` is an account root ARN.
fn root_account(arn: &str) -> Option<&str> {
    let account = account_of_arn(arn)?;
    let rest = arn.rsplit_once(':')?.1;
    let is_iam = arn.split(':').nth(2) == Some("iam");
    (is_iam && rest == "root").then_some(account)
}

/// Role ARN `arn:P:iam::A:role/path/R` vs session `arn:P:sts::A:assumed-role/R/S`.
fn role_covers_session(role_arn: &str, caller_arn: &str) -> bool {
    let (Some(role_acct), Some(caller_acct)) = (account_of_arn(role_arn), account_of_arn(caller_arn)) else {
        return false;
    };
    if role_acct != caller_acct {
        return false;
    }
    let role_partition = role_arn.split(':').nth(1);
    let caller_partition = caller_arn.split(':').nth(1);
    if role_partition != caller_partition {
        return false;
    }
    let Some(role_res) = role_arn.splitn(6, ':').nth(5) else {
        return false;
    };
    let Some(caller_res) = caller_arn.splitn(6, ':').nth(5) else {
        return false;
    };
    let (Some(role_path), Some(session)) = (role_res.strip_prefix("role/"), caller_res.strip_prefix("assumed-role/"))
    else {
        return false;
    };
    if role_arn.split(':').nth(2) != Some("iam") || caller_arn.split(':').nth(2) != Some("sts") {
        return false;
    }
    // Assumed-role ARNs drop the role path, so only the final name compares.
    let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
    match session.split_once('/') {
        Some((name, sess)) => !sess.is_empty() && name == role_name,
        None => false,
    }
}

/// Case-insensitive glob match where `*` matches any run (including empty)
/// and `?` exactly one character; used for actions.
pub(crate) fn glob_match_ignore_case(pattern: &str, text: &str) -> bool {
    glob_match_impl(pattern, text, true)
}

/// Case-sensitive glob (`*`, `?`); used for ARNs and `StringLike`.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    glob_match_impl(pattern, text, false)
}

fn glob_match_impl(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // Runs for every statement of the key policy on every request: the ASCII case (every real
    // action name and ARN) compares bytes in place, with no allocation; only non-ASCII text
    // takes the Unicode case-folding path.
    if pattern == "*" {
        return true;
    }
    if pattern.is_ascii() && text.is_ascii() {
        let eq = |a: u8, b: u8| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
        return glob_match_units(pattern.as_bytes(), text.as_bytes(), b'*', b'?', eq);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case { a == b || a.to_lowercase().eq(b.to_lowercase()) } else { a == b }
    };
    glob_match_units(&p, &t, '*', '?', eq)
}

/// The glob matcher over any unit (bytes for ASCII, chars otherwise): iterative, with a single
/// backtrack point, so it is linear in practice and hostile patterns cannot blow the stack.
fn glob_match_units<T: Copy + PartialEq>(p: &[T], t: &[T], star_unit: T, any: T, eq: impl Fn(T, T) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<usize> = None;
    let mut star_t = 0usize;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any || (p[pi] != star_unit && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_unit {
            star = Some(pi);
            star_t = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            star_t += 1;
            ti = star_t;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == star_unit {
        pi += 1;
    }
    pi == p.len()
}

/// `SystemTime` → whole seconds since the epoch (negative before 1970).
pub(crate) fn unix_seconds(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Random bytes from the aws-lc-rs CSPRNG. Failure means the system RNG is
/// broken, in which case minting predictable ids would be worse than failing.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| "system random number generator failed".to_string())?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    #[test]
    fn credentials_parse_and_lookup() {
        let creds = Credentials::from_json(
            r#"{"credentials": [
                {"access_key_id": "AKIDALICE", "secret_access_key": "s3cr3t", "principal": "arn:aws:iam::111122223333:user/alice"},
                {"access_key_id": "ASIABOB", "secret_access_key": "bobsecret", "principal": "arn:aws:sts::444455556666:assumed-role/R/bob", "session_token": "tok"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(creds.iter().count(), 2);
        let a = creds.get("AKIDALICE").unwrap();
        assert_eq!(account_of_arn(&a.principal), Some("111122223333"));
        assert_eq!(creds.secret("ASIABOB").unwrap().session_token.as_deref(), Some("tok"));
        assert_eq!(account_of_arn(&creds.get("ASIABOB").unwrap().principal), Some("444455556666"));
        assert!(creds.get("nope").is_none());
    }

    #[test]
    fn credentials_debug_redacts_secret() {
        let creds = Credentials::from_json(
            r#"{"credentials": [{"access_key_id": "AKID", "secret_access_key": "TOPSECRETVALUE", "principal": "arn:aws:iam::111122223333:user/a", "session_token": "SESSIONTOKENVALUE"}]}"#,
        )
        .unwrap();
        let dbg = format!("{creds:?} {:?}", creds.secret("AKID").unwrap());
        assert!(!dbg.contains("TOPSECRETVALUE"), "{dbg}");
        assert!(!dbg.contains("SESSIONTOKENVALUE"), "{dbg}");
        assert!(dbg.contains("AKID"));
    }

    #[test]
    fn credentials_reject_bad_entries() {
        for bad in [
            r#"{"credentials": [{"access_key_id": "", "secret_access_key": "s", "principal": "arn:aws:iam::111122223333:user/a"}]}"#,
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "", "principal": "arn:aws:iam::111122223333:user/a"}]}"#,
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "principal": "alice"}]}"#,
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "principal": "arn:aws:iam::1234:user/a"}]}"#,
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "principal": "arn:aws:iam::111122223333:user/a"},
                                {"access_key_id": "A", "secret_access_key": "t", "principal": "arn:aws:iam::111122223333:user/b"}]}"#,
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "principal": "arn:aws:iam::111122223333:user/a", "extra": 1}]}"#,
            r#"{"creds": []}"#,
            "not json",
        ] {
            assert!(Credentials::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_from_file() {
        let dir = std::env::temp_dir().join(format!("kms-local-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("creds.json");
        std::fs::write(
            &path,
            r#"{"credentials": [{"access_key_id": "AKID", "secret_access_key": "s", "principal": "arn:aws:iam::111122223333:root"}]}"#,
        )
        .unwrap();
        let creds = Credentials::from_file(&path).unwrap();
        assert_eq!(account_of_arn(&creds.get("AKID").unwrap().principal), Some("111122223333"));
        assert!(matches!(Credentials::from_file(dir.join("missing.json")), Err(CredentialsError::Io(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn arn_account_parsing() {
        assert_eq!(account_of_arn(ALICE), Some("111122223333"));
        assert_eq!(account_of_arn("arn:aws-cn:iam::111122223333:root"), Some("111122223333"));
        assert_eq!(account_of_arn("arn:aws:kms:us-east-1:111122223333:key/x"), None);
        assert_eq!(account_of_arn("arn:aws:iam::11112222333:user/a"), None);
        assert_eq!(account_of_arn("arn:aws:iam::111122223333:"), None);
    }

    #[test]
    fn principal_matching() {
        assert!(principal_matches("*", ALICE, "111122223333"));
        assert!(principal_matches("111122223333", ALICE, "111122223333"));
        assert!(principal_matches("arn:aws:iam::111122223333:root", ALICE, "111122223333"));
        assert!(!principal_matches("arn:aws:iam::444455556666:root", ALICE, "111122223333"));
        assert!(!principal_matches("444455556666", ALICE, "111122223333"));
        assert!(principal_matches(ALICE, ALICE, "111122223333"));
        assert!(!principal_matches("arn:aws:iam::111122223333:user/bob", ALICE, "111122223333"));
        // Role covers its sessions, including when the role has a path.
        let sess = "arn:aws:sts::111122223333:assumed-role/Admin/s1";
        assert!(principal_matches("arn:aws:iam::111122223333:role/Admin", sess, "111122223333"));
        assert!(principal_matches("arn:aws:iam::111122223333:role/ops/Admin", sess, "111122223333"));
        assert!(!principal_matches("arn:aws:iam::111122223333:role/Other", sess, "111122223333"));
        assert!(!principal_matches("arn:aws:iam::444455556666:role/Admin", sess, "111122223333"));
        // The user named "root" is not special.
        assert!(!principal_matches("arn:aws:iam::111122223333:user/root", ALICE, "111122223333"));
    }

    #[test]
    fn globbing() {
        assert!(glob_match_ignore_case("kms:Gen*", "kms:GenerateDataKey"));
        assert!(glob_match_ignore_case("KMS:ENCRYPT", "kms:Encrypt"));
        assert!(glob_match_ignore_case("kms:Encrypt?", "kms:Encrypts"));
        assert!(!glob_match_ignore_case("kms:Encrypt?", "kms:Encrypt"));
        assert!(glob_match_ignore_case("*", ""));
        assert!(glob_match_ignore_case("a*b*c", "aXXbYYc"));
        assert!(!glob_match_ignore_case("a*b*c", "aXXbYY"));
        assert!(glob_match("arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:111122223333:key/abc"));
        assert!(!glob_match("Arn:*", "arn:x"));
        assert!(glob_match_ignore_case("kms:*", "KMS:Encrypt"));
        assert!(!glob_match_ignore_case("kms:Gen*", "kms"));
        assert!(glob_match_ignore_case("kms:Gen*", "kms:Gen"));
        assert!(!glob_match_ignore_case("kms:Encrypt", "kms:Decrypt"));
        assert!(glob_match_ignore_case("kms:ü*", "KMS:Ü-x"));
        assert!(glob_match("key/*", "key/é"));
        assert!(!glob_match("key/é*", "key/e"));
        // Pathological pattern stays fast.
        let text = "a".repeat(5000);
        assert!(!glob_match(&format!("{}b", "*a".repeat(50)), &text));
    }
}
