//! The request pipeline: parse → authenticate → execute (resolve, authorize, act) → audit.

use std::cell::RefCell;
use std::time::SystemTime;

use crate::audit::{format_iso8601, random_uuid_pair, redact_body};
use crate::audit_line::EventFields;
use crate::auth::signing_keys::SigningKeys;
use crate::auth::{Credentials, sigv4};
use crate::error::KmsError;
use crate::limits::Limits;
use crate::model::now;
use crate::ops::{self, Ctx, RequestInfo};
use crate::state::Registry;
use crate::store::{AuditRecord, AuditSink, AuditSlot};

/// One HTTP request, as the pipeline needs it.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// Method.
    pub(crate) method: &'a str,
    /// Path.
    pub(crate) path: &'a str,
    /// Raw query string.
    pub(crate) query: &'a str,
    /// Headers with lowercase names, borrowed from the HTTP request.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// Body.
    pub(crate) body: &'a [u8],
    /// Client address.
    pub(crate) source_ip: &'a str,
}

/// The pipeline's answer.
#[derive(Debug)]
pub(crate) struct Response {
    /// HTTP status.
    pub(crate) status: u16,
    /// JSON body.
    pub(crate) body: Vec<u8>,
    /// Request id (also in the audit event).
    pub(crate) request_id: String,
    /// `__type` of an error response, for the `x-amzn-ErrorType` header.
    pub(crate) error_type: Option<&'static str>,
}

/// Identity established for one request.
struct Caller {
    account: String,
    region: String,
    principal: String,
    access_key_id: String,
}

/// The emulator's shared state.
///
/// ```
/// use envelope_kms_local::{Emulator, Settings};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("envelope-doc-emulator-{}", std::process::id()));
/// let emulator = Emulator::open(&Settings::new(&dir))?;
/// assert!(!emulator.strict(), "no credentials file: any signature is accepted");
///
/// // Administration in-process, as the default account's root (not audited).
/// let created = emulator.call(emulator.default_region(), "CreateKey", &serde_json::json!({"Description": "example"}))?;
/// assert!(created["KeyMetadata"]["Arn"].as_str().is_some_and(|arn| arn.starts_with("arn:aws:kms:us-east-1:")));
/// assert_eq!((emulator.audit_queue_len(), emulator.audit_queue_peak()), (0, 0));
/// emulator.close(); // flushes the audit log; once, when done with it
/// drop(emulator);
///
/// // Serve AWS SDK clients on a local port until the shutdown future resolves (then it closes).
/// let server = Emulator::open(&Settings::new(&dir))?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// println!("AWS_ENDPOINT_URL_KMS=http://{}", listener.local_addr()?);
/// server.serve(listener, async {}).await;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Emulator {
    pub(crate) reg: Registry,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) signing_keys: SigningKeys,
    pub(crate) audit: AuditSink,
    pub(crate) default_account: String,
    pub(crate) default_region: String,
    pub(crate) limits: Limits,
}

fn header<'h>(headers: &[(&'h str, &'h str)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

impl Emulator {
    /// True when SigV4 signatures are verified and policies enforced.
    pub fn strict(&self) -> bool {
        self.credentials.is_some()
    }

    /// Handles one request end to end; its audit event goes into the queue room `audit_slot`
    /// holds (see [`AuditSink::reserve`]).
    pub(crate) fn handle(&self, req: &Request<'_>, audit_slot: AuditSlot) -> Response {
        let operation: &str =
            header(req.headers, "x-amz-target").and_then(|t| t.strip_prefix("TrentService.")).unwrap_or("");
        let caller = self.authenticate(req);
        let (result, caller) = match caller {
            Err(e) => (Err(e), None),
            Ok(c) => {
                let r = if req.method != "POST" {
                    Err(KmsError::new("UnknownOperationException", "KMS accepts only POST requests."))
                } else if !ops::is_known(operation) {
                    Err(KmsError::new("UnknownOperationException", format!("Unknown operation {operation:?}.")))
                } else {
                    Ok(())
                };
                (r, Some(c))
            }
        };
        let ctx = caller.as_ref().map(|c| Ctx {
            reg: &self.reg,
            account: c.account.clone(),
            region: c.region.clone(),
            principal: c.principal.clone(),
            policies: true,
            // The emulator serves plain HTTP only, so aws:SecureTransport is always false.
            request: RequestInfo { operation, body: req.body, source_ip: req.source_ip, secure_transport: false },
            resources: RefCell::new(Vec::new()),
        });
        let result = match (result, &ctx) {
            (Ok(()), Some(ctx)) => ops::dispatch(ctx, operation, req.body),
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(KmsError::internal("no caller")),
        };
        let resources = ctx.map(|c| c.resources.into_inner()).unwrap_or_default();
        let request_id = self.audit_event(req, audit_slot, operation, caller.as_ref(), &resources, &result);
        match result {
            Ok(body) => Response { status: 200, body, request_id, error_type: None },
            Err(e) => Response { status: e.status(), body: e.to_body(), request_id, error_type: Some(e.kind()) },
        }
    }

    fn authenticate(&self, req: &Request<'_>) -> Result<Caller, KmsError> {
        match &self.credentials {
            Some(creds) => {
                let signed = sigv4::SignedRequest {
                    method: req.method,
                    path: req.path,
                    query: req.query,
                    headers: req.headers,
                    body: req.body,
                };
                let v =
                    sigv4::verify_kms_cached(&signed, &|ak| creds.secret(ak), SystemTime::now(), &self.signing_keys)
                        .map_err(|e| KmsError::new(e.kms_error_type(), e.message()))?;
                Ok(Caller {
                    account: v.account,
                    region: v.region,
                    principal: v.principal,
                    access_key_id: v.access_key_id,
                })
            }
            None => {
                // Permissive mode: any signature; Region from the credential scope. A 12-digit
                // access key id selects that account, so multi-account tests need no config.
                // The Region still must be a valid Region name: it goes into ARNs.
                let (access_key_id, region) = sigv4::permissive_kms_scope(req.headers)
                    .map_err(|e| KmsError::new(e.kms_error_type(), e.message()))?
                    .unwrap_or_else(|| (String::new(), self.default_region.clone()));
                let account = if crate::ids::is_account(&access_key_id) {
                    access_key_id.clone()
                } else {
                    self.default_account.clone()
                };
                let principal = format!("arn:aws:iam::{account}:root");
                Ok(Caller { account, region, principal, access_key_id })
            }
        }
    }

    /// Records the audit event and returns its request id.
    fn audit_event(
        &self,
        req: &Request<'_>,
        audit_slot: AuditSlot,
        operation: &str,
        caller: Option<&Caller>,
        resources: &[String],
        result: &Result<Vec<u8>, KmsError>,
    ) -> String {
        let params = if req.body.is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            redact_body(operation, req.body)
        };
        let name = if operation.is_empty() { "Unknown" } else { operation };
        let (principal, account, akid, region) = match caller {
            Some(c) => (c.principal.as_str(), c.account.as_str(), c.access_key_id.as_str(), c.region.as_str()),
            None => ("anonymous", self.default_account.as_str(), "", self.default_region.as_str()),
        };
        let error = result.as_ref().err();
        let (request_id, event_id) = random_uuid_pair();
        let t = now();
        let event_time = format_iso8601(SystemTime::now());
        let json = EventFields {
            event_time: &event_time,
            event_name: name,
            principal,
            account,
            access_key_id: akid,
            source_ip: req.source_ip,
            region,
            user_agent: header(req.headers, "user-agent"),
            request_parameters: &params,
            request_id: &request_id,
            event_id: &event_id,
            resources,
            error_code: error.map(KmsError::kind),
            error_message: error.map(KmsError::message),
        }
        .to_json();
        if error.is_none() && ops::usage::TRACKED.contains(&operation) {
            for arn in resources {
                self.reg.note_usage(arn, operation, t, &event_id, &request_id);
            }
        }
        self.audit.record(
            audit_slot,
            AuditRecord {
                event_time: t,
                key_arn: resources.first().cloned(),
                event_name: name.to_owned(),
                ok: error.is_none(),
                json,
            },
        );
        request_id
    }

    /// Runs one operation in-process as the default account's root (administration tools such
    /// as `envelope kms create-key`); no signature, no policy checks, no audit event.
    pub fn call(
        &self,
        region: &str,
        operation: &str,
        request: &serde_json::Value,
    ) -> Result<serde_json::Value, KmsError> {
        if !ops::is_known(operation) {
            return Err(KmsError::new("UnknownOperationException", format!("Unknown operation {operation:?}.")));
        }
        let ctx = Ctx {
            reg: &self.reg,
            account: self.default_account.clone(),
            region: region.to_owned(),
            principal: format!("arn:aws:iam::{}:root", self.default_account),
            policies: false,
            request: RequestInfo::NONE,
            resources: RefCell::new(Vec::new()),
        };
        let body = serde_json::to_vec(request).map_err(|_| KmsError::internal("request serialization"))?;
        let out = ops::dispatch(&ctx, operation, &body)?;
        serde_json::from_slice(&out).map_err(|_| KmsError::internal("response parse"))
    }

    /// The default Region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// Audit events accepted and not yet written to disk (bounded by [`Limits::audit_queue`]).
    pub fn audit_queue_len(&self) -> usize {
        self.audit.queued()
    }

    /// The most audit events that were ever waiting for the disk at once.
    pub fn audit_queue_peak(&self) -> usize {
        self.audit.peak()
    }

    /// Flushes the audit log (call once, at shutdown).
    pub fn close(&self) {
        self.audit.close();
    }
}

#[cfg(test)]
mod tests {
    use crate::{Emulator, Settings};

    #[test]
    fn a_recent_view_miss_is_rechecked_exactly() {
        let dir = std::env::temp_dir().join(format!("kms-server-{}", crate::ids::new_hex_id()));
        let mut settings = Settings::new(&dir);
        settings.root_key = None;
        // Two emulators on one data directory stand for two processes.
        let a = Emulator::open(&settings).unwrap();
        let b = Emulator::open(&settings).unwrap();
        let random = serde_json::json!({"NumberOfBytes": 16});
        a.call("us-east-1", "GenerateRandom", &random).unwrap();
        let created = b.call("us-east-1", "CreateKey", &serde_json::json!({})).unwrap();
        let key_id = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
        // `a` last read the counter just now, so its Encrypt runs on a view without the new key;
        // the NotFound that view gives must be re-checked against the database, not answered.
        a.reg.mark_probed_now();
        let reads = a.reg.probe_reads();
        let out = a.call("us-east-1", "Encrypt", &serde_json::json!({"KeyId": key_id, "Plaintext": "aGVsbG8="}));
        assert!(out.is_ok(), "{out:?}");
        assert_eq!(a.reg.probe_reads(), reads + 1, "one exact check, on the failure only");
        a.close();
        b.close();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
