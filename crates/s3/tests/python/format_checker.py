"""An independent reader of the S3 Encryption Client object format for raw-key objects, which
the official Python client cannot read (it has KMS keyrings only): decrypts what envelope wrote
with the `cryptography` package, following the format as the specification states it
(s3-encryption/ data-format, key-derivation.md; the AES/GCM and RSA-OAEP-SHA1 wraps as the Java
client writes them).

Protocol: one JSON request per stdin line, one JSON answer per stdout line.
Request: {"metadata": {...all content metadata, object and instruction file merged...},
          "body": base64, "aes_key": hex (AES/GCM wrap) | "rsa_private_key": PEM (RSA-OAEP-SHA1)}
Answer:  {"ok": true, "plaintext": base64} or {"ok": false, "error": "..."}.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import constant_time, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

COMMITTING_SUITE_ID = b"\x00\x73"


def unwrap(request, wrap, binding):
    edk = base64.b64decode(request["edk"])
    if wrap == "AES/GCM":
        kek = AESGCM(bytes.fromhex(request["aes_key"]))
        # IV (12) || ciphertext || tag, the content cipher's name as AAD.
        return kek.decrypt(edk[:12], edk[12:], binding)
    if wrap == "RSA-OAEP-SHA1":
        key = serialization.load_pem_private_key(request["rsa_private_key"].encode(), password=None)
        oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        pseudo = key.decrypt(edk, oaep)
        # Pseudo data key: length byte || data key || the content cipher's name.
        length = pseudo[0]
        if pseudo[1 + length :] != binding:
            raise ValueError("the wrapped key is bound to another content cipher")
        return pseudo[1 : 1 + length]
    raise ValueError("unsupported wrap %r" % wrap)


def hkdf(data_key, message_id, label, length):
    derive = HKDF(algorithm=hashes.SHA512(), length=length, salt=message_id, info=COMMITTING_SUITE_ID + label)
    return derive.derive(data_key)


def decrypt(request):
    metadata = request["metadata"]
    body = base64.b64decode(request["body"])
    if "x-amz-3" in metadata:
        if metadata["x-amz-c"] != "115":
            raise ValueError("V3 with content cipher %r" % metadata["x-amz-c"])
        wrap = {"02": "AES/GCM", "22": "RSA-OAEP-SHA1"}[metadata["x-amz-w"]]
        request["edk"] = metadata["x-amz-3"]
        data_key = unwrap(request, wrap, b"115")
        message_id = base64.b64decode(metadata["x-amz-i"])
        commitment = hkdf(data_key, message_id, b"COMMITKEY", 28)
        if not constant_time.bytes_eq(commitment, base64.b64decode(metadata["x-amz-d"])):
            raise ValueError("key commitment mismatch")
        content_key = hkdf(data_key, message_id, b"DERIVEKEY", 32)
        return AESGCM(content_key).decrypt(b"\x01" * 12, body, COMMITTING_SUITE_ID)
    if metadata.get("x-amz-cek-alg") != "AES/GCM/NoPadding":
        raise ValueError("V2 with content cipher %r" % metadata.get("x-amz-cek-alg"))
    request["edk"] = metadata["x-amz-key-v2"]
    data_key = unwrap(request, metadata["x-amz-wrap-alg"], b"AES/GCM/NoPadding")
    return AESGCM(data_key).decrypt(base64.b64decode(metadata["x-amz-iv"]), body, None)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            plaintext = decrypt(json.loads(line))
            answer = {"ok": True, "plaintext": base64.b64encode(plaintext).decode()}
        except Exception as error:  # the test asserts on refusals too
            answer = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
