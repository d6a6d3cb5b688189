"""Strict mode: SigV4 authentication, key policies, grants, and the audit log."""

import json
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import BIN, error_code

ALICE = dict(key="AKIAALICE", secret="alice-secret")
BOB = dict(key="AKIABOB", secret="bob-secret")


def code_of(fn, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    return error_code(e)


def test_authentication(strict_server):
    assert code_of(strict_server.client(key="AKIAALICE", secret="nope").list_keys) == "InvalidSignatureException"
    assert code_of(strict_server.client(key="AKIANOBODY", secret="x").list_keys) == "UnrecognizedClientException"
    strict_server.client(**ALICE).list_keys()
    # Session credentials: accepted only with their token.
    strict_server.client(key="ASIATEMP", secret="temp-secret", token="tok123").list_keys()
    assert code_of(strict_server.client(key="ASIATEMP", secret="temp-secret").list_keys) != ""
    import urllib.request
    req = urllib.request.Request(strict_server.endpoint + "/", data=b"{}", method="POST",
                                 headers={"X-Amz-Target": "TrentService.ListKeys"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert b"MissingAuthenticationToken" in e.value.read()
    proc = strict_server.aws("list-keys", key="AKIAALICE", secret="bad", check=False)
    assert "InvalidSignatureException" in proc.stderr
    assert "Keys" in strict_server.aws("list-keys", **ALICE)


def test_policy_and_grants(strict_server):
    alice = strict_server.client(**ALICE)
    bob = strict_server.client(**BOB)
    key = alice.create_key()["KeyMetadata"]
    arn = key["Arn"]
    alice.encrypt(KeyId=arn, Plaintext=b"x")
    assert code_of(bob.encrypt, KeyId=arn, Plaintext=b"x") == "AccessDeniedException"
    assert code_of(bob.describe_key, KeyId=arn) == "AccessDeniedException"

    # Cross-account access through the key policy, with a condition on the encryption context.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:app": "billing"}}},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "forbidden"}}},
        ],
    }
    alice.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    ct = bob.encrypt(KeyId=arn, Plaintext=b"b", EncryptionContext={"app": "billing"})["CiphertextBlob"]
    assert bob.decrypt(CiphertextBlob=ct, EncryptionContext={"app": "billing"})["Plaintext"] == b"b"
    assert code_of(bob.encrypt, KeyId=arn, Plaintext=b"b", EncryptionContext={"app": "other"}) == "AccessDeniedException"
    ct2 = alice.encrypt(KeyId=arn, Plaintext=b"f", EncryptionContext={"forbidden": "1"})["CiphertextBlob"]
    assert code_of(alice.decrypt, CiphertextBlob=ct2, EncryptionContext={"forbidden": "1"}) == "AccessDeniedException"

    # Lockout safety check.
    lockout = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:*", "Resource": "*"}]}
    assert code_of(alice.put_key_policy, KeyId=key["KeyId"], PolicyName="default",
                   Policy=json.dumps(lockout)) == "MalformedPolicyDocumentException"

    # Grants: usable at once, constraints enforced, retirable by the retiring principal.
    k2 = alice.create_key()["KeyMetadata"]
    grant = alice.create_grant(KeyId=k2["KeyId"], GranteePrincipal="arn:aws:iam::444455556666:user/bob",
                               RetiringPrincipal="arn:aws:iam::444455556666:user/bob",
                               Operations=["GenerateDataKey", "Decrypt", "RetireGrant"],
                               Constraints={"EncryptionContextEquals": {"tenant": "7"}})
    dk = bob.generate_data_key(KeyId=k2["Arn"], NumberOfBytes=32, EncryptionContext={"tenant": "7"},
                               GrantTokens=[grant["GrantToken"]])
    assert code_of(bob.generate_data_key, KeyId=k2["Arn"], NumberOfBytes=32,
                   EncryptionContext={"tenant": "7", "x": "y"}) == "AccessDeniedException"
    assert code_of(bob.encrypt, KeyId=k2["Arn"], Plaintext=b"x", EncryptionContext={"tenant": "7"}) == "AccessDeniedException"
    bob.retire_grant(GrantToken=grant["GrantToken"])
    assert code_of(bob.decrypt, CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"tenant": "7"}) == "AccessDeniedException"


def test_audit_log(strict_server):
    alice = strict_server.client(**ALICE)
    bob = strict_server.client(**BOB)
    kid = alice.create_key()["KeyMetadata"]["KeyId"]
    alice.encrypt(KeyId=kid, Plaintext=b"TOP-SECRET-PLAINTEXT", EncryptionContext={"case": "audit"})
    dk = alice.generate_data_key(KeyId=kid, NumberOfBytes=32)
    sig_key = alice.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    alice.sign(KeyId=sig_key, Message=b"SIGNED-MESSAGE-BODY", SigningAlgorithm="ECDSA_SHA_256")
    with pytest.raises(ClientError):
        bob.encrypt(KeyId=alice.describe_key(KeyId=kid)["KeyMetadata"]["Arn"], Plaintext=b"x")
    assert alice.get_key_last_usage(KeyId=kid)["KeyLastUsage"]["Operation"] == "GenerateDataKey"
    strict_server.stop()

    out = subprocess.run([BIN, "kms", "audit", "--data-dir", strict_server.data_dir], capture_output=True, text=True,
                         check=True).stdout
    events = [json.loads(line) for line in out.splitlines()]
    names = [e["eventName"] for e in events]
    assert {"CreateKey", "Encrypt", "GenerateDataKey", "Sign"} <= set(names)
    enc = [e for e in events if e["eventName"] == "Encrypt" and "errorCode" not in e][0]
    assert enc["userIdentity"]["arn"] == "arn:aws:iam::111122223333:user/alice"
    assert enc["requestParameters"]["encryptionContext"] == {"case": "audit"}
    assert enc["requestParameters"]["keyId"] == kid
    assert enc["sourceIPAddress"] == "127.0.0.1"
    assert enc["resources"][0]["ARN"].endswith(kid)
    denied = [e for e in events if e.get("errorCode") == "AccessDeniedException"]
    assert denied and denied[0]["userIdentity"]["arn"].endswith("user/bob")
    import base64
    for secret in (b"TOP-SECRET-PLAINTEXT", b"SIGNED-MESSAGE-BODY", dk["Plaintext"]):
        assert base64.b64encode(secret).decode() not in out and secret.decode(errors="ignore") not in out
    per_key = subprocess.run([BIN, "kms", "audit", "--data-dir", strict_server.data_dir, "--key", sig_key, "--since", "1h"],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert per_key and all(sig_key in line for line in per_key)
    future = subprocess.run([BIN, "kms", "audit", "--data-dir", strict_server.data_dir, "--since", "2999-01-01T00:00:00Z"],
                            capture_output=True, text=True, check=True).stdout
    assert future == ""
