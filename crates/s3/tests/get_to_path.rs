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

/// The child of the SIGKILL test below: a get to a file through a proxy that stalls mid-body
/// (does nothing unless that test started it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_of_the_kill_test() {
    let Ok(endpoint) = std::env::var("ENVELOPE_S3_KILL_TEST_ENDPOINT") else { return };
    let target = PathBuf::from(std::env::var("ENVELOPE_S3_KILL_TEST_TARGET").unwrap());
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .force_path_style(true)
        .build();
    let client = S3EncryptionClient::new(aws_sdk_s3::Client::from_conf(config), crypto(7));
    // Never returns: the proxy stops relaying the body and the parent kills this process.
    let outcome = client.get_to_path("killed", "object", &target, &no_context(), &DownloadOptions::new()).await;
    panic!("the stalled get returned: {outcome:?}");
}

/// Relays connections to `upstream`, but only the first `cap` bytes of each response stream:
/// a download that stalls mid-body, deterministically.
#[cfg(target_os = "linux")]
async fn stalling_proxy(upstream: std::net::SocketAddr, cap: u64) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut client_read, &mut server_write).await });
            tokio::spawn(async move {
                let mut relayed = 0u64;
                let mut buffer = vec![0u8; 64 << 10];
                while relayed < cap {
                    let want = buffer.len().min((cap - relayed) as usize);
                    let count = server_read.read(&mut buffer[..want]).await.unwrap_or(0);
                    if count == 0 || client_write.write_all(&buffer[..count]).await.is_err() {
                        return;
                    }
                    relayed += count as u64;
                }
                // Hold both ends open: the client waits for the rest of the body.
                std::future::pending::<()>().await;
                drop((server_read, client_write));
            });
        }
    });
    address
}

/// A process killed (SIGKILL) in the middle of a get to a file leaves the directory as it was:
/// the partial plaintext was in an unnamed (`O_TMPFILE`) file, freed by the kernel.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_killed_mid_download_leaves_the_directory_as_it_was() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    let bucket = moto.bucket("killed").await;
    let client = S3EncryptionClient::new(s3.clone(), crypto(7));
    client.put_object(&bucket, "object", &pattern(24 * MIB, 3)[..], &PutOptions::new()).await.unwrap();
    let dir = scratch("killed");
    let target = dir.join("restored.bin");
    std::fs::write(&target, b"previous").unwrap();
    std::fs::write(dir.join("neighbour"), b"other").unwrap();
    let before = entries(&dir);

    let upstream = moto.endpoint.trim_start_matches("http://").parse().unwrap();
    let proxy = stalling_proxy(upstream, 6 * MIB as u64).await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_of_the_kill_test", "--exact", "--nocapture", "--test-threads=1"])
        .env("ENVELOPE_S3_KILL_TEST_ENDPOINT", format!("http://{proxy}"))
        .env("ENVELOPE_S3_KILL_TEST_TARGET", &target)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the child holds a partial file in `dir` with plaintext in it, by its open files.
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let written = loop {
        assert!(std::time::Instant::now() < deadline, "the child never started writing");
        assert!(child.try_wait().unwrap().is_none(), "the child ended before it was killed");
        let partial = std::fs::read_dir(&fds).into_iter().flatten().flatten().find_map(|fd| {
            let link = std::fs::read_link(fd.path()).ok()?;
            (link.parent() == Some(dir.as_path())).then(|| (link, fd.path()))
        });
        if let Some((link, fd)) = partial {
            // An O_TMPFILE file shows as `DIR/#INODE (deleted)`: it has no name in DIR.
            assert!(link.to_string_lossy().ends_with(" (deleted)"), "a named partial file: {}", link.display());
            let size = std::fs::metadata(&fd).map(|m| m.len()).unwrap_or(0);
            if size >= MIB as u64 {
                break size;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(entries(&dir) == before, "visible while running: {:?}", entries(&dir));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(entries(&dir), before, "after the kill ({written} bytes had been written)");
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    std::fs::remove_dir_all(dir).unwrap();
}
