//! Rotation, multi-Region keys, imported material and custom key stores through aws-sdk-kms.

mod common;

use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{AlgorithmSpec, ExpirationModelType, KeyState, OriginType, WrappingKeySpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_old_ciphertexts() {
    let srv = common::start(common::settings("rot")).await;
    let kms = common::client(&srv.endpoint).await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let old =
        kms.encrypt().key_id(&id).plaintext(Blob::new(b"v0".to_vec())).send().await.unwrap().ciphertext_blob.unwrap();
    kms.enable_key_rotation().key_id(&id).rotation_period_in_days(90).send().await.unwrap();
    let st = kms.get_key_rotation_status().key_id(&id).send().await.unwrap();
    assert!(st.key_rotation_enabled);
    let err = kms.enable_key_rotation().key_id(&id).rotation_period_in_days(89).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    kms.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    let new =
        kms.encrypt().key_id(&id).plaintext(Blob::new(b"v1".to_vec())).send().await.unwrap().ciphertext_blob.unwrap();
    assert_ne!(old.as_ref()[..60], new.as_ref()[..60]);
    let a = kms.decrypt().ciphertext_blob(old).send().await.unwrap();
    let b = kms.decrypt().ciphertext_blob(new).send().await.unwrap();
    assert_eq!(a.plaintext.unwrap().as_ref(), b"v0");
    assert_eq!(b.plaintext.unwrap().as_ref(), b"v1");
    assert_ne!(a.key_material_id, b.key_material_id);
    let rotations = kms.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(rotations.rotations().len(), 1);
    kms.disable_key_rotation().key_id(&id).send().await.unwrap();

    let rsa = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let err = kms.rotate_key_on_demand().key_id(&rsa).send().await.unwrap_err();
    assert_eq!(common::code(&err), "UnsupportedOperationException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_ciphertext_decrypts_in_replica() {
    let srv = common::start(common::settings("mrk")).await;
    let east = common::client(&srv.endpoint).await;
    let west = common::client_with(&srv.endpoint, "us-west-2", "AKID", "s").await;
    let meta = east.create_key().multi_region(true).send().await.unwrap().key_metadata.unwrap();
    assert!(meta.key_id.starts_with("mrk-") && meta.key_id.len() == 36);
    let ct = east
        .encrypt()
        .key_id(&meta.key_id)
        .plaintext(Blob::new(b"mr".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let rep = east.replicate_key().key_id(&meta.key_id).replica_region("us-west-2").send().await.unwrap();
    assert!(rep.replica_key_metadata.unwrap().arn().unwrap().contains(":us-west-2:"));
    let pt = west.decrypt().ciphertext_blob(ct).send().await.unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"mr");
    let err = east.replicate_key().key_id(&meta.key_id).replica_region("us-west-2").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AlreadyExistsException");
    east.update_primary_region().key_id(&meta.key_id).primary_region("us-west-2").send().await.unwrap();
    let d = west.describe_key().key_id(&meta.key_id).send().await.unwrap().key_metadata.unwrap();
    let cfg = d.multi_region_configuration.unwrap();
    assert_eq!(cfg.multi_region_key_type.as_ref().unwrap().as_str(), "PRIMARY");
    assert_eq!(cfg.replica_keys().len(), 1);
    let single = east.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let err = east.replicate_key().key_id(&single).replica_region("eu-west-1").send().await.unwrap_err();
    assert_eq!(common::code(&err), "UnsupportedOperationException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_key_material_with_oaep_and_key_wrap() {
    let srv = common::start(common::settings("import")).await;
    let kms = common::client(&srv.endpoint).await;
    for (alg, tag) in [(AlgorithmSpec::RsaesOaepSha256, "oaep"), (AlgorithmSpec::RsaAesKeyWrapSha256, "wrap")] {
        let meta =
            kms.create_key().origin(OriginType::External).description(tag).send().await.unwrap().key_metadata.unwrap();
        assert_eq!(meta.key_state, Some(KeyState::PendingImport));
        let err = kms.encrypt().key_id(&meta.key_id).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
        assert_eq!(common::code(&err), "KMSInvalidStateException");
        let params = kms
            .get_parameters_for_import()
            .key_id(&meta.key_id)
            .wrapping_algorithm(alg.clone())
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .send()
            .await
            .unwrap();
        let public =
            OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(params.public_key.unwrap().as_ref()).unwrap())
                .unwrap();
        let material = [7u8; 32];
        let wrapped = if tag == "oaep" {
            let mut out = vec![0u8; public.ciphertext_size()];
            public.encrypt(&OAEP_SHA256_MGF1SHA256, &material, &mut out, None).unwrap().to_vec()
        } else {
            use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
            let aes = [9u8; 32];
            let mut out = vec![0u8; public.ciphertext_size()];
            let mut v = public.encrypt(&OAEP_SHA256_MGF1SHA256, &aes, &mut out, None).unwrap().to_vec();
            let mut w = vec![0u8; 64];
            let w = AesKek::new(&AES_256, &aes).unwrap().wrap_with_padding(&material, &mut w).unwrap().to_vec();
            v.extend_from_slice(&w);
            v
        };
        kms.import_key_material()
            .key_id(&meta.key_id)
            .import_token(params.import_token.unwrap())
            .encrypted_key_material(Blob::new(wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await
            .unwrap();
        let ct = kms
            .encrypt()
            .key_id(&meta.key_id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        kms.delete_imported_key_material().key_id(&meta.key_id).send().await.unwrap();
        let err = kms.decrypt().ciphertext_blob(ct).send().await.unwrap_err();
        assert_eq!(common::code(&err), "KMSInvalidStateException");
    }
    let normal = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let err = kms
        .get_parameters_for_import()
        .key_id(&normal)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "UnsupportedOperationException");
    let err = kms.describe_custom_key_stores().custom_key_store_id("cks-1234567890abcdef0").send().await.unwrap_err();
    assert_eq!(common::code(&err), "CustomKeyStoreNotFoundException");
    let err = kms.connect_custom_key_store().custom_key_store_id("cks-1234567890abcdef0").send().await.unwrap_err();
    assert_eq!(common::code(&err), "CustomKeyStoreNotFoundException");
    srv.stop().await;
}
