#!/usr/bin/env bash
# Runs envelope and its peers on this machine in one run, one after the other, with the same
# contract (`--suite HEX --size BYTES --frame-length N [--iterations N] --json`, raw AES-256 key,
# one-shot encrypt and decrypt, one message at a time), and prints a Markdown table.
#
#   benches/peers/compare.sh [--quick] [--out FILE] [--no-build] [--no-stream]
#
#   --quick      fixed, small iteration counts instead of ~2 s per direction
#   --out FILE   also write every raw JSON line (one per run, with the load average) to FILE
#   --no-build   use the binaries already built in $CARGO_TARGET_DIR/release
#   --no-stream  skip the 1 GiB streaming-memory scenario
#
# Peers: envelope (crates/cli, `envelope speed`), the official Rust SDK aws-esdk 1.2.4
# (crates/peer-bench, binary peer-bench) and the Python SDK 4.x (python_speed.py), the latter both
# with the Material Providers raw AES keyring and with its older RawMasterKeyProvider path.
# Builds use CARGO_TARGET_DIR (default: <repo>/target) under `nice -n 19`; ENVELOPE_BIN or
# PEER_BENCH_BIN name an already built binary instead (that build is then skipped). The Python SDK
# goes into benches/peers/.venv from requirements.txt (created once; PYTHON picks the interpreter).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
FRAME_LENGTH="${FRAME_LENGTH:-4096}"
QUICK=0 OUT="" BUILD=1 STREAM=1

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="${2:?--out needs a file}"; shift ;;
    --out=*) OUT="${1#--out=}" ;;
    --no-build) BUILD=0 ;;
    --no-stream) STREAM=0 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done

die() { echo "compare.sh: $*" >&2; exit 1; }
note() { echo "compare.sh: $*" >&2; }

# --- builds ------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ] && [ -z "${ENVELOPE_BIN:-}" ]; then
  note "building envelope-cli (release) into $TARGET"
  (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" nice -n 19 cargo build --release --quiet -p envelope-cli) \
    || die "envelope-cli did not build"
fi
if [ "$BUILD" = 1 ] && [ -z "${PEER_BENCH_BIN:-}" ]; then
  note "building envelope-peer-bench (release; aws-esdk 1.2.4; the first build takes long)"
  (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" nice -n 19 cargo build --release --quiet -p envelope-peer-bench) \
    || note "peer-bench did not build; aws-esdk rows will say so"
fi
ENVELOPE="${ENVELOPE_BIN:-$TARGET/release/envelope}"
PEER="${PEER_BENCH_BIN:-$TARGET/release/peer-bench}"
[ -x "$ENVELOPE" ] || die "no envelope binary at $ENVELOPE"

# --- Python SDK in a venv ----------------------------------------------------------------------
VENV="$HERE/.venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import aws_encryption_sdk, aws_cryptographic_material_providers' 2>/dev/null; then
  note "creating $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create a venv with $PYTHON"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" || die "pip install failed"
fi
PY="$VENV/bin/python"

# --- runs --------------------------------------------------------------------------------------
RAW="$(mktemp)"
trap 'rm -f "$RAW"' EXIT

# record NAME COMMAND...: runs one measurement and appends one JSON line to $RAW.
record() {
  local name="$1"; shift
  local load out err status
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  err="$(mktemp)"
  out="$(timeout 1200 "$@" 2>"$err")"; status=$?
  "$PY" - "$name" "$load" "$status" "$out" "$(tail -c 400 "$err")" >>"$RAW" <<'PYEOF'
import json, sys
name, load, status, out, err = sys.argv[1:]
line = out.strip().splitlines()[-1] if out.strip() else ""
try:
    record = json.loads(line)
except ValueError:
    record = {"failed": f"exit {status}: {err.strip() or line or 'no output'}"}
if status not in ("0", "2") and "failed" not in record:
    record["failed"] = f"exit {status}: {err.strip()}"
record = {"peer": name, "loadavg": load, **record}
print(json.dumps(record))
PYEOF
  rm -f "$err"
  tail -n 1 "$RAW" >&2
}

iterations_for() { # size in bytes -> --iterations for --quick
  if [ "$QUICK" = 0 ]; then return; fi
  if [ "$1" -le 65536 ]; then echo "--iterations 300"
  elif [ "$1" -le 16777216 ]; then echo "--iterations 10"
  else echo "--iterations 1"; fi
}

SCENARIOS=("0478 1048576" "0578 104857600" "0478 1024" "0578 1024" "0578 1048576")
note "load average before: $(cat /proc/loadavg)"
for scenario in "${SCENARIOS[@]}"; do
  set -- $scenario
  suite="$1" size="$2"
  common=(--suite "$suite" --size "$size" --frame-length "$FRAME_LENGTH" $(iterations_for "$size") --json)
  note "scenario 0x$suite, $size bytes"
  record envelope "$ENVELOPE" speed "${common[@]}"
  if [ -x "$PEER" ]; then
    record aws-esdk "$PEER" "${common[@]}"
  else
    echo "{\"peer\":\"aws-esdk\",\"suite\":\"0x$suite\",\"size\":$size,\"failed\":\"peer-bench not built\"}" >>"$RAW"
  fi
  record python-keyring "$PY" "$HERE/python_speed.py" "${common[@]}"
  record python-masterkey "$PY" "$HERE/python_speed.py" "${common[@]}" --master-key
done

# --- 1 GiB streaming memory (envelope only) ----------------------------------------------------
if [ "$STREAM" = 1 ]; then
  if [ -f "$ROOT/examples/stream_memory.rs" ]; then
    if (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" nice -n 19 cargo build --release --quiet --example stream_memory); then
      record envelope-stream "$TARGET/release/examples/stream_memory" 1024 0578
    else
      note "the stream_memory example did not build; streaming scenario skipped"
    fi
  else
    note "no examples/stream_memory.rs in the root crate; streaming scenario skipped"
  fi
fi
note "load average after: $(cat /proc/loadavg)"

[ -n "$OUT" ] && cp "$RAW" "$OUT"

# --- table -------------------------------------------------------------------------------------
"$PY" - "$RAW" "$QUICK" <<'PYEOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
quick = sys.argv[2] == "1"

def size_text(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"

def num(value, digits=1):
    return f"{value:,.{digits}f}"

names = {
    "envelope": "envelope",
    "aws-esdk": "aws-esdk 1.2.4 (Rust)",
    "python-keyring": "Python ESDK 4.0.7, MPL raw AES keyring",
    "python-masterkey": "Python ESDK 4.0.7, RawMasterKeyProvider",
}
print("| suite | size | implementation | encrypt MB/s | decrypt MB/s | encrypt msg/s | decrypt msg/s | envelope/peer encrypt | envelope/peer decrypt | load avg (1/5/15 min) |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
scenarios = []
for row in rows:
    if row["peer"] == "envelope-stream":
        continue
    key = (row.get("suite"), row.get("size"))
    if key not in scenarios:
        scenarios.append(key)
for suite, size in scenarios:
    group = [r for r in rows if (r.get("suite"), r.get("size")) == (suite, size) and r["peer"] != "envelope-stream"]
    base = next((r for r in group if r["peer"] == "envelope" and "encrypt_mb_per_s" in r), None)
    for r in group:
        cells = [suite, size_text(size) if size else "?", names.get(r["peer"], r["peer"])]
        if "encrypt_mb_per_s" in r:
            cells += [num(r["encrypt_mb_per_s"]), num(r["decrypt_mb_per_s"]), num(r["encrypt_ops_per_s"]), num(r["decrypt_ops_per_s"])]
            if base is not None and r is not base:
                cells += [f"{base['encrypt_mb_per_s'] / r['encrypt_mb_per_s']:.2f}×", f"{base['decrypt_mb_per_s'] / r['decrypt_mb_per_s']:.2f}×"]
            else:
                cells += ["—", "—"]
        else:
            reason = ("refused: " + r["refused"]) if "refused" in r else ("failed: " + r.get("failed", "?"))
            reason = reason.replace("|", "/").replace("\n", " ")[:160]
            cells += [reason, "", "", "", "", ""]
        cells.append(r.get("loadavg", ""))
        print("| " + " | ".join(cells) + " |")
stream = [r for r in rows if r["peer"] == "envelope-stream"]
for r in stream:
    print()
    if "mb_per_s" in r:
        print(f"Streaming (envelope only, encrypting writer piped into decrypting reader): suite {r['suite']}, "
              f"{size_text(r['bytes'])}, {num(r['mb_per_s'])} MB/s, peak RSS {num(r['peak_rss_mib'])} MiB "
              f"(load avg {r['loadavg']}).")
    else:
        print(f"Streaming scenario failed: {r.get('failed', '?')}")
print()
print(f"Mode: {'--quick (fixed iteration counts)' if quick else 'about 2 s per direction'}; frame length per row as run; "
      "ratios are envelope MB/s over the peer's (same size, so also the ratio of messages/s).")
PYEOF
