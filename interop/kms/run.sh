#!/usr/bin/env bash
# KMS interop through the bundled emulator: the official Python AWS Encryption SDK (with the
# Material Providers Library's KMS keyrings) against envelope's KMS keyrings, both directions.
#
#   interop/kms/run.sh ENVELOPE_BIN
#
# 1. starts `ENVELOPE_BIN kms serve --listen 127.0.0.1:0 --data-dir TMP` and reads its address
# 2. esdk_kms.py setup: boto3 creates the keys (symmetric in two Regions, a multi-Region key with a
#    us-west-2 replica, RSA_2048, ECC_NIST_P256/P384/P521 KEY_AGREEMENT) and writes job.json
# 3. Python encrypts every case; envelope (keyrings/examples/kms_interop.rs) decrypts
# 4. envelope encrypts every case; Python decrypts
# Exits 0 only when both directions pass every case. Last line: `kms interop: N passed, M failed`.
#
# Environment: KMS_INTEROP_OUT=DIR keeps the job, keys and ciphertexts (default: a temporary
# directory, removed on success); PYTHON=python3.11 picks the interpreter for a new venv;
# KMS_INTEROP_DRIVER=PATH uses a prebuilt kms_interop example (default: cargo builds it).
# Python: interop/kms/.venv if it exists, else interop/python/.venv (same pins: aws-encryption-sdk
# 4.0.7, MPL 1.11.3, boto3 1.44.8), else it creates interop/kms/.venv from
# interop/python/requirements.txt.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
START=$SECONDS

log() { printf '\n== %s\n' "$*"; }
die() { printf 'kms interop: %s\n' "$*" >&2; exit 2; }
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

[[ $# -ge 1 ]] || die "usage: interop/kms/run.sh ENVELOPE_BIN"
ENVELOPE="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[[ -x "$ENVELOPE" ]] || die "$ENVELOPE is not an executable"

# --- Python: our own venv, else the one of interop/python, else create ours --------------------
if [[ ! -x "$HERE/.venv/bin/python" && -x "$ROOT/interop/python/.venv/bin/python" ]]; then
  VENV="$ROOT/interop/python/.venv"
else
  VENV="$HERE/.venv"
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
    "$PY" -m venv "$VENV" || die "could not create a venv with $PY"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/interop/python/requirements.txt" \
      || die "pip install failed"
  fi
fi
"$VENV/bin/python" -c "import boto3, aws_encryption_sdk, aws_cryptographic_material_providers" \
  || die "$VENV lacks boto3 / aws-encryption-sdk / the MPL (see interop/python/requirements.txt)"

# --- envelope's driver -------------------------------------------------------------------------
if [[ -n "${KMS_INTEROP_DRIVER:-}" ]]; then
  DRIVER="$KMS_INTEROP_DRIVER"
else
  log "building the kms_interop example"
  (cd "$ROOT" && cargo build -q -p envelope-keyrings --example kms_interop) || die "cargo build failed"
  DRIVER="${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/kms_interop"
fi
[[ -x "$DRIVER" ]] || die "$DRIVER is not an executable"

# --- the emulator ------------------------------------------------------------------------------
OUT="${KMS_INTEROP_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/envelope-kms-interop.XXXXXX")}"
mkdir -p "$OUT/emulator"
SERVER_LOG="$OUT/emulator.log"
start_emulator "$ENVELOPE" "$OUT/emulator" "$SERVER_LOG"
log "emulator at $ENDPOINT"

# Nothing may reach AWS: no ambient credentials, profiles or endpoints.
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

PASSED=0
FAILED=0
SKIPPED=0
step() {  # step NAME COMMAND... : runs, tallies the "N passed, M failed" line
  local name="$1"; shift
  log "$name"
  local output status
  output="$("$@" 2>&1)"; status=$?
  printf '%s\n' "$output"
  local summary
  summary="$(printf '%s\n' "$output" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)"
  if [[ -z "$summary" ]]; then
    FAILED=$((FAILED + 1))
    printf '%s: no summary line (exit %s)\n' "$name" "$status"
    return
  fi
  PASSED=$((PASSED + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$summary")))
  FAILED=$((FAILED + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")))
  [[ "$summary" =~ ([0-9]+)\ skipped ]] && SKIPPED=$((SKIPPED + BASH_REMATCH[1]))
  [[ $status -eq 0 ]] || { [[ "$summary" == *" 0 failed"* ]] && FAILED=$((FAILED + 1)); }
}

log "setup: keys and cases (boto3)"
"$VENV/bin/python" "$HERE/esdk_kms.py" setup "$ENDPOINT" "$OUT" || die "setup failed"
step "Python encrypts" "$VENV/bin/python" "$HERE/esdk_kms.py" encrypt "$OUT/job.json"
step "envelope decrypts Python's messages" "$DRIVER" decrypt "$OUT/job.json"
step "envelope encrypts" "$DRIVER" encrypt "$OUT/job.json"
step "Python decrypts envelope's messages" "$VENV/bin/python" "$HERE/esdk_kms.py" decrypt "$OUT/job.json"

printf '\nkms interop: %d passed, %d failed, %d skipped (%ds)\n' "$PASSED" "$FAILED" "$SKIPPED" "$((SECONDS - START))"
if [[ $FAILED -eq 0 ]]; then
  [[ -n "${KMS_INTEROP_OUT:-}" ]] || rm -rf "$OUT"
  exit 0
fi
printf 'kept %s\n' "$OUT"
exit 1
