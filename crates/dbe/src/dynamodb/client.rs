//! [`EncryptedDynamoDbClient`]: aws-sdk-dynamodb's client with items encrypted on the way in,
//! verified and decrypted on the way out, and queries rewritten onto beacons.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as SdkValue, ConditionCheck, Delete, DeleteRequest, Get, KeysAndAttributes, Put, PutRequest,
    TransactGetItem, TransactWriteItem, WriteRequest,
};
use tracing::debug;

use super::convert::{from_sdk_item, to_sdk_item, to_sdk_value};
use super::error::{DynamoDbError, service};
use super::expression::{Expression, ExpressionError, RenderedSet, parse, render_shared};
use crate::item::{AttributeValue, Item};
use crate::search::{BeaconQuery, Condition, SearchableTable};

/// Most keys one BatchGetItem call takes.
const BATCH_GET_LIMIT: usize = 100;
/// Most writes one BatchWriteItem call takes.
const BATCH_WRITE_LIMIT: usize = 25;
/// Calls made for one batch before unprocessed requests become an error.
const BATCH_ATTEMPTS: usize = 8;

/// A Query: the DynamoDB request's expressions and placeholders, in plaintext terms (beacon
/// names as configured, plaintext values). The client rewrites them onto `aws_dbe_b_*`
/// attributes.
///
/// ```
/// use envelope_dbe::dynamodb::QueryRequest;
/// use envelope_dbe::item::AttributeValue as V;
///
/// let query = QueryRequest::new("#e = :e")
///     .index_name("EmailIndex")
///     .filter("Year >= :y")
///     .name("#e", "Email")
///     .value(":e", V::S("a@example.com".into()))
///     .value(":y", V::N("2000".into()));
/// assert_eq!(query.key_condition.text, "#e = :e");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRequest {
    /// A global or local secondary index to query instead of the table.
    pub index_name: Option<String>,
    /// KeyConditionExpression, with the request's names and values.
    pub key_condition: Expression,
    /// FilterExpression (shares the key condition's placeholders).
    pub filter: Option<String>,
    /// Strongly consistent reads.
    pub consistent_read: bool,
}

impl QueryRequest {
    /// A query with this key condition.
    pub fn new(key_condition: impl Into<String>) -> QueryRequest {
        QueryRequest { key_condition: Expression::new(key_condition), ..QueryRequest::default() }
    }

    /// A query built from typed conditions: `key` becomes the KeyConditionExpression and
    /// `filter` the FilterExpression, rendered with one set of fresh placeholders (so reserved
    /// words and odd attribute names never matter).
    ///
    /// ```
    /// use envelope_dbe::dynamodb::QueryRequest;
    /// use envelope_dbe::item::AttributeValue as V;
    /// use envelope_dbe::search::Condition;
    ///
    /// let key = Condition::eq("Email", V::S("a@example.com".into()));
    /// let filter = Condition::eq("Year", V::N("2000".into()));
    /// let query = QueryRequest::from_conditions(&key, Some(&filter))?.index_name("EmailIndex");
    /// assert_eq!(query.key_condition.text, "#n0 = :v0");
    /// assert_eq!(query.filter.as_deref(), Some("#n1 = :v1"));
    /// assert_eq!(query.key_condition.parse()?, key);
    /// # Ok::<(), envelope_dbe::dynamodb::ExpressionError>(())
    /// ```
    pub fn from_conditions(key: &Condition, filter: Option<&Condition>) -> Result<QueryRequest, ExpressionError> {
        let rendered = render_shared(&[Some(key), filter])?;
        let mut texts = rendered.texts.into_iter();
        let key_text = texts.next().flatten().ok_or(ExpressionError::Unrepresentable)?;
        Ok(QueryRequest {
            key_condition: Expression { text: key_text, names: rendered.names, values: rendered.values },
            filter: texts.next().flatten(),
            ..QueryRequest::default()
        })
    }

    /// Queries an index.
    pub fn index_name(mut self, index: impl Into<String>) -> QueryRequest {
        self.index_name = Some(index.into());
        self
    }

    /// Sets the filter expression.
    pub fn filter(mut self, filter: impl Into<String>) -> QueryRequest {
        self.filter = Some(filter.into());
        self
    }

    /// Adds a `#name` placeholder.
    pub fn name(mut self, placeholder: impl Into<String>, name: impl Into<String>) -> QueryRequest {
        self.key_condition = self.key_condition.name(placeholder, name);
        self
    }

    /// Adds a `:value` placeholder.
    pub fn value(mut self, placeholder: impl Into<String>, value: AttributeValue) -> QueryRequest {
        self.key_condition = self.key_condition.value(placeholder, value);
        self
    }
}

/// One write of a [`batch_write_item`](EncryptedDynamoDbClient::batch_write_item) call.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::dynamodb::BatchWrite;
/// use envelope_dbe::item::AttributeValue as V;
///
/// let key = BTreeMap::from([("Id".to_owned(), V::S("c-1".into()))]);
/// let writes = [
///     BatchWrite::Put { table: "Customers".into(), item: key.clone() },
///     BatchWrite::Delete { table: "Orders".into(), key },
/// ];
/// # let _ = writes;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchWrite {
    /// Encrypt and put a plaintext item.
    Put {
        /// Table name.
        table: String,
        /// The plaintext item.
        item: Item,
    },
    /// Delete by primary key.
    Delete {
        /// Table name.
        table: String,
        /// The primary key attributes.
        key: Item,
    },
}

/// One write of a [`transact_write_items`](EncryptedDynamoDbClient::transact_write_items) call.
/// Conditions are in plaintext terms and rewritten like a query's filter.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::dynamodb::{Expression, TransactWrite};
/// use envelope_dbe::item::AttributeValue as V;
///
/// let account = BTreeMap::from([("Id".to_owned(), V::S("a-1".into()))]);
/// let writes = [
///     // Only while the account is open (a plaintext condition, rewritten onto beacons if needed).
///     TransactWrite::ConditionCheck {
///         table: "Accounts".into(),
///         key: account.clone(),
///         condition: Expression::new("#s = :open").name("#s", "Status").value(":open", V::S("open".into())),
///     },
///     TransactWrite::Put { table: "Orders".into(), item: account, condition: None },
/// ];
/// # let _ = writes;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactWrite {
    /// Encrypt and put a plaintext item.
    Put {
        /// Table name.
        table: String,
        /// The plaintext item.
        item: Item,
        /// ConditionExpression.
        condition: Option<Expression>,
    },
    /// Delete by primary key.
    Delete {
        /// Table name.
        table: String,
        /// The primary key attributes.
        key: Item,
        /// ConditionExpression.
        condition: Option<Expression>,
    },
    /// Check a condition on an item without writing it.
    ConditionCheck {
        /// Table name.
        table: String,
        /// The primary key attributes.
        key: Item,
        /// ConditionExpression.
        condition: Expression,
    },
}

/// A DynamoDB client that encrypts, signs and adds beacons to items it writes, verifies and
/// decrypts items it reads, and answers queries on encrypted attributes through their beacons.
///
/// Each table it serves is registered with a [`SearchableTable`] (item actions, keys, suite,
/// beacons). Calls on other tables are refused ([`DynamoDbError::UnconfiguredTable`]); use
/// [`inner`](Self::inner) for plaintext tables. UpdateItem is not offered: a partial update
/// cannot keep an item's signature.
///
/// Queries and scans follow every page and return only items that match on their plaintext:
/// beacons are truncated hashes, so the database also returns collisions, which the client drops
/// after decrypting. A table with beacon partitions is queried once per partition. Tables
/// without beacons take a cheap path: expressions are only checked for encrypted attributes,
/// never rewritten, and results are not re-checked.
///
/// ```no_run
/// use std::collections::BTreeMap;
///
/// use envelope_dbe::dynamodb::{BatchWrite, EncryptedDynamoDbClient, Expression, QueryRequest, TransactWrite};
/// use envelope_dbe::item::AttributeValue as V;
/// # async fn example(table: envelope_dbe::search::SearchableTable) -> Result<(), envelope_dbe::dynamodb::DynamoDbError> {
/// // The endpoint, Region and credentials come from the usual AWS configuration
/// // (AWS_ENDPOINT_URL_DYNAMODB points it at a local DynamoDB).
/// let client = EncryptedDynamoDbClient::from_env().await.with_table("Customers", table);
/// let key = BTreeMap::from([("Id".to_owned(), V::S("c-1".into()))]);
/// let mut item = key.clone();
/// item.insert("Email".to_owned(), V::S("a@example.com".into()));
///
/// // Only if no item has this key yet (conditions are in plaintext terms).
/// client.put_item("Customers", &item, Some(&Expression::new("attribute_not_exists(Id)"))).await?;
/// assert_eq!(client.get_item("Customers", &key).await?, Some(item.clone()));
/// let found = client
///     .query("Customers", &QueryRequest::new("Email = :e").index_name("EmailIndex")
///         .value(":e", V::S("a@example.com".into())))
///     .await?;
/// let everyone = client.scan("Customers", None).await?;
/// client.delete_item("Customers", &key, None).await?;
///
/// // Many items at once, every put encrypted before the first request.
/// client.batch_write_item(&[BatchWrite::Put { table: "Customers".into(), item: item.clone() }]).await?;
/// let by_table = client.batch_get_item(&BTreeMap::from([("Customers".to_owned(), vec![key.clone()])])).await?;
/// // All or nothing.
/// client
///     .transact_write_items(&[TransactWrite::Delete { table: "Customers".into(), key: key.clone(), condition: None }])
///     .await?;
/// let gone = client.transact_get_items(&[("Customers".to_owned(), key)]).await?;
///
/// // Plaintext tables and table management go through the wrapped client.
/// let tables = client.inner().list_tables().send().await;
/// # let _ = (found, everyone, by_table, gone, tables);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EncryptedDynamoDbClient {
    client: aws_sdk_dynamodb::Client,
    tables: HashMap<String, Arc<SearchableTable>>,
}

impl EncryptedDynamoDbClient {
    /// Wraps `client`; register tables with [`with_table`](Self::with_table).
    pub fn new(client: aws_sdk_dynamodb::Client) -> EncryptedDynamoDbClient {
        EncryptedDynamoDbClient { client, tables: HashMap::new() }
    }

    /// A client from the usual AWS configuration (environment, profile, instance role; the
    /// endpoint from `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` when set).
    pub async fn from_env() -> EncryptedDynamoDbClient {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        EncryptedDynamoDbClient::new(aws_sdk_dynamodb::Client::new(&config))
    }

    /// Serves the physical table `name` with `table`'s encryption config.
    pub fn with_table(mut self, name: impl Into<String>, table: SearchableTable) -> EncryptedDynamoDbClient {
        self.tables.insert(name.into(), Arc::new(table));
        self
    }

    /// The wrapped client, for calls on plaintext tables and table management.
    pub fn inner(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    fn table(&self, name: &str) -> Result<&SearchableTable, DynamoDbError> {
        self.tables.get(name).map(Arc::as_ref).ok_or_else(|| DynamoDbError::UnconfiguredTable(name.to_owned()))
    }

    /// Encrypts `item` and puts it. `condition` (plaintext terms) is rewritten onto beacons;
    /// a condition on an encrypted attribute without a beacon is refused before any call.
    pub async fn put_item(
        &self,
        table: &str,
        item: &Item,
        condition: Option<&Expression>,
    ) -> Result<(), DynamoDbError> {
        let config = self.table(table)?;
        let stored = config.encrypt_for_write(item).await?;
        let rendered = condition_for(config, condition).await?;
        let mut request = self.client.put_item().table_name(table).set_item(Some(to_sdk_item(&stored)));
        if let Some(rendered) = rendered {
            request = request
                .set_condition_expression(rendered.texts.into_iter().next().flatten())
                .set_expression_attribute_names(names_or_none(rendered.names))
                .set_expression_attribute_values(values_or_none(rendered.values));
        }
        request.send().await.map_err(service("PutItem"))?;
        Ok(())
    }

    /// Gets the item with primary key `key`, verified and decrypted; `None` when absent.
    pub async fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>, DynamoDbError> {
        let config = self.table(table)?;
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(to_sdk_item(key)))
            .send()
            .await
            .map_err(service("GetItem"))?;
        match output.item {
            Some(stored) => Ok(Some(config.decrypt_read(&from_sdk_item(&stored)?).await?)),
            None => Ok(None),
        }
    }

    /// Deletes the item with primary key `key`, if `condition` (plaintext terms) holds.
    pub async fn delete_item(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&Expression>,
    ) -> Result<(), DynamoDbError> {
        let config = self.table(table)?;
        let rendered = condition_for(config, condition).await?;
        let mut request = self.client.delete_item().table_name(table).set_key(Some(to_sdk_item(key)));
        if let Some(rendered) = rendered {
            request = request
                .set_condition_expression(rendered.texts.into_iter().next().flatten())
                .set_expression_attribute_names(names_or_none(rendered.names))
                .set_expression_attribute_values(values_or_none(rendered.values));
        }
        request.send().await.map_err(service("DeleteItem"))?;
        Ok(())
    }

    /// Runs a Query rewritten onto beacons, every page, and returns the decrypted items that
    /// match the plaintext key condition and filter.
    ///
    /// For a multi-tenant table, the tenant's `keyField = value` condition stands in the key
    /// condition or in the filter (the usual place: DynamoDB allows only key attributes in a key
    /// condition); the beacons of both expressions are computed with that tenant's beacon key.
    pub async fn query(&self, table: &str, request: &QueryRequest) -> Result<Vec<Item>, DynamoDbError> {
        let config = self.table(table)?;
        let expression = &request.key_condition;
        let key_condition = expression.parse()?;
        let filter = request.filter.as_deref().map(|f| parse(f, &expression.names, &expression.values)).transpose()?;

        // A multi-tenant query may name its tenant in either expression (usually the filter:
        // a key condition may name key attributes only); both are translated for that tenant.
        let key_tenant = config.tenant_named_by(&key_condition)?;
        let filter_tenant = filter.as_ref().map(|f| config.tenant_named_by(f)).transpose()?.flatten();
        let key_query = config.translate_for_tenant(&key_condition, filter_tenant.as_deref()).await?;
        let filter_query = match &filter {
            Some(filter) => Some(config.translate_for_tenant(filter, key_tenant.as_deref()).await?),
            None => None,
        };
        let filter_rewritten = filter_query.as_ref().and_then(any_partition);
        let mut results = Vec::new();
        let read = reading_query(&key_query, filter_query.as_ref(), key_condition.clone(), filter.clone());
        for partition in &key_query.partitions {
            let Some(key_rewritten) = partition else {
                return Err(DynamoDbError::InvalidRequest(
                    "the key condition must name a key attribute, not only the tenant's key field",
                ));
            };
            let rendered = render_shared(&[Some(key_rewritten), filter_rewritten.as_ref()])?;
            let [key_text, filter_text] = <[Option<String>; 2]>::try_from(rendered.texts.clone())
                .map_err(|_| DynamoDbError::InvalidRequest("internal: two expressions rendered"))?;
            let key_text = key_text.ok_or(DynamoDbError::InvalidRequest("the key condition is empty"))?;
            debug!(table, key_condition = %key_text, filter = ?filter_text, "encrypted query");
            read_every_page(config, &read, &mut results, async |start| {
                let output = self
                    .client
                    .query()
                    .table_name(table)
                    .set_index_name(request.index_name.clone())
                    .key_condition_expression(&key_text)
                    .set_filter_expression(filter_text.clone())
                    .set_expression_attribute_names(names_or_none(rendered.names.clone()))
                    .set_expression_attribute_values(values_or_none(rendered.values.clone()))
                    .consistent_read(request.consistent_read)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(service("Query"))?;
                Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
            })
            .await?;
        }
        Ok(results)
    }

    /// Scans the table (every page), filtered by `filter` (plaintext terms) rewritten onto
    /// beacons, and returns the decrypted items that match it on plaintext.
    pub async fn scan(&self, table: &str, filter: Option<&Expression>) -> Result<Vec<Item>, DynamoDbError> {
        let config = self.table(table)?;
        let condition = filter.map(Expression::parse).transpose()?;
        let translated = match &condition {
            Some(condition) => Some(config.translate(condition).await?),
            None => None,
        };
        let rewritten = translated.as_ref().and_then(any_partition);
        let rendered = render_shared(&[rewritten.as_ref()])?;
        let filter_text = rendered.texts.first().cloned().flatten();
        let read = reading_query(
            &translated.clone().unwrap_or_else(no_condition),
            None,
            condition.unwrap_or(Condition::And(vec![])),
            None,
        );
        let mut results = Vec::new();
        read_every_page(config, &read, &mut results, async |start| {
            let output = self
                .client
                .scan()
                .table_name(table)
                .set_filter_expression(filter_text.clone())
                .set_expression_attribute_names(names_or_none(rendered.names.clone()))
                .set_expression_attribute_values(values_or_none(rendered.values.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(service("Scan"))?;
            Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
        })
        .await?;
        Ok(results)
    }

    /// Gets many items by primary key (table name → keys), in calls of up to 100 keys, retrying
    /// unprocessed keys. Returns each table's decrypted items that exist, in no set order.
    pub async fn batch_get_item(
        &self,
        keys: &BTreeMap<String, Vec<Item>>,
    ) -> Result<BTreeMap<String, Vec<Item>>, DynamoDbError> {
        let mut pending: Vec<(String, HashMap<String, SdkValue>)> = Vec::new();
        for (table, table_keys) in keys {
            self.table(table)?;
            pending.extend(table_keys.iter().map(|key| (table.clone(), to_sdk_item(key))));
        }
        let mut found: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(BATCH_GET_LIMIT));
            let mut chunk = std::mem::replace(&mut pending, rest);
            for attempt in 1..=BATCH_ATTEMPTS {
                let mut request_items: HashMap<String, KeysAndAttributes> = HashMap::new();
                let mut grouped: HashMap<String, Vec<HashMap<String, SdkValue>>> = HashMap::new();
                for (table, key) in chunk.drain(..) {
                    grouped.entry(table).or_default().push(key);
                }
                for (table, table_keys) in grouped {
                    let keys_and_attributes = KeysAndAttributes::builder()
                        .set_keys(Some(table_keys))
                        .build()
                        .map_err(|_| DynamoDbError::InvalidRequest("BatchGetItem keys could not be built"))?;
                    request_items.insert(table, keys_and_attributes);
                }
                let output = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request_items))
                    .send()
                    .await
                    .map_err(service("BatchGetItem"))?;
                for (table, items) in output.responses.unwrap_or_default() {
                    let config = self.table(&table)?;
                    for stored in items {
                        let item = config.decrypt_read(&from_sdk_item(&stored)?).await?;
                        found.entry(table.clone()).or_default().push(item);
                    }
                }
                for (table, unprocessed) in output.unprocessed_keys.unwrap_or_default() {
                    chunk.extend(unprocessed.keys.into_iter().map(|key| (table.clone(), key)));
                }
                if chunk.is_empty() {
                    break;
                }
                if attempt == BATCH_ATTEMPTS {
                    return Err(DynamoDbError::Unprocessed {
                        operation: "BatchGetItem",
                        count: chunk.len(),
                        attempts: attempt,
                    });
                }
                backoff(attempt).await;
            }
        }
        Ok(found)
    }

    /// Encrypts the puts and writes everything in calls of up to 25 writes, retrying
    /// unprocessed ones.
    pub async fn batch_write_item(&self, writes: &[BatchWrite]) -> Result<(), DynamoDbError> {
        let mut pending: Vec<(String, WriteRequest)> = Vec::with_capacity(writes.len());
        for write in writes {
            pending.push(match write {
                BatchWrite::Put { table, item } => {
                    let stored = self.table(table)?.encrypt_for_write(item).await?;
                    let put = PutRequest::builder()
                        .set_item(Some(to_sdk_item(&stored)))
                        .build()
                        .map_err(|_| DynamoDbError::InvalidRequest("BatchWriteItem put could not be built"))?;
                    (table.clone(), WriteRequest::builder().put_request(put).build())
                }
                BatchWrite::Delete { table, key } => {
                    self.table(table)?;
                    let delete = DeleteRequest::builder()
                        .set_key(Some(to_sdk_item(key)))
                        .build()
                        .map_err(|_| DynamoDbError::InvalidRequest("BatchWriteItem delete could not be built"))?;
                    (table.clone(), WriteRequest::builder().delete_request(delete).build())
                }
            });
        }
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(BATCH_WRITE_LIMIT));
            let mut chunk = std::mem::replace(&mut pending, rest);
            for attempt in 1..=BATCH_ATTEMPTS {
                let mut request_items: HashMap<String, Vec<WriteRequest>> = HashMap::new();
                for (table, write) in chunk.drain(..) {
                    request_items.entry(table).or_default().push(write);
                }
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(request_items))
                    .send()
                    .await
                    .map_err(service("BatchWriteItem"))?;
                for (table, unprocessed) in output.unprocessed_items.unwrap_or_default() {
                    chunk.extend(unprocessed.into_iter().map(|write| (table.clone(), write)));
                }
                if chunk.is_empty() {
                    break;
                }
                if attempt == BATCH_ATTEMPTS {
                    return Err(DynamoDbError::Unprocessed {
                        operation: "BatchWriteItem",
                        count: chunk.len(),
                        attempts: attempt,
                    });
                }
                backoff(attempt).await;
            }
        }
        Ok(())
    }

    /// Gets items by `(table, primary key)` in one transaction; each result decrypted, `None`
    /// where the item does not exist, in the order asked.
    pub async fn transact_get_items(&self, gets: &[(String, Item)]) -> Result<Vec<Option<Item>>, DynamoDbError> {
        let mut items = Vec::with_capacity(gets.len());
        for (table, key) in gets {
            self.table(table)?;
            let get = Get::builder()
                .table_name(table)
                .set_key(Some(to_sdk_item(key)))
                .build()
                .map_err(|_| DynamoDbError::InvalidRequest("TransactGetItems get could not be built"))?;
            items.push(TransactGetItem::builder().get(get).build());
        }
        let output = self
            .client
            .transact_get_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(service("TransactGetItems"))?;
        let mut results = Vec::with_capacity(gets.len());
        for ((table, _), response) in gets.iter().zip(output.responses()) {
            results.push(match &response.item {
                Some(stored) if !stored.is_empty() => {
                    Some(self.table(table)?.decrypt_read(&from_sdk_item(stored)?).await?)
                }
                _ => None,
            });
        }
        if results.len() != gets.len() {
            results.resize(gets.len(), None);
        }
        Ok(results)
    }

    /// Writes in one transaction: puts encrypted, conditions (plaintext terms) rewritten onto
    /// beacons; a condition on an encrypted attribute without a beacon is refused before the call.
    pub async fn transact_write_items(&self, writes: &[TransactWrite]) -> Result<(), DynamoDbError> {
        let mut items = Vec::with_capacity(writes.len());
        let build_error = |_| DynamoDbError::InvalidRequest("TransactWriteItems write could not be built");
        for write in writes {
            items.push(match write {
                TransactWrite::Put { table, item, condition } => {
                    let config = self.table(table)?;
                    let stored = config.encrypt_for_write(item).await?;
                    let rendered = condition_for(config, condition.as_ref()).await?.unwrap_or_default();
                    let put = Put::builder()
                        .table_name(table)
                        .set_item(Some(to_sdk_item(&stored)))
                        .set_condition_expression(rendered.texts.into_iter().next().flatten())
                        .set_expression_attribute_names(names_or_none(rendered.names))
                        .set_expression_attribute_values(values_or_none(rendered.values))
                        .build()
                        .map_err(build_error)?;
                    TransactWriteItem::builder().put(put).build()
                }
                TransactWrite::Delete { table, key, condition } => {
                    let rendered = condition_for(self.table(table)?, condition.as_ref()).await?.unwrap_or_default();
                    let delete = Delete::builder()
                        .table_name(table)
                        .set_key(Some(to_sdk_item(key)))
                        .set_condition_expression(rendered.texts.into_iter().next().flatten())
                        .set_expression_attribute_names(names_or_none(rendered.names))
                        .set_expression_attribute_values(values_or_none(rendered.values))
                        .build()
                        .map_err(build_error)?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                TransactWrite::ConditionCheck { table, key, condition } => {
                    let rendered = condition_for(self.table(table)?, Some(condition))
                        .await?
                        .and_then(|r| r.texts.first().cloned().flatten().map(|text| (text, r)))
                        .ok_or(DynamoDbError::InvalidRequest("a condition check needs a condition"))?;
                    let check = ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(to_sdk_item(key)))
                        .condition_expression(rendered.0)
                        .set_expression_attribute_names(names_or_none(rendered.1.names))
                        .set_expression_attribute_values(values_or_none(rendered.1.values))
                        .build()
                        .map_err(build_error)?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            });
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(service("TransactWriteItems"))?;
        Ok(())
    }
}

/// A write's condition rewritten onto beacons (`None`: no condition to send). The stored item's
/// beacon partition is unknown, so every partition's form is accepted (OR).
async fn condition_for(
    table: &SearchableTable,
    condition: Option<&Expression>,
) -> Result<Option<RenderedSet>, DynamoDbError> {
    let Some(condition) = condition else { return Ok(None) };
    let translated = table.translate(&condition.parse()?).await?;
    match any_partition(&translated) {
        Some(rewritten) => Ok(Some(render_shared(&[Some(&rewritten)])?)),
        None => Ok(None),
    }
}

/// The rewritten conditions of every partition joined by OR (an item lies in one partition);
/// `None` when some partition needs no condition.
fn any_partition(query: &BeaconQuery) -> Option<Condition> {
    let mut parts = Vec::with_capacity(query.partitions.len());
    for partition in &query.partitions {
        parts.push(partition.clone()?);
    }
    match parts.len() {
        1 => parts.pop(),
        _ => Some(Condition::Or(parts)),
    }
}

/// One page of a Query or Scan: the stored items and the key to continue from, if any.
type Page = (Vec<HashMap<String, SdkValue>>, Option<HashMap<String, SdkValue>>);

/// Follows `LastEvaluatedKey` from the first page to the last, keeping the decrypted items that
/// match `read` on plaintext (beacon collisions are dropped here). Query and Scan differ only in
/// how a page is fetched.
async fn read_every_page(
    config: &SearchableTable,
    read: &BeaconQuery,
    results: &mut Vec<Item>,
    mut fetch_page: impl AsyncFnMut(Option<HashMap<String, SdkValue>>) -> Result<Page, DynamoDbError>,
) -> Result<(), DynamoDbError> {
    let mut start = None;
    loop {
        let (items, last_key) = fetch_page(start.take()).await?;
        for stored in &items {
            if let Some(item) = config.read_matching(read, &from_sdk_item(stored)?).await? {
                results.push(item);
            }
        }
        match last_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(()),
        }
    }
}

/// What [`SearchableTable::read_matching`] checks each returned item against: the plaintext key
/// condition and filter together.
fn reading_query(
    key: &BeaconQuery,
    filter: Option<&BeaconQuery>,
    key_condition: Condition,
    filter_condition: Option<Condition>,
) -> BeaconQuery {
    let original = match filter_condition {
        Some(filter) => key_condition.and(filter),
        None => key_condition,
    };
    BeaconQuery {
        original,
        partitions: Vec::new(),
        uses_beacons: key.uses_beacons || filter.is_some_and(|f| f.uses_beacons),
        beacon_key_id: key.beacon_key_id.clone().or_else(|| filter.and_then(|f| f.beacon_key_id.clone())),
    }
}

/// A scan without a filter: every item, nothing to re-check.
fn no_condition() -> BeaconQuery {
    BeaconQuery { original: Condition::And(vec![]), partitions: vec![None], uses_beacons: false, beacon_key_id: None }
}

/// DynamoDB refuses empty placeholder maps: send none instead.
fn names_or_none(names: HashMap<String, String>) -> Option<HashMap<String, String>> {
    (!names.is_empty()).then_some(names)
}

fn values_or_none(values: HashMap<String, AttributeValue>) -> Option<HashMap<String, SdkValue>> {
    (!values.is_empty()).then(|| values.iter().map(|(k, v)| (k.clone(), to_sdk_value(v))).collect())
}

/// Waits before retrying unprocessed batch requests: 50 ms doubling, at most 1.6 s.
async fn backoff(attempt: usize) {
    let millis = 50u64 << attempt.min(5);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
