//! Output files that get their name only once complete.
//!
//! A [`PartialFile`] is written beside its destination and given the destination's name only by
//! [`PartialFile::place`], after the caller decided the content is good (a tag verified, a
//! signature checked, a ciphertext finished). Until then nobody can open it by its final name, and
//! a failure leaves nothing behind.
//!
//! On Linux it is created unnamed (`O_TMPFILE` in the destination's directory): the kernel frees
//! it when the process ends, however it ends (SIGKILL, a crash, power loss), so an interrupted
//! write leaves nothing, and no other process can open it by name meanwhile. It is linked in at
//! the end through `/proc/self/fd/N` (`linkat` with `AT_SYMLINK_FOLLOW`, the way open(2)
//! documents): straight to the destination when it must not be replaced (the link fails if the
//! destination exists: check and move in one step), else to a fresh hidden name that is then
//! renamed over the destination. Where `O_TMPFILE` is unsupported (another OS, a filesystem that
//! refuses it, no `/proc`), it is a named hidden file (`.NAME.XXXXXX.envelope-partial`) deleted on
//! drop; a killed process can leave that one behind.
//!
//! ```
//! use std::io::Write;
//! use envelope_partial_file::{Mode, PartialFile};
//!
//! let dir = tempfile::tempdir()?;
//! let partial = PartialFile::create(dir.path(), "report.csv", Mode::Private)?;
//! partial.file().write_all(b"a,b\n")?;
//! partial.place(&dir.path().join("report.csv"), false)?;
//! assert_eq!(std::fs::read(dir.path().join("report.csv"))?, b"a,b\n");
//! # Ok::<(), std::io::Error>(())
//! ```

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

/// Who may read a placed file (on Unix; elsewhere the platform's default).
///
/// ```
/// use envelope_partial_file::Mode;
///
/// assert_ne!(Mode::Private, Mode::Shared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0600: the owner only (plaintext).
    Private,
    /// 0666 less the process's umask, as a newly created file gets (ciphertext).
    Shared,
}

impl Mode {
    #[cfg(unix)]
    fn bits(self) -> u32 {
        match self {
            Mode::Private => 0o600,
            Mode::Shared => 0o666,
        }
    }
}

/// A temporary file beside its destination, deleted on drop unless [`place`](Self::place)d.
///
/// ```
/// use envelope_partial_file::{Mode, PartialFile};
///
/// let dir = tempfile::tempdir()?;
/// let partial = PartialFile::create(dir.path(), "out.bin", Mode::Shared)?;
/// drop(partial); // never placed: nothing is left in `dir`
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PartialFile {
    file: File,
    /// `None` when unnamed (dropping the file frees it); else the named file's path, deleted on drop.
    named: Option<tempfile::TempPath>,
    prefix: String,
}

impl PartialFile {
    /// A new empty temporary file in `directory` for the destination file named `name`, with the
    /// permissions `mode` gives.
    ///
    /// ```
    /// use envelope_partial_file::{Mode, PartialFile};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let partial = PartialFile::create(dir.path(), "secret.txt", Mode::Private)?;
    /// # let _ = partial;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(directory: &Path, name: &str, mode: Mode) -> io::Result<PartialFile> {
        let prefix = format!(".{name}.");
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed::create(directory, mode)? {
            return Ok(PartialFile { file, named: None, prefix });
        }
        // tempfile deletes it when dropped: on every error.
        let mut builder = builder(&prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode.bits()));
        #[cfg(not(unix))]
        let _ = mode;
        let (file, path) = builder.tempfile_in(directory)?.into_parts();
        Ok(PartialFile { file, named: Some(path), prefix })
    }

    /// Whether the file has no name (`O_TMPFILE`), so a killed process leaves nothing behind.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let partial = envelope_partial_file::PartialFile::create(dir.path(), "x", envelope_partial_file::Mode::Private)?;
    /// if !partial.is_unnamed() {
    ///     eprintln!("a killed process may leave a hidden partial file behind");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_unnamed(&self) -> bool {
        self.named.is_none()
    }

    /// The temporary name when the file has one (the fallback where `O_TMPFILE` is unsupported):
    /// what a signal handler must delete before the process exits, since `Drop` does not run
    /// then. `None` for an unnamed file, which the exit frees.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let partial = envelope_partial_file::PartialFile::create(dir.path(), "x", envelope_partial_file::Mode::Private)?;
    /// if let Some(path) = partial.temporary_path() {
    ///     assert!(path.starts_with(dir.path()));
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn temporary_path(&self) -> Option<&Path> {
        self.named.as_deref()
    }

    /// The open file (for writing; its offset is shared with clones).
    ///
    /// ```
    /// use std::io::Write;
    /// # let dir = tempfile::tempdir()?;
    /// # let partial = envelope_partial_file::PartialFile::create(dir.path(), "x", envelope_partial_file::Mode::Private)?;
    /// partial.file().write_all(b"bytes")?;
    /// let writer = partial.file().try_clone()?; // for a job on another thread
    /// # drop(writer);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Gives the file the name `path` (in the directory it was created in): replacing an existing
    /// file when `overwrite`, else failing with `AlreadyExists` and leaving it alone. On any
    /// error the temporary file is deleted. Nothing is synced: call `file().sync_all()` first
    /// when the content must be on disk before the name is.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let target = dir.path().join("x");
    /// # std::fs::write(&target, b"old")?;
    /// # let partial = envelope_partial_file::PartialFile::create(dir.path(), "x", envelope_partial_file::Mode::Private)?;
    /// partial.file().sync_all()?;
    /// match partial.place(&target, false) {
    ///     Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => eprintln!("kept the existing file"),
    ///     other => other?,
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn place(self, path: &Path, overwrite: bool) -> io::Result<()> {
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
    pub(super) fn create(directory: &Path, mode: super::Mode) -> io::Result<Option<File>> {
        // Without /proc the file could never be linked in.
        if !Path::new("/proc/self/fd").is_dir() {
            return Ok(None);
        }
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        // The umask applies, as to any created file.
        match rustix::fs::openat(CWD, directory, flags, Mode::from_bits_truncate(mode.bits())) {
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
        let partial = PartialFile::create(dir.path(), "out.bin", Mode::Private).unwrap();
        #[cfg(target_os = "linux")]
        if partial.is_unnamed() {
            assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        }
        partial.file().write_all(b"first").unwrap();
        partial.place(&target, false).unwrap();
        assert_eq!(names(dir.path()), ["out.bin"]);

        // Without overwrite an existing file stays, and nothing else is left.
        let partial = PartialFile::create(dir.path(), "out.bin", Mode::Private).unwrap();
        partial.file().write_all(b"second").unwrap();
        let error = partial.place(&target, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&target).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["out.bin"]);

        // With overwrite it is replaced, mode 0600, no hidden name left.
        let partial = PartialFile::create(dir.path(), "out.bin", Mode::Private).unwrap();
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
        let partial = PartialFile::create(dir.path(), "other", Mode::Private).unwrap();
        partial.file().write_all(b"x").unwrap();
        drop(partial);
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_the_file_is_unnamed_where_the_filesystem_allows_it() {
        let dir = tempfile::tempdir().unwrap();
        let partial = PartialFile::create(dir.path(), "x", Mode::Private).unwrap();
        // tmpfs and the usual disk filesystems (ext4, xfs, btrfs) support O_TMPFILE.
        let supported = unnamed::create(dir.path(), Mode::Private).unwrap().is_some();
        assert_eq!(partial.is_unnamed(), supported);
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_file_gets_the_usual_permissions_and_a_private_one_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (mode, name) in [(Mode::Shared, "shared"), (Mode::Private, "private")] {
            let partial = PartialFile::create(dir.path(), name, mode).unwrap();
            partial.place(&dir.path().join(name), false).unwrap();
        }
        let bits = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(bits("private"), 0o600);
        // 0666 less the umask: at least the owner's read and write, never anyone's execute.
        assert_eq!(bits("shared") & 0o600, 0o600);
        assert_eq!(bits("shared") & 0o111, 0);
    }
}
