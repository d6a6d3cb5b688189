//! Parse entry points for the fuzz target `s3_metadata` and its corpus replay test. No key,
//! no network: only the metadata parsers and their round trips.

use std::collections::BTreeMap;

use crate::metadata::{ContentMetadata, MetadataLocation};

/// Splits a fuzz input into object metadata (`key\tvalue` lines) and an instruction file (the
/// text after a `\n--\n` line).
pub fn split_input(data: &[u8]) -> (BTreeMap<String, String>, String) {
    let text = String::from_utf8_lossy(data);
    let (metadata, file) = text.split_once("\n--\n").unwrap_or((&text, ""));
    let map = metadata
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    (map, file.to_owned())
}

/// Parses `data`; whatever parses must write back to metadata that parses to the same value,
/// both in the object and split with an instruction file. Panics only on a broken property.
/// Returns whether the input parsed.
pub fn check_metadata(data: &[u8]) -> bool {
    let (map, file) = split_input(data);
    let parsed = match ContentMetadata::locate(&map) {
        Ok(MetadataLocation::Object(metadata)) => Some(metadata),
        Ok(MetadataLocation::InstructionFile(pending)) => match pending.complete(&file) {
            Ok(metadata) => Some(metadata),
            Err(error) => {
                let _ = error.to_string();
                None
            }
        },
        Err(error) => {
            let _ = error.to_string();
            None
        }
    };
    let Some(metadata) = parsed else { return false };
    match ContentMetadata::locate(metadata.to_object_metadata()) {
        Ok(MetadataLocation::Object(again)) => assert_eq!(again, metadata, "object metadata round trip"),
        other => panic!("written object metadata did not parse back: {other:?}"),
    }
    let (object, instruction_file) = metadata.to_instruction_file();
    match ContentMetadata::locate(&object) {
        Ok(MetadataLocation::InstructionFile(pending)) => {
            assert_eq!(pending.complete(&instruction_file).ok(), Some(metadata), "instruction file round trip")
        }
        other => panic!("the object part of an instruction-file split did not ask for the file: {other:?}"),
    }
    true
}

/// Parses `data` as an HTTP range (`envelope_s3::client::ByteRange`); whatever parses prints
/// back to the same text's meaning and resolves, for every object length tried, to a range
/// inside the object or to `InvalidRange`. Returns whether the input parsed.
pub fn check_range(data: &[u8]) -> bool {
    use crate::client::ByteRange;
    let Ok(text) = std::str::from_utf8(data) else { return false };
    let Ok(range) = text.parse::<ByteRange>() else { return false };
    let printed = range.to_string();
    assert_eq!(printed.parse::<ByteRange>().ok(), Some(range), "{text:?} prints as {printed:?}");
    for length in [0u64, 1, 15, 16, 17, 1 << 20, u64::MAX] {
        match range.resolve(length) {
            Ok(selected) => assert!(selected.start < selected.end && selected.end <= length, "{text:?} of {length}"),
            Err(error) => assert!(matches!(error, crate::Error::InvalidRange(_)), "{error}"),
        }
    }
    true
}
