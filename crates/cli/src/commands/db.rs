//! `envelope db put|get|query`: an encrypted, searchable table in a SQLite file, or in a DynamoDB
//! table (`--dynamodb TABLE`, through envelope-dbe's encrypted client; `query` is a DynamoDB Query
//! when it pins the partition key of the table or of `--index`, a Scan otherwise, rewritten onto
//! the beacons either way).
//!
//! The table comes from `--table-config FILE` (the DB-ESDK test vectors' JSON form, `search`
//! included); items go in and come out as DynamoDB JSON, one per line on output. Keys: the
//! hierarchical keyring on a branch key in a key store protected by KMS (`-w branch-key-id=ID
//! kms-key=KMS_KEY [key-store=STORE]`, the group `envelope encrypt` takes; by default the SQLite
//! store next to the embedded KMS emulator), whose beacon keys come from the same store; or,
//! offline, on a `static-branch-key` entry of a keys manifest (`--keys FILE`, the vectors'
//! `keys.json` form).

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use aws_sdk_dynamodb::types::KeyType;
use envelope::{AlgorithmSuite, DefaultMaterialsManager, MaterialsManager};
use envelope_dbe::beacon::{BEACON_ATTRIBUTE_PREFIX, BeaconError, BeaconKeySource, MultiKeySource, SingleKeySource};
use envelope_dbe::config_json::{KeySourceJson, table_config_from_json};
use envelope_dbe::dynamodb::{
    BatchWrite, DynamoDbError, EncryptedDynamoDbClient, Expression, QueryRequest, from_sdk_item, to_sdk_item,
};
use envelope_dbe::item::{AttributeValue, Item, ItemError, item_from_value, item_to_json};
use envelope_dbe::search::{CompareOp, Condition, Operand, SearchableTable};
use envelope_dbe::sqlite::{EncryptedTable, TableError, open_database};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};
use envelope_vectors::manifest::{KeyMaterial, KeysManifest};

use crate::crypt::hierarchy::{self, KeyStoreErrors};
use crate::crypt::wrapping_keys::{self, WrappingKeys};
use crate::exit_code::{self, Failure, Kind};
use crate::kms_choice::{KmsArgs, KmsSession};

/// How long derived branch and beacon keys stay cached during one command.
const CACHE_TTL: Duration = Duration::from_secs(300);

/// The suite items are written under when the config names none (the SQLite table's default too).
const DEFAULT_SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

/// Subcommands of `envelope db`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Encrypt items (DynamoDB JSON: one object, or an array of them) and write them, replacing
    /// items with the same primary key.
    Put {
        #[command(flatten)]
        table: TableArgs,
        /// The items: a file, or `-` for stdin.
        #[arg(short = 'i', long = "input", value_name = "FILE|-")]
        input: String,
    },
    /// Print the item with a primary key, decrypted, as DynamoDB JSON (exit 1 when absent).
    Get {
        #[command(flatten)]
        table: TableArgs,
        /// A primary key attribute, `ATTR=VALUE` (repeat for the sort key). VALUE is a string, or
        /// a DynamoDB JSON value when it starts with `{` (`id={"N":"7"}`).
        #[arg(long = "key", value_name = "ATTR=VALUE", required = true)]
        key: Vec<String>,
        /// Print the item as stored (encrypted, with header, footer and beacons): what any
        /// DB-ESDK reads.
        #[arg(long)]
        stored: bool,
    },
    /// Print the items matching every condition, decrypted, one DynamoDB JSON object a line.
    ///
    /// Conditions name attributes or beacons: encrypted attributes are matched through their
    /// beacons and every result is re-checked on plaintext. Values are strings, or DynamoDB JSON
    /// values when they start with `{`.
    Query {
        #[command(flatten)]
        table: TableArgs,
        /// `ATTR=VALUE`: equal.
        #[arg(long = "eq", value_name = "ATTR=VALUE")]
        eq: Vec<String>,
        /// `ATTR=PREFIX`: begins with (signed attributes, compound beacons).
        #[arg(long = "begins-with", value_name = "ATTR=PREFIX")]
        begins_with: Vec<String>,
        /// `ATTR=LO,HI`: between, inclusive (signed attributes, compound beacons).
        #[arg(long = "between", value_name = "ATTR=LO,HI")]
        between: Vec<String>,
        /// `ATTR=VALUE`: the set (or list) holds VALUE, the string holds it as a substring (set
        /// beacons, compound beacons, signed attributes).
        #[arg(long = "contains", value_name = "ATTR=VALUE")]
        contains: Vec<String>,
        /// With --dynamodb: query this global or local secondary index; an --eq condition must
        /// pin its partition key (a beacon's name when the index is keyed on `aws_dbe_b_NAME`).
        #[arg(long, value_name = "NAME", requires = "dynamodb")]
        index: Option<String>,
    },
}

/// Where the table is and how it is encrypted.
#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// The SQLite file (created if missing; WAL mode).
    #[arg(long, value_name = "FILE", required_unless_present = "dynamodb", conflicts_with = "dynamodb")]
    db: Option<PathBuf>,
    /// Instead of --db: a DynamoDB table (from the AWS configuration, e.g.
    /// AWS_ENDPOINT_URL_DYNAMODB), whose key schema matches the config's. `query` runs a DynamoDB
    /// Query when an --eq condition pins the partition key (of the table, or of --index), and
    /// otherwise a Scan; either way rewritten onto the beacons.
    #[arg(long, value_name = "TABLE")]
    dynamodb: Option<String>,
    /// The table config (JSON, the DB-ESDK test vectors' form, with `search` for beacons).
    #[arg(long, value_name = "FILE")]
    table_config: PathBuf,
    /// The branch key, from a key store: `branch-key-id=ID kms-key=KMS_KEY` with
    /// `key-store=sqlite:PATH|dynamodb:TABLE` (default: the SQLite store next to the embedded
    /// KMS emulator's data), `logical-name=` and `cache-ttl=SECONDS`, as for `envelope encrypt`.
    /// Beacon keys come from the same store.
    #[arg(
        short = 'w',
        long = "wrapping-keys",
        value_name = "ATTR=VALUE",
        num_args = 1..,
        conflicts_with = "keys",
        required_unless_present = "keys"
    )]
    wrapping_keys: Vec<String>,
    #[command(flatten)]
    kms: KmsArgs,
    /// Offline instead of -w: the keys manifest holding the branch key (`static-branch-key`
    /// entries, with `beaconKey`), the DB-ESDK vectors' `keys.json` form.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// With --keys: the keys-manifest entry items are encrypted under.
    #[arg(long, value_name = "NAME", default_value = "static-branch-key-1")]
    branch_key: String,
    /// The SQLite table name (default: the config's logical table name).
    #[arg(long, value_name = "NAME")]
    sql_table: Option<String>,
}

/// Runs one `envelope db` subcommand. Failures print one line and exit with the documented codes
/// ([`exit_code`](crate::exit_code)): 1 an item that does not decrypt or verify, 2 usage (flags,
/// config, a query the beacons cannot answer), 3 files, 4 KMS, DynamoDB or the branch key store.
pub fn run(command: DbCommand) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::start()?;
    runtime.block_on(async move {
        let (table, command) = match command {
            DbCommand::Put { table, input } => (table, Run::Put { input }),
            DbCommand::Get { table, key, stored } => (table, Run::Get { key, stored }),
            DbCommand::Query { table, eq, begins_with, between, contains, index } => {
                (table, Run::Query { eq, begins_with, between, contains, index })
            }
        };
        let keys = match Keys::open(&table).await {
            Ok(keys) => keys,
            Err(failure) => {
                eprintln!("envelope: {failure}");
                return Ok(failure.kind.exit_code());
            }
        };
        let result = execute(&table, &keys, command).await;
        let Keys { session, errors, .. } = keys;
        if let Some(session) = session {
            session.close().await;
        }
        Ok(result.unwrap_or_else(|error| {
            let failure = errors.explain(classify(error));
            eprintln!("envelope: {failure}");
            failure.kind.exit_code()
        }))
    })
}

/// The exit code of a failed command, from the innermost error in its chain that says: a
/// KMS, DynamoDB or key-store failure, a file, an item that does not verify; anything else
/// (flags, config, queries the beacons cannot answer) is usage.
fn classify(error: anyhow::Error) -> Failure {
    let mut kind = Kind::Usage;
    for cause in error.chain() {
        if let Some(error) = cause.downcast_ref::<envelope::Error>() {
            kind = exit_code::kind_of(error);
        } else if let Some(error) = cause.downcast_ref::<DynamoDbError>() {
            if matches!(error, DynamoDbError::Service { .. } | DynamoDbError::Unprocessed { .. }) {
                kind = Kind::Kms;
            }
        } else if let Some(error) = cause.downcast_ref::<BeaconError>() {
            if matches!(error, BeaconError::KeyStore { .. }) {
                kind = Kind::Kms;
            }
        } else if cause.is::<ItemError>() {
            kind = Kind::Message;
        } else if cause.is::<std::io::Error>() || matches!(cause.downcast_ref(), Some(TableError::Sqlite(_))) {
            kind = Kind::Files;
        }
    }
    Failure::new(kind, error)
}

/// A subcommand without its table arguments.
enum Run {
    Put {
        input: String,
    },
    Get {
        key: Vec<String>,
        stored: bool,
    },
    Query {
        eq: Vec<String>,
        begins_with: Vec<String>,
        between: Vec<String>,
        contains: Vec<String>,
        index: Option<String>,
    },
}

async fn execute(args: &TableArgs, keys: &Keys, command: Run) -> anyhow::Result<ExitCode> {
    {
        match command {
            Run::Put { input } => {
                let items = read_items(&input)?;
                let table = open_table(args, keys).await?;
                table.put_all(&items).await?;
                eprintln!("{} item(s) written", items.len());
                Ok(ExitCode::SUCCESS)
            }
            Run::Get { key, stored } => {
                let key = key_item(&key)?;
                let table = open_table(args, keys).await?;
                let item = if stored { table.get_stored(&key).await? } else { table.get(&key).await? };
                match item {
                    Some(item) => {
                        print_items(&[item])?;
                        Ok(ExitCode::SUCCESS)
                    }
                    None => {
                        eprintln!("envelope: no item with that key");
                        Ok(ExitCode::from(1))
                    }
                }
            }
            Run::Query { eq, begins_with, between, contains, index } => {
                let query = conditions(&eq, &begins_with, &between, &contains)?;
                let table = open_table(args, keys).await?;
                let items = table.query(&query, index.as_deref()).await?;
                print_items(&items)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// Where the branch key and beacon keys come from, for one command.
struct Keys {
    store: Arc<dyn KeyStore>,
    branch_key_id: String,
    ttl: Duration,
    /// The KMS connection of a key store (closed when the command ends).
    session: Option<KmsSession>,
    /// The key store's typed failures, which decide the exit code of a keyring failure.
    errors: KeyStoreErrors,
}

impl Keys {
    async fn open(args: &TableArgs) -> Result<Keys, Failure> {
        let Some(path) = &args.keys else {
            return Keys::from_key_store(args).await;
        };
        let from_manifest = || -> anyhow::Result<Keys> {
            Ok(Keys {
                store: Arc::new(key_store(path, &args.branch_key)?),
                branch_key_id: branch_key_id(path, &args.branch_key)?,
                ttl: CACHE_TTL,
                session: None,
                errors: KeyStoreErrors::default(),
            })
        };
        from_manifest().map_err(classify)
    }

    /// `-w`: the group `envelope encrypt` takes, which must name a branch key.
    async fn from_key_store(args: &TableArgs) -> Result<Keys, Failure> {
        let group = match wrapping_keys::parse_group(&args.wrapping_keys)? {
            WrappingKeys::Hierarchy(group) => group,
            _ => {
                return Err(Failure::usage(
                    "--wrapping-keys: envelope db takes a branch key: branch-key-id=ID kms-key=KMS_KEY [key-store=STORE]",
                ));
            }
        };
        let session = KmsSession::open(&args.kms).await.map_err(|error| Failure::new(Kind::Kms, error))?;
        eprintln!("envelope: using {}", session.description());
        let errors = KeyStoreErrors::default();
        let opened = hierarchy::key_store(&group, &session, args.kms.kms_data_dir.clone(), &errors).await;
        let store = match opened {
            Ok(store) => store,
            Err(failure) => {
                session.close().await;
                return Err(failure);
            }
        };
        Ok(Keys {
            store: Arc::new(store),
            branch_key_id: group.branch_key_id,
            ttl: group.cache_ttl,
            session: Some(session),
            errors,
        })
    }
}

/// The table the command works on: a SQLite file or a DynamoDB table.
enum Backend {
    Sqlite(Box<EncryptedTable>),
    DynamoDb { client: EncryptedDynamoDbClient, table: String },
}

impl Backend {
    async fn put_all(&self, items: &[Item]) -> anyhow::Result<()> {
        match self {
            Backend::Sqlite(table) => table.put_all(items).await?,
            Backend::DynamoDb { client, table } => {
                // BatchWriteItem encrypts every item before the first write: an item that
                // cannot be encrypted writes nothing. (DynamoDB refuses a batch naming one key twice.)
                let writes: Vec<BatchWrite> =
                    items.iter().map(|item| BatchWrite::Put { table: table.clone(), item: item.clone() }).collect();
                client.batch_write_item(&writes).await?;
            }
        }
        Ok(())
    }

    async fn get(&self, key: &Item) -> anyhow::Result<Option<Item>> {
        Ok(match self {
            Backend::Sqlite(table) => table.get(key).await?,
            Backend::DynamoDb { client, table } => client.get_item(table, key).await?,
        })
    }

    async fn get_stored(&self, key: &Item) -> anyhow::Result<Option<Item>> {
        match self {
            Backend::Sqlite(table) => Ok(table.get_stored(key)?),
            Backend::DynamoDb { client, table } => {
                let output = client
                    .inner()
                    .get_item()
                    .table_name(table)
                    .set_key(Some(to_sdk_item(key)))
                    .send()
                    .await
                    .with_context(|| format!("DynamoDB GetItem {table}"))?;
                Ok(output.item.as_ref().map(from_sdk_item).transpose()?)
            }
        }
    }

    async fn query(&self, query: &Condition, index: Option<&str>) -> anyhow::Result<Vec<Item>> {
        match self {
            Backend::Sqlite(table) => Ok(table.query(query).await?),
            Backend::DynamoDb { client, table } => dynamodb_query(client, table, index, query).await,
        }
    }
}

/// Reads a DynamoDB table for `query`: a Query when an `=` term pins the partition key of the
/// table (or of `index`), with the sort key's term in the key condition too when there is one and
/// the other terms as the filter; otherwise a Scan (refused for an index, which is always
/// queried). Key attributes named `aws_dbe_b_NAME` are matched by the beacon's name, NAME.
async fn dynamodb_query(
    client: &EncryptedDynamoDbClient,
    table: &str,
    index: Option<&str>,
    query: &Condition,
) -> anyhow::Result<Vec<Item>> {
    let (partition_key, sort_key) = key_schema(client.inner(), table, index).await?;
    let mut terms = match query {
        Condition::And(terms) => terms.clone(),
        other => vec![other.clone()],
    };
    let pins_partition = |term: &Condition| matches!(term, Condition::Compare(Operand::Attr(name), CompareOp::Eq, Operand::Value(_)) if *name == partition_key);
    let Some(at) = terms.iter().position(pins_partition) else {
        if let Some(index) = index {
            bail!("--index {index}: give --eq {partition_key}=VALUE, the index's partition key");
        }
        eprintln!("envelope: DynamoDB Scan of {table} (no --eq on its partition key {partition_key})");
        return Ok(client.scan(table, Some(&Expression::render(query)?)).await?);
    };
    let mut key = vec![terms.remove(at)];
    if let Some(sort_key) = &sort_key {
        if let Some(at) = terms.iter().position(|term| subject(term) == Some(sort_key.as_str())) {
            key.push(terms.remove(at));
        }
    }
    let filter = (!terms.is_empty()).then_some(Condition::And(terms));
    let mut request = QueryRequest::from_conditions(&Condition::And(key), filter.as_ref())?;
    request.index_name = index.map(str::to_owned);
    eprintln!("envelope: DynamoDB Query of {table}{}", index.map(|i| format!(" index {i}")).unwrap_or_default());
    Ok(client.query(table, &request).await?)
}

/// The attribute a CLI condition (`=`, begins_with, between) is about.
fn subject(term: &Condition) -> Option<&str> {
    match term {
        Condition::Compare(Operand::Attr(name), _, _)
        | Condition::BeginsWith(Operand::Attr(name), _)
        | Condition::Between(Operand::Attr(name), _, _) => Some(name),
        _ => None,
    }
}

/// The partition and sort key of `table` or of one of its indexes, as the names conditions use
/// (a beacon attribute `aws_dbe_b_NAME` as NAME).
async fn key_schema(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    index: Option<&str>,
) -> anyhow::Result<(String, Option<String>)> {
    let described =
        client.describe_table().table_name(table).send().await.map_err(|e| {
            anyhow!("DynamoDB DescribeTable {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e))
        })?;
    let description = described.table.with_context(|| format!("DynamoDB DescribeTable {table}: no table"))?;
    let schema = match index {
        None => description.key_schema(),
        Some(index) => {
            let global = description.global_secondary_indexes().iter().map(|i| (i.index_name(), i.key_schema()));
            let local = description.local_secondary_indexes().iter().map(|i| (i.index_name(), i.key_schema()));
            let mut all = global.chain(local);
            all.find(|(name, _)| *name == Some(index))
                .map(|(_, schema)| schema)
                .with_context(|| format!("--index {index}: table {table} has no such index"))?
        }
    };
    let logical = |name: &str| name.strip_prefix(BEACON_ATTRIBUTE_PREFIX).unwrap_or(name).to_owned();
    let of_type = |key_type: KeyType| {
        schema.iter().find(|element| *element.key_type() == key_type).map(|e| logical(e.attribute_name()))
    };
    let partition = of_type(KeyType::Hash).with_context(|| format!("table {table}: no partition key"))?;
    Ok((partition, of_type(KeyType::Range)))
}

async fn open_table(args: &TableArgs, keys: &Keys) -> anyhow::Result<Backend> {
    let bytes =
        std::fs::read(&args.table_config).with_context(|| format!("--table-config {}", args.table_config.display()))?;
    let parsed =
        table_config_from_json(&bytes).with_context(|| format!("--table-config {}", args.table_config.display()))?;
    let keyring = HierarchicalKeyring::builder_shared(Arc::clone(&keys.store))
        .branch_key_id(keys.branch_key_id.clone())
        .ttl(keys.ttl)
        .build()?;
    let cmm: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(keyring));
    let mut beacons = None;
    if let Some(search) = &parsed.search {
        let version = search.write();
        let store = Arc::clone(&keys.store);
        let source = match &version.key_source {
            Some(KeySourceJson::Multi { key_field_name, .. }) => {
                BeaconKeySource::Multi(MultiKeySource::new(store, key_field_name.clone(), keys.ttl))
            }
            Some(KeySourceJson::Single { key_id, .. }) => {
                BeaconKeySource::Single(SingleKeySource::new(store, key_id.clone(), keys.ttl))
            }
            None => BeaconKeySource::Single(SingleKeySource::new(store, keys.branch_key_id.clone(), keys.ttl)),
        };
        beacons = Some((version.config.clone(), source));
    }
    if let Some(name) = &args.dynamodb {
        let mut searchable = SearchableTable::new(parsed.table, cmm, parsed.algorithm_suite.unwrap_or(DEFAULT_SUITE));
        if let Some(beacons) = beacons {
            searchable = searchable.with_beacons(beacons.0, beacons.1)?;
        }
        let client = EncryptedDynamoDbClient::from_env().await.with_table(name, searchable);
        return Ok(Backend::DynamoDb { client, table: name.clone() });
    }
    let mut builder = EncryptedTable::builder(parsed.table, cmm);
    if let Some(suite) = parsed.algorithm_suite {
        builder = builder.suite(suite);
    }
    if let Some(name) = &args.sql_table {
        builder = builder.sql_table_name(name);
    }
    if let Some((config, source)) = beacons {
        builder = builder.beacons(config, source);
    }
    let db = args.db.as_ref().context("give --db FILE or --dynamodb TABLE")?;
    let connection = open_database(db).with_context(|| format!("--db {}", db.display()))?;
    Ok(Backend::Sqlite(Box::new(builder.create(connection)?)))
}

fn read_manifest(path: &Path) -> anyhow::Result<KeysManifest> {
    let bytes = std::fs::read(path).with_context(|| format!("--keys {}", path.display()))?;
    Ok(KeysManifest::parse(&path.display().to_string(), &bytes)?)
}

fn branch_key_id(path: &Path, entry: &str) -> anyhow::Result<String> {
    let manifest = read_manifest(path)?;
    match manifest.entry(entry).map(|e| e.material(entry)) {
        Some(Ok(KeyMaterial::StaticBranchKey { branch_key_id, .. })) => Ok(branch_key_id),
        Some(Ok(other)) => bail!("--branch-key {entry}: a {} entry, not a static-branch-key", other.kind_name()),
        Some(Err(error)) => bail!("--branch-key {entry}: {error}"),
        None => bail!("--branch-key {entry}: no such entry in {}", path.display()),
    }
}

/// A key store with `entry` as the active branch key and every beacon key of the manifest.
fn key_store(path: &Path, entry: &str) -> anyhow::Result<StaticKeyStore> {
    let manifest = read_manifest(path)?;
    let mut store = StaticKeyStore::new("envelope-db");
    let mut found = false;
    for (name, key) in &manifest.keys {
        let Ok(KeyMaterial::StaticBranchKey { branch_key_id, version, branch_key, beacon_key }) = key.material(name)
        else {
            continue;
        };
        if name == entry {
            let secret = BranchKeySecret::from_slice(&branch_key)?;
            store.add_branch_key(BranchKeyMaterials::new(&branch_key_id, &version, BTreeMap::new(), secret)?, true)?;
            found = true;
        }
        if let Some(beacon) = beacon_key {
            let secret = BranchKeySecret::from_slice(&beacon)?;
            store.add_beacon_key(BeaconKeyMaterials::new(&branch_key_id, BTreeMap::new(), secret));
        }
    }
    if !found {
        bail!("--branch-key {entry}: no static-branch-key entry of that name in {}", path.display());
    }
    Ok(store)
}

fn read_items(input: &str) -> anyhow::Result<Vec<Item>> {
    let mut bytes = Vec::new();
    if input == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading stdin")?;
    } else {
        bytes = std::fs::read(input).with_context(|| format!("-i {input}"))?;
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("-i {input}: not JSON"))?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        single => vec![single],
    };
    list.iter()
        .enumerate()
        .map(|(index, item)| item_from_value(item).with_context(|| format!("-i {input}: item {index}")))
        .collect()
}

/// `ATTR=VALUE` → the attribute and its value (a string, or DynamoDB JSON when it starts with `{`).
fn attribute_value(spec: &str, flag: &str) -> anyhow::Result<(String, AttributeValue)> {
    let (name, value) = spec.split_once('=').with_context(|| format!("{flag} {spec:?}: expected ATTR=VALUE"))?;
    Ok((name.to_owned(), value_of(value, flag)?))
}

fn value_of(text: &str, flag: &str) -> anyhow::Result<AttributeValue> {
    if !text.starts_with('{') {
        return Ok(AttributeValue::S(text.to_owned()));
    }
    let json: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{flag}: {text:?} is not DynamoDB JSON"))?;
    // Parse the value as the only attribute of an item, to reuse the item reader's checks.
    let item = item_from_value(&serde_json::json!({ "v": json })).with_context(|| format!("{flag}: {text:?}"))?;
    item.into_values().next().context("no value")
}

fn key_item(specs: &[String]) -> anyhow::Result<Item> {
    specs.iter().map(|spec| attribute_value(spec, "--key")).collect()
}

fn conditions(
    eq: &[String],
    begins_with: &[String],
    between: &[String],
    contains: &[String],
) -> anyhow::Result<Condition> {
    let mut parts = Vec::new();
    for spec in eq {
        let (name, value) = attribute_value(spec, "--eq")?;
        parts.push(Condition::eq(name, value));
    }
    for spec in begins_with {
        let (name, value) = attribute_value(spec, "--begins-with")?;
        parts.push(Condition::begins_with(name, value));
    }
    for spec in between {
        let (name, range) = spec.split_once('=').with_context(|| format!("--between {spec:?}: expected ATTR=LO,HI"))?;
        let (low, high) = split_range(range).with_context(|| format!("--between {spec:?}: expected ATTR=LO,HI"))?;
        parts.push(Condition::between(name, value_of(low, "--between")?, value_of(high, "--between")?));
    }
    for spec in contains {
        let (name, value) = attribute_value(spec, "--contains")?;
        parts.push(Condition::contains(name, value));
    }
    if parts.is_empty() {
        bail!("give at least one condition: --eq, --begins-with, --between or --contains");
    }
    Ok(Condition::And(parts))
}

/// `LO,HI`; a `{` value (DynamoDB JSON) may hold commas, so split after its closing brace.
fn split_range(range: &str) -> Option<(&str, &str)> {
    if range.starts_with('{') {
        let end = range.find("},")? + 1;
        return Some((&range[..end], &range[end + 1..]));
    }
    range.split_once(',')
}

fn print_items(items: &[Item]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for item in items {
        serde_json::to_writer(&mut out, &item_to_json(item))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_ranges() {
        assert_eq!(attribute_value("a=b=c", "--eq").unwrap(), ("a".into(), AttributeValue::S("b=c".into())));
        assert_eq!(attribute_value(r#"id={"N":"7"}"#, "--key").unwrap().1, AttributeValue::N("7".into()));
        assert!(attribute_value("novalue", "--eq").is_err());
        assert!(attribute_value(r#"id={"X":"7"}"#, "--eq").is_err());
        assert_eq!(split_range("a,b"), Some(("a", "b")));
        assert_eq!(split_range(r#"{"N":"1"},{"N":"2"}"#), Some((r#"{"N":"1"}"#, r#"{"N":"2"}"#)));
        assert!(conditions(&[], &[], &[], &[]).is_err());
        let tagged = conditions(&[], &[], &[], &["tags=red".into()]).unwrap();
        assert_eq!(tagged, Condition::And(vec![Condition::contains("tags", AttributeValue::S("red".into()))]));
    }
}
