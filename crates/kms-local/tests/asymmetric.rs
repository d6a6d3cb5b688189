//! Asymmetric keys, HMAC, key agreement, ML-KEM and data key pairs through aws-sdk-kms.

mod common;

use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncapsulationAlgorithmSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec,
    KeyUsageType, MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_verify_and_offline_verification() {
    let srv = common::start(common::settings("sign")).await;
    let kms = common::client(&srv.endpoint).await;
    let ec = kms.create_key().key_spec(KeySpec::EccNistP256).key_usage(KeyUsageType::SignVerify).send().await.unwrap();
    let id = ec.key_metadata.unwrap().key_id;
    let sig = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap()
        .signature
        .unwrap();
    kms.verify()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .signature(sig.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    let err = kms
        .verify()
        .key_id(&id)
        .message(Blob::new(b"msh".to_vec()))
        .signature(sig.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "KMSInvalidSignatureException");
    // The public key is standard SPKI DER: verify offline.
    let pk = kms.get_public_key().key_id(&id).send().await.unwrap().public_key.unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pk.as_ref()).verify(b"msg", sig.as_ref()).unwrap();
    // DIGEST messages must have the hash length.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"msg");
    let dsig = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(digest.as_ref().to_vec()))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pk.as_ref())
        .verify(b"msg", dsig.signature.unwrap().as_ref())
        .unwrap();
    let err = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidKeyUsageException");
    let err = kms.encrypt().key_id(&id).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidKeyUsageException");

    for (spec, alg) in [
        (KeySpec::Rsa2048, SigningAlgorithmSpec::RsassaPssSha384),
        (KeySpec::Rsa2048, SigningAlgorithmSpec::RsassaPkcs1V15Sha256),
        (KeySpec::EccSecgP256K1, SigningAlgorithmSpec::EcdsaSha256),
        (KeySpec::EccNistEdwards25519, SigningAlgorithmSpec::Ed25519Sha512),
        (KeySpec::MlDsa65, SigningAlgorithmSpec::MlDsaShake256),
    ] {
        let id = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .key_id;
        let sig = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        let ok = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(b"m".to_vec()))
            .signature(sig.signature.unwrap())
            .signing_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        assert!(ok.signature_valid, "{spec:?}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_oaep_is_raw_and_interoperable() {
    let srv = common::start(common::settings("rsa")).await;
    let kms = common::client(&srv.endpoint).await;
    let id = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let pk = kms.get_public_key().key_id(&id).send().await.unwrap().public_key.unwrap();
    // Encrypt offline with the public key; KMS decrypts it.
    let public = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(pk.as_ref()).unwrap()).unwrap();
    let mut ct = vec![0u8; public.ciphertext_size()];
    let ct = public.encrypt(&OAEP_SHA256_MGF1SHA256, b"offline", &mut ct, None).unwrap().to_vec();
    assert_eq!(ct.len(), 256);
    let pt = kms
        .decrypt()
        .key_id(&id)
        .ciphertext_blob(Blob::new(ct))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"offline");
    // And KMS's own ciphertext is raw RSA output of modulus length.
    let out = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![1u8; 214]))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.ciphertext_blob.as_ref().unwrap().as_ref().len(), 256);
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![1u8; 215]))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let err = kms.encrypt().key_id(&id).plaintext(Blob::new(vec![1u8; 10])).send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidKeyUsageException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_ecdh_kem_and_key_pairs() {
    let srv = common::start(common::settings("misc")).await;
    let kms = common::client(&srv.endpoint).await;
    let h = kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let mac = kms
        .generate_mac()
        .key_id(&h)
        .message(Blob::new(b"m".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    assert_eq!(mac.as_ref().len(), 32);
    kms.verify_mac()
        .key_id(&h)
        .message(Blob::new(b"m".to_vec()))
        .mac(mac.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap();
    let err = kms
        .verify_mac()
        .key_id(&h)
        .message(Blob::new(b"n".to_vec()))
        .mac(mac)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "KMSInvalidMacException");
    let err = kms
        .generate_mac()
        .key_id(&h)
        .message(Blob::new(b"m".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha512)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidKeyUsageException");

    // ECDH between two KMS keys gives the same secret both ways.
    let a = kms
        .create_key()
        .key_spec(KeySpec::EccNistP384)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let b = kms
        .create_key()
        .key_spec(KeySpec::EccNistP384)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let pa = kms.get_public_key().key_id(&a).send().await.unwrap().public_key.unwrap();
    let pb = kms.get_public_key().key_id(&b).send().await.unwrap().public_key.unwrap();
    let s1 = kms
        .derive_shared_secret()
        .key_id(&a)
        .public_key(pb)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .send()
        .await
        .unwrap();
    let s2 = kms
        .derive_shared_secret()
        .key_id(&b)
        .public_key(pa)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .send()
        .await
        .unwrap();
    assert_eq!(s1.shared_secret.unwrap().as_ref(), s2.shared_secret.unwrap().as_ref());

    // Data key pairs: the private key comes back both plain (PKCS#8) and sealed under the KMS key.
    let sym = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let pair =
        kms.generate_data_key_pair().key_id(&sym).key_pair_spec(DataKeyPairSpec::EccNistP256).send().await.unwrap();
    let back = kms.decrypt().ciphertext_blob(pair.private_key_ciphertext_blob.unwrap()).send().await.unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref(), pair.private_key_plaintext.unwrap().as_ref());
    let pair = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&sym)
        .key_pair_spec(DataKeyPairSpec::Rsa2048)
        .send()
        .await
        .unwrap();
    assert!(pair.public_key.is_some());
    let err = kms.get_public_key().key_id(&sym).send().await.unwrap_err();
    assert_eq!(common::code(&err), "UnsupportedOperationException");

    let kem = kms
        .create_key()
        .key_spec(KeySpec::MlKem768)
        .key_usage(KeyUsageType::EncapsulateDecapsulate)
        .send()
        .await
        .unwrap();
    let kem = kem.key_metadata.unwrap().key_id;
    let enc =
        kms.encapsulate().key_id(&kem).encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem).send().await.unwrap();
    let dec = kms
        .decapsulate()
        .key_id(&kem)
        .shared_secret_ciphertext_blob(enc.shared_secret_ciphertext_blob.clone().unwrap())
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.shared_secret.unwrap().as_ref(), enc.shared_secret.unwrap().as_ref());
    let err = kms
        .decapsulate()
        .key_id(&kem)
        .shared_secret_ciphertext_blob(Blob::new(vec![0u8; 10]))
        .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidCiphertextException");
    let pk = kms.get_public_key().key_id(&kem).send().await.unwrap();
    assert!(pk.public_key.unwrap().as_ref().len() > 1184);
    srv.stop().await;
}
