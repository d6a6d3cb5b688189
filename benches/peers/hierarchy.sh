#!/usr/bin/env bash
# The hierarchical keyring, envelope against the official Rust SDK (aws-esdk 1.2.4), in one run on
# one machine: both read the SAME branch key from the SAME DynamoDB key store (moto_server on
# 127.0.0.1) under the SAME KMS key (`envelope kms serve` on 127.0.0.1), then encrypt and decrypt
# 1 KiB messages with suite 0x0478, one at a time, with a warm branch key cache (600 s TTL), and
# print encrypts/s, decrypts/s and the ratios. The raw AES keyring of both is measured in the same
# run as a yardstick.
#
#   benches/peers/hierarchy.sh [--no-build] [--size 1K] [--suite 0478]
#
# Needs moto[server] (pip): KMS_PY_VENV names a virtualenv that has it, or the script makes one.
# ENVELOPE_BIN / PEER_BENCH_BIN name already built binaries (default: $CARGO_TARGET_DIR/release).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
build=1 size=1K suite=0478
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --size) size="${2:?--size needs a value}"; shift ;;
    --suite) suite="${2:?--suite needs a value}"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "hierarchy.sh: unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
if [ "$build" = 1 ]; then
  (cd "$root" && CARGO_TARGET_DIR="$target" nice -n 19 cargo build --release --quiet -p envelope-cli -p envelope-peer-bench)
fi
envelope="${ENVELOPE_BIN:-$target/release/envelope}"
peer="${PEER_BENCH_BIN:-$target/release/peer-bench}"

work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# KMS: the emulator, permissive on loopback (this is a benchmark, not a deployment).
"$envelope" kms serve --listen 127.0.0.1:0 --data-dir "$work/kms" > "$work/serve.out" 2> "$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
kms_url="$(sed -n 's/^listening on //p' "$work/serve.out")"
[ -n "$kms_url" ] || { echo "hierarchy.sh: kms serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

# DynamoDB: moto_server.
venv="${KMS_PY_VENV:-$work/venv}"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/crates/keystore/tests/python/requirements.txt"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -s "http://127.0.0.1:$port/moto-api/" > /dev/null 2>&1 && break; sleep 0.1; done

export AWS_ENDPOINT_URL_KMS="$kms_url" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
kms_key="$("$envelope" kms create-key --kms aws --description hierarchy-bench | sed -n 's/^ *"Arn": "\(.*\)",*$/\1/p')"
[ -n "$kms_key" ] || { echo "hierarchy.sh: kms create-key failed" >&2; exit 1; }
table=envelope-hierarchy-bench
"$envelope" keystore create --store "dynamodb:$table" > /dev/null
branch_key_id="$("$envelope" keystore create-key --kms aws --store "dynamodb:$table" --kms-key "$kms_key" | tail -n 1)"
[ -n "$branch_key_id" ] || { echo "hierarchy.sh: keystore create-key failed" >&2; exit 1; }
echo "# $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); KMS $kms_url; DynamoDB :$port; branch key $branch_key_id"

json() { sed -n 's/.*"'"$1"'":\([0-9.]*\).*/\1/p'; }
declare -A enc dec
run() {
  local name="$1"; shift
  local line
  line="$("$@" --suite "$suite" --size "$size" --json | tail -n 1)"
  enc[$name]="$(json encrypt_ops_per_s <<<"$line")"
  dec[$name]="$(json decrypt_ops_per_s <<<"$line")"
  printf '%-28s %12s encrypts/s %12s decrypts/s\n' "$name" "${enc[$name]}" "${dec[$name]}"
}
hier=(--keyring hierarchy --branch-key-id "$branch_key_id" --kms-key "$kms_key")
run "envelope raw AES" "$envelope" speed
run "envelope hierarchy" "$envelope" speed --kms aws --store "dynamodb:$table" "${hier[@]}"
run "aws-esdk 1.2.4 raw AES" "$peer"
run "aws-esdk 1.2.4 hierarchy" "$peer" --table "$table" "${hier[@]}"
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "envelope/aws-esdk hierarchy: encrypt $(ratio "${enc[envelope hierarchy]}" "${enc[aws-esdk 1.2.4 hierarchy]}")x," \
  "decrypt $(ratio "${dec[envelope hierarchy]}" "${dec[aws-esdk 1.2.4 hierarchy]}")x (target >= 5x)"
echo "envelope raw AES/hierarchy: encrypt $(ratio "${enc[envelope raw AES]}" "${enc[envelope hierarchy]}")x," \
  "decrypt $(ratio "${dec[envelope raw AES]}" "${dec[envelope hierarchy]}")x (target <= 1.5x)"
