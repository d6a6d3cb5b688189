//! Test harness shared by the DynamoDB client tests.

pub mod moto;
pub mod query_vectors;
