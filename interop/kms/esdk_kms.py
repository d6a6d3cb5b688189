#!/usr/bin/env python3
"""KMS interop through the envelope emulator: the official Python AWS Encryption SDK (4.x, with
the Material Providers Library's KMS keyrings) against envelope's KMS keyrings.

    esdk_kms.py setup ENDPOINT DIR   # create keys with boto3, write DIR/job.json and plaintexts
    esdk_kms.py encrypt JOB          # Python encrypts each case -> DIR/<case>.python.ct
    esdk_kms.py decrypt JOB          # Python decrypts DIR/<case>.envelope.ct

Every boto3 client gets endpoint_url=ENDPOINT and dummy credentials; nothing leaves 127.0.0.1.
encrypt/decrypt print one line per case and ``N passed, M failed``; they exit 1 on a failure.
"""

import base64
import json
import logging
import os
import sys

import aws_encryption_sdk
import boto3
from aws_encryption_sdk.identifiers import AlgorithmSuite, CommitmentPolicy
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    AesWrappingAlg,
    CreateAwsKmsDiscoveryKeyringInput,
    CreateAwsKmsEcdhKeyringInput,
    CreateAwsKmsKeyringInput,
    CreateAwsKmsMrkDiscoveryKeyringInput,
    CreateAwsKmsMrkKeyringInput,
    CreateAwsKmsMrkMultiKeyringInput,
    CreateAwsKmsMultiKeyringInput,
    CreateAwsKmsRsaKeyringInput,
    CreateMultiKeyringInput,
    CreateRawAesKeyringInput,
    CreateRawEcdhKeyringInput,
    DiscoveryFilter,
    EphemeralPrivateKeyToStaticPublicKeyInput,
    KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey,
    KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery,
    KmsPrivateKeyToStaticPublicKeyInput,
    KmsPublicKeyDiscoveryInput,
    PublicKeyDiscoveryInput,
    RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey,
    RawEcdhStaticConfigurationsPublicKeyDiscovery,
    RawEcdhStaticConfigurationsRawPrivateKeyToStaticPublicKey,
    RawPrivateKeyToStaticPublicKeyInput,
)
from aws_cryptographic_material_providers.mpl.references import IClientSupplier
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ACCOUNT = "111122223333"
CURVES = {"ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1, "ECC_NIST_P521": ec.SECP521R1}


def kms_client(endpoint, region):
    return boto3.client(
        "kms",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


class EmulatorClientSupplier(IClientSupplier):
    """One boto3 KMS client per Region, all pointed at the emulator."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.clients = {}

    def get_client(self, param):
        return self.client_for(param.region)

    def client_for(self, region):
        if region not in self.clients:
            self.clients[region] = kms_client(self.endpoint, region)
        return self.clients[region]


def b64(data):
    return base64.b64encode(data).decode()


# ----------------------------------------------------------------------------------------------
# setup


def setup(endpoint, out):
    os.makedirs(out, exist_ok=True)
    east = kms_client(endpoint, "us-east-1")
    west = kms_client(endpoint, "us-west-2")
    key_a = east.create_key()["KeyMetadata"]["Arn"]
    key_b = west.create_key()["KeyMetadata"]["Arn"]
    mrk_east = east.create_key(MultiRegion=True)["KeyMetadata"]["Arn"]
    mrk_west = east.replicate_key(KeyId=mrk_east, ReplicaRegion="us-west-2")["ReplicaKeyMetadata"]["Arn"]
    rsa = east.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    rsa_public = east.get_public_key(KeyId=rsa)["PublicKey"]
    aes = {"type": "raw-aes", "namespace": "interop", "name": "aes-256", "key": b64(os.urandom(32))}
    discovery_filter = {"partition": "aws", "accounts": [ACCOUNT]}

    cases = []

    def case(name, suite, encrypt, decrypt, context=None):
        cases.append(
            {
                "name": name,
                "suite": suite,
                "context": {"purpose": "kms interop", "case": name} if context is None else context,
                "encrypt": encrypt,
                "decrypt": decrypt,
            }
        )

    strict_a = {"type": "kms", "key": key_a}
    for suite in AlgorithmSuite:
        case("strict-%04x" % suite.algorithm_id, suite.algorithm_id, strict_a, strict_a)
    case("strict-empty-context", 0x0578, strict_a, strict_a, context={})
    case(
        "discovery",
        0x0578,
        {"type": "kms", "key": key_b},
        {"type": "kms-discovery", "region": "us-west-2", "filter": discovery_filter},
    )
    case("discovery-no-filter", 0x0478, {"type": "kms", "key": key_b}, {"type": "kms-discovery", "region": "us-west-2"})
    case("mrk-replica", 0x0578, {"type": "kms-mrk", "key": mrk_east}, {"type": "kms-mrk", "key": mrk_west})
    case("mrk-replica-unsigned", 0x0178, {"type": "kms-mrk", "key": mrk_east}, {"type": "kms-mrk", "key": mrk_west})
    case(
        "mrk-discovery",
        0x0578,
        {"type": "kms-mrk", "key": mrk_east},
        {"type": "kms-mrk-discovery", "region": "us-west-2", "filter": discovery_filter},
    )
    case(
        "kms-multi",
        0x0578,
        {"type": "kms-multi", "generator": key_a, "keys": [key_b, mrk_east]},
        {"type": "kms", "key": key_b},
    )
    case(
        "kms-mrk-multi",
        0x0478,
        {"type": "kms-mrk-multi", "generator": mrk_east, "keys": [key_b]},
        {"type": "kms-mrk-multi", "generator": None, "keys": [mrk_west]},
    )
    case(
        "multi-raw-generator-kms-child",
        0x0578,
        {"type": "multi", "generator": aes, "children": [strict_a]},
        strict_a,
    )
    case(
        "multi-kms-generator-raw-child",
        0x0578,
        {"type": "multi", "generator": strict_a, "children": [aes]},
        aes,
    )
    case(
        "multi-reader-skips-foreign-edks",
        0x0478,
        {"type": "multi", "generator": aes, "children": [{"type": "kms", "key": key_b}]},
        {"type": "multi", "generator": None, "children": [strict_a, {"type": "kms-discovery", "region": "us-west-2"}]},
    )
    # The MPL's KMS keyrings UTF-8-decode and ARN-parse the provider info of every EDK before they
    # look at its provider id, so a raw AES EDK (binary IV in its provider info) makes them fail
    # (MPL 1.11.3, AwsKmsDiscoveryKeyring.dfy OnDecryptEncryptedDataKeyFilter). envelope reads it.
    cases[-1]["python_decrypt_skip"] = "MPL KMS keyrings fail on a raw AES EDK's non-UTF-8 provider info"
    for algorithm, suite in [("RSAES_OAEP_SHA_256", 0x0478), ("RSAES_OAEP_SHA_1", 0x0178), ("RSAES_OAEP_SHA_256", 0x0014)]:
        case(
            "kms-rsa-%s-%04x" % (algorithm.lower(), suite),
            suite,
            {"type": "kms-rsa", "key": rsa, "public_key": b64(rsa_public), "algorithm": algorithm},
            {"type": "kms-rsa", "key": rsa, "algorithm": algorithm},
        )

    for curve, curve_class in CURVES.items():
        spec = curve
        kms_ecc = east.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
        kms_ecc_public = east.get_public_key(KeyId=kms_ecc)["PublicKey"]
        sender = ec.generate_private_key(curve_class())
        recipient = ec.generate_private_key(curve_class())
        pem = lambda k: k.private_bytes(  # noqa: E731
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        der = lambda k: b64(  # noqa: E731
            k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        short = curve.lower().replace("ecc_nist_", "")
        case(
            "raw-ecdh-static-" + short,
            0x0578,
            {"type": "raw-ecdh", "scheme": "static", "curve": curve, "private_pem": pem(sender), "recipient_public_key": der(recipient)},
            {"type": "raw-ecdh", "scheme": "static", "curve": curve, "private_pem": pem(recipient), "recipient_public_key": der(sender)},
        )
        case(
            "raw-ecdh-ephemeral-discovery-" + short,
            0x0478,
            {"type": "raw-ecdh", "scheme": "ephemeral", "curve": curve, "recipient_public_key": der(recipient)},
            {"type": "raw-ecdh", "scheme": "discovery", "curve": curve, "private_pem": pem(recipient)},
        )
        case(
            "kms-ecdh-static-to-raw-" + short,
            0x0578,
            {"type": "kms-ecdh", "scheme": "static", "curve": curve, "key": kms_ecc, "recipient_public_key": der(recipient)},
            {"type": "raw-ecdh", "scheme": "discovery", "curve": curve, "private_pem": pem(recipient)},
        )
        case(
            "raw-ephemeral-to-kms-ecdh-discovery-" + short,
            0x0578,
            {"type": "raw-ecdh", "scheme": "ephemeral", "curve": curve, "recipient_public_key": b64(kms_ecc_public)},
            {"type": "kms-ecdh", "scheme": "discovery", "curve": curve, "key": kms_ecc},
        )
        case(
            "raw-static-to-kms-ecdh-static-" + short,
            0x0478,
            {"type": "raw-ecdh", "scheme": "static", "curve": curve, "private_pem": pem(sender), "recipient_public_key": b64(kms_ecc_public)},
            {"type": "kms-ecdh", "scheme": "static", "curve": curve, "key": kms_ecc, "recipient_public_key": der(sender)},
        )

    for index, c in enumerate(cases):
        # Sizes around frame boundaries and an empty message.
        size = [0, 1, 4095, 4096, 10000][index % 5]
        with open(os.path.join(out, c["name"] + ".pt"), "wb") as f:
            f.write(os.urandom(size))
    job = {"endpoint": endpoint, "dir": os.path.abspath(out), "cases": cases}
    with open(os.path.join(out, "job.json"), "w") as f:
        json.dump(job, f, indent=1)
    print("setup: %d cases, keys created at %s" % (len(cases), endpoint))


# ----------------------------------------------------------------------------------------------
# keyrings


class Keyrings:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
        self.supplier = EmulatorClientSupplier(endpoint)

    def client(self, region):
        return self.supplier.client_for(region)

    @staticmethod
    def region(arn):
        return arn.split(":")[3]

    @staticmethod
    def discovery_filter(spec):
        f = spec.get("filter")
        return None if f is None else DiscoveryFilter(account_ids=f["accounts"], partition=f["partition"])

    def build(self, spec):
        kind = spec["type"]
        if kind == "kms":
            return self.mpl.create_aws_kms_keyring(
                CreateAwsKmsKeyringInput(kms_key_id=spec["key"], kms_client=self.client(self.region(spec["key"])))
            )
        if kind == "kms-mrk":
            return self.mpl.create_aws_kms_mrk_keyring(
                CreateAwsKmsMrkKeyringInput(kms_key_id=spec["key"], kms_client=self.client(self.region(spec["key"])))
            )
        if kind == "kms-discovery":
            return self.mpl.create_aws_kms_discovery_keyring(
                CreateAwsKmsDiscoveryKeyringInput(
                    kms_client=self.client(spec["region"]), discovery_filter=self.discovery_filter(spec)
                )
            )
        if kind == "kms-mrk-discovery":
            return self.mpl.create_aws_kms_mrk_discovery_keyring(
                CreateAwsKmsMrkDiscoveryKeyringInput(
                    kms_client=self.client(spec["region"]),
                    region=spec["region"],
                    discovery_filter=self.discovery_filter(spec),
                )
            )
        if kind == "kms-multi":
            return self.mpl.create_aws_kms_multi_keyring(
                CreateAwsKmsMultiKeyringInput(
                    generator=spec.get("generator"), kms_key_ids=spec.get("keys") or None, client_supplier=self.supplier
                )
            )
        if kind == "kms-mrk-multi":
            return self.mpl.create_aws_kms_mrk_multi_keyring(
                CreateAwsKmsMrkMultiKeyringInput(
                    generator=spec.get("generator"), kms_key_ids=spec.get("keys") or None, client_supplier=self.supplier
                )
            )
        if kind == "raw-aes":
            return self.mpl.create_raw_aes_keyring(
                CreateRawAesKeyringInput(
                    key_namespace=spec["namespace"],
                    key_name=spec["name"],
                    wrapping_key=base64.b64decode(spec["key"]),
                    wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
                )
            )
        if kind == "multi":
            generator = None if spec.get("generator") is None else self.build(spec["generator"])
            children = [self.build(c) for c in spec.get("children", [])]
            return self.mpl.create_multi_keyring(CreateMultiKeyringInput(generator=generator, child_keyrings=children))
        if kind == "kms-rsa":
            public = spec.get("public_key")
            return self.mpl.create_aws_kms_rsa_keyring(
                CreateAwsKmsRsaKeyringInput(
                    kms_key_id=spec["key"],
                    encryption_algorithm=spec["algorithm"],
                    public_key=None if public is None else pem_public(base64.b64decode(public)),
                    kms_client=self.client(self.region(spec["key"])),
                )
            )
        if kind == "raw-ecdh":
            scheme = spec["scheme"]
            if scheme == "static":
                config = RawEcdhStaticConfigurationsRawPrivateKeyToStaticPublicKey(
                    RawPrivateKeyToStaticPublicKeyInput(
                        sender_static_private_key=spec["private_pem"].encode(),
                        recipient_public_key=base64.b64decode(spec["recipient_public_key"]),
                    )
                )
            elif scheme == "ephemeral":
                config = RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey(
                    EphemeralPrivateKeyToStaticPublicKeyInput(recipient_public_key=base64.b64decode(spec["recipient_public_key"]))
                )
            else:
                config = RawEcdhStaticConfigurationsPublicKeyDiscovery(
                    PublicKeyDiscoveryInput(recipient_static_private_key=spec["private_pem"].encode())
                )
            return self.mpl.create_raw_ecdh_keyring(CreateRawEcdhKeyringInput(key_agreement_scheme=config, curve_spec=spec["curve"]))
        if kind == "kms-ecdh":
            if spec["scheme"] == "static":
                config = KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey(
                    KmsPrivateKeyToStaticPublicKeyInput(
                        sender_kms_identifier=spec["key"],
                        recipient_public_key=base64.b64decode(spec["recipient_public_key"]),
                    )
                )
            else:
                config = KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery(
                    KmsPublicKeyDiscoveryInput(recipient_kms_identifier=spec["key"])
                )
            return self.mpl.create_aws_kms_ecdh_keyring(
                CreateAwsKmsEcdhKeyringInput(
                    key_agreement_scheme=config,
                    curve_spec=spec["curve"],
                    kms_client=self.client(self.region(spec["key"])),
                )
            )
        raise ValueError("unknown keyring type %r" % kind)


def pem_public(der):
    """The MPL's KMS RSA keyring takes a PEM public key."""
    key = serialization.load_der_public_key(der)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def suite_of(case):
    return AlgorithmSuite.get_by_id(case["suite"])


def run(mode, job_path):
    with open(job_path) as f:
        job = json.load(f)
    keyrings = Keyrings(job["endpoint"])
    passed = failed = skipped = 0
    for case in job["cases"]:
        name = case["name"]
        if mode == "decrypt" and case.get("python_decrypt_skip"):
            skipped += 1
            print("skip %s: %s" % (name, case["python_decrypt_skip"]))
            continue
        path = lambda suffix: os.path.join(job["dir"], name + suffix)  # noqa: E731
        try:
            with open(path(".pt"), "rb") as f:
                plaintext = f.read()
            suite = suite_of(case)
            if mode == "encrypt":
                policy = (
                    CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
                    if suite.is_committing()
                    else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
                )
                client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
                ciphertext, _ = client.encrypt(
                    source=plaintext,
                    keyring=keyrings.build(case["encrypt"]),
                    encryption_context=case["context"],
                    algorithm=suite,
                )
                with open(path(".python.ct"), "wb") as f:
                    f.write(ciphertext)
            else:
                client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
                with open(path(".envelope.ct"), "rb") as f:
                    ciphertext = f.read()
                decrypted, header = client.decrypt(source=ciphertext, keyring=keyrings.build(case["decrypt"]))
                if decrypted != plaintext:
                    raise AssertionError("plaintext differs")
                for key, value in case["context"].items():
                    if header.encryption_context.get(key) != value:
                        raise AssertionError("encryption context %r differs" % key)
            passed += 1
            print("ok   " + name)
        except Exception as error:  # noqa: BLE001 -- report every case
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(error).__name__, error))
    print("python %s: %d passed, %d failed, %d skipped" % (mode, passed, failed, skipped))
    return 0 if failed == 0 else 1


def main(argv):
    logging.basicConfig(level=logging.ERROR)
    if len(argv) == 4 and argv[1] == "setup":
        setup(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] in ("encrypt", "decrypt"):
        return run(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
