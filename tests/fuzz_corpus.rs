//! Replays every fuzz input kept in the repository — `fuzz/corpus/<target>/**` and
//! `fuzz/regressions/<target>/**` — through the same checks the cargo-fuzz targets run
//! (`fuzz/checks.rs`), on the stable toolchain, without cargo-fuzz.
//!
//! Every input must get a typed error or a result, never a panic. Inputs under a `valid/` folder,
//! or named `valid-*`, must also succeed: a header parses, a body walks to its final frame, a
//! message decrypts (one-shot and streaming alike) to the plaintext recorded under the same name
//! in `fuzz/plaintexts/`.
//!
//! The seed inputs are written by the ignored test `write_seed_corpus`:
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus`.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every file under `dir`, recursively, in a stable order (none when `dir` does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_valid(path: &Path) -> bool {
    let in_valid_folder = path.parent().and_then(Path::file_name).is_some_and(|name| name == "valid");
    let named_valid = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with("valid-"));
    in_valid_folder || named_valid
}

/// Runs `check` on every input of `target`; fails listing every input that panicked or that a
/// `valid` input did not satisfy. Returns (inputs, valid inputs).
fn replay(target: &str, check: impl Fn(&Path, &[u8], bool) -> Result<(), String>) -> (usize, usize) {
    let dir = fuzz_dir();
    let mut inputs = files_under(&dir.join("corpus").join(target));
    inputs.extend(files_under(&dir.join("regressions").join(target)));
    let mut failures = Vec::new();
    let mut valid = 0;
    for path in &inputs {
        let data = std::fs::read(path).expect("readable corpus file");
        let is_valid = is_valid(path);
        valid += usize::from(is_valid);
        match catch_unwind(AssertUnwindSafe(|| check(path, &data, is_valid))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("{}: {why}", path.display())),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: panicked: {message} (input hex: {})", path.display(), hex::encode(&data)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs failed:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
    (inputs.len(), valid)
}

#[test]
fn header_inputs_never_panic_and_valid_headers_parse() {
    let (inputs, valid) = replay("header", |_, data, is_valid| match checks::check_header(data) {
        None if is_valid => Err("a valid header did not parse".into()),
        _ => Ok(()),
    });
    assert!(inputs >= 50 && valid >= 20, "the header corpus is missing ({inputs} inputs, {valid} valid)");
}

#[test]
fn body_inputs_never_panic_and_valid_bodies_reach_the_final_frame() {
    let (inputs, valid) = replay("body", |_, data, is_valid| {
        let walk = checks::check_body(data);
        if is_valid && !walk.reached_final {
            return Err(format!("a valid body did not reach its final frame: {walk:?}"));
        }
        Ok(())
    });
    assert!(inputs >= 40 && valid >= 20, "the body corpus is missing ({inputs} inputs, {valid} valid)");
}

#[test]
fn decrypt_inputs_never_panic_and_valid_messages_decrypt_to_their_plaintext() {
    let client = checks::client();
    let plaintexts = fuzz_dir().join("plaintexts");
    let (inputs, valid) = replay("decrypt", |path, data, is_valid| {
        let result = checks::check_decrypt(&client, data);
        if !is_valid {
            return Ok(());
        }
        let name = path.file_name().expect("file name");
        let expected =
            std::fs::read(plaintexts.join(name)).map_err(|error| format!("no recorded plaintext: {error}"))?;
        match result {
            Some(plaintext) if plaintext == expected => Ok(()),
            Some(plaintext) => Err(format!("decrypted {} bytes, not the recorded {}", plaintext.len(), expected.len())),
            None => Err("a valid message did not decrypt".into()),
        }
    });
    assert!(inputs >= 80 && valid >= 40, "the decrypt corpus is missing ({inputs} inputs, {valid} valid)");
}

/// The replay must be able to fail: a flipped byte in a valid message is caught.
#[test]
fn a_damaged_valid_message_is_caught() {
    let client = checks::client();
    let valid = files_under(&fuzz_dir().join("corpus/decrypt/valid"));
    let first = valid.first().expect("valid decrypt inputs exist");
    let mut data = std::fs::read(first).unwrap();
    let last = data.len() - 1;
    data[last] ^= 1;
    assert_eq!(checks::check_decrypt(&client, &data), None);
}

mod seeds {
    //! Writes the seed inputs: real messages under the fixed fuzz key, every suite, framed and
    //! non-framed, and damaged copies of some of them.

    use std::path::Path;
    use std::sync::Arc;

    use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
    use aws_lc_rs::{hkdf, rand};
    use base64::Engine as _;
    use envelope::__fuzz::{Header, IV_LEN, ParseLimits, parse_header};
    use envelope::blocking::BlockingClient;
    use envelope::serialize_encryption_context;
    use envelope::suite::{KeyDerivation, MessageFormat, SignatureAlgorithm};
    use envelope::{
        AlgorithmSuite, Client, CommitmentPolicy, ContentType, EncryptOptions, EncryptedDataKey, EncryptionContext,
        Keyring, MultiKeyring,
    };
    use envelope_keyrings::RawAesKeyring;

    use super::checks;

    pub struct Seed {
        pub name: String,
        pub message: Vec<u8>,
        pub plaintext: Vec<u8>,
    }

    fn plaintext(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 + 17) as u8).collect()
    }

    fn non_ascii_context() -> EncryptionContext {
        [("purpose", "fuzz"), ("ключ", "значение"), ("日本", "🔑")].into_iter().collect()
    }

    fn small_context() -> EncryptionContext {
        [("a", "1"), ("b", "2")].into_iter().collect()
    }

    fn client_for(suite: AlgorithmSuite, keyring: impl Keyring + 'static) -> BlockingClient {
        let policy = if suite.is_committing() {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        BlockingClient::new(Client::with_keyring(keyring).commitment_policy(policy))
    }

    fn other_keyring(name: &str, byte: u8) -> RawAesKeyring {
        RawAesKeyring::new("fuzz-other", name, vec![byte; 32]).unwrap()
    }

    fn framed(suite: AlgorithmSuite, len: usize, frame: u32, context: (&str, EncryptionContext)) -> Seed {
        let text = plaintext(len);
        let options = EncryptOptions::new().algorithm_suite(suite).frame_length(frame).encryption_context(context.1);
        let message = client_for(suite, checks::keyring()).encrypt(&text, &options).unwrap();
        Seed { name: format!("{:04x}-p{len}-f{frame}-{}", suite.id(), context.0), message, plaintext: text }
    }

    /// AES-GCM with the message's 12-byte IVs and 16-byte tags, straight from aws-lc-rs: the crate
    /// keeps its own wrapper private, and a second implementation is a better oracle anyway.
    fn seal(key: &[u8], iv: &[u8; IV_LEN], aad: &[u8], in_out: &mut Vec<u8>) {
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            _ => &AES_256_GCM,
        };
        let key = LessSafeKey::new(UnboundKey::new(algorithm, key).unwrap());
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), in_out).unwrap();
    }

    struct Len(usize);

    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }

    fn expand(prk: &hkdf::Prk, info: &[&[u8]], len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        prk.expand(info, Len(len)).unwrap().fill(&mut out).unwrap();
        out
    }

    /// The content key and commitment, as spec: framework/algorithm-suites.md derives them.
    fn derive(suite: AlgorithmSuite, data_key: &[u8], message_id: &[u8]) -> (Vec<u8>, Option<[u8; 32]>) {
        let id = suite.id().to_be_bytes();
        let len = suite.encryption_key_len();
        let v1 = |algorithm| expand(&hkdf::Salt::new(algorithm, &[]).extract(data_key), &[&id, message_id], len);
        match suite.key_derivation() {
            KeyDerivation::Identity => (data_key.to_vec(), None),
            KeyDerivation::HkdfSha256 => (v1(hkdf::HKDF_SHA256), None),
            KeyDerivation::HkdfSha384 => (v1(hkdf::HKDF_SHA384), None),
            KeyDerivation::HkdfSha512 => {
                let prk = hkdf::Salt::new(hkdf::HKDF_SHA512, message_id).extract(data_key);
                let commitment = expand(&prk, &[b"COMMITKEY"], 32).try_into().unwrap();
                (expand(&prk, &[&id, b"DERIVEKEY"], len), Some(commitment))
            }
            _ => unreachable!("a suite this test does not know"),
        }
    }

    /// The body AAD of a single block: message id ‖ content string ‖ seq(4) ‖ length(8).
    fn single_block_aad(message_id: &[u8], len: u64) -> Vec<u8> {
        let mut aad = message_id.to_vec();
        aad.extend_from_slice(b"AWSKMSEncryptionClient Single Block");
        aad.extend_from_slice(&1u32.to_be_bytes());
        aad.extend_from_slice(&len.to_be_bytes());
        aad
    }

    /// A non-framed message (which envelope never writes, but reads), built field by field.
    fn non_framed(suite: AlgorithmSuite, len: usize, context: (&str, EncryptionContext)) -> Seed {
        let text = plaintext(len);
        let mut pairs = context.1;
        let format = suite.message_format();
        let message_id: Vec<u8> = (0..format.message_id_len()).map(|i| (i as u8) ^ 0xA5).collect();
        let data_key: Vec<u8> = (0..suite.data_key_len()).map(|i| (i as u8).wrapping_mul(13).wrapping_add(1)).collect();
        let signing = suite.signature().map(|algorithm| match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap(),
            _ => EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).unwrap(),
        });
        if let Some(key) = &signing {
            let point: EcPublicKeyCompressedBin<'_> = key.public_key().as_be_bytes().unwrap();
            let value = base64::engine::general_purpose::STANDARD.encode(point.as_ref());
            pairs.insert("aws-crypto-public-key", value);
        }
        // The EDK, as the raw AES keyring writes it.
        let wrap_iv = [0x11u8; IV_LEN];
        let mut wrapped = data_key.clone();
        seal(&checks::WRAPPING_KEY, &wrap_iv, &serialize_encryption_context(&pairs).unwrap(), &mut wrapped);
        let mut info = checks::KEY_NAME.as_bytes().to_vec();
        info.extend_from_slice(&128u32.to_be_bytes());
        info.extend_from_slice(&(IV_LEN as u32).to_be_bytes());
        info.extend_from_slice(&wrap_iv);
        let (key, commitment) = derive(suite, &data_key, &message_id);
        let header = Header {
            suite,
            message_id: message_id.clone(),
            encryption_context: pairs,
            encrypted_data_keys: vec![EncryptedDataKey::new(checks::KEY_NAMESPACE, info, wrapped)],
            content_type: ContentType::NonFramed,
            frame_length: 0,
            commitment,
        };
        let mut message = header.serialize_body().unwrap();
        let header_iv = if format == MessageFormat::V1 { [0x22; IV_LEN] } else { [0; IV_LEN] };
        let mut tag = Vec::new();
        seal(&key, &header_iv, &message, &mut tag);
        let tag: [u8; 16] = tag.try_into().unwrap();
        header.append_auth(&mut message, &header_iv, &tag);
        let body_iv = [0x33u8; IV_LEN];
        message.extend_from_slice(&body_iv);
        message.extend_from_slice(&(len as u64).to_be_bytes());
        let mut sealed = text.clone();
        seal(&key, &body_iv, &single_block_aad(&message_id, len as u64), &mut sealed);
        message.extend_from_slice(&sealed);
        if let Some(key) = signing {
            let signature = key.sign(&rand::SystemRandom::new(), &message).unwrap();
            message.extend_from_slice(&(signature.as_ref().len() as u16).to_be_bytes());
            message.extend_from_slice(signature.as_ref());
        }
        Seed { name: format!("{:04x}-p{len}-nonframed-{}", suite.id(), context.0), message, plaintext: text }
    }

    pub fn valid_messages() -> Vec<Seed> {
        let empty = || ("noctx", EncryptionContext::new());
        let non_ascii = || ("utf8ctx", non_ascii_context());
        let small = || ("abctx", small_context());
        let suite = |id: u16| AlgorithmSuite::from_id(id).unwrap();
        let mut seeds = Vec::new();
        for suite in AlgorithmSuite::ESDK {
            seeds.push(framed(suite, 0, 4096, empty()));
            seeds.push(framed(suite, 20, 8, non_ascii()));
            seeds.push(framed(suite, 300, 128, empty()));
        }
        for id in [0x0578, 0x0478, 0x0014] {
            seeds.push(framed(suite(id), 16, 8, small())); // a full final frame
        }
        seeds.push(framed(suite(0x0478), 3, 1, small())); // one-byte frames
        seeds.push(framed(suite(0x0578), 5000, 4096, non_ascii()));
        seeds.push(framed(suite(0x0178), 5000, 1000, empty()));
        for (id, len) in [(0x0014, 20), (0x0178, 0), (0x0478, 20), (0x0578, 20), (0x0346, 5), (0x0214, 33)] {
            seeds.push(non_framed(suite(id), len, non_ascii()));
        }
        // Three EDKs: the fuzz key's is the last one the reader tries.
        let multi = MultiKeyring::new(
            Some(Arc::new(other_keyring("first", 1)) as Arc<dyn Keyring>),
            vec![Arc::new(other_keyring("second", 2)) as Arc<dyn Keyring>, Arc::new(checks::keyring())],
        )
        .unwrap();
        let text = plaintext(20);
        let options = EncryptOptions::new().frame_length(8).encryption_context(small_context());
        let message = client_for(AlgorithmSuite::DEFAULT, multi).encrypt(&text, &options).unwrap();
        seeds.push(Seed { name: "0578-p20-f8-abctx-3edks".into(), message, plaintext: text });
        seeds
    }

    fn header_len(message: &[u8]) -> usize {
        parse_header(message, ParseLimits::default()).unwrap().len
    }

    /// Copies of `message`: cut short, single bits flipped, and one byte too long.
    fn damaged(message: &[u8]) -> Vec<(String, Vec<u8>)> {
        let header = header_len(message);
        let mut out = Vec::new();
        for cut in [header - 1, header, header + 10, message.len() - 1] {
            if cut < message.len() {
                out.push((format!("trunc{cut}"), message[..cut].to_vec()));
            }
        }
        for i in 0..8 {
            let position = (i * message.len() / 8 + 3).min(message.len() - 1);
            let mut flipped = message.to_vec();
            flipped[position] ^= 1 << i;
            out.push((format!("flip{position}.{i}"), flipped));
        }
        let mut longer = message.to_vec();
        longer.push(0);
        out.push(("trailing".into(), longer));
        out
    }

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Removes what an earlier run wrote (valid/ folders, seed-* files, plaintexts), leaving the
    /// inputs the fuzzers found.
    fn clear(fuzz: &Path) {
        let _ = std::fs::remove_dir_all(fuzz.join("plaintexts"));
        for target in ["header", "body", "decrypt"] {
            let dir = fuzz.join("corpus").join(target);
            let _ = std::fs::remove_dir_all(dir.join("valid"));
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with("seed-") {
                    std::fs::remove_file(entry.path()).unwrap();
                }
            }
        }
    }

    pub fn write_all(fuzz: &Path) {
        clear(fuzz);
        let corpus = fuzz.join("corpus");
        let messages = valid_messages();
        for seed in &messages {
            let header = header_len(&seed.message);
            write(&corpus.join("decrypt/valid").join(&seed.name), &seed.message);
            write(&fuzz.join("plaintexts").join(&seed.name), &seed.plaintext);
            write(&corpus.join("header/valid").join(&seed.name), &seed.message[..header]);
            let parsed = parse_header(&seed.message, ParseLimits::default()).unwrap();
            let frame_length = parsed.header.frame_length;
            let mut body = frame_length.to_be_bytes().to_vec();
            body.extend_from_slice(&1u32.to_be_bytes());
            body.extend_from_slice(&seed.message[header..]);
            if frame_length == 0 {
                write(&corpus.join("body").join(format!("seed-{}", seed.name)), &body);
            } else {
                write(&corpus.join("body/valid").join(&seed.name), &body);
            }
        }
        let damage_these = [
            "0578-p20-f8-utf8ctx",
            "0478-p300-f128-noctx",
            "0014-p20-f8-utf8ctx",
            "0346-p20-f8-utf8ctx",
            "0478-p20-nonframed-utf8ctx",
            "0578-p20-nonframed-utf8ctx",
            "0578-p20-f8-abctx-3edks",
        ];
        for seed in messages.iter().filter(|seed| damage_these.contains(&seed.name.as_str())) {
            let header = header_len(&seed.message);
            for (what, bytes) in damaged(&seed.message) {
                write(&corpus.join("decrypt").join(format!("seed-{}-{what}", seed.name)), &bytes);
            }
            for (what, bytes) in damaged(&seed.message[..header]) {
                write(&corpus.join("header").join(format!("seed-{}-{what}", seed.name)), &bytes);
            }
            let body = &seed.message[header..];
            let frame_length = parse_header(&seed.message, ParseLimits::default()).unwrap().header.frame_length;
            for (what, frame, sequence) in [
                ("seq2", frame_length, 2u32),
                ("frame+1", frame_length + 1, 1),
                ("frame-1", frame_length.saturating_sub(1), 1),
            ] {
                let mut bytes = frame.to_be_bytes().to_vec();
                bytes.extend_from_slice(&sequence.to_be_bytes());
                bytes.extend_from_slice(body);
                write(&corpus.join("body").join(format!("seed-{}-{what}", seed.name)), &bytes);
            }
        }
        // A message under a key the fuzz keyring does not hold.
        let options = EncryptOptions::new().frame_length(8);
        let foreign =
            client_for(AlgorithmSuite::DEFAULT, other_keyring("aes-256", 9)).encrypt(&plaintext(20), &options).unwrap();
        write(&corpus.join("decrypt/seed-foreign-key"), &foreign);
        // A header whose context pairs are stored out of order (parses; never authenticates).
        let sorted = messages.iter().find(|seed| seed.name == "0478-p16-f8-abctx").unwrap();
        let canonical = serialize_encryption_context(&small_context()).unwrap();
        let mut swapped = vec![0, 2];
        swapped.extend_from_slice(&canonical[8..]);
        swapped.extend_from_slice(&canonical[2..8]);
        let mut unsorted = sorted.message.clone();
        let at = unsorted.windows(canonical.len()).position(|window| window == canonical).unwrap();
        unsorted[at..at + canonical.len()].copy_from_slice(&swapped);
        write(&corpus.join("decrypt/seed-unsorted-context"), &unsorted);
        write(&corpus.join("header/seed-unsorted-context"), &unsorted[..header_len(&unsorted)]);
        // Bare encryption contexts for the header target's context check.
        write(&corpus.join("header/seed-context-abctx"), &canonical);
        write(
            &corpus.join("header/seed-context-utf8ctx"),
            &serialize_encryption_context(&non_ascii_context()).unwrap(),
        );
        write(&corpus.join("header/seed-context-unsorted"), &swapped);
    }
}

/// Rewrites the seed inputs (valid messages are random per run: fresh data keys and ids).
#[test]
#[ignore = "writes fuzz/corpus; run on purpose"]
fn write_seed_corpus() {
    seeds::write_all(&fuzz_dir());
}
