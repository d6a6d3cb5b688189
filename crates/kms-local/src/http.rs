//! A minimal HTTP/1.1 front end on hyper: read the body (bounded in size and time), run the
//! pipeline off the async workers, write the JSON answer. Connections are kept alive, capped in
//! number (see [`crate::connections`]) and closed when a client is too slow to send a request;
//! shutdown drains in-flight requests.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::connections::{Conn, Connections};
use crate::error::KmsError;
use crate::server::{Emulator, Request};

/// How long shutdown waits for in-flight requests.
const DRAIN: Duration = Duration::from_secs(10);

/// Pause after a failed accept (out of file descriptors, say), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Accepts connections until `shutdown` resolves, then drains open ones (up to 10 s).
pub(crate) async fn serve(emu: Arc<Emulator>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let limits = emu.limits.clone();
    let table = Connections::new(limits.max_connections);
    let mut builder = http1::Builder::new();
    builder.keep_alive(true).timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let lease = tokio::select! {
            lease = table.admit() => lease,
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let emu = emu.clone();
        // Formatted once per connection, not per request.
        let source_ip: Arc<str> = peer.ip().to_string().into();
        let conn = lease.conn.clone();
        let svc = service_fn(move |req| handle(emu.clone(), conn.clone(), source_ip.clone(), req));
        let connection = builder.serve_connection(TokioIo::new(stream), svc);
        // A connection asked to close finishes its request in progress, bounded like a client
        // that sends its request slowly.
        let grace = limits.header_read_timeout.max(limits.body_read_timeout);
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = lease.conn.close_requested() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(grace, connection).await;
                }
            }
            drop(lease);
        });
    }
    drop(listener);
    table.close_all();
    let _ = tokio::time::timeout(DRAIN, table.all_closed()).await;
}

async fn handle(
    emu: Arc<Emulator>,
    conn: Arc<Conn>,
    source_ip: Arc<str>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let _in_request = conn.begin_request();
    let (parts, body) = req.into_parts();
    let limits = &emu.limits;
    let collect = Limited::new(body, limits.max_body_bytes).collect();
    let body = match ready_or_within(limits.body_read_timeout, collect).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return Ok(error_reply(400, "ValidationException", "The request body is too large.")),
        Err(_) => return Ok(error_reply(408, "RequestTimeoutException", "The request body did not arrive in time.")),
    };
    // Room in the audit queue first: when the audit writer is behind, requests wait here.
    let audit_slot = emu.audit.reserve().await;
    // Cheap symmetric operations (one AES-GCM or HMAC, no store write) run inline: handing each to
    // the blocking pool cost more than the work (measured: 4,500 against 12,000 GenerateDataKey/s).
    // Everything else runs off the async workers: key writes wait for an fsync, and some
    // operations (RSA, ECDSA key generation) take milliseconds of CPU.
    let inline = runs_inline(parts.headers.get("x-amz-target").map(|v| v.as_bytes()));
    let work = move || {
        // Borrowed, not copied: a value that is not UTF-8 (which can only fail a signature) is
        // the one case that allocates.
        let text: Vec<(&str, Cow<'_, str>)> =
            parts.headers.iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()))).collect();
        let headers: Vec<(&str, &str)> = text.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        let request = Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: &body,
            source_ip: &source_ip,
        };
        emu.handle(&request, audit_slot)
    };
    let run = if inline { Ok(work()) } else { tokio::task::spawn_blocking(work).await };
    match run {
        Ok(resp) => Ok(reply(resp.status, Bytes::from(resp.body), &resp.request_id, resp.error_type)),
        Err(e) => {
            tracing::error!("request handler failed: {e}");
            let e = KmsError::internal("The request could not be handled.");
            Ok(reply(e.status(), Bytes::from(e.to_body()), "", Some(e.kind())))
        }
    }
}

/// `future`'s output if it is ready at once, else within `limit` (`Err` when the time runs out).
/// A KMS request's body almost always arrives with its headers, and arming a timer for it
/// (registering and cancelling it in the runtime's timer wheel) cost more than reading it.
async fn ready_or_within<F: Future>(limit: Duration, future: F) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(output) => Ok(output),
        std::task::Poll::Pending => tokio::time::timeout(limit, future).await,
    }
}

/// True for the symmetric data-plane operations that neither write the store nor take long.
fn runs_inline(target: Option<&[u8]>) -> bool {
    const INLINE: &[&[u8]] = &[
        b"Encrypt",
        b"Decrypt",
        b"GenerateDataKey",
        b"GenerateDataKeyWithoutPlaintext",
        b"GenerateRandom",
        b"GenerateMac",
        b"VerifyMac",
    ];
    let operation = target.and_then(|t| t.strip_prefix(b"TrentService.".as_slice()));
    operation.is_some_and(|op| INLINE.contains(&op))
}

/// An error answered before the pipeline runs; the connection closes after it, since the rest of
/// the request may still be on the wire.
fn error_reply(status: u16, kind: &'static str, message: &str) -> hyper::Response<Full<Bytes>> {
    let e = KmsError::new(kind, message);
    let mut resp = reply(status, Bytes::from(e.to_body()), "", Some(kind));
    resp.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
    resp
}

fn reply(status: u16, body: Bytes, request_id: &str, error_type: Option<&str>) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", request_id);
    if let Some(t) = error_type {
        b = b.header("x-amzn-errortype", t);
    }
    b.body(Full::new(body)).unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}
