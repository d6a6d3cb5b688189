//! `--metadata-output`: one JSON object per message, in aws-encryption-cli's shape and byte
//! style (keys sorted at every level, `", "` and `": "` separators, non-ASCII escaped), so tools
//! that read its metadata read ours.
//!
//! Unlike aws-encryption-cli, a line is written only for a message that was fully processed (or
//! refused for its encryption context, with `skipped: true`), never for one that then failed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use envelope::ContentType;
use envelope::MessageInfo;
use envelope::suite::MessageFormat;
use serde_json::{Map, Value, json};

use super::plan::{Source, Target};

/// What was done to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `envelope encrypt`.
    Encrypt,
    /// `envelope decrypt`.
    Decrypt,
    /// `envelope decrypt --decrypt-unsigned`.
    DecryptUnsigned,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Encrypt => "encrypt",
            Mode::Decrypt => "decrypt",
            Mode::DecryptUnsigned => "decrypt-unsigned",
        }
    }
}

/// Why a decrypt was refused for its encryption context.
#[derive(Debug, Clone, Default)]
pub struct ContextMismatch {
    /// Required keys the message lacks.
    pub missing_keys: Vec<String>,
    /// Required pairs the message does not carry.
    pub missing_pairs: Vec<(String, String)>,
}

/// The metadata line for one message.
pub fn record(
    mode: Mode,
    source: &Source,
    target: &Target,
    info: &MessageInfo,
    mismatch: Option<&ContextMismatch>,
) -> Value {
    let mut object = Map::new();
    object.insert("mode".into(), mode.name().into());
    object.insert("input".into(), source_name(source).into());
    object.insert("output".into(), target_name(target).into());
    object.insert("header".into(), header(info));
    if mode != Mode::Encrypt {
        object.insert(
            "header_auth".into(),
            json!({ "iv": BASE64.encode(info.header_auth_iv), "tag": BASE64.encode(info.header_auth_tag) }),
        );
    }
    if let Some(mismatch) = mismatch {
        object.insert("skipped".into(), true.into());
        object.insert("reason".into(), "Missing encryption context key or value".into());
        object.insert("missing_encryption_context_keys".into(), json!(mismatch.missing_keys));
        let pairs: Vec<Value> = mismatch.missing_pairs.iter().map(|(k, v)| json!([k, v])).collect();
        object.insert("missing_encryption_context_pairs".into(), pairs.into());
    }
    Value::Object(object)
}

fn header(info: &MessageInfo) -> Value {
    let suite = info.algorithm_suite;
    let v1 = suite.message_format() == MessageFormat::V1;
    let mut edks: Vec<_> = info.encrypted_data_keys.iter().collect();
    // aws-encryption-cli lists data keys ordered by provider id then provider info.
    edks.sort_by(|a, b| {
        (a.provider_id.as_bytes(), &a.provider_info).cmp(&(b.provider_id.as_bytes(), &b.provider_info))
    });
    let edks: Vec<Value> = edks
        .into_iter()
        .map(|edk| {
            json!({
                "encrypted_data_key": BASE64.encode(&edk.ciphertext),
                "key_provider": {
                    "key_info": BASE64.encode(&edk.provider_info),
                    "provider_id": BASE64.encode(edk.provider_id.as_bytes()),
                },
            })
        })
        .collect();
    json!({
        "algorithm": super::settings::cli_suite_name(suite),
        "commitment_key": info.commitment.map(|commitment| BASE64.encode(commitment)),
        "content_type": if info.content_type == ContentType::NonFramed { 1 } else { 2 },
        "encrypted_data_keys": edks,
        "encryption_context": info.encryption_context.as_map(),
        "frame_length": info.frame_length,
        "header_iv_length": if v1 { Some(12) } else { None },
        "message_id": BASE64.encode(&info.message_id),
        "type": if v1 { Some(128) } else { None },
        "version": if v1 { "1.0" } else { "2.0" },
    })
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Stdin => "<stdin>".into(),
        Source::File(path) => absolute(path),
    }
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Stdout => "<stdout>".into(),
        Target::File(path) => absolute(path),
    }
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned()).to_string_lossy().into_owned()
}

/// Where metadata lines go.
pub enum MetadataSink {
    /// Standard output.
    Stdout,
    /// A file (appended to unless truncated at open).
    File(File),
}

impl MetadataSink {
    /// Opens `-` or a file; `truncate` for --overwrite-metadata.
    pub fn open(path: &Path, truncate: bool) -> io::Result<MetadataSink> {
        if path.as_os_str() == "-" {
            return Ok(MetadataSink::Stdout);
        }
        let file = OpenOptions::new().create(true).append(!truncate).write(true).truncate(truncate).open(path)?;
        Ok(MetadataSink::File(file))
    }

    /// Writes one line.
    pub fn write(&mut self, record: &Value) -> io::Result<()> {
        let mut line = to_python_json(record);
        line.push('\n');
        match self {
            MetadataSink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line.as_bytes())?;
                out.flush()
            }
            MetadataSink::File(file) => file.write_all(line.as_bytes()),
        }
    }
}

/// JSON as Python's `json.dumps(value, sort_keys=True)` writes it.
pub fn to_python_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_value(&map[key], out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_style() {
        let value = json!({"b": [1, null, true], "a": {"z": "é😀\n\"", "c": 2}});
        assert_eq!(to_python_json(&value), r#"{"a": {"c": 2, "z": "\u00e9\ud83d\ude00\n\""}, "b": [1, null, true]}"#);
    }
}
