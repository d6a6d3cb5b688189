//! Streaming encryption and decryption.
//!
//! The engine is sans-I/O: [`encryptor::Encryptor`] turns plaintext into header, frames and
//! footer; `header_reader::HeaderReader` takes a header in as it arrives (linear time, not a byte
//! past it); [`decryptor::BodyDecryptor`] turns body bytes back into authenticated plaintext. The
//! front-ends ([`sync`] for `std::io`, [`tokio`](self::async_io) for tokio) only move bytes.
//! Memory stays O(frame length) whatever the message size.

#[cfg(feature = "tokio")]
pub mod async_io;
pub mod decryptor;
pub mod encryptor;
mod header_reader;
mod reader_core;
pub mod sync;

#[cfg(feature = "tokio")]
pub use async_io::{AsyncDecryptingReader, AsyncEncryptingWriter};
pub use sync::{DecryptingReader, EncryptingWriter};
