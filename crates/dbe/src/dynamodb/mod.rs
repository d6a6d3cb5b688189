//! The DynamoDB side of envelope-dbe (feature `dynamodb`, on by default): conversions between
//! envelope's attribute model and aws-sdk-dynamodb's.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/dynamodb-encryption-client/`

mod convert;

pub use convert::{from_sdk_item, from_sdk_value, to_sdk_item, to_sdk_value, ConversionError};
