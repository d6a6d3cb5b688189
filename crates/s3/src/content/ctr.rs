//! Ranged reads: AES-CTR over part of a GCM body (suites 0x0071 and 0x0074), unauthenticated.
//!
//! spec: decryption.md#ranged-gets — a range of a 0x0072 object is read with 0x0071, of a 0x0073
//! object with 0x0074: the same key (the derived content key for 0x0074) and the counter blocks
//! GCM used. GCM keeps counter block J0 = IV ‖ 00000001 for the tag and encrypts plaintext block
//! i with IV ‖ be32(i + 2).

use aws_lc_rs::cipher::{AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const BLOCK: u64 = 16;

/// Decrypts `ciphertext`, the body bytes that start at byte `offset`, without authentication.
pub(crate) fn decrypt_at(key: &[u8], iv: [u8; 12], offset: u64, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let skip = (offset % BLOCK) as usize;
    // The bytes before `offset` in its block only advance the key stream; they are dropped.
    let mut buffer = Zeroizing::new(vec![0u8; skip + ciphertext.len()]);
    buffer[skip..].copy_from_slice(ciphertext);
    decrypt_in_place_at(key, iv, offset - skip as u64, buffer.as_mut_slice())?;
    Ok(Zeroizing::new(buffer[skip..].to_vec()))
}

/// Decrypts `data` in place: the body bytes that start at byte `offset`, which must start a
/// block (16 bytes), without authentication.
pub(crate) fn decrypt_in_place_at(key: &[u8], iv: [u8; 12], offset: u64, data: &mut [u8]) -> Result<()> {
    if !offset.is_multiple_of(BLOCK) {
        return Err(Error::internal("an in-place AES-CTR pass starts inside a block"));
    }
    let first_block = offset / BLOCK;
    let blocks = data.len() as u64 / BLOCK + 1;
    // The 32-bit counter never wraps inside an object GCM can encrypt; a range past that is no
    // part of any object (and aws-lc-rs would carry into the IV bytes).
    let counter = first_block
        .checked_add(2)
        .filter(|counter| counter.saturating_add(blocks) <= u64::from(u32::MAX))
        .ok_or_else(|| Error::Usage(format!("byte {offset} is past the largest AES-GCM object")))?;
    let mut counter_block = [0u8; 16];
    counter_block[..12].copy_from_slice(&iv);
    counter_block[12..].copy_from_slice(&(counter as u32).to_be_bytes());
    let unbound = UnboundCipherKey::new(&AES_256, key)
        .map_err(|_| Error::Keyring(format!("a {}-byte content key; AES-256 needs 32", key.len())))?;
    let key = DecryptingKey::ctr(unbound).map_err(|_| Error::internal("AES-CTR key setup failed"))?;
    key.decrypt(data, DecryptionContext::Iv128(FixedLength::from(counter_block)))
        .map_err(|_| Error::internal("AES-CTR refused to decrypt"))?;
    Ok(())
}
