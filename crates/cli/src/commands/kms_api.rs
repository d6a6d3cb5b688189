//! `envelope kms create-key` / `list-keys`, through the KMS API whichever KMS is in use: AWS (or a
//! server the AWS configuration names), the embedded emulator, or the emulator over --data-dir.

use std::process::ExitCode;

use anyhow::Context as _;
use aws_sdk_kms::types::KeyMetadata;

use crate::kms_choice::{KmsArgs, KmsSession, service_message};

/// What `kms create-key` asks for.
pub struct NewKey<'a> {
    pub key_spec: &'a str,
    /// `None`: the spec's usual usage ([`super::kms::default_key_usage`]).
    pub key_usage: Option<&'a str>,
    pub description: Option<&'a str>,
    pub alias: Option<&'a str>,
}

/// Creates a key (and alias) and prints its metadata as JSON, as DescribeKey shows it.
pub fn create_key(kms: &KmsArgs, region: Option<&str>, key: &NewKey<'_>) -> anyhow::Result<ExitCode> {
    with_client(kms, region, |client| async move {
        let usage = key.key_usage.or_else(|| super::kms::default_key_usage(key.key_spec));
        let metadata = create_key_with_alias(&client, key.key_spec, usage, key.description, key.alias).await?;
        println!("{}", serde_json::to_string_pretty(&metadata_json(&metadata))?);
        Ok(ExitCode::SUCCESS)
    })
}

/// KeyMetadata in the service's own JSON field names (keys sorted; absent fields left out).
fn metadata_json(metadata: &KeyMetadata) -> serde_json::Value {
    fn names<T: AsRef<str>>(values: &[T]) -> Option<serde_json::Value> {
        (!values.is_empty()).then(|| values.iter().map(|value| value.as_ref()).collect::<Vec<_>>().into())
    }
    let mut shown = serde_json::Map::new();
    let mut put = |name: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            shown.insert(name.to_owned(), value);
        }
    };
    put("AWSAccountId", metadata.aws_account_id().map(Into::into));
    put("Arn", metadata.arn().map(Into::into));
    put("CreationDate", metadata.creation_date().map(|date| date.as_secs_f64().into()));
    put("CurrentKeyMaterialId", metadata.current_key_material_id().map(Into::into));
    // Deprecated in favour of KeySpec, but DescribeKey still returns it and scripts read it.
    #[allow(deprecated)]
    let customer_master_key_spec = metadata.customer_master_key_spec().map(|spec| spec.as_str().into());
    put("CustomerMasterKeySpec", customer_master_key_spec);
    put("DeletionDate", metadata.deletion_date().map(|date| date.as_secs_f64().into()));
    put("Description", metadata.description().map(Into::into));
    put("Enabled", Some(metadata.enabled().into()));
    put("EncryptionAlgorithms", names(metadata.encryption_algorithms()));
    put("KeyAgreementAlgorithms", names(metadata.key_agreement_algorithms()));
    put("KeyId", Some(metadata.key_id().into()));
    put("KeyManager", metadata.key_manager().map(|manager| manager.as_str().into()));
    put("KeySpec", metadata.key_spec().map(|spec| spec.as_str().into()));
    put("KeyState", metadata.key_state().map(|state| state.as_str().into()));
    put("KeyUsage", metadata.key_usage().map(|usage| usage.as_str().into()));
    put("MacAlgorithms", names(metadata.mac_algorithms()));
    put("MultiRegion", metadata.multi_region().map(Into::into));
    put("Origin", metadata.origin().map(|origin| origin.as_str().into()));
    put("SigningAlgorithms", names(metadata.signing_algorithms()));
    serde_json::Value::Object(shown)
}

/// CreateKey, then CreateAlias when an alias is asked for.
pub async fn create_key_with_alias(
    client: &aws_sdk_kms::Client,
    key_spec: &str,
    key_usage: Option<&str>,
    description: Option<&str>,
    alias: Option<&str>,
) -> anyhow::Result<KeyMetadata> {
    let created = client
        .create_key()
        .key_spec(key_spec.into())
        .set_key_usage(key_usage.map(Into::into))
        .set_description(description.map(str::to_owned))
        .send()
        .await
        .map_err(|error| anyhow::anyhow!("KMS CreateKey: {}", service_message(&error)))?;
    let metadata = created.key_metadata().context("CreateKey returned no key metadata")?.clone();
    if let Some(alias) = alias {
        client.create_alias().alias_name(alias).target_key_id(metadata.key_id()).send().await.map_err(|error| {
            anyhow::anyhow!(
                "the key {} was created, but the alias {alias} was not: {}",
                metadata.key_id(),
                service_message(&error)
            )
        })?;
    }
    Ok(metadata)
}

/// Prints one line per key: id, spec, usage, state, aliases.
pub fn list_keys(kms: &KmsArgs, region: Option<&str>) -> anyhow::Result<ExitCode> {
    with_client(kms, region, |client| async move {
        let aliases: Vec<_> = client
            .list_aliases()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|error| anyhow::anyhow!("KMS ListAliases: {}", service_message(&error)))?;
        let keys: Vec<_> = client
            .list_keys()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|error| anyhow::anyhow!("KMS ListKeys: {}", service_message(&error)))?;
        for key in keys {
            let Some(id) = key.key_id() else { continue };
            let described = client
                .describe_key()
                .key_id(id)
                .send()
                .await
                .map_err(|error| anyhow::anyhow!("KMS DescribeKey {id}: {}", service_message(&error)))?;
            let Some(metadata) = described.key_metadata() else { continue };
            let names: Vec<&str> = aliases
                .iter()
                .filter(|alias| alias.target_key_id() == Some(id))
                .filter_map(|alias| alias.alias_name())
                .collect();
            println!(
                "{}\t{}\t{}\t{}\t{}",
                id,
                metadata.key_spec().map(|spec| spec.as_str()).unwrap_or_default(),
                metadata.key_usage().map(|usage| usage.as_str()).unwrap_or_default(),
                metadata.key_state().map(|state| state.as_str()).unwrap_or_default(),
                names.join(",")
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn with_client<F, Fut>(kms: &KmsArgs, region: Option<&str>, body: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(aws_sdk_kms::Client) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    let runtime = crate::runtime::start()?;
    runtime.block_on(async {
        let session = KmsSession::open(kms).await?;
        eprintln!("envelope: using {}", session.description());
        let region = session.region(region).context("no AWS Region: pass --region or set AWS_REGION")?;
        let result = match session.client(&region) {
            Ok(client) => body(client).await,
            Err(error) => Err(error),
        };
        session.close().await;
        result
    })
}
