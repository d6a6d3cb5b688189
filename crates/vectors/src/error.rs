//! The one error type of the vectors runner: everything that stops a whole manifest from running.
//!
//! Problems with a single test (a key it cannot reach, a decryption that fails) are not errors:
//! they are outcomes in the [`Report`](crate::Report).

use std::path::PathBuf;

/// Result alias for the vectors runner.
///
/// ```
/// use std::path::Path;
/// use envelope_vectors::Source;
///
/// fn manifest_name(path: &Path) -> envelope_vectors::Result<String> {
///     Ok(Source::open(path)?.manifest_name())
/// }
/// assert!(manifest_name(Path::new("no-such-manifest.json")).is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a manifest could not be run.
///
/// ```
/// use std::path::Path;
/// use envelope_vectors::{Error, RunOptions, run_decrypt_manifest};
///
/// match run_decrypt_manifest(Path::new("no-such-manifest.json"), &RunOptions::default()) {
///     Err(Error::Io { path, error }) => println!("{}: {error}", path.display()),
///     Err(other) => println!("{other}"),
///     Ok(report) => unreachable!("there is no such manifest: {}", report.summary()),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said (in the message, not chained: it would print twice).
        error: std::io::Error,
    },
    /// A zip archive could not be read.
    #[error("{path}: not a readable zip archive: {error}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What the zip reader said.
        error: zip::result::ZipError,
    },
    /// A file named by a manifest is not where the manifest says.
    #[error("{uri}: not found in {location}")]
    MissingFile {
        /// The URI as the manifest wrote it.
        uri: String,
        /// The directory or archive searched.
        location: String,
    },
    /// No `manifest.json` where one was expected.
    #[error(
        "{0}: no manifest.json there; pass a manifest file, a directory holding manifest.json, or a .zip holding one"
    )]
    NoManifest(PathBuf),
    /// A manifest is not valid JSON or lacks a required member.
    #[error("{file}: {message}")]
    Manifest {
        /// Which manifest (its URI or path).
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A manifest of a type or version this runner does not read.
    #[error("{file}: manifest type {kind:?} version {version} is not supported (supported: {supported})")]
    Unsupported {
        /// Which manifest.
        file: String,
        /// Its `manifest.type`.
        kind: String,
        /// Its `manifest.version`.
        version: u64,
        /// What this runner reads.
        supported: &'static str,
    },
    /// AWS KMS keyrings could not be set up.
    #[error("AWS KMS: {0}")]
    Kms(String),
    /// The output directory cannot be used.
    #[error("{path}: {message}")]
    Output {
        /// The directory.
        path: PathBuf,
        /// Why not.
        message: String,
    },
}

impl Error {
    pub(crate) fn manifest(file: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Manifest { file: file.into(), message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), error: source }
    }
}
