//! Just enough DER to wrap a raw ML-KEM public key in a SubjectPublicKeyInfo, which aws-lc-rs
//! does not export for KEM keys. This is encoding, not cryptography.

use super::KeySpec;

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_len(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// SubjectPublicKeyInfo for an ML-KEM key (OIDs 2.16.840.1.101.3.4.4.1..3, no parameters).
pub(crate) fn ml_kem_spki(spec: KeySpec, raw: &[u8]) -> Vec<u8> {
    let last = match spec {
        KeySpec::MlKem512 => 1,
        KeySpec::MlKem768 => 2,
        _ => 3,
    };
    let oid = tlv(0x06, &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, last]);
    let alg = tlv(0x30, &oid);
    let mut bits = vec![0u8];
    bits.extend_from_slice(raw);
    let mut body = alg;
    body.extend(tlv(0x03, &bits));
    tlv(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spki_round_trip() {
        let raw = vec![7u8; 1184];
        let der = ml_kem_spki(KeySpec::MlKem768, &raw);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x04, 0xb2]);
        assert!(der.ends_with(&raw));
    }
}
