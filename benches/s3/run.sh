#!/usr/bin/env bash
# envelope's S3 client against plain aws-sdk-s3, same machine, same run, on moto_server S3
# (loopback): put/get MB/s and peak RSS growth per phase, plus the client-side crypto alone.
#
#   benches/s3/run.sh [--size-mib N] [--rounds N] [--gets-only] [--link-mb-per-s N] [--dir DIR] [--json] [--no-build]
#
# MOTO_PYTHON (default: $ENVELOPE_MOTO_PYTHON, else python3) must have moto[server]; the server is
# crates/s3/tests/common/moto_s3_server.py (moto 5.2.1's multipart response fixed up). Builds the
# example s3_bench in release under `nice -n 19` (CARGO_TARGET_DIR, default <repo>/target).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${MOTO_PYTHON:-${ENVELOPE_MOTO_PYTHON:-python3}}"
BUILD=1
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && nice -n 19 cargo build --release -p envelope-s3 --example s3_bench)
fi

# moto serves until its stdin closes: keep a pipe open for the length of the run.
coproc MOTO { "$PYTHON" "$ROOT/crates/s3/tests/common/moto_s3_server.py" 2>/dev/null; }
read -r line <&"${MOTO[0]}"
case "$line" in
  "listening on "*) endpoint="${line#listening on }" ;;
  *) echo "moto did not start: $line" >&2; exit 1 ;;
esac
trap 'exec {MOTO[1]}>&-; wait "$MOTO_PID" 2>/dev/null || true' EXIT

"$TARGET/release/examples/s3_bench" --endpoint "$endpoint" "${ARGS[@]}"
