//! CloudTrail-style audit events for every KMS call the emulator serves.
//!
//! Events use CloudTrail's record layout (camelCase, `eventVersion` 1.08) so
//! the same tooling and mental model apply. Request parameters go through
//! [`redact_body`], an allow-list: only fields known to be metadata are
//! copied, so plaintext, ciphertext, signatures, MACs, key material and
//! anything a future API version adds are left out by construction.

use std::borrow::Cow;
use std::time::SystemTime;

#[cfg(test)]
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::{account_of_arn, random_bytes};

// The typed event below is the tests' reference for the line the server writes from borrowed
// fields (`audit_line`): both must give the same JSON.

/// Who made the call, CloudTrail `userIdentity` style.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserIdentity {
    /// `IAMUser`, `AssumedRole`, `Root` or `Unknown`.
    #[serde(rename = "type")]
    pub(crate) identity_type: String,
    /// A stable id for the principal (the account id for `Root`).
    pub(crate) principal_id: String,
    /// The principal ARN.
    pub(crate) arn: String,
    /// The principal's account.
    pub(crate) account_id: String,
    /// Access key id the request was signed with.
    pub(crate) access_key_id: String,
}

/// A resource touched by the call.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditResource {
    /// Account that owns the resource.
    #[serde(rename = "accountId")]
    pub(crate) account_id: String,
    /// Always `AWS::KMS::Key`.
    #[serde(rename = "type")]
    pub(crate) resource_type: String,
    /// The key ARN.
    #[serde(rename = "ARN")]
    pub(crate) arn: String,
}

/// One audit record.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEvent {
    /// CloudTrail record version, `1.08`.
    pub(crate) event_version: String,
    /// When the call happened, ISO-8601 UTC (`2024-01-02T03:04:05Z`).
    pub(crate) event_time: String,
    /// Always `kms.amazonaws.com`.
    pub(crate) event_source: String,
    /// The KMS operation, e.g. `Encrypt`.
    pub(crate) event_name: String,
    /// Region the call was made in.
    pub(crate) aws_region: String,
    /// Client address.
    #[serde(rename = "sourceIPAddress")]
    pub(crate) source_ip_address: String,
    /// Client `User-Agent`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
    /// The caller.
    pub(crate) user_identity: UserIdentity,
    /// Redacted request parameters (see [`redact_request`]).
    pub(crate) request_parameters: Value,
    /// Always `null`: responses can carry plaintext and are never logged.
    pub(crate) response_elements: Value,
    /// Request id returned to the client (`x-amzn-RequestId`).
    #[serde(rename = "requestID")]
    pub(crate) request_id: String,
    /// Unique id of this record.
    #[serde(rename = "eventID")]
    pub(crate) event_id: String,
    /// Whether the operation only reads state.
    pub(crate) read_only: bool,
    /// Keys involved.
    pub(crate) resources: Vec<AuditResource>,
    /// Always `AwsApiCall`.
    pub(crate) event_type: String,
    /// KMS calls are management events in CloudTrail.
    pub(crate) management_event: bool,
    /// Account the record belongs to.
    pub(crate) recipient_account_id: String,
    /// KMS error type when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_code: Option<String>,
    /// Error message when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_message: Option<String>,
}

/// Operations CloudTrail marks `readOnly: true` for KMS: lookups and
/// cryptographic operations, which do not change key state.
const READ_ONLY_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateRandom",
    "ReEncrypt",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// CloudTrail's `readOnly` for an operation.
pub(crate) fn is_read_only(event_name: &str) -> bool {
    READ_ONLY_OPERATIONS.contains(&event_name) || ["Describe", "Get", "List"].iter().any(|p| event_name.starts_with(p))
}

#[cfg(test)]
impl AuditEvent {
    /// Builds an event timestamped now with fresh random `eventID` and
    /// `requestID`. `request_parameters` should already be redacted;
    /// `resources` are key ARNs.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        event_name: &str,
        principal: &str,
        account: &str,
        access_key_id: &str,
        source_ip: &str,
        region: &str,
        request_parameters: Value,
        resources: Vec<String>,
        error_code: Option<String>,
    ) -> AuditEvent {
        let read_only = is_read_only(event_name);
        let (request_id, event_id) = random_uuid_pair();
        AuditEvent {
            event_version: "1.08".to_string(),
            event_time: format_iso8601(SystemTime::now()),
            event_source: "kms.amazonaws.com".to_string(),
            event_name: event_name.to_string(),
            aws_region: region.to_string(),
            source_ip_address: source_ip.to_string(),
            user_agent: None,
            user_identity: user_identity(principal, account, access_key_id),
            request_parameters,
            response_elements: Value::Null,
            request_id,
            event_id,
            read_only,
            resources: resources
                .into_iter()
                .map(|arn| AuditResource {
                    account_id: kms_arn_account(&arn).unwrap_or(account).to_string(),
                    resource_type: "AWS::KMS::Key".to_string(),
                    arn,
                })
                .collect(),
            event_type: "AwsApiCall".to_string(),
            management_event: true,
            recipient_account_id: account.to_string(),
            error_code,
            error_message: None,
        }
    }

    /// Sets `userAgent`.
    pub(crate) fn with_user_agent(mut self, user_agent: impl Into<String>) -> AuditEvent {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets `errorMessage`.
    pub(crate) fn with_error_message(mut self, message: impl Into<String>) -> AuditEvent {
        self.error_message = Some(message.into());
        self
    }

    /// The event as one line of JSON (for JSON-lines audit logs).
    pub(crate) fn to_json_line(&self) -> String {
        // Serializing plain strings, bools and serde_json::Values cannot
        // fail; the fallback keeps the signature infallible regardless.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Copies only the safe, metadata-only fields of a KMS request into the
/// CloudTrail-style camelCase `requestParameters` (e.g. `KeyId` → `keyId`).
///
/// This is an allow-list: blobs (`Plaintext`, `CiphertextBlob`, `Message`,
/// `Signature`, `Mac`, `PublicKey`, `ImportToken`, `EncryptedKeyMaterial`,
/// `Recipient`, ...) and any unknown field are dropped. Each kept field must
/// also have the expected JSON type, so a blob smuggled under a safe name of
/// the wrong shape is dropped too. `GrantTokens` is reduced to a count.
/// `operation` selects extra fields only certain operations log (the policy
/// text of `PutKeyPolicy`/`CreateKey`). The tests' reference for [`redact_body`].
#[cfg(test)]
pub(crate) fn redact_request(operation: &str, request: &Value) -> Value {
    let mut out = Map::new();
    let Some(obj) = request.as_object() else {
        return Value::Object(out);
    };
    for (name, value) in obj {
        if let Some((key, kept)) = field_kind(operation, name).and_then(|kind| keep(kind, name, value)) {
            out.insert(key, kept);
        }
    }
    Value::Object(out)
}

/// The redacted `requestParameters` of a request `body`, straight from the bytes: an allow-list
/// of metadata fields (see `redact_request`, the tests' reference), only these are materialized, and blobs and unknown fields are skipped without being copied (the
/// server's path, for every request). `Null` when the body is not JSON, as for a failed parse.
pub(crate) fn redact_body(operation: &str, body: &[u8]) -> Value {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde::de::DeserializeSeed::deserialize(Redacting(operation), &mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(v) => v,
        Err(_) => Value::Null,
    }
}

/// The CloudTrail name and value of one allow-listed field, if its value has the expected shape.
fn keep(kind: Kind, name: &str, value: &Value) -> Option<(String, Value)> {
    let kept = match kind {
        Kind::Str => value.as_str().map(|_| value.clone()),
        Kind::Num => value.as_u64().map(|_| value.clone()),
        Kind::Bool => value.as_bool().map(|_| value.clone()),
        Kind::StrList => is_string_list(value).then(|| value.clone()),
        Kind::StrMap => is_string_map(value).then(|| value.clone()),
        Kind::Tags => is_tag_list(value).then(|| value.clone()),
        Kind::Constraints => constraints_only(value),
        Kind::Count => value.as_array().map(|a| Value::from(a.len())),
    }?;
    Some((recorded_name(kind, name), kept))
}

/// The name a kept field is recorded under (`KeyId` → `keyId`, `GrantTokens` → `grantTokensCount`).
fn recorded_name(kind: Kind, name: &str) -> String {
    if kind == Kind::Count { format!("{}Count", camel(name)) } else { camel(name) }
}

/// Deserializes a request body into its redacted parameters (see [`redact_body`]).
struct Redacting<'o>(&'o str);

impl<'de> serde::de::DeserializeSeed<'de> for Redacting<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Redacting<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(FieldName(name)) = map.next_key::<FieldName<'de>>()? {
            match field_kind(self.0, &name) {
                Some(kind) => {
                    let value: Value = map.next_value()?;
                    match keep(kind, &name, &value) {
                        Some((key, kept)) => {
                            out.insert(key, kept);
                        }
                        // A repeated member replaces the earlier one, as in a parsed object,
                        // even when the last one is not kept.
                        None => {
                            out.remove(&recorded_name(kind, &name));
                        }
                    }
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    // Anything but an object has no parameters (as `redact_request` of it), once it parses.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Value::Object(Map::new()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Object(Map::new()))
    }
}

/// A member name, borrowed from the body unless it had escapes.
struct FieldName<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for FieldName<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> serde::de::Visitor<'de> for NameVisitor {
            type Value = FieldName<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<FieldName<'de>, E> {
                Ok(FieldName(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<FieldName<'de>, E> {
                Ok(FieldName(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool,
    StrList,
    StrMap,
    Tags,
    Constraints,
    Count,
}

/// The allow-list. Every entry is metadata a CloudTrail record for KMS also
/// shows; nothing here can hold key material or data.
fn field_kind(operation: &str, name: &str) -> Option<Kind> {
    Some(match name {
        "KeyId"
        | "SourceKeyId"
        | "DestinationKeyId"
        | "TargetKeyId"
        | "AliasName"
        | "EncryptionAlgorithm"
        | "SourceEncryptionAlgorithm"
        | "DestinationEncryptionAlgorithm"
        | "KeySpec"
        | "KeyPairSpec"
        | "CustomerMasterKeySpec"
        | "KeyUsage"
        | "Origin"
        | "SigningAlgorithm"
        | "MacAlgorithm"
        | "MessageType"
        | "KeyAgreementAlgorithm"
        | "Description"
        | "GrantId"
        | "GranteePrincipal"
        | "RetiringPrincipal"
        | "GranteeServicePrincipal"
        | "RetiringServicePrincipal"
        | "Name"
        | "PolicyName"
        | "WrappingAlgorithm"
        | "WrappingKeySpec"
        | "ExpirationModel"
        | "ReplicaRegion"
        | "PrimaryRegion"
        | "CustomKeyStoreId"
        | "Marker"
        | "KeyEncryptionMechanism" => Kind::Str,
        "NumberOfBytes" | "PendingWindowInDays" | "RotationPeriodInDays" | "Limit" | "ValidTo" => Kind::Num,
        "DryRun" | "MultiRegion" | "BypassPolicyLockoutSafetyCheck" | "IncludeKeyMaterial" | "OnDemand" => Kind::Bool,
        "Operations" | "TagKeys" | "DryRunModifiers" => Kind::StrList,
        "EncryptionContext" | "SourceEncryptionContext" | "DestinationEncryptionContext" => Kind::StrMap,
        "Tags" => Kind::Tags,
        "Constraints" => Kind::Constraints,
        "GrantTokens" => Kind::Count,
        // Policies are long but not secret; CloudTrail records them for
        // policy changes only.
        "Policy" if operation == "PutKeyPolicy" || operation == "CreateKey" || operation == "ReplicateKey" => Kind::Str,
        _ => return None,
    })
}

fn is_string_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

fn is_string_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.values().all(Value::is_string))
}

fn is_tag_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter().all(|t| {
            t.as_object().is_some_and(|m| m.iter().all(|(k, v)| (k == "TagKey" || k == "TagValue") && v.is_string()))
        })
    })
}

/// Keeps only the encryption-context maps of a grant's `Constraints`.
fn constraints_only(v: &Value) -> Option<Value> {
    let m = v.as_object()?;
    let mut out = Map::new();
    for f in ["EncryptionContextSubset", "EncryptionContextEquals", "SourceArn"] {
        if let Some(x) = m.get(f) {
            if is_string_map(x) || (f == "SourceArn" && x.is_string()) {
                out.insert(camel(f), x.clone());
            }
        }
    }
    Some(Value::Object(out))
}

/// `KeyId` → `keyId` (CloudTrail's casing).
fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Account id in `arn:aws:kms:REGION:ACCOUNT:key/ID`.
pub(crate) fn kms_arn_account(arn: &str) -> Option<&str> {
    let mut it = arn.split(':');
    let (scheme, _p, service, _r, account) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    (scheme == "arn" && service == "kms" && crate::auth::is_account_id(account)).then_some(account)
}

#[cfg(test)]
fn user_identity(principal: &str, account: &str, access_key_id: &str) -> UserIdentity {
    let (identity_type, principal_id, account) = identity_of(principal, account);
    UserIdentity {
        identity_type: identity_type.to_string(),
        principal_id: principal_id.into_owned(),
        arn: principal.to_string(),
        account_id: account.to_string(),
        access_key_id: access_key_id.to_string(),
    }
}

/// CloudTrail's identity type, principal id and account for a caller.
pub(crate) fn identity_of<'a>(principal: &'a str, account: &'a str) -> (&'static str, Cow<'a, str>, &'a str) {
    let resource = principal.splitn(6, ':').nth(5).unwrap_or("");
    let account = account_of_arn(principal).unwrap_or(account);
    let (identity_type, principal_id) = if resource == "root" {
        ("Root", Cow::Borrowed(account))
    } else if resource.starts_with("user/") {
        ("IAMUser", Cow::Owned(pseudo_unique_id("AIDA", principal)))
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        // CloudTrail shows "ROLEID:session-name" for role sessions.
        let (role, session) = rest.split_once('/').unwrap_or((rest, ""));
        let role_arn = format!("arn:aws:iam::{account}:role/{role}");
        ("AssumedRole", Cow::Owned(format!("{}:{session}", pseudo_unique_id("AROA", &role_arn))))
    } else {
        ("Unknown", Cow::Borrowed(principal))
    };
    (identity_type, principal_id, account)
}

/// IAM-style unique id (`AIDA` + 17 uppercase alphanumerics), derived from
/// the ARN so the same principal always gets the same id.
fn pseudo_unique_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, arn.as_bytes());
    let mut s = String::from(prefix);
    s.extend(d.as_ref().iter().take(17).map(|b| ALPHABET[(b % 32) as usize] as char));
    s
}

/// Two random RFC 4122 version-4 UUID strings (request id, event id) from one call to the RNG:
/// every request needs both, and the call, not the bytes, is what costs. If the system RNG fails
/// we still need ids for the record, so fall back to distinct time-derived bytes; these ids are
/// labels, not secrets.
pub(crate) fn random_uuid_pair() -> (String, String) {
    let b = random_bytes::<32>().unwrap_or_else(|_| {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&nanos.to_le_bytes());
        b[16..].copy_from_slice(&(!nanos).to_le_bytes());
        b
    });
    (uuid_v4(&b[..16]), uuid_v4(&b[16..]))
}

/// 16 random bytes → `xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx` (version 4, RFC 4122 variant).
fn uuid_v4(bytes: &[u8]) -> String {
    let mut random = [0u8; 16];
    random.copy_from_slice(&bytes[..16]);
    let uuid = uuid::Builder::from_random_bytes(random).into_uuid();
    uuid.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()).to_owned()
}

/// `SystemTime` → `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, whole seconds, UTC).
pub(crate) fn format_iso8601(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    t.replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| t.unix_timestamp().to_string())
}

/// Parses an RFC 3339 time (`YYYY-MM-DDTHH:MM:SSZ`, optionally with fractional seconds or an
/// offset), to whole seconds: the form of the audit events' `eventTime`, and what
/// `envelope kms audit --since` accepts besides epoch seconds and ages.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use envelope_kms_local::parse_iso8601;
///
/// let t = parse_iso8601("2024-01-02T03:04:05.678Z").expect("an RFC 3339 time");
/// assert_eq!(t.duration_since(UNIX_EPOCH)?, Duration::from_secs(1_704_164_645));
/// assert_eq!(parse_iso8601("2024-01-02T04:04:05+01:00"), Some(t));
/// assert_eq!(parse_iso8601("2024-01-02 03:04:05Z"), None, "ISO 8601 wants the T");
/// # Ok::<(), std::time::SystemTimeError>(())
/// ```
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    // ISO 8601's `T` between date and time (the RFC 3339 parser would also take a space).
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.replace_nanosecond(0).ok()?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn uuids_are_version_4_and_distinct() {
        assert_eq!(uuid_v4(&[0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4(&[0; 16]), "00000000-0000-4000-8000-000000000000");
        let (request, event) = random_uuid_pair();
        assert_ne!(request, event);
        for id in [&request, &event] {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!("89ab".contains(&id[19..20]), "{id}");
        }
    }

    /// Every blob-typed member of any KMS request shape, plus custom key
    /// store secrets and the Nitro Recipient structure.
    const BLOB_FIELDS: &[&str] = &[
        "Plaintext",
        "CiphertextBlob",
        "Message",
        "Signature",
        "Mac",
        "PublicKey",
        "ImportToken",
        "EncryptedKeyMaterial",
        "SourceCiphertextBlob",
        "Recipient",
        "KeyStorePassword",
        "TrustAnchorCertificate",
        "XksProxyAuthenticationCredential",
        "GrantToken",
        "Ciphertext",
        "SharedSecret",
        "PrivateKeyPlaintext",
        "CiphertextForRecipient",
    ];

    #[test]
    fn redact_drops_every_blob() {
        let mut req = Map::new();
        for f in BLOB_FIELDS {
            req.insert((*f).to_string(), json!("c2VjcmV0LWRhdGEtc2VjcmV0"));
        }
        req.insert(
            "Recipient".into(),
            json!({"AttestationDocument": "c2VjcmV0LWRhdGEtc2VjcmV0", "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        );
        req.insert("KeyId".into(), json!("alias/app"));
        req.insert("EncryptionContext".into(), json!({"Department": "IT"}));
        req.insert("GrantTokens".into(), json!(["t1", "t2"]));
        req.insert("SomethingNew".into(), json!("c2VjcmV0LWRhdGEtc2VjcmV0"));
        for op in [
            "Encrypt",
            "Decrypt",
            "ReEncrypt",
            "Sign",
            "Verify",
            "VerifyMac",
            "ImportKeyMaterial",
            "DeriveSharedSecret",
        ] {
            let out = redact_request(op, &Value::Object(req.clone()));
            let text = out.to_string();
            assert!(!text.contains("c2VjcmV0"), "{op}: {text}");
            assert_eq!(out["keyId"], "alias/app");
            assert_eq!(out["encryptionContext"], json!({"Department": "IT"}));
            assert_eq!(out["grantTokensCount"], 2);
            assert!(!text.contains("t1"));
            for f in BLOB_FIELDS {
                assert!(out.get(camel(f)).is_none() && out.get(*f).is_none(), "{op} kept {f}");
            }
        }
    }

    #[test]
    fn redact_keeps_metadata_and_checks_types() {
        let req = json!({
            "KeyId": "1234abcd",
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "KeySpec": "AES_256",
            "NumberOfBytes": 32,
            "SigningAlgorithm": "ECDSA_SHA_256",
            "MacAlgorithm": "HMAC_SHA_256",
            "DryRun": true,
            "Operations": ["Encrypt"],
            "Constraints": {"EncryptionContextSubset": {"a": "b"}, "Junk": "x"},
            "Tags": [{"TagKey": "k", "TagValue": "v"}],
            "Policy": "{}",
            // Safe names with the wrong shape are dropped.
            "Description": {"nested": "c2VjcmV0"},
            "EncryptionContext": {"a": {"deep": "c2VjcmV0"}}
        });
        let out = redact_request("Encrypt", &req);
        assert_eq!(out["keyId"], "1234abcd");
        assert_eq!(out["encryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        assert_eq!(out["keySpec"], "AES_256");
        assert_eq!(out["numberOfBytes"], 32);
        assert_eq!(out["signingAlgorithm"], "ECDSA_SHA_256");
        assert_eq!(out["macAlgorithm"], "HMAC_SHA_256");
        assert_eq!(out["dryRun"], true);
        assert_eq!(out["operations"], json!(["Encrypt"]));
        assert_eq!(out["constraints"], json!({"encryptionContextSubset": {"a": "b"}}));
        assert_eq!(out["tags"], json!([{"TagKey": "k", "TagValue": "v"}]));
        assert!(out.get("policy").is_none(), "policy text only for policy operations");
        assert!(out.get("description").is_none());
        assert!(out.get("encryptionContext").is_none());
        assert!(!out.to_string().contains("c2VjcmV0"));
        assert_eq!(redact_request("PutKeyPolicy", &json!({"Policy": "{}"}))["policy"], "{}");
        assert_eq!(redact_request("Encrypt", &json!("not an object")), json!({}));
    }

    /// The server's streaming redaction gives what parsing and redacting gives, for objects,
    /// other JSON values and non-JSON alike.
    #[test]
    fn redact_body_matches_redact_request() {
        let mut bodies: Vec<String> = vec![
            r#"{"KeyId":"alias/app","Plaintext":"c2VjcmV0","EncryptionContext":{"a":"b"},"GrantTokens":["t"]}"#.into(),
            r#"{"Key\u0049d":"escaped-name","Description":{"nested":"c2VjcmV0"},"Tags":[{"TagKey":"k","TagValue":"v"}]}"#.into(),
            r#"{"KeyId":"first","KeyId":"second","NumberOfBytes":32,"DryRun":true}"#.into(),
            r#"{"KeyId":"first","KeyId":{"not":"a string"},"GrantTokens":["a"],"GrantTokens":"x"}"#.into(),
            r#"{"Constraints":{"EncryptionContextSubset":{"a":"b"},"Junk":"x"},"Policy":"{}"}"#.into(),
            r#"[1,2,{"KeyId":"x"}]"#.into(),
            r#""a string""#.into(),
            "42".into(),
            "null".into(),
            "{}".into(),
        ];
        let mut all = Map::new();
        for f in BLOB_FIELDS {
            all.insert((*f).to_string(), json!("c2VjcmV0LWRhdGEtc2VjcmV0"));
        }
        bodies.push(Value::Object(all).to_string());
        for op in ["Encrypt", "PutKeyPolicy", "CreateGrant"] {
            for body in &bodies {
                let parsed: Value = serde_json::from_str(body).unwrap();
                assert_eq!(redact_body(op, body.as_bytes()), redact_request(op, &parsed), "{op}: {body}");
            }
        }
        for bad in ["", "{", r#"{"KeyId":"a"} trailing"#, r#"{"Plaintext": tru}"#] {
            assert_eq!(redact_body("Encrypt", bad.as_bytes()), Value::Null, "{bad}");
        }
    }

    #[test]
    fn event_shape() {
        let params = redact_request("Decrypt", &json!({"KeyId": KEY, "CiphertextBlob": "AQID"}));
        let ev = AuditEvent::new(
            "Decrypt",
            "arn:aws:iam::111122223333:user/alice",
            "111122223333",
            "AKIDALICE",
            "127.0.0.1",
            "us-east-1",
            params,
            vec![KEY.to_string()],
            None,
        )
        .with_user_agent("aws-sdk-rust/1.0");
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["eventVersion"], "1.08");
        assert_eq!(v["eventSource"], "kms.amazonaws.com");
        assert_eq!(v["eventName"], "Decrypt");
        assert_eq!(v["awsRegion"], "us-east-1");
        assert_eq!(v["sourceIPAddress"], "127.0.0.1");
        assert_eq!(v["userAgent"], "aws-sdk-rust/1.0");
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["arn"], "arn:aws:iam::111122223333:user/alice");
        assert_eq!(v["userIdentity"]["accountId"], "111122223333");
        assert_eq!(v["userIdentity"]["accessKeyId"], "AKIDALICE");
        let pid = v["userIdentity"]["principalId"].as_str().unwrap();
        assert!(pid.starts_with("AIDA") && pid.len() == 21, "{pid}");
        assert_eq!(v["requestParameters"], json!({"keyId": KEY}));
        assert_eq!(v["responseElements"], Value::Null);
        assert_eq!(v["readOnly"], true);
        assert_eq!(v["resources"], json!([{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": KEY}]));
        assert_eq!(v["eventType"], "AwsApiCall");
        assert_eq!(v["managementEvent"], true);
        assert_eq!(v["recipientAccountId"], "111122223333");
        assert!(v.get("errorCode").is_none() && v.get("errorMessage").is_none());
        let id = v["eventID"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(v["eventID"], v["requestID"]);
        let t = v["eventTime"].as_str().unwrap();
        assert!(t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");

        let back: AuditEvent = serde_json::from_str(&ev.to_json_line()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn identity_types_and_errors() {
        let root = AuditEvent::new(
            "CreateKey",
            "arn:aws:iam::111122223333:root",
            "111122223333",
            "AK",
            "::1",
            "eu-west-1",
            json!({}),
            vec![],
            Some("AccessDeniedException".into()),
        )
        .with_error_message("denied");
        assert_eq!(root.user_identity.identity_type, "Root");
        assert_eq!(root.user_identity.principal_id, "111122223333");
        assert!(!root.read_only);
        let v = serde_json::to_value(&root).unwrap();
        assert_eq!(v["errorCode"], "AccessDeniedException");
        assert_eq!(v["errorMessage"], "denied");

        let role = AuditEvent::new(
            "ListKeys",
            "arn:aws:sts::111122223333:assumed-role/Admin/sess",
            "111122223333",
            "ASIA",
            "::1",
            "eu-west-1",
            json!({}),
            vec![],
            None,
        );
        assert_eq!(role.user_identity.identity_type, "AssumedRole");
        assert!(
            role.user_identity.principal_id.starts_with("AROA") && role.user_identity.principal_id.ends_with(":sess")
        );
        assert!(role.read_only);

        let odd =
            AuditEvent::new("Encrypt", "anonymous", "111122223333", "AK", "::1", "eu-west-1", json!({}), vec![], None);
        assert_eq!(odd.user_identity.identity_type, "Unknown");
    }

    #[test]
    fn iso8601_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(format_iso8601(t), "2015-08-30T12:36:00Z");
        assert_eq!(parse_iso8601("2015-08-30T12:36:00Z"), Some(t));
        assert_eq!(parse_iso8601("2015-08-30T12:36:00.123Z"), Some(t));
        assert_eq!(parse_iso8601("2015-08-30 12:36:00"), None);
        assert_eq!(parse_iso8601("2015-02-30T12:36:00Z"), None);
    }
}
