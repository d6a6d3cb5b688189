"""Drives the official Python S3 Encryption Client (amazon-s3-encryption-client-python) for
envelope's interop test, against a local S3 (moto) and KMS (envelope's emulator).

Protocol: one JSON request per stdin line, one JSON answer per stdout line:
  {"ok": true, ...} or {"ok": false, "error": "<exception type>: <message>"}.
Bodies travel base64-encoded. Operations:
  put / get            through S3EncryptionClient (KmsKeyring), with "policy", "context",
                       "format" ("v3" default or "v2"), "part_size" (put: multipart when set)
Each S3EncryptionClient gets a fresh boto3 S3 client: the encryption client hooks the events
of the client it wraps.
"""
import base64
import json
import sys

import boto3
from botocore.config import Config
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials import AlgorithmSuite, CommitmentPolicy, KmsKeyring

CREDENTIALS = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def s3_client(request):
    config = Config(s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=request["s3"], config=config, **CREDENTIALS)


def encryption_client(request):
    # The emulator scopes keys by access key id: sign as the test's own KMS client does.
    kms = boto3.client(
        "kms",
        endpoint_url=request["kms"],
        region_name="us-east-1",
        aws_access_key_id=request.get("kms_access_key", "testing"),
        aws_secret_access_key="testing",
    )
    v2 = request.get("format") == "v2"
    policy = request.get("policy") or (
        "FORBID_ENCRYPT_ALLOW_DECRYPT" if v2 else "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"
    )
    config = S3EncryptionClientConfig(
        keyring=KmsKeyring(kms_client=kms, kms_key_id=request["kms_key"]),
        encryption_algorithm=(
            AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
            if v2
            else AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
        ),
        commitment_policy=CommitmentPolicy[policy],
    )
    return S3EncryptionClient(wrapped_s3_client=s3_client(request), config=config)


def put(request):
    client = encryption_client(request)
    body = base64.b64decode(request["body"])
    extra = {"EncryptionContext": request["context"]} if request.get("context") is not None else {}
    part_size = request.get("part_size")
    if not part_size:
        client.put_object(Bucket=request["bucket"], Key=request["key"], Body=body, **extra)
        return {}
    upload = client.create_multipart_upload(Bucket=request["bucket"], Key=request["key"], **extra)
    parts = []
    chunks = [body[i : i + part_size] for i in range(0, len(body), part_size)] or [b""]
    for number, chunk in enumerate(chunks, start=1):
        answer = client.upload_part(
            Bucket=request["bucket"],
            Key=request["key"],
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=chunk,
            IsLastPart=number == len(chunks),
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(
        Bucket=request["bucket"],
        Key=request["key"],
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
    return {"parts": len(parts)}


def get(request):
    client = encryption_client(request)
    extra = {"EncryptionContext": request["context"]} if request.get("context") is not None else {}
    answer = client.get_object(Bucket=request["bucket"], Key=request["key"], **extra)
    return {"body": base64.b64encode(answer["Body"].read()).decode()}


OPERATIONS = {"put": put, "get": get}


def main():
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer = OPERATIONS[request["op"]](request)
            answer["ok"] = True
        except Exception as error:  # the test asserts on failures too
            answer = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
