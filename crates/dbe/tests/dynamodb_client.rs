//! The encrypted DynamoDB client against moto[server] DynamoDB on 127.0.0.1: round trips, queries
//! through beacons on secondary indexes (collisions reach the client and are dropped), scans,
//! batch and transactional calls, refused conditions on encrypted attributes, beacon
//! partitions, and the cheap path of a table without beacons.
//!
//! Skipped with a message when moto's Python is missing, unless ENVELOPE_REQUIRE_MOTO is set
//! (ENVELOPE_MOTO_PYTHON names the interpreter).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use envelope::{AlgorithmSuite, DefaultMaterialsManager};
use envelope_dbe::beacon::{
    BeaconKeySource, BeaconVersionConfig, CompoundBeacon, EncryptedPart, MultiKeySource, SignedPart, SingleKeySource,
    StandardBeacon,
};
use envelope_dbe::dynamodb::{
    BatchWrite, DynamoDbError, EncryptedDynamoDbClient, Expression, QueryRequest, TransactWrite, from_sdk_item,
};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig};
use envelope_dbe::search::{SearchError, SearchableTable};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyIdSupplier, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore,
    StaticKeyStore,
};

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
const BRANCH_KEY: &str = "ddb-test-branch";

fn store() -> Arc<StaticKeyStore> {
    let mut store = StaticKeyStore::new("ddb-test");
    let secret = || BranchKeySecret::from_slice(&[7; 32]).unwrap();
    let version = "5f1c2a34-6b7d-4e8f-9a0b-1c2d3e4f5a6b";
    store
        .add_branch_key(BranchKeyMaterials::new(BRANCH_KEY, version, BTreeMap::new(), secret()).unwrap(), true)
        .unwrap();
    store.add_beacon_key(BeaconKeyMaterials::new(BRANCH_KEY, BTreeMap::new(), secret()));
    Arc::new(store)
}

fn config(table: &str) -> TableConfig {
    TableConfig::new(table, "id")
        .action("id", CryptoAction::SignOnly)
        .action("email", CryptoAction::EncryptAndSign)
        .action("city", CryptoAction::EncryptAndSign)
        .action("secret", CryptoAction::EncryptAndSign)
        .action("year", CryptoAction::SignOnly)
        .action("note", CryptoAction::DoNothing)
        .allowed_unsigned("note")
}

/// `email` has a 2-bit beacon, so of 12 people about three share each beacon value: the index
/// returns collisions for the client to drop. `Where` = `Y_<year>.C_<city beacon>`.
fn searchable(table: &str, max_partitions: Option<u8>) -> SearchableTable {
    let store = store();
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id(BRANCH_KEY)
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let beacons = BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![StandardBeacon::new("email", 2).unwrap(), StandardBeacon::new("city", 8).unwrap()],
        compound_beacons: vec![
            CompoundBeacon::new("Where", '.')
                .with_signed(vec![SignedPart::new("year", "Y_").unwrap()])
                .with_encrypted(vec![EncryptedPart::new("city", "C_")]),
        ],
        max_partitions,
        ..Default::default()
    };
    let source = SingleKeySource::new(store as Arc<dyn KeyStore>, BRANCH_KEY, Duration::from_secs(60));
    SearchableTable::new(config(table), Arc::new(DefaultMaterialsManager::new(keyring)), SUITE)
        .with_beacons(beacons, BeaconKeySource::Single(source))
        .unwrap()
}

fn plain_table(table: &str) -> SearchableTable {
    let keyring =
        HierarchicalKeyring::builder(store()).branch_key_id(BRANCH_KEY).ttl(Duration::from_secs(60)).build().unwrap();
    SearchableTable::new(config(table), Arc::new(DefaultMaterialsManager::new(keyring)), SUITE)
}

fn s(text: &str) -> V {
    V::S(text.into())
}

const CITIES: [&str; 3] = ["Paris", "Oslo", "Lima"];

fn person(i: usize) -> Item {
    [
        ("id", s(&format!("p{i:02}"))),
        ("email", s(&format!("user{i}@example.com"))),
        ("city", s(CITIES[i % 3])),
        ("year", s(&format!("{}", 1990 + i % 4))),
        ("secret", s("do not tell")),
        ("note", s("unsigned")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn year(item: &Item) -> u32 {
    match &item["year"] {
        V::S(year) => year.parse().unwrap(),
        other => panic!("year {other:?}"),
    }
}

fn key(i: usize) -> Item {
    Item::from([("id".to_owned(), s(&format!("p{i:02}")))])
}

fn ids(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .map(|item| match &item["id"] {
            V::S(id) => id.clone(),
            other => panic!("id {other:?}"),
        })
        .collect()
}

fn gsi(name: &str, partition: &str, sort: Option<&str>) -> GlobalSecondaryIndex {
    let mut schema =
        vec![KeySchemaElement::builder().attribute_name(partition).key_type(KeyType::Hash).build().unwrap()];
    if let Some(sort) = sort {
        schema.push(KeySchemaElement::builder().attribute_name(sort).key_type(KeyType::Range).build().unwrap());
    }
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(schema))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .unwrap()
}

/// A fresh table `name` (key `id`) with indexes EmailIndex (`aws_dbe_b_email`) and CityYear
/// (`aws_dbe_b_city`, `year`); the client serves it with `table`. `None` when moto is missing.
async fn setup(name: &str, table: SearchableTable) -> Option<EncryptedDynamoDbClient> {
    let moto = common::moto::shared()?;
    let raw = moto.dynamodb();
    let attribute = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    raw.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .set_attribute_definitions(Some(vec![
            attribute("id"),
            attribute("aws_dbe_b_email"),
            attribute("aws_dbe_b_city"),
            attribute("year"),
        ]))
        .global_secondary_indexes(gsi("EmailIndex", "aws_dbe_b_email", None))
        .global_secondary_indexes(gsi("CityYear", "aws_dbe_b_city", Some("year")))
        .send()
        .await
        .unwrap();
    Some(EncryptedDynamoDbClient::new(raw).with_table(name, table))
}

async fn put_people(client: &EncryptedDynamoDbClient, table: &str, count: usize) -> Vec<Item> {
    let people: Vec<Item> = (0..count).map(person).collect();
    for item in &people {
        client.put_item(table, item, None).await.unwrap();
    }
    people
}

/// What the raw index returns for a beacon query: the number of items before the re-check.
async fn raw_count(client: &EncryptedDynamoDbClient, table: &str, index: &str, attribute: &str, value: &V) -> usize {
    let output = client
        .inner()
        .query()
        .table_name(table)
        .index_name(index)
        .key_condition_expression("#a = :v")
        .expression_attribute_names("#a", attribute)
        .expression_attribute_values(":v", envelope_dbe::dynamodb::to_sdk_value(value))
        .send()
        .await
        .unwrap();
    output.items().len()
}

#[tokio::test]
async fn put_then_get_round_trips_and_stores_ciphertext_with_beacons() {
    let Some(client) = setup("RoundTrip", searchable("RoundTrip", None)).await else { return };
    let item = person(1);
    client.put_item("RoundTrip", &item, None).await.unwrap();

    let read = client.get_item("RoundTrip", &key(1)).await.unwrap().expect("the item exists");
    assert_eq!(read, item);
    assert_eq!(client.get_item("RoundTrip", &key(99)).await.unwrap(), None);

    let raw =
        client.inner().get_item().table_name("RoundTrip").key("id", envelope_dbe::dynamodb::to_sdk_value(&s("p01")));
    let stored = from_sdk_item(raw.send().await.unwrap().item.as_ref().unwrap()).unwrap();
    assert!(matches!(stored["email"], V::B(_)), "email is stored encrypted");
    assert!(matches!(stored["secret"], V::B(_)), "secret is stored encrypted");
    assert_eq!(stored["year"], s("1991"));
    for name in ["aws_dbe_head", "aws_dbe_foot", "aws_dbe_b_email", "aws_dbe_b_city", "aws_dbe_b_Where"] {
        assert!(stored.contains_key(name), "{name} is stored");
    }
    assert!(!stored.contains_key("aws_dbe_v_1"), "no version tag, as the DB-ESDK writes");

    client.delete_item("RoundTrip", &key(1), None).await.unwrap();
    assert_eq!(client.get_item("RoundTrip", &key(1)).await.unwrap(), None);
}

#[tokio::test]
async fn a_query_by_beacon_drops_the_collisions_the_index_returns() {
    let Some(client) = setup("Collide", searchable("Collide", None)).await else { return };
    put_people(&client, "Collide", 12).await;

    let query = QueryRequest::new("email = :e").index_name("EmailIndex").value(":e", s("user5@example.com"));
    let found = client.query("Collide", &query).await.unwrap();
    assert_eq!(ids(&found), BTreeSet::from(["p05".to_owned()]));
    assert_eq!(found[0], person(5));

    // The index itself returned more: a 2-bit beacon over 12 emails collides.
    let stored =
        client.inner().get_item().table_name("Collide").key("id", envelope_dbe::dynamodb::to_sdk_value(&s("p05")));
    let beacon = from_sdk_item(stored.send().await.unwrap().item.as_ref().unwrap()).unwrap()["aws_dbe_b_email"].clone();
    assert!(raw_count(&client, "Collide", "EmailIndex", "aws_dbe_b_email", &beacon).await > 1, "no collision to drop");

    // An email nobody has: collisions only, all dropped.
    let none = QueryRequest::new("#e = :e").index_name("EmailIndex").name("#e", "email").value(":e", s("nobody@x"));
    assert!(client.query("Collide", &none).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_query_with_range_key_and_filter() {
    let Some(client) = setup("Ranges", searchable("Ranges", None)).await else { return };
    let people = put_people(&client, "Ranges", 12).await;

    let query = QueryRequest::new("city = :c AND #y BETWEEN :a AND :b")
        .index_name("CityYear")
        .filter("email IN (:e0, :e6, :e4) OR attribute_exists(missing)")
        .name("#y", "year")
        .value(":c", s("Paris"))
        .value(":a", s("1990"))
        .value(":b", s("1992"))
        .value(":e0", s("user0@example.com"))
        .value(":e6", s("user6@example.com"))
        .value(":e4", s("user4@example.com"));
    let found = client.query("Ranges", &query).await.unwrap();
    let emails = [s("user0@example.com"), s("user6@example.com"), s("user4@example.com")];
    let expected: Vec<Item> = people
        .iter()
        .filter(|p| p["city"] == s("Paris") && year(p) <= 1992 && emails.contains(&p["email"]))
        .cloned()
        .collect();
    assert_eq!(expected.len(), 2);
    assert_eq!(ids(&found), ids(&expected));
}

#[tokio::test]
async fn a_scan_filters_on_beacons_signed_attributes_and_compound_beacons() {
    let Some(client) = setup("Scans", searchable("Scans", None)).await else { return };
    let people = put_people(&client, "Scans", 12).await;

    let all = client.scan("Scans", None).await.unwrap();
    assert_eq!(ids(&all), ids(&people));

    let filter = Expression::new("city IN (:a, :b) AND year >= :y")
        .value(":a", s("Oslo"))
        .value(":b", s("Lima"))
        .value(":y", s("1992"));
    let found = client.scan("Scans", Some(&filter)).await.unwrap();
    let expected: Vec<Item> = people
        .iter()
        .filter(|p| (p["city"] == s("Oslo") || p["city"] == s("Lima")) && year(p) >= 1992)
        .cloned()
        .collect();
    assert_eq!(ids(&found), ids(&expected));

    let compound = Expression::new("begins_with(#w, :w)").name("#w", "Where").value(":w", s("Y_1991.C_Oslo"));
    let found = client.scan("Scans", Some(&compound)).await.unwrap();
    let expected: Vec<Item> =
        people.iter().filter(|p| p["year"] == s("1991") && p["city"] == s("Oslo")).cloned().collect();
    assert_eq!(ids(&found), ids(&expected));
}

#[tokio::test]
async fn conditions_on_encrypted_attributes_without_beacons_are_refused() {
    let Some(client) = setup("Refuse", searchable("Refuse", None)).await else { return };
    put_people(&client, "Refuse", 2).await;
    let on_secret = Expression::new("secret = :s").value(":s", s("do not tell"));
    let refused = |result: Result<_, DynamoDbError>| matches!(result, Err(DynamoDbError::Search(SearchError::EncryptedWithoutBeacon(ref name))) if name == "secret");
    assert!(refused(client.scan("Refuse", Some(&on_secret)).await.map(|_| ())));
    assert!(refused(client.put_item("Refuse", &person(5), Some(&on_secret)).await));
    assert!(refused(client.delete_item("Refuse", &key(0), Some(&on_secret)).await));
    let query = QueryRequest::new("id = :i").filter("secret = :s").value(":i", s("p00")).value(":s", s("x"));
    assert!(refused(client.query("Refuse", &query).await.map(|_| ())));
    // Nothing was written or deleted.
    assert!(client.get_item("Refuse", &key(5)).await.unwrap().is_none());
    assert!(client.get_item("Refuse", &key(0)).await.unwrap().is_some());

    assert!(matches!(client.get_item("Elsewhere", &key(0)).await, Err(DynamoDbError::UnconfiguredTable(_))));
    let bad = Expression::new("email = :missing");
    assert!(matches!(client.scan("Refuse", Some(&bad)).await, Err(DynamoDbError::Expression(_))));
}

#[tokio::test]
async fn conditional_writes_rewrite_onto_beacons() {
    let Some(client) = setup("Conditional", searchable("Conditional", None)).await else { return };
    let item = person(3);
    let absent = Expression::new("attribute_not_exists(id)");
    client.put_item("Conditional", &item, Some(&absent)).await.unwrap();
    let again = client.put_item("Conditional", &item, Some(&absent)).await;
    assert!(matches!(again, Err(DynamoDbError::Service { operation: "PutItem", .. })), "{again:?}");

    // A condition on a beacon: holds for the stored email, fails for another.
    let wrong = Expression::new("email = :e").value(":e", s("someone-else-entirely@example.org"));
    let right = Expression::new("email = :e").value(":e", s("user3@example.com"));
    // 2-bit beacons may collide with the wrong email; only a differing beacon can fail.
    let _ = client.delete_item("Conditional", &key(3), Some(&wrong)).await;
    client.put_item("Conditional", &item, None).await.unwrap();
    client.delete_item("Conditional", &key(3), Some(&right)).await.unwrap();
    assert!(client.get_item("Conditional", &key(3)).await.unwrap().is_none());
}

#[tokio::test]
async fn batch_and_transactional_calls_encrypt_and_decrypt() {
    let Some(client) = setup("Batches", searchable("Batches", None)).await else { return };
    // 30 puts: two BatchWriteItem calls.
    let people: Vec<Item> = (0..30).map(person).collect();
    let writes: Vec<BatchWrite> =
        people.iter().map(|item| BatchWrite::Put { table: "Batches".into(), item: item.clone() }).collect();
    client.batch_write_item(&writes).await.unwrap();
    let keys = BTreeMap::from([("Batches".to_owned(), (0..30).map(key).collect::<Vec<_>>())]);
    let got = client.batch_get_item(&keys).await.unwrap();
    assert_eq!(ids(&got["Batches"]), ids(&people));
    assert!(got["Batches"].contains(&person(17)));

    client.batch_write_item(&[BatchWrite::Delete { table: "Batches".into(), key: key(0) }]).await.unwrap();
    assert!(client.get_item("Batches", &key(0)).await.unwrap().is_none());

    let gets = vec![("Batches".to_owned(), key(1)), ("Batches".to_owned(), key(0)), ("Batches".to_owned(), key(2))];
    assert_eq!(client.transact_get_items(&gets).await.unwrap(), vec![Some(person(1)), None, Some(person(2))]);

    client
        .transact_write_items(&[
            TransactWrite::Put {
                table: "Batches".into(),
                item: person(40),
                condition: Some(Expression::new("attribute_not_exists(id)")),
            },
            TransactWrite::Delete { table: "Batches".into(), key: key(1), condition: None },
            TransactWrite::ConditionCheck {
                table: "Batches".into(),
                key: key(2),
                condition: Expression::new("year = :y").value(":y", s("1992")),
            },
        ])
        .await
        .unwrap();
    assert_eq!(client.get_item("Batches", &key(40)).await.unwrap(), Some(person(40)));
    assert!(client.get_item("Batches", &key(1)).await.unwrap().is_none());

    // A failed condition cancels the whole transaction.
    let cancelled = client
        .transact_write_items(&[
            TransactWrite::Put { table: "Batches".into(), item: person(41), condition: None },
            TransactWrite::Put {
                table: "Batches".into(),
                item: person(40),
                condition: Some(Expression::new("attribute_not_exists(id)")),
            },
        ])
        .await;
    assert!(matches!(cancelled, Err(DynamoDbError::Service { operation: "TransactWriteItems", .. })), "{cancelled:?}");
    assert!(client.get_item("Batches", &key(41)).await.unwrap().is_none());
}

#[tokio::test]
async fn beacon_partitions_are_queried_one_by_one() {
    let Some(client) = setup("Partitioned", searchable("Partitioned", Some(3))).await else { return };
    let people = put_people(&client, "Partitioned", 12).await;
    for city in CITIES {
        let query = QueryRequest::new("city = :c").index_name("CityYear").value(":c", s(city));
        let found = client.query("Partitioned", &query).await.unwrap();
        let expected: Vec<Item> = people.iter().filter(|p| p["city"] == s(city)).cloned().collect();
        assert_eq!(ids(&found), ids(&expected), "{city}");
    }
}

#[tokio::test]
async fn a_table_without_beacons_takes_the_cheap_path() {
    let Some(client) = setup("Plain", plain_table("Plain")).await else { return };
    let people = put_people(&client, "Plain", 6).await;
    let filter = Expression::new("year = :y").value(":y", s("1991"));
    let found = client.scan("Plain", Some(&filter)).await.unwrap();
    let expected: Vec<Item> = people.iter().filter(|p| p["year"] == s("1991")).cloned().collect();
    assert_eq!(ids(&found), ids(&expected));
    assert_eq!(client.get_item("Plain", &key(2)).await.unwrap(), Some(person(2)));
    let on_email = Expression::new("email = :e").value(":e", s("user1@example.com"));
    assert!(matches!(
        client.scan("Plain", Some(&on_email)).await,
        Err(DynamoDbError::Search(SearchError::EncryptedWithoutBeacon(_)))
    ));
}

/// Results larger than one DynamoDB page (1 MB; moto enforces the limit too): Query and Scan
/// follow `LastEvaluatedKey` to the last page and re-check every item on every page.
#[tokio::test]
async fn queries_and_scans_read_every_page() {
    let Some(client) = setup("Pages", searchable("Pages", None)).await else { return };
    // 240 items of ~16 KB each: about 3.9 MB in the table, 1.3 MB per city.
    let big = "x".repeat(16 * 1024);
    let mut people = Vec::new();
    for i in 0..240 {
        let mut item = person(i);
        item.insert("id".into(), s(&format!("p{i:03}")));
        item.insert("secret".into(), s(&big));
        client.put_item("Pages", &item, None).await.unwrap();
        people.push(item);
    }
    // A raw read needs more than one page, so the client must follow the key.
    let first_page = client.inner().scan().table_name("Pages").send().await.unwrap();
    assert!(first_page.last_evaluated_key().is_some_and(|key| !key.is_empty()), "the table fits in one page");

    let paris: BTreeSet<String> = ids(&people.iter().filter(|p| p["city"] == s("Paris")).cloned().collect::<Vec<_>>());
    let query = QueryRequest::new("city = :c").index_name("CityYear").value(":c", s("Paris"));
    assert_eq!(ids(&client.query("Pages", &query).await.unwrap()), paris);

    let filter =
        Expression::new("city = :c AND #y = :y").name("#y", "year").value(":c", s("Paris")).value(":y", s("1991"));
    let scanned = client.scan("Pages", Some(&filter)).await.unwrap();
    let expected: Vec<Item> = people.iter().filter(|p| p["city"] == s("Paris") && year(p) == 1991).cloned().collect();
    assert_eq!(ids(&scanned), ids(&expected));
    assert_eq!(client.scan("Pages", None).await.unwrap().len(), 240);
}

/// The branch key of each item: its `tenant` attribute, in the encryption context because it is
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT.
#[derive(Debug)]
struct TenantFromContext;

impl BranchKeyIdSupplier for TenantFromContext {
    fn branch_key_id(&self, context: &envelope::EncryptionContext) -> envelope::Result<String> {
        context.get("aws-crypto-attr.tenant").cloned().ok_or(envelope::Error::Usage("an item without a tenant".into()))
    }
}

/// Multi-tenant beacons on DynamoDB: each tenant's items are encrypted under its own branch key
/// and carry beacons of its own beacon key, so the same email has a different beacon in each
/// tenant; a query names its tenant (`tenant = :t`), which selects the beacon key and never
/// reaches DynamoDB as a key condition.
#[tokio::test]
async fn multi_tenant_beacons_on_dynamodb() {
    let mut store = StaticKeyStore::new("ddb-tenants");
    store.add_random_key("tenant-a").unwrap().add_random_key("tenant-b").unwrap();
    let store = Arc::new(store);
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id_supplier(Arc::new(TenantFromContext))
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    // The key attributes join the encryption context too, as the DB-ESDK requires once any
    // attribute does.
    let in_context = CryptoAction::SignAndIncludeInEncryptionContext;
    let config = config("Tenants").action("tenant", in_context).action("id", in_context);
    let beacons = BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![StandardBeacon::new("email", 8).unwrap(), StandardBeacon::new("city", 8).unwrap()],
        ..Default::default()
    };
    let source = MultiKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant", Duration::from_secs(60));
    let table = SearchableTable::new(config, Arc::new(DefaultMaterialsManager::new(keyring)), SUITE)
        .with_beacons(beacons, BeaconKeySource::Multi(source))
        .unwrap();
    let Some(client) = setup("Tenants", table).await else { return };
    let tenant_person = |tenant: &str, i: usize| {
        let mut item = person(i);
        item.insert("id".into(), s(&format!("{tenant}-{i:02}")));
        item.insert("tenant".into(), s(tenant));
        item
    };
    for tenant in ["tenant-a", "tenant-b"] {
        for i in 0..8 {
            client.put_item("Tenants", &tenant_person(tenant, i), None).await.unwrap();
        }
    }
    let stored = |id: &str| {
        let get =
            client.inner().get_item().table_name("Tenants").key("id", envelope_dbe::dynamodb::to_sdk_value(&s(id)));
        async move { from_sdk_item(get.send().await.unwrap().item.as_ref().unwrap()).unwrap() }
    };
    let (a5, b5) = (stored("tenant-a-05").await, stored("tenant-b-05").await);
    assert_ne!(a5["aws_dbe_b_email"], b5["aws_dbe_b_email"], "one email, two tenants' beacons");

    // The tenant in the filter (a key condition may name key attributes only) selects the
    // beacon key of the key condition's beacon too.
    let query = QueryRequest::new("email = :e")
        .index_name("EmailIndex")
        .filter("tenant = :t")
        .value(":t", s("tenant-b"))
        .value(":e", s("user5@example.com"));
    let found = client.query("Tenants", &query).await.unwrap();
    assert_eq!(found, vec![tenant_person("tenant-b", 5)]);
    let in_a = QueryRequest::new("email = :e")
        .index_name("EmailIndex")
        .filter("tenant = :t")
        .value(":t", s("tenant-a"))
        .value(":e", s("user5@example.com"));
    assert_eq!(client.query("Tenants", &in_a).await.unwrap(), vec![tenant_person("tenant-a", 5)]);
    let two_tenants = QueryRequest::new("email = :e")
        .index_name("EmailIndex")
        .filter("tenant = :t AND tenant = :u")
        .value(":t", s("tenant-a"))
        .value(":u", s("tenant-b"))
        .value(":e", s("user5@example.com"));
    assert!(matches!(
        client.query("Tenants", &two_tenants).await,
        Err(DynamoDbError::Search(SearchError::AmbiguousBeaconKeyId(field))) if field == "tenant"
    ));

    let filter = Expression::new("tenant = :t AND city = :c").value(":t", s("tenant-a")).value(":c", s("Oslo"));
    let scanned = client.scan("Tenants", Some(&filter)).await.unwrap();
    let expected: Vec<Item> = (0..8).map(|i| tenant_person("tenant-a", i)).filter(|p| p["city"] == s("Oslo")).collect();
    assert_eq!(ids(&scanned), ids(&expected));

    // Without the tenant there is no beacon key to compute the beacon with.
    let no_tenant = QueryRequest::new("email = :e").index_name("EmailIndex").value(":e", s("user5@example.com"));
    assert!(client.query("Tenants", &no_tenant).await.is_err());
}

/// A document path into a plaintext attribute (`note`, DO_NOTHING, holding a map here) goes to
/// DynamoDB as a path, beside beacon conditions; the re-check follows it too. Into an encrypted
/// attribute it is refused before any call.
#[tokio::test]
async fn document_paths_into_plaintext_attributes_filter_on_the_server() {
    let Some(client) = setup("Paths", searchable("Paths", None)).await else { return };
    let mut people = Vec::new();
    for i in 0..12 {
        let mut item = person(i);
        let tags = V::L(vec![s(&CITIES[i % 3].to_lowercase()), s("x")]);
        item.insert(
            "note".into(),
            V::M(BTreeMap::from([("n".to_owned(), V::N(i.to_string())), ("tags".to_owned(), tags)])),
        );
        client.put_item("Paths", &item, None).await.unwrap();
        people.push(item);
    }
    let n = |p: &Item| match &p["note"] {
        V::M(map) => match &map["n"] {
            V::N(n) => n.parse::<usize>().unwrap(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };

    let range = Expression::new("#note.n BETWEEN :a AND :b")
        .name("#note", "note")
        .value(":a", V::N("3".into()))
        .value(":b", V::N("7".into()));
    let found = client.scan("Paths", Some(&range)).await.unwrap();
    let expected: Vec<Item> = people.iter().filter(|p| (3..=7).contains(&n(p))).cloned().collect();
    assert_eq!(ids(&found), ids(&expected));
    assert_eq!(found.iter().find(|p| p["id"] == s("p04")), people.iter().find(|p| p["id"] == s("p04")));

    // With a beacon: city Oslo, and the first tag (also the city) and n ≥ 4.
    let mixed = Expression::new("city = :c AND #note.tags[0] = :t AND #note.n >= :k")
        .name("#note", "note")
        .value(":c", s("Oslo"))
        .value(":t", s("oslo"))
        .value(":k", V::N("4".into()));
    let found = client.scan("Paths", Some(&mixed)).await.unwrap();
    let expected: Vec<Item> = people.iter().filter(|p| p["city"] == s("Oslo") && n(p) >= 4).cloned().collect();
    assert_eq!(ids(&found), ids(&expected));
    assert_eq!(expected.len(), 3);

    // A conditional write on a path: holds for p04 (n = 4), not for p05.
    let condition = Expression::new("note.n = :n").value(":n", V::N("4".into()));
    client.put_item("Paths", &people[4], Some(&condition)).await.unwrap();
    assert!(client.put_item("Paths", &people[5], Some(&condition)).await.is_err());

    // Into an encrypted attribute: refused, nothing sent.
    let into_secret = Expression::new("secret.x = :s").value(":s", s("do not tell"));
    assert!(matches!(
        client.scan("Paths", Some(&into_secret)).await,
        Err(DynamoDbError::Search(SearchError::EncryptedWithoutBeacon(ref name))) if name == "secret"
    ));
}
