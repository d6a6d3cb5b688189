//! Cache ids of the caching materials manager.
//!
//! The formulas every ESDK's caching manager computes, and the Material Providers Library's
//! CachingCMM (spec: framework/caching-cmm.md, version 0.3.0, "Appendix A"):
//!
//! - encrypt, no suite named: `SHA512(SHA512(partition) ‖ 0x00 ‖ SHA512(context))`
//! - encrypt, suite named: `SHA512(SHA512(partition) ‖ 0x01 ‖ suite id ‖ SHA512(context))`
//! - decrypt: `SHA512(SHA512(partition) ‖ suite id ‖ sorted SHA512(edk)… ‖ 64 zero bytes ‖
//!   SHA512(context))`
//!
//! `partition` is the UTF-8 partition name, `context` the serialized encryption context (an empty
//! context is zero bytes), `edk` an EDK serialized as in the message header. The 64 zero bytes
//! end the list of EDK digests, so no list of digests is a prefix of another id's input.
//!
//! Version 0.4.0 of the spec describes SHA-384 ids with resource and scope bytes, a formula no
//! caching materials manager implements (the MPL uses it for the hierarchical keyring only). The
//! ids never leave the process, so the choice is about agreeing with the official suites' known
//! answers, which the tests below check.

use super::materials_cache::CacheId;
use crate::crypto::sha512::{SHA512_LEN, sha512};
use crate::error::Result;
use crate::materials::{EncryptedDataKey, EncryptionContext};
use crate::message::codec::put_u16_prefixed;
use crate::message::context;
use crate::suite::AlgorithmSuite;

/// Ends the sorted EDK digests in a decrypt id.
const END_OF_EDK_DIGESTS: [u8; SHA512_LEN] = [0; SHA512_LEN];

/// SHA-512 of the partition name, computed once per manager.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionDigest([u8; SHA512_LEN]);

impl PartitionDigest {
    pub(crate) fn of(partition_name: &str) -> PartitionDigest {
        PartitionDigest(sha512(&[partition_name.as_bytes()]))
    }
}

/// The id of encryption materials for `context`, with or without a requested suite.
pub(crate) fn for_encryption(
    partition: &PartitionDigest,
    requested_suite: Option<AlgorithmSuite>,
    encryption_context: &EncryptionContext,
) -> Result<CacheId> {
    let context_digest = sha512(&[&context::serialize(encryption_context)?]);
    let id = match requested_suite {
        None => sha512(&[&partition.0, &[0x00], &context_digest]),
        Some(suite) => sha512(&[&partition.0, &[0x01], &suite.id().to_be_bytes(), &context_digest]),
    };
    Ok(CacheId::new(id))
}

/// The id of decryption materials for a message's suite, EDKs and stored context.
pub(crate) fn for_decryption(
    partition: &PartitionDigest,
    suite: AlgorithmSuite,
    encrypted_data_keys: &[EncryptedDataKey],
    encryption_context: &EncryptionContext,
) -> Result<CacheId> {
    let mut edk_digests = encrypted_data_keys.iter().map(edk_digest).collect::<Result<Vec<_>>>()?;
    // Sorted, so the order in which a header lists its EDKs does not change the id.
    edk_digests.sort_unstable();
    let context_digest = sha512(&[&context::serialize(encryption_context)?]);
    let suite_id = suite.id().to_be_bytes();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(edk_digests.len() + 4);
    parts.push(&partition.0);
    parts.push(&suite_id);
    parts.extend(edk_digests.iter().map(|digest| &digest[..]));
    parts.push(&END_OF_EDK_DIGESTS);
    parts.push(&context_digest);
    Ok(CacheId::new(sha512(&parts)))
}

/// SHA-512 of an EDK as the header stores it: provider id, provider info and ciphertext, each
/// after a two-byte length.
fn edk_digest(edk: &EncryptedDataKey) -> Result<[u8; SHA512_LEN]> {
    let mut serialized = Vec::with_capacity(6 + edk.provider_id.len() + edk.provider_info.len() + edk.ciphertext.len());
    put_u16_prefixed(&mut serialized, edk.provider_id.as_bytes(), "provider id")?;
    put_u16_prefixed(&mut serialized, &edk.provider_info, "provider info")?;
    put_u16_prefixed(&mut serialized, &edk.ciphertext, "encrypted data key")?;
    Ok(sha512(&[&serialized]))
}

#[cfg(test)]
mod tests {
    //! Known answers from the AWS Encryption SDK for Python's unit tests of its cache ids
    //! (test/unit/caches/test_caches.py), which the other ESDKs share.

    use base64::Engine as _;

    use super::*;

    const PARTITION: &str = "c15b9079-6d0e-42b6-8784-5e804b025692";

    fn b64(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(text).expect("valid base64 in the test")
    }

    fn full_context() -> EncryptionContext {
        EncryptionContext::from([("this", "is"), ("a", "non-empty"), ("encryption", "context")])
    }

    fn edks() -> [EncryptedDataKey; 2] {
        [
            EncryptedDataKey::new(
                "this is a provider ID",
                b"this is some key info".to_vec(),
                b"super secret key, now with encryption!".to_vec(),
            ),
            EncryptedDataKey::new(
                "another provider ID!",
                b"this is some different key info".to_vec(),
                b"better super secret key, now with encryption!".to_vec(),
            ),
        ]
    }

    #[test]
    fn context_and_edk_digests_match_the_known_answers() {
        let empty = sha512(&[&context::serialize(&EncryptionContext::new()).unwrap()]);
        assert_eq!(
            empty.to_vec(),
            b64("z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
        );
        let full = sha512(&[&context::serialize(&full_context()).unwrap()]);
        assert_eq!(
            full.to_vec(),
            b64("BPo+2YlnLPXnDxikPiNjCAQdS5Mz829EAn69cRSW81y8OIBPpwlyXVO9kqgHveWu50S42UISPN82fw0H5k+BSQ==")
        );
        let [first, second] = edks();
        assert_eq!(
            edk_digest(&first).unwrap().to_vec(),
            b64("TYoFeYuxns/FBlaw4dsRDOv25OCEKuZG9iXt5iEdJ8LU7n5glgkDAVxWUEYC4JKKykJdHkaVpxcDvNqS6UswiQ==")
        );
        assert_eq!(
            edk_digest(&second).unwrap().to_vec(),
            b64("wSrDlPM2ocIj9MAtD94ULSR0Qrt1muBovBDRL+DsSTNphJEM3CZ/h3OyvYL8BR2EIXx0m7GYwv8dGtyZL2D87w==")
        );
    }

    #[test]
    fn encryption_ids_match_the_known_answers() {
        let partition = PartitionDigest::of(PARTITION);
        let signed = Some(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384);
        let cases = [
            (
                None,
                EncryptionContext::new(),
                "rkrFAso1YyPbOJbmwVMjrPw+wwLJT7xusn8tA8zMe9e3+OqbtfDueB7bvoKLU3fsmdUvZ6eMt7mBp1ThMMB25Q==",
            ),
            (
                signed,
                EncryptionContext::new(),
                "3icBIkLK4V3fVwbm3zSxUdUQV6ZvZYUOLl8buN36g6gDMqAkghcGryxX7QiVABkW1JhB6GRp5z+bzbiuciBcKQ==",
            ),
            (
                None,
                full_context(),
                "IHiUHYOUVUEFTc3BcZPJDlsWct2Qy1A7JdfQl9sQoV/ILIbRpoz9q7RtGd/MlibaGl5ihE66cN8ygM8A5rtYbg==",
            ),
            (
                signed,
                full_context(),
                "mRNK7qhTb/kJiiyGPgAevp0gwFRcET4KeeNYwZHhoEDvSUzQiDgl8Of+YRDaVzKxAqpNBgcAuFXde9JlaRRsmw==",
            ),
        ];
        for (suite, context, expected) in cases {
            let id = for_encryption(&partition, suite, &context).unwrap();
            assert_eq!(id.as_bytes().to_vec(), b64(expected), "suite {suite:?}, context {context:?}");
        }
    }

    #[test]
    fn decryption_ids_match_the_known_answers_whatever_the_edk_order() {
        let partition = PartitionDigest::of(PARTITION);
        let [first, second] = edks();
        let id = for_decryption(
            &partition,
            AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256,
            std::slice::from_ref(&first),
            &EncryptionContext::new(),
        )
        .unwrap();
        assert_eq!(
            id.as_bytes().to_vec(),
            b64("n0zVzk9QIVxhz6ET+aJIKKOJNxtpGtSe1yAbu7WU5l272Iw/jmhlER4psDHJs9Mr8KYiIvLGSXzggNDCc23+9w==")
        );
        let expected = b64("+rtwUe38CGnczGmYu12iqGWHIyDyZ44EvYQ4S6ACmsgS8VaEpiw0RTGpDk6Z/7YYN/jVHOAcNKDyCNP8EmstFg==");
        let suite = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384;
        for order in [[first.clone(), second.clone()], [second, first]] {
            let id = for_decryption(&partition, suite, &order, &full_context()).unwrap();
            assert_eq!(id.as_bytes().to_vec(), expected);
        }
    }

    #[test]
    fn the_partition_separates_ids() {
        let context = full_context();
        let a = for_encryption(&PartitionDigest::of("a"), None, &context).unwrap();
        let b = for_encryption(&PartitionDigest::of("b"), None, &context).unwrap();
        assert_ne!(a, b);
    }
}
