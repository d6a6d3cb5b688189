//! AWS Signature Version 4 verification (`AWS4-HMAC-SHA256`).
//!
//! [`verify`] rebuilds the canonical request exactly as the client's signer
//! did, derives the signing key from the secret looked up by access key id,
//! and compares signatures in constant time. Both the `Authorization` header
//! form (what every AWS SDK sends to KMS) and the presigned query-string form
//! (`X-Amz-Signature=...`) are accepted.
//!
//! Failures map onto the error types AWS JSON services return
//! ([`AuthError::kms_error_type`]): `MissingAuthenticationTokenException`,
//! `IncompleteSignatureException`, `UnrecognizedClientException` and
//! `InvalidSignatureException` (which is also what an expired signature gets,
//! with a "Signature expired: ..." message).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use aws_lc_rs::{constant_time, digest, hmac};

use super::signing_keys::{SigningKeys, scope_key};
use super::{account_of_arn, unix_seconds};

/// The only algorithm we verify; SigV4a (`AWS4-ECDSA-P256-SHA256`) is not
/// used by KMS clients.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Allowed distance between the request's `X-Amz-Date` and the server clock.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Upper bound AWS puts on a presigned URL's `X-Amz-Expires` (7 days).
pub(crate) const MAX_PRESIGN_EXPIRES_SECS: i64 = 7 * 24 * 3600;

/// Hex SHA-256 of the empty string, handy for bodiless requests.
#[cfg(test)]
pub(crate) const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The parts of an HTTP request that SigV4 covers, borrowed from the server's
/// request representation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SignedRequest<'a> {
    /// HTTP method as sent, e.g. `POST`.
    pub(crate) method: &'a str,
    /// Request path as sent on the wire (still percent-encoded), e.g. `/`.
    pub(crate) path: &'a str,
    /// Raw query string without the leading `?` (empty when there is none).
    pub(crate) query: &'a str,
    /// All request headers as (name, value), borrowed from the request; names
    /// should be lowercase (they are compared case-insensitively anyway).
    /// Repeated names are allowed.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The complete request body.
    pub(crate) body: &'a [u8],
}

/// What the server knows about an access key id.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret {
    /// The secret access key used to derive the signing key.
    pub(crate) secret_access_key: String,
    /// If set, requests must present exactly this `x-amz-security-token`;
    /// if unset, requests must not present one.
    pub(crate) session_token: Option<String>,
    /// Principal ARN the key acts as.
    pub(crate) principal: String,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never let the secret or the token reach a log line.
        f.debug_struct("Secret")
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("principal", &self.principal)
            .finish()
    }
}

/// The identity established by a successfully verified request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    /// Access key id from the credential scope.
    pub(crate) access_key_id: String,
    /// Region from the credential scope; the server serves this Region.
    pub(crate) region: String,
    /// Service from the credential scope (`kms` for KMS clients).
    pub(crate) service: String,
    /// The principal ARN configured for the access key.
    pub(crate) principal: String,
    /// Account id of [`Verified::principal`].
    pub(crate) account: String,
}

/// Why a request failed authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `Authorization` header and no presigned query parameters.
    MissingAuthenticationToken,
    /// Authentication data present but malformed or incomplete (bad
    /// `Authorization` syntax, unsigned `host`, missing date, ...).
    IncompleteSignature(String),
    /// The access key id is not configured.
    UnrecognizedClient,
    /// The session token is missing, unexpected or wrong for the access key.
    InvalidSecurityToken,
    /// The signature (or the payload hash it covers) does not match.
    SignatureMismatch(String),
    /// `X-Amz-Date` is outside the allowed window, or a presigned URL expired.
    SignatureExpired(String),
}

impl AuthError {
    /// The `__type` KMS returns for this failure.
    pub(crate) fn kms_error_type(&self) -> &'static str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthError::IncompleteSignature(_) => "IncompleteSignatureException",
            AuthError::UnrecognizedClient | AuthError::InvalidSecurityToken => "UnrecognizedClientException",
            // Real KMS (AWS JSON protocol) reports clock skew as an invalid
            // signature with a "Signature expired" message.
            AuthError::SignatureMismatch(_) | AuthError::SignatureExpired(_) => "InvalidSignatureException",
        }
    }

    /// The human-readable message for the error body.
    pub(crate) fn message(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::MissingAuthenticationToken => f.write_str("Missing Authentication Token"),
            AuthError::IncompleteSignature(m) | AuthError::SignatureMismatch(m) | AuthError::SignatureExpired(m) => {
                f.write_str(m)
            }
            AuthError::UnrecognizedClient | AuthError::InvalidSecurityToken => {
                f.write_str("The security token included in the request is invalid.")
            }
        }
    }
}

impl std::error::Error for AuthError {}

const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

fn mismatch() -> AuthError {
    AuthError::SignatureMismatch(MISMATCH_MESSAGE.to_string())
}

/// Authentication fields pulled from either the header or the query form: borrowed from the
/// `Authorization` header (every SDK's form, so nothing is copied per request), owned only when
/// the presigned query string had to be percent-decoded.
struct AuthParts<'a> {
    access_key_id: Cow<'a, str>,
    scope_date: Cow<'a, str>,
    region: Cow<'a, str>,
    service: Cow<'a, str>,
    signed_headers: Vec<Cow<'a, str>>,
    signature: Cow<'a, str>,
    amz_date: Cow<'a, str>,
    security_token: Option<Cow<'a, str>>,
    /// `Some(seconds)` for the presigned form.
    expires: Option<i64>,
}

/// The service name KMS clients sign for.
pub(crate) const KMS_SERVICE: &str = "kms";

/// Whether `region` looks like an AWS Region name (`us-west-2`, `us-gov-west-1`,
/// `cn-north-1`, ...): two letters, one or more lowercase words, a number, joined by
/// dashes. The Region from a credential scope ends up in key and alias ARNs, so anything
/// else (`..`, `:`, `/`, uppercase, 200 characters) is refused before it gets there.
pub(crate) fn is_valid_region(region: &str) -> bool {
    if region.len() > 32 {
        return false;
    }
    let parts: Vec<&str> = region.split('-').collect();
    let [first, words @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !words.is_empty()
        && words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// The checks a KMS endpoint adds to a well-formed signature: scoped to the `kms` service
/// and to a valid Region, with `x-amz-target` (which names the operation) among the signed
/// headers, so a captured signature cannot be replayed as a different operation.
fn check_kms_scope(parts: &AuthParts<'_>) -> Result<(), AuthError> {
    check_service_and_region(&parts.service, &parts.region)?;
    if !parts.signed_headers.iter().any(|h| h == "x-amz-target") {
        return Err(AuthError::IncompleteSignature(
            "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        ));
    }
    Ok(())
}

fn check_service_and_region(service: &str, region: &str) -> Result<(), AuthError> {
    if service != KMS_SERVICE {
        return Err(AuthError::SignatureMismatch(format!(
            "Credential should be scoped to correct service: '{KMS_SERVICE}'."
        )));
    }
    if !is_valid_region(region) {
        return Err(AuthError::SignatureMismatch(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        )));
    }
    Ok(())
}

/// For permissive mode, which trusts any signature: the (access key id, Region) of the
/// request's credential scope, `Ok(None)` when it carries no usable `Authorization` header,
/// and an error when the scope names another service or an invalid Region.
pub(crate) fn permissive_kms_scope(headers: &[(&str, &str)]) -> Result<Option<(String, String)>, AuthError> {
    let Some(value) = single_header(headers, "authorization").ok().flatten() else {
        return Ok(None);
    };
    let Some((akid, _date, region, service)) =
        parse_authorization(value).ok().and_then(|f| parse_credential(f.credential).ok())
    else {
        return Ok(None);
    };
    check_service_and_region(service, region)?;
    Ok(Some((akid.to_owned(), region.to_owned())))
}

/// [`verify_cached`] for a KMS endpoint: additionally requires the `kms` service, a valid
/// Region and a signed `x-amz-target` (see [`is_valid_region`]).
pub(crate) fn verify_kms_cached(
    req: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Secret>,
    now: SystemTime,
    keys: &SigningKeys,
) -> Result<Verified, AuthError> {
    verify_inner(req, lookup, now, Some(keys), true)
}

/// Verifies the SigV4 signature of `req`, for any service (the tests' entry point; the server
/// calls [`verify_kms_cached`]).
///
/// `lookup` maps an access key id to its [`Secret`]; `now` is the server's
/// clock (a parameter so tests can pin it). Checks, in order: that some form
/// of authentication is present and well-formed, that the access key is
/// known, the 15-minute clock window (or presigned expiry), the payload hash,
/// the signature, and finally the session token.
#[cfg(test)]
pub(crate) fn verify(
    req: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Secret>,
    now: SystemTime,
) -> Result<Verified, AuthError> {
    verify_inner(req, lookup, now, None, false)
}

/// [`verify`], reusing signing keys derived for earlier requests (see [`SigningKeys`]).
#[cfg(test)]
pub(crate) fn verify_cached(
    req: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Secret>,
    now: SystemTime,
    keys: &SigningKeys,
) -> Result<Verified, AuthError> {
    verify_inner(req, lookup, now, Some(keys), false)
}

fn verify_inner(
    req: &SignedRequest<'_>,
    lookup: &dyn Fn(&str) -> Option<Secret>,
    now: SystemTime,
    keys: Option<&SigningKeys>,
    kms: bool,
) -> Result<Verified, AuthError> {
    let parts = extract_auth(req)?;
    if kms {
        check_kms_scope(&parts)?;
    }

    let request_time = parse_amz_date(&parts.amz_date).ok_or_else(|| {
        AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            parts.amz_date
        ))
    })?;
    if parts.amz_date.get(..8) != Some(&*parts.scope_date) {
        return Err(AuthError::SignatureMismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            parts.scope_date,
            parts.amz_date.get(..8).unwrap_or(""),
            parts.amz_date
        )));
    }

    let secret = lookup(&parts.access_key_id).ok_or(AuthError::UnrecognizedClient)?;

    check_time(&parts, request_time, unix_seconds(now))?;

    let payload_hash = payload_hash(req, &parts)?;
    let canonical = canonical_request(req, &parts, &payload_hash)?;
    let string_to_sign = string_to_sign_parts(&parts, &canonical);
    let cache_key = keys.map(|_| scope_key(&parts.access_key_id, &parts.scope_date, &parts.region, &parts.service));
    let cached = keys
        .zip(cache_key.as_deref())
        .and_then(|(k, scope)| k.sign(scope, &secret.secret_access_key, string_to_sign.as_bytes()));
    let (tag, derived) = match cached {
        Some(tag) => (tag, None),
        None => {
            let key = signing_key(&secret.secret_access_key, &parts.scope_date, &parts.region, &parts.service);
            (hmac::sign(&key, string_to_sign.as_bytes()), Some(key))
        }
    };
    let expected = hex::encode(tag.as_ref());
    // Compare the hex text, not decoded bytes: a client's uppercase or
    // malformed hex is simply a mismatch, and the comparison stays
    // constant-time over the full length.
    if constant_time::verify_slices_are_equal(expected.as_bytes(), parts.signature.as_bytes()).is_err() {
        return Err(mismatch());
    }
    // Only a key that just verified a signature is kept: see `SigningKeys`.
    if let (Some(keys), Some(scope), Some(key)) = (keys, cache_key, derived) {
        keys.insert(scope, &secret.secret_access_key, key);
    }

    // The token is checked after the signature so that only a holder of the
    // secret learns whether a token was right.
    let token_ok = match (&secret.session_token, &parts.security_token) {
        (None, None) => true,
        (Some(want), Some(got)) => constant_time::verify_slices_are_equal(want.as_bytes(), got.as_bytes()).is_ok(),
        _ => false,
    };
    if !token_ok {
        return Err(AuthError::InvalidSecurityToken);
    }

    let account = account_of_arn(&secret.principal).unwrap_or_default().to_string();
    Ok(Verified {
        access_key_id: parts.access_key_id.into_owned(),
        region: parts.region.into_owned(),
        service: parts.service.into_owned(),
        principal: secret.principal,
        account,
    })
}

/// The SigV4 signing key:
/// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
pub(crate) fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut k = Vec::with_capacity(4 + secret_access_key.len());
    k.extend_from_slice(b"AWS4");
    k.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k), date.as_bytes());
    let k_region = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_date.as_ref()), region.as_bytes());
    let k_service = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_region.as_ref()), service.as_bytes());
    let k_signing = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_service.as_ref()), b"aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// The string to sign, `"AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hex(sha256(canonical))`,
/// written in one buffer.
fn string_to_sign_parts(parts: &AuthParts<'_>, canonical_request: &str) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    let mut out = String::with_capacity(160);
    let pieces: [&str; 9] =
        [ALGORITHM, "\n", &parts.amz_date, "\n", &parts.scope_date, "/", &parts.region, "/", &parts.service];
    for piece in pieces {
        out.push_str(piece);
    }
    out.push_str("/aws4_request\n");
    push_hex(&mut out, hash.as_ref());
    out
}

/// Appends `bytes` as lowercase hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn hex_sha256(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data).as_ref())
}

fn extract_auth<'a>(req: &SignedRequest<'a>) -> Result<AuthParts<'a>, AuthError> {
    if let Some(value) = single_header(req.headers, "authorization")? {
        let fields = parse_authorization(value)?;
        let (access_key_id, scope_date, region, service) = parse_credential(fields.credential)?;
        let amz_date = single_header(req.headers, "x-amz-date")?.map(str::trim).ok_or_else(|| {
            AuthError::IncompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".to_string(),
            )
        })?;
        let security_token = single_header(req.headers, "x-amz-security-token")?.map(|s| Cow::Borrowed(s.trim()));
        let signed_headers = parse_signed_headers(fields.signed_headers)?;
        return Ok(AuthParts {
            access_key_id: Cow::Borrowed(access_key_id),
            scope_date: Cow::Borrowed(scope_date),
            region: Cow::Borrowed(region),
            service: Cow::Borrowed(service),
            signed_headers,
            signature: Cow::Borrowed(fields.signature),
            amz_date: Cow::Borrowed(amz_date),
            security_token,
            expires: None,
        });
    }

    let params = parse_query(req.query);
    let get = |name: &str| -> Result<Option<&str>, AuthError> {
        let mut it = params.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.as_str());
        if it.next().is_some() {
            return Err(AuthError::IncompleteSignature(format!("Query parameter '{name}' appears more than once.")));
        }
        Ok(first)
    };
    let Some(algorithm) = get("X-Amz-Algorithm")? else {
        return Err(AuthError::MissingAuthenticationToken);
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let require = |name: &str| -> Result<String, AuthError> {
        get(name)?.map(str::to_string).ok_or_else(|| {
            AuthError::IncompleteSignature(format!(
                "AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
            ))
        })
    };
    let credential = require("X-Amz-Credential")?;
    let signed_headers = require("X-Amz-SignedHeaders")?;
    let signature = require("X-Amz-Signature")?;
    let amz_date = require("X-Amz-Date")?;
    let expires_text = require("X-Amz-Expires")?;
    let expires =
        expires_text.parse::<i64>().ok().filter(|e| (1..=MAX_PRESIGN_EXPIRES_SECS).contains(e)).ok_or_else(|| {
            AuthError::IncompleteSignature(format!(
                "X-Amz-Expires must be an integer between 1 and {MAX_PRESIGN_EXPIRES_SECS}; got '{expires_text}'."
            ))
        })?;
    let security_token = get("X-Amz-Security-Token")?.map(|t| Cow::Owned(t.to_string()));
    let (access_key_id, scope_date, region, service) = parse_credential(&credential)?;
    let owned = |s: &str| Cow::Owned(s.to_string());
    let signed_headers =
        parse_signed_headers(&signed_headers)?.into_iter().map(|h| Cow::Owned(h.into_owned())).collect();
    Ok(AuthParts {
        access_key_id: owned(access_key_id),
        scope_date: owned(scope_date),
        region: owned(region),
        service: owned(service),
        signed_headers,
        signature: Cow::Owned(signature),
        amz_date: Cow::Owned(amz_date),
        security_token,
        expires: Some(expires),
    })
}

/// The one value of header `name`; more than one is ambiguous and rejected
/// rather than guessing which one the signer meant.
fn single_header<'h>(headers: &[(&'h str, &'h str)], name: &str) -> Result<Option<&'h str>, AuthError> {
    let mut it = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
    let first = it.next();
    if first.is_some() && it.next().is_some() {
        return Err(AuthError::IncompleteSignature(format!("Header '{name}' appears more than once.")));
    }
    Ok(first)
}

/// The three components of an `Authorization` header, borrowed from it.
struct AuthorizationFields<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<AuthorizationFields<'_>, AuthError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Authorization header must start with '{ALGORITHM}'."
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "Authorization header requires each component to be of the form key=value; got '{part}'."
            )));
        };
        let slot = match k.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(AuthError::IncompleteSignature(format!(
                    "Authorization header has an unknown component '{other}'."
                )));
            }
        };
        if slot.replace(v.trim()).is_some() {
            return Err(AuthError::IncompleteSignature(format!(
                "Authorization header repeats the '{}' component.",
                k.trim()
            )));
        }
    }
    let missing = |name: &str| {
        AuthError::IncompleteSignature(format!(
            "Authorization header requires '{name}' parameter. Authorization={ALGORITHM} ..."
        ))
    };
    Ok(AuthorizationFields {
        credential: credential.ok_or_else(|| missing("Credential"))?,
        signed_headers: signed_headers.ok_or_else(|| missing("SignedHeaders"))?,
        signature: signature.ok_or_else(|| missing("Signature"))?,
    })
}

/// `AKID/YYYYMMDD/REGION/SERVICE/aws4_request` → (akid, date, region, service), borrowed.
fn parse_credential(credential: &str) -> Result<(&str, &str, &str, &str), AuthError> {
    let bad = || {
        AuthError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region and service, of the form 'AKID/YYYYMMDD/region/service/aws4_request'; got '{credential}'."
        ))
    };
    let mut it = credential.split('/');
    let (Some(akid), Some(date), Some(region), Some(service), Some("aws4_request"), None) =
        (it.next(), it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(bad());
    };
    if [akid, date, region, service].iter().any(|p| p.is_empty())
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    Ok((akid, date, region, service))
}

/// The `SignedHeaders` list, lowercased (borrowed when it already is, as every SDK sends it).
fn parse_signed_headers(list: &str) -> Result<Vec<Cow<'_, str>>, AuthError> {
    let names: Vec<Cow<'_, str>> = list
        .split(';')
        .map(|h| {
            let h = h.trim();
            if h.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(h.to_ascii_lowercase())
            } else {
                Cow::Borrowed(h)
            }
        })
        .collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(AuthError::IncompleteSignature(format!("SignedHeaders contains an empty header name: '{list}'.")));
    }
    // Signing the Host header is what binds a signature to this endpoint.
    if !names.iter().any(|n| n == "host") {
        return Err(AuthError::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        ));
    }
    Ok(names)
}

/// SigV4's `X-Amz-Date`: ISO 8601 basic format, UTC (`YYYYMMDDTHHMMSSZ`).
const AMZ_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// `YYYYMMDDTHHMMSSZ` → Unix seconds.
fn parse_amz_date(s: &str) -> Option<i64> {
    // Exactly 16 bytes: `[year]` alone would also take a sign or a fifth digit.
    if s.len() != 16 {
        return None;
    }
    let parsed = time::PrimitiveDateTime::parse(s, AMZ_DATE).ok()?;
    Some(parsed.assume_utc().unix_timestamp())
}

/// Unix seconds → `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(AMZ_DATE).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}

fn check_time(parts: &AuthParts<'_>, request_time: i64, now: i64) -> Result<(), AuthError> {
    let now_text = format_amz_date(now);
    if request_time > now + MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::SignatureExpired(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            parts.amz_date,
            format_amz_date(now + MAX_CLOCK_SKEW_SECS),
            now_text
        )));
    }
    match parts.expires {
        None => {
            if request_time < now - MAX_CLOCK_SKEW_SECS {
                return Err(AuthError::SignatureExpired(format!(
                    "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                    parts.amz_date,
                    format_amz_date(now - MAX_CLOCK_SKEW_SECS),
                    now_text
                )));
            }
        }
        Some(expires) => {
            if now > request_time + expires {
                return Err(AuthError::SignatureExpired(format!(
                    "Signature expired: {} plus X-Amz-Expires {expires}s is earlier than {now_text}",
                    parts.amz_date
                )));
            }
        }
    }
    Ok(())
}

/// The payload hash that goes into the canonical request.
///
/// We always hash the body ourselves. If the client also sent
/// `x-amz-content-sha256`, it must agree: that header is what the client
/// signed, so a mismatch means the body was swapped. `UNSIGNED-PAYLOAD` and
/// the streaming variants are refused because KMS bodies carry plaintext and
/// key material that must be covered by the signature.
fn payload_hash(req: &SignedRequest<'_>, parts: &AuthParts<'_>) -> Result<String, AuthError> {
    let computed = hex_sha256(req.body);
    let declared = if parts.expires.is_some() { None } else { single_header(req.headers, "x-amz-content-sha256")? };
    match declared.map(str::trim) {
        None => Ok(computed),
        Some(v) if v == "UNSIGNED-PAYLOAD" || v.starts_with("STREAMING-") => Err(AuthError::SignatureMismatch(
            format!("x-amz-content-sha256 '{v}' is not supported; the request body must be signed."),
        )),
        Some(v) => {
            if constant_time::verify_slices_are_equal(v.to_ascii_lowercase().as_bytes(), computed.as_bytes()).is_err() {
                return Err(AuthError::SignatureMismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.".to_string(),
                ));
            }
            // Sign with the header's own spelling, as the client did.
            Ok(v.to_string())
        }
    }
}

/// Builds the canonical request text.
fn canonical_request(req: &SignedRequest<'_>, parts: &AuthParts<'_>, payload_hash: &str) -> Result<String, AuthError> {
    let mut out = String::with_capacity(256 + req.query.len());
    out.push_str(req.method);
    out.push('\n');
    // KMS requests are `POST /` with no query: written directly, without the general path.
    if req.path == "/" {
        out.push('/');
    } else {
        out.push_str(&canonical_uri(req.path));
    }
    out.push('\n');
    if !req.query.is_empty() {
        out.push_str(&canonical_query(req.query, parts.expires.is_some()));
    }
    out.push('\n');
    // Written straight into `out`, with no per-header strings: this runs on every request.
    for name in &parts.signed_headers {
        out.push_str(name);
        out.push(':');
        let mut values = req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
        let Some((_, first)) = values.next() else {
            return Err(AuthError::SignatureMismatch(format!(
                "Header '{name}' is listed in SignedHeaders but is not present in the request."
            )));
        };
        push_trimmed(&mut out, first);
        for (_, v) in values {
            out.push(',');
            push_trimmed(&mut out, v);
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in parts.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// Appends `v` with leading/trailing spaces trimmed and runs of spaces
/// collapsed to one, the SigV4 header-value rule (spaces only, as AWS's
/// signers do).
fn push_trimmed(out: &mut String, v: &str) {
    let v = v.trim_matches(' ');
    let mut prev_space = false;
    for c in v.chars() {
        if c == ' ' {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
}

/// Canonical URI for every service but S3: remove dot segments and empty
/// segments (RFC 3986 §5.2.4), then percent-encode the already-encoded path
/// once more, keeping `/`. For KMS the path is always `/`.
fn canonical_uri(path: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = String::from("/");
    normalized.push_str(&segments.join("/"));
    let ends_with_slash = ["/", "/.", "/..", "/./", "/../"].iter().any(|s| path.ends_with(s));
    if ends_with_slash && !normalized.ends_with('/') {
        normalized.push('/');
    }
    uri_encode(&normalized, false)
}

/// Canonical query string: decode each pair, re-encode with the SigV4
/// unreserved set, sort by encoded name then value. The presigned form drops
/// `X-Amz-Signature`, which cannot sign itself.
fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = parse_query(query)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k, true), uri_encode(&v, true)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Splits `a=1&b=2` into decoded pairs with `application/x-www-form-urlencoded`
/// rules (`+` is a space), which is how AWS's own signers read the query.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() && hex_val(b[i + 1]).is_some() && hex_val(b[i + 2]).is_some() => {
                let hi = hex_val(b[i + 1]).unwrap_or(0);
                let lo = hex_val(b[i + 2]).unwrap_or(0);
                out.push(hi << 4 | lo);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// SigV4 URI encoding: everything but `A-Za-z0-9-_.~` becomes `%XX`
/// (uppercase hex); `/` is kept when `encode_slash` is false.
fn uri_encode(s: &str, encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (b == b'/' && !encode_slash);
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    // Example credentials from AWS's public SigV4 documentation and test suite.
    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const PRINCIPAL: &str = "arn:aws:iam::111122223333:user/example";
    // 2015-08-30T12:36:00Z
    const T0: u64 = 1_440_938_160;

    fn lookup(akid: &str) -> Option<Secret> {
        (akid == AKID).then(|| Secret {
            secret_access_key: SECRET.to_string(),
            session_token: None,
            principal: PRINCIPAL.to_string(),
        })
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn h<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        pairs.to_vec()
    }

    /// Headers of the worked example in AWS's "Create a signed request" docs
    /// (IAM ListUsers, signed at T0).
    fn iam_list_users_headers() -> Vec<(&'static str, &'static str)> {
        h(&[
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("host", "iam.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ])
    }

    /// The request those headers sign.
    fn iam_list_users<'a>(headers: &'a [(&'a str, &'a str)]) -> SignedRequest<'a> {
        SignedRequest { method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08", headers, body: b"" }
    }

    #[test]
    fn derived_signing_key_matches_aws_docs_example() {
        // Published example: secret above, 20150830/us-east-1/iam.
        let key = signing_key(SECRET, "20150830", "us-east-1", "iam");
        let probe = hmac::sign(&key, b"");
        // Recompute the same chain the long way and compare outputs, then
        // pin the documented key bytes via its HMAC over a fixed input.
        let documented = hex::decode("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9").unwrap();
        let expected = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &documented), b"");
        assert_eq!(probe.as_ref(), expected.as_ref());
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        // The "get-vanilla" case of AWS's SigV4 test suite.
        let headers = h(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ]);
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        let v = verify(&req, &lookup, at(T0 + 60)).unwrap();
        assert_eq!(v.region, "us-east-1");
        assert_eq!(v.service, "service");
        assert_eq!(v.account, "111122223333");
        assert_eq!(v.principal, PRINCIPAL);
    }

    #[test]
    fn aws_docs_iam_list_users_example() {
        let headers = iam_list_users_headers();
        let req = iam_list_users(&headers);
        verify(&req, &lookup, at(T0)).unwrap();
        // Reordering the query does not matter (it is sorted), changing it does.
        let req2 = SignedRequest { query: "Version=2010-05-08&Action=ListUsers", ..req };
        verify(&req2, &lookup, at(T0)).unwrap();
        let req3 = SignedRequest { query: "Action=ListRoles&Version=2010-05-08", ..req };
        assert_eq!(verify(&req3, &lookup, at(T0)).unwrap_err().kms_error_type(), "InvalidSignatureException");
    }

    #[test]
    fn cached_signing_keys_verify_exactly_like_fresh_ones() {
        let headers = iam_list_users_headers();
        let req = iam_list_users(&headers);
        let keys = SigningKeys::default();
        let tampered = SignedRequest { query: "Action=ListRoles&Version=2010-05-08", ..req };
        // A failed signature stores nothing.
        assert!(verify_cached(&tampered, &lookup, at(T0), &keys).is_err());
        assert!(keys.is_empty());
        verify_cached(&req, &lookup, at(T0), &keys).unwrap();
        assert_eq!(keys.len(), 1);
        // Served from the cache, and the cache changes no verdict.
        verify_cached(&req, &lookup, at(T0), &keys).unwrap();
        assert_eq!(
            verify_cached(&tampered, &lookup, at(T0), &keys).unwrap_err().kms_error_type(),
            "InvalidSignatureException"
        );
        // A different secret under the same access key id does not reuse the old key.
        let rotated = |akid: &str| lookup(akid).map(|s| Secret { secret_access_key: "another-secret".into(), ..s });
        assert!(verify_cached(&req, &rotated, at(T0), &keys).is_err());
    }

    #[test]
    fn missing_and_malformed() {
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: &[], body: b"{}" };
        let e = verify(&req, &lookup, at(T0)).unwrap_err();
        assert_eq!(e, AuthError::MissingAuthenticationToken);
        assert_eq!(e.kms_error_type(), "MissingAuthenticationTokenException");

        for auth in [
            "Bearer abc",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00, Foo=1",
        ] {
            let headers = h(&[("host", "h"), ("x-amz-date", "20150830T123600Z"), ("authorization", auth)]);
            let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: b"" };
            let e = verify(&req, &lookup, at(T0)).unwrap_err();
            assert_eq!(e.kms_error_type(), "IncompleteSignatureException", "{auth}: {e}");
        }

        // No x-amz-date at all.
        let headers = h(&[
            ("host", "h"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00",
            ),
        ]);
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: b"" };
        assert_eq!(verify(&req, &lookup, at(T0)).unwrap_err().kms_error_type(), "IncompleteSignatureException");
    }

    #[test]
    fn unknown_key_and_scope_date_mismatch() {
        let headers = h(&[
            ("host", "h"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=NOPE/20150830/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ]);
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: b"" };
        let e = verify(&req, &lookup, at(T0)).unwrap_err();
        assert_eq!(e, AuthError::UnrecognizedClient);
        assert_eq!(e.kms_error_type(), "UnrecognizedClientException");

        let headers = h(&[
            ("host", "h"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ]);
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: b"" };
        assert_eq!(verify(&req, &lookup, at(T0)).unwrap_err().kms_error_type(), "InvalidSignatureException");
    }

    #[test]
    fn amz_date_round_trip() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(T0 as i64));
        assert_eq!(format_amz_date(T0 as i64), "20150830T123600Z");
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
        assert_eq!(parse_amz_date("20150832T123600Z"), None);
        assert_eq!(parse_amz_date("2015083OT123600Z"), None);
    }

    #[test]
    fn canonicalization_helpers() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(canonical_uri("/my%20doc"), "/my%2520doc");
        assert_eq!(canonical_query("b=2&a=1&a=0", false), "a=0&a=1&b=2");
        assert_eq!(canonical_query("x=a+b&y=%7e&z", false), "x=a%20b&y=~&z=");
        assert_eq!(canonical_query("X-Amz-Signature=ab&q=1", true), "q=1");
        let mut trimmed = String::from("x:");
        push_trimmed(&mut trimmed, "  a   b  c ");
        assert_eq!(trimmed, "x:a b c");
        assert_eq!(uri_encode("a/b c*", true), "a%2Fb%20c%2A");
    }

    #[test]
    fn unsigned_payload_and_duplicate_headers_rejected() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let headers = h(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("authorization", auth),
        ]);
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        let e = verify(&req, &lookup, at(T0)).unwrap_err();
        assert_eq!(e.kms_error_type(), "InvalidSignatureException");
        assert!(e.to_string().contains("UNSIGNED-PAYLOAD"), "{e}");

        // The empty-body hash spelled out is accepted (it is what was signed).
        let headers = h(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("authorization", auth),
        ]);
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        verify(&req, &lookup, at(T0)).unwrap();

        // Two Authorization headers are ambiguous.
        let headers = h(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", auth),
            ("Authorization", auth),
        ]);
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        assert_eq!(verify(&req, &lookup, at(T0)).unwrap_err().kms_error_type(), "IncompleteSignatureException");

        // Uppercase header names from the HTTP layer are fine.
        let headers =
            h(&[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth)]);
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        verify(&req, &lookup, at(T0)).unwrap();
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret {
            secret_access_key: "VERYSECRET".into(),
            session_token: Some("TOKENVALUE".into()),
            principal: PRINCIPAL.into(),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("VERYSECRET") && !d.contains("TOKENVALUE"), "{d}");
    }
}
