//! One module per top-level subcommand; each exposes its clap arguments and a `run` function.

pub mod db;
pub mod keystore;
pub mod kms;
mod kms_api;
pub mod quickstart;
mod quickstart_hierarchy;
pub mod s3;
pub mod speed;
pub mod vectors;
pub mod vectors_dbe;
