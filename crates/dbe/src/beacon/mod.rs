//! Beacons: truncated HMACs of plaintext values, derived from a beacon key, that a database
//! indexes and matches in place of the encrypted values.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/searchable-encryption/`
