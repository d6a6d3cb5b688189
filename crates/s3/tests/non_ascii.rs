//! Non-US-ASCII material descriptions: refused on write (as the official clients do: S3 metadata
//! travels in HTTP headers), read back from S3's double encoding.

use std::collections::BTreeMap;

use base64::Engine as _;
use envelope_keyrings::RsaPrivateKey;
use envelope_s3::error::Error;
use envelope_s3::wrap::{AesGcmKeyring, RsaOaepKeyring};
use envelope_s3::{ContentMetadata, MetadataLocation, ObjectCrypto};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn description(owner: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("owner".to_string(), owner.to_string())])
}

#[tokio::test]
async fn writes_refuse_non_ascii_descriptions() {
    let aes = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], description("équipe")).unwrap());
    assert!(matches!(aes.encrypt(b"x".to_vec(), &BTreeMap::new()).await, Err(Error::Usage(_))));
    let private_key = RsaPrivateKey::generate(2048).unwrap();
    let rsa = ObjectCrypto::new(RsaOaepKeyring::new(Some(private_key.public_key()), None, description("é")).unwrap());
    assert!(matches!(rsa.encrypt(b"x".to_vec(), &BTreeMap::new()).await, Err(Error::Usage(_))));
    let context = BTreeMap::from([("tenant".to_string(), "ü".to_string())]);
    let plain = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], BTreeMap::new()).unwrap());
    assert!(matches!(plain.encrypt(b"x".to_vec(), &context).await, Err(Error::Usage(_))));
}

#[tokio::test]
async fn a_double_encoded_description_from_s3_reads() {
    // Another client wrote {"owner":"équipe"}; S3 returns it double encoded (RFC 2047 over the
    // UTF-8 bytes taken as ISO-8859-1). The AES/GCM wrap binds only the cipher, so the object is
    // built with an ASCII placeholder and its stored description replaced.
    let writer = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], description("placeholder")).unwrap());
    let object = writer.encrypt(b"bonjour".to_vec(), &BTreeMap::new()).await.unwrap();
    let mut stored = object.metadata.to_object_metadata();
    let once: String = r#"{"owner":"équipe"}"#.bytes().map(char::from).collect();
    stored.insert("x-amz-m".into(), format!("=?UTF-8?B?{}?=", BASE64.encode(once.as_bytes())));
    let MetadataLocation::Object(metadata) = ContentMetadata::locate(&stored).unwrap() else { panic!() };
    let reader = ObjectCrypto::new(AesGcmKeyring::new(vec![7; 32], description("équipe")).unwrap());
    assert_eq!(reader.decrypt(&metadata, object.body.clone(), &BTreeMap::new()).await.unwrap(), b"bonjour");
    // The description must still equal the reader's.
    assert!(writer.decrypt(&metadata, object.body, &BTreeMap::new()).await.is_err());
}
