//! The message format as bytes: header, body frames and footer. No I/O, no materials.
//!
//! spec: data-format/message.md

pub mod body;
pub mod codec;
pub mod context;
pub mod header;
