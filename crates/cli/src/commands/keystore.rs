//! `envelope keystore ...`: branch key stores for the hierarchical keyring (SQLite or DynamoDB),
//! with the records of the AWS Material Providers Library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use envelope_keystore::{BranchKeyStore, CreateKeyRequest, ItemDescription, KeyStorage, KmsConfiguration};

use crate::key_store_location::StoreLocation;
use crate::kms_choice::{KmsArgs, KmsSession};

/// Subcommands of `envelope keystore`.
#[derive(Debug, clap::Subcommand)]
pub enum KeystoreCommand {
    /// Create a key store: a SQLite file, or a DynamoDB table with the MPL's key schema
    /// (`branch-key-id` hash key, `type` range key). An existing store is checked and kept.
    Create(StoreArgs),
    /// Create a branch key (its first version, ACTIVE record and beacon key) under a KMS key;
    /// prints the branch key id as the last line.
    CreateKey(CreateKeyArgs),
    /// Rotate a branch key: a new active version (old versions keep decrypting); prints it.
    VersionKey(VersionKeyArgs),
    /// List a branch key's records: versions, create times, KMS key, custom context (never material).
    Describe(DescribeArgs),
}

/// Which key store.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// `sqlite:PATH` or `dynamodb:TABLE` (DynamoDB from the AWS configuration, e.g.
    /// AWS_ENDPOINT_URL_DYNAMODB). Default: a SQLite store next to the embedded KMS emulator's
    /// data directory (keystore.sqlite3).
    #[arg(long, value_name = "STORE")]
    store: Option<String>,
    /// Logical key store name, bound into every record's KMS encryption context (default: the
    /// table or file name). Readers must use the same name.
    #[arg(long, value_name = "NAME")]
    logical_name: Option<String>,
    /// Data directory of the embedded KMS emulator (also places the default store).
    #[arg(long, value_name = "DIR")]
    kms_data_dir: Option<PathBuf>,
}

/// Arguments of `envelope keystore create-key`.
#[derive(Debug, clap::Args)]
pub struct CreateKeyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The KMS key ARN that protects the branch key (not an alias).
    #[arg(long, value_name = "KMS_KEY")]
    kms_key: String,
    /// Branch key id to use instead of a generated UUID (needs at least one -c pair, as in the MPL).
    #[arg(long, value_name = "ID")]
    branch_key_id: Option<String>,
    /// Custom encryption context `name=value`, stored as `aws-crypto-ec:name` on every record.
    #[arg(short = 'c', long = "encryption-context", value_name = "NAME=VALUE")]
    encryption_context: Vec<String>,
    /// auto: AWS when configured, else the embedded emulator; embedded; aws.
    #[arg(long = "kms", value_name = "MODE", env = "ENVELOPE_KMS", default_value = "auto")]
    kms_mode: crate::kms_choice::KmsMode,
}

/// Arguments of `envelope keystore version-key`.
#[derive(Debug, clap::Args)]
pub struct VersionKeyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The KMS key ARN the branch key was created under.
    #[arg(long, value_name = "KMS_KEY")]
    kms_key: String,
    /// The branch key to rotate.
    #[arg(long, value_name = "ID")]
    branch_key_id: String,
    /// auto: AWS when configured, else the embedded emulator; embedded; aws.
    #[arg(long = "kms", value_name = "MODE", env = "ENVELOPE_KMS", default_value = "auto")]
    kms_mode: crate::kms_choice::KmsMode,
}

/// Arguments of `envelope keystore describe`.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The branch key to describe.
    #[arg(long, value_name = "ID")]
    branch_key_id: String,
}

/// Runs one `envelope keystore` subcommand.
pub fn run(command: KeystoreCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match command {
            KeystoreCommand::Create(args) => create(args).await,
            KeystoreCommand::CreateKey(args) => create_key(args).await,
            KeystoreCommand::VersionKey(args) => version_key(args).await,
            KeystoreCommand::Describe(args) => describe(args).await,
        }
    })
}

/// A backend and the logical name to use with it.
async fn open_storage(args: &StoreArgs) -> anyhow::Result<(Box<dyn KeyStorage>, String)> {
    let location = StoreLocation::from_option(args.store.as_deref()).map_err(|e| anyhow::anyhow!("--store {e}"))?;
    location.open(args.logical_name.as_deref(), args.kms_data_dir.clone()).await
}

/// A key store writing with `kms_key`, through the KMS the command chose.
pub(crate) async fn open_store(
    store: &StoreArgs,
    kms_key: &str,
    kms_mode: crate::kms_choice::KmsMode,
) -> anyhow::Result<(BranchKeyStore, KmsSession)> {
    let kms = KmsConfiguration::key_arn(kms_key).map_err(|e| anyhow::anyhow!("--kms-key: {e}"))?;
    let (storage, logical_name) = open_storage(store).await?;
    let session = KmsSession::open(&KmsArgs { kms_data_dir: store.kms_data_dir.clone(), mode: kms_mode }).await?;
    eprintln!("envelope: using {}", session.description());
    let store = BranchKeyStore::new(storage, logical_name, kms, session.supplier());
    Ok((store, session))
}

async fn create(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let (storage, logical_name) = open_storage(&args).await?;
    let created = storage.create().await.map_err(|e| anyhow::anyhow!("key store CreateKeyStore failed: {e}"))?;
    eprintln!("envelope: key store ready (logical name {logical_name:?})");
    println!("{created}");
    Ok(ExitCode::SUCCESS)
}

async fn create_key(args: CreateKeyArgs) -> anyhow::Result<ExitCode> {
    let mut request = CreateKeyRequest::new();
    if let Some(id) = &args.branch_key_id {
        request = request.branch_key_id(id);
    }
    for pair in &args.encryption_context {
        let (name, value) = pair.split_once('=').with_context(|| format!("-c {pair:?}: expected name=value"))?;
        request = request.context(name, value);
    }
    let (store, session) = open_store(&args.store, &args.kms_key, args.kms_mode).await?;
    let result = store.create_key(request).await;
    session.close().await;
    let id = result?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

async fn version_key(args: VersionKeyArgs) -> anyhow::Result<ExitCode> {
    let (store, session) = open_store(&args.store, &args.kms_key, args.kms_mode).await?;
    let result = store.version_key(&args.branch_key_id).await;
    session.close().await;
    let version = result?;
    eprintln!("envelope: branch key {} now uses version {version}", args.branch_key_id);
    println!("{version}");
    Ok(ExitCode::SUCCESS)
}

async fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let (storage, _) = open_storage(&args.store).await?;
    let mut items = envelope_keystore::describe_key(storage.as_ref(), &args.branch_key_id).await?;
    // ACTIVE first, then the versions oldest first, then the beacon key.
    items.sort_by_key(|item: &ItemDescription| {
        let rank = match item.item_type.as_str() {
            "branch:ACTIVE" => 0,
            "beacon:ACTIVE" => 2,
            _ => 1,
        };
        (rank, item.create_time.clone())
    });
    println!("branch key {}", args.branch_key_id);
    for item in items {
        let context: Vec<String> = item.encryption_context.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:<14} {:<36} {} {}{}",
            match item.item_type.as_str() {
                "branch:ACTIVE" => "active",
                "beacon:ACTIVE" => "beacon",
                _ => "version",
            },
            item.version.as_deref().unwrap_or("-"),
            item.create_time,
            item.kms_arn,
            if context.is_empty() { String::new() } else { format!(" {}", context.join(",")) }
        );
    }
    Ok(ExitCode::SUCCESS)
}
