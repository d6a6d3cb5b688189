//! AES-256-CBC with PKCS #7 padding, decrypt only (legacy objects; the caller opted in).
//!
//! spec: decryption.md#cbc-decryption

use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::metadata::CBC_IV_LEN;

/// Decrypts and unpads a whole CBC body. CBC has no tag: a bad padding is all that can fail.
pub(crate) fn decrypt(data_key: &[u8], iv: &[u8; CBC_IV_LEN], body: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
    let unbound = UnboundCipherKey::new(&AES_256, data_key)
        .map_err(|_| Error::Keyring(format!("a {}-byte data key; AES-256 needs 32", data_key.len())))?;
    let key = PaddedBlockDecryptingKey::cbc_pkcs7(unbound).map_err(|_| Error::internal("AES-CBC key setup failed"))?;
    let mut body = Zeroizing::new(body);
    let len = key
        .decrypt(body.as_mut_slice(), DecryptionContext::Iv128(FixedLength::from(*iv)))
        .map(|plaintext| plaintext.len())
        // Not a security error: CBC proves nothing either way; this only says the bytes are not
        // a CBC body under this key.
        .map_err(|_| Error::malformed("body", "not a whole number of AES blocks with valid padding under this key"))?;
    body.truncate(len);
    Ok(body)
}
