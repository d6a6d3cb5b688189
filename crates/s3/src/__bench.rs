//! An entry point for the example s3_bench: the streamed decryption the client's large gets
//! run, timed without S3. Not part of the API.

use std::collections::BTreeMap;

use crate::ObjectCrypto;
use crate::content::TAG_LEN;
use crate::error::{Result, SecurityError};
use crate::metadata::ContentMetadata;

/// Decrypts `body` (ciphertext ‖ tag) in place, `piece` bytes per call of the incremental
/// cipher, then checks the tag; returns the plaintext's length. On any failure the whole
/// buffer is zeroed, so no unauthenticated byte remains.
pub async fn decrypt_streamed_in_place(
    crypto: &ObjectCrypto,
    metadata: &ContentMetadata,
    body: &mut [u8],
    encryption_context: &BTreeMap<String, String>,
    piece: usize,
) -> Result<usize> {
    let key = crypto.begin_decrypt(metadata, encryption_context).await?;
    let outcome = (|| {
        let cut = body.len().checked_sub(TAG_LEN).ok_or(SecurityError::TagMismatch)?;
        let (content, tag) = body.split_at_mut(cut);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| SecurityError::TagMismatch)?;
        let mut decryptor = key.decryptor()?;
        for chunk in content.chunks_mut(piece.max(1)) {
            decryptor.update(chunk)?;
        }
        decryptor.finish(&tag)?;
        Ok(cut)
    })();
    if outcome.is_err() {
        body.fill(0);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrap::AesGcmKeyring;

    #[tokio::test]
    async fn decrypts_a_good_body_and_zeroes_a_forged_one() {
        let crypto = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).unwrap());
        let object = crypto.encrypt(b"some plaintext bytes".to_vec(), &BTreeMap::new()).await.unwrap();
        let mut body = object.body.clone();
        let len = decrypt_streamed_in_place(&crypto, &object.metadata, &mut body, &BTreeMap::new(), 3).await.unwrap();
        assert_eq!(&body[..len], b"some plaintext bytes");
        let mut forged = object.body.clone();
        forged[0] ^= 1;
        assert!(decrypt_streamed_in_place(&crypto, &object.metadata, &mut forged, &BTreeMap::new(), 3).await.is_err());
        assert!(forged.iter().all(|byte| *byte == 0));
    }
}
