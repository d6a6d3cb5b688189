//! Synchronous front-end: drives the (async) materials step on a private current-thread runtime,
//! so sync callers never need an executor of their own.

use std::io::{Read, Write};

use crate::client::{Client, DecryptOptions, Decrypted, EncryptOptions};
use crate::error::{Error, Result};
use crate::stream::{DecryptingReader, EncryptingWriter};

/// A [`Client`] for synchronous code.
#[derive(Debug)]
pub struct BlockingClient {
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl BlockingClient {
    /// Wraps a client. Must not be called from inside an async runtime's worker thread.
    pub fn new(client: Client) -> Result<BlockingClient> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::usage(format!("could not start the materials runtime: {error}")))?;
        Ok(BlockingClient { client, runtime })
    }

    /// The wrapped client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Encrypts `plaintext` into one message.
    pub fn encrypt(&self, plaintext: &[u8], options: &EncryptOptions) -> Result<Vec<u8>> {
        self.runtime.block_on(self.client.encrypt(plaintext, options))
    }

    /// Decrypts one message.
    pub fn decrypt(&self, message: &[u8], options: &DecryptOptions) -> Result<Decrypted> {
        self.runtime.block_on(self.client.decrypt(message, options))
    }

    /// Starts a message on `inner`.
    pub fn encrypting_writer<W: Write>(&self, inner: W, options: &EncryptOptions) -> Result<EncryptingWriter<W>> {
        self.runtime.block_on(self.client.encrypting_writer(inner, options))
    }

    /// Reads a header from `inner` and returns a reader of the plaintext.
    pub fn decrypting_reader<R: Read>(&self, inner: R, options: &DecryptOptions) -> Result<DecryptingReader<R>> {
        self.runtime.block_on(self.client.decrypting_reader(inner, options))
    }
}
