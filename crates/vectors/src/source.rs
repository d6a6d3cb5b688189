//! Where a manifest and the files it names live: a directory on disk or a zip archive.
//!
//! Manifests name their files with URIs such as `file://ciphertexts/abc`, relative to the manifest
//! itself. [`Source`] resolves them the same way whether the manifest sits in a directory or inside
//! a `.zip` (the official vectors ship as zips; we read them in place, without extracting).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The default manifest file name inside a directory or archive.
const MANIFEST_FILE: &str = "manifest.json";

/// A manifest's location, able to read the files its URIs name.
///
/// ```
/// use envelope_vectors::Source;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A directory holding manifest.json and the files it names.
/// let dir = std::env::temp_dir().join(format!("envelope-doc-source-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("plaintexts"))?;
/// std::fs::write(dir.join("manifest.json"), br#"{"manifest": {"type": "awses-decrypt", "version": 2}}"#)?;
/// std::fs::write(dir.join("plaintexts/small"), b"hello")?;
///
/// let source = Source::open(&dir)?;
/// assert!(source.manifest_bytes()?.starts_with(b"{"));
/// assert_eq!(source.read("file://plaintexts/small")?, b"hello");
/// println!("reading {}", source.manifest_name());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Source {
    store: Store,
    /// The manifest's own path, relative to the store's root ('/'-separated).
    manifest: String,
}

#[derive(Debug)]
enum Store {
    Dir(PathBuf),
    Zip { path: PathBuf, archive: Mutex<zip::ZipArchive<File>> },
}

impl Source {
    /// Opens `path`: a manifest file, a directory holding `manifest.json`, or a `.zip` holding one
    /// (at its root or in one top-level folder).
    pub fn open(path: &Path) -> Result<Source> {
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            let manifest = path.join(MANIFEST_FILE);
            if !manifest.is_file() {
                return Err(Error::NoManifest(path.to_path_buf()));
            }
            return Ok(Source { store: Store::Dir(path.to_path_buf()), manifest: MANIFEST_FILE.to_string() });
        }
        if is_zip(path)? {
            return Source::open_zip(path);
        }
        let root = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::NoManifest(path.to_path_buf()))?;
        Ok(Source { store: Store::Dir(root), manifest: name })
    }

    fn open_zip(path: &Path) -> Result<Source> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let archive = zip::ZipArchive::new(file).map_err(|error| Error::Zip { path: path.to_path_buf(), error })?;
        // The shallowest manifest.json wins: the archive root, or a single top-level folder.
        let manifest = archive
            .file_names()
            .filter(|name| *name == MANIFEST_FILE || name.ends_with(&format!("/{MANIFEST_FILE}")))
            .min_by_key(|name| (name.matches('/').count(), name.to_string()))
            .map(str::to_string)
            .ok_or_else(|| Error::NoManifest(path.to_path_buf()))?;
        Ok(Source { store: Store::Zip { path: path.to_path_buf(), archive: Mutex::new(archive) }, manifest })
    }

    /// The manifest's own bytes.
    pub fn manifest_bytes(&self) -> Result<Vec<u8>> {
        self.read_path(&self.manifest.clone(), &self.manifest)
    }

    /// A printable name for the manifest (for error messages).
    pub fn manifest_name(&self) -> String {
        match &self.store {
            Store::Dir(root) => root.join(&self.manifest).display().to_string(),
            Store::Zip { path, .. } => format!("{}!{}", path.display(), self.manifest),
        }
    }

    /// Reads the file a manifest URI names, relative to the manifest.
    pub fn read(&self, uri: &str) -> Result<Vec<u8>> {
        let relative = strip_file_scheme(uri);
        let resolved = if relative.starts_with('/') {
            normalize(relative)
        } else {
            let dir = match self.manifest.rfind('/') {
                Some(i) => &self.manifest[..i],
                None => "",
            };
            normalize(&format!("{dir}/{relative}"))
        };
        self.read_path(&resolved, uri)
    }

    fn read_path(&self, resolved: &str, uri: &str) -> Result<Vec<u8>> {
        match &self.store {
            Store::Dir(root) => {
                let path = if Path::new(strip_file_scheme(uri)).is_absolute() {
                    PathBuf::from(strip_file_scheme(uri))
                } else {
                    root.join(resolved)
                };
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        Err(Error::MissingFile { uri: uri.to_string(), location: root.display().to_string() })
                    }
                    Err(e) => Err(Error::io(path, e)),
                }
            }
            Store::Zip { path, archive } => {
                let mut archive = archive.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let mut entry = match archive.by_name(resolved) {
                    Ok(entry) => entry,
                    Err(zip::result::ZipError::FileNotFound) => {
                        return Err(Error::MissingFile { uri: uri.to_string(), location: path.display().to_string() });
                    }
                    Err(error) => return Err(Error::Zip { path: path.clone(), error }),
                };
                let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                entry.read_to_end(&mut bytes).map_err(|e| Error::io(path.join(resolved), e))?;
                Ok(bytes)
            }
        }
    }
}

/// `file://x` → `x`; anything else is taken as a relative path already.
fn strip_file_scheme(uri: &str) -> &str {
    uri.strip_prefix("file://").unwrap_or(uri)
}

/// Resolves `.` and `..` segments of a '/'-separated path, without leaving the root.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn is_zip(path: &Path) -> Result<bool> {
    if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("zip")) {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(&magic == b"PK\x03\x04"),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(normalize("/a/./b/../c"), "a/c");
        assert_eq!(normalize("../../x"), "x");
        assert_eq!(normalize("dir/ciphertexts/t1"), "dir/ciphertexts/t1");
    }

    #[test]
    fn file_scheme_is_optional() {
        assert_eq!(strip_file_scheme("file://keys.json"), "keys.json");
        assert_eq!(strip_file_scheme("keys.json"), "keys.json");
    }
}
