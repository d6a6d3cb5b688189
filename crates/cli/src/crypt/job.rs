//! Carrying out one job: stream the source through the encryptor or decryptor into the target.
//! Memory stays O(frame length) whatever the size, except with `--buffer` to stdout.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};

use base64::engine::general_purpose::STANDARD as BASE64;
use envelope::blocking::BlockingClient;
use envelope::{DecryptOptions, EncryptOptions, MessageInfo};
use zeroize::Zeroizing;

use super::atomic_output::{PendingFile, PendingFiles};
use super::plan::{Job, Source, Target};
use super::progress::Progress;
use crate::exit_code::Failure;

/// Bytes moved per read; large reads let the encryptor seal whole frames without copying.
const CHUNK: usize = 128 * 1024;

/// How encryption runs.
pub struct EncryptSettings<'a> {
    /// Passed to the library.
    pub options: &'a EncryptOptions,
    /// `--encode`.
    pub encode: bool,
    /// `--overwrite`.
    pub overwrite: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// Where temporary outputs are registered.
    pub pending: &'a PendingFiles,
}

/// How decryption runs.
pub struct DecryptSettings<'a> {
    /// Passed to the library.
    pub options: &'a DecryptOptions,
    /// Keys the message's context must have (bare `-c NAME`).
    pub required_keys: &'a [String],
    /// `--decode`.
    pub decode: bool,
    /// `--buffer`.
    pub buffer: bool,
    /// `--overwrite`.
    pub overwrite: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// Where temporary outputs are registered.
    pub pending: &'a PendingFiles,
}

/// What a decrypt job ended with.
pub enum Decrypted {
    /// Done.
    Written(MessageInfo),
    /// Refused before any output: the context lacks these required keys.
    MissingKeys(MessageInfo, Vec<String>),
}

/// Encrypts one source into one target.
pub fn encrypt(client: &BlockingClient, settings: &EncryptSettings<'_>, job: &Job) -> Result<MessageInfo, Failure> {
    let (source, size) = open_source(&job.source)?;
    let progress = Progress::for_input(size, settings.quiet, "encrypting");
    let mut reader = progress.wrap(source);
    let result = match &job.target {
        Target::Stdout => {
            let stdout = io::stdout();
            if stdout.is_terminal() && !settings.encode {
                return Err(Failure::files(
                    "refusing to write binary ciphertext to a terminal; use --output FILE, redirect stdout, or add --encode",
                ));
            }
            let sink = BufWriter::with_capacity(CHUNK, stdout.lock());
            encrypt_into(client, settings, &mut reader, sink).and_then(flush)
        }
        Target::File(path) => {
            let pending =
                PendingFile::create(path, false, settings.pending).map_err(|error| cannot_write(path, error))?;
            let sink = BufWriter::with_capacity(CHUNK, pending.file());
            let info = encrypt_into(client, settings, &mut reader, sink).and_then(flush)?;
            pending.commit(settings.overwrite).map_err(|error| cannot_write(path, error))?;
            Ok(info)
        }
    };
    progress.finish();
    result
}

fn encrypt_into<W: Write>(
    client: &BlockingClient,
    settings: &EncryptSettings<'_>,
    reader: &mut dyn Read,
    sink: W,
) -> Result<(MessageInfo, W), Failure> {
    if settings.encode {
        let encoder = base64::write::EncoderWriter::new(sink, &BASE64);
        let (info, mut encoder) = encrypt_stream(client, settings.options, reader, encoder)?;
        let sink = encoder.finish()?;
        return Ok((info, sink));
    }
    encrypt_stream(client, settings.options, reader, sink)
}

fn encrypt_stream<W: Write>(
    client: &BlockingClient,
    options: &EncryptOptions,
    reader: &mut dyn Read,
    sink: W,
) -> Result<(MessageInfo, W), Failure> {
    let mut writer = client.encrypting_writer(sink, options)?;
    let info = writer.info().clone();
    copy(reader, &mut writer)?;
    let sink = writer.finish()?;
    Ok((info, sink))
}

fn flush<W: Write>((info, mut sink): (MessageInfo, W)) -> Result<MessageInfo, Failure> {
    sink.flush()?;
    Ok(info)
}

/// Decrypts one source into one target.
pub fn decrypt(client: &BlockingClient, settings: &DecryptSettings<'_>, job: &Job) -> Result<Decrypted, Failure> {
    let (source, size) = open_source(&job.source)?;
    let progress = Progress::for_input(size, settings.quiet, "decrypting");
    let mut reader = progress.wrap(source);
    let input: Box<dyn Read + '_> = if settings.decode {
        Box::new(base64::read::DecoderReader::new(SkipWhitespace(&mut reader), &BASE64))
    } else {
        Box::new(&mut reader)
    };
    let mut plaintext = client.decrypting_reader(input, settings.options)?;
    let info = plaintext.info().clone();
    let missing: Vec<String> =
        settings.required_keys.iter().filter(|key| !info.encryption_context.contains_key(*key)).cloned().collect();
    if !missing.is_empty() {
        progress.finish();
        return Ok(Decrypted::MissingKeys(info, missing));
    }
    let result = match &job.target {
        Target::Stdout => write_plaintext_to_stdout(&mut plaintext, settings.buffer),
        Target::File(path) => {
            let pending =
                PendingFile::create(path, true, settings.pending).map_err(|error| cannot_write(path, error))?;
            let mut sink = BufWriter::with_capacity(CHUNK, pending.file());
            copy(&mut plaintext, &mut sink)?;
            sink.flush()?;
            drop(sink);
            pending.commit(settings.overwrite).map_err(|error| cannot_write(path, error))
        }
    };
    progress.finish();
    result.map(|()| Decrypted::Written(info))
}

fn write_plaintext_to_stdout(plaintext: &mut dyn Read, buffer: bool) -> Result<(), Failure> {
    let stdout = io::stdout();
    if buffer {
        // Everything is read, and so authenticated (signature included), before a byte goes out.
        let mut all = Zeroizing::new(Vec::new());
        plaintext.read_to_end(&mut all)?;
        let mut out = stdout.lock();
        out.write_all(&all)?;
        out.flush()?;
        return Ok(());
    }
    let mut guard = stdout.is_terminal().then(TerminalGuard::default);
    let mut out = BufWriter::with_capacity(CHUNK, stdout.lock());
    let mut buffer = Zeroizing::new(vec![0u8; CHUNK]);
    loop {
        let n = match plaintext.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        if let Some(guard) = &mut guard {
            guard.check(&buffer[..n])?;
        }
        out.write_all(&buffer[..n])?;
    }
    out.flush()?;
    Ok(())
}

/// Stops plaintext that is not text from reaching a terminal (where control bytes can do harm),
/// chunk by chunk, carrying a UTF-8 sequence split between chunks over to the next.
#[derive(Default)]
struct TerminalGuard {
    carry: Vec<u8>,
}

impl TerminalGuard {
    fn check(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text,
            // An incomplete sequence at the end: check what is complete, keep the rest.
            Err(error) if error.error_len().is_none() => {
                let (complete, rest) = bytes.split_at(error.valid_up_to());
                self.carry = rest.to_vec();
                std::str::from_utf8(complete).unwrap_or_default()
            }
            Err(_) => return Err(binary_to_terminal()),
        };
        if looks_like_text(text.as_bytes()) { Ok(()) } else { Err(binary_to_terminal()) }
    }
}

fn binary_to_terminal() -> Failure {
    Failure::files("refusing to write binary plaintext to a terminal; use --output FILE or redirect stdout")
}

/// Text a terminal can show: UTF-8 without NUL or other control bytes but tab, newline, CR.
fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|text| text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')))
}

fn open_source(source: &Source) -> Result<(Box<dyn Read>, Option<u64>), Failure> {
    match source {
        Source::Stdin => Ok((Box::new(io::stdin().lock()), None)),
        Source::File(path) => {
            let file =
                File::open(path).map_err(|error| Failure::files(format!("cannot read {}: {error}", path.display())))?;
            let size = file.metadata().ok().filter(|metadata| metadata.is_file()).map(|metadata| metadata.len());
            Ok((Box::new(file), size))
        }
    }
}

fn cannot_write(path: &std::path::Path, error: io::Error) -> Failure {
    if error.kind() == io::ErrorKind::AlreadyExists {
        return Failure::files(error);
    }
    Failure::files(format!("cannot write {}: {error}", path.display()))
}

/// Copies everything, through a zeroized buffer (it holds plaintext on both paths).
fn copy(reader: &mut dyn Read, writer: &mut dyn Write) -> Result<(), Failure> {
    let mut buffer = Zeroizing::new(vec![0u8; CHUNK]);
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        writer.write_all(&buffer[..n])?;
    }
}

/// Drops ASCII whitespace, so base64 input may be wrapped in lines.
struct SkipWhitespace<R>(R);

impl<R: Read> Read for SkipWhitespace<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                if !buf[i].is_ascii_whitespace() {
                    buf[kept] = buf[i];
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_detection() {
        assert!(looks_like_text(b"hello\n\tworld\r\n"));
        assert!(looks_like_text("héllo".as_bytes()));
        assert!(looks_like_text(b""));
        assert!(!looks_like_text(b"a\0b"));
        assert!(!looks_like_text(&[0xff, 0xfe]));
        assert!(!looks_like_text(b"\x1b[31mred"));
    }

    #[test]
    fn the_terminal_guard_accepts_text_split_anywhere_and_refuses_binary() {
        let text = "é€😀 plain\n".repeat(3);
        for split in 0..text.len() {
            let mut guard = TerminalGuard::default();
            guard.check(&text.as_bytes()[..split]).unwrap();
            guard.check(&text.as_bytes()[split..]).unwrap();
        }
        assert!(TerminalGuard::default().check(b"ok\x00").is_err());
        let mut guard = TerminalGuard::default();
        guard.check(b"fine\n").unwrap();
        assert!(guard.check(&[0xff, b'a']).is_err());
    }

    #[test]
    fn whitespace_is_skipped() {
        let mut out = String::new();
        SkipWhitespace(&b"QUJD\nRA==\n"[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "QUJDRA==");
    }
}
