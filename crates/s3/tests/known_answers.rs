//! Known-answer objects with the raw AES/GCM wrap, computed independently with the Python
//! `cryptography` package from the format's definitions (s3-encryption/key-derivation.md,
//! content-metadata.md; the AES/GCM wrap as the Java client writes it): key-encryption key
//! 40..5f, data key 00..1f, wrap IV 70..7b, V3 message id a0..bb, V2 content IV 10..1b.

use std::collections::BTreeMap;

use envelope_s3::wrap::AesGcmKeyring;
use envelope_s3::{CommitmentPolicy, ContentMetadata, MetadataLocation, ObjectCrypto};

fn kek() -> Vec<u8> {
    (0x40..0x60).collect()
}

fn metadata(pairs: &[(&str, &str)]) -> ContentMetadata {
    let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    match ContentMetadata::locate(&map).unwrap() {
        MetadataLocation::Object(metadata) => metadata,
        MetadataLocation::InstructionFile(_) => panic!("complete object metadata"),
    }
}

fn reader() -> ObjectCrypto {
    ObjectCrypto::new(AesGcmKeyring::new(kek(), BTreeMap::new()).unwrap())
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

const V3_EDK: &str = "cHFyc3R1dnd4eXp70+S5G5pd4g2jVrFWswkVLtgZc4IEENQt7pSMnjkfy75XfunLbXyib/DJhAmZFhDc";
const V2_EDK: &str = "cHFyc3R1dnd4eXp70+S5G5pd4g2jVrFWswkVLtgZc4IEENQt7pSMnjkfy74xQN7mT/gtA1UpQEZ0LtlY";

#[tokio::test]
async fn v3_aes_gcm_known_answer() {
    let stored = metadata(&[
        ("x-amz-c", "115"),
        ("x-amz-3", V3_EDK),
        ("x-amz-w", "02"),
        ("x-amz-m", "{}"),
        ("x-amz-d", "wUtvX/ATVKEtCCJTI/i7akglmdF4x7w2YL56Ow=="),
        ("x-amz-i", "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6uw=="),
    ]);
    let body = hex::decode("a7c2f55ac743f51ee3b5de6be40cba9722e65c7be9c6a52ccb7b7c3889f1817e6d40d3").unwrap();
    assert_eq!(reader().decrypt(&stored, body, &BTreeMap::new()).await.unwrap(), b"known answer, S3 V3");
}

#[tokio::test]
async fn v2_aes_gcm_known_answer_and_the_wrap_binding() {
    let fields = |edk| {
        metadata(&[
            ("x-amz-key-v2", edk),
            ("x-amz-iv", "EBESExQVFhcYGRob"),
            ("x-amz-matdesc", "{}"),
            ("x-amz-wrap-alg", "AES/GCM"),
            ("x-amz-cek-alg", "AES/GCM/NoPadding"),
            ("x-amz-tag-len", "128"),
        ])
    };
    let body = hex::decode("1690f76127e95bddb9026d6f23593a60f7067cdcd9e8f312c1363f74be89dae3fc0ef9").unwrap();
    let plaintext = reader().decrypt(&fields(V2_EDK), body.clone(), &BTreeMap::new()).await.unwrap();
    assert_eq!(plaintext, b"known answer, S3 V2");
    // The same data key wrapped for V3 (AAD "115") does not open as V2 (AAD "AES/GCM/NoPadding").
    assert!(reader().decrypt(&fields(V3_EDK), body, &BTreeMap::new()).await.is_err());
}
