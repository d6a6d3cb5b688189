#!/usr/bin/env python3
"""Interop oracle: the official Python AWS Encryption SDK (4.x, with the Material Providers
Library keyrings) run over AWS Crypto Tools test-vector manifests.

    esdk_oracle.py decrypt --manifest PATH             # awses-decrypt v1-v4 (file, dir or .zip)
    esdk_oracle.py encrypt --manifest PATH --out DIR   # awses-encrypt v1-v2 -> awses-decrypt v2/v4

Both print one line per failure and, last, ``N passed, M failed, K skipped``; they exit 1 when a
test failed and 2 when the manifest itself could not be read. Tests that need AWS KMS are
skipped (no network).

Extension members understood (envelope's, see test-vectors/README.md): per encrypt test
``"cmm": "Default" | "RequiredEncryptionContext"`` with ``"required-encryption-context-keys"``,
and an optional top-level or per-test ``"commitment-policy"``.
"""

import argparse
import base64
import json
import logging
import os
import sys
import traceback
import zipfile

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import AlgorithmSuite, CommitmentPolicy
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    AesWrappingAlg,
    CreateDefaultCryptographicMaterialsManagerInput,
    CreateMultiKeyringInput,
    CreateRawAesKeyringInput,
    CreateRawRsaKeyringInput,
    CreateRequiredEncryptionContextCMMInput,
    PaddingScheme,
)
from cryptography.hazmat.primitives import serialization

CLIENT_NAME = "aws-encryption-sdk-python"

AES_WRAPPING = {
    128: AesWrappingAlg.ALG_AES128_GCM_IV12_TAG16,
    192: AesWrappingAlg.ALG_AES192_GCM_IV12_TAG16,
    256: AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
}

RSA_PADDING = {
    ("pkcs1", None): PaddingScheme.PKCS1,
    ("pkcs1", "sha1"): PaddingScheme.PKCS1,  # the Dafny runners write a hash for pkcs1
    ("oaep-mgf1", "sha1"): PaddingScheme.OAEP_SHA1_MGF1,
    ("oaep-mgf1", "sha256"): PaddingScheme.OAEP_SHA256_MGF1,
    ("oaep-mgf1", "sha384"): PaddingScheme.OAEP_SHA384_MGF1,
    ("oaep-mgf1", "sha512"): PaddingScheme.OAEP_SHA512_MGF1,
}

KMS_TYPES = {
    "aws-kms",
    "aws-kms-mrk-aware",
    "aws-kms-mrk-aware-discovery",
    "aws-kms-rsa",
    "aws-kms-hierarchy",
    "aws-kms-ecdh",
}


class Skip(Exception):
    """The test cannot be run here (reported as skipped)."""


class Fail(Exception):
    """The test failed."""


# ---------------------------------------------------------------------------------------------
# Manifest sources: a manifest file, a directory holding manifest.json, or a .zip holding one.


class Source:
    def __init__(self, path):
        self.zip = None
        self.prefix = ""
        if os.path.isdir(path):
            self.base = path
            self.manifest_name = "manifest.json"
        elif zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            names = [n for n in self.zip.namelist() if n.endswith("manifest.json")]
            if not names:
                raise ValueError(f"{path}: no manifest.json inside")
            top = min(names, key=lambda n: n.count("/"))
            self.prefix = top[: -len("manifest.json")]
            self.base = ""
            self.manifest_name = "manifest.json"
        else:
            self.base = os.path.dirname(os.path.abspath(path))
            self.manifest_name = os.path.basename(path)

    def read(self, uri):
        """Reads a manifest-relative ``file://`` URI (or a bare relative path)."""
        if uri.startswith("file://"):
            uri = uri[len("file://"):]
        elif "://" in uri:
            raise Skip(f"cannot read {uri!r}: only file:// URIs are supported")
        if self.zip is not None:
            return self.zip.read(self.prefix + uri)
        with open(os.path.join(self.base, uri), "rb") as f:
            return f.read()

    def manifest(self):
        return json.loads(self.read(self.manifest_name))


# ---------------------------------------------------------------------------------------------
# Keys manifest (framework feature 0002, versions 1-3) and key descriptions (feature 0005).


def truthy(value, default=True):
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class Keys:
    def __init__(self, keys_json):
        header = keys_json.get("manifest", {})
        if header.get("type") != "keys":
            raise ValueError(f"keys manifest has type {header.get('type')!r}")
        self.keys = keys_json["keys"]
        self.mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())

    def entry(self, name):
        try:
            return self.keys[name]
        except KeyError:
            raise Fail(f"key {name!r} is not in the keys manifest") from None

    # -- key material --

    @staticmethod
    def _symmetric(entry):
        encoding = entry.get("encoding", "base64")
        if encoding != "base64":
            raise Skip(f"symmetric key encoding {encoding!r} unsupported")
        material = base64.b64decode(entry["material"])
        bits = int(entry.get("bits", len(material) * 8))
        if bits != len(material) * 8:
            raise Fail(f"key says {bits} bits but holds {len(material) * 8}")
        return material

    def _rsa(self, entry):
        """(private key object or None, public key object) for an RSA entry (parsed once: a
        4096-bit private key takes the cryptography package most of a second to load)."""
        cache = self.__dict__.setdefault("_rsa_cache", {})
        key = (entry.get("type"), entry.get("encoding"), entry["material"])
        if key not in cache:
            cache[key] = self._parse_rsa(entry)
        return cache[key]

    @staticmethod
    def _parse_rsa(entry):
        encoding = entry.get("encoding", "pem")
        material = entry["material"]
        if encoding == "pem":
            data = material.encode()
            if entry.get("type") == "private":
                private = serialization.load_pem_private_key(data, password=None)
                return private, private.public_key()
            return None, serialization.load_pem_public_key(data)
        if encoding in ("base64", "der"):
            data = base64.b64decode(material)
            if entry.get("type") == "private":
                private = serialization.load_der_private_key(data, password=None)
                return private, private.public_key()
            return None, serialization.load_der_public_key(data)
        raise Skip(f"RSA key encoding {encoding!r} unsupported")

    def _private_partner(self, public):
        """A private RSA entry whose public half is ``public`` (for decrypt with a public entry)."""
        numbers = public.public_numbers()
        for entry in self.keys.values():
            if entry.get("algorithm") == "rsa" and entry.get("type") == "private":
                try:
                    private, _ = self._rsa(entry)
                except Exception:  # pragma: no cover - unreadable entries are not partners
                    continue
                if private.public_key().public_numbers() == numbers:
                    return private
        return None

    # -- keyrings --

    def keyring(self, description, decrypt):
        """The MPL keyring for one master-key description, or None when it cannot decrypt
        (a public RSA key with no private partner, on decrypt)."""
        kind = description.get("type")
        if kind in KMS_TYPES:
            raise Skip(f"{kind} needs AWS KMS")
        if kind == "multi-keyring":
            generator = description.get("generator")
            children = description.get("childKeyrings") or []
            return self._multi(([generator] if generator else []) + children, decrypt, bool(generator))
        if kind != "raw":
            raise Skip(f"master key type {kind!r} unsupported")
        entry = self.entry(description["key"])
        namespace = description["provider-id"]
        name = description.get("key-id") or entry.get("key-id") or description["key"]
        algorithm = description.get("encryption-algorithm")
        if algorithm == "aes":
            material = self._symmetric(entry)
            wrapping = AES_WRAPPING.get(len(material) * 8)
            if wrapping is None:
                raise Fail(f"no AES wrapping for a {len(material) * 8}-bit key")
            return self.mpl.create_raw_aes_keyring(
                CreateRawAesKeyringInput(
                    key_namespace=namespace, key_name=name, wrapping_key=material, wrapping_alg=wrapping
                )
            )
        if algorithm == "rsa":
            padding_key = (description.get("padding-algorithm"), description.get("padding-hash"))
            padding = RSA_PADDING.get(padding_key)
            if padding is None:
                raise Skip(f"RSA padding {padding_key} unsupported")
            private, public = self._rsa(entry)
            if decrypt and private is None:
                private = self._private_partner(public)
                if private is None:
                    return None
            pem_public = public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            pem_private = None
            if private is not None:
                pem_private = private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            return self.mpl.create_raw_rsa_keyring(
                CreateRawRsaKeyringInput(
                    key_namespace=namespace,
                    key_name=name,
                    padding_scheme=padding,
                    public_key=pem_public,
                    private_key=pem_private,
                )
            )
        raise Skip(f"raw encryption-algorithm {algorithm!r} unsupported")

    def _multi(self, descriptions, decrypt, first_is_generator=True):
        keyrings = [self.keyring(d, decrypt) for d in descriptions]
        if decrypt:
            keyrings = [k for k in keyrings if k is not None]
            if not keyrings:
                raise Fail("no master key here can decrypt (public keys only)")
            if len(keyrings) == 1:
                return keyrings[0]
            # On decrypt any member may unwrap: all children, no generator needed.
            return self.mpl.create_multi_keyring(CreateMultiKeyringInput(generator=None, child_keyrings=keyrings))
        if not keyrings:
            raise Fail("no master keys")
        if len(keyrings) == 1:
            return keyrings[0]
        if first_is_generator:
            return self.mpl.create_multi_keyring(
                CreateMultiKeyringInput(generator=keyrings[0], child_keyrings=keyrings[1:])
            )
        return self.mpl.create_multi_keyring(CreateMultiKeyringInput(generator=None, child_keyrings=keyrings))

    def master_keys(self, master_keys, decrypt):
        """A keyring for a manifest's ``master-keys`` list (the first is the generator)."""
        return self._multi(master_keys, decrypt)

    def default_cmm(self, keyring):
        return self.mpl.create_default_cryptographic_materials_manager(
            CreateDefaultCryptographicMaterialsManagerInput(keyring=keyring)
        )

    def required_ec_cmm(self, keyring, required_keys):
        return self.mpl.create_required_encryption_context_cmm(
            CreateRequiredEncryptionContextCMMInput(
                underlying_cmm=self.default_cmm(keyring), required_encryption_context_keys=list(required_keys)
            )
        )


# ---------------------------------------------------------------------------------------------
# Reporting.


class Report:
    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = []
        self.skipped = []
        self.verbose = verbose

    def run(self, name, fn):
        try:
            fn()
        except Skip as e:
            self.skipped.append((name, str(e)))
            if self.verbose:
                print(f"SKIPPED {name}: {e}")
        except Fail as e:
            self.failed.append((name, str(e)))
            print(f"FAILED {name}: {e}")
        except Exception as e:  # any SDK error is a failure of this test
            reason = f"{type(e).__name__}: {e}"
            self.failed.append((name, reason))
            print(f"FAILED {name}: {reason}")
            if os.environ.get("ORACLE_TRACEBACK"):
                traceback.print_exc()
        else:
            self.passed += 1

    def finish(self):
        print(f"{self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped")
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------------------------
# decrypt


def string_map(value, what):
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise Fail(f"{what} must map strings to strings")
    return value


def decrypt_one(source, keys, client, test):
    ciphertext = source.read(test["ciphertext"])
    result = test.get("result")
    if result is None:  # v1
        expected_plaintext, expected_error = test["plaintext"], None
    elif "output" in result:
        expected_plaintext, expected_error = result["output"]["plaintext"], None
    elif "error" in result:
        expected_plaintext, expected_error = None, result["error"].get("error-description", "(no description)")
    else:
        raise Fail('"result" has neither "output" nor "error"')

    keyring = keys.master_keys(test["master-keys"], decrypt=True)
    reproduced = string_map(test.get("encryption-context"), '"encryption-context"')
    cmm_name = test.get("cmm", "Default")
    if cmm_name == "Default":
        cmm = keys.default_cmm(keyring)
    elif cmm_name == "RequiredEncryptionContext":
        cmm = keys.required_ec_cmm(keyring, list((reproduced or {}).keys()))
    else:
        raise Skip(f"cmm {cmm_name!r} unsupported")

    kwargs = {"source": ciphertext, "materials_manager": cmm}
    if reproduced is not None:
        kwargs["encryption_context"] = reproduced
    method = test.get("decryption-method")
    try:
        if method == "streaming-unsigned-only":
            with client.stream(mode="decrypt-unsigned", **kwargs) as decryptor:
                plaintext = decryptor.read()
        elif method is None:
            plaintext, _header = client.decrypt(**kwargs)
        else:
            raise Skip(f"decryption-method {method!r} unsupported")
    except (Skip, Fail):
        raise
    except Exception as e:
        if expected_error is not None:
            return  # failed as expected
        raise Fail(f"decryption failed: {type(e).__name__}: {e}") from None
    if expected_error is not None:
        raise Fail(f"decrypted, but the test expects an error ({expected_error})")
    expected = source.read(expected_plaintext)
    if plaintext != expected:
        raise Fail(f"plaintext differs: got {len(plaintext)} bytes, expected {len(expected)}")


def cmd_decrypt(args):
    source = Source(args.manifest)
    manifest = source.manifest()
    header = manifest.get("manifest", {})
    if header.get("type") != "awses-decrypt" or header.get("version") not in (1, 2, 3, 4):
        print(f"unsupported manifest {header} (this oracle reads awses-decrypt 1-4)", file=sys.stderr)
        return 2
    keys = Keys(json.loads(source.read(manifest["keys"])))
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
    report = Report(args.verbose)
    for name, test in sorted(manifest["tests"].items()):
        if args.filter and args.filter not in name:
            continue
        report.run(name, lambda test=test: decrypt_one(source, keys, client, test))
    return report.finish()


# ---------------------------------------------------------------------------------------------
# encrypt


def file_name(name):
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)
    return "_" + cleaned if cleaned in ("", ".", "..") else cleaned


def commitment_policy(suite, explicit):
    if explicit:
        try:
            return CommitmentPolicy[explicit]
        except KeyError:
            raise Fail(f"unknown commitment policy {explicit!r}") from None
    if suite.is_committing():
        return CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    return CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT


def encrypt_one(keys, manifest, test, plaintext):
    """Returns (ciphertext, decrypt-manifest entry without the ciphertext URI)."""
    try:
        suite = AlgorithmSuite.get_by_id(int(test["algorithm"], 16))
    except (KeyError, ValueError):
        raise Fail(f"unknown algorithm suite {test.get('algorithm')!r}") from None
    frame = int(test.get("frame-size", 4096))
    block = suite.encryption_algorithm.block_size  # 128 (bits), compared against bytes
    if frame % block:
        # aws_encryption_sdk.internal.utils.validate_frame_length refuses these on encrypt (it
        # reads fine on decrypt); the message format allows any frame length.
        raise Skip(f"frame-size {frame}: the Python ESDK only writes frame lengths that are multiples of {block}")
    context = string_map(test.get("encryption-context", {}), '"encryption-context"')
    policy = commitment_policy(suite, test.get("commitment-policy") or manifest.get("commitment-policy"))
    keyring = keys.master_keys(test["master-keys"], decrypt=False)
    cmm_name = test.get("cmm", "Default")
    if cmm_name == "Default":
        cmm = keys.default_cmm(keyring)
        reproduced = dict(context)
    elif cmm_name == "RequiredEncryptionContext":
        required = test.get("required-encryption-context-keys") or []
        cmm = keys.required_ec_cmm(keyring, required)
        reproduced = {k: v for k, v in context.items() if k in required}
    else:
        raise Skip(f"cmm {cmm_name!r} unsupported")
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
    ciphertext, _header = client.encrypt(
        source=plaintext, materials_manager=cmm, encryption_context=context, algorithm=suite, frame_length=frame
    )
    entry = {
        "master-keys": test["master-keys"],
        "cmm": cmm_name,
        "encryption-context": reproduced,
        "result": {"output": {"plaintext": f"file://plaintexts/{file_name(test['plaintext'])}"}},
    }
    if "description" in test:
        entry["description"] = test["description"]
    return ciphertext, entry


def cmd_encrypt(args):
    source = Source(args.manifest)
    manifest = source.manifest()
    header = manifest.get("manifest", {})
    if header.get("type") != "awses-encrypt" or header.get("version") not in (1, 2):
        print(f"unsupported manifest {header} (this oracle reads awses-encrypt 1-2)", file=sys.stderr)
        return 2
    keys_bytes = source.read(manifest["keys"])
    keys = Keys(json.loads(keys_bytes))
    out = args.out
    if os.path.exists(out) and os.listdir(out):
        print(f"{out} exists and is not empty", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(out, "plaintexts"), exist_ok=True)
    os.makedirs(os.path.join(out, "ciphertexts"), exist_ok=True)

    plaintexts = {}
    for name, size in manifest.get("plaintexts", {}).items():
        data = os.urandom(int(size))
        plaintexts[name] = data
        with open(os.path.join(out, "plaintexts", file_name(name)), "wb") as f:
            f.write(data)

    report = Report(args.verbose)
    written = {}
    used = set()

    def run(name, test):
        if test["plaintext"] not in plaintexts:
            raise Fail(f"unknown plaintext {test['plaintext']!r}")
        ciphertext, entry = encrypt_one(keys, manifest, test, plaintexts[test["plaintext"]])
        fname = file_name(name)
        while fname in used:
            fname += "_"
        used.add(fname)
        with open(os.path.join(out, "ciphertexts", fname), "wb") as f:
            f.write(ciphertext)
        entry["ciphertext"] = f"file://ciphertexts/{fname}"
        written[name] = entry

    for name, test in manifest["tests"].items():
        if args.filter and args.filter not in name:
            continue
        report.run(name, lambda name=name, test=test: run(name, test))

    version = 4 if any(e["cmm"] != "Default" for e in written.values()) else 2
    if version == 2:
        for entry in written.values():
            entry.pop("cmm", None)
            entry.pop("encryption-context", None)
    decrypt_manifest = {
        "manifest": {"type": "awses-decrypt", "version": version},
        "client": {"name": CLIENT_NAME, "version": aws_encryption_sdk.__version__},
        "keys": "file://keys.json",
        "tests": written,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(decrypt_manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out, "keys.json"), "wb") as f:
        f.write(keys_bytes)
    return report.finish()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("decrypt", help="decrypt every test of an awses-decrypt manifest")
    d.add_argument("--manifest", required=True)
    e = sub.add_parser("encrypt", help="run an awses-encrypt manifest, write an awses-decrypt one")
    e.add_argument("--manifest", required=True)
    e.add_argument("--out", required=True)
    for p in (d, e):
        p.add_argument("--filter", help="run only tests whose name contains this")
        p.add_argument("-v", "--verbose", action="store_true", help="also print skipped tests")
    args = parser.parse_args(argv)
    if not os.environ.get("ORACLE_TRACEBACK"):
        # The SDK logs a traceback ("Error on closing") for every message it rejects; the
        # report line says what failed.
        logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL)
    try:
        if args.command == "decrypt":
            return cmd_decrypt(args)
        return cmd_encrypt(args)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
