"""The AWS CLI against `envelope kms serve`, and the `envelope kms` admin subcommands."""

import base64
import json


def test_aws_cli_round_trip(server, tmpfile):
    key = server.aws("create-key", "--description", "cli")["KeyMetadata"]
    server.aws("create-alias", "--alias-name", "alias/cli", "--target-key-id", key["KeyId"])
    plain = tmpfile("plain.bin")
    with open(plain, "wb") as f:
        f.write(b"from the aws cli")
    ct = server.aws("encrypt", "--key-id", "alias/cli", "--plaintext", f"fileb://{plain}",
                    "--encryption-context", "purpose=test")["CiphertextBlob"]
    blob = tmpfile("ct.bin")
    with open(blob, "wb") as f:
        f.write(base64.b64decode(ct))
    out = server.aws("decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=test")
    assert base64.b64decode(out["Plaintext"]) == b"from the aws cli"
    keys = server.aws("list-keys")["Keys"]
    assert any(k["KeyId"] == key["KeyId"] for k in keys)
    dk = server.aws("generate-data-key", "--key-id", key["KeyId"], "--key-spec", "AES_256")
    assert len(base64.b64decode(dk["Plaintext"])) == 32
    rnd = server.aws("generate-random", "--number-of-bytes", "16")
    assert len(base64.b64decode(rnd["Plaintext"])) == 16
    sig_key = server.aws("create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = server.aws("sign", "--key-id", sig_key, "--message", f"fileb://{plain}", "--signing-algorithm", "ECDSA_SHA_256")
    sigf = tmpfile("sig.bin")
    with open(sigf, "wb") as f:
        f.write(base64.b64decode(sig["Signature"]))
    ok = server.aws("verify", "--key-id", sig_key, "--message", f"fileb://{plain}", "--signature", f"fileb://{sigf}",
                    "--signing-algorithm", "ECDSA_SHA_256")
    assert ok["SignatureValid"] is True


def test_aws_cli_errors(server):
    proc = server.aws("describe-key", "--key-id", "alias/missing", check=False)
    assert proc.returncode != 0 and "NotFoundException" in proc.stderr
    key = server.aws("create-key")["KeyMetadata"]["KeyId"]
    server.aws("disable-key", "--key-id", key)
    proc = server.aws("encrypt", "--key-id", key, "--plaintext", "aGk=", check=False)
    assert "DisabledException" in proc.stderr
    proc = server.aws("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "3", check=False)
    assert "ValidationException" in proc.stderr


def test_aws_cli_regions(server):
    east = server.aws("create-key", region="us-east-1")["KeyMetadata"]
    assert ":us-east-1:" in east["Arn"]
    west = server.aws("list-keys", region="eu-central-1")["Keys"]
    assert all(k["KeyId"] != east["KeyId"] for k in west)


def test_envelope_admin_commands(server, tmp_path):
    server.stop()
    out = json.loads(server.envelope("create-key", "--data-dir", server.data_dir, "--alias", "alias/admin"))
    assert out["KeySpec"] == "SYMMETRIC_DEFAULT"
    server.envelope("create-key", "--data-dir", server.data_dir, "--key-spec", "ECC_NIST_P256")
    listing = server.envelope("list-keys", "--data-dir", server.data_dir)
    assert out["KeyId"] in listing and "alias/admin" in listing and "ECC_NIST_P256" in listing
    server.start()
    kms = server.client()
    assert kms.describe_key(KeyId="alias/admin")["KeyMetadata"]["KeyId"] == out["KeyId"]
