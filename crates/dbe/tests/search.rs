//! The database-independent searchable table: writes with beacons, reads, query translation
//! for every operator, collisions dropped by the re-check, typed errors, the cheap path without
//! beacons, partitions and multi-tenant beacon keys. A plain `Vec` of stored items stands in
//! for the database: it evaluates translated conditions as a server would.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use envelope::{AlgorithmSuite, DefaultMaterialsManager, EncryptionContext};
use envelope_dbe::beacon::{
    BeaconError, BeaconKeySource, BeaconVersionConfig, CompoundBeacon, EncryptedPart, MultiKeySource, SignedPart,
    SingleKeySource, StandardBeacon,
};
use envelope_dbe::item::{AttributeValue as V, CryptoAction, Item, TableConfig};
use envelope_dbe::search::{BeaconQuery, CompareOp, Condition, Operand, SearchError, SearchableTable};
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyIdSupplier, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore,
    StaticKeyStore,
};

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;
const TENANTS: [(&str, u8, &str); 2] =
    [("tenant-a", 1, "0b7c0e4e-6f4c-4a39-9d53-1f0c3a5b7d21"), ("tenant-b", 2, "a3d1f2c4-8b9e-4f6a-b1c2-d3e4f5a6b7c8")];

fn store() -> Arc<StaticKeyStore> {
    let mut store = StaticKeyStore::new("search-test");
    for (id, byte, version) in TENANTS {
        let secret = || BranchKeySecret::from_slice(&[byte; 32]).unwrap();
        store.add_branch_key(BranchKeyMaterials::new(id, version, BTreeMap::new(), secret()).unwrap(), true).unwrap();
        store.add_beacon_key(BeaconKeyMaterials::new(id, BTreeMap::new(), secret()));
    }
    Arc::new(store)
}

/// The branch key of each item: its `tenant` attribute, in the encryption context because it is
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT.
#[derive(Debug)]
struct TenantFromContext;
impl BranchKeyIdSupplier for TenantFromContext {
    fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
        Ok(context.get("aws-crypto-attr.tenant").cloned().unwrap_or_else(|| "tenant-a".into()))
    }
}

/// The branch key of each item by its partition key's encryption-context value.
#[derive(Debug)]
struct TenantById(BTreeMap<String, String>);
impl BranchKeyIdSupplier for TenantById {
    fn branch_key_id(&self, context: &EncryptionContext) -> envelope::Result<String> {
        let id = context.get("aws-crypto-attr.id").cloned().unwrap_or_default();
        Ok(self.0.get(&id).cloned().unwrap_or_else(|| "tenant-a".into()))
    }
}

fn cmm(store: &Arc<StaticKeyStore>) -> Arc<DefaultMaterialsManager> {
    let keyring = HierarchicalKeyring::builder(Arc::clone(store))
        .branch_key_id_supplier(Arc::new(TenantFromContext))
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    Arc::new(DefaultMaterialsManager::new(keyring))
}

fn config() -> TableConfig {
    let context = CryptoAction::SignAndIncludeInEncryptionContext;
    TableConfig::new("people", "id")
        .action("id", context)
        .action("tenant", context)
        .action("email", CryptoAction::EncryptAndSign)
        .action("city", CryptoAction::EncryptAndSign)
        .action("secret", CryptoAction::EncryptAndSign)
        .action("year", CryptoAction::SignOnly)
        .action("note", CryptoAction::DoNothing)
        .allowed_unsigned("note")
}

/// `email`: 4 bits, so collisions are common. `city` (8 bits) also feeds the compound beacon
/// `Where` = `Y_<year>.C_<city beacon>`; `YearTag` = `T_<year>` is a signed beacon.
fn beacons(max_partitions: Option<u8>) -> BeaconVersionConfig {
    BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![StandardBeacon::new("email", 4).unwrap(), StandardBeacon::new("city", 8).unwrap()],
        compound_beacons: vec![
            CompoundBeacon::new("Where", '.')
                .with_signed(vec![SignedPart::new("year", "Y_").unwrap()])
                .with_encrypted(vec![EncryptedPart::new("city", "C_")]),
            CompoundBeacon::new("YearTag", '.').with_signed(vec![SignedPart::new("year", "T_").unwrap()]),
        ],
        max_partitions,
        ..Default::default()
    }
}

fn single_table(store: &Arc<StaticKeyStore>, beacon_key: &str) -> SearchableTable {
    let source = SingleKeySource::new(Arc::clone(store) as Arc<dyn KeyStore>, beacon_key, Duration::from_secs(60));
    SearchableTable::new(config(), cmm(store), SUITE)
        .with_beacons(beacons(None), BeaconKeySource::Single(source))
        .unwrap()
}

fn s(text: &str) -> V {
    V::S(text.into())
}

fn person(id: usize, tenant: &str, email: &str, city: &str, year: &str) -> Item {
    [
        ("id", V::N(id.to_string())),
        ("tenant", s(tenant)),
        ("email", s(email)),
        ("city", s(city)),
        ("year", s(year)),
        ("secret", s("do not tell")),
        ("note", s("unsigned")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

const CITIES: [&str; 4] = ["Paris", "Lyon", "Oslo", "Lima"];

fn people(tenant: &str) -> Vec<Item> {
    (0..40)
        .map(|i| person(i, tenant, &format!("user{i}@example.com"), CITIES[i % 4], &format!("{}", 1980 + i % 10)))
        .collect()
}

async fn write_all(table: &SearchableTable, items: &[Item]) -> Vec<Item> {
    let mut stored = Vec::new();
    for item in items {
        stored.push(table.encrypt_for_write(item).await.unwrap());
    }
    stored
}

/// What the database returns for each partition's condition, then what survives the re-check.
async fn run(table: &SearchableTable, query: &BeaconQuery, stored: &[Item]) -> (usize, Vec<Item>) {
    let mut from_server = Vec::new();
    for condition in &query.partitions {
        for item in stored {
            let hit = condition.as_ref().map_or(Ok(true), |c| c.evaluate(item)).unwrap();
            if hit && !from_server.contains(item) {
                from_server.push(item.clone());
            }
        }
    }
    let mut kept = Vec::new();
    for item in &from_server {
        if let Some(plain) = table.read_matching(query, item).await.unwrap() {
            kept.push(plain);
        }
    }
    (from_server.len(), kept)
}

/// The expected answer: the plaintext query on the plaintext items.
fn expected(table: &SearchableTable, query: &Condition, items: &[Item]) -> Vec<V> {
    let mut ids: Vec<V> =
        items.iter().filter(|item| table.recheck(query, &with_tag(item)).unwrap()).map(|i| i["id"].clone()).collect();
    ids.sort_by_key(|id| format!("{id:?}"));
    ids
}

fn ids(items: &[Item]) -> Vec<V> {
    let mut ids: Vec<V> = items.iter().map(|i| i["id"].clone()).collect();
    ids.sort_by_key(|id| format!("{id:?}"));
    ids
}

/// A plaintext item as read back: with its signed beacon.
fn with_tag(item: &Item) -> Item {
    let mut item = item.clone();
    item.insert(
        "YearTag".into(),
        s(&format!(
            "T_{}",
            match &item["year"] {
                V::S(y) => y.clone(),
                _ => unreachable!(),
            }
        )),
    );
    item
}

#[tokio::test]
async fn a_write_adds_what_the_db_esdk_adds_and_a_read_strips_it() {
    let store = store();
    let table = single_table(&store, "tenant-a");
    let item = person(1, "tenant-a", "a@example.com", "Paris", "1984");
    let stored = table.encrypt_for_write(&item).await.unwrap();
    for name in ["aws_dbe_head", "aws_dbe_foot", "aws_dbe_b_email", "aws_dbe_b_city", "aws_dbe_b_Where"] {
        assert!(stored.contains_key(name), "{name} missing");
    }
    // No version tag: the official DB-ESDK neither stores nor signs one, and refuses an item
    // whose header signs it (crates/dbe-peer/run-interop.sh).
    assert!(!stored.contains_key("aws_dbe_v_1"));
    assert_eq!(stored["YearTag"], s("T_1984"), "signed beacon under its own name");
    assert!(
        matches!(&stored["aws_dbe_b_Where"], V::S(w) if w.starts_with("Y_1984.C_") && w.len() == "Y_1984.C_".len() + 2)
    );
    assert!(matches!(stored["email"], V::B(_)), "email is encrypted");
    assert_eq!(stored["year"], s("1984"));
    assert_eq!(table.decrypt_read(&stored).await.unwrap(), with_tag(&item));

    // The signed beacon is signed, and the version tag is verified as signed (items written
    // before issue 11 carry it signed): changing or adding either fails verification.
    for (name, value) in [("aws_dbe_v_1", s("  ")), ("YearTag", s("T_1985"))] {
        let mut tampered = stored.clone();
        tampered.insert(name.into(), value);
        assert!(matches!(table.decrypt_read(&tampered).await, Err(SearchError::Item(_))), "{name}");
    }
    // Beacons are not signed (the DB-ESDK adds them after encryption): a read ignores them.
    let mut rebeaconed = stored.clone();
    rebeaconed.insert("aws_dbe_b_email".into(), s("0"));
    assert_eq!(table.decrypt_read(&rebeaconed).await.unwrap(), with_tag(&item));

    // Reserved and beacon names may not be written; a supplied signed beacon must match.
    for (name, value) in [("aws_dbe_b_email", s("1")), ("Where", s("x"))] {
        let mut bad = item.clone();
        bad.insert(name.into(), value);
        assert!(matches!(table.encrypt_for_write(&bad).await, Err(SearchError::ReservedAttribute(n)) if n == name));
    }
    let mut wrong_tag = item.clone();
    wrong_tag.insert("YearTag".into(), s("T_2000"));
    assert!(matches!(
        table.encrypt_for_write(&wrong_tag).await,
        Err(SearchError::Beacon(BeaconError::SignedBeaconMismatch(n))) if n == "YearTag"
    ));
    wrong_tag.insert("YearTag".into(), s("T_1984"));
    assert_eq!(table.encrypt_for_write(&wrong_tag).await.unwrap()["YearTag"], s("T_1984"));
}

#[tokio::test]
async fn every_operator_answers_like_plaintext_and_collisions_are_dropped() {
    let store = store();
    let table = single_table(&store, "tenant-a");
    let items = people("tenant-a");
    let stored = write_all(&table, &items).await;
    let email = |i: usize| s(&format!("user{i}@example.com"));
    let queries = vec![
        Condition::eq("email", email(7)),
        Condition::in_list("email", [email(1), email(2), s("nobody@example.com")]),
        Condition::Compare(Operand::Value(email(3)), CompareOp::Eq, Operand::attr("email")),
        Condition::eq("city", s("Oslo")),
        Condition::eq("Where", s("Y_1984.C_Paris")),
        Condition::begins_with("Where", s("Y_1984.C_")),
        Condition::begins_with("Where", s("Y_198")),
        Condition::compare("Where", CompareOp::Ge, s("Y_1985")),
        Condition::compare("Where", CompareOp::Lt, s("Y_1982.C_")),
        Condition::Compare(Operand::Value(s("Y_1988")), CompareOp::Le, Operand::attr("Where")),
        // "Y_1983.C_…" sorts after "Y_1983": 1981 and 1982 only.
        Condition::between("Where", s("Y_1981"), s("Y_1983")),
        Condition::between("Where", s("Y_1984.C_Lima"), s("Y_1984.C_Lima")),
        Condition::contains("Where", s("C_")),
        Condition::eq("year", s("1985")),
        Condition::compare("year", CompareOp::Ne, s("1985")),
        Condition::between("year", s("1982"), s("1984")),
        Condition::eq("YearTag", s("T_1989")),
        Condition::eq("email", email(5)).or(Condition::eq("city", s("Lima"))),
        Condition::eq("city", s("Paris")).and(Condition::compare("year", CompareOp::Gt, s("1984"))),
        Condition::eq("city", s("Lyon")).and(Condition::eq("year", s("1985")).not()),
        Condition::Exists("email".into()).and(Condition::NotExists("missing".into())),
    ];
    // Counted by hand over the 40 people (city i % 4, year 1980 + i % 10).
    let counts = [1, 2, 1, 10, 2, 4, 40, 20, 8, 8, 8, 0, 40, 4, 36, 12, 4, 11, 4, 8, 40];
    assert_eq!(counts.len(), queries.len());
    let mut collisions = 0;
    for (query, count) in queries.into_iter().zip(counts) {
        let translated = table.translate(&query).await.unwrap();
        let (from_server, kept) = run(&table, &translated, &stored).await;
        assert_eq!(ids(&kept), expected(&table, &query, &items), "{query:?}");
        assert_eq!(kept.len(), count, "{query:?}");
        assert!(from_server >= kept.len());
        collisions += from_server - kept.len();
    }
    assert!(collisions > 0, "4-bit email beacons over 40 items must collide");

    // A single email: the 4-bit beacon matches about 40/16 items, one survives.
    let translated = table.translate(&Condition::eq("email", email(7))).await.unwrap();
    assert!(translated.uses_beacons);
    let Some(Condition::Compare(Operand::Attr(name), CompareOp::Eq, Operand::Value(V::S(beacon)))) =
        &translated.partitions[0]
    else {
        panic!("{translated:?}")
    };
    assert_eq!((name.as_str(), beacon.len()), ("aws_dbe_b_email", 1));
    let (from_server, kept) = run(&table, &translated, &stored).await;
    assert_eq!(kept.len(), 1);
    assert!(from_server >= 1);
}

#[tokio::test]
async fn conditions_beacons_cannot_answer_are_typed_errors() {
    let store = store();
    let table = single_table(&store, "tenant-a");
    let unsupported = |query: Condition| {
        let table = &table;
        async move {
            match table.translate(&query).await {
                Err(SearchError::UnsupportedOperator { beacon, operator, .. }) => (beacon, operator),
                other => panic!("{query:?}: {other:?}"),
            }
        }
    };
    assert_eq!(unsupported(Condition::compare("email", CompareOp::Lt, s("a"))).await, ("email".into(), "<"));
    assert_eq!(unsupported(Condition::compare("email", CompareOp::Ne, s("a"))).await, ("email".into(), "<>"));
    assert_eq!(unsupported(Condition::between("city", s("a"), s("b"))).await, ("city".into(), "BETWEEN"));
    assert_eq!(unsupported(Condition::begins_with("email", s("a"))).await, ("email".into(), "begins_with"));
    assert_eq!(unsupported(Condition::contains("email", s("a"))).await, ("email".into(), "contains"));
    assert_eq!(unsupported(Condition::eq("email", s("a")).not()).await, ("email".into(), "NOT"));
    // A range through an encrypted piece with a value: hashes keep no order.
    assert_eq!(
        unsupported(Condition::compare("Where", CompareOp::Gt, s("Y_1984.C_Paris"))).await,
        ("Where".into(), ">")
    );
    assert_eq!(
        unsupported(Condition::between("Where", s("Y_1984.C_a"), s("Y_1984.C_b"))).await,
        ("Where".into(), "BETWEEN")
    );
    // A beacon against another attribute is passed on renamed (as the DB-ESDK does); the
    // re-check then compares the plaintexts.
    let both = Condition::Compare(Operand::attr("email"), CompareOp::Eq, Operand::attr("year"));
    let translated = table.translate(&both).await.unwrap();
    assert_eq!(
        translated.partitions,
        vec![Some(Condition::Compare(Operand::attr("aws_dbe_b_email"), CompareOp::Eq, Operand::attr("year")))]
    );
    assert!(translated.uses_beacons);

    for query in [
        Condition::eq("secret", s("x")),
        Condition::eq("year", s("1984")).or(Condition::begins_with("secret", s("x"))),
        Condition::Contains(Operand::Value(s("x")), Operand::attr("secret")),
    ] {
        assert!(
            matches!(table.translate(&query).await, Err(SearchError::EncryptedWithoutBeacon(ref n)) if n == "secret"),
            "{query:?}"
        );
    }
    // A compound query value must fit the beacon's parts.
    assert!(matches!(
        table.translate(&Condition::eq("Where", s("Z_1"))).await,
        Err(SearchError::Beacon(BeaconError::InvalidQueryValue { .. }))
    ));
}

#[tokio::test]
async fn queries_without_encrypted_attributes_never_touch_beacon_keys() {
    let store = store();
    // The store has no beacon key "nobody": any key fetch would fail.
    let table = single_table(&store, "nobody");
    let query = Condition::eq("year", s("1984")).and(Condition::eq("YearTag", s("T_1984")));
    let translated = table.translate(&query).await.unwrap();
    assert!(!translated.uses_beacons);
    assert_eq!(translated.partitions, vec![Some(query)]);
    assert!(matches!(
        table.translate(&Condition::eq("email", s("x"))).await,
        Err(SearchError::Beacon(BeaconError::KeyStore { .. }))
    ));

    // A table without beacons: plain item encryption, pass-through queries, encrypted
    // attributes still refused.
    let plain = SearchableTable::new(config(), cmm(&store), SUITE);
    let item = person(1, "tenant-a", "a@example.com", "Paris", "1984");
    let stored = plain.encrypt_for_write(&item).await.unwrap();
    assert!(!stored.keys().any(|k| k.starts_with("aws_dbe_b_") || k == "aws_dbe_v_1"));
    assert_eq!(plain.decrypt_read(&stored).await.unwrap(), item);
    let query = Condition::eq("year", s("1984"));
    let translated = plain.translate(&query).await.unwrap();
    assert_eq!(translated.partitions, vec![Some(query.clone())]);
    assert_eq!(plain.read_matching(&translated, &stored).await.unwrap(), Some(item));
    assert!(matches!(
        plain.translate(&Condition::eq("email", s("x"))).await,
        Err(SearchError::EncryptedWithoutBeacon(n)) if n == "email"
    ));
}

#[tokio::test]
async fn partitions_repeat_the_query_per_partition() {
    let store = store();
    let source = SingleKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant-a", Duration::from_secs(60));
    let table = SearchableTable::new(config(), cmm(&store), SUITE)
        .with_beacons(beacons(Some(3)), BeaconKeySource::Single(source))
        .unwrap();
    let items = people("tenant-a");
    let stored = write_all(&table, &items).await;
    let query = Condition::eq("city", s("Oslo"));
    let translated = table.translate(&query).await.unwrap();
    assert_eq!(translated.partitions.len(), 3);
    let values: Vec<_> = translated.partitions.iter().map(|c| format!("{c:?}")).collect();
    assert!(values[0] != values[1] && values[1] != values[2], "each partition has its own beacon");
    let (_, kept) = run(&table, &translated, &stored).await;
    assert_eq!(ids(&kept), expected(&table, &query, &items));
    assert_eq!(kept.len(), 10);

    // A chosen partition: max + 2 = 5, reduced modulo 3: every item in partition 2.
    let source = SingleKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant-a", Duration::from_secs(60));
    let chosen = SearchableTable::new(config(), cmm(&store), SUITE)
        .with_partition_selector(|_, max| max + 2)
        .with_beacons(beacons(Some(3)), BeaconKeySource::Single(source))
        .unwrap();
    let stored = write_all(&chosen, &items[..8]).await;
    let translated = chosen.translate(&query).await.unwrap();
    for (partition, condition) in translated.partitions.iter().enumerate() {
        let hits = stored.iter().filter(|item| condition.as_ref().unwrap().evaluate(item).unwrap()).count();
        assert_eq!(hits, if partition == 2 { 2 } else { 0 }, "partition {partition}");
    }
}

#[tokio::test]
async fn each_tenant_has_its_own_beacons() {
    let store = store();
    let source = MultiKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant", Duration::from_secs(60));
    let table = SearchableTable::new(config(), cmm(&store), SUITE)
        .with_beacons(beacons(None), BeaconKeySource::Multi(source))
        .unwrap();
    let a = table.encrypt_for_write(&person(1, "tenant-a", "same@example.com", "Paris", "1984")).await.unwrap();
    let b = table.encrypt_for_write(&person(2, "tenant-b", "same@example.com", "Paris", "1984")).await.unwrap();
    assert_ne!(a["aws_dbe_b_Where"], b["aws_dbe_b_Where"], "same value, different tenants' beacons");
    assert_ne!(a["aws_dbe_b_city"], b["aws_dbe_b_city"]);

    let query = Condition::eq("tenant", s("tenant-b")).and(Condition::eq("Where", s("Y_1984.C_Paris")));
    let translated = table.translate(&query).await.unwrap();
    assert_eq!(translated.beacon_key_id.as_deref(), Some("tenant-b"));
    let (_, kept) = run(&table, &translated, &[a.clone(), b.clone()]).await;
    assert_eq!(ids(&kept), vec![V::N("2".into())]);
    // Even if the database returned tenant-a's item, it is not tenant-b's: dropped.
    assert_eq!(table.read_matching(&translated, &a).await.unwrap(), None);

    assert!(matches!(
        table.translate(&Condition::eq("city", s("Paris"))).await,
        Err(SearchError::Beacon(BeaconError::MissingBeaconKeyId(f))) if f == "tenant"
    ));
    let two = Condition::eq("tenant", s("tenant-a")).and(Condition::eq("tenant", s("tenant-b")));
    assert!(matches!(
        table.translate(&two.and(Condition::eq("city", s("Paris")))).await,
        Err(SearchError::AmbiguousBeaconKeyId(_))
    ));
    // An item whose key field names another tenant than the branch key that encrypts it.
    let fixed = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id("tenant-a")
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let source = MultiKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant", Duration::from_secs(60));
    let fixed_table = SearchableTable::new(config(), Arc::new(DefaultMaterialsManager::new(fixed)), SUITE)
        .with_beacons(beacons(None), BeaconKeySource::Multi(source))
        .unwrap();
    let liar = person(3, "tenant-b", "x@example.com", "Oslo", "1990");
    assert!(matches!(
        fixed_table.encrypt_for_write(&liar).await,
        Err(SearchError::BeaconKeyIdMismatch(f)) if f == "tenant"
    ));
    let honest = person(3, "tenant-a", "x@example.com", "Oslo", "1990");
    assert!(fixed_table.encrypt_for_write(&honest).await.unwrap().contains_key("aws_dbe_b_email"));
    // The key field may not be encrypted.
    let source = MultiKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "email", Duration::from_secs(60));
    assert!(matches!(
        SearchableTable::new(config(), cmm(&store), SUITE).with_beacons(beacons(None), BeaconKeySource::Multi(source)),
        Err(SearchError::EncryptedKeyField(f)) if f == "email"
    ));
}

#[tokio::test]
async fn an_unconfigured_key_field_selects_the_tenant_and_is_not_stored() {
    let store = store();
    // The key field is not in the encryption context: the branch key follows the partition
    // key's (base64, typed) context value instead.
    let tenant_of = |id: &str, tenant: &str| {
        use base64::Engine as _;
        let typed = V::N(id.into()).serialize_typed().unwrap();
        (base64::engine::general_purpose::STANDARD.encode(typed), tenant.to_owned())
    };
    let by_id = TenantById([tenant_of("1", "tenant-a"), tenant_of("2", "tenant-b"), tenant_of("3", "tenant-a")].into());
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id_supplier(Arc::new(by_id))
        .ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let config = TableConfig::new("people", "id")
        .action("id", CryptoAction::SignOnly)
        .action("email", CryptoAction::EncryptAndSign)
        .action("city", CryptoAction::EncryptAndSign)
        .action("secret", CryptoAction::EncryptAndSign)
        .action("year", CryptoAction::SignOnly)
        .action("note", CryptoAction::DoNothing)
        .allowed_unsigned("note");
    let source = MultiKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant", Duration::from_secs(60));
    let table = SearchableTable::new(config, Arc::new(DefaultMaterialsManager::new(keyring)), SUITE)
        .with_beacons(beacons(None), BeaconKeySource::Multi(source))
        .unwrap();
    let a = table.encrypt_for_write(&person(1, "tenant-a", "a@example.com", "Paris", "1984")).await.unwrap();
    let b = table.encrypt_for_write(&person(2, "tenant-b", "b@example.com", "Paris", "1984")).await.unwrap();
    assert!(!a.contains_key("tenant") && !b.contains_key("tenant"), "the key field is not stored");
    assert_ne!(a["aws_dbe_b_city"], b["aws_dbe_b_city"]);

    let query = Condition::eq("tenant", s("tenant-b")).and(Condition::eq("city", s("Paris")));
    let translated = table.translate(&query).await.unwrap();
    assert_eq!(translated.beacon_key_id.as_deref(), Some("tenant-b"));
    let Some(Condition::Compare(Operand::Attr(name), CompareOp::Eq, Operand::Value(beacon))) =
        &translated.partitions[0]
    else {
        panic!("the tenant condition should be gone: {translated:?}")
    };
    assert_eq!((name.as_str(), beacon), ("aws_dbe_b_city", &b["aws_dbe_b_city"]));
    let (_, kept) = run(&table, &translated, &[a.clone(), b.clone()]).await;
    assert_eq!(ids(&kept), vec![V::N("2".into())]);

    // Only the tenant: no condition left, no beacon involved.
    let translated = table.translate(&Condition::eq("tenant", s("tenant-b"))).await.unwrap();
    assert_eq!((translated.partitions, translated.uses_beacons), (vec![None], false));
    // The key field may not hide inside an OR.
    let hidden = Condition::eq("tenant", s("tenant-b")).or(Condition::eq("year", s("1984")));
    assert!(matches!(table.translate(&hidden).await, Err(SearchError::AmbiguousBeaconKeyId(_))));
    // An item without the key field and without beacons to build is written as it is.
    let bare: Item = [("id".to_owned(), V::N("3".into())), ("year".to_owned(), s("1999"))].into();
    let stored = table.encrypt_for_write(&bare).await.unwrap();
    assert!(!stored.keys().any(|k| k.starts_with("aws_dbe_b_")));
    assert_eq!(stored["YearTag"], s("T_1999"));
    // Without the key field, the branch key that encrypted the item names the beacon key
    // (search-config.md "Get beacon key after encrypt"): tenant-a for id 3.
    let mut no_field = bare.clone();
    no_field.insert("city".into(), s("Paris"));
    let stored = table.encrypt_for_write(&no_field).await.unwrap();
    assert_eq!(stored["aws_dbe_b_city"], a["aws_dbe_b_city"]);
}

/// `meta` (SIGN_ONLY) and `doc` (ENCRYPT_AND_SIGN) hold maps and lists: a document path into
/// `meta` passes through to the database and the re-check follows it on plaintext; one into an
/// encrypted attribute or a beacon is refused.
#[tokio::test]
async fn document_paths_reach_into_plaintext_attributes_only() {
    use envelope_dbe::search::{DocumentPath, PathStep};

    let store = store();
    let source = SingleKeySource::new(Arc::clone(&store) as Arc<dyn KeyStore>, "tenant-a", Duration::from_secs(60));
    let config = config().action("meta", CryptoAction::SignOnly).action("doc", CryptoAction::EncryptAndSign);
    let table = SearchableTable::new(config, cmm(&store), SUITE)
        .with_beacons(beacons(None), BeaconKeySource::Single(source))
        .unwrap();
    let items: Vec<Item> = people("tenant-a")
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            let region = s(["north", "south", "east"][i % 3]);
            let lines = V::L((0..i % 4).map(|n| V::N(n.to_string())).collect());
            item.insert(
                "meta".into(),
                V::M(BTreeMap::from([("region".to_owned(), region), ("lines".to_owned(), lines)])),
            );
            item.insert("doc".into(), V::M(BTreeMap::from([("pin".to_owned(), s("1234"))])));
            item
        })
        .collect();
    let stored = write_all(&table, &items).await;
    let path = |attribute: &str, steps: Vec<PathStep>| Operand::Path(DocumentPath::new(attribute, steps));
    let region = || path("meta", vec![PathStep::key("region")]);
    let second_line = || path("meta", vec![PathStep::key("lines"), PathStep::Index(1)]);
    let queries = [
        (Condition::Compare(region(), CompareOp::Eq, Operand::Value(s("south"))), 13),
        (Condition::Compare(region(), CompareOp::Ne, Operand::Value(s("south"))), 27),
        (Condition::BeginsWith(region(), Operand::Value(s("no"))), 14),
        // Lists of 2 or 3 elements (i % 4 ≥ 2) have a second line, always 1.
        (Condition::Compare(second_line(), CompareOp::Eq, Operand::Value(V::N("1".into()))), 20),
        (Condition::Between(second_line(), Operand::Value(V::N("0".into())), Operand::Value(V::N("5".into()))), 20),
        (Condition::Compare(path("meta", vec![PathStep::key("nothing")]), CompareOp::Eq, Operand::Value(s("x"))), 0),
        // With a beacon in the same query: city i % 4 == 1 (Lyon) and region i % 3 == 0 (north):
        // i = 9, 21, 33.
        (
            Condition::eq("city", s("Lyon")).and(Condition::Compare(
                region(),
                CompareOp::Eq,
                Operand::Value(s("north")),
            )),
            3,
        ),
    ];
    for (query, count) in queries {
        let translated = table.translate(&query).await.unwrap();
        let (_, kept) = run(&table, &translated, &stored).await;
        assert_eq!(ids(&kept), expected(&table, &query, &items), "{query:?}");
        assert_eq!(kept.len(), count, "{query:?}");
    }

    // Into an encrypted attribute: there is no beacon to use.
    let into_doc =
        Condition::Compare(path("doc", vec![PathStep::key("pin")]), CompareOp::Eq, Operand::Value(s("1234")));
    assert!(matches!(table.translate(&into_doc).await, Err(SearchError::EncryptedWithoutBeacon(ref n)) if n == "doc"));
    // Into a beacon (standard, compound or signed): a beacon has nothing inside.
    for name in ["email", "Where", "YearTag"] {
        let query = Condition::Compare(path(name, vec![PathStep::Index(0)]), CompareOp::Eq, Operand::Value(s("x")));
        assert!(
            matches!(
                table.translate(&query).await,
                Err(SearchError::UnsupportedOperator { ref beacon, operator: "a document path", .. }) if beacon == name
            ),
            "{name}"
        );
    }
}
