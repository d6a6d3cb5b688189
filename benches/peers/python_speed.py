#!/usr/bin/env python3
"""One-shot encrypt/decrypt throughput of the Python AWS Encryption SDK 4.x with a raw AES-256
keyring from the Material Providers Library, under the same contract as `envelope speed`:

    python_speed.py --suite HEX --size BYTES [--frame-length N] [--iterations N] [--json]

Method (identical to `envelope speed`): one warm-up encrypt and decrypt, then encrypt the same
plaintext repeatedly for about two seconds (at least three messages) or exactly --iterations
messages, then decrypt the warm-up message the same way. One message at a time; the timing includes
the materials step. Same key bytes (0..31), key namespace and key name as `envelope speed`, empty
encryption context. With --master-key the SDK's older key-provider path (a RawMasterKeyProvider with
the same key) is used instead of the Material Providers keyring, for context. If the SDK refuses the message, the JSON carries "refused" and the exit status
is 2.
"""

import argparse
import json
import sys
import time

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import AlgorithmSuite, CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import AesWrappingAlg, CreateRawAesKeyringInput

IMPLEMENTATION = "aws-encryption-sdk (Python) " + aws_encryption_sdk.__version__
KEY = bytes(range(32))


class StaticAesProvider(RawMasterKeyProvider):
    """The pre-keyring raw AES path: one AES-256-GCM wrapping key under the same names."""

    provider_id = "envelope-speed"

    def _get_raw_key(self, key_id):
        return WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        )


def parse_size(text):
    """1024, 1K, 100M, 1G (binary multiples), as `envelope speed` accepts."""
    text = text.strip()
    multipliers = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1].upper() in multipliers:
        return int(text[:-1]) * multipliers[text[-1].upper()]
    return int(text)


def parse_suite(text):
    digits = text[2:] if text.lower().startswith("0x") else text
    suite_id = int(digits, 16)
    try:
        return suite_id, AlgorithmSuite.get_by_id(suite_id)
    except Exception as error:  # the SDK raises its own error type for unknown ids
        raise SystemExit(f"0x{suite_id:04X} is not an AWS Encryption SDK message suite ({error})")


def measure(iterations, operation):
    """Exactly `iterations` runs, or at least three runs and two seconds."""
    budget = 2.0
    start = time.perf_counter()
    count = 0
    while True:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
        if (count >= iterations) if iterations is not None else (count >= 3 and elapsed >= budget):
            return count, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="0578")
    parser.add_argument("--size", default="1M")
    parser.add_argument("--frame-length", type=int, default=4096)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--master-key", action="store_true", help="use the RawMasterKeyProvider path instead of the MPL raw AES keyring")
    args = parser.parse_args()

    suite_id, suite = parse_suite(args.suite)
    size = parse_size(args.size)
    committing = suite.is_committing()
    policy = CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT if committing else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
    if args.master_key:
        provider = StaticAesProvider()
        provider.add_master_key(b"aes-256")
        keys = {"key_provider": provider}
        implementation = IMPLEMENTATION + " master key provider"
    else:
        mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
        keyring = mpl.create_raw_aes_keyring(
            input=CreateRawAesKeyringInput(
                key_namespace="envelope-speed",
                key_name="aes-256",
                wrapping_key=KEY,
                wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
            )
        )
        keys = {"keyring": keyring}
        implementation = IMPLEMENTATION + " MPL keyring"
    plaintext = b"\xa5" * size
    base = {"implementation": implementation, "suite": f"0x{suite_id:04X}", "size": size, "frame_length": args.frame_length}

    def encrypt_once():
        return client.encrypt(source=plaintext, **keys, algorithm=suite, frame_length=args.frame_length)[0]

    try:
        message = encrypt_once()

        def decrypt_once():
            return client.decrypt(source=message, **keys)[0]

        if decrypt_once() != plaintext:
            raise SystemExit("warm-up round trip did not return the plaintext")
    except (aws_encryption_sdk.exceptions.AWSEncryptionSDKClientError, MemoryError, OverflowError) as refusal:
        report = dict(base, refused=f"{type(refusal).__name__}: {refusal}")
        print(json.dumps(report) if args.json else f"refused: {report['refused']}")
        return 2

    enc_count, enc_elapsed = measure(args.iterations, encrypt_once)
    dec_count, dec_elapsed = measure(args.iterations, decrypt_once)
    enc_ops, dec_ops = enc_count / enc_elapsed, dec_count / dec_elapsed
    enc_mb, dec_mb = enc_ops * size / 1e6, dec_ops * size / 1e6
    if args.json:
        report = dict(
            base,
            encrypt_iterations=enc_count,
            decrypt_iterations=dec_count,
            encrypt_mb_per_s=round(enc_mb, 1),
            decrypt_mb_per_s=round(dec_mb, 1),
            encrypt_ops_per_s=round(enc_ops, 1),
            decrypt_ops_per_s=round(dec_ops, 1),
        )
        print(json.dumps(report))
    else:
        print(f"{implementation}, suite 0x{suite_id:04X}, {size} bytes, frame length {args.frame_length}")
        print(f"{'':>8} {'MB/s':>14} {'messages/s':>14}")
        print(f"{'encrypt':>8} {enc_mb:>14.1f} {enc_ops:>14.1f}")
        print(f"{'decrypt':>8} {dec_mb:>14.1f} {dec_ops:>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
