//! The only unsafe code of the crate: an owned `EVP_CIPHER_CTX` set up for AES-256-GCM.
//!
//! Invariants: `ctx` is non-null, initialised for one direction with a 32-byte key and a 12-byte
//! IV, owned by exactly one `Context`, and freed once (in `Drop`). aws-lc's GCM cipher is a
//! "custom" EVP cipher: each update consumes and produces exactly the bytes given (no internal
//! block buffering), in place is allowed, and the final call outputs nothing.
#![allow(unsafe_code)]

use std::fmt;
use std::os::raw::{c_int, c_void};
use std::ptr;

use aws_lc_sys as sys;

use crate::{Error, IV_LEN, KEY_LEN, TAG_LEN};

/// Which way the context runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Encrypt,
    Decrypt,
}

/// An owned GCM context.
pub(crate) struct Context {
    ctx: *mut sys::EVP_CIPHER_CTX,
    direction: Direction,
}

// SAFETY: the context is owned exclusively (no aliasing pointer exists outside this struct) and
// aws-lc's cipher contexts have no thread affinity; every use goes through `&mut self`.
unsafe impl Send for Context {}

impl Context {
    pub(crate) fn new(
        direction: Direction,
        key: &[u8; KEY_LEN],
        iv: &[u8; IV_LEN],
        aad: &[u8],
    ) -> Result<Context, Error> {
        // SAFETY: EVP_CIPHER_CTX_new has no preconditions; null means allocation failure.
        let ctx = unsafe { sys::EVP_CIPHER_CTX_new() };
        if ctx.is_null() {
            return Err(Error::Refused("to allocate a cipher context"));
        }
        // From here on, `Drop` frees `ctx` whatever fails.
        let context = Context { ctx, direction };
        // SAFETY: `ctx` is a fresh context; the cipher pointer is a static owned by aws-lc.
        // Key and IV are set in a second call, after the IV length, as the EVP GCM API requires.
        let ok = unsafe {
            let cipher = sys::EVP_aes_256_gcm();
            let init = match direction {
                Direction::Encrypt => sys::EVP_EncryptInit_ex(ctx, cipher, ptr::null_mut(), ptr::null(), ptr::null()),
                Direction::Decrypt => sys::EVP_DecryptInit_ex(ctx, cipher, ptr::null_mut(), ptr::null(), ptr::null()),
            };
            init == 1
                && sys::EVP_CIPHER_CTX_ctrl(ctx, sys::EVP_CTRL_GCM_SET_IVLEN, IV_LEN as c_int, ptr::null_mut()) == 1
        };
        if !ok {
            return Err(Error::Refused("to set up AES-256-GCM"));
        }
        // SAFETY: `key` and `iv` are valid for KEY_LEN and IV_LEN bytes, the lengths the cipher and
        // the IV-length control above expect; aws-lc copies both.
        let ok = unsafe {
            match direction {
                Direction::Encrypt => {
                    sys::EVP_EncryptInit_ex(ctx, ptr::null(), ptr::null_mut(), key.as_ptr(), iv.as_ptr())
                }
                Direction::Decrypt => {
                    sys::EVP_DecryptInit_ex(ctx, ptr::null(), ptr::null_mut(), key.as_ptr(), iv.as_ptr())
                }
            }
        };
        if ok != 1 {
            return Err(Error::Refused("the key or IV"));
        }
        let mut context = context;
        context.process(ptr::null_mut(), aad.as_ptr(), aad.len(), "the AAD")?;
        Ok(context)
    }

    /// Encrypts or decrypts `data` in place.
    pub(crate) fn update(&mut self, data: &mut [u8]) -> Result<(), Error> {
        let ptr = data.as_mut_ptr();
        self.process(ptr, ptr, data.len(), "to process more data")
    }

    /// One update call per `c_int`-sized piece; `out` null means `input` is AAD.
    fn process(&mut self, out: *mut u8, input: *const u8, len: usize, what: &'static str) -> Result<(), Error> {
        const PIECE: usize = 1 << 30;
        let mut done = 0;
        while done < len {
            let piece = (len - done).min(PIECE);
            let mut written: c_int = 0;
            // SAFETY: `input + done` and (when not null) `out + done` are valid for `piece` bytes
            // (they are within the caller's slice, and in-place use is allowed by aws-lc's GCM);
            // `piece` fits a c_int; `written` is a valid out-pointer.
            let ok = unsafe {
                let out = if out.is_null() { out } else { out.add(done) };
                match self.direction {
                    Direction::Encrypt => {
                        sys::EVP_EncryptUpdate(self.ctx, out, &mut written, input.add(done), piece as c_int)
                    }
                    Direction::Decrypt => {
                        sys::EVP_DecryptUpdate(self.ctx, out, &mut written, input.add(done), piece as c_int)
                    }
                }
            };
            if ok != 1 || (!out.is_null() && written as usize != piece) {
                return Err(Error::Refused(what));
            }
            done += piece;
        }
        Ok(())
    }

    pub(crate) fn finish_encrypt(&mut self) -> Result<[u8; TAG_LEN], Error> {
        debug_assert_eq!(self.direction, Direction::Encrypt);
        let mut tag = [0u8; TAG_LEN];
        let mut written: c_int = 0;
        // SAFETY: GCM's final writes no output (a 1-byte scratch is passed as `out` anyway); the
        // tag control writes exactly TAG_LEN bytes into `tag`.
        let ok = unsafe {
            let mut scratch = [0u8; 1];
            sys::EVP_EncryptFinal_ex(self.ctx, scratch.as_mut_ptr(), &mut written) == 1
                && written == 0
                && sys::EVP_CIPHER_CTX_ctrl(
                    self.ctx,
                    sys::EVP_CTRL_GCM_GET_TAG,
                    TAG_LEN as c_int,
                    tag.as_mut_ptr().cast::<c_void>(),
                ) == 1
        };
        if !ok {
            return Err(Error::Refused("to finish encrypting"));
        }
        Ok(tag)
    }

    pub(crate) fn finish_decrypt(&mut self, tag: &[u8; TAG_LEN]) -> Result<(), Error> {
        debug_assert_eq!(self.direction, Direction::Decrypt);
        let mut expected = *tag;
        // SAFETY: the tag control reads exactly TAG_LEN bytes from `expected` (a local copy, so
        // the const input is never written through).
        let set = unsafe {
            sys::EVP_CIPHER_CTX_ctrl(
                self.ctx,
                sys::EVP_CTRL_GCM_SET_TAG,
                TAG_LEN as c_int,
                expected.as_mut_ptr().cast::<c_void>(),
            )
        };
        if set != 1 {
            return Err(Error::Refused("the tag"));
        }
        let mut written: c_int = 0;
        // SAFETY: GCM's final writes no output; it compares the tags (CRYPTO_memcmp) and returns 1
        // only when they are equal.
        let ok = unsafe {
            let mut scratch = [0u8; 1];
            sys::EVP_DecryptFinal_ex(self.ctx, scratch.as_mut_ptr(), &mut written)
        };
        if ok != 1 {
            return Err(Error::TagMismatch);
        }
        Ok(())
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from EVP_CIPHER_CTX_new and is freed only here; aws-lc cleanses the
        // key schedule and GCM state when it frees them.
        unsafe { sys::EVP_CIPHER_CTX_free(self.ctx) }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Context({:?}, AES-256-GCM, [REDACTED])", self.direction)
    }
}
