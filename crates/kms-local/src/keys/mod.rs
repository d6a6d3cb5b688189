//! Key specs and key material: generation, validation and the cryptographic operations each
//! spec supports. Every primitive comes from aws-lc-rs.

mod der;
mod material;
mod spec;

pub(crate) use material::{Material, Secret};
pub(crate) use spec::{
    DataKeyPairSpec, EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, MacAlgorithm, Origin, SigningAlgorithm,
};

/// Fills `buf` from the system CSPRNG (aws-lc-rs).
pub(crate) fn fill_random(buf: &mut [u8]) {
    // The aws-lc-rs RNG fails only if the OS RNG is unavailable, after which nothing here is safe.
    if aws_lc_rs::rand::fill(buf).is_err() {
        panic!("the system random number generator failed");
    }
}

/// A fresh secret of `len` random bytes.
pub(crate) fn random_secret(len: usize) -> Secret {
    let mut v = vec![0u8; len];
    fill_random(&mut v);
    Secret::new(v)
}
