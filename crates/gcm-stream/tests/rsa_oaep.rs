//! RSA-OAEP with SHA-256 and MGF1-SHA-1 against a vector made by an independent implementation
//! (Python's `cryptography`, see tests/vectors/make_rsa_oaep_vector.py), and the refusals.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use envelope_gcm_stream::{
    Error, rsa_oaep_sha256_mgf1_sha1_decrypt as decrypt, rsa_oaep_sha256_mgf1_sha1_encrypt as encrypt,
};

struct Vector {
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn vector() -> Vector {
    let text = include_str!("vectors/rsa_oaep_sha256_mgf1_sha1.txt");
    let field = |name: &str| {
        let line = text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(": ")));
        hex::decode(line.unwrap_or_else(|| panic!("no {name} in the vector"))).unwrap()
    };
    Vector {
        pkcs8: field("pkcs8"),
        spki: field("spki"),
        plaintext: field("plaintext"),
        ciphertext: field("ciphertext"),
    }
}

#[test]
fn decrypts_the_python_vector() {
    let v = vector();
    assert_eq!(v.ciphertext.len(), 256);
    assert_eq!(decrypt(&v.pkcs8, &v.ciphertext).unwrap().as_slice(), v.plaintext.as_slice());
}

#[test]
fn encrypts_what_decrypt_reads_and_what_same_hash_oaep_does_not() {
    let v = vector();
    let ciphertext = encrypt(&v.spki, &v.plaintext).unwrap();
    assert_eq!(ciphertext.len(), 256);
    assert_ne!(ciphertext, v.ciphertext, "OAEP is randomised");
    assert_eq!(decrypt(&v.pkcs8, &ciphertext).unwrap().as_slice(), v.plaintext.as_slice());
    // aws-lc-rs's OAEP-SHA-256 uses MGF1-SHA-256: a different padding, so it must not decrypt ours.
    let private = OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&v.pkcs8).unwrap()).unwrap();
    let mut out = vec![0u8; private.min_output_size()];
    assert!(private.decrypt(&OAEP_SHA256_MGF1SHA256, &ciphertext, &mut out, None).is_err());
    // Empty and maximal plaintexts (256 - 2 * 32 - 2 = 190 bytes for a 2048-bit key).
    for len in [0usize, 1, 190] {
        let plaintext = vec![0x5a; len];
        let ciphertext = encrypt(&v.spki, &plaintext).unwrap();
        assert_eq!(decrypt(&v.pkcs8, &ciphertext).unwrap().as_slice(), plaintext.as_slice(), "len {len}");
    }
    assert!(matches!(encrypt(&v.spki, &[0; 191]), Err(Error::Refused(_))));
}

#[test]
fn other_oaep_parameters_are_refused() {
    let v = vector();
    let public = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&v.spki).unwrap()).unwrap();
    for algorithm in [&OAEP_SHA256_MGF1SHA256, &OAEP_SHA1_MGF1SHA1] {
        let mut ciphertext = vec![0u8; public.ciphertext_size()];
        let len = public.encrypt(algorithm, &v.plaintext, &mut ciphertext, None).unwrap().len();
        assert!(matches!(decrypt(&v.pkcs8, &ciphertext[..len]), Err(Error::DecryptionFailed)));
    }
    // A label the Java writers never set changes the label hash: refused too.
    let mut ciphertext = vec![0u8; public.ciphertext_size()];
    let len = public.encrypt(&OAEP_SHA256_MGF1SHA256, &v.plaintext, &mut ciphertext, Some(b"label")).unwrap().len();
    assert!(matches!(decrypt(&v.pkcs8, &ciphertext[..len]), Err(Error::DecryptionFailed)));
}

#[test]
fn modified_short_long_and_foreign_ciphertexts_fail_without_panicking() {
    let v = vector();
    for index in (0..v.ciphertext.len()).step_by(7).chain([v.ciphertext.len() - 1]) {
        let mut forged = v.ciphertext.clone();
        forged[index] ^= 0x01;
        assert!(matches!(decrypt(&v.pkcs8, &forged), Err(Error::DecryptionFailed)), "byte {index}");
    }
    for bad in [&[][..], &v.ciphertext[1..], &[v.ciphertext.as_slice(), &[0]].concat(), &[0xff; 256]] {
        assert!(matches!(decrypt(&v.pkcs8, bad), Err(Error::DecryptionFailed)), "{} bytes", bad.len());
    }
    // Another RSA key.
    let other = PrivateDecryptingKey::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let other_der = other.as_der().unwrap();
    assert!(matches!(decrypt(other_der.as_ref(), &v.ciphertext), Err(Error::DecryptionFailed)));
}

#[test]
fn unusable_keys_are_typed_errors() {
    let v = vector();
    let with_trailing = [v.pkcs8.as_slice(), &[0]].concat();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let cases: [(&str, &[u8]); 5] = [
        ("empty", &[]),
        ("truncated", &v.pkcs8[..v.pkcs8.len() - 1]),
        ("trailing byte", &with_trailing),
        ("public key", &v.spki),
        ("EC key", ec.as_ref()),
    ];
    for (what, key) in cases {
        assert!(matches!(decrypt(key, &v.ciphertext), Err(Error::KeyRejected(_))), "{what}");
    }
    assert!(matches!(encrypt(&v.pkcs8, b"x"), Err(Error::KeyRejected(_))), "a private key to encrypt");
    assert!(matches!(encrypt(&[v.spki.as_slice(), &[0]].concat(), b"x"), Err(Error::KeyRejected(_))));
}
