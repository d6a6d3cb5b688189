#!/usr/bin/env bash
# Item encryption speed of envelope-dbe against the official aws-db-esdk, in one run: envelope's
# `dbe_bench --json` (its item phase) and `dbe-peer bench` on the same 10-attribute item (6
# encrypted, 2 standard beacons, 1 compound beacon), warm hierarchy caches, suites 0x6700 and
# 0x6701; then one ratio line per operation and suite.
#
#   crates/dbe-peer/compare-bench.sh ENVELOPE_BIN DBE_BENCH_BIN DBE_PEER_BIN [SECONDS]
#
# The peer's key store needs DynamoDB and KMS (moto[server] from ENVELOPE_MOTO_PYTHON and `envelope
# kms serve`, started here on 127.0.0.1 and stopped on exit); they serve the first, cache-warming
# call only. SECONDS (default 2) per timed loop. Output: JSON lines, the ratio lines last:
#   {"phase":"ratio","operation":"encrypt","suite":"0x6700","envelope":N,"aws_db_esdk":N,"ratio":R,"target":10,"met":true}
set -euo pipefail

envelope="${1:?usage: compare-bench.sh ENVELOPE_BIN DBE_BENCH_BIN DBE_PEER_BIN [SECONDS]}"
dbe_bench="${2:?usage: compare-bench.sh ENVELOPE_BIN DBE_BENCH_BIN DBE_PEER_BIN [SECONDS]}"
peer="${3:?usage: compare-bench.sh ENVELOPE_BIN DBE_BENCH_BIN DBE_PEER_BIN [SECONDS]}"
seconds="${4:-2}"
python="${ENVELOPE_MOTO_PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/dbe-peer-bench.XXXXXX")"
# shellcheck source=lib.sh
source "$here/lib.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
start_servers

# The SQLite phase is not compared: the smallest table keeps it short.
"$dbe_bench" --json --seconds "$seconds" --rows 1000 | grep -v '"phase":"sqlite_query"' | tee "$work/envelope.jsonl"
"$peer" bench "${peer_keys[@]}" --seconds "$seconds" | tee "$work/peer.jsonl"

python3 - "$work/envelope.jsonl" "$work/peer.jsonl" <<'EOF'
import json, sys

def rates(path):
    out = {}
    for line in open(path):
        row = json.loads(line)
        if row.get("phase") == "item":
            out[(row["operation"], row["suite"])] = row["items_per_second"]
    return out

ours, theirs = rates(sys.argv[1]), rates(sys.argv[2])
targets = {"0x6700": 10, "0x6701": 3}
for suite in ("0x6700", "0x6701"):
    for operation in ("encrypt", "decrypt"):
        a, b = ours[(operation, suite)], theirs[(operation, suite)]
        ratio = a / b
        print(json.dumps({"phase": "ratio", "operation": operation, "suite": suite, "envelope": a,
                          "aws_db_esdk": b, "ratio": round(ratio, 2), "target": targets[suite],
                          "met": ratio >= targets[suite]}))
EOF
