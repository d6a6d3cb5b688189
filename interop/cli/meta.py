"""Helpers for interop/cli/run.sh: read and compare `--metadata-output` lines, flip ciphertext bytes.

    meta.py get FILE PATH             print a field of the last line (dotted PATH; `len:` prefix = length)
    meta.py shape FILE                check the line against aws-encryption-cli's shape (see README.md)
    meta.py same-header FILE_A FILE_B the last lines' `header` objects are equal
    meta.py same-line FILE_A FILE_B [IGNORED_KEY ...]
                                      the last lines are equal, top-level IGNORED_KEYs aside
    meta.py flip FILE FROM_END        xor 0x01 into byte len-FROM_END of FILE

Exit status 0 when the check holds; on a mismatch it prints what differs and exits 1.
"""

import base64
import binascii
import json
import os
import sys

HEADER_KEYS = {
    "algorithm", "commitment_key", "content_type", "encrypted_data_keys", "encryption_context",
    "frame_length", "header_iv_length", "message_id", "type", "version",
}
SKIP_KEYS = {"skipped", "reason", "missing_encryption_context_keys", "missing_encryption_context_pairs"}


def last_line(path):
    with open(path, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l.strip()]
    if not lines:
        raise SystemExit(f"{path}: no metadata line")
    return json.loads(lines[-1].decode("utf-8"))


def lookup(obj, path):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = obj[part]
    return obj


def b64(value, what, errors, size=None):
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        errors.append(f"{what}: not base64: {value!r}")
        return None
    if size is not None and len(raw) not in (size if isinstance(size, tuple) else (size,)):
        errors.append(f"{what}: {len(raw)} bytes, want {size}")
    return raw


def shape(line):
    errors = []
    mode = line.get("mode")
    if mode not in ("encrypt", "decrypt", "decrypt-unsigned"):
        errors.append(f"mode: {mode!r}")
    want = {"header", "input", "mode", "output"}
    if mode != "encrypt":
        want.add("header_auth")
    if line.get("skipped"):
        want |= SKIP_KEYS
    if set(line) != want:
        errors.append(f"top-level keys {sorted(line)}, want {sorted(want)}")
    for key in ("input", "output"):
        v = line.get(key)
        if not isinstance(v, str) or not (os.path.isabs(v) or v in ("<stdin>", "<stdout>")):
            errors.append(f"{key}: {v!r} is neither absolute nor <stdin>/<stdout>")
    h = line.get("header", {})
    if set(h) != HEADER_KEYS:
        errors.append(f"header keys {sorted(h)}, want {sorted(HEADER_KEYS)}")
    v2 = h.get("version") == "2.0"
    if h.get("version") not in ("1.0", "2.0"):
        errors.append(f"header.version: {h.get('version')!r}")
    if not isinstance(h.get("algorithm"), str) or not h.get("algorithm", "").startswith("AES_"):
        errors.append(f"header.algorithm: {h.get('algorithm')!r} (want an enum name such as AES_256_GCM_HKDF_SHA512_COMMIT_KEY)")
    b64(h.get("message_id"), "header.message_id", errors, 32 if v2 else 16)
    if v2:
        b64(h.get("commitment_key"), "header.commitment_key", errors, 32)
        for k, want_v in (("type", None), ("header_iv_length", None)):
            if h.get(k) is not want_v:
                errors.append(f"header.{k}: {h.get(k)!r}, want null for v2")
    else:
        for k, want_v in (("commitment_key", None), ("type", 128), ("header_iv_length", 12)):
            if h.get(k) != want_v or (want_v is None and h.get(k) is not None):
                errors.append(f"header.{k}: {h.get(k)!r}, want {want_v!r} for v1")
    if h.get("content_type") not in (1, 2):
        errors.append(f"header.content_type: {h.get('content_type')!r}")
    if not isinstance(h.get("frame_length"), int) or isinstance(h.get("frame_length"), bool):
        errors.append(f"header.frame_length: {h.get('frame_length')!r}")
    ec = h.get("encryption_context")
    if not isinstance(ec, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in ec.items()):
        errors.append(f"header.encryption_context: {ec!r}")
    edks = h.get("encrypted_data_keys")
    if not isinstance(edks, list) or not edks:
        errors.append(f"header.encrypted_data_keys: {edks!r}")
        edks = []
    sort_keys = []
    for i, edk in enumerate(edks):
        if set(edk) != {"encrypted_data_key", "key_provider"} or set(edk.get("key_provider", {})) != {"key_info", "provider_id"}:
            errors.append(f"header.encrypted_data_keys.{i}: keys {edk!r}")
            continue
        pid = b64(edk["key_provider"]["provider_id"], f"edk {i} provider_id", errors)
        info = b64(edk["key_provider"]["key_info"], f"edk {i} key_info", errors)
        b64(edk["encrypted_data_key"], f"edk {i} encrypted_data_key", errors)
        if pid is not None and info is not None:
            sort_keys.append(pid + info)
    if sort_keys != sorted(sort_keys):
        errors.append("header.encrypted_data_keys: not sorted by provider_id + key_info bytes")
    if mode != "encrypt":
        auth = line.get("header_auth", {})
        if set(auth) != {"iv", "tag"}:
            errors.append(f"header_auth keys: {sorted(auth)}")
        else:
            b64(auth["iv"], "header_auth.iv", errors, 12)
            b64(auth["tag"], "header_auth.tag", errors, 16)
    return errors


def diff(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append(f"{p}: only in B: {json.dumps(b[k])[:200]}")
            elif k not in b:
                out.append(f"{p}: only in A: {json.dumps(a[k])[:200]}")
            else:
                out += diff(a[k], b[k], p)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}.{i}")
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: A {json.dumps(a)[:200]} != B {json.dumps(b)[:200]}")
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "get":
        path = argv[3]
        want_len = path.startswith("len:")
        value = lookup(last_line(argv[2]), path[4:] if want_len else path)
        print(len(value) if want_len else (value if isinstance(value, str) else json.dumps(value)))
        return 0
    if cmd == "shape":
        errors = shape(last_line(argv[2]))
        for e in errors:
            print(f"shape: {e}")
        return 1 if errors else 0
    if cmd in ("same-header", "same-line"):
        a, b = last_line(argv[2]), last_line(argv[3])
        if cmd == "same-header":
            a, b = a.get("header"), b.get("header")
        else:
            for k in argv[4:]:
                a.pop(k, None)
                b.pop(k, None)
        d = diff(a, b)
        for line in d:
            print(f"differs: {line}")
        return 1 if d else 0
    if cmd == "flip":
        with open(argv[2], "r+b") as f:
            data = bytearray(f.read())
            data[len(data) - int(argv[3])] ^= 0x01
            f.seek(0)
            f.write(data)
        return 0
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
