//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Ctx;
use super::lifecycle::Empty;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyIdForms};
use crate::model::{Alias, Key, now};
use crate::wire::paginate;

const MAX_ALIASES_PER_KEY: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasRequest {
    alias_name: String,
    target_key_id: String,
}

pub(crate) fn create_alias(ctx: &Ctx<'_>, r: AliasRequest) -> KmsResult<Empty> {
    ids::check_alias_name(&r.alias_name)?;
    let key = ctx.resolve(&r.target_key_id, KeyIdForms::KeyOnly)?;
    ctx.authorize(&key, "CreateAlias", None)?;
    key.check_not_pending_deletion()?;
    let arn = ids::alias_arn(&ctx.region, &ctx.account, &r.alias_name);
    let mut store = ctx.reg.store();
    if ctx.reg.alias(&arn).is_some() {
        return Err(KmsError::new("AlreadyExistsException", format!("An alias with the name {arn} already exists")));
    }
    let count =
        ctx.reg.aliases_in(&ctx.account, &ctx.region).iter().filter(|a| a.target_key_id == key.meta.key_id).count();
    if count >= MAX_ALIASES_PER_KEY {
        return Err(KmsError::new("LimitExceededException", "A key can have at most 50 aliases."));
    }
    let t = now();
    let alias = Alias {
        arn,
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        name: r.alias_name,
        target_key_id: key.meta.key_id.clone(),
        creation_date: t,
        last_updated_date: t,
    };
    ctx.reg.put_alias(&mut store, alias)?;
    Ok(Empty {})
}

pub(crate) fn update_alias(ctx: &Ctx<'_>, r: AliasRequest) -> KmsResult<Empty> {
    ids::check_alias_name(&r.alias_name)?;
    let arn = ids::alias_arn(&ctx.region, &ctx.account, &r.alias_name);
    let current = ctx.reg.alias(&arn).ok_or_else(|| KmsError::not_found(format!("Alias {arn} is not found.")))?;
    let key = ctx.resolve(&r.target_key_id, KeyIdForms::KeyOnly)?;
    // Re-pointing an alias changes what the users of both keys reach, so KMS requires
    // kms:UpdateAlias on the current target as well as on the new one.
    let old = current_target(ctx, &current, "UpdateAlias")?;
    ctx.authorize(&old, "UpdateAlias", None)?;
    ctx.authorize(&key, "UpdateAlias", None)?;
    key.check_not_pending_deletion()?;
    if old.meta.key_spec != key.meta.key_spec || old.meta.key_usage != key.meta.key_usage {
        return Err(KmsError::validation(
            "The new target key must have the same key spec and key usage as the current target key.",
        ));
    }
    let mut store = ctx.reg.store();
    let alias = Alias { target_key_id: key.meta.key_id.clone(), last_updated_date: now(), ..current };
    ctx.reg.put_alias(&mut store, alias)?;
    Ok(Empty {})
}

/// The key an alias points at now. Authorization depends on it, so an alias whose target
/// cannot be found fails closed rather than skipping the check.
fn current_target(ctx: &Ctx<'_>, alias: &Alias, operation: &str) -> KmsResult<Arc<Key>> {
    let key = ctx.reg.resolve(&alias.account, &alias.region, &alias.target_key_id, KeyIdForms::KeyOnly).map_err(|_| {
        KmsError::access_denied(format!(
            "User: {} is not authorized to perform: kms:{operation} on resource: {} because its target key {} cannot be found",
            ctx.principal, alias.arn, alias.target_key_id
        ))
    })?;
    ctx.touch(&key.arn);
    Ok(key)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteAliasRequest {
    alias_name: String,
}

pub(crate) fn delete_alias(ctx: &Ctx<'_>, r: DeleteAliasRequest) -> KmsResult<Empty> {
    ids::check_alias_name(&r.alias_name)?;
    let arn = ids::alias_arn(&ctx.region, &ctx.account, &r.alias_name);
    let alias = ctx.reg.alias(&arn).ok_or_else(|| KmsError::not_found(format!("Alias {arn} is not found.")))?;
    // KMS requires kms:DeleteAlias on the alias's target key too.
    let key = current_target(ctx, &alias, "DeleteAlias")?;
    ctx.authorize(&key, "DeleteAlias", None)?;
    let mut store = ctx.reg.store();
    ctx.reg.delete_alias(&mut store, &arn)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliasesRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

/// One ListAliases entry. A predefined AWS alias whose key does not exist yet has only a name
/// and an ARN, as in KMS.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasListEntry {
    alias_name: String,
    alias_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_updated_date: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliasesResponse {
    aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    truncated: bool,
}

pub(crate) fn list_aliases(ctx: &Ctx<'_>, r: ListAliasesRequest) -> KmsResult<ListAliasesResponse> {
    let filter = match &r.key_id {
        Some(id) => Some(ctx.resolve(id, KeyIdForms::KeyOnly)?.meta.key_id.clone()),
        None => None,
    };
    let mut entries: Vec<AliasListEntry> = ctx
        .reg
        .aliases_in(&ctx.account, &ctx.region)
        .into_iter()
        .filter(|a| filter.as_ref().is_none_or(|f| &a.target_key_id == f))
        .map(|a| AliasListEntry {
            alias_name: a.name,
            alias_arn: a.arn,
            target_key_id: Some(a.target_key_id),
            creation_date: Some(a.creation_date),
            last_updated_date: Some(a.last_updated_date),
        })
        .collect();
    // KMS lists the predefined AWS aliases of an account even before their AWS managed keys
    // exist, without a target; a KeyId filter leaves them out (they point at no key).
    if filter.is_none() {
        let unused: Vec<String> = super::aws_managed::predefined_alias_names()
            .filter(|name| !entries.iter().any(|e| &e.alias_name == name))
            .collect();
        entries.extend(unused.into_iter().map(|name| AliasListEntry {
            alias_arn: ids::alias_arn(&ctx.region, &ctx.account, &name),
            alias_name: name,
            target_key_id: None,
            creation_date: None,
            last_updated_date: None,
        }));
        entries.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
    }
    let (aliases, next_marker, truncated) = paginate(entries, r.limit, r.marker.as_deref())?;
    Ok(ListAliasesResponse { aliases, next_marker, truncated })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::ops::{NewKey, RequestInfo, create_key_record};
    use crate::state::Registry;
    use crate::store::Store;

    const ACCOUNT: &str = "111122223333";
    const REGION: &str = "us-east-1";

    /// A registry on a fresh data directory, with one key and an alias whose target is gone
    /// (which the API cannot produce, but a damaged or hand-edited store can).
    fn registry_with_dangling_alias(dir: &std::path::Path) -> (Registry, String) {
        let root = crate::seal::RootKey::from_bytes(&[7; 32]).unwrap();
        let store = Store::open(dir, root).unwrap();
        let loaded = store.load().unwrap();
        let reg = Registry::new(store, loaded);
        let key = create_key_record(
            &reg,
            NewKey {
                account: ACCOUNT.into(),
                region: REGION.into(),
                key_id: None,
                spec: crate::keys::KeySpec::SymmetricDefault,
                usage: crate::keys::KeyUsage::EncryptDecrypt,
                origin: crate::keys::Origin::AwsKms,
                description: String::new(),
                policy: None,
                tags: Default::default(),
                multi_region: false,
                material: None,
            },
        )
        .unwrap();
        let t = now();
        let alias = Alias {
            arn: ids::alias_arn(REGION, ACCOUNT, "alias/dangling"),
            account: ACCOUNT.into(),
            region: REGION.into(),
            name: "alias/dangling".into(),
            target_key_id: "00000000-0000-0000-0000-000000000000".into(),
            creation_date: t,
            last_updated_date: t,
        };
        let mut store = reg.store();
        reg.put_alias(&mut store, alias).unwrap();
        drop(store);
        (reg, key.meta.key_id.clone())
    }

    #[test]
    fn alias_with_an_unresolvable_target_fails_closed() {
        let dir = std::env::temp_dir().join(format!("kms-alias-dangling-{}", ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (reg, key_id) = registry_with_dangling_alias(&dir);
        let ctx = Ctx {
            reg: &reg,
            account: ACCOUNT.into(),
            region: REGION.into(),
            principal: format!("arn:aws:iam::{ACCOUNT}:root"),
            policies: true,
            request: RequestInfo::NONE,
            resources: RefCell::new(Vec::new()),
        };
        let update = AliasRequest { alias_name: "alias/dangling".into(), target_key_id: key_id };
        assert_eq!(update_alias(&ctx, update).map(|_| ()).unwrap_err().kind(), "AccessDeniedException");
        let delete = DeleteAliasRequest { alias_name: "alias/dangling".into() };
        assert_eq!(delete_alias(&ctx, delete).map(|_| ()).unwrap_err().kind(), "AccessDeniedException");
        assert!(reg.alias(&ids::alias_arn(REGION, ACCOUNT, "alias/dangling")).is_some());
        drop(reg);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
