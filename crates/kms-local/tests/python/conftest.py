"""Fixtures: a running `envelope kms serve`, boto3 clients and an AWS CLI runner."""

import json
import os
import signal
import subprocess
import tempfile

import boto3
import pytest
from botocore.config import Config

BIN = os.environ.get("ENVELOPE_BIN", "envelope")

CREDENTIALS = {
    "credentials": [
        {"access_key_id": "AKIAALICE", "secret_access_key": "alice-secret",
         "principal": "arn:aws:iam::111122223333:user/alice"},
        {"access_key_id": "AKIABOB", "secret_access_key": "bob-secret",
         "principal": "arn:aws:iam::444455556666:user/bob"},
        {"access_key_id": "ASIATEMP", "secret_access_key": "temp-secret", "session_token": "tok123",
         "principal": "arn:aws:iam::111122223333:user/temp"},
    ]
}


class Server:
    """One `envelope kms serve` process; restartable on the same data directory."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.endpoint = None

    def start(self):
        self.proc = subprocess.Popen(
            [BIN, "kms", "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.endpoint = line.split("listening on ", 1)[1].strip()
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def restart(self):
        self.stop()
        return self.start()

    def client(self, region="us-east-1", key="AKIDTEST", secret="secret", token=None):
        return boto3.client(
            "kms", endpoint_url=self.endpoint, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"max_attempts": 1}))

    def aws(self, *args, region="us-east-1", key="AKIDTEST", secret="secret", check=True):
        """Runs `aws kms ...`; returns parsed JSON (or text) on success, raises on failure."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=region,
                   AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
        proc = subprocess.run(["aws", "kms", *args, "--endpoint-url", self.endpoint, "--output", "json"],
                              capture_output=True, text=True, env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws kms {' '.join(args)} failed: {proc.stderr}")
        if not check:
            return proc
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def envelope(self, *args):
        return subprocess.run([BIN, "kms", *args], capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.fixture
def server(tmp_path):
    s = Server(str(tmp_path / "data")).start()
    yield s
    s.stop()


@pytest.fixture
def strict_server(tmp_path):
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps(CREDENTIALS))
    s = Server(str(tmp_path / "data"), ["--credentials", str(creds)]).start()
    yield s
    s.stop()


@pytest.fixture
def kms(server):
    return server.client()


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def tmpfile():
    with tempfile.TemporaryDirectory() as d:
        yield lambda name: os.path.join(d, name)
