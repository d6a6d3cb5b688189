//! Test harness: an emulator on 127.0.0.1:0 and an aws-sdk-kms client pointed at it.
#![allow(dead_code)]

use std::path::PathBuf;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use envelope_kms_local::Settings;
use tokio::sync::oneshot;

/// A running emulator; stops when dropped.
pub struct Running {
    pub endpoint: String,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops the server and waits for it (audit log flushed).
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A fresh temporary data directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let mut b = [0u8; 8];
    aws_lc_rs_fill(&mut b);
    let d = std::env::temp_dir().join(format!("kms-test-{tag}-{}", hex(&b)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn aws_lc_rs_fill(b: &mut [u8]) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let pid = std::process::id() as u128;
    let v = nanos ^ (pid << 64);
    for (i, x) in b.iter_mut().enumerate() {
        *x = (v >> (i * 8)) as u8;
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Starts an emulator with `settings`.
pub async fn start(settings: Settings) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let data_dir = settings.data_dir.clone();
    let task = tokio::spawn(async move {
        envelope_kms_local::launch_with_listener(settings, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running { endpoint: format!("http://{addr}"), data_dir, stop: Some(tx), task: Some(task) }
}

/// Settings for a fresh data dir with a fixed root key (so tests do not depend on the env).
pub fn settings(tag: &str) -> Settings {
    let mut s = Settings::new(temp_dir(tag));
    s.root_key = None;
    s
}

/// The strict-mode users the authorization tests act as: alice and mallory in the key owners'
/// account 111122223333, bob in 444455556666, carol in 777788889999.
const USERS: &str = r#"{"credentials": [
  {"access_key_id": "AKIAALICE", "secret_access_key": "alice-secret", "principal": "arn:aws:iam::111122223333:user/alice"},
  {"access_key_id": "AKIAMALLORY", "secret_access_key": "mallory-secret", "principal": "arn:aws:iam::111122223333:user/mallory"},
  {"access_key_id": "AKIABOB", "secret_access_key": "bob-secret", "principal": "arn:aws:iam::444455556666:user/bob"},
  {"access_key_id": "AKIACAROL", "secret_access_key": "carol-secret", "principal": "arn:aws:iam::777788889999:user/carol"}
]}"#;

/// Settings for a fresh data dir in strict mode, knowing the [`USERS`].
pub fn strict_settings(tag: &str) -> Settings {
    let mut s = settings(tag);
    let path = s.data_dir.join("credentials.json");
    std::fs::write(&path, USERS).unwrap();
    s.credentials = Some(path);
    s
}

/// A us-east-1 client signing as one of the [`USERS`] ("alice", "mallory", "bob" or "carol").
pub async fn as_user(srv: &Running, who: &str) -> aws_sdk_kms::Client {
    let (akid, secret) = match who {
        "alice" => ("AKIAALICE", "alice-secret"),
        "mallory" => ("AKIAMALLORY", "mallory-secret"),
        "bob" => ("AKIABOB", "bob-secret"),
        "carol" => ("AKIACAROL", "carol-secret"),
        other => panic!("no test user {other}"),
    };
    client_with(&srv.endpoint, "us-east-1", akid, secret).await
}

/// A client for `region` with static credentials.
pub async fn client_with(endpoint: &str, region: &str, akid: &str, secret: &str) -> aws_sdk_kms::Client {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(akid, secret, None, None, "static"))
        .load()
        .await;
    aws_sdk_kms::Client::new(&conf)
}

/// A client for us-east-1 with dummy credentials.
pub async fn client(endpoint: &str) -> aws_sdk_kms::Client {
    client_with(endpoint, "us-east-1", "AKIDTEST", "secret").await
}

/// The service error code of an SDK error.
pub fn code<E, R>(e: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()).unwrap_or("<not a service error>").to_owned()
}
