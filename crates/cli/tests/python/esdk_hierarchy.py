"""The official Python AWS Encryption SDK with the Material Providers Library's hierarchical keyring,
driven by tests/hierarchy_interop.rs against envelope's CLI on one DynamoDB table.

    python esdk_hierarchy.py create-store | create-key ID k=v ... | version-key ID | active-version ID
                           | encrypt ID IN OUT [k=v ...] | decrypt ID IN OUT [k=v ...]
                           | tamper-item ID TYPE

Configuration from the environment: DDB_ENDPOINT, KMS_ENDPOINT (both http://127.0.0.1:PORT),
TABLE, LOGICAL_NAME, KMS_ARN. Prints one line of results. `decrypt` checks that the message's
encryption context holds the given pairs. `tamper-item` rewrites one attribute of a key-store item
(its create-time), as an attacker with write access to the table could.
"""

import os
import sys

import aws_encryption_sdk
import boto3
from aws_cryptographic_material_providers.keystore import KeyStore
from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig
from aws_cryptographic_material_providers.keystore.models import (
    CreateKeyInput,
    CreateKeyStoreInput,
    GetActiveBranchKeyInput,
    KMSConfigurationKmsKeyArn,
    VersionKeyInput,
)
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsHierarchicalKeyringInput
from aws_encryption_sdk import CommitmentPolicy


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def pairs(words):
    return dict(word.split("=", 1) for word in words)


def main(argv):
    ddb = client("dynamodb", os.environ["DDB_ENDPOINT"])
    store = KeyStore(
        config=KeyStoreConfig(
            ddb_table_name=os.environ["TABLE"],
            kms_configuration=KMSConfigurationKmsKeyArn(os.environ["KMS_ARN"]),
            logical_key_store_name=os.environ["LOGICAL_NAME"],
            ddb_client=ddb,
            kms_client=client("kms", os.environ["KMS_ENDPOINT"]),
        )
    )
    command, args = argv[0], argv[1:]
    if command == "create-store":
        print(store.create_key_store(CreateKeyStoreInput()).table_arn)
    elif command == "create-key":
        created = store.create_key(
            CreateKeyInput(branch_key_identifier=args[0], encryption_context=pairs(args[1:]))
        )
        print(created.branch_key_identifier)
    elif command == "version-key":
        store.version_key(VersionKeyInput(branch_key_identifier=args[0]))
        print("ok")
    elif command == "active-version":
        active = store.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=args[0]))
        print(active.branch_key_materials.branch_key_version)
    elif command in ("encrypt", "decrypt"):
        branch_key_id, source, target, context = args[0], args[1], args[2], pairs(args[3:])
        providers = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
        keyring = providers.create_aws_kms_hierarchical_keyring(
            input=CreateAwsKmsHierarchicalKeyringInput(key_store=store, branch_key_id=branch_key_id, ttl_seconds=600)
        )
        sdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
        with open(source, "rb") as f:
            data = f.read()
        if command == "encrypt":
            output, _ = sdk.encrypt(source=data, keyring=keyring, encryption_context=context)
        else:
            output, header = sdk.decrypt(source=data, keyring=keyring)
            for key, value in context.items():
                if header.encryption_context.get(key) != value:
                    raise SystemExit("the message's encryption context lacks %s=%s" % (key, value))
        with open(target, "wb") as f:
            f.write(output)
        print("ok")
    elif command == "tamper-item":
        ddb.update_item(
            TableName=os.environ["TABLE"],
            Key={"branch-key-id": {"S": args[0]}, "type": {"S": args[1]}},
            UpdateExpression="SET #t = :t",
            ExpressionAttributeNames={"#t": "create-time"},
            ExpressionAttributeValues={":t": {"S": "2001-01-01T00:00:00.000000Z"}},
        )
        print("ok")
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the test shows this line on failure
        print("error: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        sys.exit(1)
