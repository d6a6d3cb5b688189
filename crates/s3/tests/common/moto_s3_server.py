"""moto[server] on 127.0.0.1:0 for envelope's S3 tests and bench: prints "listening on URL", serves
until stdin closes. Renames the CompleteMultipartUpload response root that moto 5.2.1 gets wrong
(getmoto/moto#10055), which aws-sdk-s3 refuses. Used by crates/s3/tests/common/moto.rs (and the
CLI's S3 test through it) and by benches/s3/run.sh."""
import sys
try:
    from moto.server import ThreadedMotoServer
    import moto.moto_server.threaded_moto_server as threaded
except Exception as error:
    print("moto-missing: %s" % error, flush=True)
    sys.exit(3)

class S3RootFix(threaded.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return super().__call__(environ, start_response)
        captured = {}
        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None
        body = b"".join(super().__call__(environ, capture))
        headers = captured["headers"]
        if b"<CompleteMultipartUploadResponse" in body:
            body = body.replace(b"CompleteMultipartUploadResponse", b"CompleteMultipartUploadResult")
            headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
        start_response(captured["status"], headers)
        return [body]

threaded.DomainDispatcherApplication = S3RootFix
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print("listening on http://%s:%d" % (host, port), flush=True)
sys.stdin.read()
server.stop()
