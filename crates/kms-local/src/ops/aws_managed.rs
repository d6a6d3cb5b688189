//! AWS managed keys. Each AWS service that integrates with KMS has a predefined alias
//! `alias/aws/<service>`; KMS creates the key behind it the first time the alias is used (AWS
//! services call DescribeKey for this). The key has `KeyManager: AWS`, rotates every year, and
//! its key policy allows cryptographic use only through that service (`kms:ViaService`) and
//! metadata reads to the account, so a direct Encrypt with the alias is denied by the policy.
//! Nobody can create, re-point or delete these aliases (see `ids::check_alias_name`).

use std::sync::Mutex;

use super::{Ctx, NewKey, create_key_record};
use crate::error::KmsResult;
use crate::ids::{self, KeyIdForms, KeyRef, RESERVED_ALIAS_PREFIX};
use crate::keys::{KeySpec, KeyUsage, Origin};
use crate::model::{Alias, now};

/// Days between automatic rotations of an AWS managed key (KMS rotates them yearly).
const ROTATION_DAYS: u32 = 365;

/// A predefined alias: the part after `alias/aws/`, the service name in `kms:ViaService`, and
/// what the key protects (for its description).
struct Predefined {
    alias: &'static str,
    via_service: &'static str,
    protects: &'static str,
}

const fn predefined(alias: &'static str, via_service: &'static str, protects: &'static str) -> Predefined {
    Predefined { alias, via_service, protects }
}

/// The predefined aliases of commonly integrated services.
const PREDEFINED: &[Predefined] = &[
    predefined("acm", "acm", "ACM private keys"),
    predefined("backup", "backup", "Backup vaults"),
    predefined("codecommit", "codecommit", "CodeCommit repositories"),
    predefined("dynamodb", "dynamodb", "DynamoDB tables"),
    predefined("ebs", "ec2", "EBS volumes"),
    predefined("elasticfilesystem", "elasticfilesystem", "EFS file systems"),
    predefined("es", "es", "OpenSearch domains"),
    predefined("glue", "glue", "Glue data"),
    predefined("kinesis", "kinesis", "Kinesis data streams"),
    predefined("kinesisvideo", "kinesisvideo", "Kinesis video streams"),
    predefined("lambda", "lambda", "Lambda functions"),
    predefined("logs", "logs", "CloudWatch log groups"),
    predefined("rds", "rds", "RDS database volumes"),
    predefined("redshift", "redshift", "Redshift clusters"),
    predefined("s3", "s3", "S3 objects"),
    predefined("secretsmanager", "secretsmanager", "Secrets Manager secrets"),
    predefined("sns", "sns", "SNS topics"),
    predefined("sqs", "sqs", "SQS messages"),
    predefined("ssm", "ssm", "SSM parameters"),
    predefined("xray", "xray", "X-Ray traces"),
];

/// The name of every predefined alias (`alias/aws/<service>`). ListAliases shows those without a
/// key yet with no target, as KMS does.
pub(crate) fn predefined_alias_names() -> impl Iterator<Item = String> {
    PREDEFINED.iter().map(|p| format!("{RESERVED_ALIAS_PREFIX}{}", p.alias))
}

/// Serializes first-use creation so two concurrent first uses make one key, not two.
static PROVISIONING: Mutex<()> = Mutex::new(());

/// Creates the AWS managed key behind `raw` when `raw` names a predefined alias of the caller's
/// account and Region that has no key yet. Any other identifier is left to the normal lookup.
pub(crate) fn provision(ctx: &Ctx<'_>, raw: &str) -> KmsResult<()> {
    // Cheap test first: this runs on every lookup that accepts aliases.
    if !raw.starts_with(RESERVED_ALIAS_PREFIX) && !raw.contains(":alias/aws/") {
        return Ok(());
    }
    let name = match ids::parse_key_ref(raw, KeyIdForms::AnyForm) {
        Ok(KeyRef::AliasName(name)) => name,
        Ok(KeyRef::AliasArn { region, account, name }) if region == ctx.region && account == ctx.account => name,
        _ => return Ok(()),
    };
    let Some(service) = name.strip_prefix(RESERVED_ALIAS_PREFIX).and_then(|s| PREDEFINED.iter().find(|p| p.alias == s))
    else {
        return Ok(());
    };
    let alias_arn = ids::alias_arn(&ctx.region, &ctx.account, &name);
    if ctx.reg.alias(&alias_arn).is_some() {
        return Ok(());
    }
    let _once = PROVISIONING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if ctx.reg.alias(&alias_arn).is_some() {
        return Ok(());
    }
    let key = create_key_record(
        ctx.reg,
        NewKey {
            account: ctx.account.clone(),
            region: ctx.region.clone(),
            key_id: None,
            spec: KeySpec::SymmetricDefault,
            usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            description: format!("Default key that protects my {} when no other key is defined", service.protects),
            policy: Some(key_policy(&ctx.account, &ctx.region, service)),
            tags: Default::default(),
            multi_region: false,
            material: None,
        },
    )?;
    let created = now();
    ctx.reg.update_key(&key.arn, |k| {
        k.meta.aws_managed = true;
        k.meta.rotation_enabled = true;
        k.meta.rotation_period_days = Some(ROTATION_DAYS);
        k.meta.next_rotation_date = Some(created + i64::from(ROTATION_DAYS) * 86_400);
        Ok(())
    })?;
    tracing::info!(alias = %alias_arn, key = %key.arn, "created AWS managed key on first use");
    let alias = Alias {
        arn: alias_arn,
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        name,
        target_key_id: key.meta.key_id.clone(),
        creation_date: created,
        last_updated_date: created,
    };
    let mut store = ctx.reg.store();
    ctx.reg.put_alias(&mut store, alias)
}

/// The key policy KMS gives an AWS managed key: use through the service by principals of the
/// account, and direct metadata access for the account.
fn key_policy(account: &str, region: &str, service: &Predefined) -> String {
    let via = format!("{}.{region}.amazonaws.com", service.via_service);
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{}-1", service.alias),
        "Statement": [
            {
                "Sid": format!("Allow access through {} for all principals in the account that are authorized to use it", service.via_service),
                "Effect": "Allow",
                "Principal": { "AWS": "*" },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": { "StringEquals": { "kms:CallerAccount": account, "kms:ViaService": via } }
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_policy_parses_and_denies_direct_use() {
        use crate::auth::policy::{Policy, RequestContext};
        let ebs = PREDEFINED.iter().find(|p| p.alias == "ebs").unwrap();
        let text = key_policy("111122223333", "us-east-1", ebs);
        let policy = Policy::parse(&text).unwrap();
        let rc = |action: &'static str| RequestContext {
            principal_arn: "arn:aws:iam::111122223333:root",
            caller_account: "111122223333",
            action,
            resource_arn: "arn:aws:kms:us-east-1:111122223333:key/k",
            encryption_context: None,
            facts: None,
        };
        assert!(policy.evaluate(&rc("kms:DescribeKey")).is_allowed());
        assert!(!policy.evaluate(&rc("kms:Encrypt")).is_allowed());
        assert!(!policy.evaluate(&rc("kms:PutKeyPolicy")).is_allowed());
    }
}
