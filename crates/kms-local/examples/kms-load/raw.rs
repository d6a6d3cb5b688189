//! The `--client raw` load client: real SigV4-signed KMS requests (signed by `aws-sigv4`, the
//! signer aws-sdk-kms itself uses) written over kept-alive HTTP/1.1 connections by a few lines of
//! tokio code instead of the SDK's orchestrator, so that the measurement shows what the server can
//! serve rather than what the client can send.
//!
//! Each task signs its request once and sends the same signed bytes again until the signature is
//! [`RESIGN_AFTER`] old. SigV4 signatures stay valid for minutes and real KMS accepts a repeated
//! one; the server under test still verifies the signature of every request in full (it caches
//! only the derived signing key, never a verdict).

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Well inside SigV4's clock-skew window (the emulator allows 15 minutes, as KMS does).
pub const RESIGN_AFTER: Duration = Duration::from_secs(60);

/// What to sign: one KMS operation with a fixed JSON body.
#[derive(Clone)]
pub struct Signer {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    /// `host:port`, as in the endpoint URL.
    pub authority: String,
    /// `TrentService.<Operation>`.
    pub target: String,
    pub body: Vec<u8>,
}

impl Signer {
    /// The whole request in wire form, signed now.
    pub fn signed_request(&self) -> Vec<u8> {
        let identity: Identity = Credentials::new(&self.access_key, &self.secret_key, None, None, "kms-load").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing parameters")
            .into();
        let length = self.body.len().to_string();
        let headers = [
            ("host", self.authority.as_str()),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", self.target.as_str()),
            ("content-length", length.as_str()),
        ];
        let uri = format!("http://{}/", self.authority);
        let signable = SignableRequest::new("POST", &uri, headers.iter().copied(), SignableBody::Bytes(&self.body))
            .expect("signable request");
        let (instructions, _signature) = sign(signable, &params).expect("SigV4 signing").into_parts();
        let mut wire = b"POST / HTTP/1.1\r\n".to_vec();
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            wire.extend_from_slice(name.as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend_from_slice(value.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"\r\n");
        wire.extend_from_slice(&self.body);
        wire
    }
}

/// Why a request did not count as served.
pub enum Failure {
    /// Connecting, writing or reading failed, or the answer was not HTTP we understand.
    Transport(String),
    /// The server answered with this status (the body is read, the connection stays usable).
    Status(u16),
}

/// One kept-alive connection with its read buffer.
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    pub async fn open(authority: &str) -> Result<Connection, Failure> {
        let stream = TcpStream::connect(authority).await.map_err(|e| Failure::Transport(e.to_string()))?;
        stream.set_nodelay(true).map_err(|e| Failure::Transport(e.to_string()))?;
        Ok(Connection { stream, buf: Vec::with_capacity(4096) })
    }

    /// Sends one request and reads its whole response; `Ok` only for status 200 with a JSON body.
    pub async fn round_trip(&mut self, request: &[u8]) -> Result<(), Failure> {
        let io = |e: std::io::Error| Failure::Transport(e.to_string());
        self.stream.write_all(request).await.map_err(io)?;
        self.buf.clear();
        let (status, header_end, body_len) = loop {
            if let Some(head) = parse_head(&self.buf)? {
                break head;
            }
            self.fill().await?;
        };
        while self.buf.len() < header_end + body_len {
            self.fill().await?;
        }
        if self.buf.len() > header_end + body_len {
            // One request in flight per connection: nothing may follow the answer.
            return Err(Failure::Transport("bytes after the response".into()));
        }
        match status {
            200 if self.buf[header_end..].starts_with(b"{") => Ok(()),
            200 => Err(Failure::Transport("a 200 response without a JSON body".into())),
            other => Err(Failure::Status(other)),
        }
    }

    async fn fill(&mut self) -> Result<(), Failure> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(Failure::Transport("connection closed by the server".into())),
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::Transport(e.to_string())),
        }
    }
}

/// `(status, end of the head, Content-Length)` once the whole response head is in `buf`.
fn parse_head(buf: &[u8]) -> Result<Option<(u16, usize, usize)>, Failure> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let bad = |what: &str| Failure::Transport(format!("bad response head: {what}"));
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| bad("not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("status line"))?;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| bad("header line"))?;
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().map_err(|_| bad("Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad("chunked bodies are not expected from KMS"));
        }
    }
    Ok(Some((status, end + 4, length.ok_or_else(|| bad("no Content-Length"))?)))
}

/// Requests until `deadline` on one connection (reopened after a failure); returns (served, failed).
pub async fn run(signer: Signer, deadline: Instant) -> (u64, u64) {
    let (mut served, mut failed) = (0, 0);
    let mut request = signer.signed_request();
    let mut signed_at = Instant::now();
    let mut conn = None;
    let mut reported = false;
    while Instant::now() < deadline {
        if signed_at.elapsed() >= RESIGN_AFTER {
            request = signer.signed_request();
            signed_at = Instant::now();
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(&signer.authority).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    failed += 1;
                    report(&mut reported, &e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        match c.round_trip(&request).await {
            Ok(()) => served += 1,
            Err(e) => {
                failed += 1;
                report(&mut reported, &e);
                if matches!(e, Failure::Transport(_)) {
                    conn = None;
                }
            }
        }
    }
    (served, failed)
}

/// Prints a task's first failure only: a misconfigured run should say why without flooding.
fn report(reported: &mut bool, e: &Failure) {
    if !*reported {
        match e {
            Failure::Transport(why) => eprintln!("kms-load --client raw: request failed: {why}"),
            Failure::Status(status) => eprintln!("kms-load --client raw: the server answered {status}"),
        }
        *reported = true;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn response_heads() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: x\r\nContent-Length: 12\r\n\r\n{\"a\":1}";
        assert_eq!(parse_head(ok).ok().flatten(), Some((200, ok.len() - 7, 12)));
        assert!(matches!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n"), Ok(None)), "head incomplete");
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").is_err(), "no length");
        assert!(parse_head(b"HTTP/1.1 2x0 OK\r\ncontent-length: 3\r\n\r\n").is_err());
        let bad = b"HTTP/1.1 400 Bad\r\ncontent-length: 3\r\n\r\n";
        assert_eq!(parse_head(bad).ok().flatten(), Some((400, bad.len(), 3)));
    }
}
