//! Gets to a file against `moto[server]` S3: the plaintext appears at the destination only
//! once the whole object authenticated, byte-identical to a whole-object decryption; a tampered
//! or unreadable object leaves nothing there (and no temporary file beside it).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use common::{moto, pattern};
use envelope_s3::ObjectCrypto;
use envelope_s3::client::{DownloadOptions, PutOptions, S3EncryptionClient};
use envelope_s3::error::{Error, SecurityError};
use envelope_s3::wrap::AesGcmKeyring;

const MIB: usize = 1 << 20;

fn crypto(key: u8) -> ObjectCrypto {
    ObjectCrypto::new(AesGcmKeyring::new(vec![key; 32], BTreeMap::new()).unwrap())
}

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("envelope-s3-get-to-path-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Puts `body` under `key` with `metadata`, as is (a forged object).
async fn put_raw(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, metadata: &BTreeMap<String, String>, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .set_metadata(Some(metadata.clone().into_iter().collect()))
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_to_path_matches_whole_object_decryption_and_tampering_leaves_nothing() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("to-path").await;
    let client = S3EncryptionClient::new(s3.clone(), crypto(7))
        .with_multipart_threshold(5 * MIB as u64)
        .part_size(5 * MIB)
        .unwrap();
    let dir = scratch("round-trip");

    // Every size class: empty, under and over a block and a 1 MiB piece, multipart.
    for len in [0usize, 1, 15, 16, 17, MIB - 16, MIB, MIB + 1, 2 * MIB + 7, 11 * MIB + 3] {
        let key = format!("object-{len}");
        let plaintext = pattern(len, 9);
        client.put_object(&bucket, &key, &plaintext[..], &PutOptions::new()).await.unwrap();
        let target = dir.join(&key);
        let download =
            client.get_to_path(&bucket, &key, &target, &no_context(), &DownloadOptions::new()).await.unwrap();
        assert_eq!(download.plaintext_length, len as u64);
        let written = std::fs::read(&target).unwrap();
        assert!(written == plaintext, "{key}: the file differs from the plaintext");
        assert!(written == client.get_bytes(&bucket, &key, &no_context()).await.unwrap(), "{key}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600, "{key}");
        }
        std::fs::remove_file(&target).unwrap();
        assert!(entries(&dir).is_empty(), "{key}: {:?}", entries(&dir));
    }

    // Tampered bodies: a flipped bit at the start, middle and in the tag, a truncated body.
    let plaintext = pattern(3 * MIB + 5, 2);
    client.put_object(&bucket, "good", &plaintext[..], &PutOptions::new()).await.unwrap();
    let head = s3.head_object().bucket(&bucket).key("good").send().await.unwrap();
    let metadata: BTreeMap<String, String> = head.metadata().cloned().unwrap_or_default().into_iter().collect();
    let out = s3.get_object().bucket(&bucket).key("good").send().await.unwrap();
    let body = out.body.collect().await.unwrap().into_bytes().to_vec();
    let mut forgeries = Vec::new();
    for at in [0, body.len() / 2, body.len() - 1] {
        let mut forged = body.clone();
        forged[at] ^= 1;
        forgeries.push(forged);
    }
    forgeries.push(body[..body.len() - 1].to_vec());
    forgeries.push(body[..10].to_vec());
    let target = dir.join("restored");
    for (number, forged) in forgeries.into_iter().enumerate() {
        let key = format!("forged-{number}");
        put_raw(&s3, &bucket, &key, &metadata, forged).await;
        let error =
            client.get_to_path(&bucket, &key, &target, &no_context(), &DownloadOptions::new()).await.unwrap_err();
        assert!(matches!(error, Error::Security(SecurityError::TagMismatch)), "{key}: {error}");
        assert!(entries(&dir).is_empty(), "{key}: {:?}", entries(&dir));
        // An existing destination is left as it was.
        std::fs::write(&target, b"previous").unwrap();
        client.get_to_path(&bucket, &key, &target, &no_context(), &DownloadOptions::new()).await.unwrap_err();
        assert_eq!(std::fs::read(&target).unwrap(), b"previous");
        assert_eq!(entries(&dir), vec!["restored".to_owned()]);
        std::fs::remove_file(&target).unwrap();
    }

    // Another key, a missing object: an error, no file.
    let other = S3EncryptionClient::new(s3.clone(), crypto(8));
    assert!(other.get_to_path(&bucket, "good", &target, &no_context(), &DownloadOptions::new()).await.is_err());
    assert!(client.get_to_path(&bucket, "absent", &target, &no_context(), &DownloadOptions::new()).await.is_err());
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_overwrite_an_existing_file_stays_and_get_into_writer_writes_the_plaintext() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("no-clobber").await;
    let client = S3EncryptionClient::new(s3.clone(), crypto(7));
    let dir = scratch("no-clobber");
    let plaintext = pattern(2 * MIB + 100, 5);
    client.put_object(&bucket, "object", &plaintext[..], &PutOptions::new()).await.unwrap();

    let target = dir.join("out.bin");
    std::fs::write(&target, b"keep me").unwrap();
    let keep = DownloadOptions::new().overwrite(false).sync(false);
    let error = client.get_to_path(&bucket, "object", &target, &no_context(), &keep).await.unwrap_err();
    assert!(matches!(&error, Error::Io(io) if io.kind() == std::io::ErrorKind::AlreadyExists), "{error}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    assert_eq!(entries(&dir), vec!["out.bin".to_owned()]);
    client.get_to_path(&bucket, "object", &target, &no_context(), &DownloadOptions::new()).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == plaintext);

    // The caller-managed form writes from the file's position and says how much it wrote.
    let mut file = tempfile::tempfile_in(&dir).unwrap();
    std::io::Write::write_all(&mut file, b"head").unwrap();
    let (mut file, download) = client.get_into_writer(&bucket, "object", file, &no_context()).await.unwrap();
    assert_eq!(download.plaintext_length, plaintext.len() as u64);
    let mut written = Vec::new();
    std::io::Seek::rewind(&mut file).unwrap();
    std::io::Read::read_to_end(&mut file, &mut written).unwrap();
    assert!(written[..4] == *b"head" && written[4..] == plaintext[..]);
    std::fs::remove_dir_all(dir).unwrap();
}
