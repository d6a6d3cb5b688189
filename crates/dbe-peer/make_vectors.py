"""Assembles the vectors of items written by the official DB-ESDK (make-vectors.sh's last step;
standard library only).

  make_vectors.py OUT_DIR KEY_ENTRY ITEMS SUITE=CONFIG=STORED...

KEY_ENTRY: the `static-branch-key` entry `dbe-peer export-branch-key` printed. ITEMS: the
plaintext items (a JSON array). Each SUITE=CONFIG=STORED: a suite name, the table config
`dbe-peer table-config` printed for it, and the stored items the peer wrote (one DynamoDB JSON
object a line, as `dbe-peer get --stored` prints them). Writes OUT_DIR/manifest.json (an
`aws-dbesdk-decrypt` v1 manifest: a positive record per stored item, with the `search` extension
so the stored beacons are checked too, and negative records made by damaging one stored item of
each suite) and OUT_DIR/keys.json (the one key entry).
"""

import base64
import json
import os
import sys

KEY_NAME = "dbe-peer-branch-key"


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def flip_byte(b64, index):
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def damaged(stored, suite):
    """(description, item) pairs: one stored item changed so that it must not decrypt."""
    out = []
    item = json.loads(json.dumps(stored))
    item["Email"]["B"] = flip_byte(item["Email"]["B"], -1)
    out.append(("a bit of the encrypted Email flipped", item))
    item = json.loads(json.dumps(stored))
    item["Status"]["S"] = item["Status"]["S"] + "!"
    out.append(("the signed Status changed", item))
    item = json.loads(json.dumps(stored))
    del item["aws_dbe_foot"]
    out.append(("the footer removed", item))
    item = json.loads(json.dumps(stored))
    item["aws_dbe_head"]["B"] = flip_byte(item["aws_dbe_head"]["B"], 40)
    out.append(("a bit of the header flipped", item))
    if suite == "0x6701":
        item = json.loads(json.dumps(stored))
        item["aws_dbe_foot"]["B"] = flip_byte(item["aws_dbe_foot"]["B"], -1)
        out.append(("the last byte of the ECDSA signature flipped", item))
    return out


def main():
    out_dir, key_entry, items_path = sys.argv[1:4]
    with open(key_entry, encoding="utf-8") as f:
        key = json.load(f)
    with open(items_path, encoding="utf-8") as f:
        plaintext = {item["Id"]["S"]: item for item in json.load(f)}
    tests = {}
    for spec in sys.argv[4:]:
        suite, config_path, stored_path = spec.split("=", 2)
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        config["key"] = KEY_NAME
        stored = read_lines(stored_path)
        if len(stored) != len(plaintext):
            sys.exit("%s: %d stored items for %d plaintext items" % (stored_path, len(stored), len(plaintext)))
        for item in sorted(stored, key=lambda item: item["Id"]["S"]):
            item_id = item["Id"]["S"]
            tests["peer-%s-%s" % (suite, item_id)] = {
                "type": "positive-decrypt",
                "description": "written by aws-db-esdk 1.3.0 (suite %s), beacons checked" % suite,
                "config": config,
                "plaintext": plaintext[item_id],
                "encrypted": item,
            }
        first = min(stored, key=lambda item: item["Id"]["S"])
        for n, (description, item) in enumerate(damaged(first, suite), start=1):
            tests["peer-%s-damaged-%d" % (suite, n)] = {
                "type": "negative-decrypt",
                "description": "written by aws-db-esdk 1.3.0 (suite %s), then %s" % (suite, description),
                "config": config,
                "plaintext": plaintext[first["Id"]["S"]],
                "encrypted": item,
            }
    manifest = {
        "manifest": {"type": "aws-dbesdk-decrypt", "version": "1"},
        "client": {"name": "aws-db-esdk (Rust)", "version": "1.3.0"},
        "keys": "file://keys.json",
        "tests": tests,
    }
    keys = {"manifest": {"type": "keys", "version": 2}, "keys": {KEY_NAME: key}}
    os.makedirs(out_dir, exist_ok=True)
    for name, value in (("manifest.json", manifest), ("keys.json", keys)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
    print("%d records (%d negative) in %s" % (
        len(tests), sum(t["type"] == "negative-decrypt" for t in tests.values()), out_dir))


if __name__ == "__main__":
    main()
