//! SigV4 verification checked against AWS's own signer (`aws-sigv4`) as the
//! oracle: whatever it signs must verify, and every tampering must fail with
//! the error type real KMS returns.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::auth::Credentials;
use crate::auth::sigv4::{AuthError, Secret, SignedRequest, Verified, verify};
use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

const AKID: &str = "AKIAEMULATORALICE";
const SECRET: &str = "alice/secret+key=with/odd+chars";
const PRINCIPAL: &str = "arn:aws:iam::111122223333:user/alice";
const BODY: &[u8] = br#"{"KeyId":"alias/app","Plaintext":"aGVsbG8=","EncryptionContext":{"purpose":"test"}}"#;

/// A request as the server sees it after signing.
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    /// Verifies the request as the server would, its headers borrowed as the server borrows them.
    fn verify_with(&self, lookup: &dyn Fn(&str) -> Option<Secret>, now: SystemTime) -> Result<Verified, AuthError> {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let req = SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        verify(&req, lookup, now)
    }

    fn header_mut(&mut self, name: &str) -> &mut String {
        &mut self.headers.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no header {name}")).1
    }
}

struct SignSpec<'a> {
    method: &'a str,
    uri: &'a str,
    headers: Vec<(&'a str, String)>,
    body: &'a [u8],
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    time: SystemTime,
    settings: SigningSettings,
}

fn kms_spec(time: SystemTime) -> SignSpec<'static> {
    SignSpec {
        method: "POST",
        uri: "http://127.0.0.1:4566/",
        headers: vec![
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", "TrentService.Encrypt".to_string()),
            ("content-length", BODY.len().to_string()),
            ("host", "127.0.0.1:4566".to_string()),
        ],
        body: BODY,
        secret: SECRET,
        token: None,
        region: "us-east-1",
        time,
        settings: SigningSettings::default(),
    }
}

/// Signs with aws-sigv4 and returns the request in wire form.
fn sign_with_oracle(spec: SignSpec<'_>) -> Wire {
    let identity: Identity =
        AwsCredentials::new(AKID, spec.secret, spec.token.map(str::to_string), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(spec.region)
        .name("kms")
        .time(spec.time)
        .settings(spec.settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        spec.method,
        spec.uri,
        spec.headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(spec.body),
    )
    .unwrap();
    let (instructions, _sig) = sign(signable, &params).unwrap().into_parts();
    let mut builder = http::Request::builder().method(spec.method).uri(spec.uri);
    for (k, v) in &spec.headers {
        builder = builder.header(*k, v);
    }
    let mut req = builder.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap().to_string())).collect();
    Wire {
        method: spec.method.to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        headers,
        body: spec.body.to_vec(),
    }
}

fn lookup_with_token(token: Option<&'static str>) -> impl Fn(&str) -> Option<Secret> {
    move |akid: &str| {
        (akid == AKID).then(|| Secret {
            secret_access_key: SECRET.to_string(),
            session_token: token.map(str::to_string),
            principal: PRINCIPAL.to_string(),
        })
    }
}

fn lookup(akid: &str) -> Option<Secret> {
    lookup_with_token(None)(akid)
}

fn t0() -> SystemTime {
    // 2024-05-06T07:08:09Z
    UNIX_EPOCH + Duration::from_secs(1_714_979_289)
}

fn err_type(wire: &Wire, now: SystemTime) -> &'static str {
    wire.verify_with(&lookup, now).expect_err("verification should fail").kms_error_type()
}

#[test]
fn valid_request_verifies() {
    let wire = sign_with_oracle(kms_spec(t0()));
    let v = wire.verify_with(&lookup, t0()).unwrap();
    assert_eq!(
        v,
        Verified {
            access_key_id: AKID.to_string(),
            region: "us-east-1".to_string(),
            service: "kms".to_string(),
            principal: PRINCIPAL.to_string(),
            account: "111122223333".to_string(),
        }
    );
    // Clock skew inside the window is fine either way.
    wire.verify_with(&lookup, t0() + Duration::from_secs(14 * 60)).unwrap();
    wire.verify_with(&lookup, t0() - Duration::from_secs(14 * 60)).unwrap();
}

#[test]
fn credentials_file_lookup_works_with_verify() {
    let creds = Credentials::from_json(&format!(
        r#"{{"credentials": [{{"access_key_id": "{AKID}", "secret_access_key": "{SECRET}", "principal": "{PRINCIPAL}"}}]}}"#
    ))
    .unwrap();
    let wire = sign_with_oracle(kms_spec(t0()));
    let v = wire.verify_with(&|k| creds.secret(k), t0()).unwrap();
    assert_eq!(v.account, "111122223333");
}

#[test]
fn flipped_body_byte_fails() {
    for i in [0, BODY.len() / 2, BODY.len() - 1] {
        let mut wire = sign_with_oracle(kms_spec(t0()));
        wire.body[i] ^= 0x01;
        assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");
    }
}

#[test]
fn wrong_secret_fails() {
    let mut spec = kms_spec(t0());
    spec.secret = "not-the-secret";
    let wire = sign_with_oracle(spec);
    let e = wire.verify_with(&lookup, t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
    assert!(e.to_string().contains("does not match"), "{e}");
}

#[test]
fn region_tampering_in_scope_fails() {
    let mut wire = sign_with_oracle(kms_spec(t0()));
    let auth = wire.header_mut("authorization");
    assert!(auth.contains("/us-east-1/kms/aws4_request"));
    *auth = auth.replace("/us-east-1/", "/us-west-2/");
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");

    // Service tampering likewise.
    let mut wire = sign_with_oracle(kms_spec(t0()));
    let auth = wire.header_mut("authorization");
    *auth = auth.replace("/kms/aws4_request", "/s3/aws4_request");
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");
}

#[test]
fn header_changes() {
    // A signed header changed after signing fails...
    let mut wire = sign_with_oracle(kms_spec(t0()));
    *wire.header_mut("x-amz-target") = "TrentService.Decrypt".to_string();
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");

    let mut wire = sign_with_oracle(kms_spec(t0()));
    *wire.header_mut("host") = "evil.example:4566".to_string();
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");

    // ...removing one fails...
    let mut wire = sign_with_oracle(kms_spec(t0()));
    wire.headers.retain(|(k, _)| k != "content-type");
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");

    // ...changing the date header fails...
    let mut wire = sign_with_oracle(kms_spec(t0()));
    *wire.header_mut("x-amz-date") = "20240506T070810Z".to_string();
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");

    // ...while a header outside SignedHeaders may change freely.
    let mut spec = kms_spec(t0());
    spec.headers.push(("user-agent", "sdk/1".to_string()));
    spec.settings.excluded_headers = Some(vec!["user-agent".into()]);
    let mut wire = sign_with_oracle(spec);
    assert!(!wire.header_mut("authorization").contains("user-agent"));
    *wire.header_mut("user-agent") = "something-else/2".to_string();
    wire.verify_with(&lookup, t0()).unwrap();
    // Extra unsigned headers are ignored too.
    wire.headers.push(("x-forwarded-for".to_string(), "10.0.0.1".to_string()));
    wire.verify_with(&lookup, t0()).unwrap();
}

#[test]
fn header_values_are_canonicalized() {
    let mut spec = kms_spec(t0());
    spec.headers.push(("x-amz-meta-note", "  several   spaces here  ".to_string()));
    let mut wire = sign_with_oracle(spec);
    wire.verify_with(&lookup, t0()).unwrap();
    // A proxy re-spacing the value does not change its canonical form.
    *wire.header_mut("x-amz-meta-note") = "several spaces here".to_string();
    wire.verify_with(&lookup, t0()).unwrap();
    *wire.header_mut("x-amz-meta-note") = "several spaces there".to_string();
    assert_eq!(err_type(&wire, t0()), "InvalidSignatureException");
}

#[test]
fn expired_and_future_dates() {
    let wire = sign_with_oracle(kms_spec(t0()));
    let later = t0() + Duration::from_secs(16 * 60);
    let e = wire.verify_with(&lookup, later).unwrap_err();
    assert!(matches!(e, AuthError::SignatureExpired(_)));
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
    assert!(e.to_string().starts_with("Signature expired: 20240506T070809Z is now earlier than"), "{e}");

    let earlier = t0() - Duration::from_secs(16 * 60);
    let e = wire.verify_with(&lookup, earlier).unwrap_err();
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
    assert!(e.to_string().contains("not yet current"), "{e}");
}

#[test]
fn missing_authorization_header() {
    let mut wire = sign_with_oracle(kms_spec(t0()));
    wire.headers.retain(|(k, _)| k != "authorization");
    let e = wire.verify_with(&lookup, t0()).unwrap_err();
    assert_eq!(e, AuthError::MissingAuthenticationToken);
    assert_eq!(e.kms_error_type(), "MissingAuthenticationTokenException");
}

#[test]
fn unknown_access_key() {
    let wire = sign_with_oracle(kms_spec(t0()));
    let e = wire.verify_with(&|_| None, t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "UnrecognizedClientException");
}

#[test]
fn session_tokens() {
    let mut spec = kms_spec(t0());
    spec.token = Some("session-token-1");
    let wire = sign_with_oracle(spec);
    assert!(wire.headers.iter().any(|(k, _)| k == "x-amz-security-token"));
    wire.verify_with(&lookup_with_token(Some("session-token-1")), t0()).unwrap();

    // Wrong token (validly signed by someone holding the secret).
    let e = wire.verify_with(&lookup_with_token(Some("session-token-2")), t0()).unwrap_err();
    assert_eq!(e, AuthError::InvalidSecurityToken);
    assert_eq!(e.kms_error_type(), "UnrecognizedClientException");

    // Token presented for a credential that has none.
    let e = wire.verify_with(&lookup, t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "UnrecognizedClientException");

    // Token required but not presented.
    let wire = sign_with_oracle(kms_spec(t0()));
    let e = wire.verify_with(&lookup_with_token(Some("session-token-1")), t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "UnrecognizedClientException");

    // Swapping the token header after signing breaks the signature first.
    let mut spec = kms_spec(t0());
    spec.token = Some("session-token-1");
    let mut wire = sign_with_oracle(spec);
    *wire.header_mut("x-amz-security-token") = "session-token-2".to_string();
    let e = wire.verify_with(&lookup_with_token(Some("session-token-2")), t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
}

#[test]
fn content_sha256_header() {
    let mut spec = kms_spec(t0());
    spec.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let wire = sign_with_oracle(spec);
    assert!(wire.headers.iter().any(|(k, _)| k == "x-amz-content-sha256"));
    wire.verify_with(&lookup, t0()).unwrap();

    let mut spec = kms_spec(t0());
    spec.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let mut wire = sign_with_oracle(spec);
    wire.body[3] ^= 0x20;
    let e = wire.verify_with(&lookup, t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
    assert!(e.to_string().contains("x-amz-content-sha256"), "{e}");
}

#[test]
fn presigned_query_form() {
    let mut spec = kms_spec(t0());
    spec.settings.signature_location = SignatureLocation::QueryParams;
    spec.settings.expires_in = Some(Duration::from_secs(300));
    let wire = sign_with_oracle(spec);
    assert!(wire.query.contains("X-Amz-Signature="), "{}", wire.query);
    assert!(!wire.headers.iter().any(|(k, _)| k == "authorization"));
    let v = wire.verify_with(&lookup, t0() + Duration::from_secs(299)).unwrap();
    assert_eq!(v.region, "us-east-1");

    // Past X-Amz-Expires.
    let e = wire.verify_with(&lookup, t0() + Duration::from_secs(301)).unwrap_err();
    assert_eq!(e.kms_error_type(), "InvalidSignatureException");
    assert!(e.to_string().contains("Signature expired"), "{e}");

    // Tampered expiry, credential, or body.
    let mut w = sign_with_oracle({
        let mut s = kms_spec(t0());
        s.settings.signature_location = SignatureLocation::QueryParams;
        s.settings.expires_in = Some(Duration::from_secs(300));
        s
    });
    w.query = w.query.replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    assert_eq!(err_type(&w, t0()), "InvalidSignatureException");
    let mut w2 = sign_with_oracle({
        let mut s = kms_spec(t0());
        s.settings.signature_location = SignatureLocation::QueryParams;
        s.settings.expires_in = Some(Duration::from_secs(300));
        s
    });
    w2.body[0] = b' ';
    assert_eq!(err_type(&w2, t0()), "InvalidSignatureException");
    w2.query = w2.query.replace("us-east-1", "eu-west-1");
    assert_eq!(err_type(&w2, t0()), "InvalidSignatureException");
}

#[test]
fn presigned_with_session_token() {
    let mut spec = kms_spec(t0());
    spec.settings.signature_location = SignatureLocation::QueryParams;
    spec.settings.expires_in = Some(Duration::from_secs(60));
    spec.token = Some("tok/with+chars=");
    let wire = sign_with_oracle(spec);
    assert!(wire.query.contains("X-Amz-Security-Token="));
    wire.verify_with(&lookup_with_token(Some("tok/with+chars=")), t0()).unwrap();
    let e = wire.verify_with(&lookup_with_token(Some("other")), t0()).unwrap_err();
    assert_eq!(e.kms_error_type(), "UnrecognizedClientException");
}

#[test]
fn paths_and_query_strings() {
    for (uri, host) in [
        ("https://kms.us-east-1.amazonaws.com/", "kms.us-east-1.amazonaws.com"),
        ("http://localhost:8080/some/path?b=2&a=1&a=0", "localhost:8080"),
        ("http://localhost/a%20b/c~d?x=hello%20world&y=%2F%2B&z=", "localhost"),
        ("http://localhost/./a/../b//c/?Action=List&Version=2014-11-01", "localhost"),
        ("http://localhost/%E2%9C%93?unicode=%E2%9C%93&empty", "localhost"),
    ] {
        let mut spec = kms_spec(t0());
        spec.method = "GET";
        spec.uri = uri;
        spec.body = b"";
        spec.headers = vec![("host", host.to_string())];
        let wire = sign_with_oracle(spec);
        wire.verify_with(&lookup, t0()).unwrap_or_else(|e| panic!("{uri}: {e}"));

        // Changing the path or the query must break the signature.
        let mut w = sign_with_oracle({
            let mut s = kms_spec(t0());
            s.method = "GET";
            s.uri = uri;
            s.body = b"";
            s.headers = vec![("host", host.to_string())];
            s
        });
        w.path.push('x');
        assert_eq!(err_type(&w, t0()), "InvalidSignatureException", "{uri}");
        w.path.pop();
        w.query.push_str("&extra=1");
        assert_eq!(err_type(&w, t0()), "InvalidSignatureException", "{uri}");
        w.query.truncate(w.query.len() - "&extra=1".len());
        w.method = "POST".to_string();
        assert_eq!(err_type(&w, t0()), "InvalidSignatureException", "{uri}");
    }
}

#[test]
fn many_random_requests_round_trip() {
    // Deterministic pseudo-random bodies, regions and header values.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..100 {
        let len = (next() % 2048) as usize;
        let body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let region = ["us-east-1", "eu-central-1", "ap-southeast-2", "local"][i % 4];
        let when = t0() + Duration::from_secs(next() % 100_000_000);
        let note = format!(" v{}  {} ", next() % 1000, "x".repeat((next() % 5) as usize));
        let spec = SignSpec {
            method: "POST",
            uri: "http://127.0.0.1:4566/",
            headers: vec![
                ("content-type", "application/x-amz-json-1.1".to_string()),
                ("x-amz-target", "TrentService.GenerateDataKey".to_string()),
                ("content-length", body.len().to_string()),
                ("host", "127.0.0.1:4566".to_string()),
                ("x-amz-user-agent", note),
            ],
            body: &body,
            secret: SECRET,
            token: None,
            region,
            time: when,
            settings: SigningSettings::default(),
        };
        let wire = sign_with_oracle(spec);
        let v = wire.verify_with(&lookup, when).unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(v.region, region);
        if !wire.body.is_empty() {
            let mut bad = wire;
            let idx = (next() as usize) % bad.body.len();
            bad.body[idx] = bad.body[idx].wrapping_add(1);
            assert_eq!(err_type(&bad, when), "InvalidSignatureException", "case {i}");
        }
    }
}
