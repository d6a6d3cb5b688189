#!/usr/bin/env bash
# Load benchmark: envelope's emulator (strict mode: every SigV4 signature verified) and moto's
# server, driven the same way by the kms-load example over loopback, in one run.
#
#   crates/kms-local/benches/run-load.sh [seconds-per-cell] [concurrency-list] [client-list]
#
# client-list (default sdk,raw): `sdk` drives the emulator with aws-sdk-kms, `raw` with kms-load's
# minimal client (the same SigV4-signed requests over kept-alive connections, a fraction of the
# SDK's CPU per request; see examples/kms-load/raw.rs). moto is driven with the SDK client.
# Needs moto[server] (pip); set KMS_PY_VENV to a virtualenv that has it, or the script makes one.
# KMS_LOAD_MOTO=0 skips moto (see below for KMS_LOAD_PROFILE and KMS_LOAD_NO_BUILD). KMS_LOAD_OPS (default Encrypt,Decrypt,GenerateDataKey) picks operations.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
secs="${1:-5}"
conc="${2:-1,8,64}"
clients="${3:-sdk,raw}"
ops="${KMS_LOAD_OPS:-Encrypt,Decrypt,GenerateDataKey}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# KMS_LOAD_PROFILE=profiling uses that cargo profile (release plus line tables, for perf);
# KMS_LOAD_NO_BUILD=1 runs binaries already built (no compiler beside the measurement);
# KMS_LOAD_SERVER=example serves with examples/kms-serve.rs (the same emulator and runtime as
# `envelope kms serve`, without building the whole CLI) instead of the `envelope` binary.
profile="${KMS_LOAD_PROFILE:-release}"
if [[ "${KMS_LOAD_SERVER:-cli}" == example ]]; then
  examples=(--example kms-load --example kms-serve)
  serve=("$CARGO_TARGET_DIR/$profile/examples/kms-serve")
else
  examples=(--example kms-load)
  serve=("$CARGO_TARGET_DIR/$profile/envelope" kms serve)
fi
if [[ "${KMS_LOAD_NO_BUILD:-0}" != 1 ]]; then
  [[ "${KMS_LOAD_SERVER:-cli}" == example ]] ||
    cargo build --profile "$profile" -q -p envelope-cli --bin envelope --manifest-path "$root/Cargo.toml"
  cargo build --profile "$profile" -q -p envelope-kms-local "${examples[@]}" --manifest-path "$root/Cargo.toml"
fi
load="$CARGO_TARGET_DIR/$profile/examples/kms-load"
work="$(mktemp -d)"
cleanup() { [[ -n "${srv:-}" ]] && kill "$srv" 2>/dev/null || true; [[ -n "${moto:-}" ]] && kill "$moto" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/creds.json" <<'JSON'
{"credentials": [{"access_key_id": "AKIDLOAD", "secret_access_key": "load-secret",
                  "principal": "arn:aws:iam::111122223333:user/load"}]}
JSON
"${serve[@]}" --listen 127.0.0.1:0 --data-dir "$work/data" --credentials "$work/creds.json" > "$work/serve.out" &
srv=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
echo "# ${serve[*]##*/} (strict mode, SigV4 verified) at $url; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for client in ${clients//,/ }; do
  "$load" --endpoint "$url" --label envelope --client "$client" --ops "$ops" --seconds "$secs" \
    --concurrency "$conc" --server-pid "$srv"
done
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=
[[ "${KMS_LOAD_MOTO:-1}" == 0 ]] && exit 0

venv="${KMS_PY_VENV:-$work/venv}"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/moto-api/" > /dev/null 2>&1 && break; sleep 0.1; done
echo "# moto_server at http://127.0.0.1:$port (same client, same machine)"
"$load" --endpoint "http://127.0.0.1:$port" --label moto --client sdk --ops "$ops" --seconds "$secs" \
  --concurrency "$conc" --server-pid "$moto"
