//! The spool file of verified-first gets too large for memory: the ciphertext goes to a private
//! unnamed file while the object's tag is checked, then is decrypted from it as the caller reads.
//!
//! Download pass ([`spool_and_check`]): each 1 MiB piece is written to the file and sealed with a
//! GMAC under a key drawn for this spool file (nonce: the piece's index; the 16-byte tags stay in
//! memory, 16 KiB for a 1 GiB object), then run through the object's AES-GCM tag check: two jobs
//! on the blocking pool, the check of one piece beside the write of the next and the download of
//! the one after. Plaintext never touches the disk.
//!
//! Release pass ([`SpoolReader`]), once the object's tag verified: [`WORKERS`] jobs on the
//! blocking pool read pieces back with positional reads, check each piece's GMAC (so a file
//! changed after the tag check releases nothing of the changed piece) and decrypt it with AES-CTR
//! at its offset (the counter blocks GCM used), each piece independently, so the pass runs on
//! every core while the caller reads. The reader hands the pieces out in order; at most
//! `WORKERS × BUFFERS_PER_WORKER` pieces exist at once, reused, zeroed when dropped.
//!
//! (Re-encrypting the plaintext under the spool's key instead, one AES-GCM pass to release each
//! piece, was measured: the extra encryption during the download cost more than it saved.)

use std::fs::File;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use envelope_gcm_stream::{GcmDecryptor, GcmEncryptor};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;
use tracing::warn;
use zeroize::Zeroizing;

use super::get::{Counted, Piece, SPOOL_CHUNK, TagCheck, pipelined};
use crate::content::TAG_LEN;
use crate::error::{Error, Result, SecurityError};
use crate::object::ContentKey;

/// Jobs of the release pass: two cores' worth (more gains little on the machines measured, and
/// each holds its own pieces).
const WORKERS: u64 = 2;
/// Pieces each release job may hold: one being decrypted, one waiting for the reader.
const BUFFERS_PER_WORKER: usize = 2;

/// Per-piece GMACs of one spool file, under a key drawn for it.
struct SpoolSeal {
    key: Zeroizing<[u8; 32]>,
    tags: Vec<[u8; TAG_LEN]>,
}

impl SpoolSeal {
    fn new() -> Result<SpoolSeal> {
        let mut key = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(key.as_mut())
            .map_err(|_| Error::internal("the system random number generator failed"))?;
        Ok(SpoolSeal { key, tags: Vec::new() })
    }

    /// Piece `index`'s nonce: the index, unique per piece under this spool's key.
    fn nonce(index: u64) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&index.to_be_bytes());
        nonce
    }

    /// Seals the next piece (GMAC: AES-GCM over no plaintext, the piece as associated data).
    fn seal(&mut self, piece: &[u8]) -> Result<()> {
        let gmac = GcmEncryptor::new(&self.key, &Self::nonce(self.tags.len() as u64), piece)
            .and_then(GcmEncryptor::finish)
            .map_err(|error| Error::internal(error.to_string()))?;
        self.tags.push(gmac);
        Ok(())
    }

    /// Checks piece `index` against its seal (in constant time, by aws-lc).
    fn check(&self, index: u64, piece: &[u8]) -> Result<()> {
        let tag =
            usize::try_from(index).ok().and_then(|index| self.tags.get(index)).ok_or(SecurityError::TagMismatch)?;
        let verifier = GcmDecryptor::new(&self.key, &Self::nonce(index), piece)
            .map_err(|error| Error::internal(error.to_string()))?;
        verifier.finish(tag).map_err(|_| {
            warn!(piece = index, "the spool file changed after the object's tag verified");
            Error::from(SecurityError::TagMismatch)
        })
    }
}

/// A spool file whose object's tag verified: the whole body (ciphertext ‖ tag) and its seals.
pub(super) struct Spool {
    file: File,
    length: u64,
    seal: SpoolSeal,
}

/// Downloads `body` into `file` while checking its tag (see the module docs); returns the spool
/// once the tag verified.
pub(super) async fn spool_and_check<R: AsyncRead + Unpin + ?Sized>(
    body: &mut R,
    file: File,
    check: TagCheck,
) -> Result<Spool> {
    // The file and the seals see the ciphertext before the check decrypts it in place.
    let store = |(file, seal): &mut (Counted<File>, SpoolSeal), piece: &mut [u8]| {
        file.write_all(piece)?;
        seal.seal(piece)
    };
    let verify = |check: &mut TagCheck, piece: &mut [u8], ()| check.feed(piece).map(drop);
    let stored = (Counted { writer: file, written: 0 }, SpoolSeal::new()?);
    let ((file, seal), check) = pipelined(body, (stored, store), (check, verify)).await?;
    check.finish()?;
    Ok(Spool { file: file.writer, length: file.written, seal })
}

/// Reads exactly `buffer.len()` bytes at `offset`, leaving the file's position alone.
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buffer.len() {
            let count = std::os::windows::fs::FileExt::seek_read(file, &mut buffer[done..], offset + done as u64)?;
            if count == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += count;
        }
        Ok(())
    }
}

/// What the release jobs share.
struct Release {
    file: File,
    length: u64,
    plaintext_length: u64,
    seal: SpoolSeal,
    key: ContentKey,
}

impl Release {
    /// Reads piece `index` into `piece`, checks its seal and decrypts its plaintext part.
    fn piece(&self, index: u64, piece: &mut Piece) -> Result<()> {
        let start = index * SPOOL_CHUNK as u64;
        let length = (SPOOL_CHUNK as u64).min(self.length - start) as usize;
        piece.resize(length, 0);
        read_at(&self.file, piece, start)?;
        self.seal.check(index, piece)?;
        // The last piece may end with tag bytes, or hold nothing else.
        piece.truncate(self.plaintext_length.saturating_sub(start).min(length as u64) as usize);
        self.key.ctr_in_place_at(start, piece)
    }

    /// One release job: pieces `first`, `first + WORKERS`, ... to `out`, in order, in buffers
    /// that come back through `returned`. Ends after an error, or when the reader is dropped.
    fn run(&self, first: u64, out: mpsc::Sender<Result<Piece>>, returned: std::sync::mpsc::Receiver<Piece>) {
        let pieces = self.length.div_ceil(SPOOL_CHUNK as u64);
        let mut allocated = 0;
        let mut index = first;
        while index < pieces {
            let mut piece = match returned.try_recv() {
                Ok(piece) => piece,
                Err(std::sync::mpsc::TryRecvError::Empty) if allocated < BUFFERS_PER_WORKER => {
                    allocated += 1;
                    Zeroizing::new(Vec::with_capacity(SPOOL_CHUNK))
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => match returned.recv() {
                    Ok(piece) => piece,
                    Err(_) => return,
                },
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
            };
            let outcome = self.piece(index, &mut piece);
            let failed = outcome.is_err();
            if out.blocking_send(outcome.map(|()| piece)).is_err() || failed {
                return;
            }
            index += WORKERS;
        }
    }
}

/// The plaintext of a spooled object whose tag verified (see the module docs).
pub(super) struct SpoolReader {
    pieces: Vec<mpsc::Receiver<Result<Piece>>>,
    returns: Vec<std::sync::mpsc::Sender<Piece>>,
    /// Pieces handed out so far, and in all.
    next: u64,
    count: u64,
    current: Option<Piece>,
    position: usize,
    failed: bool,
}

impl SpoolReader {
    /// Starts the release jobs over `spool` (they read ahead while the caller reads).
    pub(super) fn start(spool: Spool, key: ContentKey) -> SpoolReader {
        let plaintext_length = spool.length.saturating_sub(TAG_LEN as u64);
        let count = spool.length.div_ceil(SPOOL_CHUNK as u64);
        let release =
            Arc::new(Release { file: spool.file, length: spool.length, plaintext_length, seal: spool.seal, key });
        let mut pieces = Vec::new();
        let mut returns = Vec::new();
        for first in 0..WORKERS.min(count) {
            let (out, received) = mpsc::channel(BUFFERS_PER_WORKER - 1);
            let (give_back, returned) = std::sync::mpsc::channel();
            let release = Arc::clone(&release);
            tokio::task::spawn_blocking(move || release.run(first, out, returned));
            pieces.push(received);
            returns.push(give_back);
        }
        SpoolReader { pieces, returns, next: 0, count, current: None, position: 0, failed: false }
    }
}

impl AsyncRead for SpoolReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.failed {
                return Poll::Ready(Err(std::io::Error::other("an earlier read of the spool file failed")));
            }
            if let Some(piece) = &this.current {
                if this.position < piece.len() {
                    let count = out.remaining().min(piece.len() - this.position);
                    out.put_slice(&piece[this.position..this.position + count]);
                    this.position += count;
                    return Poll::Ready(Ok(()));
                }
            }
            if this.next == this.count {
                this.current = None;
                return Poll::Ready(Ok(()));
            }
            let worker = (this.next % WORKERS) as usize;
            let received = ready!(this.pieces[worker].poll_recv(cx));
            // The piece read out goes back to the job that made it (or is zeroed if it ended).
            if let Some(done) = this.current.take() {
                let _ = this.returns[((this.next - 1) % WORKERS) as usize].send(done);
            }
            match received {
                Some(Ok(piece)) => {
                    this.current = Some(piece);
                    this.position = 0;
                    this.next += 1;
                }
                Some(Err(error)) => {
                    this.failed = true;
                    return Poll::Ready(Err(error.into()));
                }
                None => {
                    this.failed = true;
                    return Poll::Ready(Err(Error::internal("a spool reader stopped").into()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::{Seek, SeekFrom};

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::ObjectCrypto;
    use crate::metadata::ContentMetadata;
    use crate::test_support::Trickle;
    use crate::wrap::AesGcmKeyring;

    async fn sealed(len: usize) -> (ObjectCrypto, ContentMetadata, Vec<u8>, Vec<u8>) {
        let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).unwrap());
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let object = crypto.encrypt(plaintext.clone(), &BTreeMap::new()).await.unwrap();
        (crypto, object.metadata, object.body, plaintext)
    }

    async fn spool(crypto: &ObjectCrypto, metadata: &ContentMetadata, body: &[u8], step: usize) -> Result<Spool> {
        let key = crypto.begin_decrypt(metadata, &BTreeMap::new()).await?;
        let mut reader = Trickle { data: body, step };
        spool_and_check(&mut reader, tempfile::tempfile()?, TagCheck::new(key.decryptor()?)).await
    }

    async fn release(crypto: &ObjectCrypto, metadata: &ContentMetadata, spool: Spool) -> std::io::Result<Vec<u8>> {
        let key = crypto.begin_decrypt(metadata, &BTreeMap::new()).await.unwrap();
        let mut reader = SpoolReader::start(spool, key);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_spool_holds_the_exact_ciphertext_and_releases_the_plaintext_at_any_piece_size() {
        for len in [0usize, 1, 15, 16, 17, 31, SPOOL_CHUNK - 16, SPOOL_CHUNK, 2 * SPOOL_CHUNK + 5, 5 * SPOOL_CHUNK + 9]
        {
            let (crypto, metadata, body, plaintext) = sealed(len).await;
            for step in [1usize, 5, 16, 17, 4096, usize::MAX] {
                if step < 16 && len > 4096 {
                    continue;
                }
                let mut spooled = spool(&crypto, &metadata, &body, step).await.unwrap();
                assert_eq!(spooled.length, body.len() as u64);
                assert_eq!(spooled.seal.tags.len(), body.len().div_ceil(SPOOL_CHUNK));
                let mut stored = Vec::new();
                spooled.file.seek(SeekFrom::Start(0)).unwrap();
                std::io::Read::read_to_end(&mut spooled.file, &mut stored).unwrap();
                assert_eq!(stored, body, "len {len} step {step}");
                let released = release(&crypto, &metadata, spooled).await.unwrap();
                assert!(released == plaintext, "len {len} step {step}");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flipped_bit_anywhere_or_a_short_body_fails_the_spool_check() {
        let (crypto, metadata, body, _) = sealed(SPOOL_CHUNK + 100).await;
        for at in [0, SPOOL_CHUNK - 1, SPOOL_CHUNK, body.len() - 17, body.len() - 16, body.len() - 1] {
            let mut forged = body.clone();
            forged[at] ^= 1;
            for step in [7usize, usize::MAX] {
                let error = spool(&crypto, &metadata, &forged, step).await.err().unwrap();
                assert!(matches!(error, Error::Security(SecurityError::TagMismatch)), "at {at}: {error:?}");
            }
        }
        for cut in [0, 10, 16, body.len() - 1] {
            let error = spool(&crypto, &metadata, &body[..cut], usize::MAX).await.err().unwrap();
            assert!(matches!(error, Error::Security(SecurityError::TagMismatch)), "cut {cut}: {error:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_spool_file_changed_after_the_check_releases_nothing_of_the_changed_piece() {
        let (crypto, metadata, body, plaintext) = sealed(4 * SPOOL_CHUNK + 3).await;
        for at in [0, SPOOL_CHUNK + 5, 3 * SPOOL_CHUNK, body.len() - 1] {
            let mut spooled = spool(&crypto, &metadata, &body, usize::MAX).await.unwrap();
            let mut byte = [0u8];
            read_at(&spooled.file, &mut byte, at as u64).unwrap();
            spooled.file.seek(SeekFrom::Start(at as u64)).unwrap();
            spooled.file.write_all(&[byte[0] ^ 1]).unwrap();
            let key = crypto.begin_decrypt(&metadata, &BTreeMap::new()).await.unwrap();
            let mut reader = SpoolReader::start(spooled, key);
            let mut out = Vec::new();
            let error = reader.read_to_end(&mut out).await.unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "at {at}");
            // Only the pieces before the changed one were released, and they are genuine.
            assert_eq!(out.len(), at / SPOOL_CHUNK * SPOOL_CHUNK, "at {at}");
            assert!(out[..] == plaintext[..out.len()], "at {at}");
            assert!(reader.read(&mut [0; 8]).await.is_err(), "stays failed");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_reader_early_stops_the_release_jobs() {
        let (crypto, metadata, body, plaintext) = sealed(9 * SPOOL_CHUNK).await;
        let spooled = spool(&crypto, &metadata, &body, usize::MAX).await.unwrap();
        let key = crypto.begin_decrypt(&metadata, &BTreeMap::new()).await.unwrap();
        let mut reader = SpoolReader::start(spooled, key);
        let mut first = vec![0u8; 10];
        reader.read_exact(&mut first).await.unwrap();
        assert_eq!(first, plaintext[..10]);
        drop(reader);
        // The jobs notice on their next send or buffer wait; the runtime's shutdown would hang
        // on a job blocked forever.
    }
}
