//! The temporary file of a get to a file: written beside its destination, given a name only once
//! its content authenticated.
//!
//! On Linux it is created unnamed (`O_TMPFILE` in the destination's directory, mode 0600): the
//! kernel frees it when the process ends, however it ends (SIGKILL, a crash, power loss), so an
//! interrupted get leaves nothing behind, and no other process can open it by name meanwhile. It
//! is linked in at the end through `/proc/self/fd/N` (`linkat` with `AT_SYMLINK_FOLLOW`, the way
//! open(2) documents): straight to the destination when it must not be replaced (the link fails
//! if the destination exists: check and move in one step), else to a fresh hidden name that is
//! then renamed over the destination. Where `O_TMPFILE` is unsupported (another OS, a filesystem
//! that refuses it, no `/proc`), it is a named hidden file (`.NAME.XXXXXX.envelope-partial`)
//! deleted on every error; a killed process can leave that one behind.

use std::fs::File;
use std::io;
use std::path::Path;

/// Name of the hidden temporary files: `.NAME.XXXXXX.envelope-partial`.
fn builder(name: &str) -> tempfile::Builder<'_, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.suffix(".envelope-partial");
    builder.prefix(name);
    builder
}

/// A temporary file beside its destination, deleted on drop unless [`place`](Self::place)d.
pub(super) struct PartialFile {
    file: File,
    /// `None` when unnamed (dropping the file frees it); else the named file's path, deleted on drop.
    named: Option<tempfile::TempPath>,
    prefix: String,
}

impl PartialFile {
    /// A new empty temporary file in `directory` for the destination file named `name`.
    pub(super) fn create(directory: &Path, name: &str) -> io::Result<PartialFile> {
        let prefix = format!(".{name}.");
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed::create(directory)? {
            return Ok(PartialFile { file, named: None, prefix });
        }
        // tempfile creates it with mode 0600 and deletes it when dropped: on every error.
        let (file, path) = builder(&prefix).tempfile_in(directory)?.into_parts();
        Ok(PartialFile { file, named: Some(path), prefix })
    }

    /// Whether the file has no name (`O_TMPFILE`), so a killed process leaves nothing behind.
    pub(super) fn is_unnamed(&self) -> bool {
        self.named.is_none()
    }

    /// The open file (for writing; its offset is shared with clones).
    pub(super) fn file(&self) -> &File {
        &self.file
    }

    /// Gives the file the name `path` (in the directory it was created in): replacing an existing
    /// file when `overwrite`, else failing with `AlreadyExists` and leaving it alone. On any
    /// error the temporary file is deleted.
    pub(super) fn place(self, path: &Path, overwrite: bool) -> io::Result<()> {
        let PartialFile { file, named, prefix } = self;
        match named {
            Some(temporary) => {
                drop(file);
                let temporary = tempfile::NamedTempFile::from_parts((), temporary);
                let placed = if overwrite { temporary.persist(path) } else { temporary.persist_noclobber(path) };
                placed.map(drop).map_err(|error| error.error)
            }
            #[cfg(target_os = "linux")]
            None => unnamed::place(&file, path, overwrite, &prefix, path.parent().unwrap_or(Path::new("."))),
            #[cfg(not(target_os = "linux"))]
            None => {
                let _ = (file, prefix);
                Err(io::Error::other("an unnamed temporary file off Linux"))
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    /// An unnamed file in `directory`, or `None` where `O_TMPFILE` is unsupported (the caller
    /// falls back to a named file).
    pub(super) fn create(directory: &Path) -> io::Result<Option<File>> {
        // Without /proc the file could never be linked in.
        if !Path::new("/proc/self/fd").is_dir() {
            return Ok(None);
        }
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        match rustix::fs::openat(CWD, directory, flags, Mode::RUSR | Mode::WUSR) {
            Ok(fd) => Ok(Some(File::from(fd))),
            // EOPNOTSUPP: the filesystem has no O_TMPFILE; EISDIR: a kernel before 3.11, which
            // reads the flag as O_DIRECTORY; EINVAL: a kernel or libc that rejects the flags.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => Ok(None),
            Err(errno) => Err(errno.into()),
        }
    }

    /// Links `file` in as `path` (see the module docs).
    pub(super) fn place(file: &File, path: &Path, overwrite: bool, prefix: &str, directory: &Path) -> io::Result<()> {
        let source = format!("/proc/self/fd/{}", file.as_raw_fd());
        let link = |to: &Path| rustix::fs::linkat(CWD, source.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW);
        if !overwrite {
            // EEXIST is AlreadyExists: the destination stays as it was.
            return link(path).map_err(io::Error::from);
        }
        // A link cannot replace a file: link under a fresh hidden name, then rename over the
        // destination (the hidden name is removed if the rename fails).
        let directory = if directory.as_os_str().is_empty() { Path::new(".") } else { directory };
        let linked = super::builder(prefix).make_in(directory, |name| link(name).map_err(io::Error::from))?;
        linked.persist(path).map(drop).map_err(|error| error.error)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_partial_file_is_invisible_until_placed_and_placing_keeps_the_overwrite_rule() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let partial = PartialFile::create(dir.path(), "out.bin").unwrap();
        #[cfg(target_os = "linux")]
        if partial.is_unnamed() {
            assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        }
        partial.file().write_all(b"first").unwrap();
        partial.place(&target, false).unwrap();
        assert_eq!(names(dir.path()), ["out.bin"]);

        // Without overwrite an existing file stays, and nothing else is left.
        let partial = PartialFile::create(dir.path(), "out.bin").unwrap();
        partial.file().write_all(b"second").unwrap();
        let error = partial.place(&target, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&target).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["out.bin"]);

        // With overwrite it is replaced, mode 0600, no hidden name left.
        let partial = PartialFile::create(dir.path(), "out.bin").unwrap();
        partial.file().write_all(b"third").unwrap();
        partial.place(&target, true).unwrap();
        let mut content = Vec::new();
        File::open(&target).unwrap().read_to_end(&mut content).unwrap();
        assert_eq!(content, b"third");
        assert_eq!(names(dir.path()), ["out.bin"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        }

        // Dropped unplaced: gone.
        let partial = PartialFile::create(dir.path(), "other").unwrap();
        partial.file().write_all(b"x").unwrap();
        drop(partial);
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_the_file_is_unnamed_where_the_filesystem_allows_it() {
        let dir = tempfile::tempdir().unwrap();
        let partial = PartialFile::create(dir.path(), "x").unwrap();
        // tmpfs and the usual disk filesystems (ext4, xfs, btrfs) support O_TMPFILE.
        let supported = unnamed::create(dir.path()).unwrap().is_some();
        assert_eq!(partial.is_unnamed(), supported);
        assert!(names(dir.path()).is_empty());
    }
}
