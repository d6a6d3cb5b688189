//! Raw wrapping keys from files: AES keys as 16/24/32 raw bytes (or that many bytes in base64),
//! RSA keys as PEM or DER. The bytes read are zeroized once the keyring holds the key.

use std::path::Path;

use base64::Engine as _;
use envelope_keyrings::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::exit_code::Failure;

/// What a key file holds.
pub enum KeyMaterial {
    /// An AES key.
    Aes(Zeroizing<Vec<u8>>),
    /// An RSA private key (it can also encrypt, with its public half).
    RsaPrivate(RsaPrivateKey),
    /// An RSA public key (encrypt only).
    RsaPublic(RsaPublicKey),
}

/// Reads and recognizes a key file.
pub fn load(path: &Path) -> Result<KeyMaterial, Failure> {
    let bytes = Zeroizing::new(
        std::fs::read(path)
            .map_err(|error| Failure::files(format!("cannot read the key file {}: {error}", path.display())))?,
    );
    recognize(&bytes).ok_or_else(|| {
        Failure::usage(format!(
            "the key file {} is neither an AES key (16, 24 or 32 bytes, raw or base64) nor an RSA key (PEM or DER)",
            path.display()
        ))
    })
}

fn recognize(bytes: &[u8]) -> Option<KeyMaterial> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.trim_start().starts_with("-----BEGIN") {
            return if text.contains("PRIVATE KEY-----") {
                RsaPrivateKey::from_pem(text).ok().map(KeyMaterial::RsaPrivate)
            } else {
                RsaPublicKey::from_pem(text).ok().map(KeyMaterial::RsaPublic)
            };
        }
    }
    if matches!(bytes.len(), 16 | 24 | 32) {
        return Some(KeyMaterial::Aes(Zeroizing::new(bytes.to_vec())));
    }
    if let Some(key) = base64_aes_key(bytes) {
        return Some(KeyMaterial::Aes(key));
    }
    if let Ok(key) = RsaPrivateKey::from_der(bytes) {
        return Some(KeyMaterial::RsaPrivate(key));
    }
    RsaPublicKey::from_der(bytes).ok().map(KeyMaterial::RsaPublic)
}

fn base64_aes_key(bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let decoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(text).ok()?);
    matches!(decoded.len(), 16 | 24 | 32).then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_each_form() {
        assert!(matches!(recognize(&[7u8; 32]), Some(KeyMaterial::Aes(k)) if k.len() == 32));
        assert!(matches!(recognize(&[7u8; 16]), Some(KeyMaterial::Aes(k)) if k.len() == 16));
        let b64 = format!("{}\n", base64::engine::general_purpose::STANDARD.encode([1u8; 24]));
        assert!(matches!(recognize(b64.as_bytes()), Some(KeyMaterial::Aes(k)) if *k == vec![1u8; 24]));
        let private = RsaPrivateKey::generate(2048).unwrap();
        let der = private.to_pkcs8_der().unwrap();
        assert!(matches!(recognize(&der), Some(KeyMaterial::RsaPrivate(_))));
        let public_der = private.public_key().to_der().unwrap();
        assert!(matches!(recognize(&public_der), Some(KeyMaterial::RsaPublic(_))));
        assert!(recognize(b"this is certainly not a key").is_none());
        assert!(recognize(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_none());
    }
}
