//! Errors of the encrypted DynamoDB client.

use super::convert::ConversionError;
use super::expression::ExpressionError;
use crate::search::SearchError;

/// Why an encrypted DynamoDB call failed. Messages name tables, attributes and operations,
/// never plaintext values.
///
/// ```
/// use std::collections::BTreeMap;
/// use envelope_dbe::dynamodb::{DynamoDbError, EncryptedDynamoDbClient};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sdk = aws_sdk_dynamodb::Client::from_conf(
/// #     aws_sdk_dynamodb::Config::builder().behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest()).build());
/// let client = EncryptedDynamoDbClient::new(sdk); // no table registered
/// // Refused before any request: the client has no encryption config for the table.
/// match client.get_item("Customers", &BTreeMap::new()).await {
///     Err(DynamoDbError::UnconfiguredTable(table)) => assert_eq!(table, "Customers"),
///     other => panic!("unexpected: {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum DynamoDbError {
    /// The call names a table the client has no encryption config for.
    #[error("table {0} has no encryption config in this client")]
    UnconfiguredTable(String),
    /// An expression could not be parsed or rendered.
    #[error(transparent)]
    Expression(#[from] ExpressionError),
    /// Encryption, decryption or query translation failed (for example a condition on an
    /// encrypted attribute without a beacon).
    #[error(transparent)]
    Search(#[from] SearchError),
    /// DynamoDB returned a value the attribute model cannot hold.
    #[error(transparent)]
    Conversion(#[from] ConversionError),
    /// The request cannot be made encrypted as given.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// DynamoDB refused or failed the call.
    #[error("DynamoDB {operation} failed: {source}")]
    Service {
        /// The operation, as DynamoDB names it.
        operation: &'static str,
        /// The SDK's error.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// A batch call still had unprocessed requests after its retries.
    #[error("DynamoDB {operation} left {count} requests unprocessed after {attempts} attempts")]
    Unprocessed {
        /// The operation.
        operation: &'static str,
        /// Requests left.
        count: usize,
        /// Attempts made.
        attempts: usize,
    },
}

/// Wraps an SDK error of `operation`.
pub(crate) fn service<E: Into<aws_sdk_dynamodb::Error>>(operation: &'static str) -> impl FnOnce(E) -> DynamoDbError {
    move |error| DynamoDbError::Service { operation, source: Box::new(error.into()) }
}
