//! Header authentication, both ways: the tag a writer puts on a header, and the checks a reader
//! makes before it trusts one (key commitment, then the tag), which mint the
//! [`HeaderAuthenticated`] proof a body decryptor needs.
//!
//! spec: data-format/message-header.md#header-authentication, client-apis/decrypt.md

use crate::crypto::aead::{AesGcmKey, IV_LEN, TAG_LEN};
use crate::crypto::constant_time;
use crate::crypto::kdf::{self, V1Info};
use crate::error::{AuthenticationFailure, Error, Result};
use crate::materials::DecryptionMaterials;
use crate::message::context;
use crate::message::header::ParsedHeader;
use crate::suite::{KeyDerivation, MessageFormat};

/// Proof that a header authenticated under the key in hand. Only [`authenticate_header`] makes
/// one, and a body decryptor cannot be built without it.
#[derive(Debug)]
pub(crate) struct HeaderAuthenticated(());

/// The header tag a writer appends: AES-GCM over no plaintext, with the header body and the
/// serialized required-context pairs (authenticated, not stored) as AAD.
pub(crate) fn seal_header(
    key: &AesGcmKey,
    header_body: &[u8],
    required_context: &[u8],
) -> Result<([u8; IV_LEN], [u8; TAG_LEN])> {
    let iv = [0u8; IV_LEN];
    let aad = header_aad(header_body, required_context, &[]);
    let tag = key.seal_in_place(&iv, &aad, &mut [])?;
    Ok((iv, tag))
}

fn header_aad(header_body: &[u8], required_context: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header_body.len() + required_context.len() + extra.len());
    aad.extend_from_slice(header_body);
    aad.extend_from_slice(required_context);
    aad.extend_from_slice(extra);
    aad
}

/// Checks key commitment and the header tag, then returns the content key and the proof.
///
/// With `net_v4_0_0_retry`, a header that fails standard authentication is tried again with the
/// derivation .NET ESDK 4.0.0 used (v1 info without the message id; `00 00` appended to the AAD
/// when no required context exists), as AWS's own readers do.
pub(crate) fn authenticate_header(
    parsed: &ParsedHeader,
    materials: &DecryptionMaterials,
    net_v4_0_0_retry: bool,
) -> Result<(AesGcmKey, HeaderAuthenticated)> {
    let header = &parsed.header;
    let suite = header.suite;
    let data_key = materials.data_key().ok_or_else(|| Error::usage("decryption materials hold no data key"))?;
    let required =
        context::serialize_subset(materials.encryption_context(), materials.required_encryption_context_keys())?;
    let attempt = |info: V1Info, extra_aad: &[u8]| -> Result<Option<AesGcmKey>> {
        let derived = kdf::derive(suite, data_key.expose_secret(), &header.message_id, info)?;
        match (derived.commitment, header.commitment) {
            (Some(expected), Some(found)) => {
                // spec: client-apis/decrypt.md — compare the commitment, in constant time, before
                // the derived key is used for anything.
                if !constant_time::eq(&expected, &found) {
                    return Err(AuthenticationFailure::KeyCommitment.into());
                }
            }
            (None, None) => {}
            // A committing suite whose header holds no commitment (or the reverse) never comes out
            // of the parser; whatever built it, the check must fail closed, never be skipped.
            _ => return Err(AuthenticationFailure::KeyCommitment.into()),
        }
        let key = AesGcmKey::new(&derived.encryption_key)?;
        let aad = header_aad(&parsed.body_bytes, &required, extra_aad);
        match key.open_in_place(&parsed.auth_iv, &aad, &mut [], &parsed.auth_tag) {
            Ok(()) => Ok(Some(key)),
            Err(_) => Ok(None),
        }
    };
    if let Some(key) = attempt(V1Info::Standard, &[])? {
        return Ok((key, HeaderAuthenticated(())));
    }
    if net_v4_0_0_retry {
        let info = match (suite.message_format(), suite.key_derivation()) {
            (MessageFormat::V1, KeyDerivation::HkdfSha256 | KeyDerivation::HkdfSha384) => V1Info::NetV400,
            _ => V1Info::Standard,
        };
        let extra: &[u8] = if required.is_empty() { &[0, 0] } else { &[] };
        if let Some(key) = attempt(info, extra)? {
            tracing::debug!("header authenticated with the .NET ESDK 4.0.0 derivation");
            return Ok((key, HeaderAuthenticated(())));
        }
    }
    Err(AuthenticationFailure::HeaderTag.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::materials::{DataKey, EncryptedDataKey, EncryptionContext};
    use crate::message::header::{self, ContentType, Header, ParseLimits};
    use crate::suite::AlgorithmSuite;

    /// A header of `suite` sealed under `data_key`, as a writer makes it, parsed back.
    fn sealed_header(suite: AlgorithmSuite, data_key: &[u8]) -> ParsedHeader {
        let message_id = vec![3u8; suite.message_format().message_id_len()];
        let derived = kdf::derive(suite, data_key, &message_id, V1Info::Standard).unwrap();
        let header = Header {
            suite,
            message_id,
            encryption_context: EncryptionContext::new(),
            encrypted_data_keys: vec![EncryptedDataKey::new("p", b"info".to_vec(), vec![1, 2, 3])],
            content_type: ContentType::Framed,
            frame_length: 4096,
            commitment: derived.commitment,
        };
        let key = AesGcmKey::new(&derived.encryption_key).unwrap();
        let mut bytes = header.serialize_body().unwrap();
        let (iv, tag) = seal_header(&key, &bytes, &[]).unwrap();
        header.append_auth(&mut bytes, &iv, &tag);
        header::parse(&bytes, ParseLimits::default()).unwrap()
    }

    fn materials(suite: AlgorithmSuite, data_key: &[u8]) -> DecryptionMaterials {
        let mut materials = DecryptionMaterials::new(suite, EncryptionContext::new(), vec![], None).unwrap();
        materials.set_data_key(DataKey::new(data_key.to_vec())).unwrap();
        materials
    }

    #[test]
    fn a_sealed_header_authenticates_under_its_data_key_only() {
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let parsed = sealed_header(suite, &[7; 32]);
        assert!(authenticate_header(&parsed, &materials(suite, &[7; 32]), false).is_ok());
        let wrong = authenticate_header(&parsed, &materials(suite, &[8; 32]), false).unwrap_err();
        assert!(matches!(wrong, Error::Authentication(AuthenticationFailure::KeyCommitment)), "{wrong}");
    }

    #[test]
    fn a_committing_suite_without_a_commitment_fails_closed() {
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let mut parsed = sealed_header(suite, &[7; 32]);
        // The tag still covers the stored bytes; only the parsed field is gone, as in a header
        // built by hand. Skipping the comparison would let it through.
        parsed.header.commitment = None;
        let refused = authenticate_header(&parsed, &materials(suite, &[7; 32]), true).unwrap_err();
        assert!(matches!(refused, Error::Authentication(AuthenticationFailure::KeyCommitment)), "{refused}");
    }

    #[test]
    fn a_non_committing_suite_with_a_commitment_fails_closed() {
        let suite = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256;
        let mut parsed = sealed_header(suite, &[7; 32]);
        parsed.header.commitment = Some([0; kdf::COMMITMENT_LEN]);
        let refused = authenticate_header(&parsed, &materials(suite, &[7; 32]), true).unwrap_err();
        assert!(matches!(refused, Error::Authentication(AuthenticationFailure::KeyCommitment)), "{refused}");
    }
}
