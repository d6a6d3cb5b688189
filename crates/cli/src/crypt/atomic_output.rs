//! Outputs that appear only when complete: written under a hidden temporary name beside the
//! target and renamed into place on success. A failed or tampered decrypt therefore never leaves
//! plaintext (or half a ciphertext) at the output path; the temporary file is removed on failure.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The temporary files of a run, so that an interrupt (SIGINT, SIGTERM) can remove them before the
/// process exits: not even a partial output survives a Ctrl-C.
#[derive(Debug, Clone, Default)]
pub struct PendingFiles(Arc<Mutex<HashSet<PathBuf>>>);

impl PendingFiles {
    fn insert(&self, path: &Path) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(path.to_owned());
    }

    fn remove(&self, path: &Path) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(path);
    }

    /// Deletes every temporary file still pending; returns how many.
    pub fn remove_all(&self) -> usize {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = pending.len();
        for path in pending.drain() {
            let _ = std::fs::remove_file(path);
        }
        count
    }
}

/// A file being written; [`PendingFile::commit`] puts it in place, dropping it removes it.
#[derive(Debug)]
pub struct PendingFile {
    temporary: PathBuf,
    target: PathBuf,
    file: Option<File>,
    registry: PendingFiles,
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
        let temporary = directory.join(format!(
            ".{name}.{}-{}.envelope-partial",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if private { 0o600 } else { 0o666 });
        }
        #[cfg(not(unix))]
        let _ = private;
        let file = options.open(&temporary)?;
        registry.insert(&temporary);
        Ok(PendingFile { temporary, target: target.to_owned(), file: Some(file), registry: registry.clone() })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        // Invariant: `file` is Some from `create` until `commit`, which consumes `self`.
        self.file.as_mut().expect("the file is open until commit")
    }

    /// Flushes to disk and moves the file into place. Without `overwrite`, fails if the target
    /// appeared meanwhile (a hard link cannot replace a file, so the check and the move are one
    /// step).
    pub fn commit(mut self, overwrite: bool) -> io::Result<()> {
        // Invariant: as in `file`: only `commit` (once, by value) and `drop` take it.
        let file = self.file.take().expect("commit runs once");
        file.sync_all()?;
        drop(file);
        if overwrite {
            std::fs::rename(&self.temporary, &self.target)?;
        } else {
            std::fs::hard_link(&self.temporary, &self.target).map_err(|error| {
                if error.kind() == io::ErrorKind::AlreadyExists {
                    io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} already exists; pass --overwrite to replace it", self.target.display()),
                    )
                } else {
                    error
                }
            })?;
            std::fs::remove_file(&self.temporary)?;
        }
        self.registry.remove(&self.temporary);
        self.temporary = PathBuf::new();
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.temporary.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temporary);
            self.registry.remove(&self.temporary);
        }
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
        let mut pending = PendingFile::create(&target, true, &registry).unwrap();
        pending.file().write_all(b"secret").unwrap();
        assert!(!target.exists());
        drop(pending);
        assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
        let mut pending = PendingFile::create(&target, true, &registry).unwrap();
        pending.file().write_all(b"done").unwrap();
        pending.commit(false).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert_eq!(entries(&dir), vec!["out".to_owned()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_interrupt_removes_what_is_pending() {
        let dir = scratch("interrupt");
        let registry = PendingFiles::default();
        let mut first = PendingFile::create(&dir.join("a"), true, &registry).unwrap();
        first.file().write_all(b"partial").unwrap();
        let second = PendingFile::create(&dir.join("b"), true, &registry).unwrap();
        second.commit(false).unwrap();
        assert_eq!(registry.remove_all(), 1);
        assert_eq!(entries(&dir), vec!["b".to_owned()]);
        drop(first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn commit_keeps_a_file_that_appeared_unless_overwriting() {
        let dir = scratch("race");
        let target = dir.join("out");
        let registry = PendingFiles::default();
        let mut pending = PendingFile::create(&target, false, &registry).unwrap();
        pending.file().write_all(b"new").unwrap();
        std::fs::write(&target, b"old").unwrap();
        let error = pending.commit(false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(entries(&dir), vec!["out".to_owned()]);
        let mut pending = PendingFile::create(&target, false, &registry).unwrap();
        pending.file().write_all(b"new").unwrap();
        pending.commit(true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
