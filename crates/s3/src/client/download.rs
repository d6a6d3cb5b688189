//! Gets to a file: the plaintext decrypted straight into a temporary file beside the
//! destination, moved into place only once the tag verified. One pass over the body (no spool
//! file), and still nothing unauthenticated under the destination's name.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use envelope_partial_file::{Mode, PartialFile};
use tracing::debug;

use super::get::{Counted, Released, TagCheck, pipelined, read_bounded};
use super::{S3EncryptionClient, s3_error};
use crate::error::{Error, Result};
use crate::metadata::ContentMetadata;

/// How [`S3EncryptionClient::get_to_path`] puts the file in place.
///
/// ```
/// use envelope_s3::client::DownloadOptions;
///
/// let options = DownloadOptions::new().overwrite(false).sync(false);
/// assert!(!options.overwrites());
/// ```
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    overwrite: bool,
    sync: bool,
}

impl Default for DownloadOptions {
    fn default() -> DownloadOptions {
        DownloadOptions { overwrite: true, sync: true }
    }
}

impl DownloadOptions {
    /// Replace an existing destination, and flush the file to disk before it is moved into
    /// place.
    ///
    /// ```
    /// assert!(envelope_s3::client::DownloadOptions::new().overwrites());
    /// ```
    pub fn new() -> DownloadOptions {
        DownloadOptions::default()
    }

    /// Whether an existing destination is replaced (`true`, the default, as a rename does) or
    /// the get fails with `AlreadyExists` (checked when the file is moved into place: the check
    /// and the move are one step, a hard link).
    ///
    /// ```
    /// let options = envelope_s3::client::DownloadOptions::new().overwrite(false);
    /// # let _ = options;
    /// ```
    pub fn overwrite(mut self, overwrite: bool) -> DownloadOptions {
        self.overwrite = overwrite;
        self
    }

    /// Whether the file is flushed to disk (fsync) before it is moved into place (`true`, the
    /// default: after a crash the destination holds the whole object or is absent, never an
    /// empty or partial file). `false` saves the flush's time when the caller syncs itself or
    /// does not need durability.
    ///
    /// ```
    /// let options = envelope_s3::client::DownloadOptions::new().sync(false);
    /// # let _ = options;
    /// ```
    pub fn sync(mut self, sync: bool) -> DownloadOptions {
        self.sync = sync;
        self
    }

    /// Whether an existing destination is replaced.
    ///
    /// ```
    /// assert!(envelope_s3::client::DownloadOptions::default().overwrites());
    /// ```
    pub fn overwrites(&self) -> bool {
        self.overwrite
    }
}

/// What a get to a file wrote.
///
/// ```no_run
/// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
/// let download = client.get_to_path("bucket", "backup.tar", "backup.tar", &Default::default(), &Default::default()).await?;
/// println!("{} bytes", download.plaintext_length);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Download {
    /// The object's content metadata.
    pub metadata: ContentMetadata,
    /// Plaintext bytes written.
    pub plaintext_length: u64,
}

impl S3EncryptionClient {
    /// Gets an object into the file at `path`, authenticated before it appears there: the
    /// plaintext is decrypted as it arrives into a temporary file in the same directory
    /// (readable by its owner only), the tag is checked at the end, the file is flushed to disk
    /// ([`DownloadOptions::sync`]) and only then given the name `path`. On any failure (S3, a
    /// wrong key or context, a tampered body) the temporary file is deleted and `path` is
    /// untouched. Memory stays two 1 MiB pieces whatever the size; the body is read once, so
    /// this costs about what a plain get written to a file does.
    ///
    /// On Linux the temporary file is unnamed (`O_TMPFILE`): a process killed during the get
    /// (SIGKILL, a crash) leaves nothing behind. Elsewhere, or on a filesystem without
    /// `O_TMPFILE`, it is a hidden `.NAME.XXXXXX.envelope-partial`, which a killed process can
    /// leave behind (unauthenticated plaintext, owner-only); never the destination.
    ///
    /// ```no_run
    /// use envelope_s3::client::DownloadOptions;
    ///
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let options = DownloadOptions::new().overwrite(false);
    /// client.get_to_path("bucket", "backup.tar", "/restore/backup.tar", &Default::default(), &options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_to_path(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
        encryption_context: &BTreeMap<String, String>,
        options: &DownloadOptions,
    ) -> Result<Download> {
        let path = path.as_ref().to_owned();
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{} does not name a file", path.display())))?
            .to_string_lossy()
            .into_owned();
        // Unnamed where the OS allows (nothing left behind by a killed process), else a hidden
        // named file; mode 0600, deleted on every error below.
        let partial = PartialFile::create(&directory, &name, Mode::Private)?;
        debug!(bucket, key, unnamed = partial.is_unnamed(), "getting an object into a temporary file");
        let file = partial.file().try_clone()?;
        let (file, download) = self.get_into_writer(bucket, key, file, encryption_context).await?;
        let (sync, overwrite) = (options.sync, options.overwrite);
        tokio::task::spawn_blocking(move || {
            if sync {
                file.sync_all()?;
            }
            drop(file);
            partial.place(&path, overwrite)
        })
        .await
        .map_err(|e| Error::internal(format!("the file writer stopped: {e}")))??;
        debug!(bucket, key, bytes = download.plaintext_length, "got an object into a file, verified");
        Ok(download)
    }

    /// Gets an object and decrypts it into `writer` (a file, from its current position) as the
    /// body arrives, in 1 MiB writes on the blocking pool (the decryption of the next piece
    /// beside each write); returns the writer and what was written only once the tag verified.
    ///
    /// **Until this returns `Ok`, what `writer` received is unauthenticated plaintext**, and
    /// after an error it still is: give it a file nobody reads meanwhile (a temporary file),
    /// delete it on error and move it into place only on `Ok`. [`get_to_path`](Self::get_to_path)
    /// does all of that; this is for callers that manage their own temporary files (the
    /// `envelope s3 get` command, which also removes them on Ctrl-C). Nothing is synced.
    ///
    /// ```no_run
    /// # async fn demo(client: envelope_s3::client::S3EncryptionClient) -> envelope_s3::Result<()> {
    /// let temporary = tempfile::NamedTempFile::new_in("/restore")?;
    /// let (_file, download) =
    ///     client.get_into_writer("bucket", "backup.tar", temporary.reopen()?, &Default::default()).await?;
    /// temporary.persist("/restore/backup.tar").map_err(|e| e.error)?; // only after Ok
    /// # let _ = download;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_into_writer<W: Write + Send + 'static>(
        &self,
        bucket: &str,
        key: &str,
        mut writer: W,
        encryption_context: &BTreeMap<String, String>,
    ) -> Result<(W, Download)> {
        let output = self.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("GetObject", e))?;
        let metadata = self.content_metadata(bucket, key, output.metadata()).await?;
        let mut body = Box::pin(output.body.into_async_read());

        // Legacy CBC has no stream form and no tag: read whole, only with the opt-in (checked by decrypt).
        if metadata.suite().is_legacy() {
            let ciphertext = read_bounded(&mut body, self.crypto.buffer_limit()).await?;
            let plaintext =
                zeroize::Zeroizing::new(self.crypto.decrypt(&metadata, ciphertext, encryption_context).await?);
            let length = plaintext.len() as u64;
            let writer = tokio::task::spawn_blocking(move || writer.write_all(&plaintext).map(|()| writer))
                .await
                .map_err(|e| Error::internal(format!("the file writer stopped: {e}")))??;
            return Ok((writer, Download { metadata, plaintext_length: length }));
        }
        let content_key = self.crypto.begin_decrypt(&metadata, encryption_context).await?;
        // Decryption of one piece beside the write of the one before and the download of the next.
        let decrypt = |check: &mut TagCheck, piece: &mut [u8]| check.feed(piece);
        let write = |out: &mut Counted<W>, piece: &mut [u8], released: Released| Ok(released.write_to(piece, out)?);
        let check = TagCheck::new(content_key.decryptor()?);
        let (check, counted) = pipelined(&mut body, (check, decrypt), (Counted { writer, written: 0 }, write)).await?;
        check.finish()?;
        Ok((counted.writer, Download { metadata, plaintext_length: counted.written }))
    }
}
