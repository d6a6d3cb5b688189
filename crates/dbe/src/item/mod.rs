//! Structured encryption of one database item: each attribute encrypted and signed, signed only,
//! or left alone, as its crypto action says; the header and footer travel as attributes.
//!
//! spec: aws/aws-database-encryption-sdk-dynamodb `specification/structured-encryption/`
