//! A minimal HTTP/1.1 front end on hyper: read the body (bounded), hand it to the pipeline,
//! write the JSON answer. Connections are kept alive; shutdown drains in-flight requests.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::error::KmsError;
use crate::server::{Emulator, Request};

/// Largest request body accepted (KMS requests are a few KiB; policies up to 32 KiB).
const MAX_BODY: usize = 1 << 20;

/// Accepts connections until `shutdown` resolves, then drains open ones (up to 10 s).
pub async fn serve(emu: Arc<Emulator>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let emu = emu.clone();
                // Formatted once per connection, not per request.
                let source_ip: Arc<str> = peer.ip().to_string().into();
                let svc = service_fn(move |req| handle(emu.clone(), source_ip.clone(), req));
                let conn = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
}

async fn handle(
    emu: Arc<Emulator>,
    source_ip: Arc<str>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = KmsError::validation("The request body is too large.");
            return Ok(reply(e.status(), Bytes::from(e.to_body()), "", Some(e.kind())));
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let request = Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: &body,
        source_ip: &source_ip,
    };
    let resp = emu.handle(&request);
    Ok(reply(resp.status, Bytes::from(resp.body), &resp.request_id, resp.error_type))
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
