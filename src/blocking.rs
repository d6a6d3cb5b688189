//! Synchronous front-end: one-shot calls and `std::io` streams for code that has no executor.
//!
//! The materials step is async only because a keyring *may* call a service. Local keyrings (raw
//! AES, RSA, ECDH) never wait on I/O, so their futures finish the first time they are polled:
//! [`BlockingClient::new`] polls them on the calling thread, with no runtime at all (envelope
//! builds without tokio: `default-features = false`).
//!
//! KMS keyrings need a tokio runtime for their connections. Give the client one with
//! [`BlockingClient::with_runtime`]: every client built over the same handle shares that runtime
//! and whatever connection pools its keyrings' KMS clients hold. A KMS keyring used through a
//! client without a runtime fails with a clear error rather than starting a hidden one: a private
//! runtime per client would own (and, when dropped, break) connections that the KMS clients pool
//! for the whole program, and the house rule is that runtimes are passed in, never global.

use std::future::Future;
use std::io::{Read, Write};

use crate::client::{Client, DecryptOptions, Decrypted, EncryptOptions};
use crate::error::Result;
use crate::stream::{DecryptingReader, EncryptingWriter};

/// A [`Client`] for synchronous code.
///
/// Its methods block the calling thread until the message is written or read; call them from
/// ordinary threads (or `spawn_blocking`), not from inside async code, which should use
/// [`Client`] directly.
///
/// With local keyrings it needs nothing else:
///
/// ```
/// use std::io::{Read, Write};
///
/// use envelope::blocking::BlockingClient;
/// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
/// use envelope_keyrings::RawAesKeyring;
///
/// # fn main() -> envelope::Result<()> {
/// let keyring = RawAesKeyring::new("my-app", "key-2026", vec![7; 32])?;
/// let client = BlockingClient::new(Client::with_keyring(keyring));
/// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
///
/// let message = client.encrypt(b"secret", &options)?;
/// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"secret");
///
/// // Streams hold one frame of plaintext at a time, whatever the message size.
/// let mut writer = client.encrypting_writer(Vec::new(), &options)?;
/// writer.write_all(b"streamed secret")?;
/// let message = writer.finish()?;
/// let mut plaintext = Vec::new();
/// client.decrypting_reader(&message[..], &DecryptOptions::new())?.read_to_end(&mut plaintext)?;
/// assert_eq!(plaintext, b"streamed secret");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BlockingClient {
    client: Client,
    driver: Driver,
}

/// What runs the materials step.
#[derive(Debug, Clone)]
enum Driver {
    /// Poll on the calling thread; enough for keyrings that do no I/O.
    CallingThread,
    /// `Handle::block_on` on a multi-thread runtime the caller owns.
    #[cfg(feature = "tokio")]
    Runtime(tokio::runtime::Handle),
}

impl BlockingClient {
    /// Wraps a client whose keyrings need no runtime (raw AES, RSA, ECDH, or any keyring that
    /// does no I/O). The materials step runs on the calling thread.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// // No runtime anywhere: a raw keyring's materials step finishes on the calling thread.
    /// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let message = client.encrypt(b"secret", &EncryptOptions::new())?;
    /// assert_eq!(client.decrypt(&message, &DecryptOptions::new())?.plaintext, b"secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(client: Client) -> BlockingClient {
        BlockingClient { client, driver: Driver::CallingThread }
    }

    /// Wraps a client whose keyrings call a service (KMS): the materials step runs on `runtime`,
    /// which must be a multi-thread runtime that outlives the client. Build every client of the
    /// program over the same handle so that they share one runtime and one connection pool.
    ///
    /// Fails on a current-thread runtime's handle: nothing would drive its I/O while this
    /// client's caller waits.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::kms::{AwsKmsKeyring, DefaultClientSupplier, KmsClientSupplier};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// let supplier = runtime.block_on(DefaultClientSupplier::from_env());
    /// let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /// let keyring = AwsKmsKeyring::new(key, supplier.client_for_region("us-east-1")?)?;
    ///
    /// let client = BlockingClient::with_runtime(Client::with_keyring(keyring), runtime.handle().clone())?;
    /// let message = client.encrypt(b"hello", &EncryptOptions::new())?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub fn with_runtime(client: Client, runtime: tokio::runtime::Handle) -> Result<BlockingClient> {
        if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
            return Err(crate::Error::usage(
                "BlockingClient::with_runtime needs a multi-thread runtime's handle \
                 (a current-thread runtime's I/O runs only inside its own block_on)",
            ));
        }
        Ok(BlockingClient { client, driver: Driver::Runtime(runtime) })
    }

    /// The wrapped client.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, CommitmentPolicy};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// assert_eq!(client.client().policy(), CommitmentPolicy::RequireEncryptRequireDecrypt);
    /// // The async client for code that has an executor (it shares the materials manager).
    /// let async_client: Client = client.client().clone();
    /// # let _ = async_client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Encrypts `plaintext` into one message.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
    /// let message = client.encrypt(b"secret", &options)?;
    /// assert!(!message.windows(6).any(|window| window == b"secret"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn encrypt(&self, plaintext: &[u8], options: &EncryptOptions) -> Result<Vec<u8>> {
        self.run(self.client.encrypt(plaintext, options))
    }

    /// Decrypts one message. Nothing is returned unless the whole message authenticates.
    ///
    /// ```
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions, EncryptionContext};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> envelope::Result<()> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let message = client.encrypt(b"secret", &EncryptOptions::new().encryption_context(context.clone()))?;
    ///
    /// let decrypted = client.decrypt(&message, &DecryptOptions::new().encryption_context(context))?;
    /// assert_eq!(decrypted.plaintext, b"secret");
    /// assert!(client.decrypt(&message[..message.len() - 1], &DecryptOptions::new()).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn decrypt(&self, message: &[u8], options: &DecryptOptions) -> Result<Decrypted> {
        self.run(self.client.decrypt(message, options))
    }

    /// Starts a message on `inner`. Call [`EncryptingWriter::finish`] when done: a writer dropped
    /// without it leaves a message that every reader rejects.
    ///
    /// ```
    /// use std::io::{self, Write};
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// // Any `Write`: a `File`, a socket, or here a `Vec`.
    /// let mut writer = client.encrypting_writer(Vec::new(), &EncryptOptions::new())?;
    /// let copied = io::copy(&mut &[42u8; 100_000][..], &mut writer)?;
    /// writer.write_all(b"and a trailer")?;
    /// let message: Vec<u8> = writer.finish()?;
    /// assert_eq!(copied, 100_000);
    /// assert!(message.len() > 100_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn encrypting_writer<W: Write>(&self, inner: W, options: &EncryptOptions) -> Result<EncryptingWriter<W>> {
        let started = self.run(self.client.start_message(options, true))?;
        Ok(EncryptingWriter::new(inner, started.encryptor, started.header, started.info))
    }

    /// Reads a header from `inner` and returns a reader of the plaintext. Header reading blocks
    /// on `inner`; only the materials step runs on the driver.
    ///
    /// ```
    /// use std::io::{self, BufRead, BufReader};
    ///
    /// use envelope::blocking::BlockingClient;
    /// use envelope::{Client, DecryptOptions, EncryptOptions};
    /// use envelope_keyrings::RawAesKeyring;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = BlockingClient::new(Client::with_keyring(RawAesKeyring::new("my-app", "key-1", vec![7; 32])?));
    /// let message = client.encrypt(b"line one\nline two\n", &EncryptOptions::new())?;
    ///
    /// // Any `Read`: a `File`, a socket, or here a byte slice.
    /// let reader = client.decrypting_reader(io::Cursor::new(message), &DecryptOptions::new())?;
    /// assert!(reader.info().algorithm_suite.is_signing());
    /// let lines: Vec<String> = BufReader::new(reader).lines().collect::<io::Result<_>>()?;
    /// assert_eq!(lines, ["line one", "line two"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn decrypting_reader<R: Read>(&self, mut inner: R, options: &DecryptOptions) -> Result<DecryptingReader<R>> {
        let (parsed, bytes) = crate::stream::sync::read_header(&mut inner, self.client.parse_limits(options))?;
        let opened = self.run(self.client.open_stream(parsed, bytes, options, true))?;
        Ok(DecryptingReader::new(inner, opened.body, opened.info, opened.leftover))
    }

    /// Drives a materials future to completion on this client's driver.
    fn run<F: Future>(&self, future: F) -> F::Output {
        match &self.driver {
            Driver::CallingThread => pollster::block_on(future),
            #[cfg(feature = "tokio")]
            Driver::Runtime(handle) => handle.block_on(future),
        }
    }
}
