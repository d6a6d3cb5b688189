#!/usr/bin/env bash
# Live interop between envelope-dbe (`envelope db ... --dynamodb`) and the official Rust DB-ESDK
# (`dbe-peer`, aws-db-esdk) over one DynamoDB table in moto[server], with the hierarchical keyring
# on a branch key of the official key store (in moto too) protected by a key of `envelope kms
# serve`. Everything listens on 127.0.0.1; temporary files in a mktemp directory; servers stopped
# on exit.
#
#   crates/dbe-peer/run-interop.sh ENVELOPE_BIN DBE_PEER_BIN
#
# ENVELOPE_MOTO_PYTHON: a Python with moto[server] (default python3). For each suite (0x6700,
# 0x6701), on the table `dbe-peer table-config` defines (2 standard beacons, 1 compound beacon):
#   1. the peer writes 6 items; envelope gets each (equal to the plaintext) and queries them by
#      each beacon (Email, Ssn, compound EmailDate): exactly the expected items;
#   2. envelope writes 6 items with the same values under other ids; the peer gets each and runs
#      the same queries, which now return both writers' items; envelope's queries too;
#   3. the stored items of both writers: the same `aws_dbe_b_*` attributes with equal values for
#      the same plaintext, the same attribute names, and no `aws_dbe_v_1` (the DB-ESDK stores no
#      version tag and refuses an item whose header signs one);
#   4. envelope writes 6 more items (ids s-N) into a SQLite table (`envelope db put --db`), each
#      row exported as DynamoDB JSON (`envelope db get --stored`) is put into the DynamoDB table
#      as it is (put_raw.py, boto3 without any DB-ESDK); the peer gets each and finds them by
#      each beacon.
# Exit status 0 when every check passed; the last line says how many ran.
set -euo pipefail

envelope="${1:?usage: run-interop.sh ENVELOPE_BIN DBE_PEER_BIN}"
peer="${2:?usage: run-interop.sh ENVELOPE_BIN DBE_PEER_BIN}"
python="${ENVELOPE_MOTO_PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/dbe-peer-interop.XXXXXX")"
# shellcheck source=lib.sh
source "$here/lib.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
start_servers

checks=0
pass() { checks=$((checks + 1)); }

# same_items A B: the two files hold the same items (one DynamoDB JSON object a line, any order).
same_items() {
  python3 "$here/interop_check.py" same "$1" "$2" || die "items differ: $1 vs $2"
  pass
}

# The items: ids p-N (written by the peer) and e-N (by envelope), the same values otherwise.
python3 "$here/interop_check.py" items p >"$work/peer-items.json"
python3 "$here/interop_check.py" items e >"$work/envelope-items.json"
python3 "$here/interop_check.py" items s >"$work/sqlite-items.json"

# query_expect WRITERS NAME VALUE: the expected answer of NAME = VALUE over the writers' items.
query_expect() {
  python3 "$here/interop_check.py" expect "$1" "$2" "$3"
}
# Conditions queried: each beacon, one value matching several items.
conditions=("Email=ana@example.com" "Ssn=123-45-0003" "EmailDate=D-2026-12-01#E-ana@example.com" "Email=none@example.com")

# queries_match WRITERS READER...: for each condition, each READER (envelope, peer) answers with
# exactly the expected items among the WRITERS' (p, e, s) items, on the current suite's table.
queries_match() {
  local writers="$1" condition reader
  shift
  for condition in "${conditions[@]}"; do
    query_expect "$writers" "${condition%%=*}" "${condition#*=}" >"$work/want"
    for reader in "$@"; do
      case "$reader" in
        envelope) "$envelope" db query "${db[@]}" --eq "$condition" >"$work/got" ;;
        peer) "$peer" query "${peer_keys[@]}" --table "$table" --eq "$condition" >"$work/got" ;;
      esac
      same_items "$work/got" "$work/want"
    done
  done
}

for suite in 0x6700 0x6701; do
  table="Items_${suite}"
  config="$work/config-$suite.json"
  "$peer" create-table --table "$table"
  "$peer" table-config --table "$table" --branch-key-id "$branch_key" --suite "$suite" >"$config"
  db=(--dynamodb "$table" --table-config "$config" "${env_keys[@]}")

  log "$suite: the peer writes, envelope reads and queries"
  "$peer" put "${peer_keys[@]}" --table "$table" --suite "$suite" -i "$work/peer-items.json"
  for id in p-1 p-2 p-3 p-4 p-5 p-6; do
    "$envelope" db get "${db[@]}" --key "Id=$id" >"$work/got"
    python3 "$here/interop_check.py" pick "$work/peer-items.json" "$id" >"$work/want"
    same_items "$work/got" "$work/want"
  done
  queries_match p envelope

  log "$suite: envelope writes, the peer reads and queries"
  "$envelope" db put "${db[@]}" -i "$work/envelope-items.json"
  for id in e-1 e-2 e-3 e-4 e-5 e-6; do
    "$peer" get "${peer_keys[@]}" --table "$table" --id "$id" >"$work/got"
    python3 "$here/interop_check.py" pick "$work/envelope-items.json" "$id" >"$work/want"
    same_items "$work/got" "$work/want"
  done
  queries_match pe peer envelope

  log "$suite: beacons written by both for the same plaintext"
  for n in 1 2 3 4 5 6; do
    "$peer" get "${peer_keys[@]}" --table "$table" --id "p-$n" --stored >"$work/stored-peer"
    "$envelope" db get "${db[@]}" --key "Id=e-$n" --stored >"$work/stored-envelope"
    python3 "$here/interop_check.py" beacons "$work/stored-peer" "$work/stored-envelope" \
      || die "$suite: beacons of p-$n and e-$n differ"
    pass
  done

  log "$suite: envelope's SQLite rows, exported as DynamoDB JSON, read and queried by the peer"
  sqlite=(--db "$work/items-$suite.sqlite" --table-config "$config" "${env_keys[@]}")
  "$envelope" db put "${sqlite[@]}" -i "$work/sqlite-items.json"
  for id in s-1 s-2 s-3 s-4 s-5 s-6; do
    "$envelope" db get "${sqlite[@]}" --key "Id=$id" --stored >"$work/row"
    # The row as it is, beacons included, into DynamoDB without any DB-ESDK in between.
    "$python" "$here/put_raw.py" "$table" "$work/row"
    "$peer" get "${peer_keys[@]}" --table "$table" --id "$id" >"$work/got"
    python3 "$here/interop_check.py" pick "$work/sqlite-items.json" "$id" >"$work/want"
    same_items "$work/got" "$work/want"
  done
  queries_match pes peer
done

log "$checks checks passed"
echo "$checks passed, 0 failed"
