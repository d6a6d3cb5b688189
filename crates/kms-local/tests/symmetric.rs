//! Key lifecycle, aliases and symmetric cryptography through aws-sdk-kms.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeyState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_decrypt_round_trip_with_context() {
    let srv = common::start(common::settings("sym")).await;
    let kms = common::client(&srv.endpoint).await;
    let key = kms.create_key().description("t").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state, Some(KeyState::Enabled));
    assert!(key.arn().unwrap().starts_with("arn:aws:kms:us-east-1:111122223333:key/"));
    let id = key.key_id();

    let ct = kms
        .encrypt()
        .key_id(id)
        .plaintext(Blob::new(b"hello".to_vec()))
        .encryption_context("a", "bc")
        .send()
        .await
        .unwrap();
    let blob = ct.ciphertext_blob.unwrap();
    let pt = kms.decrypt().ciphertext_blob(blob.clone()).encryption_context("a", "bc").send().await.unwrap();
    assert_eq!(pt.plaintext.unwrap().as_ref(), b"hello");
    assert_eq!(pt.key_id.as_deref(), key.arn());

    // The encoding is unambiguous: {"a":"bc"} is not {"ab":"c"}.
    let err = kms.decrypt().ciphertext_blob(blob.clone()).encryption_context("ab", "c").send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidCiphertextException");
    let err = kms.decrypt().ciphertext_blob(blob.clone()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidCiphertextException");

    // Tampering anywhere fails.
    let mut bytes = blob.into_inner();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let err =
        kms.decrypt().ciphertext_blob(Blob::new(bytes.clone())).encryption_context("a", "bc").send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidCiphertextException");
    bytes[n - 1] ^= 1;
    bytes[0] = 9;
    let err = kms.decrypt().ciphertext_blob(Blob::new(bytes)).encryption_context("a", "bc").send().await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidCiphertextException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_keys_reencrypt_and_incorrect_key() {
    let srv = common::start(common::settings("gdk")).await;
    let kms = common::client(&srv.endpoint).await;
    let a = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let b = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;

    let dk = kms.generate_data_key().key_id(&a).key_spec(DataKeySpec::Aes256).send().await.unwrap();
    assert_eq!(dk.plaintext.as_ref().unwrap().as_ref().len(), 32);
    let back = kms.decrypt().ciphertext_blob(dk.ciphertext_blob.clone().unwrap()).send().await.unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref(), dk.plaintext.unwrap().as_ref());

    let dk2 = kms.generate_data_key_without_plaintext().key_id(&a).number_of_bytes(7).send().await.unwrap();
    let back = kms.decrypt().ciphertext_blob(dk2.ciphertext_blob.clone().unwrap()).send().await.unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref().len(), 7);

    let err = kms.decrypt().ciphertext_blob(dk2.ciphertext_blob.clone().unwrap()).key_id(&b).send().await.unwrap_err();
    assert_eq!(common::code(&err), "IncorrectKeyException");

    let re =
        kms.re_encrypt().ciphertext_blob(dk2.ciphertext_blob.unwrap()).destination_key_id(&b).send().await.unwrap();
    let back = kms.decrypt().ciphertext_blob(re.ciphertext_blob.unwrap()).key_id(&b).send().await.unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref().len(), 7);

    let err = kms.generate_data_key().key_id(&a).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let err = kms.generate_data_key().key_id(&a).number_of_bytes(1025).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let err = kms.encrypt().key_id(&a).plaintext(Blob::new(vec![0u8; 4097])).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");

    let r = kms.generate_random().number_of_bytes(1024).send().await.unwrap();
    assert_eq!(r.plaintext.unwrap().as_ref().len(), 1024);
    let err = kms.generate_random().number_of_bytes(0).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");

    let err = kms.encrypt().key_id(&a).plaintext(Blob::new(b"x".to_vec())).dry_run(true).send().await.unwrap_err();
    assert_eq!(common::code(&err), "DryRunOperationException");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_states_and_aliases() {
    let srv = common::start(common::settings("life")).await;
    let kms = common::client(&srv.endpoint).await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    kms.create_alias().alias_name("alias/app").target_key_id(&id).send().await.unwrap();
    let err = kms.create_alias().alias_name("alias/app").target_key_id(&id).send().await.unwrap_err();
    assert_eq!(common::code(&err), "AlreadyExistsException");
    let err = kms.create_alias().alias_name("nope").target_key_id(&id).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");

    let ct = kms.encrypt().key_id("alias/app").plaintext(Blob::new(b"x".to_vec())).send().await.unwrap();
    let blob = ct.ciphertext_blob.unwrap();
    let aliases = kms.list_aliases().key_id(&id).send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);

    kms.disable_key().key_id(&id).send().await.unwrap();
    let err = kms.encrypt().key_id(&id).plaintext(Blob::new(b"x".to_vec())).send().await.unwrap_err();
    assert_eq!(common::code(&err), "DisabledException");
    let err = kms.decrypt().ciphertext_blob(blob.clone()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "DisabledException");
    kms.enable_key().key_id(&id).send().await.unwrap();

    let err = kms.schedule_key_deletion().key_id(&id).pending_window_in_days(6).send().await.unwrap_err();
    assert_eq!(common::code(&err), "ValidationException");
    let del = kms.schedule_key_deletion().key_id(&id).pending_window_in_days(7).send().await.unwrap();
    assert_eq!(del.key_state, Some(KeyState::PendingDeletion));
    let err = kms.decrypt().ciphertext_blob(blob.clone()).send().await.unwrap_err();
    assert_eq!(common::code(&err), "KMSInvalidStateException");
    kms.cancel_key_deletion().key_id(&id).send().await.unwrap();
    let d = kms.describe_key().key_id("alias/app").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(d.key_state, Some(KeyState::Disabled));

    kms.update_key_description().key_id(&id).description("new").send().await.unwrap();
    kms.tag_resource()
        .key_id(&id)
        .tags(aws_sdk_kms::types::Tag::builder().tag_key("k").tag_value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    kms.untag_resource().key_id(&id).tag_keys("k").send().await.unwrap();

    let err = kms.describe_key().key_id("alias/missing").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let err = kms.describe_key().key_id("1234abcd-12ab-34cd-56ef-1234567890ab").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let err = kms.enable_key().key_id("alias/app").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");

    kms.delete_alias().alias_name("alias/app").send().await.unwrap();
    let keys = kms.list_keys().limit(1).send().await.unwrap();
    assert_eq!(keys.keys().len(), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_everything_and_db_has_no_material() {
    let settings = common::settings("persist");
    let data_dir = settings.data_dir.clone();
    let srv = common::start(settings.clone()).await;
    let kms = common::client(&srv.endpoint).await;
    let id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    kms.create_alias().alias_name("alias/keep").target_key_id(&id).send().await.unwrap();
    let dk = kms.generate_data_key().key_id("alias/keep").number_of_bytes(32).send().await.unwrap();
    let plaintext = dk.plaintext.unwrap().into_inner();
    srv.stop().await;

    // The database never holds the data key nor any 32-byte window of unsealed material;
    // we cannot see the material directly, so check the data key (which must not be stored at all).
    let db = std::fs::read(data_dir.join("kms.sqlite3")).unwrap();
    let wal = std::fs::read(data_dir.join("kms.sqlite3-wal")).unwrap_or_default();
    for hay in [&db, &wal] {
        assert!(!hay.windows(32).any(|w| w == plaintext.as_slice()));
    }

    let srv = common::start(settings).await;
    let kms = common::client(&srv.endpoint).await;
    let back = kms.decrypt().ciphertext_blob(dk.ciphertext_blob.unwrap()).send().await.unwrap();
    assert_eq!(back.plaintext.unwrap().into_inner(), plaintext);
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/keep")));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_comes_from_the_signature() {
    let srv = common::start(common::settings("region")).await;
    let east = common::client(&srv.endpoint).await;
    let west = common::client_with(&srv.endpoint, "us-west-2", "AKID", "s").await;
    let id = east.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let err = west.describe_key().key_id(&id).send().await.unwrap_err();
    assert_eq!(common::code(&err), "NotFoundException");
    let k = west.create_key().send().await.unwrap().key_metadata.unwrap();
    assert!(k.arn().unwrap().contains(":us-west-2:"));
    srv.stop().await;
}
