//! The flags of `envelope encrypt` and `envelope decrypt`, named as aws-encryption-cli names them
//! so that scripts move over with few edits.

use std::path::PathBuf;

use clap::ArgAction;

/// Flags both directions share.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// What to read: files, directories (with --recursive), or `-` for stdin. Several inputs
    /// need a directory as --output.
    #[arg(short = 'i', long, value_name = "PATH", required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Where to write: a file, a directory (outputs are named after their inputs plus --suffix),
    /// or `-` for stdout.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: PathBuf,
    /// Descend into directories given as --input; the output directory mirrors their tree.
    #[arg(short = 'r', long, visible_short_alias = 'R')]
    pub recursive: bool,
    /// Wrapping keys, one group per occurrence: `key=ID` (AWS KMS key ARN, key id or alias;
    /// repeat key= for several), `region=`, `discovery=true` with `discovery-account=` and
    /// `discovery-partition=` (decrypt); raw keys: `provider=NAMESPACE key=NAME key-file=PATH`
    /// (16/24/32-byte AES key, or RSA PEM/DER) with `padding=` for RSA; branch keys
    /// (hierarchical keyring): `branch-key-id=ID key-store=sqlite:PATH|dynamodb:TABLE
    /// kms-key=KMS_KEY` with `logical-name=` and `cache-ttl=SECONDS` (default 600).
    #[arg(short = 'w', long = "wrapping-keys", value_name = "ATTR=VALUE", num_args = 1.., action = ArgAction::Append)]
    pub wrapping_keys: Vec<String>,
    /// The --wrapping-keys words grouped by occurrence (clap's derive flattens them; `main`
    /// fills this from the matches with [`CommonArgs::group_wrapping_keys`]).
    #[arg(skip)]
    pub wrapping_key_groups: Vec<Vec<String>>,
    /// Encryption context pairs `name=value`. On decrypt, pairs the message must carry, and bare
    /// `name`s whose presence is required.
    #[arg(short = 'c', long, value_name = "NAME=VALUE", num_args = 1..)]
    pub encryption_context: Vec<String>,
    /// forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or
    /// require-encrypt-require-decrypt (the default).
    #[arg(long, value_name = "POLICY")]
    pub commitment_policy: Option<String>,
    /// Refuse messages with more encrypted data keys than this (and refuse to write them).
    #[arg(long, value_name = "N")]
    pub max_encrypted_data_keys: Option<usize>,
    /// Suffix of output names when --output is a directory (default `.encrypted` or
    /// `.decrypted`; a bare --suffix means none).
    #[arg(long, value_name = "SUFFIX", num_args = 0..=1, default_missing_value = "")]
    pub suffix: Option<String>,
    /// Write one JSON object per message (header, context, data keys, suite, paths) to FILE, or
    /// `-` for stdout. Appends unless --overwrite-metadata.
    #[arg(long, value_name = "FILE|-")]
    pub metadata_output: Option<PathBuf>,
    /// Truncate the --metadata-output file instead of appending to it.
    #[arg(long, requires = "metadata_output")]
    pub overwrite_metadata: bool,
    /// Write no metadata (the default; accepted for aws-encryption-cli scripts).
    #[arg(short = 'S', long, conflicts_with = "metadata_output")]
    pub suppress_metadata: bool,
    /// Replace outputs that already exist (by default an existing output is an error).
    #[arg(long)]
    pub overwrite: bool,
    /// Never replace existing outputs (the default; accepted for aws-encryption-cli scripts).
    #[arg(long, conflicts_with = "overwrite")]
    pub no_overwrite: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Say more (repeat for more detail).
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub kms: crate::kms_choice::KmsArgs,
}

impl CommonArgs {
    /// Fills `wrapping_key_groups` from the subcommand's matches.
    pub fn group_wrapping_keys(&mut self, matches: &clap::ArgMatches) {
        self.wrapping_key_groups = matches
            .get_occurrences::<String>("wrapping_keys")
            .map(|occurrences| occurrences.map(|words| words.cloned().collect()).collect())
            .unwrap_or_default();
    }
}

/// `envelope encrypt`.
#[derive(Debug, Clone, clap::Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Algorithm suite: a name such as AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 (with or
    /// without the ALG_ prefix) or its id in hex (0578). Default: the policy's default suite.
    #[arg(long, value_name = "SUITE")]
    pub algorithm: Option<String>,
    /// Plaintext bytes per frame.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub frame_length: u32,
    /// Base64-encode the output.
    #[arg(long)]
    pub encode: bool,
}

/// `envelope decrypt`.
#[derive(Debug, Clone, clap::Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Refuse signed messages (their signature is checked only at the end of the stream).
    #[arg(long)]
    pub decrypt_unsigned: bool,
    /// Release no plaintext to stdout until the whole message, signature included, verifies.
    /// File outputs always behave so: they appear only once the message has verified.
    #[arg(short = 'b', long)]
    pub buffer: bool,
    /// The input is base64 text.
    #[arg(long)]
    pub decode: bool,
}
