//! `envelope kms create-key` / `list-keys` through the KMS API, for when the KMS in use is AWS
//! (or a server named by the AWS configuration) rather than an emulator data directory.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::kms_choice::{service_message, KmsArgs, KmsSession};

/// Creates a key (and alias) and prints its metadata as JSON.
pub fn create_key(
    kms: &KmsArgs,
    region: Option<&str>,
    key_spec: &str,
    key_usage: Option<&str>,
    description: Option<&str>,
    alias: Option<&str>,
) -> anyhow::Result<ExitCode> {
    with_client(kms, region, |client| async move {
        let usage = key_usage.or_else(|| super::kms::default_key_usage(key_spec));
        let metadata = create_key_with_alias(&client, key_spec, usage, description, alias).await?;
        let shown = serde_json::json!({
            "KeyId": metadata.key_id(),
            "Arn": metadata.arn(),
            "KeySpec": metadata.key_spec().map(|spec| spec.as_str()),
            "KeyUsage": metadata.key_usage().map(|usage| usage.as_str()),
            "KeyState": metadata.key_state().map(|state| state.as_str()),
            "Description": metadata.description(),
            "MultiRegion": metadata.multi_region(),
        });
        println!("{}", serde_json::to_string_pretty(&shown)?);
        Ok(ExitCode::SUCCESS)
    })
}

/// CreateKey, then CreateAlias when an alias is asked for.
pub async fn create_key_with_alias(
    client: &aws_sdk_kms::Client,
    key_spec: &str,
    key_usage: Option<&str>,
    description: Option<&str>,
    alias: Option<&str>,
) -> anyhow::Result<aws_sdk_kms::types::KeyMetadata> {
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
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
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
