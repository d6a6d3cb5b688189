//! Outputs that appear only when complete: written to a temporary file beside the target
//! (unnamed on Linux, see `envelope-partial-file`) and given the target's name on success. A
//! failed or tampered decrypt therefore never leaves plaintext (or half a ciphertext) at the
//! output path; the temporary file is discarded on failure, on an interrupt and, where it is
//! unnamed, when the process is killed.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use envelope_partial_file::{Mode, PartialFile};

/// The temporary files of a run, so that an interrupt (SIGINT, SIGTERM) can discard them before
/// the process exits: not even a partial output survives a Ctrl-C. Each entry is the file's
/// temporary name, or `None` for an unnamed file (the exit frees it).
#[derive(Debug, Clone, Default)]
pub struct PendingFiles(Arc<Mutex<HashMap<u64, Option<PathBuf>>>>);

impl PendingFiles {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Option<PathBuf>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Deletes every temporary file still pending that has a name; returns how many outputs
    /// were pending (the unnamed ones go with the process).
    pub fn remove_all(&self) -> usize {
        let mut pending = self.entries();
        let count = pending.len();
        for path in pending.drain().filter_map(|(_, path)| path) {
            let _ = std::fs::remove_file(path);
        }
        count
    }
}

/// A file being written; [`PendingFile::commit`] puts it in place, dropping it discards it.
#[derive(Debug)]
pub struct PendingFile {
    target: PathBuf,
    partial: PartialFile,
    registered: Registered,
}

/// A pending file's entry in its run's [`PendingFiles`], removed when the file is placed or
/// dropped (the partial file itself deletes or frees its content).
#[derive(Debug)]
struct Registered {
    id: u64,
    registry: PendingFiles,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.entries().remove(&self.id);
    }
}

impl PendingFile {
    /// Creates the temporary file (and the target's directory). `private` files are readable by
    /// their owner only — used for plaintext.
    pub fn create(target: &Path, private: bool, registry: &PendingFiles) -> io::Result<PendingFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&directory)?;
        let name = target.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let mode = if private { Mode::Private } else { Mode::Shared };
        let partial = PartialFile::create(&directory, &name, mode)?;
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        registry.entries().insert(id, partial.temporary_path().map(Path::to_owned));
        let registered = Registered { id, registry: registry.clone() };
        Ok(PendingFile { target: target.to_owned(), partial, registered })
    }

    /// The file to write to.
    pub fn file(&self) -> &File {
        self.partial.file()
    }

    /// Flushes to disk and moves the file into place. Without `overwrite`, fails if the target
    /// appeared meanwhile (the check and the move are one step).
    pub fn commit(self, overwrite: bool) -> io::Result<()> {
        self.partial.file().sync_all()?;
        let PendingFile { target, partial, registered } = self;
        let placed = partial.place(&target, overwrite);
        drop(registered);
        placed.map_err(|error| match error.kind() {
            io::ErrorKind::AlreadyExists => io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already exists; pass --overwrite to replace it", target.display()),
            ),
            _ => error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("envelope-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_at_the_target_until_commit_and_nothing_left_on_drop() {
        let dir = scratch("drop");
        let target = dir.join("out");
        let registry = PendingFiles::default();
        let pending = PendingFile::create(&target, true, &registry).unwrap();
        pending.file().write_all(b"secret").unwrap();
        assert!(!target.exists());
        drop(pending);
        assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
        let pending = PendingFile::create(&target, true, &registry).unwrap();
        pending.file().write_all(b"done").unwrap();
        pending.commit(false).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert_eq!(entries(&dir), vec!["out".to_owned()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(registry.remove_all(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_interrupt_discards_what_is_pending() {
        let dir = scratch("interrupt");
        let registry = PendingFiles::default();
        let first = PendingFile::create(&dir.join("a"), true, &registry).unwrap();
        first.file().write_all(b"partial").unwrap();
        let second = PendingFile::create(&dir.join("b"), true, &registry).unwrap();
        second.commit(false).unwrap();
        assert_eq!(registry.remove_all(), 1);
        // A named temporary file is deleted now; an unnamed one never had a name.
        assert_eq!(entries(&dir), vec!["b".to_owned()]);
        drop(first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn commit_keeps_a_file_that_appeared_unless_overwriting() {
        let dir = scratch("race");
        let target = dir.join("out");
        let registry = PendingFiles::default();
        let pending = PendingFile::create(&target, false, &registry).unwrap();
        pending.file().write_all(b"new").unwrap();
        std::fs::write(&target, b"old").unwrap();
        let error = pending.commit(false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert!(error.to_string().contains("--overwrite"), "{error}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(entries(&dir), vec!["out".to_owned()]);
        let pending = PendingFile::create(&target, false, &registry).unwrap();
        pending.file().write_all(b"new").unwrap();
        pending.commit(true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
