"""The official Python Material Providers Library's key store, driven by tests/mpl_interop.rs.

    python mpl_keystore.py create-store | create-key [ID k=v ...] | version-key ID
                         | get-active ID | get-version ID VERSION | get-beacon ID

Configuration from the environment: DDB_ENDPOINT, KMS_ENDPOINT (both http://127.0.0.1:PORT),
TABLE, LOGICAL_NAME, KMS_ARN. Prints one line of results; keys are printed as their SHA-256
(enough to compare with envelope, and no key material in test logs).
"""

import hashlib
import os
import sys

import boto3
from aws_cryptographic_material_providers.keystore import KeyStore
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig
from aws_cryptographic_material_providers.keystore.models import (
    CreateKeyInput,
    CreateKeyStoreInput,
    GetActiveBranchKeyInput,
    GetBeaconKeyInput,
    GetBranchKeyVersionInput,
    KMSConfigurationKmsKeyArn,
    VersionKeyInput,
)


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def main(argv):
    store = KeyStore(
        config=KeyStoreConfig(
            ddb_table_name=os.environ["TABLE"],
            kms_configuration=KMSConfigurationKmsKeyArn(os.environ["KMS_ARN"]),
            logical_key_store_name=os.environ["LOGICAL_NAME"],
            ddb_client=client("dynamodb", os.environ["DDB_ENDPOINT"]),
            kms_client=client("kms", os.environ["KMS_ENDPOINT"]),
        )
    )
    command, args = argv[0], argv[1:]
    digest = lambda key: hashlib.sha256(bytes(key)).hexdigest()
    if command == "create-store":
        print(store.create_key_store(CreateKeyStoreInput()).table_arn)
    elif command == "create-key":
        context = dict(pair.split("=", 1) for pair in args[1:]) if args else None
        print(store.create_key(CreateKeyInput(branch_key_identifier=args[0] if args else None,
                                              encryption_context=context)).branch_key_identifier)
    elif command == "version-key":
        store.version_key(VersionKeyInput(branch_key_identifier=args[0]))
        print("ok")
    elif command in ("get-active", "get-version"):
        if command == "get-active":
            m = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=args[0])).branch_key_materials
        else:
            m = store.get_branch_key_version(
                GetBranchKeyVersionInput(branch_key_identifier=args[0], branch_key_version=args[1])
            ).branch_key_materials
        context = ",".join("%s=%s" % kv for kv in sorted(m.encryption_context.items()))
        print(m.branch_key_version, digest(m.branch_key), context)
    elif command == "get-beacon":
        m = store.get_beacon_key(GetBeaconKeyInput(branch_key_identifier=args[0])).beacon_key_materials
        print(digest(m.beacon_key))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the test shows this line on failure
        print("error: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        sys.exit(1)
