//! `envelope db put|get|query` over a SQLite file: items in as DynamoDB JSON, found by beacon,
//! printed decrypted; the stored form carries the beacons; bad input exits non-zero with a
//! message naming the flag. `--dynamodb TABLE` does the same on moto's DynamoDB (skipped without
//! moto unless ENVELOPE_REQUIRE_MOTO is set).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_envelope");

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/dbesdk/keys.json")
}

const CONFIG: &str = r#"{
  "logicalTableName": "People",
  "partitionKeyName": "id",
  "attributeActionsOnEncrypt": {"id": "SIGN_ONLY", "email": "ENCRYPT_AND_SIGN", "year": "SIGN_ONLY", "city": "ENCRYPT_AND_SIGN"},
  "search": {"versions": [{
    "keySource": {"keyId": "bd3842ff-3076-4092-9918-4395730050b8"},
    "standardBeacons": [{"Name": "email", "Length": 4}, {"Name": "city", "Length": 8}],
    "compoundBeacons": [{"Name": "Where", "Split": ".", "Signed": [{"Name": "year", "Prefix": "Y_"}],
                         "Encrypted": [{"Name": "city", "Prefix": "C_"}]}]
  }]}
}"#;

struct Setup {
    dir: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir = std::env::temp_dir().join(format!("envelope-db-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), CONFIG).unwrap();
        Setup { dir }
    }

    fn db(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let db = self.dir.join("people.db");
        let config = self.dir.join("config.json");
        let keys = keys();
        let mut command = Command::new(BIN);
        command.arg("db").arg(args[0]);
        command.args(["--db", db.to_str().unwrap(), "--table-config", config.to_str().unwrap()]);
        command.args(["--keys", keys.to_str().unwrap()]);
        command.args(&args[1..]);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write as _;
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn people() -> String {
    let cities = ["Paris", "Lyon", "Oslo", "Lima"];
    let items: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"id": {{"N": "{i}"}}, "email": {{"S": "user{i}@example.com"}}, "year": {{"S": "{}"}}, "city": {{"S": "{}"}}}}"#,
                1980 + i % 10,
                cities[i % 4]
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn ids(items: &[serde_json::Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = items.iter().map(|item| item["id"]["N"].as_str().unwrap().parse().unwrap()).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn put_get_and_query_through_beacons() {
    let setup = Setup::new("flow");
    let put = setup.db(&["put", "-i", "-"], Some(&people()));
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));

    // By key: decrypted; --stored: the DB-ESDK item with its beacons.
    let got = lines(&setup.db(&["get", "--key", r#"id={"N":"7"}"#], None));
    assert_eq!(got[0]["email"]["S"], "user7@example.com");
    let stored = lines(&setup.db(&["get", "--key", r#"id={"N":"7"}"#, "--stored"], None));
    assert!(stored[0]["email"]["B"].is_string() && stored[0]["aws_dbe_b_email"]["S"].is_string());
    assert!(stored[0]["aws_dbe_head"]["B"].is_string());

    // A 4-bit email beacon collides; the re-check leaves exactly one.
    assert_eq!(ids(&lines(&setup.db(&["query", "--eq", "email=user13@example.com"], None))), [13]);
    // Compound prefix and range, and a plain signed attribute.
    let found = lines(&setup.db(&["query", "--begins-with", "Where=Y_1983"], None));
    assert_eq!(ids(&found), [3, 13, 23, 33]);
    let found = lines(&setup.db(&["query", "--between", "Where=Y_1981,Y_1983", "--eq", "city=Lyon"], None));
    assert_eq!(ids(&found), [1, 21]);
    let found = lines(&setup.db(&["query", "--eq", "year=1984"], None));
    assert_eq!(ids(&found), [4, 14, 24, 34]);

    // Missing key: exit 1. Encrypted attribute without beacon / bad flag: an error naming it.
    let missing = setup.db(&["get", "--key", r#"id={"N":"99"}"#], None);
    assert_eq!(missing.status.code(), Some(1));
    let bad = setup.db(&["query", "--eq", "nope"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--eq"), "{}", String::from_utf8_lossy(&bad.stderr));
    let range = setup.db(&["query", "--between", "email=a,b"], None);
    assert!(!range.status.success());
    assert!(String::from_utf8_lossy(&range.stderr).contains("email"), "{}", String::from_utf8_lossy(&range.stderr));
}

/// A set beacon (`asSet`): `--contains` finds the items whose set holds the value, through the
/// SQLite table's side table of set beacon values; 4-bit beacons collide, the re-check decides.
#[test]
fn contains_on_a_set_beacon() {
    let setup = Setup::new("sets");
    let config = r#"{
      "logicalTableName": "Docs",
      "partitionKeyName": "id",
      "attributeActionsOnEncrypt": {"id": "SIGN_ONLY", "tags": "ENCRYPT_AND_SIGN"},
      "search": {"versions": [{
        "keySource": {"keyId": "bd3842ff-3076-4092-9918-4395730050b8"},
        "standardBeacons": [{"Name": "tags", "Length": 4, "style": {"asSet": {}}}]
      }]}
    }"#;
    std::fs::write(setup.dir.join("config.json"), config).unwrap();
    let items: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"id": {{"N": "{i}"}}, "tags": {{"SS": ["t{}", "t{}"]}}}}"#, i % 10, (i * 3 + 1) % 10))
        .collect();
    let put = setup.db(&["put", "-i", "-"], Some(&format!("[{}]", items.join(","))));
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    for k in 0..10 {
        let expected: Vec<u64> = (0..30u64).filter(|i| i % 10 == k || (i * 3 + 1) % 10 == k).collect();
        let found = lines(&setup.db(&["query", "--contains", &format!("tags=t{k}")], None));
        assert_eq!(ids(&found), expected, "t{k}");
    }
    // A set beacon answers contains only.
    let eq = setup.db(&["query", "--eq", "tags=t1"], None);
    assert!(!eq.status.success());
    assert!(String::from_utf8_lossy(&eq.stderr).contains("tags"), "{}", String::from_utf8_lossy(&eq.stderr));
}

#[test]
fn bad_items_are_refused_before_anything_is_written() {
    let setup = Setup::new("bad");
    let bad = setup.db(&["put", "-i", "-"], Some(r#"[{"id": {"N": "1"}, "email": {"S": "a"}}, {"id": {"X": "2"}}]"#));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("item 1"), "{}", String::from_utf8_lossy(&bad.stderr));
    let missing = setup.db(&["get", "--key", r#"id={"N":"1"}"#], None);
    assert_eq!(missing.status.code(), Some(1), "nothing was written");
}

/// A table config with beacons whose beacon key is the table's branch key (no `keySource`).
const CONFIG_OWN_BEACON_KEY: &str = r#"{
  "logicalTableName": "People",
  "partitionKeyName": "id",
  "attributeActionsOnEncrypt": {"id": "SIGN_ONLY", "email": "ENCRYPT_AND_SIGN", "year": "SIGN_ONLY", "city": "ENCRYPT_AND_SIGN"},
  "search": {"versions": [{
    "standardBeacons": [{"Name": "email", "Length": 4}, {"Name": "city", "Length": 8}],
    "compoundBeacons": [{"Name": "Where", "Split": ".", "Signed": [{"Name": "year", "Prefix": "Y_"}],
                         "Encrypted": [{"Name": "city", "Prefix": "C_"}]}]
  }]}
}"#;

/// `-w branch-key-id=ID kms-key=ARN`: a branch key created in the default key store (SQLite, next
/// to the embedded KMS emulator's data), its beacon key from the same store; a wrong kms-key= and
/// a group that is not a branch key are refused; -w and --keys exclude each other.
#[test]
fn branch_key_from_the_default_key_store() {
    let home = common::TempDir::new("db-cli-keystore");
    let kms_dir = home.path().join("kms");
    let run = |args: &[&str], stdin: Option<&str>| -> Output {
        let mut command = common::isolated_envelope(home.path());
        command.args(args).env("ENVELOPE_KMS_DATA_DIR", &kms_dir).env("RUST_LOG", "error");
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write as _;
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    };
    let ok = |args: &[&str]| -> String {
        let output = run(args, None);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let arn = |text: String| -> String {
        let created: serde_json::Value = serde_json::from_str(&text).unwrap();
        created["Arn"].as_str().unwrap().to_owned()
    };
    let kms_key = arn(ok(&["kms", "create-key"]));
    let other_key = arn(ok(&["kms", "create-key"]));
    ok(&["keystore", "create"]);
    let branch_key = ok(&["keystore", "create-key", "--kms-key", &kms_key]).lines().last().unwrap().trim().to_owned();

    let config = home.path().join("config.json");
    std::fs::write(&config, CONFIG_OWN_BEACON_KEY).unwrap();
    let db = home.path().join("people.db");
    let (db, config) = (db.to_str().unwrap().to_owned(), config.to_str().unwrap().to_owned());
    let group_id = format!("branch-key-id={branch_key}");
    let group_kms = format!("kms-key={kms_key}");
    let with = |verb: &'static str, kms: &str, extra: &[&str], stdin: Option<&str>| -> Output {
        let kms = format!("kms-key={kms}");
        let mut args = vec!["db", verb, "--db", &db, "--table-config", &config, "-w", &group_id, &kms];
        // Every -w word must come before the next flag.
        args.extend(extra);
        run(&args, stdin)
    };

    let put = with("put", &kms_key, &["-i", "-"], Some(&people()));
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let got = lines(&with("get", &kms_key, &["--key", r#"id={"N":"7"}"#], None));
    assert_eq!(got[0]["email"]["S"], "user7@example.com");
    let stored = lines(&with("get", &kms_key, &["--key", r#"id={"N":"7"}"#, "--stored"], None));
    assert!(stored[0]["email"]["B"].is_string() && stored[0]["aws_dbe_b_email"]["S"].is_string());
    assert_eq!(ids(&lines(&with("query", &kms_key, &["--eq", "email=user13@example.com"], None))), [13]);
    let found = lines(&with("query", &kms_key, &["--begins-with", "Where=Y_1983", "--eq", "city=Lima"], None));
    assert_eq!(ids(&found), [3, 23]);

    // The store binds the branch key to its KMS key: another kms-key= reads nothing.
    let wrong = with("get", &other_key, &["--key", r#"id={"N":"7"}"#], None);
    assert_eq!(wrong.status.code(), Some(4), "a key store failure: {}", String::from_utf8_lossy(&wrong.stderr));
    assert!(wrong.stdout.is_empty(), "no plaintext on failure");
    // A branch key the store does not have: the store's failure too.
    let kms = format!("kms-key={kms_key}");
    let args = ["db", "put", "--db", &db, "--table-config", &config, "-w", "branch-key-id=nobody", &kms, "-i", "-"];
    let unknown =
        run(&args, Some(r#"{"id": {"N": "99"}, "email": {"S": "x"}, "year": {"S": "1"}, "city": {"S": "y"}}"#));
    assert_eq!(unknown.status.code(), Some(4), "{}", String::from_utf8_lossy(&unknown.stderr));
    // A missing table config is a file error.
    let args = [
        "db",
        "get",
        "--db",
        &db,
        "--table-config",
        "/nonexistent/config.json",
        "-w",
        &group_id,
        &kms,
        "--key",
        "id=7",
    ];
    let no_config = run(&args, None);
    assert_eq!(no_config.status.code(), Some(3), "{}", String::from_utf8_lossy(&no_config.stderr));
    // Not a branch key group; both key options; neither.
    let raw = run(&["db", "get", "--db", &db, "--table-config", &config, "-w", "key=alias/x", "--key", "id=1"], None);
    assert_eq!(raw.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&raw.stderr).contains("branch-key-id"), "{}", String::from_utf8_lossy(&raw.stderr));
    let keys = keys();
    let both = run(
        &[
            "db",
            "get",
            "--db",
            &db,
            "--table-config",
            &config,
            "--keys",
            keys.to_str().unwrap(),
            "-w",
            &group_id,
            &group_kms,
            "--key",
            "id=1",
        ],
        None,
    );
    assert_eq!(both.status.code(), Some(2), "{}", String::from_utf8_lossy(&both.stderr));
    let neither = run(&["db", "get", "--db", &db, "--table-config", &config, "--key", "id=1"], None);
    assert_eq!(neither.status.code(), Some(2), "{}", String::from_utf8_lossy(&neither.stderr));
}

/// `--dynamodb TABLE`: the same put/get/query on a DynamoDB table (moto), the endpoint from the AWS
/// configuration; the stored item carries the beacons; a missing table is an error, not output.
#[test]
fn put_get_and_query_on_dynamodb() {
    let Some(moto) = envelope_test_moto::start(envelope_test_moto::SERVER_SCRIPT) else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
            ProjectionType, ScalarAttributeType,
        };
        let hash =
            |name: &str| KeySchemaElement::builder().attribute_name(name).key_type(KeyType::Hash).build().unwrap();
        let attribute = |name: &str, kind| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build().unwrap()
        };
        // An index on the email beacon: what a DB-ESDK table queried by email has.
        let by_email = GlobalSecondaryIndex::builder()
            .index_name("EmailIndex")
            .key_schema(hash("aws_dbe_b_email"))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .unwrap();
        moto.dynamodb()
            .create_table()
            .table_name("People")
            .key_schema(hash("id"))
            .attribute_definitions(attribute("id", ScalarAttributeType::N))
            .attribute_definitions(attribute("aws_dbe_b_email", ScalarAttributeType::S))
            .global_secondary_indexes(by_email)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("CreateTable on moto");
    });
    let home = common::TempDir::new("db-cli-dynamodb");
    let config = home.path().join("config.json");
    std::fs::write(&config, CONFIG).unwrap();
    let keys = keys();
    let run = |table: &str, args: &[&str], stdin: Option<&str>| -> Output {
        let mut command = common::isolated_envelope(home.path());
        command.arg("db").arg(args[0]);
        command.args([
            "--dynamodb",
            table,
            "--table-config",
            config.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ]);
        command.args(&args[1..]);
        command
            .env("AWS_ENDPOINT_URL_DYNAMODB", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "error");
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write as _;
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    };
    let put = run("People", &["put", "-i", "-"], Some(&people()));
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let got = lines(&run("People", &["get", "--key", r#"id={"N":"7"}"#], None));
    assert_eq!(got[0]["email"]["S"], "user7@example.com");
    let stored = lines(&run("People", &["get", "--key", r#"id={"N":"7"}"#, "--stored"], None));
    assert!(stored[0]["email"]["B"].is_string() && stored[0]["aws_dbe_b_email"]["S"].is_string());
    // Without a condition on a key: a Scan, filtered on beacons and re-checked.
    let scanned = run("People", &["query", "--eq", "email=user13@example.com"], None);
    assert!(String::from_utf8_lossy(&scanned.stderr).contains("DynamoDB Scan of People"));
    assert_eq!(ids(&lines(&scanned)), [13]);
    let found = lines(&run("People", &["query", "--begins-with", "Where=Y_1983"], None));
    assert_eq!(ids(&found), [3, 13, 23, 33]);
    let found = lines(&run("People", &["query", "--eq", "year=1984"], None));
    assert_eq!(ids(&found), [4, 14, 24, 34]);
    // The table's partition key pinned: a Query; the other term becomes its filter.
    let queried = run("People", &["query", "--eq", r#"id={"N":"7"}"#, "--eq", "year=1987"], None);
    assert!(String::from_utf8_lossy(&queried.stderr).contains("DynamoDB Query of People"), "{queried:?}");
    assert_eq!(ids(&lines(&queried)), [7]);
    let none = run("People", &["query", "--eq", r#"id={"N":"7"}"#, "--eq", "year=1988"], None);
    assert!(none.status.success() && none.stdout.is_empty(), "{none:?}");
    // The index keyed on the 4-bit email beacon: a Query on the beacon, whose many collisions
    // the plaintext re-check drops.
    let by_index = run("People", &["query", "--index", "EmailIndex", "--eq", "email=user21@example.com"], None);
    assert!(String::from_utf8_lossy(&by_index.stderr).contains("Query of People index EmailIndex"), "{by_index:?}");
    assert_eq!(ids(&lines(&by_index)), [21]);
    let unpinned = run("People", &["query", "--index", "EmailIndex", "--eq", "year=1984"], None);
    assert!(!unpinned.status.success() && unpinned.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unpinned.stderr).contains("--eq email=VALUE"), "{unpinned:?}");
    let unknown = run("People", &["query", "--index", "NoIndex", "--eq", "email=user21@example.com"], None);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has no such index"), "{unknown:?}");
    let missing = run("People", &["get", "--key", r#"id={"N":"99"}"#], None);
    assert_eq!(missing.status.code(), Some(1));
    let no_table = run("Nope", &["get", "--key", r#"id={"N":"7"}"#], None);
    assert!(no_table.stdout.is_empty());
    assert_eq!(no_table.status.code(), Some(4), "DynamoDB refused: {}", String::from_utf8_lossy(&no_table.stderr));
}
