//! AWS KMS key identifiers: ARN parsing, multi-Region key detection and the MRK match used on
//! decrypt.
//!
//! spec: framework/aws-kms/aws-kms-key-arn.md, framework/aws-kms/aws-kms-mrk-match-for-decrypt.md,
//! framework/aws-kms/aws-kms-mrk-are-unique.md

use std::collections::BTreeMap;
use std::fmt;

/// Whether an ARN names a key or an alias.
///
/// ```
/// use envelope_keyrings::kms::key_arn::ResourceType;
/// use envelope_keyrings::kms::KmsArn;
///
/// let arn = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:alias/billing").expect("a valid ARN");
/// assert_eq!(arn.resource_type(), ResourceType::Alias);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceType {
    /// `key/<key id>`
    Key,
    /// `alias/<alias name>`
    Alias,
}

impl ResourceType {
    /// The resource type as written in the ARN.
    ///
    /// ```
    /// use envelope_keyrings::kms::key_arn::ResourceType;
    ///
    /// assert_eq!(ResourceType::Key.as_str(), "key");
    /// assert_eq!(ResourceType::Alias.as_str(), "alias");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Key => "key",
            ResourceType::Alias => "alias",
        }
    }
}

/// A parsed AWS KMS ARN: `arn:<partition>:kms:<region>:<account>:<key|alias>/<resource id>`.
///
/// ```
/// use envelope_keyrings::kms::KmsArn;
///
/// let arn = KmsArn::parse("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")
///     .expect("a valid ARN");
/// assert_eq!(arn.region(), "eu-west-1");
/// assert!(arn.is_multi_region_key());
/// assert_eq!(
///     arn.with_region("us-east-1").to_string(),
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KmsArn {
    partition: String,
    region: String,
    account: String,
    resource_type: ResourceType,
    resource_id: String,
}

/// Why a string is not a valid AWS KMS ARN.
///
/// ```
/// use envelope_keyrings::kms::key_arn::ArnError;
/// use envelope_keyrings::kms::KmsArn;
///
/// let error: ArnError = KmsArn::parse("arn:aws:s3:::my-bucket").unwrap_err();
/// assert_eq!(error.to_string(), "\"arn:aws:s3:::my-bucket\" is not a valid AWS KMS ARN: the service is not \"kms\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid AWS KMS ARN: {reason}")]
pub struct ArnError {
    input: String,
    reason: &'static str,
}

impl KmsArn {
    /// Parses an AWS KMS ARN.
    ///
    /// spec: aws-kms-key-arn.md#a-valid-aws-kms-arn
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    ///     .expect("a valid ARN");
    /// assert_eq!(arn.resource_id(), "1234abcd-12ab-34cd-56ef-1234567890ab");
    ///
    /// assert!(KmsArn::parse("1234abcd-12ab-34cd-56ef-1234567890ab").is_err(), "a bare key id is not an ARN");
    /// assert!(KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/").is_err(), "no key id");
    /// ```
    pub fn parse(input: &str) -> Result<KmsArn, ArnError> {
        let fail = |reason| ArnError { input: input.to_owned(), reason };
        // spec: aws-kms-key-arn.md — 5 ':' delimit 6 parts; any further ':' belong to the resource.
        let mut parts = input.splitn(6, ':');
        let (Some(arn), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("it does not have six ':'-separated parts"));
        };
        // spec: aws-kms-key-arn.md — MUST start with "arn"; partition, region, account non-empty;
        // service MUST be "kms".
        if arn != "arn" {
            return Err(fail("it does not start with \"arn\""));
        }
        if partition.is_empty() {
            return Err(fail("the partition is empty"));
        }
        if service != "kms" {
            return Err(fail("the service is not \"kms\""));
        }
        if region.is_empty() {
            return Err(fail("the region is empty"));
        }
        if account.is_empty() {
            return Err(fail("the account is empty"));
        }
        // spec: aws-kms-key-arn.md — the resource is split by the first '/'; type key|alias, id non-empty.
        let Some((resource_type, resource_id)) = resource.split_once('/') else {
            return Err(fail("the resource has no '/'"));
        };
        let resource_type = match resource_type {
            "key" => ResourceType::Key,
            "alias" => ResourceType::Alias,
            _ => return Err(fail("the resource type is neither \"key\" nor \"alias\"")),
        };
        if resource_id.is_empty() {
            return Err(fail("the resource id is empty"));
        }
        Ok(KmsArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource_type,
            resource_id: resource_id.to_owned(),
        })
    }

    /// The partition (`aws`, `aws-cn`, `aws-us-gov`, …).
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws-cn:kms:cn-north-1:111122223333:key/k-1").expect("a valid ARN");
    /// assert_eq!(arn.partition(), "aws-cn");
    /// ```
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The Region.
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// // The Region to call KMS in for this key (e.g. `supplier.client_for_region(arn.region())`).
    /// let arn = KmsArn::parse("arn:aws:kms:ap-southeast-2:111122223333:key/k-1").expect("a valid ARN");
    /// assert_eq!(arn.region(), "ap-southeast-2");
    /// ```
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account id.
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/k-1").expect("a valid ARN");
    /// assert_eq!(arn.account(), "111122223333");
    /// ```
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Key or alias.
    ///
    /// ```
    /// use envelope_keyrings::kms::key_arn::ResourceType;
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/k-1").expect("a valid ARN");
    /// assert_eq!(arn.resource_type(), ResourceType::Key);
    /// ```
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The key id or alias name (after the first `/`).
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// // Everything after the first '/', slashes included.
    /// let arn = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:alias/team/billing").expect("a valid ARN");
    /// assert_eq!(arn.resource_id(), "team/billing");
    /// ```
    pub fn resource_id(&self) -> &str {
        &self.resource_id
    }

    /// Whether this names a multi-Region key (`key/mrk-…`; an alias never does).
    ///
    /// spec: aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-arn
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let parse = |arn: &str| KmsArn::parse(arn).expect("a valid ARN");
    /// assert!(parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd").is_multi_region_key());
    /// assert!(!parse("arn:aws:kms:us-east-1:111122223333:key/1234abcd").is_multi_region_key());
    /// assert!(!parse("arn:aws:kms:us-east-1:111122223333:alias/mrk-1234abcd").is_multi_region_key());
    /// ```
    pub fn is_multi_region_key(&self) -> bool {
        self.resource_type == ResourceType::Key && self.resource_id.starts_with("mrk-")
    }

    /// The same ARN in another Region (for a multi-Region key's replica).
    ///
    /// ```
    /// use envelope_keyrings::kms::KmsArn;
    ///
    /// let east = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd").expect("a valid ARN");
    /// let west = east.with_region("us-west-2");
    /// assert_eq!(west.to_string(), "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd");
    /// assert_eq!(west.resource_id(), east.resource_id());
    /// ```
    pub fn with_region(&self, region: &str) -> KmsArn {
        KmsArn { region: region.to_owned(), ..self.clone() }
    }
}

impl fmt::Display for KmsArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:kms:{}:{}:{}/{}",
            self.partition,
            self.region,
            self.account,
            self.resource_type.as_str(),
            self.resource_id
        )
    }
}

/// A valid AWS KMS identifier: an ARN, `alias/<name>`, or a bare key id.
///
/// spec: aws-kms-key-arn.md#a-valid-aws-kms-identifier
///
/// ```
/// use envelope_keyrings::kms::key_arn::validate_identifier;
///
/// assert!(validate_identifier("arn:aws:kms:us-east-1:111122223333:key/1234abcd").is_ok());
/// assert!(validate_identifier("alias/billing").is_ok());
/// assert!(validate_identifier("1234abcd-12ab-34cd-56ef-1234567890ab").is_ok());
///
/// assert!(validate_identifier("").is_err());
/// assert!(validate_identifier("alias/").is_err());
/// assert!(validate_identifier("arn:aws:kms:us-east-1:111122223333:secret/x").is_err());
/// ```
pub fn validate_identifier(identifier: &str) -> Result<(), String> {
    if identifier.is_empty() {
        return Err("an AWS KMS key identifier must not be empty".into());
    }
    if identifier.starts_with("arn:") {
        KmsArn::parse(identifier).map_err(|e| e.to_string())?;
    } else if let Some(name) = identifier.strip_prefix("alias/") {
        if name.is_empty() {
            return Err(format!("{identifier:?} is an alias without a name"));
        }
    }
    Ok(())
}

/// Whether an identifier names a multi-Region key. Invalid ARNs are not.
///
/// spec: aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-identifier
///
/// ```
/// use envelope_keyrings::kms::key_arn::is_multi_region_identifier;
///
/// assert!(is_multi_region_identifier("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd"));
/// assert!(is_multi_region_identifier("mrk-1234abcd"));
/// assert!(!is_multi_region_identifier("alias/mrk-1234abcd"));
/// assert!(!is_multi_region_identifier("arn:aws:kms:us-east-1:111122223333:key/1234abcd"));
/// ```
pub fn is_multi_region_identifier(identifier: &str) -> bool {
    if identifier.starts_with("arn:") {
        KmsArn::parse(identifier).map(|arn| arn.is_multi_region_key()).unwrap_or(false)
    } else if identifier.starts_with("alias/") {
        false
    } else {
        identifier.starts_with("mrk-")
    }
}

/// Whether a configured key identifier may decrypt what `b` wrapped: equal identifiers, or two
/// ARNs of the same multi-Region key that differ only in Region.
///
/// spec: aws-kms-mrk-match-for-decrypt.md#implementation
///
/// ```
/// use envelope_keyrings::kms::mrk_match;
///
/// let east = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd";
/// let west = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd";
/// assert!(mrk_match(east, west), "replicas of one multi-Region key");
/// assert!(!mrk_match(east, "arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd"), "another account");
/// assert!(!mrk_match(
///     "arn:aws:kms:us-east-1:111122223333:key/1234abcd",
///     "arn:aws:kms:us-west-2:111122223333:key/1234abcd"
/// ), "single-Region keys match only themselves");
/// ```
pub fn mrk_match(a: &str, b: &str) -> bool {
    // spec: aws-kms-mrk-match-for-decrypt.md — identical identifiers MUST match.
    if a == b {
        return true;
    }
    // spec: aws-kms-mrk-match-for-decrypt.md — if either is not a multi-Region key, MUST NOT match.
    if !is_multi_region_identifier(a) || !is_multi_region_identifier(b) {
        return false;
    }
    // spec: aws-kms-mrk-match-for-decrypt.md — compare every part but the Region.
    match (KmsArn::parse(a), KmsArn::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.partition == b.partition
                && a.account == b.account
                && a.resource_type == b.resource_type
                && a.resource_id == b.resource_id
        }
        // Two bare `mrk-` ids that differ are different keys.
        _ => false,
    }
}

/// Fails when two identifiers name the same multi-Region key (in different Regions), listing
/// every such identifier.
///
/// spec: aws-kms-mrk-are-unique.md#implementation
///
/// ```
/// use envelope_keyrings::kms::key_arn::ensure_mrks_unique;
///
/// let east = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd";
/// let west = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd";
/// let other = "arn:aws:kms:us-west-2:111122223333:key/5678efgh";
/// assert!(ensure_mrks_unique([east, other]).is_ok());
///
/// // Two replicas of one key: which Region to call would be ambiguous.
/// let error = ensure_mrks_unique([east, west, other]).unwrap_err();
/// assert!(error.contains(east) && error.contains(west) && !error.contains(other));
/// ```
pub fn ensure_mrks_unique<'a>(identifiers: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut by_resource: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for identifier in identifiers {
        if !is_multi_region_identifier(identifier) {
            continue;
        }
        let resource = match KmsArn::parse(identifier) {
            Ok(arn) => arn.resource_id,
            Err(_) => identifier.to_owned(),
        };
        by_resource.entry(resource).or_default().push(identifier);
    }
    let duplicates: Vec<&str> =
        by_resource.values().filter(|ids| ids.len() > 1).flat_map(|ids| ids.iter().copied()).collect();
    if duplicates.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "these identifiers name the same multi-Region key, so which Region to call is ambiguous: {}",
            duplicates.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const MRK_EAST: &str = "arn:aws:kms:us-east-1:111122223333:key/mrk-4321abcd12ab34cd56ef1234567890ab";
    const MRK_WEST: &str = "arn:aws:kms:us-west-2:111122223333:key/mrk-4321abcd12ab34cd56ef1234567890ab";

    #[test]
    fn parses_the_parts() {
        let arn = KmsArn::parse(KEY).unwrap();
        assert_eq!(
            (arn.partition(), arn.region(), arn.account(), arn.resource_type(), arn.resource_id()),
            ("aws", "us-east-1", "111122223333", ResourceType::Key, "1234abcd-12ab-34cd-56ef-1234567890ab")
        );
        assert_eq!(arn.to_string(), KEY);
        assert!(!arn.is_multi_region_key());
        assert!(KmsArn::parse(MRK_EAST).unwrap().is_multi_region_key());
        let alias = KmsArn::parse("arn:aws:kms:us-west-2:111122223333:alias/mrk-looks-like-one").unwrap();
        assert_eq!(alias.resource_type(), ResourceType::Alias);
        assert!(!alias.is_multi_region_key());
        // Extra '/' stay in the resource id; extra ':' stay in the resource.
        assert_eq!(KmsArn::parse("arn:aws:kms:r:a:alias/x/y").unwrap().resource_id(), "x/y");
    }

    #[test]
    fn rejects_invalid_arns() {
        for bad in [
            "",
            "arn:aws:kms:us-east-1:111122223333",
            "arx:aws:kms:us-east-1:111122223333:key/k",
            "arn::kms:us-east-1:111122223333:key/k",
            "arn:aws:s3:us-east-1:111122223333:key/k",
            "arn:aws:kms::111122223333:key/k",
            "arn:aws:kms:us-east-1::key/k",
            "arn:aws:kms:us-east-1:111122223333:key",
            "arn:aws:kms:us-east-1:111122223333:key/",
            "arn:aws:kms:us-east-1:111122223333:grant/k",
        ] {
            assert!(KmsArn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(validate_identifier("alias/x").is_ok());
        assert!(validate_identifier("1234abcd").is_ok());
        assert!(validate_identifier("").is_err());
        assert!(validate_identifier("arn:aws:kms:x").is_err());
        assert!(is_multi_region_identifier("mrk-1"));
        assert!(!is_multi_region_identifier("alias/mrk-1"));
        assert!(is_multi_region_identifier(MRK_WEST));
        assert!(!is_multi_region_identifier(KEY));
    }

    #[test]
    fn mrk_match_ignores_only_the_region() {
        assert!(mrk_match(KEY, KEY));
        assert!(mrk_match(MRK_EAST, MRK_WEST));
        assert!(!mrk_match(KEY, &KEY.replace("us-east-1", "us-west-2")));
        assert!(!mrk_match(MRK_EAST, &MRK_WEST.replace("111122223333", "444455556666")));
        assert!(!mrk_match(MRK_EAST, &MRK_WEST.replace("aws:", "aws-cn:")));
        assert!(!mrk_match("mrk-1", "mrk-2"));
    }

    #[test]
    fn duplicate_mrks_are_all_named() {
        assert!(ensure_mrks_unique([KEY, MRK_EAST]).is_ok());
        let error = ensure_mrks_unique([MRK_EAST, KEY, MRK_WEST]).unwrap_err();
        assert!(error.contains(MRK_EAST) && error.contains(MRK_WEST) && !error.contains(KEY), "{error}");
    }
}
