//! S3's "double encoding" of metadata values that are not US-ASCII, undone on read.
//!
//! spec: data-format/metadata-strategy.md#object-metadata, content-metadata.md#us-ascii-preferred-string
//! — S3 takes the UTF-8 bytes of a header value as ISO-8859-1 characters and returns them as
//! RFC 2047 encoded words (`=?UTF-8?B?...?=` or `?Q?`): decoding the words gives one character
//! per original byte, and those bytes are the original UTF-8 (the Java client's decoding).
//! Values that hold no encoded word are returned untouched.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The value with its encoded words decoded and the double encoding undone.
pub(crate) fn decode(value: &str) -> Result<Cow<'_, str>, String> {
    if !value.contains("=?") {
        return Ok(Cow::Borrowed(value));
    }
    let mut out = String::with_capacity(value.len());
    let mut previous_was_word = false;
    let mut pending_space = String::new();
    let mut any_word = false;
    let mut rest = value;
    while !rest.is_empty() {
        let space_len = rest.len() - rest.trim_start().len();
        pending_space.push_str(&rest[..space_len]);
        rest = &rest[space_len..];
        let token_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (token, after) = rest.split_at(token_len);
        rest = after;
        if token.is_empty() {
            break;
        }
        match encoded_word(token)? {
            Some(decoded) => {
                // RFC 2047 §6.2: white space between adjacent encoded words is not displayed.
                if !previous_was_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&decoded);
                previous_was_word = true;
                any_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(token);
                previous_was_word = false;
            }
        }
        pending_space.clear();
    }
    out.push_str(&pending_space);
    if !any_word {
        return Ok(Cow::Borrowed(value));
    }
    Ok(Cow::Owned(undo_double_encoding(out)))
}

/// Decodes `token` if it is one encoded word `=?charset?B|Q?text?=`; `None` if it is not one.
fn encoded_word(token: &str) -> Result<Option<String>, String> {
    let Some(inner) = token.strip_prefix("=?").and_then(|t| t.strip_suffix("?=")) else {
        return Ok(None);
    };
    let mut parts = inner.splitn(3, '?');
    let (Some(charset), Some(encoding), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let bytes = match encoding {
        "B" | "b" => BASE64.decode(text).map_err(|error| format!("encoded word {token:?}: not base64: {error}"))?,
        "Q" | "q" => q_decode(text).ok_or_else(|| format!("encoded word {token:?}: bad Q encoding"))?,
        _ => return Err(format!("encoded word {token:?}: unknown encoding {encoding:?}")),
    };
    // RFC 2231 allows a language after '*'.
    let charset = charset.split('*').next().unwrap_or_default().to_ascii_uppercase();
    match charset.as_str() {
        "UTF-8" | "UTF8" => {
            String::from_utf8(bytes).map(Some).map_err(|_| format!("encoded word {token:?}: not UTF-8"))
        }
        "ISO-8859-1" | "LATIN1" | "US-ASCII" => Ok(Some(bytes.iter().map(|byte| char::from(*byte)).collect())),
        _ => Err(format!("encoded word {token:?}: unsupported charset {charset:?}")),
    }
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    Some(out)
}

/// Each character of a double-encoded value is one byte of the original UTF-8; a value that is
/// not that (a character above U+00FF, or bytes that are not UTF-8) was encoded once only.
fn undo_double_encoding(decoded: String) -> String {
    if decoded.is_ascii() || decoded.chars().any(|c| u32::from(c) > 0xFF) {
        return decoded;
    }
    let bytes: Vec<u8> = decoded.chars().map(|c| u32::from(c) as u8).collect();
    String::from_utf8(bytes).unwrap_or(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What S3 returns for a header whose UTF-8 bytes were `original`.
    pub(crate) fn s3_double_encoded(original: &str) -> String {
        let once: String = original.bytes().map(char::from).collect();
        format!("=?UTF-8?B?{}?=", BASE64.encode(once.as_bytes()))
    }

    #[test]
    fn double_encoded_values_decode_to_the_original() {
        for original in ["é", r#"{"owner":"équipe"}"#, "我的源资源", "mixed ascii and ü"] {
            assert_eq!(decode(&s3_double_encoded(original)).unwrap(), original);
        }
        // Q encoding of the same double-encoded "é" (C3 83 C2 A9).
        assert_eq!(decode("=?utf-8?Q?=C3=83=C2=A9?=").unwrap(), "é");
        // Adjacent words join without the white space between them.
        let (a, b) = (s3_double_encoded("ab"), s3_double_encoded("é"));
        assert_eq!(decode(&format!("{a} {b}")).unwrap(), "abé");
    }

    #[test]
    fn single_encoded_and_plain_values_are_kept() {
        // Encoded once (not by S3): the bytes E9 are not UTF-8, so the word's text stays.
        assert_eq!(decode("=?ISO-8859-1?B?6Q==?=").unwrap(), "é");
        assert_eq!(decode("=?UTF-8?B?5oiR?=").unwrap(), "我");
        for plain in [r#"{"a":"b"}"#, r#"{"a":"=?x"}"#, "=?no-word", "", "é raw UTF-8"] {
            assert!(matches!(decode(plain).unwrap(), Cow::Borrowed(text) if text == plain), "{plain}");
        }
    }

    #[test]
    fn malformed_words_are_errors() {
        assert!(decode("=?UTF-8?B?***?=").unwrap_err().contains("base64"));
        assert!(decode("=?UTF-8?Q?=ZZ?=").unwrap_err().contains("Q encoding"));
        assert!(decode("=?UTF-8?X?abc?=").unwrap_err().contains("encoding"));
        assert!(decode("=?KOI8-R?B?YQ==?=").unwrap_err().contains("charset"));
        assert!(decode("=?UTF-8?B?/w==?=").unwrap_err().contains("UTF-8"));
    }
}
