//! Operation handlers: one file per family, plus the dispatcher and the per-request context.

mod aliases;
mod asymmetric;
mod authz_facts;
mod aws_managed;
mod custom_stores;
mod grant_ops;
mod import;
mod lifecycle;
mod multi_region;
mod policies;
mod rotation;
mod symmetric;
pub(crate) mod usage;

use std::cell::RefCell;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::grants;
use crate::auth::policy::{Decision, RequestContext};
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyIdForms;
use crate::model::Key;
use crate::state::{Freshness, Registry};
use crate::wire::Context;

pub(crate) use authz_facts::RequestInfo;
pub(crate) use lifecycle::{NewKey, create_key_record};

/// Who is calling, from where, and what the request touched.
pub(crate) struct Ctx<'a> {
    /// All records.
    pub(crate) reg: &'a Registry,
    /// Caller's account.
    pub(crate) account: String,
    /// Region from the credential scope.
    pub(crate) region: String,
    /// Caller's principal ARN.
    pub(crate) principal: String,
    /// Evaluate key policies and grants. True for every request that arrives over HTTP, in
    /// strict and permissive mode alike (a permissive caller is its account's root principal);
    /// false only for the in-process administration calls of [`crate::Emulator::call`].
    pub(crate) policies: bool,
    /// The transport's view of the request, for policy conditions.
    pub(crate) request: RequestInfo<'a>,
    /// Key ARNs the request touched (for the audit event).
    pub(crate) resources: RefCell<Vec<String>>,
}

impl<'a> Ctx<'a> {
    /// Resolves a key id field and records it as a touched resource. A predefined
    /// `alias/aws/...` alias gets its AWS managed key on first use, as in KMS.
    pub(crate) fn resolve(&self, raw: &str, forms: KeyIdForms) -> KmsResult<Arc<Key>> {
        if forms == KeyIdForms::AnyForm {
            aws_managed::provision(self, raw)?;
        }
        let key = self.reg.resolve(&self.account, &self.region, raw, forms)?;
        self.touch(&key.arn);
        Ok(key)
    }

    /// Records a touched resource.
    pub(crate) fn touch(&self, arn: &str) {
        let mut r = self.resources.borrow_mut();
        if !r.iter().any(|a| a == arn) {
            r.push(arn.to_owned());
        }
    }

    /// Authorizes `operation` (KMS operation name, e.g. `Encrypt`, or `ReEncryptFrom`) on `key`:
    /// an explicit deny in the key policy wins, then a policy allow, then any grant that permits
    /// the request.
    pub(crate) fn authorize(&self, key: &Key, operation: &str, context: Option<&Context>) -> KmsResult<()> {
        self.authorize_with_grants(key, operation, context, &|_| true)
    }

    /// Like [`Ctx::authorize`], but only the key policy can allow: for operations whose grant
    /// rules are not "the grantee may do this on the key" (RetireGrant of someone else's grant).
    pub(crate) fn authorize_by_policy(&self, key: &Key, operation: &str) -> KmsResult<()> {
        self.authorize_with_grants(key, operation, None, &|_| false)
    }

    /// Like [`Ctx::authorize`], counting only the grants `grant_ok` accepts (CreateGrant through
    /// a grant must stay within that grant).
    pub(crate) fn authorize_with_grants(
        &self,
        key: &Key,
        operation: &str,
        context: Option<&Context>,
        grant_ok: &dyn Fn(&grants::Grant) -> bool,
    ) -> KmsResult<()> {
        if !self.policies {
            return Ok(());
        }
        let action = format!("kms:{operation}");
        let facts = authz_facts::KeyRequestFacts::new(self, key, operation);
        let rc = RequestContext {
            principal_arn: &self.principal,
            caller_account: &self.account,
            action: &action,
            resource_arn: &key.arn,
            encryption_context: context,
            facts: Some(&facts),
        };
        // A policy that does not parse allows nothing (grants may still apply).
        let decision = self.reg.policy(key).map_or(Decision::ImplicitDeny, |p| p.evaluate(&rc));
        match decision {
            Decision::Allow => return Ok(()),
            Decision::ExplicitDeny => {
                return Err(self.denied(&action, &key.arn, "with an explicit deny in a resource-based policy"));
            }
            Decision::ImplicitDeny => {}
        }
        if self.reg.grants_for(&key.arn).iter().any(|g| grants::permits(g, &rc) && grant_ok(g)) {
            return Ok(());
        }
        Err(self.denied(&action, &key.arn, &format!("because no resource-based policy allows the {action} action")))
    }

    fn denied(&self, action: &str, arn: &str, why: &str) -> KmsError {
        KmsError::access_denied(format!(
            "User: {} is not authorized to perform: {action} on resource: {arn} {why}",
            self.principal
        ))
    }
}

/// Runs one operation: parse the JSON body, execute, serialize the response.
pub(crate) fn dispatch(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> KmsResult<Vec<u8>> {
    let Some(op) = OPERATIONS.iter().find(|op| op.name == operation) else {
        return Err(KmsError::new("UnknownOperationException", format!("Operation {operation} is not supported.")));
    };
    // Another process on the same data directory may have changed records since the last request.
    let freshness = if reads_recent_view(operation) { Freshness::Recent } else { Freshness::Exact };
    let exact = ctx.reg.refresh(freshness);
    let seen = ctx.reg.view_generation();
    let result = (op.run)(ctx, body);
    // A failure on a view up to `RECENT` old may come from what another process just created
    // (a key, alias, material version, grant, enable): check exactly, and if anything changed,
    // run again on the new view. These operations write nothing but idempotent first-use records
    // (lazy rotation, AWS managed keys), so running one twice is safe.
    if result.is_err() && !exact {
        ctx.reg.refresh(Freshness::Exact);
        if ctx.reg.view_generation() != seen {
            ctx.resources.borrow_mut().clear();
            return (op.run)(ctx, body);
        }
    }
    result
}

/// The symmetric data-plane operations: they only read records, run at high rates, and may use a
/// view of other processes' commits up to [`crate::state::RECENT`] old (see `state`).
pub(crate) fn reads_recent_view(operation: &str) -> bool {
    matches!(
        operation,
        "Encrypt"
            | "Decrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateRandom"
            | "GenerateMac"
            | "VerifyMac"
    )
}

/// True for the operations this emulator implements (used to name events and reject early).
pub(crate) fn is_known(operation: &str) -> bool {
    OPERATIONS.iter().any(|op| op.name == operation)
}

/// One operation: its KMS name and its handler, behind the JSON decoding and encoding.
struct Operation {
    name: &'static str,
    run: fn(&Ctx<'_>, &[u8]) -> KmsResult<Vec<u8>>,
}

/// Builds the operation table from `Name => handler` pairs; each handler takes its own request
/// type and returns its own response type, so each entry gets a small adapter through `run`.
macro_rules! operations {
    ($($name:ident => $handler:path,)*) => {
        &[$(Operation { name: stringify!($name), run: |ctx, body| run(ctx, body, $handler) },)*]
    };
}

/// Every operation the emulator implements: the one list both dispatch and `is_known` read.
const OPERATIONS: &[Operation] = operations! {
    CreateKey => lifecycle::create_key,
    DescribeKey => lifecycle::describe_key,
    ListKeys => lifecycle::list_keys,
    EnableKey => lifecycle::enable_key,
    DisableKey => lifecycle::disable_key,
    ScheduleKeyDeletion => lifecycle::schedule_key_deletion,
    CancelKeyDeletion => lifecycle::cancel_key_deletion,
    UpdateKeyDescription => lifecycle::update_key_description,
    TagResource => lifecycle::tag_resource,
    UntagResource => lifecycle::untag_resource,
    ListResourceTags => lifecycle::list_resource_tags,
    CreateAlias => aliases::create_alias,
    UpdateAlias => aliases::update_alias,
    DeleteAlias => aliases::delete_alias,
    ListAliases => aliases::list_aliases,
    Encrypt => symmetric::encrypt,
    Decrypt => symmetric::decrypt,
    ReEncrypt => symmetric::re_encrypt,
    GenerateDataKey => symmetric::generate_data_key,
    GenerateDataKeyWithoutPlaintext => symmetric::generate_data_key_without_plaintext,
    GenerateRandom => symmetric::generate_random,
    GenerateDataKeyPair => asymmetric::generate_data_key_pair,
    GenerateDataKeyPairWithoutPlaintext => asymmetric::generate_data_key_pair_without_plaintext,
    Sign => asymmetric::sign,
    Verify => asymmetric::verify,
    GenerateMac => asymmetric::generate_mac,
    VerifyMac => asymmetric::verify_mac,
    GetPublicKey => asymmetric::get_public_key,
    DeriveSharedSecret => asymmetric::derive_shared_secret,
    Encapsulate => asymmetric::encapsulate,
    Decapsulate => asymmetric::decapsulate,
    EnableKeyRotation => rotation::enable_key_rotation,
    DisableKeyRotation => rotation::disable_key_rotation,
    GetKeyRotationStatus => rotation::get_key_rotation_status,
    RotateKeyOnDemand => rotation::rotate_key_on_demand,
    ListKeyRotations => rotation::list_key_rotations,
    ReplicateKey => multi_region::replicate_key,
    UpdatePrimaryRegion => multi_region::update_primary_region,
    GetParametersForImport => import::get_parameters_for_import,
    ImportKeyMaterial => import::import_key_material,
    DeleteImportedKeyMaterial => import::delete_imported_key_material,
    GetKeyPolicy => policies::get_key_policy,
    PutKeyPolicy => policies::put_key_policy,
    ListKeyPolicies => policies::list_key_policies,
    CreateGrant => grant_ops::create_grant,
    ListGrants => grant_ops::list_grants,
    ListRetirableGrants => grant_ops::list_retirable_grants,
    RetireGrant => grant_ops::retire_grant,
    RevokeGrant => grant_ops::revoke_grant,
    GetKeyLastUsage => usage::get_key_last_usage,
    CreateCustomKeyStore => custom_stores::create_custom_key_store,
    ConnectCustomKeyStore => custom_stores::connect_custom_key_store,
    DisconnectCustomKeyStore => custom_stores::disconnect_custom_key_store,
    DeleteCustomKeyStore => custom_stores::delete_custom_key_store,
    DescribeCustomKeyStores => custom_stores::describe_custom_key_stores,
    UpdateCustomKeyStore => custom_stores::update_custom_key_store,
};

fn run<Req: DeserializeOwned, Resp: Serialize>(
    ctx: &Ctx<'_>,
    body: &[u8],
    f: fn(&Ctx<'_>, Req) -> KmsResult<Resp>,
) -> KmsResult<Vec<u8>> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let req: Req = serde_json::from_slice(body).map_err(|e| serialization_error(&e))?;
    let resp = f(ctx, req)?;
    serde_json::to_vec(&resp).map_err(|_| KmsError::internal("response serialization failed"))
}

fn serialization_error(e: &serde_json::Error) -> KmsError {
    // serde's message names the field and the expected type, never the value of a blob.
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        KmsError::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    } else if text.contains("enum value set") {
        KmsError::validation(text.split(" at line").next().unwrap_or(&text).to_owned())
    } else {
        KmsError::new("SerializationException", format!("Malformed request body: {text}"))
    }
}

/// Fails with DryRunOperationException when DryRun is set (after every other check passed).
pub(crate) fn dry_run_check(dry_run: Option<bool>) -> KmsResult<()> {
    if dry_run == Some(true) { Err(KmsError::dry_run()) } else { Ok(()) }
}
