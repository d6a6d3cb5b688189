//! `--wrapping-keys` groups: `attribute=value` words parsed into what to build.
//!
//! One group is either AWS KMS (`key=` one or more times, `region=`; on decrypt `discovery=true`
//! with `discovery-account=` / `discovery-partition=`) or one raw key
//! (`provider=NAMESPACE key=NAME key-file=PATH [padding=...]`), or one branch key of the
//! hierarchical keyring (`branch-key-id=ID key-store=STORE kms-key=KMS_KEY [logical-name=NAME]
//! [cache-ttl=SECONDS]`). `provider=aws-kms` is the KMS default, as in aws-encryption-cli.

use std::path::PathBuf;
use std::time::Duration;

use envelope_keyrings::RsaPadding;

use crate::exit_code::Failure;
use crate::key_store_location::StoreLocation;

/// The provider id of KMS groups.
const KMS_PROVIDER: &str = "aws-kms";

const ATTRIBUTES: &str = "key, provider, region, key-file, padding, discovery, discovery-account, discovery-partition, \
                          branch-key-id, key-store, kms-key, logical-name, cache-ttl";

/// How long a branch key version is reused without asking the key store (and KMS) again, when
/// `cache-ttl=` is not given. One command rarely runs that long; a directory of many files makes
/// one KMS call per branch key version.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(600);

/// The longest `cache-ttl=` accepted (a day): past that, a rotated branch key would stay unused
/// by a long-running encrypt for longer than anyone expects.
const MAX_CACHE_TTL_SECONDS: u64 = 24 * 60 * 60;

/// One parsed `--wrapping-keys` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrappingKeys {
    /// AWS KMS keys (ARNs, key ids or aliases) to use, in order.
    Kms {
        /// The keys.
        key_ids: Vec<String>,
        /// Region for identifiers that are not ARNs.
        region: Option<String>,
    },
    /// AWS KMS discovery (decrypt only): any key the EDKs name, within the filter.
    KmsDiscovery {
        /// Partition and accounts the keys must belong to.
        filter: Option<(String, Vec<String>)>,
    },
    /// A raw AES or RSA key from a file.
    Raw {
        /// Key namespace (the EDK provider id).
        namespace: String,
        /// Key name.
        name: String,
        /// The file.
        key_file: PathBuf,
        /// RSA padding (`None`: OAEP-SHA256 for RSA; unused for AES).
        padding: Option<RsaPadding>,
    },
    /// A branch key of the hierarchical keyring (`aws-kms-hierarchy`).
    Hierarchy(HierarchyGroup),
}

/// `-w branch-key-id=ID key-store=STORE kms-key=KMS_KEY [logical-name=NAME] [cache-ttl=SECONDS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyGroup {
    /// The branch key.
    pub branch_key_id: String,
    /// Where it is kept (default: the store `envelope keystore` uses without `--store`).
    pub key_store: StoreLocation,
    /// The KMS key that protects it: an item naming another key is refused.
    pub kms_key: String,
    /// The logical key store name (default: the table or file name).
    pub logical_name: Option<String>,
    /// How long a branch key version is reused from memory.
    pub cache_ttl: Duration,
}

/// Parses one group.
pub fn parse_group(words: &[String]) -> Result<WrappingKeys, Failure> {
    let mut keys = Vec::new();
    let mut provider = None;
    let mut region = None;
    let mut key_file = None;
    let mut padding = None;
    let mut discovery = None;
    let mut accounts = Vec::new();
    let mut partition = None;
    let mut branch_key_id = None;
    let mut key_store = None;
    let mut kms_key = None;
    let mut logical_name = None;
    let mut cache_ttl = None;
    for word in words {
        let (name, value) = word.split_once('=').ok_or_else(|| {
            Failure::usage(format!("--wrapping-keys {word:?}: expected ATTRIBUTE=VALUE ({ATTRIBUTES})"))
        })?;
        if value.is_empty() {
            return Err(Failure::usage(format!("--wrapping-keys {word:?}: {name} has no value")));
        }
        let once = |slot: &mut Option<String>| -> Result<(), Failure> {
            if slot.replace(value.to_owned()).is_some() {
                return Err(Failure::usage(format!("--wrapping-keys: {name}= given twice in one group")));
            }
            Ok(())
        };
        match name {
            "key" => keys.push(value.to_owned()),
            "provider" => once(&mut provider)?,
            "region" => once(&mut region)?,
            "key-file" => once(&mut key_file)?,
            "padding" => once(&mut padding)?,
            "discovery" => once(&mut discovery)?,
            "discovery-account" => accounts.push(value.to_owned()),
            "discovery-partition" => once(&mut partition)?,
            "branch-key-id" => once(&mut branch_key_id)?,
            "key-store" => once(&mut key_store)?,
            "kms-key" => once(&mut kms_key)?,
            "logical-name" => once(&mut logical_name)?,
            "cache-ttl" => once(&mut cache_ttl)?,
            "profile" => {
                return Err(Failure::usage(
                    "--wrapping-keys profile= is not supported; set AWS_PROFILE instead (envelope reads the usual AWS configuration)",
                ));
            }
            other => {
                return Err(Failure::usage(format!(
                    "--wrapping-keys: unknown attribute {other:?} (known: {ATTRIBUTES})"
                )));
            }
        }
    }
    if branch_key_id.is_some()
        || key_store.is_some()
        || kms_key.is_some()
        || logical_name.is_some()
        || cache_ttl.is_some()
    {
        let others = !keys.is_empty()
            || provider.is_some()
            || region.is_some()
            || key_file.is_some()
            || padding.is_some()
            || discovery.is_some()
            || !accounts.is_empty()
            || partition.is_some();
        if others {
            return Err(Failure::usage(
                "--wrapping-keys: a hierarchical keyring group takes branch-key-id=, key-store=, kms-key=, logical-name= \
                 and cache-ttl= only; give other keys in another --wrapping-keys",
            ));
        }
        return hierarchy_group(branch_key_id, key_store, kms_key, logical_name, cache_ttl);
    }
    // aws-encryption-cli's spellings of a boolean.
    let discovery = match discovery.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => false,
        Some("true" | "t" | "yes" | "y" | "1") => true,
        Some("false" | "f" | "no" | "n" | "0") => false,
        Some(value) => return Err(Failure::usage(format!("--wrapping-keys discovery={value}: use true or false"))),
    };
    let provider = provider.unwrap_or_else(|| KMS_PROVIDER.to_owned());
    if provider != KMS_PROVIDER {
        return raw_group(
            provider,
            keys,
            key_file,
            padding,
            region.is_some() || discovery || !accounts.is_empty() || partition.is_some(),
        );
    }
    if key_file.is_some() || padding.is_some() {
        return Err(Failure::usage(
            "--wrapping-keys: key-file= and padding= belong to raw keys; add provider=NAMESPACE (any name but aws-kms)",
        ));
    }
    if discovery {
        if !keys.is_empty() {
            return Err(Failure::usage(
                "--wrapping-keys: discovery=true takes no key=; give the keys in another --wrapping-keys",
            ));
        }
        let filter = match (partition, accounts.is_empty()) {
            (None, true) => None,
            (partition, false) => Some((partition.unwrap_or_else(|| "aws".to_owned()), accounts)),
            (Some(_), true) => {
                return Err(Failure::usage(
                    "--wrapping-keys: discovery-partition= needs at least one discovery-account=",
                ));
            }
        };
        return Ok(WrappingKeys::KmsDiscovery { filter });
    }
    if !accounts.is_empty() || partition.is_some() {
        return Err(Failure::usage("--wrapping-keys: discovery-account= and discovery-partition= need discovery=true"));
    }
    if keys.is_empty() {
        return Err(Failure::usage("--wrapping-keys: name at least one key=KEY_ID (or discovery=true to decrypt)"));
    }
    Ok(WrappingKeys::Kms { key_ids: keys, region })
}

fn raw_group(
    namespace: String,
    mut keys: Vec<String>,
    key_file: Option<String>,
    padding: Option<String>,
    kms_attributes: bool,
) -> Result<WrappingKeys, Failure> {
    if kms_attributes {
        return Err(Failure::usage(format!(
            "--wrapping-keys provider={namespace}: region= and discovery attributes belong to AWS KMS keys"
        )));
    }
    let name = match keys.len() {
        1 => keys.remove(0),
        0 => return Err(Failure::usage(format!("--wrapping-keys provider={namespace}: name the key with key=NAME"))),
        _ => return Err(Failure::usage(format!("--wrapping-keys provider={namespace}: one key= per raw key group"))),
    };
    let key_file = key_file
        .ok_or_else(|| Failure::usage(format!("--wrapping-keys provider={namespace} key={name}: add key-file=PATH")))?;
    let padding = padding.as_deref().map(parse_padding).transpose()?;
    Ok(WrappingKeys::Raw { namespace, name, key_file: PathBuf::from(key_file), padding })
}

fn hierarchy_group(
    branch_key_id: Option<String>,
    key_store: Option<String>,
    kms_key: Option<String>,
    logical_name: Option<String>,
    cache_ttl: Option<String>,
) -> Result<WrappingKeys, Failure> {
    let branch_key_id = branch_key_id.ok_or_else(|| {
        Failure::usage(
            "--wrapping-keys: a hierarchical keyring group needs branch-key-id=ID (envelope keystore create-key prints one)",
        )
    })?;
    let kms_key = kms_key.ok_or_else(|| {
        Failure::usage(format!(
            "--wrapping-keys branch-key-id={branch_key_id}: add kms-key=KMS_KEY, the KMS key the branch key was created under"
        ))
    })?;
    let key_store = StoreLocation::from_option(key_store.as_deref())
        .map_err(|error| Failure::usage(format!("--wrapping-keys key-store={error}")))?;
    let cache_ttl = match cache_ttl {
        None => DEFAULT_CACHE_TTL,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if (1..=MAX_CACHE_TTL_SECONDS).contains(&seconds) => Duration::from_secs(seconds),
            _ => {
                return Err(Failure::usage(format!(
                    "--wrapping-keys cache-ttl={text}: give whole seconds from 1 to {MAX_CACHE_TTL_SECONDS}"
                )));
            }
        },
    };
    Ok(WrappingKeys::Hierarchy(HierarchyGroup { branch_key_id, key_store, kms_key, logical_name, cache_ttl }))
}

/// `pkcs1`, `oaep-sha1`, `oaep-sha256`, `oaep-sha384`, `oaep-sha512` (any case, `-` or `_`).
fn parse_padding(text: &str) -> Result<RsaPadding, Failure> {
    let normalized = text.to_ascii_lowercase().replace('_', "-");
    let padding = match normalized.as_str() {
        "pkcs1" | "pkcs1-v1.5" | "pkcs1-v1-5" => RsaPadding::Pkcs1,
        "oaep-sha1" | "oaep-sha1-mgf1" => RsaPadding::OaepSha1,
        "oaep-sha256" | "oaep-sha256-mgf1" => RsaPadding::OaepSha256,
        "oaep-sha384" | "oaep-sha384-mgf1" => RsaPadding::OaepSha384,
        "oaep-sha512" | "oaep-sha512-mgf1" => RsaPadding::OaepSha512,
        _ => {
            return Err(Failure::usage(format!(
                "--wrapping-keys padding={text}: use pkcs1, oaep-sha1, oaep-sha256, oaep-sha384 or oaep-sha512"
            )));
        }
    };
    Ok(padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<WrappingKeys, Failure> {
        parse_group(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn kms_keys_collect_in_order() {
        let parsed =
            parse(&["key=alias/a", "key=arn:aws:kms:us-west-2:111122223333:key/k", "region=eu-west-1"]).unwrap();
        assert_eq!(
            parsed,
            WrappingKeys::Kms {
                key_ids: vec!["alias/a".into(), "arn:aws:kms:us-west-2:111122223333:key/k".into()],
                region: Some("eu-west-1".into())
            }
        );
        assert_eq!(
            parse(&["provider=aws-kms", "key=k"]).unwrap(),
            WrappingKeys::Kms { key_ids: vec!["k".into()], region: None }
        );
    }

    #[test]
    fn discovery_with_and_without_filter() {
        assert_eq!(parse(&["discovery=true"]).unwrap(), WrappingKeys::KmsDiscovery { filter: None });
        assert_eq!(
            parse(&["discovery=TRUE", "discovery-account=111122223333", "discovery-account=444455556666"]).unwrap(),
            WrappingKeys::KmsDiscovery {
                filter: Some(("aws".into(), vec!["111122223333".into(), "444455556666".into()]))
            }
        );
        assert!(parse(&["discovery=true", "key=k"]).is_err());
        assert!(parse(&["discovery-account=1"]).is_err());
        assert!(parse(&["discovery=true", "discovery-partition=aws"]).is_err());
        assert!(parse(&["discovery=maybe"]).is_err());
        assert_eq!(parse(&["discovery=yes"]).unwrap(), WrappingKeys::KmsDiscovery { filter: None });
        assert!(matches!(parse(&["discovery=0", "key=k"]).unwrap(), WrappingKeys::Kms { .. }));
    }

    #[test]
    fn raw_keys_need_name_and_file() {
        assert_eq!(
            parse(&["provider=app", "key=k1", "key-file=/tmp/k", "padding=OAEP_SHA384"]).unwrap(),
            WrappingKeys::Raw {
                namespace: "app".into(),
                name: "k1".into(),
                key_file: "/tmp/k".into(),
                padding: Some(RsaPadding::OaepSha384)
            }
        );
        assert!(parse(&["provider=app", "key-file=/tmp/k"]).is_err());
        assert!(parse(&["provider=app", "key=k"]).is_err());
        assert!(parse(&["provider=app", "key=a", "key=b", "key-file=f"]).is_err());
        assert!(parse(&["provider=app", "key=a", "key-file=f", "region=x"]).is_err());
        assert!(parse(&["key=a", "key-file=f"]).is_err());
        assert!(parse(&["provider=app", "key=a", "key-file=f", "padding=oaep-md5"]).is_err());
    }

    #[test]
    fn hierarchy_groups() {
        let parsed = parse(&["branch-key-id=b1", "key-store=sqlite:/tmp/k.db", "kms-key=alias/app"]).unwrap();
        assert_eq!(
            parsed,
            WrappingKeys::Hierarchy(HierarchyGroup {
                branch_key_id: "b1".into(),
                key_store: StoreLocation::Sqlite("/tmp/k.db".into()),
                kms_key: "alias/app".into(),
                logical_name: None,
                cache_ttl: DEFAULT_CACHE_TTL,
            })
        );
        let parsed =
            parse(&["branch-key-id=b1", "key-store=dynamodb:Keys", "kms-key=k", "logical-name=shared", "cache-ttl=60"])
                .unwrap();
        let WrappingKeys::Hierarchy(group) = parsed else { panic!("not a hierarchy group") };
        assert_eq!(group.key_store, StoreLocation::DynamoDb("Keys".into()));
        assert_eq!(group.logical_name.as_deref(), Some("shared"));
        assert_eq!(group.cache_ttl, Duration::from_secs(60));
        let WrappingKeys::Hierarchy(group) = parse(&["branch-key-id=b1", "kms-key=k"]).unwrap() else { panic!() };
        assert_eq!(group.key_store, StoreLocation::Default);
    }

    #[test]
    fn hierarchy_groups_refuse_what_they_cannot_use() {
        for words in [
            &["kms-key=k"][..],
            &["branch-key-id=b1"],
            &["branch-key-id=b1", "kms-key=k", "key-store=postgres:x"],
            &["branch-key-id=b1", "kms-key=k", "cache-ttl=0"],
            &["branch-key-id=b1", "kms-key=k", "cache-ttl=1.5"],
            &["branch-key-id=b1", "kms-key=k", "cache-ttl=86401"],
            &["branch-key-id=b1", "kms-key=k", "key=alias/x"],
            &["branch-key-id=b1", "kms-key=k", "provider=app"],
            &["branch-key-id=b1", "kms-key=k", "discovery=false"],
            &["branch-key-id=b1", "branch-key-id=b2", "kms-key=k"],
        ] {
            let failure = parse(words).unwrap_err();
            assert_eq!(failure.kind, crate::exit_code::Kind::Usage, "{words:?}");
        }
    }

    #[test]
    fn bad_words_are_usage_errors() {
        for words in [
            &["key"][..],
            &["key="],
            &["colour=blue"],
            &["profile=dev", "key=k"],
            &["region=a", "region=b", "key=k"],
            &[],
        ] {
            let failure = parse(words).unwrap_err();
            assert_eq!(failure.kind, crate::exit_code::Kind::Usage, "{words:?}");
        }
    }
}
