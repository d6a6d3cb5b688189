//! Files and directories only their owner can use, created so that concurrent processes never
//! see a half-written file or replace each other's.
//!
//! The data directory holds the root key, the sealed key material and the owner credential, so
//! it is kept at 0700 and its files at 0600. A directory or file that exists with group or other
//! permissions is narrowed (with a warning) rather than refused, so directories made by `mkdir`
//! under a permissive umask keep working; one the process cannot narrow (owned by another user)
//! is refused.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::ids;

#[cfg(unix)]
fn narrow(path: &Path, meta: &std::fs::Metadata, private: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(private)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} is accessible to other users (mode {mode:o}) and could not be made private: {e}",
                path.display()
            ),
        )
    })?;
    tracing::warn!("{} was accessible to other users (mode {mode:o}); narrowed to {private:o}", path.display());
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_path: &Path, _meta: &std::fs::Metadata, _private: u32) -> io::Result<()> {
    Ok(())
}

/// Creates `dir` (and missing parents) with mode 0700, or narrows an existing one to 0700.
pub(crate) fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a directory", dir.display())));
    }
    narrow(dir, &meta, 0o700)
}

/// Creates `path` empty with mode 0600 if missing (never truncating), else narrows it to 0600.
pub(crate) fn create_or_narrow_file(path: &Path) -> io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    narrow(path, &file.metadata()?, 0o600)
}

/// Narrows `path` to 0600 if it exists.
pub(crate) fn narrow_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => narrow(path, &meta, 0o600),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads a private file, narrowing it to 0600 first if it has drifted.
pub(crate) fn read_private(path: &Path) -> io::Result<Vec<u8>> {
    narrow_if_exists(path)?;
    std::fs::read(path)
}

/// Makes `path` hold `bytes` unless it exists already; returns whether this call created it.
///
/// The bytes go to a fresh temporary file (0600, fsynced) that is then hard-linked to `path`:
/// the link appears atomically with the whole content, and fails if `path` exists, so of two
/// processes racing on an empty directory exactly one wins and the other reads the winner's
/// file, never a partial one. The directory is fsynced so the new name survives a crash.
pub(crate) fn create_once(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", ids::new_hex_id()));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Fsyncs a directory so entries created in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kms-private-{}", ids::new_hex_id()));
        ensure_private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn create_once_keeps_the_first_content() {
        let dir = scratch();
        let path = dir.join("f");
        assert!(create_once(&path, b"first").unwrap());
        assert!(!create_once(&path, b"second").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn racing_creators_agree_on_one_content() {
        let dir = scratch();
        let path = dir.join("f");
        let winners: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = path.clone();
                    s.spawn(move || create_once(&path, &[i; 32]).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(winners.iter().filter(|w| **w).count(), 1);
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn existing_open_directory_and_file_are_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let file = dir.join("db");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_or_narrow_file(&file).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"x", "not truncated");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
