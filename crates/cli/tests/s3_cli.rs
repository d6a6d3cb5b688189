//! `envelope s3 put|get|rm` against `moto[server]` S3 on 127.0.0.1 (`AWS_ENDPOINT_URL_S3`) with
//! the embedded KMS emulator: round trips (file and stdin, multipart, V2, instruction files),
//! refusals that leave no output file, ranged reads, delete.

mod common;
#[path = "../../s3/tests/common/moto.rs"]
mod moto;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{TempDir, isolated_envelope};

struct Setup {
    _moto: moto::Moto,
    endpoint: String,
    dir: TempDir,
}

impl Setup {
    fn envelope(&self, args: &[&str]) -> Command {
        let mut command = isolated_envelope(self.dir.path());
        let data = self.dir.path().join("kms");
        command
            .args(args)
            .arg("--kms-data-dir")
            .arg(&data)
            .env("ENVELOPE_KMS", "embedded")
            .env("AWS_ENDPOINT_URL_S3", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.envelope(args).output().unwrap()
    }

    fn rm(&self, uri: &str) -> Output {
        // `rm` takes no KMS flags.
        let mut command = isolated_envelope(self.dir.path());
        command
            .args(["s3", "rm", uri])
            .env("AWS_ENDPOINT_URL_S3", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1");
        command.output().unwrap()
    }
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "exit {:?}: {}", output.status.code(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i as u64).wrapping_mul(2654435761) >> 9) as u8).collect()
}

async fn exists(s3: &aws_sdk_s3::Client, key: &str) -> bool {
    s3.head_object().bucket("cli").key(key).send().await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_rm_round_trip_and_refusals_leave_no_output() {
    let Some(moto) = moto::start() else { return };
    let s3 = moto.s3();
    moto.bucket("cli").await;
    let setup = Setup { endpoint: moto.endpoint.clone(), _moto: moto, dir: TempDir::new("s3-cli") };
    let dir = setup.dir.path().to_owned();
    // A KMS key on the embedded emulator, named by its alias.
    let data = dir.join("kms");
    let created = isolated_envelope(&dir)
        .args(["kms", "create-key", "--alias", "alias/s3", "--kms-data-dir"])
        .arg(&data)
        .env("ENVELOPE_KMS", "embedded")
        .output()
        .unwrap();
    ok(&created);

    // A 9 MiB file: above the 8 MiB multipart threshold.
    let plaintext = pattern(9 << 20);
    let input = dir.join("big.bin");
    std::fs::write(&input, &plaintext).unwrap();
    let input = input.to_str().unwrap();
    let stderr = ok(&setup.run(&["s3", "put", "s3://cli/big", "-i", input, "-w", "key=alias/s3", "-c", "tenant=acme"]));
    assert!(stderr.contains("2 parts"), "{stderr}");
    let out = dir.join("big.out");
    let out_str = out.to_str().unwrap();
    ok(&setup.run(&["s3", "get", "s3://cli/big", "-o", out_str, "-w", "key=alias/s3", "-c", "tenant=acme"]));
    assert!(std::fs::read(&out).unwrap() == plaintext);

    // KMS discovery reads it too (any key the caller may use).
    let discovered = dir.join("discovered.out");
    ok(&setup.run(&[
        "s3",
        "get",
        "s3://cli/big",
        "-o",
        discovered.to_str().unwrap(),
        "-w",
        "discovery=true",
        "-c",
        "tenant=acme",
    ]));
    assert!(std::fs::read(&discovered).unwrap() == plaintext);

    // A wrong or missing context: exit 1, and no output file.
    for context in [&["-c", "tenant=other"][..], &[], &["-c", "tenant=acme", "extra=1"]] {
        let refused = dir.join("refused.out");
        let mut args = vec!["s3", "get", "s3://cli/big", "-o", refused.to_str().unwrap(), "-w", "key=alias/s3"];
        args.extend_from_slice(context);
        let output = setup.run(&args);
        assert_eq!(code(&output), 1, "{}", String::from_utf8_lossy(&output.stderr));
        assert!(!refused.exists());
        assert_no_partial_files(&dir);
    }

    // Ranges: an explicit opt-in, said on stderr; clamped ends; a start past the end fails.
    let range_out = dir.join("range.out");
    let range_str = range_out.to_str().unwrap();
    for (range, expected) in [
        ("bytes=-10", &plaintext[plaintext.len() - 10..]),
        ("bytes=100-115", &plaintext[100..116]),
        ("bytes=9437180-99999999", &plaintext[9437180..]),
    ] {
        let stderr = ok(&setup.run(&[
            "s3",
            "get",
            "s3://cli/big",
            "-o",
            range_str,
            "--overwrite",
            "-w",
            "key=alias/s3",
            "-c",
            "tenant=acme",
            "--range",
            range,
        ]));
        assert!(stderr.contains("WITHOUT authentication"), "{stderr}");
        assert_eq!(std::fs::read(&range_out).unwrap(), expected, "{range}");
    }
    let past = dir.join("past.out");
    let output = setup.run(&[
        "s3",
        "get",
        "s3://cli/big",
        "-o",
        past.to_str().unwrap(),
        "-w",
        "key=alias/s3",
        "-c",
        "tenant=acme",
        "--range",
        "bytes=9437184-",
    ]);
    assert_eq!(code(&output), 2, "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!past.exists());

    // stdin, V2 with its policy, metadata in an instruction file; read with require-encrypt-allow-decrypt.
    let output = setup.run(&["s3", "put", "s3://cli/v2", "-i", "-", "-w", "key=alias/s3", "--format", "v2"]);
    assert_eq!(code(&output), 2, "V2 needs forbid-encrypt-allow-decrypt");
    let mut put = setup
        .envelope(&[
            "s3",
            "put",
            "s3://cli/v2",
            "-i",
            "-",
            "-w",
            "key=alias/s3",
            "--format",
            "v2",
            "--commitment-policy",
            "forbid-encrypt-allow-decrypt",
            "--instruction-file",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    put.stdin.take().unwrap().write_all(b"from stdin").unwrap();
    ok(&put.wait_with_output().unwrap());
    assert!(exists(&s3, "v2.instruction").await);
    let output = setup.run(&["s3", "get", "s3://cli/v2", "-o", "-", "-w", "key=alias/s3"]);
    assert_eq!(code(&output), 1, "the default policy does not read V2");
    assert!(output.stdout.is_empty());
    let output = setup.run(&[
        "s3",
        "get",
        "s3://cli/v2",
        "-o",
        "-",
        "-w",
        "key=alias/s3",
        "--commitment-policy",
        "require-encrypt-allow-decrypt",
    ]);
    ok(&output);
    assert_eq!(output.stdout, b"from stdin");

    // The reserved context key is refused and creates nothing.
    let output = setup.run(&[
        "s3",
        "put",
        "s3://cli/reserved",
        "-i",
        input,
        "-w",
        "key=alias/s3",
        "-c",
        "aws:x-amz-cek-alg=115",
    ]);
    assert_ne!(code(&output), 0);
    assert!(!exists(&s3, "reserved").await);

    // rewrap: the instruction file under a new key; the old key no longer opens the object.
    let created = isolated_envelope(&dir)
        .args(["kms", "create-key", "--alias", "alias/s3-next", "--kms-data-dir"])
        .arg(&data)
        .env("ENVELOPE_KMS", "embedded")
        .output()
        .unwrap();
    ok(&created);
    let policy = ["--commitment-policy", "require-encrypt-allow-decrypt"];
    let mut args =
        vec!["s3", "rewrap", "s3://cli/v2", "-w", "key=alias/s3", "--new-wrapping-keys", "key=alias/s3-next"];
    args.extend_from_slice(&policy);
    ok(&setup.run(&args));
    let mut args = vec!["s3", "get", "s3://cli/v2", "-o", "-", "-w", "key=alias/s3-next"];
    args.extend_from_slice(&policy);
    let output = setup.run(&args);
    ok(&output);
    assert_eq!(output.stdout, b"from stdin");
    let mut args = vec!["s3", "get", "s3://cli/v2", "-o", "-", "-w", "key=alias/s3"];
    args.extend_from_slice(&policy);
    assert_ne!(code(&setup.run(&args)), 0);
    // Metadata in the object: refused (exit 2).
    let output = setup.run(&[
        "s3",
        "rewrap",
        "s3://cli/big",
        "-w",
        "key=alias/s3",
        "--new-wrapping-keys",
        "key=alias/s3-next",
        "-c",
        "tenant=acme",
    ]);
    assert_eq!(code(&output), 2, "{}", String::from_utf8_lossy(&output.stderr));

    // A custom instruction-file suffix: a put writes custom.instruction whatever it is asked, a
    // rewrap with the suffix writes custom.keys for the new key beside it, a get with the suffix
    // reads it, and rm with the suffix deletes all three.
    ok(&setup.run(&["s3", "put", "s3://cli/custom", "-i", input, "-w", "key=alias/s3", "--instruction-file"]));
    assert!(exists(&s3, "custom.instruction").await);
    let suffix = ["--instruction-suffix", ".keys"];
    let mut args =
        vec!["s3", "rewrap", "s3://cli/custom", "-w", "key=alias/s3", "--new-wrapping-keys", "key=alias/s3-next"];
    args.extend_from_slice(&suffix);
    ok(&setup.run(&args));
    assert!(exists(&s3, "custom.keys").await && exists(&s3, "custom.instruction").await);
    let custom_out = dir.join("custom.out");
    let mut args = vec!["s3", "get", "s3://cli/custom", "-o", custom_out.to_str().unwrap(), "-w", "key=alias/s3-next"];
    args.extend_from_slice(&suffix);
    ok(&setup.run(&args));
    assert!(std::fs::read(&custom_out).unwrap() == plaintext);
    let mut command = isolated_envelope(setup.dir.path());
    command
        .args(["s3", "rm", "s3://cli/custom", "--instruction-suffix", ".keys"])
        .env("AWS_ENDPOINT_URL_S3", &setup.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1");
    ok(&command.output().unwrap());
    for gone in ["custom", "custom.instruction", "custom.keys"] {
        assert!(!exists(&s3, gone).await, "{gone} still exists");
    }

    // rm deletes the object and its instruction file.
    ok(&setup.rm("s3://cli/v2"));
    assert!(!exists(&s3, "v2").await && !exists(&s3, "v2.instruction").await);
    ok(&setup.rm("s3://cli/big"));
    assert!(!exists(&s3, "big").await);
}

fn assert_no_partial_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".envelope-partial"), "{name} left behind");
    }
}
