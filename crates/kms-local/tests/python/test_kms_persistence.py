"""State survives restarts and `kill -9`; the database never holds key material in plaintext."""

import os
import signal
import sqlite3

import pytest

from conftest import Server


def test_restart_keeps_keys_aliases_grants_policies(server):
    kms = server.client()
    kid = kms.create_key(Description="persist")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/persist", TargetKeyId=kid)
    grant = kms.create_grant(KeyId=kid, GranteePrincipal="arn:aws:iam::111122223333:role/app", Operations=["Encrypt"])
    pol = kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"].replace("Enable IAM User Permissions", "Kept")
    kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=pol)
    kms.enable_key_rotation(KeyId=kid)
    kms.rotate_key_on_demand(KeyId=kid)
    ct = kms.encrypt(KeyId="alias/persist", Plaintext=b"durable")["CiphertextBlob"]
    west = server.client("us-west-2").create_key()["KeyMetadata"]["KeyId"]
    server.restart()
    kms = server.client()
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"durable"
    assert kms.describe_key(KeyId="alias/persist")["KeyMetadata"]["Description"] == "persist"
    assert kms.list_grants(KeyId=kid)["Grants"][0]["GrantId"] == grant["GrantId"]
    assert "Kept" in kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"]
    assert kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"]
    assert len(kms.list_key_rotations(KeyId=kid)["Rotations"]) == 1
    assert server.client("us-west-2").describe_key(KeyId=west)["KeyMetadata"]["KeyId"] == west


def test_acknowledged_writes_survive_kill_9(server):
    kms = server.client()
    kids = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)]
    kms.create_alias(AliasName="alias/k9", TargetKeyId=kids[-1])
    ct = kms.encrypt(KeyId=kids[0], Plaintext=b"k9")["CiphertextBlob"]
    server.stop(sig=signal.SIGKILL)
    server.start()
    kms = server.client()
    listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert set(kids) <= listed
    assert kms.describe_key(KeyId="alias/k9")["KeyMetadata"]["KeyId"] == kids[-1]
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"k9"


def test_no_key_material_in_the_database(tmp_path):
    data = tmp_path / "data"
    seed = tmp_path / "seed.json"
    material = bytes(range(100, 132))
    import base64
    import json
    seed.write_text(json.dumps({"keys": [{"id": "11111111-2222-3333-4444-555555555555",
                                           "material": base64.b64encode(material).decode()}]}))
    s = Server(str(data), ["--seed", str(seed)]).start()
    kms = s.client()
    hm = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    kms.generate_mac(KeyId=hm, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    s.stop()
    blobs = b""
    for name in os.listdir(data):
        if name.startswith("kms.sqlite3"):
            blobs += (data / name).read_bytes()
    assert material not in blobs
    # Every material row is sealed: nonce + ciphertext + tag, never the raw 32 bytes.
    conn = sqlite3.connect(str(data / "kms.sqlite3"))
    rows = conn.execute("SELECT sealed FROM key_materials").fetchall()
    assert rows and all(len(r[0]) == 32 + 28 for r in rows)
    assert all(material not in r[0] for r in rows)
    conn.close()
    # The root key file is private.
    assert oct((data / "root.key").stat().st_mode & 0o777) == "0o600"


def test_seed_file_yaml_fixed_ids(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "keys:\n"
        "  - id: 11111111-2222-3333-4444-555555555555\n"
        "    material: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "    aliases: [alias/vectors]\n"
        "  - id: 22222222-2222-3333-4444-555555555555\n"
        "    key_spec: ECC_NIST_P256\n"
        "    key_usage: SIGN_VERIFY\n"
        "    enabled: false\n")
    a = Server(str(tmp_path / "a"), ["--seed", str(seed)]).start()
    ct = a.client().encrypt(KeyId="alias/vectors", Plaintext=b"vector")["CiphertextBlob"]
    meta = a.client().describe_key(KeyId="22222222-2222-3333-4444-555555555555")["KeyMetadata"]
    assert meta["KeyState"] == "Disabled"
    a.stop()
    b = Server(str(tmp_path / "b"), ["--seed", str(seed)]).start()
    assert b.client().decrypt(CiphertextBlob=ct)["Plaintext"] == b"vector"
    b.restart()  # seeding is idempotent
    assert len(b.client().list_keys()["Keys"]) == 2
    b.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signals(tmp_path, sig):
    s = Server(str(tmp_path / "data")).start()
    s.client().create_key()
    assert s.stop(sig=sig) == 0
