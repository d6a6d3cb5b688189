//! Helpers shared by the vector tests.

use std::path::{Path, PathBuf};

use envelope_vectors::manifest::KeyDescription;

/// `shared/vectors`: `$ENVELOPE_SHARED_VECTORS`, else the first `shared/vectors` found walking up
/// from this crate. `None` only when `ENVELOPE_SKIP_SHARED_VECTORS=1`; otherwise a missing
/// directory fails the test.
pub fn shared_vectors() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ENVELOPE_SHARED_VECTORS") {
        return Some(PathBuf::from(dir));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(dir) = here.ancestors().map(|a| a.join("shared").join("vectors")).find(|d| d.is_dir()) {
        return Some(dir);
    }
    if std::env::var("ENVELOPE_SKIP_SHARED_VECTORS").as_deref() == Ok("1") {
        eprintln!("shared/vectors not found; skipped because ENVELOPE_SKIP_SHARED_VECTORS=1");
        return None;
    }
    panic!(
        "shared/vectors (the official test-vector zips) not found above {}; set ENVELOPE_SHARED_VECTORS \
         to its path, or ENVELOPE_SKIP_SHARED_VECTORS=1 to skip these tests",
        here.display()
    );
}

/// Whether every key of a description is an AWS KMS key.
pub fn only_kms(description: &KeyDescription) -> bool {
    match description {
        KeyDescription::AwsKms { .. } => true,
        KeyDescription::RequiredEncryptionContext { underlying, .. } => only_kms(underlying),
        KeyDescription::Multi { generator, children } => {
            generator.iter().map(|g| g.as_ref()).chain(children).all(only_kms)
        }
        _ => false,
    }
}
