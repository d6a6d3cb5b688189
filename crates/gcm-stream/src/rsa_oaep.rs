//! RSA-OAEP with SHA-256 as the label hash and MGF1 with **SHA-1** (empty label): the padding the
//! Java JCE default provider applies for `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`, which the Java v1
//! S3 encryption client used to wrap data keys. aws-lc-rs offers OAEP only with matching hashes, so
//! this module configures aws-lc's own `EVP_PKEY` interface (the same library build) instead.
//! Nothing here implements RSA or OAEP: aws-lc does the padding checks, in constant time.
//!
//! Invariants: every aws-lc object is owned by a guard below and freed exactly once on every path
//! (success or failure); the error queue is cleared on failure so that no stale entry reaches
//! another caller of aws-lc on this thread.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::ptr;

use aws_lc_sys as sys;
use zeroize::Zeroizing;

use crate::Error;

/// Decrypts `ciphertext` with an RSA private key given as PKCS #8 DER, using OAEP with SHA-256
/// (label hash) and MGF1-SHA-1, empty label; returns the plaintext in a buffer zeroized on drop.
///
/// A ciphertext made with other OAEP parameters, under another key, or modified, fails with
/// [`Error::DecryptionFailed`] (aws-lc does not say which check failed). A key that is not
/// RSA PKCS #8 DER fails with [`Error::KeyRejected`].
///
/// ```
/// use envelope_gcm_stream::{rsa_oaep_sha256_mgf1_sha1_decrypt, Error};
///
/// // Not a key: refused, no panic.
/// assert!(matches!(rsa_oaep_sha256_mgf1_sha1_decrypt(b"not DER", &[0; 256]), Err(Error::KeyRejected(_))));
/// ```
pub fn rsa_oaep_sha256_mgf1_sha1_decrypt(pkcs8_der: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = Key::parse(pkcs8_der, KeyKind::Private)?;
    let ctx = OaepContext::new(&key, Direction::Decrypt)?;
    let mut out_len: usize = 0;
    // SAFETY: a null `out` asks for the maximum output length only (the modulus size), written to
    // `out_len`; `ciphertext` is valid for its length.
    let sized =
        unsafe { sys::EVP_PKEY_decrypt(ctx.0, ptr::null_mut(), &mut out_len, ciphertext.as_ptr(), ciphertext.len()) };
    if sized != 1 {
        return Err(failed(Error::Refused("to size the RSA output")));
    }
    let mut out = Zeroizing::new(vec![0u8; out_len]);
    // SAFETY: `out` is valid for `out_len` bytes, the size aws-lc asked for; aws-lc writes the
    // plaintext length back into `out_len` (at most the size given).
    let ok =
        unsafe { sys::EVP_PKEY_decrypt(ctx.0, out.as_mut_ptr(), &mut out_len, ciphertext.as_ptr(), ciphertext.len()) };
    if ok != 1 || out_len > out.len() {
        return Err(failed(Error::DecryptionFailed));
    }
    // `Zeroizing<Vec>` wipes the whole capacity on drop, the bytes cut off here included.
    out.truncate(out_len);
    Ok(out)
}

/// Encrypts `plaintext` to an RSA public key given as SubjectPublicKeyInfo DER with the same
/// padding as [`rsa_oaep_sha256_mgf1_sha1_decrypt`]. Envelope never writes this legacy wrap; this
/// exists so tests can make the objects old clients wrote.
///
/// ```
/// use envelope_gcm_stream::{rsa_oaep_sha256_mgf1_sha1_encrypt, Error};
///
/// assert!(matches!(rsa_oaep_sha256_mgf1_sha1_encrypt(&[0x30, 0x00], b"key"), Err(Error::KeyRejected(_))));
/// ```
pub fn rsa_oaep_sha256_mgf1_sha1_encrypt(spki_der: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let key = Key::parse(spki_der, KeyKind::Public)?;
    let ctx = OaepContext::new(&key, Direction::Encrypt)?;
    let mut out_len: usize = 0;
    // SAFETY: as in decrypt, a null `out` is a size query; `plaintext` is valid for its length.
    let sized =
        unsafe { sys::EVP_PKEY_encrypt(ctx.0, ptr::null_mut(), &mut out_len, plaintext.as_ptr(), plaintext.len()) };
    if sized != 1 {
        return Err(failed(Error::Refused("to size the RSA output")));
    }
    let mut out = vec![0u8; out_len];
    // SAFETY: `out` is valid for `out_len` bytes; aws-lc writes the ciphertext length back.
    let ok =
        unsafe { sys::EVP_PKEY_encrypt(ctx.0, out.as_mut_ptr(), &mut out_len, plaintext.as_ptr(), plaintext.len()) };
    if ok != 1 || out_len > out.len() {
        // Too long a plaintext for the modulus and padding is the usual cause.
        return Err(failed(Error::Refused("to encrypt (too long a plaintext for this key?)")));
    }
    out.truncate(out_len);
    Ok(out)
}

/// Clears aws-lc's thread-local error queue and passes `error` through.
fn failed(error: Error) -> Error {
    // SAFETY: no preconditions.
    unsafe { sys::ERR_clear_error() };
    error
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Private,
    Public,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// An owned `EVP_PKEY` holding an RSA key; freed (and its private parts cleansed by aws-lc's
/// `BN_clear_free`) on drop.
struct Key(*mut sys::EVP_PKEY);

impl Key {
    /// Parses exactly `der` (trailing bytes refused) and checks that the key is RSA.
    fn parse(der: &[u8], kind: KeyKind) -> Result<Key, Error> {
        let mut cbs = sys::CBS { data: ptr::null(), len: 0 };
        // SAFETY: `cbs` is a plain (pointer, length) view over `der`, which outlives it; the parse
        // only reads through it and advances it past the bytes it consumed.
        let pkey = unsafe {
            sys::CBS_init(&mut cbs, der.as_ptr(), der.len());
            match kind {
                KeyKind::Private => sys::EVP_parse_private_key(&mut cbs),
                KeyKind::Public => sys::EVP_parse_public_key(&mut cbs),
            }
        };
        if pkey.is_null() {
            return Err(failed(Error::KeyRejected(match kind {
                KeyKind::Private => "not a PKCS #8 private key",
                KeyKind::Public => "not a SubjectPublicKeyInfo public key",
            })));
        }
        // From here on, `Drop` frees `pkey`.
        let key = Key(pkey);
        if cbs.len != 0 {
            return Err(Error::KeyRejected("trailing bytes after the key"));
        }
        // SAFETY: `key.0` is a valid, non-null EVP_PKEY.
        if unsafe { sys::EVP_PKEY_id(key.0) } != sys::EVP_PKEY_RSA as c_int {
            return Err(Error::KeyRejected("not an RSA key"));
        }
        Ok(key)
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from EVP_parse_*_key, is non-null and is freed only here.
        unsafe { sys::EVP_PKEY_free(self.0) }
    }
}

/// An owned `EVP_PKEY_CTX` set up for OAEP(SHA-256, MGF1-SHA-1, empty label) in one direction.
struct OaepContext(*mut sys::EVP_PKEY_CTX);

impl OaepContext {
    fn new(key: &Key, direction: Direction) -> Result<OaepContext, Error> {
        // SAFETY: `key.0` is a valid EVP_PKEY; the context takes its own reference to it, so the
        // `Key` may be dropped first. Null means allocation failure.
        let ctx = unsafe { sys::EVP_PKEY_CTX_new(key.0, ptr::null_mut()) };
        if ctx.is_null() {
            return Err(failed(Error::Refused("to allocate an RSA context")));
        }
        // From here on, `Drop` frees `ctx`.
        let context = OaepContext(ctx);
        // SAFETY: `ctx` is valid; the digests are statics owned by aws-lc. The order matters: the
        // padding is chosen after init, and the OAEP/MGF1 digests only after OAEP is chosen. The
        // label stays empty (aws-lc's default), as in the Java writers.
        let ok = unsafe {
            let init = match direction {
                Direction::Encrypt => sys::EVP_PKEY_encrypt_init(ctx),
                Direction::Decrypt => sys::EVP_PKEY_decrypt_init(ctx),
            };
            init == 1
                && sys::EVP_PKEY_CTX_set_rsa_padding(ctx, sys::RSA_PKCS1_OAEP_PADDING as c_int) == 1
                && sys::EVP_PKEY_CTX_set_rsa_oaep_md(ctx, sys::EVP_sha256()) == 1
                && sys::EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, sys::EVP_sha1()) == 1
        };
        if !ok {
            return Err(failed(Error::Refused("to set up RSA-OAEP (SHA-256, MGF1-SHA-1)")));
        }
        Ok(context)
    }
}

impl Drop for OaepContext {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from EVP_PKEY_CTX_new, is non-null and is freed only here (which
        // also drops the context's reference to the key).
        unsafe { sys::EVP_PKEY_CTX_free(self.0) }
    }
}
