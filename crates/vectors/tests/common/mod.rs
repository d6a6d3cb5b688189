//! Helpers shared by the vector tests.

use std::path::{Path, PathBuf};

use envelope_vectors::manifest::KeyDescription;

/// An official test-vector zip, committed in `test-vectors/official/` (see its README for the
/// source and sha256 of each). A missing file fails the test with a message that says where it
/// should be, never a silent pass.
pub fn official_zip(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/official").join(name);
    assert!(
        path.is_file(),
        "{} is missing: the official vectors are part of the repository (test-vectors/official/); \
         restore it from git",
        path.display()
    );
    path
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
