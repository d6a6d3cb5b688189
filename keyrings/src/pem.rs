//! PEM armor (RFC 7468) through `pem-rfc7468`, and the two DER wrappers that turn PKCS #1 keys
//! into the PKCS #8 / SubjectPublicKeyInfo documents aws-lc-rs accepts.

use zeroize::Zeroizing;

/// One PEM block: its label and decoded bytes (zeroized on drop: private keys pass through here).
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
}

/// Every `-----BEGIN X----- … -----END X-----` block in `text`, in order.
///
/// Text outside the blocks (comments, `openssl` explanatory lines) is ignored, as RFC 7468 allows;
/// each block itself is decoded by `pem-rfc7468`, straight into a zeroized buffer (no intermediate
/// copy of the base64, which is as secret as the key). Encapsulated headers (`Proc-Type`,
/// `DEK-Info`: a legacy encrypted key) are refused.
pub(crate) fn parse(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let from_begin = &rest[begin..];
        let label = from_begin["-----BEGIN ".len()..]
            .split_once("-----")
            .map(|(label, _)| label)
            .filter(|label| !label.contains('\n'))
            .ok_or_else(|| "PEM BEGIN line is not closed by -----".to_owned())?;
        let end_line = format!("-----END {label}-----");
        let end =
            from_begin.find(&end_line).ok_or_else(|| format!("PEM block {label:?} has no END line"))? + end_line.len();
        blocks.push(decode_block(label, &from_begin[..end])?);
        rest = &from_begin[end..];
    }
    if blocks.is_empty() {
        return Err("no PEM block found (expected -----BEGIN ...-----)".into());
    }
    Ok(blocks)
}

fn decode_block(label: &str, armored: &str) -> Result<PemBlock, String> {
    match decode_strict(label, armored) {
        // RFC 7468 asks for 64-column lines; keys wrapped otherwise (76 columns, one long line)
        // are still common, so their base64 is re-wrapped once and decoded again.
        Err(pem_rfc7468::Error::Base64(_)) => decode_strict(label, &rewrap(label, armored)),
        other => other,
    }
    .map_err(|error| match error {
        pem_rfc7468::Error::HeaderDisallowed => {
            format!("PEM block {label:?} has headers (an encrypted key?); only unencrypted keys are supported")
        }
        other => format!("PEM block {label:?} is not valid: {other}"),
    })
}

fn decode_strict(label: &str, armored: &str) -> Result<PemBlock, pem_rfc7468::Error> {
    let armored = armored.as_bytes();
    // The armored text is longer than what it decodes to: enough room, allocated once.
    let mut der = Zeroizing::new(vec![0u8; armored.len()]);
    let len = pem_rfc7468::decode(armored, &mut der)?.1.len();
    // Truncating keeps the allocation; Zeroizing clears its whole capacity on drop.
    der.truncate(len);
    Ok(PemBlock { label: label.to_owned(), der })
}

/// The block with its base64 in 64-column lines (zeroized: it is as secret as the key).
fn rewrap(label: &str, armored: &str) -> Zeroizing<String> {
    let body_start = armored.find('\n').map_or(armored.len(), |at| at + 1);
    let body_end = armored.rfind("-----END ").unwrap_or(armored.len()).max(body_start);
    let mut base64 = Zeroizing::new(String::with_capacity(body_end - body_start));
    base64.extend(armored[body_start..body_end].chars().filter(|c| !c.is_ascii_whitespace()));
    let mut out = Zeroizing::new(String::with_capacity(base64.len() + base64.len() / 64 + 2 * label.len() + 40));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in base64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// `der` as one PEM block with 64-column lines, in a zeroized string (for private keys).
pub(crate) fn encode(label: &str, der: &[u8]) -> Result<Zeroizing<String>, String> {
    let line_ending = pem_rfc7468::LineEnding::LF;
    let len = pem_rfc7468::encoded_len(label, line_ending, der).map_err(|error| error.to_string())?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    let written = pem_rfc7468::encode(label, line_ending, der, &mut out).map_err(|error| error.to_string())?.len();
    out.truncate(written);
    let text = Zeroizing::new(String::from_utf8(std::mem::take(&mut *out)).map_err(|error| error.to_string())?);
    Ok(text)
}

/// DER `AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }`.
const RSA_ALGORITHM_ID: [u8; 15] =
    [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/// Wraps a PKCS #1 `RSAPrivateKey` as a PKCS #8 v1 `PrivateKeyInfo`.
pub(crate) fn pkcs1_private_to_pkcs8(rsa_private_key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut content = Zeroizing::new(Vec::with_capacity(rsa_private_key.len() + 32));
    content.extend_from_slice(&[0x02, 0x01, 0x00]); // version 0
    content.extend_from_slice(&RSA_ALGORITHM_ID);
    push_tlv(&mut content, 0x04, &[rsa_private_key]); // OCTET STRING
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + 8));
    push_tlv(&mut out, 0x30, &[&content]);
    out
}

/// Wraps a PKCS #1 `RSAPublicKey` as an X.509 `SubjectPublicKeyInfo`.
pub(crate) fn pkcs1_public_to_spki(rsa_public_key: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(rsa_public_key.len() + 32);
    content.extend_from_slice(&RSA_ALGORITHM_ID);
    push_tlv(&mut content, 0x03, &[&[0x00], rsa_public_key]); // BIT STRING, no unused bits
    let mut out = Vec::with_capacity(content.len() + 8);
    push_tlv(&mut out, 0x30, &[&content]);
    out
}

/// Appends tag, definite length and the concatenation of `parts`. Reserves first so a buffer
/// holding secrets never reallocates (leaving a copy behind).
fn push_tlv(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    out.reserve(len + 10);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    for part in parts {
        out.extend_from_slice(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_and_skips_surrounding_text() {
        let text = "comment\n-----BEGIN PUBLIC KEY-----\r\nAAEC\r\nAw==\r\n-----END PUBLIC KEY-----\nmore\n";
        let blocks = parse(text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(&blocks[0].der[..], &[0, 1, 2, 3]);
    }

    #[test]
    fn encodes_what_it_parses() {
        let pem = encode("PRIVATE KEY", &[7; 100]).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n") && pem.ends_with("-----END PRIVATE KEY-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(&parse(&pem).unwrap()[0].der[..], &[7; 100]);
    }

    #[test]
    fn two_blocks_in_order() {
        let text = format!("{}{}", &*encode("A", &[1]).unwrap(), &*encode("B", &[2, 3]).unwrap());
        let blocks = parse(&text).unwrap();
        assert_eq!(blocks.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(&blocks[1].der[..], &[2, 3]);
    }

    #[test]
    fn rejects_broken_armor() {
        assert!(parse("no pem here").is_err());
        assert!(parse("-----BEGIN X-----\nAAAA\n").is_err());
        assert!(parse("-----BEGIN X-----\n!!!!\n-----END X-----").is_err());
        assert!(
            parse("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----")
                .is_err()
        );
    }

    #[test]
    fn der_lengths_use_the_short_and_long_forms() {
        let mut out = Vec::new();
        push_tlv(&mut out, 0x04, &[&[1; 5]]);
        assert_eq!(&out[..2], &[0x04, 0x05]);
        let mut out = Vec::new();
        push_tlv(&mut out, 0x04, &[&[1; 300]]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
