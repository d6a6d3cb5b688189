#!/usr/bin/env bash
# Load benchmark: envelope's emulator (strict mode: every SigV4 signature verified) and moto's
# server, driven the same way by the kms-load example over loopback, in one run.
#
#   crates/kms-local/benches/run-load.sh [seconds-per-cell] [concurrency-list]
#
# Needs moto[server] (pip); set KMS_PY_VENV to a virtualenv that has it, or the script makes one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
secs="${1:-5}"
conc="${2:-1,8,64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release -q -p envelope-cli --bin envelope --manifest-path "$root/Cargo.toml"
cargo build --release -q -p envelope-kms-local --example kms-load --manifest-path "$root/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/envelope"
load="$CARGO_TARGET_DIR/release/examples/kms-load"
work="$(mktemp -d)"
cleanup() { [[ -n "${srv:-}" ]] && kill "$srv" 2>/dev/null || true; [[ -n "${moto:-}" ]] && kill "$moto" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/creds.json" <<'JSON'
{"credentials": [{"access_key_id": "AKIDLOAD", "secret_access_key": "load-secret",
                  "principal": "arn:aws:iam::111122223333:user/load"}]}
JSON
"$bin" kms serve --listen 127.0.0.1:0 --data-dir "$work/data" --credentials "$work/creds.json" > "$work/serve.out" &
srv=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
echo "# envelope kms serve (strict mode, SigV4 verified) at $url; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$load" --endpoint "$url" --label envelope --seconds "$secs" --concurrency "$conc" --server-pid "$srv"
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=

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
"$load" --endpoint "http://127.0.0.1:$port" --label moto --seconds "$secs" --concurrency "$conc" --server-pid "$moto"
