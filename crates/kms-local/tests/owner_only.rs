//! An emulator only its data directory's owner can use (the CLI's embedded mode): requests must
//! be signed with the owner credential that only the owner can read, and the directory and its
//! files are private.

mod common;

use std::io::{Read, Write};

use aws_sdk_kms::primitives::Blob;
use envelope_kms_local::{OwnerCredential, Settings};

fn owner_settings(tag: &str) -> (Settings, OwnerCredential) {
    let dir = common::temp_dir(tag).join("kms");
    let (mut settings, credential) = Settings::owner_only(&dir).expect("owner-only settings");
    settings.root_key = None;
    (settings, credential)
}

/// A raw, unsigned KMS request (what `curl` would send); returns the response's status line and
/// body.
fn unsigned(endpoint: &str, target: &str) -> (String, String) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let body = "{}";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.{target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test]
async fn only_the_owner_credential_is_accepted() {
    let (settings, credential) = owner_settings("owner-only");
    let run = common::start(settings).await;
    let owner =
        common::client_with(&run.endpoint, "us-east-1", credential.access_key_id(), credential.secret_access_key())
            .await;
    let key = owner.create_key().send().await.expect("the owner creates a key");
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let ct = owner
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"owner data".to_vec()))
        .send()
        .await
        .expect("the owner encrypts");
    let blob = ct.ciphertext_blob().unwrap().clone();
    owner.decrypt().ciphertext_blob(blob.clone()).send().await.expect("the owner decrypts");

    // Anyone else on the machine: another credential, the owner's access key id with a guessed
    // secret, and no signature at all.
    let stranger = common::client_with(&run.endpoint, "us-east-1", "AKIDSTRANGER", "secret").await;
    let e = stranger.decrypt().ciphertext_blob(blob.clone()).send().await.expect_err("a stranger is refused");
    assert_eq!(common::code(&e), "UnrecognizedClientException");
    let e = stranger.list_keys().send().await.expect_err("a stranger cannot list keys");
    assert_eq!(common::code(&e), "UnrecognizedClientException");
    let guesser = common::client_with(&run.endpoint, "us-east-1", credential.access_key_id(), "guessed").await;
    let e = guesser.schedule_key_deletion().key_id(&key_id).send().await.expect_err("a wrong secret is refused");
    assert_eq!(common::code(&e), "InvalidSignatureException");
    let endpoint = run.endpoint.clone();
    let (status, body) = tokio::task::spawn_blocking(move || unsigned(&endpoint, "ListKeys")).await.unwrap();
    assert!(status.contains(" 400 "), "unsigned request refused: {status} {body}");
    assert!(body.contains("MissingAuthenticationToken"), "{body}");

    // Nothing the strangers tried took effect.
    let described = owner.describe_key().key_id(&key_id).send().await.expect("describe");
    assert_eq!(described.key_metadata().unwrap().key_state().unwrap().as_str(), "Enabled");
    run.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn data_directory_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (settings, _credential) = owner_settings("owner-modes");
    let dir = settings.data_dir.clone();
    let run = common::start(settings).await;
    let client = common::client(&run.endpoint).await;
    let _ = client.list_keys().send().await;
    run.stop().await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode(&dir).unwrap(), 0o700, "data directory");
    // Every file the emulator left: the owner credential, the root key file, the database and
    // whatever SQLite keeps beside it.
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path).unwrap(), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 3, "owner credential, root key and database: {files} files");
    assert!(envelope_kms_local::db_path(&dir).exists());
}

#[cfg(unix)]
#[test]
fn an_existing_open_directory_is_narrowed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::temp_dir("owner-narrow");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    Settings::owner_only(&dir).expect("credential");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_first_uses_agree_on_one_credential() {
    let dir = common::temp_dir("owner-race").join("kms");
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| Settings::owner_only(&dir).expect("credential").1.access_key_id().to_owned()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let (_, again) = Settings::owner_only(&dir).unwrap();
    assert_eq!(again.access_key_id(), ids[0]);
    assert!(!format!("{again:?}").contains(again.secret_access_key()), "Debug hides the secret");
}
