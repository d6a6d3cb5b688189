//! Debug output never shows plaintext or key bytes. Every public type of the core and of the keyrings that can hold
//! them is formatted with `{:?}` and `{:#?}` while holding a recognizable secret, and the output
//! must not contain any 8 consecutive secret bytes as text, hex, or a decimal list.

use std::fmt::Debug;
use std::io::{Read, Write};
use std::sync::Arc;

use envelope::blocking::BlockingClient;
use envelope::{
    AlgorithmSuite, Client, DataKey, DecryptOptions, DecryptionMaterials, DefaultMaterialsManager, EncryptOptions,
    EncryptionContext, EncryptionMaterials, Keyring, MultiKeyring,
};
use envelope_keyrings::{
    EcPrivateKey, EcdhCurve, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaPadding, RsaPrivateKey,
};

/// Plaintext the tests encrypt: long enough to span frames of 16 bytes.
const PLAINTEXT: &[u8] = b"SECRET-PLAINTEXT: the launch code is 0000, tell no one. SECRET-PLAINTEXT again.";
/// A 256-bit wrapping key, readable so a leak is obvious in any form.
const WRAPPING_KEY: &[u8; 32] = b"SECRET-WRAPPING-KEY-0123456789AB";

/// Every form in which `secret`'s windows of 8 bytes could appear in Debug output (compared
/// after removing whitespace, so `{:#?}`'s one-number-per-line lists are caught too).
fn leaked_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for window in secret.windows(8) {
        if let Ok(text) = std::str::from_utf8(window) {
            forms.push(text.chars().filter(|c| !c.is_whitespace()).collect());
        }
        forms.push(hex::encode(window));
        forms.push(hex::encode_upper(window));
        forms.push(window.iter().map(u8::to_string).collect::<Vec<_>>().join(","));
    }
    forms
}

fn assert_redacted(name: &str, value: &impl Debug, secret: &[u8]) {
    let forms = leaked_forms(secret);
    for output in [format!("{value:?}"), format!("{value:#?}")] {
        let squeezed: String = output.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(form) = forms.iter().find(|form| squeezed.contains(form.as_str())) {
            panic!("Debug of {name} shows secret bytes ({form}):\n{output}");
        }
    }
}

fn keyring() -> RawAesKeyring {
    RawAesKeyring::new("debug-test", "aes", WRAPPING_KEY.to_vec()).expect("keyring")
}

fn client() -> BlockingClient {
    BlockingClient::new(Client::with_keyring(keyring()))
}

fn options() -> EncryptOptions {
    EncryptOptions::new().frame_length(16).encryption_context(EncryptionContext::from([("purpose", "debug-test")]))
}

#[test]
fn keyrings_clients_and_managers_hide_the_wrapping_key() {
    assert_redacted("RawAesKeyring", &keyring(), WRAPPING_KEY);
    let shared: Arc<dyn Keyring> = Arc::new(keyring());
    assert_redacted(
        "MultiKeyring",
        &MultiKeyring::new(Some(shared.clone()), vec![shared.clone()]).expect("multi"),
        WRAPPING_KEY,
    );
    assert_redacted("DefaultMaterialsManager", &DefaultMaterialsManager::from_arc(shared), WRAPPING_KEY);
    assert_redacted("Client", &Client::with_keyring(keyring()), WRAPPING_KEY);
    assert_redacted("BlockingClient", &client(), WRAPPING_KEY);
}

#[test]
fn asymmetric_keys_and_their_keyrings_hide_the_private_key() {
    // RSA: the tail of the PKCS #8 DER holds only private values (p, q, the CRT exponents).
    let rsa = RsaPrivateKey::generate(2048).expect("RSA key");
    let der = rsa.to_pkcs8_der().expect("DER");
    let private_tail = der[der.len() - 256..].to_vec();
    assert_redacted("RsaPrivateKey", &rsa, &private_tail);
    let keyring = RawRsaKeyring::new("debug-test", "rsa", RsaPadding::OaepSha256, None, Some(rsa)).expect("RSA");
    assert_redacted("RawRsaKeyring", &keyring, &private_tail);

    // ECDH: the private scalar itself.
    use aws_lc_rs::agreement::{ECDH_P256, PrivateKey};
    use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPrivateKeyBin, EcPrivateKeyRfc5915Der};
    let raw = PrivateKey::generate(&ECDH_P256).expect("EC key");
    let scalar: EcPrivateKeyBin<'_> = raw.as_be_bytes().expect("scalar");
    let der: EcPrivateKeyRfc5915Der<'_> = raw.as_der().expect("DER");
    let ec = EcPrivateKey::from_der(EcdhCurve::P256, der.as_ref()).expect("EC private key");
    assert_redacted("EcPrivateKey", &ec, scalar.as_ref());
    let keyring = RawEcdhKeyring::public_key_discovery(EcdhCurve::P256, ec).expect("ECDH");
    assert_redacted("RawEcdhKeyring", &keyring, scalar.as_ref());
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn kms_client_suppliers_hide_the_secret_access_key() {
    use envelope_keyrings::kms::{Credentials, DefaultClientSupplier, KmsClientSupplier};
    const SECRET: &[u8] = b"SECRET-ACCESS-KEY-of-the-owner-0123456789";
    let credentials = Credentials::new("AKIDDEBUG", std::str::from_utf8(SECRET).unwrap(), None, None, "test");
    let supplier = DefaultClientSupplier::with_endpoint_and_credentials("http://127.0.0.1:9", credentials).await;
    supplier.client_for_region("us-east-1").expect("client");
    assert_redacted("DefaultClientSupplier", &supplier, SECRET);
}

#[test]
fn materials_hide_the_data_key() {
    let data_key = DataKey::new(WRAPPING_KEY.to_vec());
    assert_redacted("DataKey", &data_key, WRAPPING_KEY);
    let suite = AlgorithmSuite::from_id(0x0478).expect("suite");
    let mut encryption =
        EncryptionMaterials::new(suite, EncryptionContext::new(), Vec::new(), None).expect("materials");
    encryption.set_data_key(data_key.clone()).expect("set");
    assert_redacted("EncryptionMaterials", &encryption, WRAPPING_KEY);
    let mut decryption =
        DecryptionMaterials::new(suite, EncryptionContext::new(), Vec::new(), None).expect("materials");
    decryption.set_data_key(data_key).expect("set");
    assert_redacted("DecryptionMaterials", &decryption, WRAPPING_KEY);
}

#[test]
fn decrypted_messages_hide_the_plaintext() {
    let client = client();
    let message = client.encrypt(PLAINTEXT, &options()).expect("encrypt");
    let decrypted = client.decrypt(&message, &DecryptOptions::new()).expect("decrypt");
    assert_eq!(decrypted.plaintext, PLAINTEXT);
    assert_redacted("Decrypted", &decrypted, PLAINTEXT);
}

#[test]
fn blocking_streams_hide_buffered_plaintext() {
    let client = client();
    let mut writer = client.encrypting_writer(Vec::new(), &options()).expect("writer");
    writer.write_all(&PLAINTEXT[..12]).expect("write");
    assert_redacted("EncryptingWriter (a partial frame pending)", &writer, &PLAINTEXT[..12]);
    writer.write_all(&PLAINTEXT[12..]).expect("write");
    let message = writer.finish().expect("finish");

    // One byte out: the rest of the released plaintext waits in the reader.
    let mut reader = client.decrypting_reader(&message[..], &DecryptOptions::new()).expect("reader");
    let mut first = [0u8; 1];
    reader.read_exact(&mut first).expect("read");
    assert_redacted("DecryptingReader (plaintext released, not yet read)", &reader, PLAINTEXT);

    // A signed message without its footer: the last frame is held until a signature that never comes.
    let without_footer = &message[..message.len() - 40];
    let mut reader = client.decrypting_reader(without_footer, &DecryptOptions::new()).expect("reader");
    let mut sink = Vec::new();
    assert!(reader.read_to_end(&mut sink).is_err());
    assert_redacted("DecryptingReader (last frame held)", &reader, PLAINTEXT);
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_streams_hide_buffered_plaintext() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let client = Client::with_keyring(keyring());
    let mut writer = client.encrypting_async_writer(Vec::new(), &options()).await.expect("writer");
    writer.write_all(&PLAINTEXT[..12]).await.expect("write");
    assert_redacted("AsyncEncryptingWriter", &writer, &PLAINTEXT[..12]);
    writer.write_all(&PLAINTEXT[12..]).await.expect("write");
    let message = writer.finish().await.expect("finish");

    let mut reader = client.decrypting_async_reader(&message[..], &DecryptOptions::new()).await.expect("reader");
    let mut first = [0u8; 1];
    reader.read_exact(&mut first).await.expect("read");
    assert_redacted("AsyncDecryptingReader", &reader, PLAINTEXT);
}

#[test]
fn the_check_itself_catches_a_leak() {
    let leak = std::panic::catch_unwind(|| assert_redacted("Vec<u8>", &PLAINTEXT.to_vec(), PLAINTEXT));
    assert!(leak.is_err(), "a plain Vec<u8> of the secret must be caught");
    let leak = std::panic::catch_unwind(|| assert_redacted("String", &hex::encode(WRAPPING_KEY), WRAPPING_KEY));
    assert!(leak.is_err(), "hex of the secret must be caught");
}

#[test]
fn caching_managers_caches_and_entries_hide_the_cached_data_key() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use envelope::EncryptedDataKey;
    use envelope::cmm::{CacheEntry, CacheId, CachingMaterialsManager, LocalMaterialsCache, MaterialsCache, Usage};

    const DATA_KEY: &[u8; 32] = b"SECRET-CACHED-DATA-KEY-012345678";

    /// Sets a recognizable data key, then wraps it under the raw AES key.
    #[derive(Debug)]
    struct KnownDataKey(RawAesKeyring);

    #[async_trait::async_trait]
    impl Keyring for KnownDataKey {
        async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> envelope::Result<EncryptionMaterials> {
            materials.set_data_key(DataKey::new(DATA_KEY.to_vec()))?;
            self.0.on_encrypt(materials).await
        }

        async fn on_decrypt(
            &self,
            materials: DecryptionMaterials,
            edks: &[EncryptedDataKey],
        ) -> envelope::Result<DecryptionMaterials> {
            self.0.on_decrypt(materials, edks).await
        }
    }

    /// The local cache, keeping a copy of every entry it is given.
    #[derive(Debug)]
    struct Recording {
        inner: LocalMaterialsCache,
        stored: Mutex<Vec<CacheEntry>>,
    }

    impl MaterialsCache for Recording {
        fn get(&self, id: &CacheId, usage: Usage, now: Instant) -> Option<CacheEntry> {
            self.inner.get(id, usage, now)
        }
        fn put(&self, id: CacheId, entry: CacheEntry) {
            self.stored.lock().expect("lock").push(entry.clone());
            self.inner.put(id, entry)
        }
        fn remove(&self, id: &CacheId) {
            self.inner.remove(id)
        }
    }

    let cache = Arc::new(Recording { inner: LocalMaterialsCache::new(10), stored: Mutex::default() });
    let cmm =
        CachingMaterialsManager::builder_with_keyring(KnownDataKey(keyring()), cache.clone(), Duration::from_secs(60))
            .build()
            .expect("manager");
    let client = BlockingClient::new(Client::new(cmm.clone()));
    let message = client.encrypt(PLAINTEXT, &options()).expect("encrypt");
    assert_eq!(client.decrypt(&message, &DecryptOptions::new()).expect("decrypt").plaintext, PLAINTEXT);

    for secret in [&DATA_KEY[..], &WRAPPING_KEY[..]] {
        assert_redacted("CachingMaterialsManager", &cmm, secret);
        assert_redacted("LocalMaterialsCache", &cache.inner, secret);
        let stored = cache.stored.lock().expect("lock");
        assert_eq!(stored.len(), 2, "one encryption entry and one decryption entry");
        for entry in stored.iter() {
            assert_redacted("CacheEntry", entry, secret);
        }
    }
}
