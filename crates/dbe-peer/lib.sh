# Shared by run-interop.sh and compare-bench.sh (source it after setting `envelope`, `peer`,
# `python` and `work`, and an EXIT trap that runs `stop_servers`).
#
#   start_servers   moto[server] and `envelope kms serve` on 127.0.0.1:0, the AWS variables
#                   pointed at them, then a KMS key, the official key store table and a branch
#                   key made by the peer: sets kms_key, key_store, branch_key, peer_keys, env_keys

pids=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

log() { printf 'dbe-peer interop: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# wait_for_line FILE PREFIX PID: the rest of the first line of FILE starting with PREFIX (60 s).
wait_for_line() {
  local file="$1" prefix="$2" pid="$3" _
  for _ in $(seq 600); do
    if grep -q "^$prefix" "$file" 2>/dev/null; then
      sed -n "s/^$prefix//p" "$file" | head -n 1
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "a server exited"; }
    sleep 0.1
  done
  cat "$file" >&2
  die "no '$prefix' line after 60 s"
}

start_servers() {
  "$python" -c '
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print("listening on http://%s:%d" % (host, port), flush=True)
threading.Event().wait()
' >"$work/moto.out" 2>"$work/moto.err" &
  pids+=("$!")
  moto="$(wait_for_line "$work/moto.out" "listening on " "$!")"

  "$envelope" kms serve --listen 127.0.0.1:0 --data-dir "$work/kms" >"$work/kms.out" 2>"$work/kms.err" &
  pids+=("$!")
  kms="$(wait_for_line "$work/kms.out" "listening on " "$!")"
  [[ "$moto" == http://127.0.0.1:* && "$kms" == http://127.0.0.1:* ]] || die "servers not on 127.0.0.1"
  log "moto at $moto, KMS emulator at $kms"

  export AWS_ENDPOINT_URL_DYNAMODB="$moto" AWS_ENDPOINT_URL_KMS="$kms" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true ENVELOPE_KMS=aws
  unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN

  # Keys: the official key store creates its table and the branch key.
  kms_key="$("$peer" create-kms-key)"
  key_store=BranchKeys
  branch_key="$("$peer" create-branch-key --key-store "$key_store" --kms-key "$kms_key")"
  log "branch key $branch_key in key store $key_store (KMS key $kms_key)"
  peer_keys=(--key-store "$key_store" --kms-key "$kms_key" --branch-key-id "$branch_key")
  env_keys=(-w "branch-key-id=$branch_key" "kms-key=$kms_key" "key-store=dynamodb:$key_store")
}
