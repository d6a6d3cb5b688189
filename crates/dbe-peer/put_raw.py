"""put_raw.py TABLE ITEM.json: puts one item, given in DynamoDB JSON (binary values base64, as
`envelope db get --stored` prints them), into DynamoDB TABLE as it is, with boto3 (run-interop.sh
runs it with the moto[server] Python, which has boto3; endpoint and credentials from the AWS
variables lib.sh sets)."""

import base64
import json
import os
import sys

import boto3


def wire(value):
    """DynamoDB JSON (base64 text for binaries) → what boto3's low-level client takes (bytes)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "L":
        return {"L": [wire(v) for v in inner]}
    if kind == "M":
        return {"M": {k: wire(v) for k, v in inner.items()}}
    return {kind: inner}


def main():
    table, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        item = json.loads(f.read())
    # Explicit: botocore reads AWS_DEFAULT_REGION, not AWS_REGION, and older versions ignore
    # AWS_ENDPOINT_URL_DYNAMODB.
    client = boto3.client(
        "dynamodb", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    )
    client.put_item(TableName=table, Item={k: wire(v) for k, v in item.items()})


if __name__ == "__main__":
    main()
