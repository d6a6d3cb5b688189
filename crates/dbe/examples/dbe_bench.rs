//! Item encryption speed and SQLite query latency of envelope-dbe, for the figures of issue 11.
//! Not run by CI (examples are only built); see benches/dbe/README.md.
//!
//! ```text
//! dbe_bench [--seconds S] [--rows N] [--json]
//! ```
//!
//! Phases:
//! 1. for suites 0x6700 and 0x6701: `SearchableTable::encrypt_for_write` and `decrypt_read` of a
//!    10-attribute item (6 ENCRYPT_AND_SIGN, 4 SIGN_ONLY including the partition key; 2 standard
//!    beacons and 1 compound beacon), one item at a time for `S` seconds each (default 2), with
//!    the hierarchical keyring's cache and the beacon key cache warm;
//! 2. an `EncryptedTable` (SQLite, a file in the temp directory, suite 0x6700) of `N` rows
//!    (default 100,000) written with `put_all` in batches, then 50 beacon equality queries that
//!    each return one item: median and best latency.
//!
//! Keys: one random branch key and beacon key in a `StaticKeyStore`, for this run only, so the
//! figures are the item format and SQLite, not KMS. `--json` prints one JSON object per line
//! instead of the table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use envelope::{AlgorithmSuite, DefaultMaterialsManager, MaterialsManager};
use envelope_dbe::beacon::{
    BeaconKeySource, BeaconVersionConfig, CompoundBeacon, EncryptedPart, SignedPart, SingleKeySource, StandardBeacon,
};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig};
use envelope_dbe::search::{Condition, SearchableTable};
use envelope_dbe::sqlite::{EncryptedTable, open_database};
use envelope_keyrings::hierarchy::{HierarchicalKeyring, KeyStore, StaticKeyStore};

type BoxError = Box<dyn std::error::Error>;

const BRANCH_KEY_ID: &str = "bench-branch-key";
const TABLE: &str = "BenchItems";
/// Rows written per `put_all` transaction.
const BATCH: usize = 1_000;
/// Queries timed in phase 2.
const QUERIES: usize = 50;
/// Long enough that the cached branch and beacon keys never expire during a run.
const CACHE_TTL: Duration = Duration::from_secs(3_600);

struct Args {
    seconds: f64,
    rows: usize,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { seconds: 2.0, rows: 100_000, json: false };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => args.seconds = value()?.parse().map_err(|e: std::num::ParseFloatError| e.to_string())?,
            "--rows" => args.rows = value()?.parse().map_err(|e: std::num::ParseIntError| e.to_string())?,
            "--json" => args.json = true,
            other => return Err(format!("unknown flag {other} (flags: --seconds S, --rows N, --json)")),
        }
    }
    if !args.seconds.is_finite() || args.seconds <= 0.0 || args.rows == 0 {
        return Err("--seconds and --rows must be positive".into());
    }
    Ok(args)
}

/// A key store holding one random branch key and its beacon key, for this run only.
fn key_store() -> Result<Arc<StaticKeyStore>, BoxError> {
    let mut store = StaticKeyStore::new("dbe-bench");
    store.add_random_key(BRANCH_KEY_ID)?;
    Ok(Arc::new(store))
}

/// The hierarchical keyring over `store`, behind the default CMM.
fn materials(store: &Arc<StaticKeyStore>) -> Result<Arc<dyn MaterialsManager>, BoxError> {
    let keyring =
        HierarchicalKeyring::builder(Arc::clone(store)).branch_key_id(BRANCH_KEY_ID).ttl(CACHE_TTL).build()?;
    Ok(Arc::new(DefaultMaterialsManager::new(keyring)))
}

fn beacon_source(store: &Arc<StaticKeyStore>) -> BeaconKeySource {
    let store: Arc<dyn KeyStore> = Arc::clone(store) as Arc<dyn KeyStore>;
    BeaconKeySource::Single(SingleKeySource::new(store, BRANCH_KEY_ID, CACHE_TTL))
}

/// Ten attributes: `Id` (partition key), `Date`, `Status`, `Count` signed; six encrypted.
fn table_config() -> TableConfig {
    let mut config = TableConfig::new(TABLE, "Id");
    for name in ["Id", "Date", "Status", "Count"] {
        config = config.action(name, CryptoAction::SignOnly);
    }
    for name in ["Email", "Ssn", "Name", "Card", "Address", "Notes"] {
        config = config.action(name, CryptoAction::EncryptAndSign);
    }
    config
}

/// Standard beacons on `Email` and `Ssn`; the compound `EmailDate` = `D-<Date>#E-<Email beacon>`.
/// `Ssn` is unique per item and its beacon long enough (20 bits) that an equality query over
/// 100,000 rows has about 0.1 false candidates; `Email` is shorter, as beacons usually are.
fn beacons() -> Result<BeaconVersionConfig, BoxError> {
    Ok(BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![StandardBeacon::new("Email", 16)?, StandardBeacon::new("Ssn", 20)?],
        compound_beacons: vec![
            CompoundBeacon::new("EmailDate", '#')
                .with_encrypted(vec![EncryptedPart::new("Email", "E-")])
                .with_signed(vec![SignedPart::new("Date", "D-")?]),
        ],
        ..Default::default()
    })
}

fn ssn(i: usize) -> String {
    format!("{:03}-{:02}-{:04}", 100 + i / 1_000_000 % 900, i / 10_000 % 100, i % 10_000)
}

/// Item number `i`: about 400 bytes of attribute values.
fn item(i: usize) -> Item {
    let strings = [
        ("Id", format!("item-{i:08}")),
        ("Date", format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
        ("Status", if i.is_multiple_of(3) { "shipped" } else { "open" }.to_owned()),
        ("Email", format!("user{}@example.com", i % 5_000)),
        ("Ssn", ssn(i)),
        ("Name", format!("Customer Number {i}")),
        ("Card", format!("4111-{:04}-{:04}-1111", i / 10_000 % 10_000, i % 10_000)),
        ("Address", format!("{} Long Street, Apartment {}, Springfield, 12345", i % 997, i % 89)),
    ];
    let mut item: Item = strings.into_iter().map(|(name, value)| (name.to_owned(), V::S(value))).collect();
    item.insert("Count".to_owned(), V::N((i % 1_000).to_string()));
    item.insert("Notes".to_owned(), V::B((0..96).map(|b| (b ^ i) as u8).collect()));
    item
}

fn suite_id(suite: AlgorithmSuite) -> String {
    format!("0x{:04X}", suite.id())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

struct Throughput {
    items: u64,
    seconds: f64,
}

impl Throughput {
    fn per_second(&self) -> f64 {
        self.items as f64 / self.seconds
    }
}

/// Encrypts item after item for `seconds`, then decrypts the written items in turn for as long.
async fn item_phase(
    store: &Arc<StaticKeyStore>,
    suite: AlgorithmSuite,
    seconds: f64,
) -> Result<(Throughput, Throughput), BoxError> {
    let table = SearchableTable::new(table_config(), materials(store)?, suite)
        .with_beacons(beacons()?, beacon_source(store))?;
    let budget = Duration::from_secs_f64(seconds);
    let items: Vec<Item> = (0..256).map(item).collect();
    // Warm the branch key and beacon key caches, and check the round trip once.
    let stored = table.encrypt_for_write(&items[0]).await?;
    if table.decrypt_read(&stored).await? != items[0] {
        return Err("round trip changed the item".into());
    }

    let mut written = Vec::with_capacity(items.len());
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        let stored = table.encrypt_for_write(&items[count as usize % items.len()]).await?;
        if written.len() < items.len() {
            written.push(stored);
        }
        count += 1;
    }
    let encrypt = Throughput { items: count, seconds: start.elapsed().as_secs_f64() };

    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        let plain = table.decrypt_read(&written[count as usize % written.len()]).await?;
        std::hint::black_box(plain);
        count += 1;
    }
    let decrypt = Throughput { items: count, seconds: start.elapsed().as_secs_f64() };
    Ok((encrypt, decrypt))
}

struct QueryFigures {
    load_seconds: f64,
    median_ms: f64,
    best_ms: f64,
    explain: String,
}

/// Fills a SQLite table with `rows` items, then times equality queries on the `Ssn` beacon.
async fn sqlite_phase(store: &Arc<StaticKeyStore>, rows: usize) -> Result<QueryFigures, BoxError> {
    let dir = std::env::temp_dir().join(format!("envelope-dbe-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = sqlite_phase_in(store, rows, &dir.join("bench.db")).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn sqlite_phase_in(
    store: &Arc<StaticKeyStore>,
    rows: usize,
    path: &std::path::Path,
) -> Result<QueryFigures, BoxError> {
    let table = EncryptedTable::builder(table_config(), materials(store)?)
        .suite(AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384)
        .beacons(beacons()?, beacon_source(store))
        .create(open_database(path)?)?;

    let start = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..rows {
        batch.push(item(i));
        if batch.len() == BATCH || i + 1 == rows {
            table.put_all(&batch).await?;
            batch.clear();
        }
    }
    let load_seconds = start.elapsed().as_secs_f64();

    // Rows spread over the table (a fixed odd stride), each found by its unique Ssn.
    let targets: Vec<usize> = (0..QUERIES).map(|q| (q * 7_919 + 13) % rows).collect();
    let explain = table.explain(&Condition::eq("Ssn", V::S(ssn(targets[0])))).await?.join("; ");
    let mut latencies = Vec::with_capacity(QUERIES);
    for &target in &targets {
        let query = Condition::eq("Ssn", V::S(ssn(target)));
        let start = Instant::now();
        let found = table.query(&query).await?;
        latencies.push(start.elapsed().as_secs_f64() * 1e3);
        if found.len() != 1 || found[0].get("Id") != Some(&V::S(format!("item-{target:08}"))) {
            return Err(format!("query for item {target} returned {} items", found.len()).into());
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(QueryFigures { load_seconds, median_ms: latencies[QUERIES / 2], best_ms: latencies[0], explain })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let store = key_store()?;
    let load_before = load_average();
    if args.json {
        println!(r#"{{"phase":"start","load_average":"{load_before}"}}"#);
    } else {
        println!(
            "envelope-dbe bench: 10-attribute item (6 encrypted, 2 standard + 1 compound beacon); load average {load_before}"
        );
        println!("{:<10} {:<8} {:>12} {:>10}", "operation", "suite", "items/s", "items");
    }

    for suite in [
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
    ] {
        let (encrypt, decrypt) = item_phase(&store, suite, args.seconds).await?;
        for (operation, figures) in [("encrypt", encrypt), ("decrypt", decrypt)] {
            let (suite, rate) = (suite_id(suite), figures.per_second());
            if args.json {
                println!(
                    r#"{{"phase":"item","operation":"{operation}","suite":"{suite}","items_per_second":{rate:.1},"items":{},"seconds":{:.3}}}"#,
                    figures.items, figures.seconds
                );
            } else {
                println!("{operation:<10} {suite:<8} {rate:>12.0} {:>10}", figures.items);
            }
        }
    }

    let query = sqlite_phase(&store, args.rows).await?;
    let load_after = load_average();
    if args.json {
        println!(
            r#"{{"phase":"sqlite_query","rows":{},"load_seconds":{:.3},"queries":{QUERIES},"median_ms":{:.3},"best_ms":{:.3},"plan":{:?}}}"#,
            args.rows, query.load_seconds, query.median_ms, query.best_ms, query.explain
        );
        println!(r#"{{"phase":"end","load_average":"{load_after}"}}"#);
    } else {
        println!(
            "SQLite, {} rows (written in {:.1} s): beacon equality query returning 1 item, median {:.3} ms, best {:.3} ms of {QUERIES}",
            args.rows, query.load_seconds, query.median_ms, query.best_ms
        );
        println!("query plan: {}", query.explain);
        println!("load average at the end: {load_after}");
    }
    Ok(())
}
