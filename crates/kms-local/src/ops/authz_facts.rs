//! The condition-key values of one request on one key, for key policies.
//!
//! Key policies may test far more than the caller and the encryption context: the transport,
//! the client address, the time, request parameters (algorithms, grant operations, the alias
//! named in the request, ...) and properties of the key. This module answers those keys from
//! the request and the key record. A key that does not apply to the operation is *absent* (as in
//! IAM); a key this emulator cannot know is *unknown*, and the policy evaluator fails closed on
//! it. The request body is parsed only when a policy condition asks for a request parameter, so
//! the common case (the default policy, no conditions) costs nothing.

use std::cell::OnceCell;

use base64::Engine as _;
use serde_json::Value;

use super::Ctx;
use crate::auth::condition_values::{FactSource, Lookup};
use crate::ciphertext::Blob;
use crate::ids::{self, KeyIdForms, KeyRef};
use crate::model::{Key, MrRole, now};

/// What the transport says about a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestInfo<'a> {
    /// The KMS operation name, e.g. `ReEncrypt`.
    pub(crate) operation: &'a str,
    /// The raw JSON request body.
    pub(crate) body: &'a [u8],
    /// The client's IP address as the server saw it.
    pub(crate) source_ip: &'a str,
    /// Whether the request came over TLS (the emulator serves plain HTTP, so never today).
    pub(crate) secure_transport: bool,
}

impl RequestInfo<'_> {
    /// For in-process calls, which never evaluate policies.
    pub(crate) const NONE: RequestInfo<'static> =
        RequestInfo { operation: "", body: b"", source_ip: "", secure_transport: false };
}

/// Facts for authorizing `action` (e.g. `ReEncryptFrom`) on `key`.
pub(crate) struct KeyRequestFacts<'c, 'a> {
    pub(crate) ctx: &'c Ctx<'a>,
    pub(crate) key: &'c Key,
    pub(crate) action: &'c str,
    body: OnceCell<Option<Value>>,
}

impl<'c, 'a> KeyRequestFacts<'c, 'a> {
    /// Facts for one authorization.
    pub(crate) fn new(ctx: &'c Ctx<'a>, key: &'c Key, action: &'c str) -> Self {
        Self { ctx, key, action, body: OnceCell::new() }
    }

    fn body(&self) -> Option<&Value> {
        self.body.get_or_init(|| serde_json::from_slice(self.ctx.request.body).ok()).as_ref()
    }

    /// A request field as text (`None` when missing or not a string/number/bool).
    fn field(&self, name: &str) -> Option<String> {
        match self.body()?.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn op(&self) -> &str {
        self.ctx.request.operation
    }

    fn op_in(&self, ops: &[&str]) -> bool {
        ops.contains(&self.op())
    }

    /// A request parameter for `ops` (with KMS's default when omitted), absent for other ops.
    fn param(&self, ops: &[&str], name: &str, default: Option<&str>) -> Lookup {
        if !self.op_in(ops) {
            return Lookup::Absent;
        }
        match self.field(name).or(default.map(str::to_owned)) {
            Some(v) => Lookup::Present(vec![v]),
            None => Lookup::Absent,
        }
    }

    /// The `KeyId`-like field that named the key being authorized.
    fn key_id_field(&self) -> Option<&'static str> {
        match (self.op(), self.action) {
            ("ReEncrypt", "ReEncryptFrom") => Some("SourceKeyId"),
            ("ReEncrypt", _) => Some("DestinationKeyId"),
            (
                "Encrypt"
                | "Decrypt"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "GenerateDataKeyPair"
                | "GenerateDataKeyPairWithoutPlaintext"
                | "Sign"
                | "Verify"
                | "GenerateMac"
                | "VerifyMac"
                | "DeriveSharedSecret"
                | "Encapsulate"
                | "Decapsulate"
                | "DescribeKey"
                | "GetPublicKey",
                _,
            ) => Some("KeyId"),
            _ => None,
        }
    }

    /// `kms:RequestAlias`: the alias name, when the request named the key by an alias.
    fn request_alias(&self) -> Lookup {
        let Some(raw) = self.key_id_field().and_then(|f| self.field(f)) else {
            return Lookup::Absent;
        };
        match ids::parse_key_ref(&raw, KeyIdForms::AnyForm) {
            Ok(KeyRef::AliasName(name)) | Ok(KeyRef::AliasArn { name, .. }) => Lookup::Present(vec![name]),
            _ => Lookup::Absent,
        }
    }

    /// `kms:ReEncryptOnSameKey`: whether a ReEncrypt's source key (named in the request or in the
    /// ciphertext) and destination key are one key. Absent for other operations, and when either
    /// key cannot be resolved (the request then fails on that key anyway).
    fn reencrypt_on_same_key(&self) -> Lookup {
        if self.op() != "ReEncrypt" {
            return Lookup::Absent;
        }
        let resolve = |raw: &str, forms: KeyIdForms| {
            self.ctx.reg.resolve(&self.ctx.account, &self.ctx.region, raw, forms).ok().map(|k| k.arn.clone())
        };
        let destination = self.field("DestinationKeyId").and_then(|raw| resolve(&raw, KeyIdForms::AnyForm));
        let source = match self.field("SourceKeyId") {
            Some(raw) => resolve(&raw, KeyIdForms::AnyForm),
            None => self.field("CiphertextBlob").and_then(|b64| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
                let blob = Blob::parse(&bytes).ok()?;
                self.ctx
                    .reg
                    .resolve(blob.account, &self.ctx.region, blob.key_id, KeyIdForms::KeyOnly)
                    .ok()
                    .map(|k| k.arn.clone())
            }),
        };
        match (source, destination) {
            (Some(source), Some(destination)) => Lookup::Present(vec![(source == destination).to_string()]),
            _ => Lookup::Absent,
        }
    }

    /// `kms:EncryptionAlgorithm` for the operations that encrypt or decrypt with the key.
    fn encryption_algorithm(&self) -> Lookup {
        const DEFAULT: Option<&str> = Some("SYMMETRIC_DEFAULT");
        match (self.op(), self.action) {
            ("Encrypt" | "Decrypt", _) => self.param(&[self.op()], "EncryptionAlgorithm", DEFAULT),
            ("ReEncrypt", "ReEncryptFrom") => self.param(&["ReEncrypt"], "SourceEncryptionAlgorithm", DEFAULT),
            ("ReEncrypt", _) => self.param(&["ReEncrypt"], "DestinationEncryptionAlgorithm", DEFAULT),
            // Data keys are always encrypted under the symmetric key.
            (
                "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "GenerateDataKeyPair"
                | "GenerateDataKeyPairWithoutPlaintext",
                _,
            ) => Lookup::Present(vec!["SYMMETRIC_DEFAULT".into()]),
            _ => Lookup::Absent,
        }
    }

    /// `kms:GrantOperations` and friends, from a CreateGrant request.
    fn grant_field(&self, key: &str) -> Lookup {
        if self.op() != "CreateGrant" {
            return Lookup::Absent;
        }
        let Some(body) = self.body() else {
            return Lookup::Absent;
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let values = match key {
            "kms:grantoperations" => strings(body.get("Operations")),
            "kms:granteeprincipal" => self.field("GranteePrincipal").into_iter().collect(),
            "kms:retiringprincipal" => self.field("RetiringPrincipal").into_iter().collect(),
            _ => body
                .get("Constraints")
                .and_then(Value::as_object)
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default(),
        };
        if values.is_empty() { Lookup::Absent } else { Lookup::Present(values) }
    }

    /// `aws:RequestTag/<tag>` and `aws:TagKeys` from TagResource/UntagResource.
    fn request_tags(&self, tag: Option<&str>) -> Lookup {
        let Some(body) = self.body() else {
            return Lookup::Absent;
        };
        let values: Vec<String> = match (self.op(), tag) {
            ("TagResource", None) => body
                .get("Tags")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|t| t.get("TagKey")?.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            ("TagResource", Some(wanted)) => body
                .get("Tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|t| {
                            t.get("TagKey").and_then(Value::as_str).is_some_and(|k| k.eq_ignore_ascii_case(wanted))
                        })
                        .filter_map(|t| t.get("TagValue")?.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            ("UntagResource", None) => body
                .get("TagKeys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if values.is_empty() { Lookup::Absent } else { Lookup::Present(values) }
    }

    fn resource_aliases(&self) -> Lookup {
        let names: Vec<String> = self
            .ctx
            .reg
            .aliases_in(&self.key.meta.account, &self.key.meta.region)
            .into_iter()
            .filter(|a| a.target_key_id == self.key.meta.key_id)
            .map(|a| a.name)
            .collect();
        if names.is_empty() { Lookup::Absent } else { Lookup::Present(names) }
    }
}

/// `aws:PrincipalType` of the caller.
fn principal_type(principal: &str) -> Lookup {
    let resource = principal.splitn(6, ':').nth(5).unwrap_or_default();
    let t = if resource == "root" {
        "Account"
    } else if resource.starts_with("user/") {
        "User"
    } else if resource.starts_with("assumed-role/") {
        "AssumedRole"
    } else if resource.starts_with("federated-user/") {
        "FederatedUser"
    } else {
        return Lookup::Unknown;
    };
    Lookup::Present(vec![t.into()])
}

/// `aws:username`: present for IAM users only.
fn username(principal: &str) -> Lookup {
    let resource = principal.splitn(6, ':').nth(5).unwrap_or_default();
    match resource.strip_prefix("user/") {
        Some(path) => Lookup::Present(vec![path.rsplit('/').next().unwrap_or(path).to_owned()]),
        None => Lookup::Absent,
    }
}

/// The condition keys about the transport and the caller, which every request answers whatever
/// key it acts on; `None` for any other key.
fn caller_fact(ctx: &Ctx<'_>, key: &str) -> Option<Lookup> {
    Some(match key {
        "aws:securetransport" => one(ctx.request.secure_transport.to_string()),
        "aws:sourceip" if !ctx.request.source_ip.is_empty() => one(ctx.request.source_ip),
        "aws:currenttime" => one(iso8601(now())),
        "aws:epochtime" => one(now().to_string()),
        "aws:requestedregion" => one(ctx.region.as_str()),
        "aws:principaltype" => principal_type(&ctx.principal),
        "aws:username" => username(&ctx.principal),
        // No AWS service, VPC endpoint or service principal ever calls the emulator.
        "aws:principalisawsservice" | "aws:viaawsservice" => one("false"),
        "aws:calledvia"
        | "aws:calledviafirst"
        | "aws:calledvialast"
        | "aws:sourcevpc"
        | "aws:sourcevpce"
        | "aws:vpcsourceip"
        | "aws:sourcearn"
        | "aws:sourceaccount"
        | "aws:sourceorgid"
        | "aws:sourceorgpaths"
        | "aws:principalservicename"
        | "aws:principalservicenameslist" => Lookup::Absent,
        _ => return None,
    })
}

/// Facts for a request on a key that does not exist yet (the lockout check of CreateKey and
/// ReplicateKey's policy): the transport and the caller are known, anything about the key or
/// the request's parameters is unknown (so conditions on them fail closed).
pub(crate) struct CallerFacts<'c, 'a> {
    pub(crate) ctx: &'c Ctx<'a>,
}

impl FactSource for CallerFacts<'_, '_> {
    fn lookup(&self, key: &str) -> Lookup {
        caller_fact(self.ctx, key).unwrap_or(Lookup::Unknown)
    }
}

/// `YYYY-MM-DDThh:mm:ssZ`, the form `aws:CurrentTime` takes.
fn iso8601(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

fn one(v: impl Into<String>) -> Lookup {
    Lookup::Present(vec![v.into()])
}

impl FactSource for KeyRequestFacts<'_, '_> {
    fn lookup(&self, key: &str) -> Lookup {
        const RESOURCE_TAG: &str = "aws:resourcetag/";
        const REQUEST_TAG: &str = "aws:requesttag/";
        const ATTESTATION: &str = "kms:recipientattestation:";
        let meta = &self.key.meta;
        if let Some(fact) = caller_fact(self.ctx, key) {
            return fact;
        }
        match key {
            // The key.
            "aws:resourceaccount" => one(meta.account.as_str()),
            k if k.starts_with(RESOURCE_TAG) => {
                let wanted = &k[RESOURCE_TAG.len()..];
                match meta.tags.iter().find(|(t, _)| t.to_lowercase() == wanted) {
                    Some((_, v)) => one(v.as_str()),
                    None => Lookup::Absent,
                }
            }
            "kms:keyspec" => one(meta.key_spec.as_str()),
            "kms:keyusage" => one(meta.key_usage.as_str()),
            "kms:keyorigin" => one(meta.origin.as_str()),
            "kms:multiregion" => one(meta.multi_region.is_some().to_string()),
            "kms:multiregionkeytype" => match meta.multi_region {
                Some(MrRole::Primary) => one("PRIMARY"),
                Some(MrRole::Replica) => one("REPLICA"),
                None => Lookup::Absent,
            },
            "kms:resourcealiases" => self.resource_aliases(),
            // Request parameters.
            "kms:requestalias" => self.request_alias(),
            "kms:reencryptonsamekey" => self.reencrypt_on_same_key(),
            "kms:encryptionalgorithm" => self.encryption_algorithm(),
            "kms:signingalgorithm" => self.param(&["Sign", "Verify"], "SigningAlgorithm", None),
            "kms:macalgorithm" => self.param(&["GenerateMac", "VerifyMac"], "MacAlgorithm", None),
            "kms:keyagreementalgorithm" => self.param(&["DeriveSharedSecret"], "KeyAgreementAlgorithm", None),
            "kms:datakeypairspec" => {
                self.param(&["GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"], "KeyPairSpec", None)
            }
            "kms:grantoperations" | "kms:granteeprincipal" | "kms:retiringprincipal" | "kms:grantconstrainttype" => {
                self.grant_field(key)
            }
            "kms:bypasspolicylockoutsafetycheck" => {
                self.param(&["PutKeyPolicy"], "BypassPolicyLockoutSafetyCheck", Some("false"))
            }
            "kms:schedulekeydeletionpendingwindowindays" => {
                self.param(&["ScheduleKeyDeletion"], "PendingWindowInDays", Some("30"))
            }
            "kms:rotationperiodindays" => self.param(&["EnableKeyRotation"], "RotationPeriodInDays", Some("365")),
            "kms:wrappingalgorithm" => self.param(&["GetParametersForImport"], "WrappingAlgorithm", None),
            "kms:wrappingkeyspec" => self.param(&["GetParametersForImport"], "WrappingKeySpec", None),
            "kms:expirationmodel" => {
                self.param(&["ImportKeyMaterial"], "ExpirationModel", Some("KEY_MATERIAL_EXPIRES"))
            }
            "kms:validto" => self.param(&["ImportKeyMaterial"], "ValidTo", None),
            "kms:replicaregion" => self.param(&["ReplicateKey"], "ReplicaRegion", None),
            "kms:primaryregion" => self.param(&["UpdatePrimaryRegion"], "PrimaryRegion", None),
            // Recipient (Nitro Enclaves attestation) is rejected by every operation here.
            k if k.starts_with(ATTESTATION) => Lookup::Absent,
            "aws:tagkeys" => self.request_tags(None),
            k if k.starts_with(REQUEST_TAG) => self.request_tags(Some(&k[REQUEST_TAG.len()..])),
            _ => Lookup::Unknown,
        }
    }
}
