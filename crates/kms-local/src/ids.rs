//! Identifiers: key ids, ARNs, alias names, and the forms each operation accepts.

use crate::error::{KmsError, KmsResult};

/// Which key identifier forms an operation accepts (from the KMS model's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyIdForms {
    /// Key id, key ARN, alias name or alias ARN.
    AnyForm,
    /// Key id or key ARN only.
    KeyOnly,
}

/// A key reference after parsing, before lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A bare key id in the caller's account and Region.
    Id(String),
    /// A key ARN.
    #[allow(missing_docs)]
    KeyArn { region: String, account: String, key_id: String },
    /// An alias name (`alias/...`) in the caller's account and Region.
    AliasName(String),
    /// An alias ARN.
    #[allow(missing_docs)]
    AliasArn { region: String, account: String, name: String },
}

/// Parses a `KeyId` request field, enforcing the operation's accepted forms.
pub(crate) fn parse_key_ref(raw: &str, forms: KeyIdForms) -> KmsResult<KeyRef> {
    if raw.is_empty() || raw.len() > 2048 {
        return Err(KmsError::constraint("keyId", "Member must have length between 1 and 2048"));
    }
    let parsed = if let Some(rest) = raw.strip_prefix("arn:") {
        parse_arn(rest, raw)?
    } else if raw.starts_with("alias/") {
        KeyRef::AliasName(raw.to_owned())
    } else {
        if !is_key_id(raw) {
            return Err(KmsError::not_found(format!("Invalid keyId '{raw}'")));
        }
        KeyRef::Id(raw.to_owned())
    };
    if forms == KeyIdForms::KeyOnly && matches!(parsed, KeyRef::AliasName(_) | KeyRef::AliasArn { .. }) {
        return Err(KmsError::not_found(format!("Invalid keyId '{raw}'")));
    }
    Ok(parsed)
}

fn parse_arn(rest: &str, raw: &str) -> KmsResult<KeyRef> {
    let bad = || KmsError::invalid_arn(format!("ARN {raw} is not a valid KMS key or alias ARN"));
    // arn:<partition>:kms:<region>:<account>:<resource>
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next().ok_or_else(bad)?;
    let service = parts.next().ok_or_else(bad)?;
    let region = parts.next().ok_or_else(bad)?;
    let account = parts.next().ok_or_else(bad)?;
    let resource = parts.next().ok_or_else(bad)?;
    if !partition.starts_with("aws") || service != "kms" || region.is_empty() || !is_account(account) {
        return Err(bad());
    }
    if let Some(key_id) = resource.strip_prefix("key/") {
        if !is_key_id(key_id) {
            return Err(bad());
        }
        return Ok(KeyRef::KeyArn { region: region.into(), account: account.into(), key_id: key_id.into() });
    }
    if resource.starts_with("alias/") {
        return Ok(KeyRef::AliasArn { region: region.into(), account: account.into(), name: resource.into() });
    }
    Err(bad())
}

/// True for a 12-digit AWS account id.
pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for a UUID key id or a multi-Region `mrk-` + 32 hex id.
pub(crate) fn is_key_id(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    // 36 characters: the hyphenated form only (the parser also takes braced, URN and bare hex).
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// A fresh random key id: a v4 UUID, or `mrk-` + 32 hex for multi-Region keys.
pub(crate) fn new_key_id(multi_region: bool) -> String {
    let mut b = [0u8; 16];
    crate::keys::fill_random(&mut b);
    let uuid = uuid::Builder::from_random_bytes(b).into_uuid();
    if multi_region { format!("mrk-{}", uuid.simple()) } else { uuid.hyphenated().to_string() }
}

/// A fresh random 64-hex identifier (grant ids, key material ids).
pub(crate) fn new_hex_id() -> String {
    let mut b = [0u8; 32];
    crate::keys::fill_random(&mut b);
    hex::encode(b)
}

/// The ARN of a key.
pub(crate) fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{key_id}")
}

/// The ARN of an alias.
pub(crate) fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}

/// The documented shape of an alias name: model constraints first, as KMS's request validation
/// reports them (every failing constraint, with the value), then the service's own rules.
const ALIAS_PATTERN: &str = "^[a-zA-Z0-9:/_-]+$";

/// The prefix KMS reserves for the aliases of AWS managed keys.
pub(crate) const RESERVED_ALIAS_PREFIX: &str = "alias/aws/";

/// Validates the `AliasName` of CreateAlias, UpdateAlias and DeleteAlias in KMS's order, with its
/// exceptions: the model's length and pattern (ValidationException, all failures in one message),
/// the `alias/` prefix (ValidationException), the reserved `alias/aws/` prefix
/// (NotAuthorizedException with no message, KMS's answer: not in the service model, so SDKs
/// report it by its code only; AWS managed aliases cannot be created, changed or deleted), a colon,
/// which the pattern allows but the service refuses (ValidationException), and an empty name
/// after the prefix (InvalidAliasNameException).
pub(crate) fn check_alias_name(name: &str) -> KmsResult<()> {
    let mut failures = Vec::new();
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b)) || name.is_empty() {
        failures.push(format!("Member must satisfy regular expression pattern: {ALIAS_PATTERN}"));
    }
    if name.is_empty() {
        failures.push("Member must have length greater than or equal to 1".to_owned());
    } else if name.len() > 256 {
        failures.push("Member must have length less than or equal to 256".to_owned());
    }
    if !failures.is_empty() {
        let count = match failures.len() {
            1 => "1 validation error detected".to_owned(),
            n => format!("{n} validation errors detected"),
        };
        let details: Vec<String> = failures
            .iter()
            .map(|f| format!("Value '{name}' at 'aliasName' failed to satisfy constraint: {f}"))
            .collect();
        return Err(KmsError::validation(format!("{count}: {}", details.join("; "))));
    }
    if !name.starts_with("alias/") {
        return Err(KmsError::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name.starts_with(RESERVED_ALIAS_PREFIX) {
        return Err(KmsError::new("NotAuthorizedException", ""));
    }
    if name.contains(':') {
        return Err(KmsError::validation(format!("{name} contains invalid characters for an alias")));
    }
    if name.len() == "alias/".len() {
        return Err(KmsError::new(
            "InvalidAliasNameException",
            format!("Alias {name} has no name after the prefix \"alias/\"."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_forms() {
        let id = new_key_id(false);
        assert!(is_key_id(&id));
        let mrk = new_key_id(true);
        assert!(is_key_id(&mrk) && mrk.len() == 36);
        assert!(matches!(parse_key_ref(&id, KeyIdForms::KeyOnly), Ok(KeyRef::Id(_))));
        assert!(parse_key_ref("alias/x", KeyIdForms::KeyOnly).is_err());
        assert!(matches!(parse_key_ref("alias/x", KeyIdForms::AnyForm), Ok(KeyRef::AliasName(_))));
        let arn = key_arn("us-east-1", "111122223333", &id);
        assert!(matches!(parse_key_ref(&arn, KeyIdForms::KeyOnly), Ok(KeyRef::KeyArn { .. })));
        assert_eq!(parse_key_ref("arn:aws:s3:::b", KeyIdForms::AnyForm).unwrap_err().kind(), "InvalidArnException");
        assert_eq!(parse_key_ref("nope", KeyIdForms::AnyForm).unwrap_err().kind(), "NotFoundException");
    }

    #[test]
    fn alias_names() {
        let kind = |n: &str| check_alias_name(n).err().map(|e| e.kind());
        assert_eq!(kind("alias/ok_1-x/y"), None);
        assert_eq!(kind("nope"), Some("ValidationException"));
        assert_eq!(kind("alias/aws/s3"), Some("NotAuthorizedException"));
        assert_eq!(kind("alias/my:alias"), Some("ValidationException"));
        assert_eq!(kind("alias/"), Some("InvalidAliasNameException"));
        let both = check_alias_name(&format!("alias/{}", " ".repeat(300))).unwrap_err();
        assert!(both.message().starts_with("2 validation errors detected: "), "{}", both.message());
    }
}
