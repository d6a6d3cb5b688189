//! One audit event written straight from the request's borrowed data: the same JSON line as
//! serializing an [`AuditEvent`](crate::audit::AuditEvent), without building its two dozen owned
//! strings first (this runs for every request the server answers).

use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::Value;

use crate::audit::{identity_of, is_read_only, kms_arn_account};

/// What one audit event records, borrowed.
pub(crate) struct EventFields<'a> {
    pub(crate) event_time: &'a str,
    pub(crate) event_name: &'a str,
    pub(crate) principal: &'a str,
    pub(crate) account: &'a str,
    pub(crate) access_key_id: &'a str,
    pub(crate) source_ip: &'a str,
    pub(crate) region: &'a str,
    pub(crate) user_agent: Option<&'a str>,
    /// Already redacted (see [`crate::audit::redact_request`]).
    pub(crate) request_parameters: &'a Value,
    pub(crate) request_id: &'a str,
    pub(crate) event_id: &'a str,
    /// Key ARNs.
    pub(crate) resources: &'a [String],
    pub(crate) error_code: Option<&'a str>,
    pub(crate) error_message: Option<&'a str>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    event_version: &'static str,
    event_time: &'a str,
    event_source: &'static str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    user_identity: Identity<'a>,
    request_parameters: &'a Value,
    response_elements: Option<()>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    resources: Resources<'a>,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "type")]
    identity_type: &'static str,
    principal_id: &'a str,
    arn: &'a str,
    account_id: &'a str,
    access_key_id: &'a str,
}

/// The `resources` list: every key ARN as an `AWS::KMS::Key` of its account.
struct Resources<'a> {
    arns: &'a [String],
    account: &'a str,
}

#[derive(serde::Serialize)]
struct Resource<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    resource_type: &'static str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.arns.len()))?;
        for arn in self.arns {
            let account_id = kms_arn_account(arn).unwrap_or(self.account);
            seq.serialize_element(&Resource { account_id, resource_type: "AWS::KMS::Key", arn })?;
        }
        seq.end()
    }
}

impl EventFields<'_> {
    /// The event as one line of JSON.
    pub(crate) fn to_json(&self) -> String {
        let (identity_type, principal_id, identity_account) = identity_of(self.principal, self.account);
        let line = Line {
            event_version: "1.08",
            event_time: self.event_time,
            event_source: "kms.amazonaws.com",
            event_name: self.event_name,
            aws_region: self.region,
            source_ip_address: self.source_ip,
            user_agent: self.user_agent,
            user_identity: Identity {
                identity_type,
                principal_id: &principal_id,
                arn: self.principal,
                account_id: identity_account,
                access_key_id: self.access_key_id,
            },
            request_parameters: self.request_parameters,
            response_elements: None,
            request_id: self.request_id,
            event_id: self.event_id,
            read_only: is_read_only(self.event_name),
            resources: Resources { arns: self.resources, account: self.account },
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: self.account,
            error_code: self.error_code,
            error_message: self.error_message,
        };
        // Plain strings, bools and a serde_json::Value cannot fail to serialize.
        serde_json::to_string(&line).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, redact_request};

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// The line and the owned event describe the same call identically, field for field.
    #[test]
    fn same_json_as_the_audit_event() {
        let params = redact_request("Decrypt", &serde_json::json!({"KeyId": KEY, "CiphertextBlob": "AQID"}));
        for (principal, error) in [
            ("arn:aws:iam::111122223333:user/alice", None),
            ("arn:aws:iam::111122223333:root", Some(("AccessDeniedException", "no"))),
            ("arn:aws:sts::444455556666:assumed-role/app/session-1", None),
        ] {
            let mut event = AuditEvent::new(
                "Decrypt",
                principal,
                "111122223333",
                "AKIDALICE",
                "127.0.0.1",
                "us-east-1",
                params.clone(),
                vec![KEY.to_string(), "arn:aws:kms:us-east-1:444455556666:key/other".to_string()],
                error.map(|(code, _)| code.to_string()),
            )
            .with_user_agent("aws-sdk-rust/1.0");
            if let Some((_, message)) = error {
                event = event.with_error_message(message);
            }
            let resources = [KEY.to_string(), "arn:aws:kms:us-east-1:444455556666:key/other".to_string()];
            let line = EventFields {
                event_time: &event.event_time,
                event_name: "Decrypt",
                principal,
                account: "111122223333",
                access_key_id: "AKIDALICE",
                source_ip: "127.0.0.1",
                region: "us-east-1",
                user_agent: Some("aws-sdk-rust/1.0"),
                request_parameters: &params,
                request_id: &event.request_id,
                event_id: &event.event_id,
                resources: &resources,
                error_code: error.map(|(code, _)| code),
                error_message: error.map(|(_, message)| message),
            }
            .to_json();
            assert_eq!(line, serde_json::to_string(&event).unwrap());
        }
    }
}
