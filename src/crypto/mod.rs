//! The only place in the message core that touches aws-lc-rs.
//!
//! Each submodule wraps one primitive behind the narrow interface the format needs, so a reviewer
//! can audit every use of key material here.

pub mod aead;
mod background_hash;
pub mod constant_time;
pub mod kdf;
pub mod rand;
pub mod sha512;
pub mod signature;
