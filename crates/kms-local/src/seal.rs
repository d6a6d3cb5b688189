//! Sealing key material at rest under a root key, so the database never holds it in plaintext.
//!
//! The root key is 32 bytes: from `ENVELOPE_KMS_ROOT_KEY` (base64) if set, else from
//! `<data-dir>/root.key`, created with mode 0600 on first start (race-free: concurrent first
//! starts end with one root key, see `private_fs::create_once`). Each sealed value is
//! `nonce(12) ‖ AES-256-GCM(ciphertext ‖ tag)` with AAD naming what it is (key ARN and version),
//! so a sealed value moved to another row does not open.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine;
use zeroize::Zeroizing;

use crate::keys::{Secret, fill_random};

/// The root key's file name in the data directory.
pub(crate) const ROOT_KEY_FILE: &str = "root.key";

/// The environment variable that supplies the root key (base64 of 32 bytes).
pub(crate) const ROOT_KEY_ENV: &str = "ENVELOPE_KMS_ROOT_KEY";

/// The root key, ready to seal and open.
pub(crate) struct RootKey(LessSafeKey);

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey([REDACTED])")
    }
}

/// Why the root key could not be had.
///
/// ```
/// use envelope_kms_local::{Emulator, LaunchError, RootKeyError, Settings};
///
/// let dir = std::env::temp_dir().join(format!("envelope-doc-root-key-{}", std::process::id()));
/// let mut settings = Settings::new(&dir);
/// settings.root_key = Some("too short".into()); // must be base64 of 32 bytes
/// assert!(matches!(Emulator::open(&settings), Err(LaunchError::RootKey(RootKeyError::BadEnv))));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    /// The environment variable is not base64 of 32 bytes.
    #[error("{ROOT_KEY_ENV} must be the base64 encoding of exactly 32 bytes")]
    BadEnv,
    /// The key file has the wrong length.
    #[error("root key file {0} must hold exactly 32 bytes")]
    BadFile(String),
    /// Reading or creating the key file failed.
    #[error("root key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl RootKey {
    /// Loads the root key from the environment or the data directory, creating the file if needed.
    pub(crate) fn load(data_dir: &Path, env_value: Option<String>) -> Result<Self, RootKeyError> {
        if let Some(v) = env_value {
            let bytes = Zeroizing::new(
                base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|_| RootKeyError::BadEnv)?,
            );
            return Self::from_bytes(&bytes).ok_or(RootKeyError::BadEnv);
        }
        let path = data_dir.join(ROOT_KEY_FILE);
        let io = |source| RootKeyError::Io { path: path.display().to_string(), source };
        if !path.exists() {
            // Two processes starting on an empty directory both get here; `create_once` lets
            // exactly one file appear, and both then read it.
            let mut bytes = Zeroizing::new([0u8; 32]);
            fill_random(&mut bytes[..]);
            crate::private_fs::create_once(&path, &bytes[..]).map_err(io)?;
        }
        let bytes = Zeroizing::new(crate::private_fs::read_private(&path).map_err(io)?);
        Self::from_bytes(&bytes).ok_or_else(|| RootKeyError::BadFile(path.display().to_string()))
    }

    /// A root key from raw bytes (tests).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        Some(Self(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).ok()?)))
    }

    /// Seals `secret` for the slot named by `label`.
    pub(crate) fn seal(&self, label: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        fill_random(&mut nonce);
        let mut buf = secret.to_vec();
        // Sealing with a fresh random nonce and a valid key cannot fail for inputs under 64 GiB.
        if self
            .0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(label.as_bytes()), &mut buf)
            .is_err()
        {
            panic!("AES-GCM seal failed");
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        zeroize::Zeroize::zeroize(&mut buf);
        out
    }

    /// Opens a value sealed for `label`; `None` if it was tampered with or belongs elsewhere.
    pub(crate) fn open(&self, label: &str, sealed: &[u8]) -> Option<Secret> {
        if sealed.len() < 12 + 16 {
            return None;
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&sealed[..12]);
        let mut buf = Zeroizing::new(sealed[12..].to_vec());
        let len = self
            .0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(label.as_bytes()), &mut buf)
            .ok()?
            .len();
        buf.truncate(len);
        Some(Secret::new(std::mem::take(&mut *buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_binds_label() {
        let k = RootKey::from_bytes(&[7; 32]).unwrap();
        let s = k.seal("a", b"secret");
        assert_eq!(k.open("a", &s).unwrap().expose(), b"secret");
        assert!(k.open("b", &s).is_none());
    }

    #[test]
    fn concurrent_first_loads_share_one_root_key() {
        let dir = std::env::temp_dir().join(format!("kms-root-race-{}", crate::ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let keys: Vec<RootKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| RootKey::load(&dir, None).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let sealed = keys[0].seal("x", b"y");
        assert!(keys.iter().all(|k| k.open("x", &sealed).is_some()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_file_created_private() {
        let dir = std::env::temp_dir().join(format!("kms-root-{}", crate::ids::new_hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = RootKey::load(&dir, None).unwrap();
        let b = RootKey::load(&dir, None).unwrap();
        let s = a.seal("x", b"y");
        assert!(b.open("x", &s).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("root.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
