//! Items envelope encrypts decrypt back to themselves (every crypto action, every type, nested
//! values, awkward names, header versions 1 and 2, with and without a sort key), and every kind
//! of tampering with them is a typed error.

use std::collections::BTreeMap;
use std::time::Duration;

use envelope::{AlgorithmSuite, DefaultMaterialsManager};
use envelope_dbe::item::{
    AttributeValue as V, CryptoAction, Header, Item, ItemError, PlaintextOverride, TableConfig, decrypt_item,
    encrypt_item, normalize_number,
};
use envelope_keyrings::hierarchy::{BranchKeyMaterials, BranchKeySecret, HierarchicalKeyring, StaticKeyStore};

const SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeySymsigHmacSha384;

fn cmm() -> DefaultMaterialsManager {
    let key = BranchKeySecret::from_slice(&[0x42; 32]).unwrap();
    let materials =
        BranchKeyMaterials::new("tenant", "5f8d2c1e-0b3a-4c7d-9e6f-1a2b3c4d5e6f", BTreeMap::new(), key).unwrap();
    let mut store = StaticKeyStore::new("static");
    store.add_branch_key(materials, true).unwrap();
    DefaultMaterialsManager::new(
        HierarchicalKeyring::builder(store).branch_key_id("tenant").ttl(Duration::from_secs(60)).build().unwrap(),
    )
}

fn every_type() -> Vec<(&'static str, V)> {
    let map: BTreeMap<String, V> = [
        ("inner".to_owned(), V::L(vec![V::Null, V::Bool(false), V::Ns(vec!["3".into(), "1.50".into()])])),
        ("\u{1F600}".to_owned(), V::S("emoji key".into())),
    ]
    .into_iter()
    .collect();
    vec![
        ("s", V::S("héllo".into())),
        ("n", V::N("0800.000e0".into())),
        ("b", V::B(vec![0, 1, 2, 255])),
        ("bool", V::Bool(true)),
        ("null", V::Null),
        ("list", V::L(vec![V::S("a".into()), V::L(vec![V::N("1".into())])])),
        ("map", V::M(map)),
        ("ss", V::Ss(vec!["b".into(), "a".into(), "\u{FF61}".into(), "\u{1F600}".into()])),
        ("ns", V::Ns(vec!["10".into(), "9".into(), "-1.5".into()])),
        ("bs", V::Bs(vec![vec![2], vec![], vec![1, 0]])),
    ]
}

/// The comparison the official runners use: numbers normalized, sets sorted.
fn normalized(value: &V) -> V {
    match value {
        V::N(n) => V::N(normalize_number(n).unwrap()),
        V::Ns(ns) => {
            let mut ns: Vec<String> = ns.iter().map(|n| normalize_number(n).unwrap()).collect();
            ns.sort();
            V::Ns(ns)
        }
        V::Ss(ss) => {
            let mut ss = ss.clone();
            ss.sort();
            V::Ss(ss)
        }
        V::Bs(bs) => {
            let mut bs = bs.clone();
            bs.sort();
            V::Bs(bs)
        }
        V::L(items) => V::L(items.iter().map(normalized).collect()),
        V::M(map) => V::M(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        other => other.clone(),
    }
}

fn normalized_item(item: &Item) -> Item {
    item.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()
}

/// Every type under every action: `e.<type>`, `s.<type>`, `c.<type>` (v2 only), `u.<type>`.
fn sample(version: u8) -> (TableConfig, Item) {
    let key_action =
        if version == 2 { CryptoAction::SignAndIncludeInEncryptionContext } else { CryptoAction::SignOnly };
    let mut config = TableConfig::new("Table.With $ odd [name]", "pk")
        .sort_key("sk")
        .action("pk", key_action)
        .action("sk", key_action)
        .allowed_unsigned_prefix("u.");
    let mut item: Item =
        [("pk".to_owned(), V::S("part\u{e9}".into())), ("sk".to_owned(), V::N("7".into()))].into_iter().collect();
    let mut prefixes =
        vec![("e.", CryptoAction::EncryptAndSign), ("s.", CryptoAction::SignOnly), ("u.", CryptoAction::DoNothing)];
    if version == 2 {
        prefixes.push(("c.", CryptoAction::SignAndIncludeInEncryptionContext));
    }
    for (prefix, action) in prefixes {
        for (name, value) in every_type() {
            let name = format!("{prefix}{name}");
            if action != CryptoAction::DoNothing {
                config = config.action(&name, action);
            }
            item.insert(name, value);
        }
    }
    (config, item)
}

#[tokio::test]
async fn every_action_and_type_round_trips_in_both_header_versions() {
    let cmm = cmm();
    for version in [1, 2] {
        let (config, item) = sample(version);
        let stored = encrypt_item(&cmm, &config, &item, SUITE).await.unwrap_or_else(|e| panic!("v{version}: {e}"));
        let V::B(head) = &stored["aws_dbe_head"] else { panic!("binary header") };
        let header = Header::parse(head).unwrap();
        assert_eq!(header.version, version);
        assert_eq!(header.suite, SUITE);
        assert!(header.encryption_context.is_empty(), "the base context is never stored");
        let signed = item.keys().filter(|name| !name.starts_with("u.")).count();
        assert_eq!(header.legend.len(), signed);
        for (name, value) in &item {
            match &stored[name] {
                V::B(bytes) if name.starts_with("e.") => {
                    assert_eq!(&bytes[..2], value.type_id().to_bytes(), "{name}");
                    assert_ne!(bytes[2..], value.serialize().unwrap()[..], "{name} is not in plaintext");
                }
                other => assert_eq!(other, value, "{name} is stored as given"),
            }
        }
        let decrypted = decrypt_item(&cmm, &config, &stored).await.unwrap_or_else(|e| panic!("v{version}: {e}"));
        assert_eq!(normalized_item(&decrypted), normalized_item(&item), "v{version}");
    }
}

#[tokio::test]
async fn encrypting_twice_gives_different_items() {
    let cmm = cmm();
    let (config, item) = sample(1);
    let one = encrypt_item(&cmm, &config, &item, SUITE).await.unwrap();
    let two = encrypt_item(&cmm, &config, &item, SUITE).await.unwrap();
    assert_ne!(one["e.s"], two["e.s"]);
    assert_ne!(one["aws_dbe_head"], two["aws_dbe_head"]);
}

#[tokio::test]
async fn tampering_with_our_items_is_refused() {
    let cmm = cmm();
    for version in [1, 2] {
        let (config, item) = sample(version);
        let stored = encrypt_item(&cmm, &config, &item, SUITE).await.unwrap();
        let decrypt = |item: Item, config: TableConfig| {
            let cmm = &cmm;
            async move { decrypt_item(cmm, &config, &item).await }
        };

        let mut changed = stored.clone();
        changed.insert("s.s".into(), V::S("other".into()));
        assert!(matches!(decrypt(changed, config.clone()).await, Err(ItemError::RecipientTag)), "v{version}");

        let mut changed = stored.clone();
        changed.insert("s.ss".into(), V::Ss(vec!["a".into()]));
        assert!(matches!(decrypt(changed, config.clone()).await, Err(ItemError::RecipientTag)), "v{version}");

        // Set order is not tampering: DynamoDB may return members in any order.
        let mut reordered = stored.clone();
        reordered.insert("s.ns".into(), V::Ns(vec!["-1.5".into(), "9".into(), "10".into()]));
        assert!(decrypt(reordered, config.clone()).await.is_ok(), "v{version}");

        // The partition key is in the context (v1: its value; v2: as a 'c' attribute).
        let mut changed = stored.clone();
        changed.insert("pk".into(), V::S("other".into()));
        assert!(matches!(decrypt(changed, config.clone()).await, Err(ItemError::Materials(_))), "v{version}");

        let mut missing = stored.clone();
        missing.remove("e.map");
        match decrypt(missing, config.clone()).await {
            Err(ItemError::SignedAttributesMismatch { in_item, in_header, .. }) => assert_eq!(in_item + 1, in_header),
            other => panic!("v{version}: expected a mismatch, got {other:?}"),
        }

        // Unsigned attributes may change.
        let mut unsigned = stored.clone();
        unsigned.insert("u.s".into(), V::S("changed".into()));
        unsigned.insert("u.new".into(), V::Null);
        let decrypted = decrypt(unsigned, config.clone()).await.unwrap();
        assert_eq!(decrypted["u.s"], V::S("changed".into()));

        let mut other_table = config.clone();
        other_table.logical_table_name = "Other".into();
        assert!(matches!(decrypt(stored.clone(), other_table).await, Err(ItemError::Materials(_))), "v{version}");

        // The sort key missing from the item: named.
        let mut no_sort = stored.clone();
        no_sort.remove("sk");
        let error = decrypt(no_sort, config.clone()).await.unwrap_err();
        assert!(
            matches!(&error, ItemError::KeyAttribute(name) if name == "sk")
                || matches!(error, ItemError::SignedAttributesMismatch { .. }),
            "v{version}: {error}"
        );
    }
}

#[tokio::test]
async fn bad_configs_and_items_are_refused_on_encrypt() {
    let cmm = cmm();
    let (config, item) = sample(1);

    let mut extra = item.clone();
    extra.insert("unknown".into(), V::S("x".into()));
    assert!(
        matches!(encrypt_item(&cmm, &config, &extra, SUITE).await, Err(ItemError::UnconfiguredAttribute(n)) if n == "unknown")
    );

    let mut reserved = item.clone();
    reserved.insert("aws_dbe_head".into(), V::B(vec![]));
    assert!(matches!(encrypt_item(&cmm, &config, &reserved, SUITE).await, Err(ItemError::ReservedAttribute(_))));

    let encrypted_key = config.clone().action("pk", CryptoAction::EncryptAndSign);
    assert!(
        matches!(encrypt_item(&cmm, &encrypted_key, &item, SUITE).await, Err(ItemError::KeyAttribute(n)) if n == "pk")
    );

    let mut no_key = item.clone();
    no_key.remove("pk");
    assert!(matches!(encrypt_item(&cmm, &config, &no_key, SUITE).await, Err(ItemError::KeyAttribute(n)) if n == "pk"));

    // v2 needs the keys in the context too.
    let mixed = config.clone().action("e.s", CryptoAction::SignAndIncludeInEncryptionContext);
    assert!(matches!(encrypt_item(&cmm, &mixed, &item, SUITE).await, Err(ItemError::KeyAttribute(_))));

    let not_dbe = AlgorithmSuite::DEFAULT;
    assert!(matches!(encrypt_item(&cmm, &config, &item, not_dbe).await, Err(ItemError::Unsupported(_))));
}

const SIGNED_SUITE: AlgorithmSuite = AlgorithmSuite::DbeAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;

#[tokio::test]
async fn signed_suite_round_trips_with_a_103_byte_signature() {
    let cmm = cmm();
    for version in [1, 2] {
        let (config, item) = sample(version);
        // Several items: about half of all DER signatures are not 103 bytes, so one item would
        // rarely exercise signing again.
        for _ in 0..8 {
            let stored = encrypt_item(&cmm, &config, &item, SIGNED_SUITE).await.unwrap();
            let V::B(head) = &stored["aws_dbe_head"] else { panic!("binary header") };
            let header = Header::parse(head).unwrap();
            assert_eq!(header.suite, SIGNED_SUITE);
            let stored_keys: Vec<&str> = header.encryption_context.keys().map(String::as_str).collect();
            assert_eq!(stored_keys, ["aws-crypto-public-key"], "only the public key is stored");
            let V::B(foot) = &stored["aws_dbe_foot"] else { panic!("binary footer") };
            assert_eq!(foot.len(), 48 + 103);
            assert_eq!(foot[48], 0x30, "a DER sequence");
            let decrypted = decrypt_item(&cmm, &config, &stored).await.unwrap_or_else(|e| panic!("v{version}: {e}"));
            assert_eq!(normalized_item(&decrypted), normalized_item(&item), "v{version}");
        }
    }
}

#[tokio::test]
async fn signed_suite_tampering_is_refused() {
    let cmm = cmm();
    let (config, item) = sample(2);
    let stored = encrypt_item(&cmm, &config, &item, SIGNED_SUITE).await.unwrap();
    let other = encrypt_item(&cmm, &config, &item, SIGNED_SUITE).await.unwrap();
    let footer = |item: &Item| match &item["aws_dbe_foot"] {
        V::B(bytes) => bytes.clone(),
        _ => panic!("binary footer"),
    };

    // The tag still matches, the signature does not: a recipient with the data key could forge
    // tags, only the signing key's holder can sign.
    for position in [48, 48 + 50, 48 + 102] {
        let mut bytes = footer(&stored);
        bytes[position] ^= 0x01;
        let mut changed = stored.clone();
        changed.insert("aws_dbe_foot".into(), V::B(bytes));
        assert!(
            matches!(decrypt_item(&cmm, &config, &changed).await, Err(ItemError::Signature)),
            "signature byte {position}"
        );
    }

    // Another item's signature (another key pair, another hash) in this item's footer.
    let mut bytes = footer(&stored);
    bytes[48..].copy_from_slice(&footer(&other)[48..]);
    let mut changed = stored.clone();
    changed.insert("aws_dbe_foot".into(), V::B(bytes));
    assert!(matches!(decrypt_item(&cmm, &config, &changed).await, Err(ItemError::Signature)));

    // Another item's header (its public key, its data key) with this item's attributes.
    let mut changed = stored.clone();
    changed.insert("aws_dbe_head".into(), other["aws_dbe_head"].clone());
    assert!(decrypt_item(&cmm, &config, &changed).await.is_err());

    // A footer cut to the unsigned suite's length.
    let mut changed = stored.clone();
    changed.insert("aws_dbe_foot".into(), V::B(footer(&stored)[..48].to_vec()));
    assert!(matches!(decrypt_item(&cmm, &config, &changed).await, Err(ItemError::Footer(_))));

    // A signed attribute changed: the tag catches it first.
    let mut changed = stored.clone();
    changed.insert("s.s".into(), V::S("other".into()));
    assert!(matches!(decrypt_item(&cmm, &config, &changed).await, Err(ItemError::RecipientTag)));

    assert!(decrypt_item(&cmm, &config, &stored).await.is_ok());
}

#[tokio::test]
async fn plaintext_override_policies() {
    let cmm = cmm();
    let (config, item) = sample(1);
    // Default: plaintext items are refused on read.
    assert!(matches!(decrypt_item(&cmm, &config, &item).await, Err(ItemError::PlaintextItem)));

    let migrating = config.clone().plaintext_override(PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead);
    let written = encrypt_item(&cmm, &migrating, &item, SUITE).await.unwrap();
    assert_eq!(written, item, "written in plaintext");
    assert_eq!(decrypt_item(&cmm, &migrating, &written).await.unwrap(), item);

    let reading_both = config.clone().plaintext_override(PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead);
    let encrypted = encrypt_item(&cmm, &reading_both, &item, SUITE).await.unwrap();
    assert!(encrypted.contains_key("aws_dbe_head"));
    assert_eq!(decrypt_item(&cmm, &reading_both, &item).await.unwrap(), item);

    // Half an envelope is not plaintext: a lone header or footer is an error under every policy.
    let mut lone_header = encrypted.clone();
    lone_header.remove("aws_dbe_foot");
    assert!(matches!(
        decrypt_item(&cmm, &reading_both, &lone_header).await,
        Err(ItemError::MissingAttribute("aws_dbe_foot"))
    ));
    assert_eq!(
        "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ".parse(),
        Ok(PlaintextOverride::ForbidPlaintextWriteAllowPlaintextRead)
    );
}
