//! The DynamoDB side of envelope-dbe: the encrypted client over aws-sdk-dynamodb (feature
//! `dynamodb`, on by default), the condition-expression language parsed
//! into the search core's [`Condition`](crate::search::Condition) and rendered back onto
//! beacons, and conversions between envelope's attribute model and the SDK's.
//!
//! - `convert`: [`to_sdk_item`] / [`from_sdk_item`] (all ten types, nested).
//! - `expression`: [`Expression`] and [`parse`]: comparisons, BETWEEN, IN, `begins_with`,
//!   `contains`, `attribute_exists` / `attribute_not_exists`, AND / OR / NOT, parentheses and
//!   placeholders; typed [`ExpressionError`]s.
//! - `client`: the encrypted client; a query is parsed, translated by
//!   [`SearchableTable::translate`](crate::search::SearchableTable::translate), rendered with fresh
//!   placeholders over `aws_dbe_b_*` names, and every returned item is decrypted and re-checked
//!   on its plaintext (beacon collisions dropped).
//!
//! Only the expression language builds without the feature (it needs no AWS SDK; the fuzz
//! target uses it that way).
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/dynamodb-encryption-client/`

#[cfg(feature = "dynamodb")]
mod client;
#[cfg(feature = "dynamodb")]
mod convert;
#[cfg(feature = "dynamodb")]
mod error;
mod expression;

#[cfg(feature = "dynamodb")]
pub use client::{BatchWrite, EncryptedDynamoDbClient, QueryRequest, TransactWrite};
#[cfg(feature = "dynamodb")]
pub use convert::{ConversionError, from_sdk_item, from_sdk_value, to_sdk_item, to_sdk_value};
#[cfg(feature = "dynamodb")]
pub use error::DynamoDbError;
pub use expression::{Expression, ExpressionError, MAX_EXPRESSION_LEN, MAX_NESTING, parse};
