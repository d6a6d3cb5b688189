//! Which KMS key(s) a key store uses, and which stored `kms-arn` values it accepts.
//!
//! spec: framework/branch-key-store.md#aws-kms-configuration, #aws-key-arn-compatibility

use envelope_keyrings::kms::key_arn::ResourceType;
use envelope_keyrings::kms::{KmsArn, mrk_match};

/// The KMS configuration of a key store.
///
/// ```
/// use envelope_keystore::KmsConfiguration;
///
/// let fixed = KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")?;
/// assert!(fixed.accepts("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
/// assert!(fixed.configured_arn().is_some(), "may create and rotate keys");
/// // Aliases are refused: an alias can be repointed, and the ARN is bound into every item.
/// assert!(KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:alias/keys").is_err());
/// // Discovery reads items under any key, and creates nothing.
/// assert!(KmsConfiguration::Discovery.configured_arn().is_none());
///
/// // A multi-Region key also accepts items that name its replicas in other Regions.
/// let mrk = KmsConfiguration::mrk_key_arn("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")?;
/// assert!(mrk.accepts("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"));
/// // Multi-Region discovery calls KMS in its own Region, through the replica there.
/// let discovery = KmsConfiguration::mrk_discovery("eu-west-1")?;
/// let key = discovery.key_for("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")?;
/// assert_eq!(key.to_string(), "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab");
/// assert_eq!(discovery.describe(), "KMS multi-Region discovery in eu-west-1");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsConfiguration {
    /// One key, by ARN: items must name exactly this ARN. CreateKey and VersionKey allowed.
    KeyArn(KmsArn),
    /// One key, by ARN, and its multi-Region replicas: items may name the same key in another
    /// Region (KMS is called in this ARN's Region). CreateKey and VersionKey allowed.
    MrkKeyArn(KmsArn),
    /// Any key: KMS Decrypt is called with the item's own `kms-arn`, in that ARN's Region. Reads only.
    Discovery,
    /// Any key, called in `region`: a multi-Region key named by an item is used through its
    /// replica there. Reads only.
    MrkDiscovery {
        /// The Region every KMS call goes to.
        region: String,
    },
}

impl KmsConfiguration {
    /// A fixed key. `arn` must be a key ARN (not an alias, not a bare key id): the ARN is written
    /// into every item and bound into its KMS encryption context.
    pub fn key_arn(arn: &str) -> Result<KmsConfiguration, String> {
        Ok(KmsConfiguration::KeyArn(parse_key_arn(arn)?))
    }

    /// A multi-Region key (or a single-Region one; then it behaves as [`key_arn`](Self::key_arn)).
    pub fn mrk_key_arn(arn: &str) -> Result<KmsConfiguration, String> {
        Ok(KmsConfiguration::MrkKeyArn(parse_key_arn(arn)?))
    }

    /// Discovery in `region`.
    pub fn mrk_discovery(region: &str) -> Result<KmsConfiguration, String> {
        if region.is_empty() {
            return Err("MRK discovery needs a Region".into());
        }
        Ok(KmsConfiguration::MrkDiscovery { region: region.to_owned() })
    }

    /// The configured key, for the configurations that have one (those that may create keys).
    pub fn configured_arn(&self) -> Option<&KmsArn> {
        match self {
            KmsConfiguration::KeyArn(arn) | KmsConfiguration::MrkKeyArn(arn) => Some(arn),
            KmsConfiguration::Discovery | KmsConfiguration::MrkDiscovery { .. } => None,
        }
    }

    /// Whether this configuration may use an item whose `kms-arn` is `stored`.
    ///
    /// spec: branch-key-store.md#aws-kms-branch-key-decryption — compatible ARN for the fixed
    /// configurations; for discovery, a valid key ARN (never an alias).
    pub fn accepts(&self, stored: &str) -> bool {
        match self {
            KmsConfiguration::KeyArn(arn) => arn.to_string() == stored,
            KmsConfiguration::MrkKeyArn(arn) => mrk_match(&arn.to_string(), stored),
            KmsConfiguration::Discovery | KmsConfiguration::MrkDiscovery { .. } => parse_key_arn(stored).is_ok(),
        }
    }

    /// The key id to call KMS with for an item naming `stored` (already [`accepts`](Self::accepts)ed),
    /// and the Region of the client to call it through.
    pub fn key_for(&self, stored: &str) -> Result<KmsArn, String> {
        match self {
            KmsConfiguration::KeyArn(arn) | KmsConfiguration::MrkKeyArn(arn) => Ok(arn.clone()),
            KmsConfiguration::Discovery => parse_key_arn(stored),
            KmsConfiguration::MrkDiscovery { region } => {
                let arn = parse_key_arn(stored)?;
                // Only a multi-Region key has a replica to call in another Region.
                Ok(if arn.is_multi_region_key() { arn.with_region(region) } else { arn })
            }
        }
    }

    /// A short description for errors and logs.
    pub fn describe(&self) -> String {
        match self {
            KmsConfiguration::KeyArn(arn) => format!("KMS key {arn}"),
            KmsConfiguration::MrkKeyArn(arn) => format!("KMS multi-Region key {arn}"),
            KmsConfiguration::Discovery => "KMS discovery".into(),
            KmsConfiguration::MrkDiscovery { region } => format!("KMS multi-Region discovery in {region}"),
        }
    }
}

fn parse_key_arn(arn: &str) -> Result<KmsArn, String> {
    let parsed = KmsArn::parse(arn).map_err(|e| e.to_string())?;
    if parsed.resource_type() != ResourceType::Key {
        return Err(format!("{arn:?} is an alias ARN; a key store needs a key ARN (aliases can be repointed)"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const MRK_EAST: &str = "arn:aws:kms:us-east-1:111122223333:key/mrk-4321abcd12ab34cd56ef1234567890ab";
    const MRK_WEST: &str = "arn:aws:kms:us-west-2:111122223333:key/mrk-4321abcd12ab34cd56ef1234567890ab";

    #[test]
    fn compatibility() {
        assert!(KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:alias/x").is_err());
        assert!(KmsConfiguration::key_arn("1234abcd").is_err());
        let fixed = KmsConfiguration::key_arn(MRK_WEST).unwrap();
        assert!(fixed.accepts(MRK_WEST) && !fixed.accepts(MRK_EAST));
        let mrk = KmsConfiguration::mrk_key_arn(MRK_WEST).unwrap();
        assert!(mrk.accepts(MRK_EAST) && !mrk.accepts(KEY));
        assert_eq!(mrk.key_for(MRK_EAST).unwrap().to_string(), MRK_WEST);
        assert!(KmsConfiguration::Discovery.accepts(KEY));
        assert!(!KmsConfiguration::Discovery.accepts("arn:aws:kms:us-east-1:111122223333:alias/x"));
        assert_eq!(KmsConfiguration::Discovery.key_for(MRK_EAST).unwrap().to_string(), MRK_EAST);
        let west = KmsConfiguration::mrk_discovery("us-west-2").unwrap();
        assert_eq!(west.key_for(MRK_EAST).unwrap().to_string(), MRK_WEST);
        assert_eq!(west.key_for(KEY).unwrap().to_string(), KEY);
    }
}
