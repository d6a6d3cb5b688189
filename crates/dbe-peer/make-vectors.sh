#!/usr/bin/env bash
# Writes decrypt vectors of items written by the official Rust DB-ESDK (aws-db-esdk), so that CI
# checks envelope reads them without building the peer (its build takes long). Starts moto[server]
# and `envelope kms serve` on 127.0.0.1 (lib.sh), makes a branch key with the official key store,
# then for each suite the peer writes the interop items (interop_check.py items p) with its
# beacons, and `dbe-peer get --stored` reads back what it stored. The branch key and beacon key,
# unwrapped by the official key store (`dbe-peer export-branch-key`), become a `static-branch-key`
# entry of the vectors' keys file: the vectors decrypt offline.
#
#   crates/dbe-peer/make-vectors.sh ENVELOPE_BIN DBE_PEER_BIN OUT_DIR   (e.g. test-vectors/dbe-peer)
set -euo pipefail

envelope="${1:?usage: make-vectors.sh ENVELOPE_BIN DBE_PEER_BIN OUT_DIR}"
peer="${2:?usage: make-vectors.sh ENVELOPE_BIN DBE_PEER_BIN OUT_DIR}"
out="${3:?usage: make-vectors.sh ENVELOPE_BIN DBE_PEER_BIN OUT_DIR}"
python="${ENVELOPE_MOTO_PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/dbe-peer-vectors.XXXXXX")"
# shellcheck source=lib.sh
source "$here/lib.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
start_servers

"$peer" export-branch-key "${peer_keys[@]}" >"$work/key.json"
python3 "$here/interop_check.py" items p >"$work/items.json"
ids=$(python3 -c 'import json,sys; print(" ".join(i["Id"]["S"] for i in json.load(open(sys.argv[1]))))' "$work/items.json")

specs=()
for suite in 0x6700 0x6701; do
  table="PeerItems_${suite}"
  "$peer" create-table --table "$table"
  "$peer" table-config --table "$table" --branch-key-id "$branch_key" --suite "$suite" >"$work/config-$suite.json"
  "$peer" put "${peer_keys[@]}" --table "$table" --suite "$suite" -i "$work/items.json"
  : >"$work/stored-$suite.jsonl"
  for id in $ids; do
    "$peer" get "${peer_keys[@]}" --table "$table" --id "$id" --stored >>"$work/stored-$suite.jsonl"
  done
  specs+=("$suite=$work/config-$suite.json=$work/stored-$suite.jsonl")
done
python3 "$here/make_vectors.py" "$out" "$work/key.json" "$work/items.json" "${specs[@]}"
