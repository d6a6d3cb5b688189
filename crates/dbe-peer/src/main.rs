//! `dbe-peer`: the official Rust AWS Database Encryption SDK (`aws-db-esdk`) driven from the
//! command line, so envelope-dbe can be checked against it (interop) and measured beside it
//! (speed). It uses the official SDK only, no envelope code. Endpoints, region and credentials
//! come from the usual AWS configuration (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`,
//! `AWS_REGION`, ...): in `run-interop.sh`, moto[server] and `envelope kms serve`.
//!
//! ```text
//! dbe-peer create-kms-key                                      prints the new KMS key's ARN
//! dbe-peer create-branch-key --key-store T --kms-key ARN       creates key store T if needed; prints the id
//! dbe-peer create-table --table T                              the items table (partition key Id, S)
//! dbe-peer table-config --branch-key-id ID [--table T] [--suite 0x6700|0x6701]
//!                                                              the table config as envelope's JSON form
//! dbe-peer put   KEYS --table T -i ITEMS.json [--suite ..]     DynamoDB JSON (object or array)
//! dbe-peer get   KEYS --table T --id ID [--stored]             one item, DynamoDB JSON
//! dbe-peer query KEYS --table T --eq NAME=VALUE...             scan filtered on beacons, one item a line
//! dbe-peer export-branch-key KEYS                              the branch key and beacon key as the
//!                                                              official key store hands them out, as a
//!                                                              `static-branch-key` entry of a vectors keys file
//! dbe-peer bench KEYS [--seconds S]                            items/s, JSON lines like dbe_bench --json
//!   KEYS = --key-store T --kms-key ARN --branch-key-id ID
//! ```
//!
//! The table is fixed: the 10-attribute item of envelope-dbe's `dbe_bench` (partition key `Id`;
//! `Id`, `Date`, `Status`, `Count` SIGN_ONLY; `Email`, `Ssn`, `Name`, `Card`, `Address`, `Notes`
//! ENCRYPT_AND_SIGN; standard beacons `Email` (16 bits) and `Ssn` (20 bits); compound beacon
//! `EmailDate` = `D-<Date>#E-<Email beacon>`), keys through the hierarchical keyring on the
//! official DynamoDB key store (logical name = the key store table's name). `table-config`
//! prints the same table in the DB-ESDK vectors' JSON form that `envelope db --table-config`
//! reads, so both sides use one definition.

mod ddb_json;
mod table;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_db_esdk::intercept::DbEsdkInterceptor;
use aws_db_esdk::material_providers::types::DbeAlgorithmSuiteId;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

type BoxError = Box<dyn std::error::Error>;

const USAGE: &str = "usage: dbe-peer create-kms-key | create-branch-key --key-store T --kms-key ARN | \
create-table --table T | table-config --branch-key-id ID [--table T] [--suite S] | \
put|get|query|bench|export-branch-key --key-store T --kms-key ARN --branch-key-id ID [--table T] [--suite 0x6700|0x6701] \
[-i FILE] [--id ID] [--stored] [--eq NAME=VALUE]... [--seconds S]";

#[derive(Default)]
struct Args {
    key_store: Option<String>,
    kms_key: Option<String>,
    branch_key_id: Option<String>,
    table: Option<String>,
    suite: Option<String>,
    input: Option<String>,
    id: Option<String>,
    stored: bool,
    eq: Vec<(String, String)>,
    seconds: f64,
}

impl Args {
    fn need<'a>(value: &'a Option<String>, flag: &str) -> Result<&'a str, BoxError> {
        value.as_deref().ok_or_else(|| format!("{flag} is required ({USAGE})").into())
    }

    fn keys(&self) -> Result<table::Keys, BoxError> {
        Ok(table::Keys {
            key_store_table: Self::need(&self.key_store, "--key-store")?.to_owned(),
            kms_key_arn: Self::need(&self.kms_key, "--kms-key")?.to_owned(),
            branch_key_id: Self::need(&self.branch_key_id, "--branch-key-id")?.to_owned(),
        })
    }

    fn suite(&self) -> Result<DbeAlgorithmSuiteId, BoxError> {
        table::suite(self.suite.as_deref().unwrap_or("0x6700"))
    }
}

fn parse(mut iter: impl Iterator<Item = String>) -> Result<Args, BoxError> {
    let mut args = Args { seconds: 2.0, ..Args::default() };
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--key-store" => args.key_store = Some(value()?),
            "--kms-key" => args.kms_key = Some(value()?),
            "--branch-key-id" => args.branch_key_id = Some(value()?),
            "--table" => args.table = Some(value()?),
            "--suite" => args.suite = Some(value()?),
            "-i" | "--input" => args.input = Some(value()?),
            "--id" => args.id = Some(value()?),
            "--seconds" => args.seconds = value()?.parse()?,
            "--stored" => args.stored = true,
            "--eq" => {
                let pair = value()?;
                let (name, value) = pair.split_once('=').ok_or("--eq takes NAME=VALUE")?;
                args.eq.push((name.to_owned(), value.to_owned()));
            }
            other => return Err(format!("unknown argument {other} ({USAGE})").into()),
        }
    }
    if !args.seconds.is_finite() || args.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dbe-peer: {error}");
            let mut source = error.source();
            while let Some(inner) = source {
                eprintln!("  caused by: {inner}");
                source = inner.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().ok_or(USAGE)?;
    let args = parse(argv)?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match command.as_str() {
        "create-kms-key" => {
            let created = aws_sdk_kms::Client::new(&sdk).create_key().send().await?;
            let arn = created.key_metadata().and_then(|m| m.arn()).ok_or("CreateKey returned no ARN")?;
            println!("{arn}");
        }
        "create-branch-key" => {
            let store = Args::need(&args.key_store, "--key-store")?;
            let kms = Args::need(&args.kms_key, "--kms-key")?;
            println!("{}", table::create_branch_key(&sdk, store, kms).await?);
        }
        "create-table" => create_items_table(&sdk, Args::need(&args.table, "--table")?).await?,
        "table-config" => {
            let id = Args::need(&args.branch_key_id, "--branch-key-id")?;
            let suite = args.suite.as_deref().unwrap_or("0x6700");
            let name = args.table.as_deref().unwrap_or(table::BENCH_TABLE);
            println!("{}", serde_json::to_string_pretty(&table::config_json(name, id, suite)?)?);
        }
        "put" => {
            let name = Args::need(&args.table, "--table")?;
            let text = std::fs::read_to_string(Args::need(&args.input, "-i")?)?;
            let items = ddb_json::items_from_json(&text)?;
            let client = encrypted_client(&sdk, &args, name).await?;
            for item in items {
                client.put_item().table_name(name).set_item(Some(item)).send().await?;
            }
        }
        "get" => {
            let name = Args::need(&args.table, "--table")?;
            let id = Args::need(&args.id, "--id")?;
            let client = if args.stored {
                aws_sdk_dynamodb::Client::new(&sdk)
            } else {
                encrypted_client(&sdk, &args, name).await?
            };
            let out = client
                .get_item()
                .table_name(name)
                .key(table::PARTITION_KEY, AttributeValue::S(id.to_owned()))
                .consistent_read(true)
                .send()
                .await?;
            let item = out.item().ok_or_else(|| format!("no item with Id {id}"))?;
            println!("{}", ddb_json::item_to_json(item));
        }
        "query" => query(&sdk, &args).await?,
        "export-branch-key" => {
            let entry = table::export_branch_key(&sdk, &args.keys()?).await?;
            println!("{}", serde_json::to_string_pretty(&entry)?);
        }
        "bench" => bench(&sdk, &args).await?,
        other => return Err(format!("unknown command {other} ({USAGE})").into()),
    }
    Ok(())
}

/// An aws-sdk-dynamodb client with the DB-ESDK interceptor for `table`.
async fn encrypted_client(
    sdk: &aws_config::SdkConfig,
    args: &Args,
    name: &str,
) -> Result<aws_sdk_dynamodb::Client, BoxError> {
    let tables = table::tables_config(sdk, &args.keys()?, name, args.suite()?).await?;
    let config = aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(DbEsdkInterceptor::new(tables)?).build();
    Ok(aws_sdk_dynamodb::Client::from_conf(config))
}

async fn create_items_table(sdk: &aws_config::SdkConfig, name: &str) -> Result<(), BoxError> {
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(table::PARTITION_KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(KeySchemaElement::builder().attribute_name(table::PARTITION_KEY).key_type(KeyType::Hash).build()?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await?;
    Ok(())
}

/// A scan whose filter (`NAME = VALUE` for each `--eq`, ANDed) the DB-ESDK rewrites onto the
/// beacons; every page followed; items printed sorted by `Id`.
async fn query(sdk: &aws_config::SdkConfig, args: &Args) -> Result<(), BoxError> {
    let name = Args::need(&args.table, "--table")?;
    if args.eq.is_empty() {
        return Err("query needs at least one --eq NAME=VALUE".into());
    }
    let client = encrypted_client(sdk, args, name).await?;
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut terms = Vec::new();
    for (i, (attribute, value)) in args.eq.iter().enumerate() {
        names.insert(format!("#n{i}"), attribute.clone());
        values.insert(format!(":v{i}"), AttributeValue::S(value.clone()));
        terms.push(format!("#n{i} = :v{i}"));
    }
    let filter = terms.join(" AND ");
    let mut found = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = client
            .scan()
            .table_name(name)
            .filter_expression(&filter)
            .set_expression_attribute_names(Some(names.clone()))
            .set_expression_attribute_values(Some(values.clone()))
            .set_exclusive_start_key(start.take())
            .consistent_read(true)
            .send()
            .await?;
        found.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    found.sort_by_key(|item| match item.get(table::PARTITION_KEY) {
        Some(AttributeValue::S(id)) => id.clone(),
        _ => String::new(),
    });
    for item in &found {
        println!("{}", ddb_json::item_to_json(item));
    }
    Ok(())
}

/// Encrypts (beacons computed, item signed and encrypted: `PutItemInputTransform`) and decrypts
/// (`GetItemOutputTransform`) the bench item one at a time, `--seconds` each, per suite, with the
/// hierarchical keyring's and the beacon key source's caches warm. No DynamoDB call in the loops:
/// the transforms are what the interceptor runs around each call.
async fn bench(sdk: &aws_config::SdkConfig, args: &Args) -> Result<(), BoxError> {
    let keys = args.keys()?;
    let budget = Duration::from_secs_f64(args.seconds);
    println!(r#"{{"phase":"start","impl":"aws-db-esdk","load_average":"{}"}}"#, load_average());
    for suite_name in ["0x6700", "0x6701"] {
        let suite = table::suite(suite_name)?;
        let tables = table::tables_config(sdk, &keys, table::BENCH_TABLE, suite).await?;
        let transforms = aws_db_esdk::client::Client::from_conf(tables)?;
        let items: Vec<HashMap<String, AttributeValue>> = (0..256).map(table::bench_item).collect();

        let encrypt = |item: HashMap<String, AttributeValue>| {
            let transforms = transforms.clone();
            async move {
                let input = aws_sdk_dynamodb::operation::put_item::PutItemInput::builder()
                    .table_name(table::BENCH_TABLE)
                    .set_item(Some(item))
                    .build()?;
                let out = transforms.put_item_input_transform().sdk_input(input).send().await?;
                let stored = out.transformed_input.and_then(|input| input.item).ok_or("no transformed item")?;
                Ok::<_, BoxError>(stored)
            }
        };
        let decrypt = |stored: HashMap<String, AttributeValue>| {
            let transforms = transforms.clone();
            async move {
                let key = HashMap::from([(
                    table::PARTITION_KEY.to_owned(),
                    stored.get(table::PARTITION_KEY).cloned().ok_or("no Id")?,
                )]);
                let original = aws_sdk_dynamodb::operation::get_item::GetItemInput::builder()
                    .table_name(table::BENCH_TABLE)
                    .set_key(Some(key))
                    .build()?;
                let output =
                    aws_sdk_dynamodb::operation::get_item::GetItemOutput::builder().set_item(Some(stored)).build();
                let out =
                    transforms.get_item_output_transform().original_input(original).sdk_output(output).send().await?;
                let plain = out.transformed_output.and_then(|output| output.item).ok_or("no decrypted item")?;
                Ok::<_, BoxError>(plain)
            }
        };

        // Warm the caches (branch key, beacon key) and check one round trip.
        let stored = encrypt(items[0].clone()).await?;
        if decrypt(stored).await? != items[0] {
            return Err("round trip changed the item".into());
        }

        let mut written = Vec::with_capacity(items.len());
        let start = Instant::now();
        let mut count = 0u64;
        while start.elapsed() < budget {
            let stored = encrypt(items[count as usize % items.len()].clone()).await?;
            if written.len() < items.len() {
                written.push(stored);
            }
            count += 1;
        }
        print_rate("encrypt", suite_name, count, start.elapsed().as_secs_f64());

        let start = Instant::now();
        let mut count = 0u64;
        while start.elapsed() < budget {
            let plain = decrypt(written[count as usize % written.len()].clone()).await?;
            std::hint::black_box(plain);
            count += 1;
        }
        print_rate("decrypt", suite_name, count, start.elapsed().as_secs_f64());
    }
    println!(r#"{{"phase":"end","impl":"aws-db-esdk","load_average":"{}"}}"#, load_average());
    Ok(())
}

fn print_rate(operation: &str, suite: &str, items: u64, seconds: f64) {
    println!(
        r#"{{"phase":"item","impl":"aws-db-esdk","operation":"{operation}","suite":"{suite}","items_per_second":{:.1},"items":{items},"seconds":{seconds:.3}}}"#,
        items as f64 / seconds
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
