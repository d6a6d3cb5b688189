//! envelope's side of the KMS interop run (`interop/kms/run.sh`): encrypts or decrypts every case
//! of a job file with the KMS keyrings, against the endpoint the job names.
//!
//! ```text
//! kms_interop encrypt JOB.json   # writes DIR/<case>.envelope.ct from DIR/<case>.pt
//! kms_interop decrypt JOB.json   # reads DIR/<case>.python.ct, compares with DIR/<case>.pt
//! ```
//!
//! The job file (written by `interop/kms/esdk_kms.py setup`):
//! `{"endpoint": URL, "dir": DIR, "cases": [{"name", "suite": u16, "context": {..},
//! "encrypt": KEYRING, "decrypt": KEYRING}]}` where KEYRING is one of
//! `{"type": "kms", "key"}`, `{"type": "kms-mrk", "key"}`,
//! `{"type": "kms-discovery", "region", "filter"?: {"partition", "accounts"}}`,
//! `{"type": "kms-mrk-discovery", "region", "filter"?}`, `{"type": "kms-multi" | "kms-mrk-multi",
//! "generator", "keys"}`, `{"type": "raw-aes", "namespace", "name", "key"}` (base64),
//! `{"type": "multi", "generator": KEYRING | null, "children": [KEYRING]}`,
//! `{"type": "kms-rsa", "key", "public_key"? (base64 DER), "algorithm"}`,
//! `{"type": "raw-ecdh", "scheme": "static" | "ephemeral" | "discovery", "curve",
//! "private_pem"?, "recipient_public_key"? (base64 DER)}`,
//! `{"type": "kms-ecdh", "scheme": "static" | "discovery", "curve", "key", "recipient_public_key"?}`.
//!
//! Prints one line per case and `N passed, M failed`; exits 1 if a case failed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use envelope::{
    AlgorithmSuite, Client, CommitmentPolicy, DecryptOptions, EncryptOptions, EncryptionContext, Keyring, MultiKeyring,
};
use envelope_keyrings::kms::{
    AwsKmsDiscoveryKeyring, AwsKmsEcdhKeyring, AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring,
    AwsKmsRsaKeyring, DefaultClientSupplier, DiscoveryFilter, KmsArn, KmsClientSupplier, KmsRsaPadding, get_public_key,
    kms_mrk_multi_keyring, kms_multi_keyring,
};
use envelope_keyrings::{EcPrivateKey, EcdhCurve, RawAesKeyring, RawEcdhKeyring};
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(job)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: kms_interop encrypt|decrypt JOB.json");
        return std::process::ExitCode::from(2);
    };
    match run(mode, Path::new(job)).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(error) => {
            eprintln!("kms_interop: {error}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(mode: &str, job: &Path) -> Result<bool, BoxError> {
    let job: Value = serde_json::from_slice(&std::fs::read(job)?)?;
    let endpoint = job["endpoint"].as_str().ok_or("job: no endpoint")?;
    let dir = PathBuf::from(job["dir"].as_str().ok_or("job: no dir")?);
    let supplier: Arc<dyn KmsClientSupplier> = Arc::new(DefaultClientSupplier::with_endpoint(endpoint).await);
    let cases = job["cases"].as_array().ok_or("job: no cases")?;
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().ok_or("case without a name")?;
        let outcome = match mode {
            "encrypt" => encrypt_case(case, &dir, name, &supplier).await,
            "decrypt" => decrypt_case(case, &dir, name, &supplier).await,
            other => return Err(format!("unknown mode {other:?}").into()),
        };
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("ok   {name}");
            }
            Err(error) => {
                failed += 1;
                println!("FAIL {name}: {error}");
            }
        }
    }
    println!("envelope {mode}: {passed} passed, {failed} failed");
    Ok(failed == 0)
}

fn suite_of(case: &Value) -> Result<AlgorithmSuite, BoxError> {
    let id = case["suite"].as_u64().ok_or("case without a suite")?;
    Ok(AlgorithmSuite::from_id(u16::try_from(id)?).ok_or("unknown suite")?)
}

fn client_for(keyring: Arc<dyn Keyring>, suite: AlgorithmSuite) -> Client {
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    Client::with_keyring(keyring).commitment_policy(policy)
}

async fn encrypt_case(
    case: &Value,
    dir: &Path,
    name: &str,
    supplier: &Arc<dyn KmsClientSupplier>,
) -> Result<(), BoxError> {
    let suite = suite_of(case)?;
    let context: EncryptionContext =
        serde_json::from_value::<std::collections::BTreeMap<String, String>>(case["context"].clone())?.into();
    let keyring = build(&case["encrypt"], supplier).await?;
    let plaintext = std::fs::read(dir.join(format!("{name}.pt")))?;
    let options = EncryptOptions::new().algorithm_suite(suite).encryption_context(context);
    let message = client_for(keyring, suite).encrypt(&plaintext, &options).await?;
    std::fs::write(dir.join(format!("{name}.envelope.ct")), message)?;
    Ok(())
}

async fn decrypt_case(
    case: &Value,
    dir: &Path,
    name: &str,
    supplier: &Arc<dyn KmsClientSupplier>,
) -> Result<(), BoxError> {
    let suite = suite_of(case)?;
    let keyring = build(&case["decrypt"], supplier).await?;
    let expected = std::fs::read(dir.join(format!("{name}.pt")))?;
    let message = std::fs::read(dir.join(format!("{name}.python.ct")))?;
    let client = client_for(keyring, suite).commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let decrypted = client.decrypt(&message, &DecryptOptions::new()).await?;
    if decrypted.plaintext != expected {
        return Err("plaintext differs".into());
    }
    Ok(())
}

fn text<'a>(spec: &'a Value, field: &str) -> Result<&'a str, BoxError> {
    spec[field].as_str().ok_or_else(|| format!("keyring {spec}: no {field:?}").into())
}

fn bytes(spec: &Value, field: &str) -> Result<Option<Vec<u8>>, BoxError> {
    match spec[field].as_str() {
        None => Ok(None),
        Some(encoded) => Ok(Some(base64::engine::general_purpose::STANDARD.decode(encoded)?)),
    }
}

fn curve(spec: &Value) -> Result<EcdhCurve, BoxError> {
    let name = text(spec, "curve")?;
    EcdhCurve::ALL.into_iter().find(|c| c.kms_key_spec() == name).ok_or_else(|| format!("unknown curve {name}").into())
}

fn filter(spec: &Value) -> Option<DiscoveryFilter> {
    let filter = spec.get("filter").filter(|f| !f.is_null())?;
    Some(DiscoveryFilter {
        partition: filter["partition"].as_str().unwrap_or_default().to_owned(),
        account_ids: filter["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
    })
}

fn region_of(key: &str) -> Result<String, BoxError> {
    Ok(KmsArn::parse(key)?.region().to_owned())
}

/// Builds the keyring a spec describes.
async fn build(spec: &Value, supplier: &Arc<dyn KmsClientSupplier>) -> Result<Arc<dyn Keyring>, BoxError> {
    let kind = text(spec, "type")?;
    let keyring: Arc<dyn Keyring> = match kind {
        "kms" => {
            let key = text(spec, "key")?;
            Arc::new(AwsKmsKeyring::new(key, supplier.client_for_region(&region_of(key)?)?)?)
        }
        "kms-mrk" => {
            let key = text(spec, "key")?;
            Arc::new(AwsKmsMrkKeyring::new(key, supplier.client_for_region(&region_of(key)?)?)?)
        }
        "kms-discovery" => Arc::new(AwsKmsDiscoveryKeyring::new(supplier.clone(), filter(spec))?),
        "kms-mrk-discovery" => {
            Arc::new(AwsKmsMrkDiscoveryKeyring::new(supplier.clone(), text(spec, "region")?.to_owned(), filter(spec))?)
        }
        "kms-multi" | "kms-mrk-multi" => {
            let generator = spec["generator"].as_str();
            let keys: Vec<String> =
                spec["keys"].as_array().into_iter().flatten().filter_map(|k| k.as_str().map(str::to_owned)).collect();
            if kind == "kms-multi" {
                Arc::new(kms_multi_keyring(generator, &keys, supplier.clone())?)
            } else {
                Arc::new(kms_mrk_multi_keyring(generator, &keys, supplier.clone())?)
            }
        }
        "raw-aes" => Arc::new(RawAesKeyring::new(
            text(spec, "namespace")?,
            text(spec, "name")?,
            bytes(spec, "key")?.ok_or("raw-aes: no key")?,
        )?),
        "multi" => {
            let generator = match spec.get("generator").filter(|g| !g.is_null()) {
                Some(generator) => Some(Box::pin(build(generator, supplier)).await?),
                None => None,
            };
            let mut children = Vec::new();
            for child in spec["children"].as_array().into_iter().flatten() {
                children.push(Box::pin(build(child, supplier)).await?);
            }
            Arc::new(MultiKeyring::new(generator, children)?)
        }
        "kms-rsa" => {
            let key = text(spec, "key")?;
            let padding = match text(spec, "algorithm")? {
                "RSAES_OAEP_SHA_1" => KmsRsaPadding::OaepSha1,
                "RSAES_OAEP_SHA_256" => KmsRsaPadding::OaepSha256,
                other => return Err(format!("unknown RSA algorithm {other}").into()),
            };
            let client = supplier.client_for_region(&region_of(key)?)?;
            let public = match bytes(spec, "public_key")? {
                Some(der) => Some(der),
                None if spec["fetch_public_key"].as_bool() == Some(true) => Some(get_public_key(&client, key).await?),
                None => None,
            };
            Arc::new(AwsKmsRsaKeyring::new(key, public, padding, Some(client))?)
        }
        "raw-ecdh" => {
            let curve = curve(spec)?;
            let private =
                || -> Result<EcPrivateKey, BoxError> { Ok(EcPrivateKey::from_pem(curve, text(spec, "private_pem")?)?) };
            let recipient = || {
                bytes(spec, "recipient_public_key")?.ok_or_else(|| BoxError::from("raw-ecdh: no recipient_public_key"))
            };
            match text(spec, "scheme")? {
                "static" => Arc::new(RawEcdhKeyring::static_keys(curve, private()?, &recipient()?)?),
                "ephemeral" => Arc::new(RawEcdhKeyring::ephemeral(curve, &recipient()?)?),
                "discovery" => Arc::new(RawEcdhKeyring::public_key_discovery(curve, private()?)?),
                other => return Err(format!("unknown raw-ecdh scheme {other}").into()),
            }
        }
        "kms-ecdh" => {
            let curve = curve(spec)?;
            let key = text(spec, "key")?;
            let client = supplier.client_for_region(&region_of(key)?)?;
            match text(spec, "scheme")? {
                "static" => {
                    let recipient = bytes(spec, "recipient_public_key")?.ok_or("kms-ecdh: no recipient_public_key")?;
                    Arc::new(AwsKmsEcdhKeyring::static_keys(curve, key, &recipient, None, client).await?)
                }
                "discovery" => Arc::new(AwsKmsEcdhKeyring::public_key_discovery(curve, key, None, client).await?),
                other => return Err(format!("unknown kms-ecdh scheme {other}").into()),
            }
        }
        other => return Err(format!("unknown keyring type {other}").into()),
    };
    Ok(keyring)
}
