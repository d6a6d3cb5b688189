//! Flag values into library settings: algorithm suites, commitment policies, encryption context.

use envelope::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};

use crate::exit_code::Failure;

/// A suite's name as aws-encryption-cli spells it (the Python SDK's enum name): the official name
/// without `ALG_` and without `_NO_KDF`.
pub fn cli_suite_name(suite: AlgorithmSuite) -> &'static str {
    suite.name().trim_start_matches("ALG_").trim_end_matches("_NO_KDF")
}

/// `--algorithm`: aws-encryption-cli's name, the official name (`ALG_...`), or a hex id (`0578`,
/// `0x0578`).
pub fn parse_suite(text: &str) -> Result<AlgorithmSuite, Failure> {
    let upper = text.trim().to_ascii_uppercase();
    let by_name = AlgorithmSuite::ESDK.into_iter().find(|suite| {
        [suite.name(), suite.name().trim_start_matches("ALG_"), cli_suite_name(*suite)].contains(&upper.as_str())
    });
    let by_id = || {
        let hex = upper.trim_start_matches("0X");
        u16::from_str_radix(hex, 16).ok().filter(|_| (1..=4).contains(&hex.len())).and_then(AlgorithmSuite::from_id)
    };
    by_name.or_else(by_id).ok_or_else(|| {
        let names: Vec<String> = AlgorithmSuite::ESDK
            .iter()
            .map(|suite| format!("{} ({:04X})", cli_suite_name(*suite), suite.id()))
            .collect();
        Failure::usage(format!("unknown algorithm suite {text:?}; use one of {}", names.join(", ")))
    })
}

/// `--commitment-policy`: `require-encrypt-require-decrypt` and friends (any case, `-` or `_`).
pub fn parse_policy(text: &str) -> Result<CommitmentPolicy, Failure> {
    CommitmentPolicy::from_name(&text.replace('-', "_")).ok_or_else(|| {
        Failure::usage(format!(
            "--commitment-policy {text}: use forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or require-encrypt-require-decrypt"
        ))
    })
}

/// Encrypt's `-c name=value ...`.
pub fn parse_context_pairs(items: &[String]) -> Result<EncryptionContext, Failure> {
    let mut context = EncryptionContext::new();
    for item in items {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--encryption-context {item:?}: expected NAME=VALUE")))?;
        insert_pair(&mut context, name, value, item)?;
    }
    Ok(context)
}

/// Decrypt's `-c`: `name=value` pairs the message must carry and bare `name`s it must have.
pub fn parse_required_context(items: &[String]) -> Result<(EncryptionContext, Vec<String>), Failure> {
    let mut pairs = EncryptionContext::new();
    let mut keys = Vec::new();
    for item in items {
        match item.split_once('=') {
            Some((name, value)) => insert_pair(&mut pairs, name, value, item)?,
            None if item.is_empty() => return Err(Failure::usage("--encryption-context: empty name")),
            None => keys.push(item.clone()),
        }
    }
    Ok((pairs, keys))
}

fn insert_pair(context: &mut EncryptionContext, name: &str, value: &str, item: &str) -> Result<(), Failure> {
    if name.is_empty() || value.is_empty() {
        return Err(Failure::usage(format!("--encryption-context {item:?}: names and values must not be empty")));
    }
    if name.starts_with("aws-crypto-") {
        return Err(Failure::usage(format!(
            "--encryption-context {item:?}: names starting with aws-crypto- are reserved"
        )));
    }
    if context.insert(name.to_owned(), value.to_owned()).is_some() {
        return Err(Failure::usage(format!("--encryption-context: {name} given twice")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_by_name_or_id() {
        assert_eq!(parse_suite("AES_256_GCM_HKDF_SHA512_COMMIT_KEY").unwrap().id(), 0x0478);
        assert_eq!(parse_suite("aes_128_gcm_iv12_tag16").unwrap().id(), 0x0014);
        assert_eq!(parse_suite("ALG_AES_128_GCM_IV12_TAG16_NO_KDF").unwrap().id(), 0x0014);
        assert_eq!(cli_suite_name(AlgorithmSuite::from_id(0x0046).unwrap()), "AES_192_GCM_IV12_TAG16");
        assert_eq!(
            cli_suite_name(AlgorithmSuite::from_id(0x0214).unwrap()),
            "AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256"
        );
        assert_eq!(parse_suite("0578").unwrap().id(), 0x0578);
        assert_eq!(parse_suite("0x0214").unwrap().id(), 0x0214);
        assert_eq!(parse_suite("578").unwrap().id(), 0x0578);
        assert!(parse_suite("05780").is_err());
        assert!(parse_suite("0579").is_err());
        assert!(parse_suite("AES_512").is_err());
    }

    #[test]
    fn policies() {
        assert_eq!(parse_policy("forbid-encrypt-allow-decrypt").unwrap(), CommitmentPolicy::ForbidEncryptAllowDecrypt);
        assert_eq!(
            parse_policy("REQUIRE_ENCRYPT_ALLOW_DECRYPT").unwrap(),
            CommitmentPolicy::RequireEncryptAllowDecrypt
        );
        assert!(parse_policy("allow-everything").is_err());
    }

    #[test]
    fn context_items() {
        let context = parse_context_pairs(&["a=b=c".into(), "é=ü".into()]).unwrap();
        assert_eq!(context.get("a").map(String::as_str), Some("b=c"));
        assert_eq!(context.get("é").map(String::as_str), Some("ü"));
        for bad in ["novalue", "=v", "k=", "aws-crypto-x=1"] {
            assert!(parse_context_pairs(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_context_pairs(&["a=1".into(), "a=2".into()]).is_err());
        let (pairs, keys) = parse_required_context(&["team".into(), "purpose=test".into()]).unwrap();
        assert_eq!(keys, vec!["team".to_owned()]);
        assert_eq!(pairs.len(), 1);
    }
}
