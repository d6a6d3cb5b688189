//! Searchable encryption on DynamoDB: customers with an encrypted, searchable email.
//!
//! Needs a DynamoDB endpoint from the usual AWS configuration. Against moto (a local DynamoDB):
//!
//! ```sh
//! python3 -m pip install 'moto[server]'
//! python3 -m moto.server -H 127.0.0.1 -p 5050 &
//! AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:5050 AWS_REGION=us-east-1 \
//!   AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
//!   cargo run -p envelope-dbe --example dynamodb
//! ```
//!
//! The table `EnvelopeCustomers` (key `id`, index `EmailIndex` on the email beacon) is created
//! when missing. The branch key here is a fixed demo key in memory; an application keeps its
//! branch keys in a key store (envelope-keystore) wrapped by KMS.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use envelope::{AlgorithmSuite, DefaultMaterialsManager};
use envelope_dbe::beacon::{BeaconKeySource, BeaconVersionConfig, SingleKeySource, StandardBeacon};
use envelope_dbe::dynamodb::{EncryptedDynamoDbClient, QueryRequest};
use envelope_dbe::item::{AttributeValue, CryptoAction, Item, TableConfig};
use envelope_dbe::search::SearchableTable;
use envelope_keyrings::hierarchy::{
    BeaconKeyMaterials, BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, KeyStore, StaticKeyStore,
};

const TABLE: &str = "EnvelopeCustomers";
const BRANCH_KEY: &str = "demo-branch-key";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // A demo branch key (and its beacon key) held in memory.
    let mut store = StaticKeyStore::new("demo");
    let secret = || BranchKeySecret::from_slice(&[42; 32]);
    let version = "9b2e4c1a-3d5f-4a7b-8c9d-0e1f2a3b4c5d";
    store.add_branch_key(BranchKeyMaterials::new(BRANCH_KEY, version, BTreeMap::new(), secret()?)?, true)?;
    store.add_beacon_key(BeaconKeyMaterials::new(BRANCH_KEY, BTreeMap::new(), secret()?));
    let store = Arc::new(store);

    // What is encrypted, what is signed, and the beacon that keeps email searchable.
    let config = TableConfig::new(TABLE, "id")
        .action("id", CryptoAction::SignOnly)
        .action("name", CryptoAction::EncryptAndSign)
        .action("email", CryptoAction::EncryptAndSign)
        .action("plan", CryptoAction::SignOnly);
    let keyring = HierarchicalKeyring::builder(Arc::clone(&store))
        .branch_key_id(BRANCH_KEY)
        .ttl(Duration::from_secs(300))
        .build()?;
    let beacons = BeaconVersionConfig {
        version: 1,
        standard_beacons: vec![StandardBeacon::new("email", 16)?],
        ..Default::default()
    };
    let source = SingleKeySource::new(store as Arc<dyn KeyStore>, BRANCH_KEY, Duration::from_secs(300));
    let table = SearchableTable::new(
        config,
        Arc::new(DefaultMaterialsManager::new(keyring)),
        AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384,
    )
    .with_beacons(beacons, BeaconKeySource::Single(source))?;

    let client = EncryptedDynamoDbClient::from_env().await.with_table(TABLE, table);
    create_table_if_missing(client.inner()).await?;

    let customers = [("c1", "Ada", "ada@example.com", "pro"), ("c2", "Grace", "grace@example.com", "free")];
    for (id, name, email, plan) in customers {
        let item: Item = [("id", id), ("name", name), ("email", email), ("plan", plan)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
            .collect();
        client.put_item(TABLE, &item, None).await?;
    }

    let key = Item::from([("id".to_owned(), AttributeValue::S("c1".into()))]);
    println!("get c1: {:?}", client.get_item(TABLE, &key).await?);

    // The query names the plaintext attribute and value; the client asks DynamoDB for the
    // beacon and drops any item whose decrypted email differs.
    let query = QueryRequest::new("email = :e")
        .index_name("EmailIndex")
        .value(":e", AttributeValue::S("grace@example.com".into()));
    for item in client.query(TABLE, &query).await? {
        println!("found by email: {item:?}");
    }
    Ok(())
}

async fn create_table_if_missing(client: &aws_sdk_dynamodb::Client) -> Result<(), Box<dyn Error>> {
    if client.describe_table().table_name(TABLE).send().await.is_ok() {
        return Ok(());
    }
    let string =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let hash = |name: &str| KeySchemaElement::builder().attribute_name(name).key_type(KeyType::Hash).build();
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(hash("id")?)
        .attribute_definitions(string("id")?)
        .attribute_definitions(string("aws_dbe_b_email")?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("EmailIndex")
                .key_schema(hash("aws_dbe_b_email")?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
