//! `envelope s3 put|get|rm`: client-side encrypted S3 objects in the Amazon S3 Encryption Client
//! format (envelope-s3), with a KMS key (the embedded emulator by default, as `envelope encrypt`).
//!
//! S3 comes from the usual AWS configuration (`AWS_ENDPOINT_URL_S3` for S3-compatible servers,
//! path-style addressing when that endpoint is an IP address or `localhost`). A get writes its
//! output through a temporary file renamed into place only after the object authenticated, so a
//! failed get leaves no output file.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use aws_config::meta::region::RegionProviderChain;
use envelope_s3::client::{AddressingStyle, ByteRange, PutOptions, S3EncryptionClient, s3_config};
use envelope_s3::error::Error as S3Error;
use envelope_s3::wrap::{KmsDiscoveryKeyring, KmsKeyring};
use envelope_s3::{CommitmentPolicy, ContentSuite, ObjectCrypto};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::crypt::atomic_output::{PendingFile, PendingFiles};
use crate::crypt::progress::Progress;
use crate::crypt::settings::parse_policy;
use crate::exit_code::{Failure, Kind};
use crate::kms_choice::{KmsArgs, KmsSession};

/// Subcommands of `envelope s3`.
#[derive(Debug, clap::Subcommand)]
pub enum S3Command {
    /// Encrypt a file or stdin and put it as an S3 object (multipart above 8 MiB).
    Put(PutArgs),
    /// Get an S3 object and decrypt it to a file or stdout; nothing is written unless it authenticates.
    Get(GetArgs),
    /// Delete an S3 object and its instruction file.
    Rm(RmArgs),
    /// Re-wrap an object's data key under a new KMS key (key rotation): only its instruction file
    /// is rewritten, the object is untouched.
    Rewrap(RewrapArgs),
}

/// The object's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Key-committing AES-256-GCM (0x0073), the default.
    V3,
    /// AES-256-GCM (0x0072), for readers that predate V3; needs --commitment-policy forbid-encrypt-allow-decrypt.
    V2,
}

/// `envelope s3 put`.
#[derive(Debug, clap::Args)]
pub struct PutArgs {
    /// The object: s3://BUCKET/KEY.
    #[arg(value_name = "s3://BUCKET/KEY")]
    uri: String,
    /// The plaintext: a file, or - for stdin.
    #[arg(short = 'i', long = "input", value_name = "FILE|-")]
    input: String,
    /// The KMS key: key=KEY (key ARN, key id or alias).
    #[arg(short = 'w', long = "wrapping-keys", value_name = "key=KMS_KEY", required = true)]
    wrapping_keys: Vec<String>,
    /// The object format.
    #[arg(long, value_enum, default_value = "v3")]
    format: Format,
    /// Store the metadata in <KEY>.instruction instead of the object's metadata.
    #[arg(long)]
    instruction_file: bool,
    /// forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or require-encrypt-require-decrypt (default).
    #[arg(long, value_name = "POLICY")]
    commitment_policy: Option<String>,
    /// Encryption context pairs NAME=VALUE (a get must give exactly the same).
    #[arg(short = 'c', long = "encryption-context", value_name = "NAME=VALUE", num_args = 1..)]
    encryption_context: Vec<String>,
    #[command(flatten)]
    kms: KmsArgs,
}

/// `envelope s3 get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The object: s3://BUCKET/KEY.
    #[arg(value_name = "s3://BUCKET/KEY")]
    uri: String,
    /// Read the metadata from <KEY><SUFFIX> (an instruction file a re-wrap wrote for another key).
    #[arg(long, value_name = "SUFFIX", default_value = ".instruction")]
    instruction_suffix: String,
    /// Where the plaintext goes: a file, or - for stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE|-")]
    output: String,
    /// The KMS key: key=KEY (key ARN, key id or alias), or discovery=true (any key KMS lets you use).
    #[arg(short = 'w', long = "wrapping-keys", value_name = "key=KMS_KEY|discovery=true", required = true)]
    wrapping_keys: Vec<String>,
    /// Read only this byte range (bytes=A-B, bytes=A- or bytes=-N). UNAUTHENTICATED: the tag covers
    /// the whole object, so a range cannot be checked; this flag is your opt-in.
    #[arg(long, value_name = "bytes=A-B")]
    range: Option<String>,
    /// Also read legacy objects: CBC content (unauthenticated) and legacy key wraps.
    #[arg(long)]
    legacy: bool,
    /// forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or require-encrypt-require-decrypt (default; V2 objects need require-encrypt-allow-decrypt).
    #[arg(long, value_name = "POLICY")]
    commitment_policy: Option<String>,
    /// The encryption context given at put, exactly (NAME=VALUE ...).
    #[arg(short = 'c', long = "encryption-context", value_name = "NAME=VALUE", num_args = 1..)]
    encryption_context: Vec<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    kms: KmsArgs,
}

/// `envelope s3 rewrap`.
#[derive(Debug, clap::Args)]
pub struct RewrapArgs {
    /// The object: s3://BUCKET/KEY (its metadata must be in an instruction file).
    #[arg(value_name = "s3://BUCKET/KEY")]
    uri: String,
    /// Write the re-wrapped key to <KEY><SUFFIX> beside <KEY>.instruction instead of replacing it.
    #[arg(long, value_name = "SUFFIX", default_value = ".instruction")]
    instruction_suffix: String,
    /// The current KMS key: key=KEY (key ARN, key id or alias), or discovery=true.
    #[arg(short = 'w', long = "wrapping-keys", value_name = "key=KMS_KEY|discovery=true", required = true)]
    wrapping_keys: Vec<String>,
    /// The new KMS key: key=KEY.
    #[arg(long = "new-wrapping-keys", value_name = "key=KMS_KEY", required = true)]
    new_wrapping_keys: Vec<String>,
    /// forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or require-encrypt-require-decrypt (default; V2 objects need require-encrypt-allow-decrypt).
    #[arg(long, value_name = "POLICY")]
    commitment_policy: Option<String>,
    /// The encryption context given at put, exactly (NAME=VALUE ...); the new wrap keeps it.
    #[arg(short = 'c', long = "encryption-context", value_name = "NAME=VALUE", num_args = 1..)]
    encryption_context: Vec<String>,
    #[command(flatten)]
    kms: KmsArgs,
}

/// `envelope s3 rm`.
#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// The object: s3://BUCKET/KEY.
    #[arg(value_name = "s3://BUCKET/KEY")]
    uri: String,
    /// Also delete <KEY><SUFFIX> (an instruction file a re-wrap wrote); <KEY>.instruction always goes.
    #[arg(long, value_name = "SUFFIX", default_value = ".instruction")]
    instruction_suffix: String,
}

/// Runs `envelope s3 ...`.
pub fn run(command: S3Command) -> anyhow::Result<ExitCode> {
    let runtime = crate::runtime::start()?;
    let result = runtime.block_on(async {
        match command {
            S3Command::Put(args) => put(args).await,
            S3Command::Get(args) => get(args).await,
            S3Command::Rm(args) => rm(args).await,
            S3Command::Rewrap(args) => rewrap(args).await,
        }
    });
    Ok(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("envelope: {failure}");
            failure.kind.exit_code()
        }
    })
}

/// `s3://BUCKET/KEY` → (bucket, key).
fn parse_uri(uri: &str) -> Result<(String, String), Failure> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| Failure::usage(format!("{uri:?}: expected s3://BUCKET/KEY")))?;
    match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok((bucket.to_owned(), key.to_owned())),
        _ => Err(Failure::usage(format!("{uri:?}: expected s3://BUCKET/KEY"))),
    }
}

/// `-c NAME=VALUE ...` as a map (a name given twice is an error).
fn parse_context(items: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut context = BTreeMap::new();
    for item in items {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--encryption-context {item:?}: expected NAME=VALUE")))?;
        if name.is_empty() || context.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(Failure::usage(format!("--encryption-context {item:?}: empty or repeated name")));
        }
    }
    Ok(context)
}

/// What `-w` names.
enum KeyChoice {
    Key(String),
    Discovery,
}

fn parse_wrapping_keys(items: &[String], allow_discovery: bool) -> Result<KeyChoice, Failure> {
    let [item] = items else {
        return Err(Failure::usage(
            "--wrapping-keys: an S3 object has exactly one wrapped key; give one key=... group",
        ));
    };
    match item.split_once('=') {
        Some(("key", key)) if !key.is_empty() => Ok(KeyChoice::Key(key.to_owned())),
        Some(("discovery", "true")) if allow_discovery => Ok(KeyChoice::Discovery),
        _ => Err(Failure::usage(format!(
            "--wrapping-keys {item:?}: expected key=KMS_KEY{}",
            if allow_discovery { " or discovery=true" } else { "" }
        ))),
    }
}

/// The KMS keyring of a key ARN, key id or alias (resolved with DescribeKey), in the key's Region.
async fn kms_keyring(session: &KmsSession, key: &str) -> Result<KmsKeyring, Failure> {
    let region = session.region_for(key, None).map_err(|error| Failure::new(Kind::Usage, error))?;
    let client = session.client(&region).map_err(|error| Failure::new(Kind::Kms, error))?;
    KmsKeyring::resolve(key, client).await.map_err(failure)
}

async fn crypto(session: &KmsSession, choice: KeyChoice) -> Result<ObjectCrypto, Failure> {
    match choice {
        KeyChoice::Key(key) => Ok(ObjectCrypto::new(kms_keyring(session, &key).await?)),
        KeyChoice::Discovery => {
            let region =
                session.region(None).ok_or_else(|| Failure::usage("discovery=true needs a Region: set AWS_REGION"))?;
            let client = session.client(&region).map_err(|error| Failure::new(Kind::Kms, error))?;
            Ok(ObjectCrypto::new(KmsDiscoveryKeyring::new(client)))
        }
    }
}

/// The S3 client from the AWS configuration (us-east-1 when none names a Region).
async fn s3_client() -> aws_sdk_s3::Client {
    let region = RegionProviderChain::default_provider().or_else("us-east-1");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region).load().await;
    aws_sdk_s3::Client::from_conf(s3_config(&sdk, AddressingStyle::Auto))
}

fn policy(text: &Option<String>) -> Result<CommitmentPolicy, Failure> {
    text.as_deref()
        .map(parse_policy)
        .transpose()
        .map(|policy| policy.unwrap_or(CommitmentPolicy::RequireEncryptRequireDecrypt))
}

async fn put(args: PutArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_uri(&args.uri)?;
    let context = parse_context(&args.encryption_context)?;
    let choice = parse_wrapping_keys(&args.wrapping_keys, false)?;
    let policy = policy(&args.commitment_policy)?;
    let suite = match args.format {
        Format::V3 => ContentSuite::AesGcmCommitting,
        Format::V2 => ContentSuite::AesGcm,
    };
    let input = match args.input.as_str() {
        "-" => None,
        path => Some(tokio::fs::File::open(path).await.map_err(|error| Failure::files(format!("{path}: {error}")))?),
    };
    let size = match &input {
        Some(file) => file.metadata().await.ok().map(|metadata| metadata.len()),
        None => None,
    };
    let progress = Progress::for_input(size, false, "put");
    let session = KmsSession::open(&args.kms).await.map_err(|error| Failure::new(Kind::Kms, error))?;
    eprintln!("envelope: using {}", session.description());
    let result = async {
        let crypto =
            crypto(&session, choice).await?.commitment_policy(policy).content_suite(suite).map_err(|error| {
                Failure::usage(format!(
                "--format {:?} with --commitment-policy {}: {error} (V2 is written under forbid-encrypt-allow-decrypt)",
                args.format,
                policy.name()
            ))
            })?;
        let client = S3EncryptionClient::new(s3_client().await, crypto).instruction_file(args.instruction_file);
        let options = PutOptions::new().encryption_context(context);
        let outcome = match input {
            Some(file) => {
                client.put_object(&bucket, &key, Counted { inner: file, progress: progress.clone() }, &options).await
            }
            None => client.put_object(&bucket, &key, tokio::io::stdin(), &options).await,
        }
        .map_err(failure);
        progress.finish();
        let outcome = outcome?;
        eprintln!(
            "envelope: put s3://{bucket}/{key}: {} bytes, {:?}, {}",
            outcome.plaintext_length,
            outcome.metadata.version(),
            if outcome.parts == 0 { "one request".to_owned() } else { format!("{} parts", outcome.parts) }
        );
        Ok::<(), Failure>(())
    }
    .await;
    session.close().await;
    result
}

async fn get(args: GetArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_uri(&args.uri)?;
    let context = parse_context(&args.encryption_context)?;
    let choice = parse_wrapping_keys(&args.wrapping_keys, true)?;
    let policy = policy(&args.commitment_policy)?;
    let range = args.range.as_deref().map(str::parse::<ByteRange>).transpose().map_err(failure)?;
    let registry = PendingFiles::default();
    let mut pending = match args.output.as_str() {
        "-" => None,
        path => {
            let target = PathBuf::from(path);
            if target.exists() && !args.overwrite {
                return Err(Failure::files(format!("{path} exists; use --overwrite to replace it")));
            }
            Some(
                PendingFile::create(&target, true, &registry)
                    .map_err(|error| Failure::files(format!("{path}: {error}")))?,
            )
        }
    };
    // Ctrl-C removes the temporary output, as for `envelope decrypt`.
    let interrupts = tokio::spawn(crate::crypt::remove_pending_on_interrupt(registry.clone()));
    let session = KmsSession::open(&args.kms).await.map_err(|error| Failure::new(Kind::Kms, error))?;
    eprintln!("envelope: using {}", session.description());
    let result = async {
        let crypto = crypto(&session, choice)
            .await?
            .commitment_policy(policy)
            .legacy_wrapping_algorithms(args.legacy)
            .legacy_unauthenticated_modes(args.legacy || range.is_some());
        let s3 = s3_client().await;
        let client = S3EncryptionClient::new(s3.clone(), crypto).with_instruction_suffix(&args.instruction_suffix);
        let mut sink: Box<dyn std::io::Write + Send> = match pending.as_mut() {
            Some(file) => Box::new(file.file().try_clone().map_err(Failure::from)?),
            None => Box::new(std::io::stdout()),
        };
        if let Some(range) = range {
            eprintln!(
                "envelope: warning: --range reads {range} WITHOUT authentication (the tag covers the whole object)"
            );
            let mut stream = client.get_range_stream(&bucket, &key, range, &context).await.map_err(failure)?;
            let mut chunk = vec![0u8; 256 << 10];
            loop {
                let count = stream.read(&mut chunk).await.map_err(|error| failure(S3Error::from(error)))?;
                if count == 0 {
                    break;
                }
                sink.write_all(&chunk[..count])?;
            }
        } else if let Some(file) = pending.as_mut() {
            // One pass: decrypted straight into the temporary output, which is renamed into place
            // (commit, below) only because this returned Ok, i.e. after the tag verified; on any
            // error or Ctrl-C the temporary file is deleted. The bar's size costs a HeadObject,
            // made only when the bar can show.
            let size = match std::io::stderr().is_terminal() {
                true => s3.head_object().bucket(&bucket).key(&key).send().await.ok().and_then(|head| {
                    head.content_length()
                        .and_then(|length| u64::try_from(length).ok())
                        .map(|length| length.saturating_sub(16))
                }),
                false => None,
            };
            let progress = Progress::for_input(size, false, "get");
            let writer = ProgressWriter { inner: file.file().try_clone()?, progress: progress.clone() };
            let outcome = client.get_into_writer(&bucket, &key, writer, &context).await.map_err(failure);
            progress.finish();
            outcome?;
        } else {
            // Under the default policy nothing comes out of the reader before the tag verified.
            let mut object = client.get_object(&bucket, &key, &context).await.map_err(failure)?;
            let progress = Progress::for_input(object.plaintext_length(), false, "get");
            let mut chunk = vec![0u8; 256 << 10];
            let copied = async {
                loop {
                    let count = object.read(&mut chunk).await.map_err(|error| failure(S3Error::from(error)))?;
                    if count == 0 {
                        return Ok::<(), Failure>(());
                    }
                    sink.write_all(&chunk[..count])?;
                    progress.advance(count as u64);
                }
            }
            .await;
            progress.finish();
            copied?;
        }
        sink.flush()?;
        Ok::<(), Failure>(())
    }
    .await;
    session.close().await;
    let committed = result.and_then(|()| match pending {
        Some(file) => file.commit(args.overwrite).map_err(|error| Failure::files(format!("{}: {error}", args.output))),
        None => Ok(()),
    });
    interrupts.abort();
    committed
}

async fn rewrap(args: RewrapArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_uri(&args.uri)?;
    let context = parse_context(&args.encryption_context)?;
    let old = parse_wrapping_keys(&args.wrapping_keys, true)?;
    let KeyChoice::Key(new) = parse_wrapping_keys(&args.new_wrapping_keys, false)? else {
        return Err(Failure::usage("--new-wrapping-keys: expected key=KMS_KEY"));
    };
    let policy = policy(&args.commitment_policy)?;
    let session = KmsSession::open(&args.kms).await.map_err(|error| Failure::new(Kind::Kms, error))?;
    eprintln!("envelope: using {}", session.description());
    let result = async {
        let crypto = crypto(&session, old).await?.commitment_policy(policy);
        let new_keyring = kms_keyring(&session, &new).await?;
        let client =
            S3EncryptionClient::new(s3_client().await, crypto).with_instruction_suffix(&args.instruction_suffix);
        client.rewrap_instruction_file(&bucket, &key, &new_keyring, &context).await.map_err(failure)?;
        eprintln!("envelope: re-wrapped s3://{bucket}/{key}'s data key under {new}");
        Ok::<(), Failure>(())
    }
    .await;
    session.close().await;
    result
}

async fn rm(args: RmArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_uri(&args.uri)?;
    // No key is needed to delete; the encryption configuration is irrelevant.
    let placeholder = envelope_s3::wrap::AesGcmKeyring::new(vec![0; 32], BTreeMap::new()).map_err(failure)?;
    let client = S3EncryptionClient::new(s3_client().await, ObjectCrypto::new(placeholder))
        .with_instruction_suffix(&args.instruction_suffix);
    client.delete_object(&bucket, &key).await.map_err(failure)?;
    eprintln!("envelope: deleted s3://{bucket}/{key} and its instruction file");
    Ok(())
}

/// A writer whose bytes advance the progress bar.
struct ProgressWriter<W> {
    inner: W,
    progress: Progress,
}

impl<W: std::io::Write> std::io::Write for ProgressWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let count = self.inner.write(bytes)?;
        self.progress.advance(count as u64);
        Ok(count)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader whose bytes advance the progress bar.
struct Counted<R> {
    inner: R,
    progress: Progress,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.progress.advance(read as u64);
        polled
    }
}

/// envelope-s3's errors with the documented exit codes.
fn failure(error: S3Error) -> Failure {
    let kind = match &error {
        S3Error::Usage(_)
        | S3Error::InvalidRange(_)
        | S3Error::Policy(envelope_s3::error::PolicyViolation::ReservedContextKey(_)) => Kind::Usage,
        S3Error::Io(_) => Kind::Files,
        S3Error::S3 { .. } | S3Error::Keyring(_) => Kind::Kms,
        _ => Kind::Message,
    };
    Failure::new(kind, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_contexts_and_keys_parse_or_fail_as_usage() {
        assert_eq!(parse_uri("s3://b/k/with/slashes").unwrap(), ("b".into(), "k/with/slashes".into()));
        for bad in ["b/k", "s3://b", "s3:///k", "s3://b/"] {
            assert_eq!(parse_uri(bad).unwrap_err().kind, Kind::Usage, "{bad}");
        }
        assert_eq!(parse_context(&["a=b".into(), "c=".into()]).unwrap().len(), 2);
        assert!(parse_context(&["a=b".into(), "a=c".into()]).is_err());
        assert!(parse_context(&["nopair".into()]).is_err());
        assert!(matches!(parse_wrapping_keys(&["key=alias/x".into()], false), Ok(KeyChoice::Key(_))));
        assert!(matches!(parse_wrapping_keys(&["discovery=true".into()], true), Ok(KeyChoice::Discovery)));
        assert!(parse_wrapping_keys(&["discovery=true".into()], false).is_err());
        assert!(parse_wrapping_keys(&["key=a".into(), "key=b".into()], false).is_err());
    }
}
