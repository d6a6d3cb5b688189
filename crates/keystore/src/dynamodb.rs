//! The DynamoDB key store: the MPL's table (hash key `branch-key-id`, range key `type`, both S)
//! and records, so a table written by the Python or Java MPL is read here and the reverse.
//!
//! The client comes from the usual AWS configuration ([`DynamoDbStorage::from_env`]), including
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local DynamoDB.
//!
//! spec: framework/branch-key-store.md#createkeystore, #writing-branch-key-and-beacon-key-to-keystore,
//! #versionkey

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as DdbValue, BillingMode, KeySchemaElement, KeyType, Put, ScalarAttributeType,
    TableStatus, TransactWriteItem,
};

use crate::item::{ACTIVE_TYPE, AttributeValue, BRANCH_KEY_ID, ENC, RawItem, TYPE};
use crate::storage::{KeyStorage, StorageError};

/// How long CreateKeyStore waits for a new table to become ACTIVE.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// A key store in a DynamoDB table.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use envelope_keyrings::kms::DefaultClientSupplier;
/// use envelope_keystore::{BranchKeyStore, DynamoDbStorage, KmsConfiguration};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// // The table name doubles as the logical key store name, as in the AWS Material Providers Library.
/// let storage = DynamoDbStorage::from_env("branch-keys").await;
/// assert_eq!(storage.table(), "branch-keys");
/// let kms = KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")?;
/// let store = BranchKeyStore::new(storage, "branch-keys", kms, Arc::new(DefaultClientSupplier::from_env().await));
/// store.create_key_store().await?; // creates the table if it does not exist
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbStorage {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbStorage {
    /// A store in `table`, through `client`.
    ///
    /// ```
    /// use envelope_keystore::DynamoDbStorage;
    ///
    /// # async fn demo() {
    /// // A client with its own configuration, e.g. a local DynamoDB endpoint.
    /// let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
    ///     .endpoint_url("http://127.0.0.1:8000")
    ///     .load()
    ///     .await;
    /// let storage = DynamoDbStorage::new(aws_sdk_dynamodb::Client::new(&config), "branch-keys");
    /// assert_eq!(storage.table(), "branch-keys");
    /// # }
    /// ```
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoDbStorage {
        DynamoDbStorage { client, table: table.into() }
    }

    /// A store in `table`, with a client from the usual AWS configuration (environment,
    /// profiles, `AWS_ENDPOINT_URL_DYNAMODB`, …).
    pub async fn from_env(table: impl Into<String>) -> DynamoDbStorage {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        DynamoDbStorage::new(aws_sdk_dynamodb::Client::new(&config), table)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn fail<E, R>(&self, operation: &str, error: SdkError<E, R>) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        if error.code() == Some("ResourceNotFoundException") {
            return StorageError::NoSuchStore { store: format!("DynamoDB table {} (no such table)", self.table) };
        }
        let detail = match error.as_service_error() {
            Some(service) => format!("{}: {}", service.code().unwrap_or("error"), service.message().unwrap_or("")),
            None => format!("no answer: {}", DisplayErrorContext(&error)),
        };
        StorageError::Backend(format!("DynamoDB {operation} on table {}: {detail}", self.table))
    }

    /// Checks a table's key schema: exactly `branch-key-id` HASH and `type` RANGE, both strings.
    fn check_schema(&self, table: &aws_sdk_dynamodb::types::TableDescription) -> Result<(), StorageError> {
        let keys: Vec<(&str, &KeyType)> =
            table.key_schema().iter().map(|k| (k.attribute_name(), k.key_type())).collect();
        let string_attribute = |name: &str| {
            table
                .attribute_definitions()
                .iter()
                .any(|d| d.attribute_name() == name && d.attribute_type() == &ScalarAttributeType::S)
        };
        let good = keys.len() == 2
            && keys.contains(&(BRANCH_KEY_ID, &KeyType::Hash))
            && keys.contains(&(TYPE, &KeyType::Range))
            && string_attribute(BRANCH_KEY_ID)
            && string_attribute(TYPE);
        if good {
            Ok(())
        } else {
            Err(StorageError::Backend(format!(
                "DynamoDB table {} exists but is not a key store: its key schema must be {BRANCH_KEY_ID} (HASH, S) and {TYPE} (RANGE, S)",
                self.table
            )))
        }
    }

    /// A conditional Put of `item`. Attribute names go through placeholders: `branch-key-id`
    /// contains '-', which an expression cannot name directly.
    fn put(
        &self,
        item: RawItem,
        condition: &str,
        names: &[(&str, &str)],
        value: Option<(&str, DdbValue)>,
    ) -> Result<TransactWriteItem, StorageError> {
        let mut put =
            Put::builder().table_name(&self.table).set_item(Some(to_ddb(item))).condition_expression(condition);
        for (placeholder, name) in names {
            put = put.expression_attribute_names(*placeholder, *name);
        }
        if let Some((placeholder, value)) = value {
            put = put.expression_attribute_values(placeholder, value);
        }
        let put = put.build().map_err(|e| StorageError::Backend(format!("DynamoDB request: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<(), StorageError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let cancelled = error.as_service_error().and_then(|e| match e {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                    _ => None,
                });
                match cancelled {
                    Some(cancelled)
                        if cancelled
                            .cancellation_reasons()
                            .iter()
                            .any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                    {
                        Err(StorageError::Conflict(what.to_owned()))
                    }
                    _ => Err(self.fail("TransactWriteItems", error)),
                }
            }
        }
    }
}

fn to_ddb(item: RawItem) -> HashMap<String, DdbValue> {
    item.into_iter()
        .map(|(name, value)| {
            let value = match value {
                AttributeValue::S(s) => DdbValue::S(s),
                AttributeValue::N(n) => DdbValue::N(n),
                AttributeValue::B(b) => DdbValue::B(Blob::new(b)),
            };
            (name, value)
        })
        .collect()
}

fn from_ddb(item: HashMap<String, DdbValue>, table: &str) -> Result<RawItem, StorageError> {
    item.into_iter()
        .map(|(name, value)| {
            let value = match value {
                DdbValue::S(s) => AttributeValue::S(s),
                DdbValue::N(n) => AttributeValue::N(n),
                DdbValue::B(b) => AttributeValue::B(b.into_inner()),
                other => {
                    return Err(StorageError::Backend(format!(
                        "DynamoDB table {table}: attribute {name:?} has a type key-store items never use ({other:?})"
                    )));
                }
            };
            Ok((name, value))
        })
        .collect()
}

#[async_trait]
impl KeyStorage for DynamoDbStorage {
    fn name(&self) -> &str {
        &self.table
    }

    async fn create(&self) -> Result<String, StorageError> {
        // spec: branch-key-store.md#createkeystore — DescribeTable first; create only if missing.
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(described) => {
                let table = described.table.ok_or_else(|| {
                    StorageError::Backend(format!("DynamoDB DescribeTable on {} returned no table", self.table))
                })?;
                self.check_schema(&table)?;
                return Ok(table.table_arn().unwrap_or(&self.table).to_owned());
            }
            Err(error) if error.code() == Some("ResourceNotFoundException") => {}
            Err(error) => return Err(self.fail("DescribeTable", error)),
        }
        let key = |name: &str, key_type| KeySchemaElement::builder().attribute_name(name).key_type(key_type).build();
        let string = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let schema = [key(BRANCH_KEY_ID, KeyType::Hash), key(TYPE, KeyType::Range)]
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::Backend(format!("DynamoDB request: {e}")))?;
        let attributes = [string(BRANCH_KEY_ID), string(TYPE)]
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::Backend(format!("DynamoDB request: {e}")))?;
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .set_key_schema(Some(schema))
            .set_attribute_definitions(Some(attributes))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        let arn = match created {
            Ok(created) => created.table_description.and_then(|t| t.table_arn).unwrap_or_else(|| self.table.clone()),
            // Another process created it first: that table must pass the same check.
            Err(error) if error.code() == Some("ResourceInUseException") => String::new(),
            Err(error) => return Err(self.fail("CreateTable", error)),
        };
        // A new table takes a while to become usable; wait for it.
        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.fail("DescribeTable", e))?;
            if let Some(table) = described.table {
                if table.table_status() == Some(&TableStatus::Active) {
                    self.check_schema(&table)?;
                    return Ok(table.table_arn().map(str::to_owned).unwrap_or(arn));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StorageError::Backend(format!(
                    "DynamoDB table {} was created but is not ACTIVE after {} s",
                    self.table,
                    TABLE_ACTIVE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn get_item(&self, branch_key_id: &str, item_type: &str) -> Result<Option<RawItem>, StorageError> {
        let response = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(BRANCH_KEY_ID, DdbValue::S(branch_key_id.to_owned()))
            .key(TYPE, DdbValue::S(item_type.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("GetItem", e))?;
        response.item.map(|item| from_ddb(item, &self.table)).transpose()
    }

    async fn write_new_key(&self, version: RawItem, active: RawItem, beacon: RawItem) -> Result<(), StorageError> {
        let mut items = Vec::with_capacity(3);
        for item in [version, active, beacon] {
            items.push(self.put(item, "attribute_not_exists(#id)", &[("#id", BRANCH_KEY_ID)], None)?);
        }
        self.transact(items, "one of the branch key's items already exists").await
    }

    async fn write_new_version(
        &self,
        version: RawItem,
        active: RawItem,
        expected_active_enc: &[u8],
    ) -> Result<(), StorageError> {
        let version = self.put(version, "attribute_not_exists(#id)", &[("#id", BRANCH_KEY_ID)], None)?;
        // spec: branch-key-store.md#versionkey — the ACTIVE item must still hold the `enc` read.
        let active = self.put(
            active,
            "attribute_exists(#id) AND #enc = :encOld",
            &[("#id", BRANCH_KEY_ID), ("#enc", ENC)],
            Some((":encOld", DdbValue::B(Blob::new(expected_active_enc)))),
        )?;
        self.transact(
            vec![version, active],
            &format!("the {ACTIVE_TYPE} item changed since it was read (another VersionKey won)"),
        )
        .await
    }

    async fn list_items(&self, branch_key_id: &str) -> Result<Vec<RawItem>, StorageError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let response = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#id = :id")
                .expression_attribute_names("#id", BRANCH_KEY_ID)
                .expression_attribute_values(":id", DdbValue::S(branch_key_id.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.fail("Query", e))?;
            for item in response.items.unwrap_or_default() {
                items.push(from_ddb(item, &self.table)?);
            }
            match response.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}
