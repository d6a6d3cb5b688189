//! `envelope quickstart`: the main job end to end on the embedded KMS emulator — create (or reuse)
//! a KMS key, encrypt a sample file under it, show the message header, decrypt, verify — then the
//! hierarchical keyring: a SQLite branch key store, many records under one KMS call, rotation.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
use envelope_keyrings::kms::AwsKmsKeyring;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::embedded_kms::{self, EmbeddedKms};

/// Alias of the key the quickstart creates once and reuses.
const QUICKSTART_ALIAS: &str = "alias/envelope-quickstart";

/// Arguments of `envelope quickstart`.
#[derive(Debug, clap::Args)]
pub struct QuickstartArgs {
    /// Data directory of the embedded KMS emulator (default: $ENVELOPE_KMS_DATA_DIR, else the
    /// user's data directory).
    #[arg(long, value_name = "DIR")]
    kms_data_dir: Option<PathBuf>,
    /// Where to write the sample file and its encrypted and decrypted copies (default: a new
    /// temporary directory).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

/// Runs the quickstart.
pub fn run(args: QuickstartArgs) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::start()?;
    runtime.block_on(quickstart(args))
}

async fn quickstart(args: QuickstartArgs) -> anyhow::Result<ExitCode> {
    let data_dir = embedded_kms::data_dir(args.kms_data_dir)?;
    let kms = EmbeddedKms::start(data_dir.clone()).await?;
    eprintln!("envelope: using the embedded KMS emulator at {} (data in {})", kms.endpoint, data_dir.display());
    let result = run_with(&kms, args.work_dir).await;
    kms.stop().await;
    result
}

async fn run_with(kms: &EmbeddedKms, work_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let supplier = kms.supplier().await;
    let client = supplier.client_for_region(envelope_kms_local::DEFAULT_REGION)?;
    let (key_arn, created) = key_for_quickstart(&client).await?;
    println!("1. KMS key {QUICKSTART_ALIAS} -> {key_arn} ({})", if created { "created" } else { "reused" });

    let dir = match work_dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("envelope-quickstart-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let sample = dir.join("sample.txt");
    let encrypted = dir.join("sample.txt.encrypted");
    let decrypted = dir.join("sample.txt.decrypted");
    let text: String = (1..=2000).map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n")).collect();
    std::fs::write(&sample, &text)?;
    println!("2. wrote {} ({} bytes)", sample.display(), text.len());

    let keyring = AwsKmsKeyring::new(key_arn.clone(), client.clone())?;
    let envelope_client = Client::with_keyring(keyring);
    let context = EncryptionContext::from([("purpose", "quickstart"), ("file", "sample.txt")]);
    let options = EncryptOptions::new().encryption_context(context.clone());
    // Async files: this runs on the runtime's worker threads, which must not block on I/O.
    let mut writer =
        envelope_client.encrypting_async_writer(tokio::fs::File::create(&encrypted).await?, &options).await?;
    writer.write_all(text.as_bytes()).await?;
    writer.finish().await?;
    println!("3. encrypted it to {} ({} bytes)", encrypted.display(), std::fs::metadata(&encrypted)?.len());

    let decrypt_options = DecryptOptions::new().encryption_context(context);
    let mut reader =
        envelope_client.decrypting_async_reader(tokio::fs::File::open(&encrypted).await?, &decrypt_options).await?;
    let info = reader.info().clone();
    println!("4. message header:");
    println!("   algorithm suite   {}", info.algorithm_suite);
    println!("   frame length      {}", info.frame_length);
    for (key, value) in &info.encryption_context {
        let shown: String =
            if value.chars().count() > 40 { value.chars().take(40).chain(['…']).collect() } else { value.clone() };
        println!("   context           {key} = {shown}");
    }
    for edk in &info.encrypted_data_keys {
        println!(
            "   encrypted key     {} {} ({} bytes)",
            edk.provider_id,
            edk.provider_info_display(),
            edk.ciphertext.len()
        );
    }
    let mut plaintext = Vec::new();
    reader.read_to_end(&mut plaintext).await?;
    tokio::fs::write(&decrypted, &plaintext).await?;
    if plaintext != text.as_bytes() {
        bail!("the decrypted file differs from the original");
    }
    println!("5. decrypted it to {} and verified the round trip", decrypted.display());

    let store = super::quickstart_hierarchy::run(supplier, &key_arn, &dir).await?;
    println!();
    println!("The same from the command line (any number of files, one KMS call per branch key version):");
    println!("  envelope keystore create-key --store {} --kms-key {key_arn}", store.spec);
    println!(
        "  envelope encrypt -i FILE -o FILE.encrypted -w branch-key-id={} key-store={} kms-key={key_arn}",
        store.branch_key_id, store.spec
    );
    println!(
        "  envelope decrypt -i FILE.encrypted -o FILE -w branch-key-id={} key-store={} kms-key={key_arn}",
        store.branch_key_id, store.spec
    );
    println!();
    println!("Next: run `envelope kms serve --listen 127.0.0.1:4599 --data-dir DIR` and point the AWS CLI,");
    println!("boto3 or aws-sdk-kms at it (AWS_ENDPOINT_URL_KMS=http://127.0.0.1:4599); run");
    println!("`envelope vectors decrypt --manifest PATH` on AWS Encryption SDK test vectors; and");
    println!("`envelope speed --suite 0578 --size 1M` to measure throughput.");
    Ok(ExitCode::SUCCESS)
}

/// Finds the quickstart key by alias, or creates it and the alias.
async fn key_for_quickstart(client: &aws_sdk_kms::Client) -> anyhow::Result<(String, bool)> {
    match client.describe_key().key_id(QUICKSTART_ALIAS).send().await {
        Ok(found) => {
            let arn = found.key_metadata().and_then(|m| m.arn()).context("DescribeKey returned no key ARN")?;
            Ok((arn.to_string(), false))
        }
        Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
            let metadata = super::kms_api::create_key_with_alias(
                client,
                "SYMMETRIC_DEFAULT",
                None,
                Some("envelope quickstart key"),
                Some(QUICKSTART_ALIAS),
            )
            .await?;
            let arn = metadata.arn().context("CreateKey returned no key ARN")?.to_string();
            Ok((arn, true))
        }
        Err(error) => Err(anyhow::Error::new(error).context("KMS DescribeKey failed")),
    }
}
