//! Behaviour of real KMS that clients depend on without saying so: Regions, on-demand rotation,
//! the expiration default of imported material, AWS managed keys and alias-name validation.

mod common;

use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_sdk_kms::error::ProvideErrorMetadata as _;
use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{AlgorithmSpec, ExpirationModelType, KeyManagerType, OriginType, WrappingKeySpec};

/// The message of a service error.
fn message<E, R>(e: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.message()).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_aliases_belong_to_their_region() {
    let srv = common::start(common::settings("regional")).await;
    let west = common::client_with(&srv.endpoint, "us-west-2", "AKIDWEST", "s").await;
    let east = common::client(&srv.endpoint).await;
    let meta = west.create_key().send().await.unwrap().key_metadata.unwrap();
    let arn = meta.arn.clone().unwrap();
    west.create_alias().alias_name("alias/app").target_key_id(&meta.key_id).send().await.unwrap();
    let ct = west
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"west".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();

    // Every form of the identifier is unknown at another Region's endpoint.
    for id in [arn.as_str(), meta.key_id.as_str()] {
        let err = east.describe_key().key_id(id).send().await.unwrap_err();
        assert_eq!(common::code(&err), "NotFoundException", "DescribeKey {id}");
        let err = east.encrypt().key_id(id).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
        assert_eq!(common::code(&err), "NotFoundException", "Encrypt {id}");
    }
    let err = east.decrypt().ciphertext_blob(ct.clone()).key_id(&arn).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    // Without a KeyId, KMS answers AccessDenied ("... does not exist in this region ...").
    let err = east.decrypt().ciphertext_blob(ct.clone()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    assert!(message(&err).contains("does not exist in this region"), "{}", message(&err));
    let west_alias_arn = arn.replace(&format!("key/{}", meta.key_id), "alias/app");
    let err = east.describe_key().key_id(&west_alias_arn).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let err = east.describe_key().key_id("alias/app").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");

    // Listings show only the Region's own keys and aliases; alias names are per Region.
    let east_keys = east.list_keys().send().await.unwrap();
    assert!(east_keys.keys().iter().all(|k| k.key_arn() != Some(arn.as_str())));
    assert!(east.list_aliases().send().await.unwrap().aliases().iter().all(|a| a.alias_name() != Some("alias/app")));
    let east_key = east.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    east.create_alias().alias_name("alias/app").target_key_id(&east_key).send().await.unwrap();
    let described = east.describe_key().key_id("alias/app").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(described.key_id, east_key);

    // The owning Region still works with every form.
    assert_eq!(west.describe_key().key_id("alias/app").send().await.unwrap().key_metadata.unwrap().key_id, meta.key_id);
    let pt = west.decrypt().ciphertext_blob(ct).send().await.unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"west");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_replicas_live_in_their_own_region() {
    let srv = common::start(common::settings("mrk-regional")).await;
    let east = common::client(&srv.endpoint).await;
    let west = common::client_with(&srv.endpoint, "us-west-2", "AKIDWEST", "s").await;
    let primary = east.create_key().multi_region(true).send().await.unwrap().key_metadata.unwrap();
    let ct = east
        .encrypt()
        .key_id(&primary.key_id)
        .plaintext(Blob::new(b"mr".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let replica = east.replicate_key().key_id(&primary.key_id).replica_region("us-west-2").send().await.unwrap();
    let replica_arn = replica.replica_key_metadata.unwrap().arn.unwrap();

    // Same key id, one key per Region: each endpoint sees its own copy only.
    let here = west.describe_key().key_id(&primary.key_id).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(here.arn.as_deref(), Some(replica_arn.as_str()));
    let err = east.describe_key().key_id(&replica_arn).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let err = west.describe_key().key_id(primary.arn.as_deref().unwrap()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let pt = west.decrypt().ciphertext_blob(ct).send().await.unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"mr");
    assert_eq!(pt.key_id.as_deref(), Some(replica_arn.as_str()));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_rotation_completes_at_once() {
    let srv = common::start(common::settings("rotate-now")).await;
    let kms = common::client(&srv.endpoint).await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let old = kms.encrypt().key_id(&id).plaintext(Blob::new(b"before".to_vec())).send().await.unwrap();
    kms.rotate_key_on_demand().key_id(&id).send().await.unwrap();

    // Finished: no rotation in progress, and the completed one is listed.
    let status = kms.get_key_rotation_status().key_id(&id).send().await.unwrap();
    assert_eq!(status.on_demand_rotation_start_date, None);
    assert!(!status.key_rotation_enabled);
    let rotations = kms.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(rotations.rotations().len(), 1);
    assert_eq!(rotations.rotations()[0].rotation_type().map(|t| t.as_str()), Some("ON_DEMAND"));

    // New material for new ciphertexts; the old ones still decrypt.
    let new = kms.encrypt().key_id(&id).plaintext(Blob::new(b"after".to_vec())).send().await.unwrap();
    let old_pt = kms.decrypt().ciphertext_blob(old.ciphertext_blob.unwrap()).send().await.unwrap();
    let new_pt = kms.decrypt().ciphertext_blob(new.ciphertext_blob.unwrap()).send().await.unwrap();
    assert_eq!(old_pt.plaintext.unwrap().as_ref(), b"before");
    assert_eq!(new_pt.plaintext.unwrap().as_ref(), b"after");
    assert_ne!(old_pt.key_material_id, new_pt.key_material_id);
    assert_eq!(new_pt.key_material_id.as_deref(), rotations.rotations()[0].key_material_id());
    srv.stop().await;
}

/// A fresh EXTERNAL key, an import token for it, and 32 bytes of material wrapped for that token.
async fn external_key_and_wrapped_material(kms: &aws_sdk_kms::Client) -> (String, Blob, Vec<u8>) {
    let id = kms.create_key().origin(OriginType::External).send().await.unwrap().key_metadata.unwrap().key_id;
    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap();
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(params.public_key.unwrap().as_ref()).unwrap())
            .unwrap();
    let mut out = vec![0u8; public.ciphertext_size()];
    let wrapped = public.encrypt(&OAEP_SHA256_MGF1SHA256, &[5u8; 32], &mut out, None).unwrap().to_vec();
    (id, params.import_token.unwrap(), wrapped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_material_expires_by_default() {
    let srv = common::start(common::settings("import-default")).await;
    let kms = common::client(&srv.endpoint).await;
    let (id, token, wrapped) = external_key_and_wrapped_material(&kms).await;

    // No ExpirationModel means KEY_MATERIAL_EXPIRES, which needs ValidTo.
    let err = kms
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    assert!(message(&err).contains("KEY_MATERIAL_EXPIRES"), "{}", message(&err));
    let err = kms
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .expiration_model(ExpirationModelType::KeyMaterialExpires)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");

    // ValidTo at most 365 days ahead.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let err = kms
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .valid_to(DateTime::from_secs(now + 400 * 86_400))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");

    let valid_to = now + 86_400;
    kms.import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(wrapped))
        .valid_to(DateTime::from_secs(valid_to))
        .send()
        .await
        .unwrap();
    let meta = kms.describe_key().key_id(&id).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(meta.expiration_model, Some(ExpirationModelType::KeyMaterialExpires));
    assert_eq!(meta.valid_to.map(|t| t.secs()), Some(valid_to));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_managed_key_is_created_on_first_use_of_its_alias() {
    let srv = common::start(common::settings("aws-managed")).await;
    let kms = common::client(&srv.endpoint).await;
    let meta = kms.describe_key().key_id("alias/aws/ebs").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(meta.key_manager, Some(KeyManagerType::Aws));
    assert!(meta.arn.as_deref().unwrap().starts_with("arn:aws:kms:us-east-1:111122223333:key/"));
    assert!(meta.description.as_deref().unwrap().contains("EBS"));

    // The same key on every later use, by alias name or alias ARN.
    let again = kms.describe_key().key_id("alias/aws/ebs").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(again.key_id, meta.key_id);
    let by_arn = kms.describe_key().key_id("arn:aws:kms:us-east-1:111122223333:alias/aws/ebs").send().await.unwrap();
    assert_eq!(by_arn.key_metadata.unwrap().key_id, meta.key_id);
    let aliases = kms.list_aliases().key_id(&meta.key_id).send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);
    assert_eq!(aliases.aliases()[0].alias_name(), Some("alias/aws/ebs"));

    // Rotated yearly; a policy that allows use only through the service.
    let rotation = kms.get_key_rotation_status().key_id(&meta.key_id).send().await.unwrap();
    assert!(rotation.key_rotation_enabled);
    assert_eq!(rotation.rotation_period_in_days, Some(365));
    let policy = kms.get_key_policy().key_id(&meta.key_id).send().await.unwrap().policy.unwrap();
    assert!(policy.contains("kms:ViaService") && policy.contains("ec2.us-east-1.amazonaws.com"), "{policy}");

    // Its own key in each Region; unknown services have no predefined alias.
    let west = common::client_with(&srv.endpoint, "us-west-2", "AKIDWEST", "s").await;
    let west_meta = west.describe_key().key_id("alias/aws/ebs").send().await.unwrap().key_metadata.unwrap();
    assert_ne!(west_meta.key_id, meta.key_id);
    let err = kms.describe_key().key_id("alias/aws/no-such-service").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");

    // ListAliases shows the predefined aliases of services whose keys do not exist yet, with no
    // target and no dates, and the used ones with their key.
    let listed = kms.list_aliases().limit(1000).send().await.unwrap();
    let find = |name: &str| listed.aliases().iter().find(|a| a.alias_name() == Some(name)).cloned();
    let ebs = find("alias/aws/ebs").expect("alias/aws/ebs listed");
    assert_eq!(ebs.target_key_id(), Some(meta.key_id.as_str()));
    let s3 = find("alias/aws/s3").expect("alias/aws/s3 listed before its key exists");
    assert_eq!(s3.alias_arn(), Some("arn:aws:kms:us-east-1:111122223333:alias/aws/s3"));
    assert_eq!((s3.target_key_id(), s3.creation_date(), s3.last_updated_date()), (None, None, None));
    let names: Vec<&str> = listed.aliases().iter().filter_map(|a| a.alias_name()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");

    // The reserved aliases cannot be created, re-pointed or deleted.
    let mine = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let err = kms.create_alias().alias_name("alias/aws/s3").target_key_id(&mine).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotAuthorizedException");
    let err = kms.update_alias().alias_name("alias/aws/ebs").target_key_id(&mine).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotAuthorizedException");
    let err = kms.delete_alias().alias_name("alias/aws/ebs").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotAuthorizedException");
    assert_eq!(
        kms.describe_key().key_id("alias/aws/ebs").send().await.unwrap().key_metadata.unwrap().key_id,
        meta.key_id
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_managed_key_refuses_direct_cryptographic_use() {
    let dir = common::temp_dir("aws-managed-strict");
    let creds = dir.join("credentials.json");
    std::fs::write(
        &creds,
        r#"{"credentials": [{"access_key_id": "AKIAADMIN", "secret_access_key": "a", "principal": "arn:aws:iam::111122223333:user/admin"}]}"#,
    )
    .unwrap();
    let mut settings = common::settings("aws-managed-strict");
    settings.credentials = Some(creds);
    let srv = common::start(settings).await;
    let kms = common::client_with(&srv.endpoint, "us-east-1", "AKIAADMIN", "a").await;
    // Metadata is open to the account; use is only through the service (kms:ViaService).
    let meta = kms.describe_key().key_id("alias/aws/s3").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(meta.key_manager, Some(KeyManagerType::Aws));
    let err = kms.encrypt().key_id("alias/aws/s3").plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    let err = kms.generate_data_key().key_id("alias/aws/s3").number_of_bytes(32).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_names_fail_as_kms_fails_them() {
    let srv = common::start(common::settings("alias-names")).await;
    let kms = common::client(&srv.endpoint).await;
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let create = |name: String| {
        let kms = kms.clone();
        let key = key.clone();
        async move { kms.create_alias().alias_name(name).target_key_id(key).send().await.unwrap_err() }
    };

    // Model constraints first, with the value, as KMS's request validation words them.
    let err = create("alias/bad name".into()).await;
    assert_eq!(common::code(&err), "ValidationException");
    assert_eq!(
        message(&err),
        "1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
    );
    let long = format!("alias/{}", "a".repeat(251));
    let err = create(long.clone()).await;
    assert_eq!(common::code(&err), "ValidationException");
    assert!(message(&err).contains("Member must have length less than or equal to 256"), "{}", message(&err));
    // Then the service's rules: the prefix, the reserved prefix, the colon.
    let err = create("my-alias".into()).await;
    assert_eq!(common::code(&err), "ValidationException");
    assert!(message(&err).starts_with("Alias must start with the prefix \"alias/\"."), "{}", message(&err));
    let err = create("alias/aws/mine".into()).await;
    assert_eq!(common::code(&err), "NotAuthorizedException");
    // KMS answers `{"__type":"NotAuthorizedException"}`, with no message.
    assert_eq!(err.as_service_error().and_then(|e| e.message()), None);
    let err = create("alias/my:alias".into()).await;
    assert_eq!(common::code(&err), "ValidationException");
    assert_eq!(message(&err), "alias/my:alias contains invalid characters for an alias");

    // UpdateAlias and DeleteAlias check the name the same way before looking it up.
    let err = kms.update_alias().alias_name("my-alias").target_key_id(&key).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let err = kms.delete_alias().alias_name("my-alias").send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let err = kms.delete_alias().alias_name("alias/never-made").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");

    // A name at the limit is fine.
    kms.create_alias().alias_name(&long[..256]).target_key_id(&key).send().await.unwrap();
    srv.stop().await;
}
