//! A cache of derived SigV4 signing keys.
//!
//! The signing key depends only on (secret, date, Region, service), so every request a client signs
//! on one day for one Region derives the same key: four HMAC-SHA256 computations that the server
//! would otherwise repeat per request. The cache keeps the derived key, never anything weaker:
//! every request's signature is still computed and compared in full.
//!
//! Only keys that produced a valid signature are stored, so an unauthenticated caller cannot fill
//! the cache with made-up Regions; it is also bounded, and emptied when full (a new day makes the
//! old entries useless anyway).

use std::collections::HashMap;
use std::sync::RwLock;

use aws_lc_rs::{constant_time, hmac};

/// Entries kept before the cache is emptied: one per (access key, day, Region, service) in use.
const MAX_ENTRIES: usize = 256;

/// Derived signing keys by `access_key_id/date/region/service`.
#[derive(Default)]
pub(crate) struct SigningKeys {
    by_scope: RwLock<HashMap<String, Entry>>,
}

struct Entry {
    /// The secret the key was derived from: a credentials file that changed under the same
    /// access key id must not verify against the old secret's key.
    secret: String,
    key: hmac::Key,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Derived keys are secrets: show only how many there are.
        let n = self.by_scope.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("SigningKeys").field("entries", &n).finish()
    }
}

/// The lookup key: the credential scope with the access key id in front.
pub(crate) fn scope_key(access_key_id: &str, date: &str, region: &str, service: &str) -> String {
    let mut s = String::with_capacity(access_key_id.len() + date.len() + region.len() + service.len() + 3);
    for (i, part) in [access_key_id, date, region, service].into_iter().enumerate() {
        if i > 0 {
            s.push('/');
        }
        s.push_str(part);
    }
    s
}

impl SigningKeys {
    /// HMAC-SHA256 of `data` under the cached signing key for `scope` (see [`scope_key`]), if
    /// one derived from this same `secret` is cached.
    pub(crate) fn sign(&self, scope: &str, secret: &str, data: &[u8]) -> Option<hmac::Tag> {
        let map = self.by_scope.read().ok()?;
        let e = map.get(scope)?;
        constant_time::verify_slices_are_equal(e.secret.as_bytes(), secret.as_bytes()).ok()?;
        Some(hmac::sign(&e.key, data))
    }

    /// Stores a key that has just verified a signature.
    pub(crate) fn insert(&self, scope: String, secret: &str, key: hmac::Key) {
        let Ok(mut map) = self.by_scope.write() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(scope, Entry { secret: secret.to_owned(), key });
    }

    /// Number of cached keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_scope.read().map(|m| m.len()).unwrap_or(0)
    }

    /// True when nothing is cached.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
