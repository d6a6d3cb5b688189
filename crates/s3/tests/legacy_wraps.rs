//! Legacy wrapping algorithms (read only, behind `legacy_wrapping_algorithms(true)`): objects
//! built here the way the old clients wrote them, from a real V2 object whose wrapped key is
//! replaced by the legacy wrap of the same data key.

use std::collections::BTreeMap;

use aws_lc_rs::key_wrap::{AES_256, KeyEncryptionKey, KeyWrap as _};
use base64::Engine as _;
use envelope_keyrings::RsaPrivateKey;
use envelope_s3::error::{Error, PolicyViolation};
use envelope_s3::wrap::{AesGcmKeyring, RsaOaepKeyring, S3Keyring, UnwrapRequest};
use envelope_s3::{CommitmentPolicy, ContentMetadata, MetadataLocation, ObjectCrypto};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const KEK: [u8; 32] = [0x42; 32];

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn aes_keyring() -> AesGcmKeyring {
    AesGcmKeyring::new(KEK.to_vec(), no_context()).unwrap()
}

fn reader(keyring: impl S3Keyring + 'static) -> ObjectCrypto {
    ObjectCrypto::new(keyring).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

fn parse(stored: &BTreeMap<String, String>) -> ContentMetadata {
    match ContentMetadata::locate(stored).unwrap() {
        MetadataLocation::Object(metadata) => metadata,
        MetadataLocation::InstructionFile(_) => panic!("written to the object"),
    }
}

/// A V2 AES-GCM object, its stored metadata and its plaintext data key.
async fn v2_object(plaintext: &[u8]) -> (BTreeMap<String, String>, Vec<u8>, Vec<u8>) {
    let writer = ObjectCrypto::new(aes_keyring()).commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt);
    let object = writer.encrypt(plaintext.to_vec(), &no_context()).await.unwrap();
    let context = no_context();
    let data_key = aes_keyring().unwrap(&UnwrapRequest::new(&object.metadata, &context)).await.unwrap();
    (object.metadata.to_object_metadata(), object.body, data_key.expose_secret().to_vec())
}

fn legacy_refused(result: envelope_s3::Result<Vec<u8>>) {
    assert!(
        matches!(result, Err(Error::Policy(PolicyViolation::LegacyWrapping { .. }))),
        "expected the legacy-wrapping refusal, got {result:?}"
    );
}

#[tokio::test]
async fn aes_wrap_reads_only_with_the_opt_in() {
    let (mut stored, body, data_key) = v2_object(b"aes wrap").await;
    let mut wrapped = vec![0u8; 40];
    KeyEncryptionKey::new(&AES_256, &KEK).unwrap().wrap(&data_key, &mut wrapped).unwrap();
    stored.insert("x-amz-key-v2".into(), BASE64.encode(&wrapped));
    stored.insert("x-amz-wrap-alg".into(), "AESWrap".into());
    let metadata = parse(&stored);
    legacy_refused(reader(aes_keyring()).decrypt(&metadata, body.clone(), &no_context()).await);
    let legacy = reader(aes_keyring()).legacy_wrapping_algorithms(true);
    assert_eq!(legacy.decrypt(&metadata, body.clone(), &no_context()).await.unwrap(), b"aes wrap");
    // Another key-encryption key fails the RFC 3394 integrity check.
    let other = reader(AesGcmKeyring::new(vec![0x43; 32], no_context()).unwrap()).legacy_wrapping_algorithms(true);
    assert!(matches!(other.decrypt(&metadata, body, &no_context()).await, Err(Error::Keyring(_))));
}

#[tokio::test]
async fn v1_aes_ecb_objects_need_both_legacy_opt_ins() {
    use aws_lc_rs::cipher::{AES_256 as AES_256_CIPHER, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
    let data_key = [0x17u8; 32];
    // V1 "encryption only": data key under AES-ECB/PKCS5, body under AES-CBC/PKCS5.
    let ecb = PaddedBlockEncryptingKey::ecb_pkcs7(UnboundCipherKey::new(&AES_256_CIPHER, &KEK).unwrap()).unwrap();
    let mut wrapped = data_key.to_vec();
    ecb.less_safe_encrypt(&mut wrapped, EncryptionContext::None).unwrap();
    assert_eq!(wrapped.len(), 48);
    let cbc = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256_CIPHER, &data_key).unwrap()).unwrap();
    let mut body = b"a v1 object".to_vec();
    let iv_context = cbc.encrypt(&mut body).unwrap();
    let iv: &[u8] = (&iv_context).try_into().unwrap();
    let stored = BTreeMap::from([
        ("x-amz-key".to_string(), BASE64.encode(&wrapped)),
        ("x-amz-iv".into(), BASE64.encode(iv)),
        ("x-amz-matdesc".into(), "{}".into()),
        ("x-amz-unencrypted-content-length".into(), "11".into()),
    ]);
    let metadata = parse(&stored);
    let unauthenticated = reader(aes_keyring()).legacy_unauthenticated_modes(true);
    legacy_refused(unauthenticated.decrypt(&metadata, body.clone(), &no_context()).await);
    let both = unauthenticated.legacy_wrapping_algorithms(true);
    assert_eq!(both.decrypt(&metadata, body, &no_context()).await.unwrap(), b"a v1 object");
}

#[tokio::test]
async fn rsa_pkcs1_reads_only_with_the_opt_in() {
    use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
    let private_key = RsaPrivateKey::generate(2048).unwrap();
    let (mut stored, body, data_key) = v2_object(b"rsa legacy").await;
    let public = PublicEncryptingKey::from_der(&private_key.public_key().to_der().unwrap()).unwrap();
    let public = Pkcs1PublicEncryptingKey::new(public).unwrap();
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let len = public.encrypt(&data_key, &mut wrapped).unwrap().len();
    wrapped.truncate(len);
    stored.insert("x-amz-key-v2".into(), BASE64.encode(&wrapped));
    stored.insert("x-amz-wrap-alg".into(), "RSA".into());
    let metadata = parse(&stored);
    let keyring = || RsaOaepKeyring::new(None, Some(&private_key), no_context()).unwrap();
    legacy_refused(reader(keyring()).decrypt(&metadata, body.clone(), &no_context()).await);
    let legacy = reader(keyring()).legacy_wrapping_algorithms(true);
    assert_eq!(legacy.decrypt(&metadata, body, &no_context()).await.unwrap(), b"rsa legacy");
}

/// The Java v1 client in its authenticated modes: `x-amz-key-v2` holds base64 of RSA-OAEP
/// (label hash SHA-256, MGF1-SHA-1, empty label) of the bare 32-byte data key, `x-amz-wrap-alg`
/// names `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`, the content is AES-GCM as in V2.
fn java_v1_oaep_sha256(stored: &mut BTreeMap<String, String>, wrapped: &[u8]) -> ContentMetadata {
    stored.insert("x-amz-key-v2".into(), BASE64.encode(wrapped));
    stored.insert("x-amz-wrap-alg".into(), "RSA/ECB/OAEPWithSHA-256AndMGF1Padding".into());
    parse(stored)
}

#[tokio::test]
async fn rsa_oaep_sha256_mgf1_sha1_reads_only_with_the_opt_in() {
    use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
    let private_key = RsaPrivateKey::generate(2048).unwrap();
    let public_der = private_key.public_key().to_der().unwrap();
    let (mut stored, body, data_key) = v2_object(b"java v1 oaep").await;
    let wrapped = envelope_gcm_stream::rsa_oaep_sha256_mgf1_sha1_encrypt(&public_der, &data_key).unwrap();
    let metadata = java_v1_oaep_sha256(&mut stored, &wrapped);
    let keyring = || RsaOaepKeyring::new(None, Some(&private_key), no_context()).unwrap();
    legacy_refused(reader(keyring()).decrypt(&metadata, body.clone(), &no_context()).await);
    let legacy = reader(keyring()).legacy_wrapping_algorithms(true);
    assert_eq!(legacy.decrypt(&metadata, body.clone(), &no_context()).await.unwrap(), b"java v1 oaep");

    // OAEP-SHA-256 with MGF1-SHA-256 (what aws-lc-rs offers) is another padding: refused.
    let public = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&public_der).unwrap()).unwrap();
    let mut same_hashes = vec![0u8; public.ciphertext_size()];
    let len = public.encrypt(&OAEP_SHA256_MGF1SHA256, &data_key, &mut same_hashes, None).unwrap().len();
    let metadata = java_v1_oaep_sha256(&mut stored, &same_hashes[..len]);
    let error = legacy.decrypt(&metadata, body.clone(), &no_context()).await.unwrap_err();
    assert!(matches!(error, Error::Keyring(_)), "{error}");

    // A modified wrapped key, a wrapped key of another length, another private key: errors.
    let mut forged = wrapped.clone();
    forged[100] ^= 0x04;
    let metadata = java_v1_oaep_sha256(&mut stored, &forged);
    assert!(matches!(legacy.decrypt(&metadata, body.clone(), &no_context()).await, Err(Error::Keyring(_))));
    let short = envelope_gcm_stream::rsa_oaep_sha256_mgf1_sha1_encrypt(&public_der, &data_key[..16]).unwrap();
    let metadata = java_v1_oaep_sha256(&mut stored, &short);
    assert!(matches!(legacy.decrypt(&metadata, body.clone(), &no_context()).await, Err(Error::Keyring(_))));
    let metadata = java_v1_oaep_sha256(&mut stored, &wrapped);
    let other = RsaOaepKeyring::new(None, Some(&RsaPrivateKey::generate(2048).unwrap()), no_context()).unwrap();
    let other = reader(other).legacy_wrapping_algorithms(true);
    assert!(matches!(other.decrypt(&metadata, body, &no_context()).await, Err(Error::Keyring(_))));
}

/// The same object format around the known answer that Python's `cryptography` made for
/// envelope-gcm-stream (crates/gcm-stream/tests/vectors): an independent implementation's wrap.
#[tokio::test]
async fn rsa_oaep_sha256_mgf1_sha1_reads_the_python_made_wrap() {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let text = include_str!("../../gcm-stream/tests/vectors/rsa_oaep_sha256_mgf1_sha1.txt");
    let field = |name: &str| {
        let line = text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(": ")));
        hex::decode(line.unwrap()).unwrap()
    };
    let (pkcs8, data_key, wrapped) = (field("pkcs8"), field("plaintext"), field("ciphertext"));
    // A V2 body under the vector's data key: AES-256-GCM, 12-byte IV, no AAD, tag appended.
    let iv = [0x24u8; 12];
    let mut body = b"made in python".to_vec();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &data_key).unwrap());
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut body).unwrap();
    let mut stored = BTreeMap::from([
        ("x-amz-iv".to_string(), BASE64.encode(iv)),
        ("x-amz-cek-alg".into(), "AES/GCM/NoPadding".into()),
        ("x-amz-tag-len".into(), "128".into()),
        ("x-amz-matdesc".into(), "{}".into()),
    ]);
    let metadata = java_v1_oaep_sha256(&mut stored, &wrapped);
    let private_key = RsaPrivateKey::from_der(&pkcs8).unwrap();
    let keyring = || RsaOaepKeyring::new(None, Some(&private_key), no_context()).unwrap();
    legacy_refused(reader(keyring()).decrypt(&metadata, body.clone(), &no_context()).await);
    let legacy = reader(keyring()).legacy_wrapping_algorithms(true);
    assert_eq!(legacy.decrypt(&metadata, body, &no_context()).await.unwrap(), b"made in python");
}
