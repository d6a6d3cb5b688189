//! `envelope encrypt` and `envelope decrypt`: aws-encryption-cli's job, with outputs that appear
//! only when complete, the embedded KMS emulator as the default KMS, and documented exit codes.
//!
//! The flow: check the flags (usage errors before anything runs) → plan the jobs (file errors
//! before anything is written) → connect to KMS if a KMS key is named → build the keyring → run
//! each job, reporting failures and carrying on with the next → exit with the worst failure's code.

pub mod args;
pub(crate) mod atomic_output;
pub(crate) mod hierarchy;
mod job;
mod key_file;
mod keyrings;
mod metadata;
mod plan;
pub(crate) mod progress;
pub(crate) mod settings;
pub(crate) mod wrapping_keys;

use std::process::ExitCode;
use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::{Client, DecryptOptions, EncryptOptions, Keyring};

use self::args::{CommonArgs, DecryptArgs, EncryptArgs};
use self::atomic_output::PendingFiles;
use self::hierarchy::KeyStoreErrors;
use self::job::{DecryptSettings, Decrypted, EncryptSettings};
use self::keyrings::Direction;
use self::metadata::{ContextMismatch, MetadataSink, Mode};
use self::plan::{Job, PlanRequest, Source, Target};
use crate::exit_code::{Failure, Kind};
use crate::kms_choice::KmsSession;

/// Runs `envelope encrypt`.
pub fn run_encrypt(args: EncryptArgs) -> ExitCode {
    let prepared = (|| {
        let suite = args
            .algorithm
            .as_deref()
            .map(|text| settings::parse_suite(text).map_err(|failure| failure.context("--algorithm")))
            .transpose()?;
        let context = settings::parse_context_pairs(&args.common.encryption_context)?;
        if args.frame_length == 0 {
            return Err(Failure::usage("--frame-length must be at least 1"));
        }
        let mut options = EncryptOptions::new().encryption_context(context).frame_length(args.frame_length);
        if let Some(suite) = suite {
            options = options.algorithm_suite(suite);
        }
        Ok(options)
    })();
    let common = &args.common;
    run(common, Direction::Encrypt, ".encrypted", prepared, |session| {
        let settings = EncryptSettings {
            options: session.options,
            encode: args.encode,
            overwrite: common.overwrite,
            quiet: common.quiet,
            pending: session.pending,
        };
        let info = job::encrypt(session.client, &settings, session.job)?;
        Ok(Outcome::Done(metadata::record(Mode::Encrypt, &session.job.source, &session.job.target, &info, None)))
    })
}

/// Runs `envelope decrypt`.
pub fn run_decrypt(args: DecryptArgs) -> ExitCode {
    let prepared = (|| {
        let (pairs, required_keys) = settings::parse_required_context(&args.common.encryption_context)?;
        let mut options = DecryptOptions::new();
        if !pairs.is_empty() {
            options = options.encryption_context(pairs);
        }
        if args.decrypt_unsigned {
            options = options.unsigned_only();
        }
        Ok((options, required_keys))
    })();
    let common = &args.common;
    let mode = if args.decrypt_unsigned { Mode::DecryptUnsigned } else { Mode::Decrypt };
    let (prepared, required_keys) = match prepared {
        Ok((options, keys)) => (Ok(options), keys),
        Err(failure) => (Err(failure), Vec::new()),
    };
    run(common, Direction::Decrypt, ".decrypted", prepared, |session| {
        let settings = DecryptSettings {
            options: session.options,
            required_keys: &required_keys,
            decode: args.decode,
            buffer: args.buffer,
            overwrite: common.overwrite,
            quiet: common.quiet,
            pending: session.pending,
        };
        match job::decrypt(session.client, &settings, session.job)? {
            Decrypted::Written(info) => {
                Ok(Outcome::Done(metadata::record(mode, &session.job.source, &session.job.target, &info, None)))
            }
            Decrypted::MissingKeys(info, missing_keys) => {
                let mismatch = ContextMismatch { missing_keys: missing_keys.clone(), missing_pairs: Vec::new() };
                let record = metadata::record(mode, &session.job.source, &session.job.target, &info, Some(&mismatch));
                let failure = Failure::new(
                    Kind::Message,
                    anyhow::anyhow!(
                        "the message's encryption context lacks the required key(s) {}; nothing was written",
                        missing_keys.join(", ")
                    ),
                );
                Ok(Outcome::Refused(record, failure))
            }
        }
    })
}

/// What one job produced.
enum Outcome {
    /// Done; its metadata line.
    Done(serde_json::Value),
    /// Refused (nothing written); its metadata line and why.
    Refused(serde_json::Value, Failure),
}

/// What a job needs from the run.
struct JobSession<'a, O> {
    client: &'a BlockingClient,
    options: &'a O,
    job: &'a Job,
    pending: &'a PendingFiles,
}

fn run<O>(
    common: &CommonArgs,
    direction: Direction,
    default_suffix: &str,
    options: Result<O, Failure>,
    mut each: impl FnMut(JobSession<'_, O>) -> Result<Outcome, Failure>,
) -> ExitCode {
    let verb = match direction {
        Direction::Encrypt => "encrypted",
        Direction::Decrypt => "decrypted",
    };
    let prepared =
        options.and_then(|options| prepare(common, direction, default_suffix).map(|prepared| (options, prepared)));
    let (options, prepared) = match prepared {
        Ok(prepared) => prepared,
        Err(failure) => return report(&failure),
    };
    let Prepared { runtime, client, jobs, mut metadata, kms, key_store_errors } = prepared;
    let pending = PendingFiles::default();
    runtime.spawn(remove_pending_on_interrupt(pending.clone()));
    let mut worst: Option<Kind> = None;
    for job in &jobs {
        let outcome = each(JobSession { client: &client, options: &options, job, pending: &pending });
        let (record, failure) = match outcome {
            Ok(Outcome::Done(record)) => (Some(record), None),
            Ok(Outcome::Refused(record, failure)) => (Some(record), Some(failure)),
            Err(failure) => (None, Some(failure)),
        };
        // A branch key store that failed during this job says what to do about it.
        let failure = match failure {
            Some(failure) => Some(key_store_errors.explain(failure)),
            None => {
                key_store_errors.take();
                None
            }
        };
        if let (Some(record), Some(sink)) = (record, metadata.as_mut()) {
            if let Err(error) = sink.write(&record) {
                let failure = Failure::files(format!("cannot write --metadata-output: {error}"));
                report(&failure);
                worst = worst.max(Some(failure.kind));
            }
        }
        match failure {
            Some(failure) => {
                let kind = failure.kind;
                report(&failure.context(describe(job)));
                worst = worst.max(Some(kind));
            }
            None => {
                if common.verbose > 0 && !common.quiet {
                    eprintln!("envelope: {verb} {}", describe(job));
                }
            }
        }
    }
    if let Some(kms) = kms {
        runtime.block_on(kms.close());
    }
    match worst {
        None => ExitCode::SUCCESS,
        Some(kind) => kind.exit_code(),
    }
}

/// Everything a run needs once the flags are known to be good.
struct Prepared {
    /// Runs the interrupt handler and every KMS call; the client's materials step runs on it.
    runtime: tokio::runtime::Runtime,
    client: BlockingClient,
    jobs: Vec<Job>,
    metadata: Option<MetadataSink>,
    kms: Option<KmsSession>,
    /// Failures of the branch key stores (hierarchy groups), typed.
    key_store_errors: KeyStoreErrors,
}

fn prepare(common: &CommonArgs, direction: Direction, default_suffix: &str) -> Result<Prepared, Failure> {
    let policy = common.commitment_policy.as_deref().map(settings::parse_policy).transpose()?.unwrap_or_default();
    let groups = common
        .wrapping_key_groups
        .iter()
        .map(|group| wrapping_keys::parse_group(group))
        .collect::<Result<Vec<_>, _>>()?;
    if groups.is_empty() {
        return Err(Failure::usage(
            "name the wrapping keys: --wrapping-keys key=KMS_KEY (or discovery=true to decrypt), or provider=NAMESPACE key=NAME key-file=PATH",
        ));
    }
    if direction == Direction::Encrypt
        && groups.iter().any(|group| matches!(group, wrapping_keys::WrappingKeys::KmsDiscovery { .. }))
    {
        return Err(Failure::usage(
            "--wrapping-keys discovery=true only decrypts; name the keys to encrypt under with key=",
        ));
    }
    if common.max_encrypted_data_keys == Some(0) {
        return Err(Failure::usage("--max-encrypted-data-keys must be at least 1"));
    }
    let suffix = common.suffix.as_deref().unwrap_or(default_suffix);
    let jobs = plan::plan(&PlanRequest {
        inputs: &common.input,
        output: &common.output,
        recursive: common.recursive,
        suffix,
        overwrite: common.overwrite,
    })?;
    let metadata = match &common.metadata_output {
        Some(path) => {
            if path.as_os_str() == "-" && jobs.iter().any(|job| job.target == Target::Stdout) {
                return Err(Failure::usage(
                    "--metadata-output - and --output - would both write to stdout; send one to a file",
                ));
            }
            let clashes = jobs.iter().any(|job| match (&job.source, &job.target) {
                (Source::File(input), _) if plan::same_path(input, path) => true,
                (_, Target::File(output)) if plan::same_path(output, path) => true,
                _ => false,
            });
            if clashes {
                return Err(Failure::usage(format!("--metadata-output {} is also an input or output", path.display())));
            }
            Some(MetadataSink::open(path, common.overwrite_metadata).map_err(|error| {
                Failure::files(format!("cannot open --metadata-output {}: {error}", path.display()))
            })?)
        }
        None => None,
    };
    let runtime = crate::runtime::start()
        .map_err(|error| Failure::new(Kind::Files, anyhow::anyhow!("cannot start the async runtime: {error}")))?;
    let kms = if keyrings::needs_kms(&groups) {
        let session =
            runtime.block_on(KmsSession::open(&common.kms)).map_err(|error| Failure::new(Kind::Kms, error))?;
        if !common.quiet {
            eprintln!("envelope: using {}", session.description());
        }
        Some(session)
    } else {
        None
    };
    let key_store_errors = KeyStoreErrors::default();
    let keyring: Result<Arc<dyn Keyring>, Failure> = runtime.block_on(keyrings::build(
        &groups,
        direction,
        kms.as_ref(),
        common.kms.kms_data_dir.clone(),
        &key_store_errors,
    ));
    let keyring = match keyring {
        Ok(keyring) => keyring,
        Err(failure) => {
            if let Some(kms) = kms {
                runtime.block_on(kms.close());
            }
            return Err(failure);
        }
    };
    let client =
        Client::with_keyring(keyring).commitment_policy(policy).max_encrypted_data_keys(common.max_encrypted_data_keys);
    let client = BlockingClient::with_runtime(client, runtime.handle().clone())
        .map_err(|error| Failure::new(Kind::Files, anyhow::anyhow!("cannot start the client: {error}")))?;
    Ok(Prepared { runtime, client, jobs, metadata, kms, key_store_errors })
}

/// On SIGINT or SIGTERM: remove the temporary outputs and exit 130, as shells expect of an
/// interrupted command.
pub(crate) async fn remove_pending_on_interrupt(pending: PendingFiles) {
    crate::commands::kms::shutdown_signal().await;
    let removed = pending.remove_all();
    eprintln!("envelope: interrupted; removed {removed} partial output(s)");
    std::process::exit(130);
}

fn describe(job: &Job) -> String {
    let source = match &job.source {
        Source::Stdin => "stdin".to_owned(),
        Source::File(path) => path.display().to_string(),
    };
    let target = match &job.target {
        Target::Stdout => "stdout".to_owned(),
        Target::File(path) => path.display().to_string(),
    };
    format!("{source} -> {target}")
}

fn report(failure: &Failure) -> ExitCode {
    eprintln!("envelope: {failure}");
    failure.kind.exit_code()
}
