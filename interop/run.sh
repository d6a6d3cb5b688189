#!/usr/bin/env bash
# Interop check: envelope against the official Python and JavaScript AWS Encryption SDKs.
#
#   interop/run.sh [ENVELOPE_BIN]
#
# Without ENVELOPE_BIN it builds envelope-cli (release) first. Sets up interop/python/.venv
# (pip, pinned requirements.txt) and interop/js/node_modules (npm ci) when missing or when their
# pins changed; reuses them otherwise. Then:
#   1. envelope encrypts test-vectors/interop/encrypt-manifest.json (one-shot, then streaming);
#      envelope, Python and JS decrypt it
#   2. Python encrypts the same manifest; envelope decrypts it
#   3. JavaScript encrypts it; envelope decrypts it
#   4. negative control: one ciphertext byte flipped in a copy of (1); every decryptor must report
#      exactly that one test failed
#   5. negative control: a wrong reproduced encryption context in a copy of (1)'s manifest
# Every step must fail no test and skip exactly the tests it is known to skip (see README.md).
# Exits 0 only when every step did what it must. The last line is `interop: N passed, M failed`.
#
# Environment: INTEROP_OUT=DIR keeps the generated vectors there (default: a temporary directory,
# removed on success); PYTHON=python3.11 chooses the interpreter for the venv;
# INTEROP_MANIFEST=PATH runs another awses-encrypt manifest (expected skips are computed from it).

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MANIFEST="${INTEROP_MANIFEST:-$ROOT/test-vectors/interop/encrypt-manifest.json}"
START=$SECONDS

log() { printf '\n== %s\n' "$*"; }
die() { printf 'interop: %s\n' "$*" >&2; exit 2; }
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# --- envelope binary --------------------------------------------------------------------------
if [[ $# -ge 1 ]]; then
  ENVELOPE="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
else
  log "building envelope-cli (release)"
  (cd "$ROOT" && cargo build --release -p envelope-cli) || die "cargo build failed"
  TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
  ENVELOPE="$TARGET/release/envelope"
fi
[[ -x "$ENVELOPE" ]] || die "no envelope binary at $ENVELOPE"
[[ -f "$MANIFEST" ]] || die "no encrypt manifest at $MANIFEST"

# --- Python oracle: venv with the pinned SDK ----------------------------------------------------
PYDIR="$HERE/python"
VENV="$PYDIR/.venv"
ensure_venv "$VENV" "$PYDIR/requirements.txt"
PYORACLE=("$VENV/bin/python" "$PYDIR/esdk_oracle.py")

# --- JavaScript oracle: npm ci from the lock file ---------------------------------------------
JSDIR="$HERE/js"
lock_sum="$(sha256sum "$JSDIR/package-lock.json" | cut -d' ' -f1)"
if [[ ! -d "$JSDIR/node_modules" || "$(cat "$JSDIR/node_modules/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]]; then
  log "npm ci in $JSDIR"
  (cd "$JSDIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  echo "$lock_sum" > "$JSDIR/node_modules/.lock.sha256"
fi
# Node refuses RSA PKCS#1 v1.5 decryption since the Marvin-attack fix (CVE-2023-46809); the
# official SDK still reads such data keys, and so must the oracle. Test data only.
JSORACLE=(node --security-revert=CVE-2023-46809 "$JSDIR/oracle.mjs")

# --- expected skips, from the manifest ------------------------------------------------------------
# envelope never writes non-framed messages (frame-size 0); the Python ESDK writes only frame
# lengths that are multiples of 128; the JavaScript ESDK has no required-encryption-context CMM
# and writes only framed messages. Decrypting, nobody skips a raw-key test, except JS on
# required-encryption-context tests.
read -r N_TESTS N_FRAME0 N_PYFRAME N_REQ N_JS_ENC_SKIP < <("$VENV/bin/python" - "$MANIFEST" <<'EOF'
import json, sys
tests = json.load(open(sys.argv[1], encoding="utf-8"))["tests"].values()
frame = lambda t: int(t.get("frame-size", 4096))
req = lambda t: t.get("cmm", "Default") == "RequiredEncryptionContext"
print(len(tests),
      sum(frame(t) == 0 for t in tests),
      sum(frame(t) % 128 != 0 for t in tests),
      sum(req(t) for t in tests),
      sum(req(t) or frame(t) == 0 for t in tests))
EOF
)
[[ -n "${N_TESTS:-}" ]] || die "could not read $MANIFEST"

OUT="${INTEROP_OUT:-$(mktemp -d -t envelope-interop.XXXXXX)}"
mkdir -p "$OUT"
rm -rf "$OUT"/{envelope,envelope-streaming,python,js,tampered,wrong-context} "$OUT"/log.*
echo "interop: envelope $("$ENVELOPE" --version 2>/dev/null | head -1), manifest $MANIFEST ($N_TESTS tests), output $OUT"

# --- running steps ----------------------------------------------------------------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
BAD=0
SUMMARY=()

# step NAME EXPECTED_EXIT EXPECTED_PASSED EXPECTED_FAILED EXPECTED_SKIPPED -- COMMAND...
# An expected count of '-' is not checked. Counts come from the command's last line.
step() {
  local name="$1" want_rc="$2" want_p="$3" want_f="$4" want_s="$5"
  shift 6
  log "$name"
  local t0=$SECONDS logf="$OUT/log.$(echo "$name" | tr -c 'A-Za-z0-9' '_')"
  "$@" > "$logf" 2>&1
  local rc=$?
  grep -v '^SECURITY WARNING: Reverting CVE-2023-46809' "$logf" | tail -n 25
  local last p f s ok=1 why=""
  last="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logf" | tail -n 1)"
  if [[ -z "$last" ]]; then
    p=0 f=0 s=0 ok=0 why="no summary line"
  else
    read -r p _ f _ s _ <<< "${last//,/}"
  fi
  [[ "$rc" == "$want_rc" ]] || { ok=0; why+=" exit $rc (want $want_rc)"; }
  [[ "$want_p" == "-" || "$p" == "$want_p" ]] || { ok=0; why+=" passed $p (want $want_p)"; }
  [[ "$want_f" == "-" || "$f" == "$want_f" ]] || { ok=0; why+=" failed $f (want $want_f)"; }
  [[ "$want_s" == "-" || "$s" == "$want_s" ]] || { ok=0; why+=" skipped $s (want $want_s)"; }
  local verdict="ok"
  if [[ $ok == 0 ]]; then verdict="BAD:$why"; BAD=$((BAD + 1)); fi
  SUMMARY+=("$(printf '%-44s %4s passed %3s failed %3s skipped %4ss  %s' "$name" "$p" "$f" "$s" $((SECONDS - t0)) "$verdict")")
  if [[ "$want_rc" == 0 ]]; then
    TOTAL_PASSED=$((TOTAL_PASSED + p)); TOTAL_FAILED=$((TOTAL_FAILED + f)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + s))
  fi
  # A negative control that behaves counts as one passed check, and as one failure otherwise.
  if [[ "$want_rc" != 0 ]]; then
    if [[ $ok == 1 ]]; then TOTAL_PASSED=$((TOTAL_PASSED + 1)); else TOTAL_FAILED=$((TOTAL_FAILED + 1)); fi
  elif [[ $ok == 0 && "$f" == 0 ]]; then
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
  return 0
}

N_ENV=$((N_TESTS - N_FRAME0))
N_PY=$((N_TESTS - N_PYFRAME))
N_JS=$((N_TESTS - N_JS_ENC_SKIP))

# 1. envelope encrypts; everyone decrypts.
step "1a envelope encrypt"            0 "$N_ENV" 0 "$N_FRAME0" -- "$ENVELOPE" vectors encrypt --manifest "$MANIFEST" --out "$OUT/envelope"
step "1b envelope -> envelope decrypt" 0 "$N_ENV" 0 0 -- "$ENVELOPE" vectors decrypt --manifest "$OUT/envelope"
step "1c envelope -> Python decrypt"   0 "$N_ENV" 0 0 -- "${PYORACLE[@]}" decrypt --manifest "$OUT/envelope"
step "1d envelope -> JS decrypt"       0 $((N_ENV - N_REQ)) 0 "$N_REQ" -- "${JSORACLE[@]}" decrypt --manifest "$OUT/envelope"
# ... and again through envelope's streaming writer (1000-byte writes, length unknown up front).
step "1e envelope encrypt --streaming"  0 "$N_ENV" 0 "$N_FRAME0" -- "$ENVELOPE" vectors encrypt --streaming --manifest "$MANIFEST" --out "$OUT/envelope-streaming"
step "1f streaming -> Python decrypt"   0 "$N_ENV" 0 0 -- "${PYORACLE[@]}" decrypt --manifest "$OUT/envelope-streaming"
step "1g streaming -> JS decrypt"       0 $((N_ENV - N_REQ)) 0 "$N_REQ" -- "${JSORACLE[@]}" decrypt --manifest "$OUT/envelope-streaming"
# 2. Python encrypts; envelope decrypts.
step "2a Python encrypt"               0 "$N_PY" 0 "$N_PYFRAME" -- "${PYORACLE[@]}" encrypt --manifest "$MANIFEST" --out "$OUT/python"
step "2b Python -> envelope decrypt"   0 "$N_PY" 0 0 -- "$ENVELOPE" vectors decrypt --manifest "$OUT/python"
# 3. JavaScript encrypts; envelope decrypts.
step "3a JS encrypt"                   0 "$N_JS" 0 "$N_JS_ENC_SKIP" -- "${JSORACLE[@]}" encrypt --manifest "$MANIFEST" --out "$OUT/js"
step "3b JS -> envelope decrypt"       0 "$N_JS" 0 0 -- "$ENVELOPE" vectors decrypt --manifest "$OUT/js"

# 4. Negative control: flip one byte of one envelope ciphertext (inside its last frame); each
#    decryptor must notice that test, and only that test.
if [[ -f "$OUT/envelope/manifest.json" ]]; then
  cp -r "$OUT/envelope" "$OUT/tampered"
  VICTIM="$("$VENV/bin/python" - "$OUT/tampered" <<'EOF'
import json, os, sys
out = sys.argv[1]
tests = json.load(open(os.path.join(out, "manifest.json"), encoding="utf-8"))["tests"]
# An unsigned committing suite with the default CMM, so every decryptor (JS too) runs it.
name = next(n for n, t in sorted(tests.items())
            if n.startswith("0478-") and t.get("cmm", "Default") == "Default" and "small" in n)
path = os.path.join(out, tests[name]["ciphertext"][len("file://"):])
data = bytearray(open(path, "rb").read())
data[len(data) - 20] ^= 0x01
open(path, "wb").write(data)
print(name)
EOF
)"
  echo "tampered: $VICTIM"
  N_T=$(grep -c '"ciphertext"' "$OUT/tampered/manifest.json")
  step "4a tampered -> envelope decrypt"   1 $((N_T - 1)) 1 0 -- "$ENVELOPE" vectors decrypt --manifest "$OUT/tampered"
  step "4b tampered -> Python decrypt"     1 $((N_T - 1)) 1 0 -- "${PYORACLE[@]}" decrypt --manifest "$OUT/tampered"
  step "4c tampered -> JS decrypt"         1 $((N_T - 1 - N_REQ)) 1 "$N_REQ" -- "${JSORACLE[@]}" decrypt --manifest "$OUT/tampered"
  for f in "$OUT"/log.4?_tampered*; do
    if ! grep -q -- "$VICTIM" "$f"; then
      echo "interop: $(basename "$f") does not name the tampered test $VICTIM"
      BAD=$((BAD + 1)); TOTAL_FAILED=$((TOTAL_FAILED + 1))
    fi
  done

  # 5. Negative control for the reproduced encryption context (decrypt manifest v4): change one
  #    value of it in a required-encryption-context test and in a default-CMM test. envelope and
  #    Python must reject both; JS (no required-EC CMM; it checks the reproduced context against
  #    the message's) the default-CMM one. Run on the non-ASCII-context tests only.
  cp -r "$OUT/envelope" "$OUT/wrong-context"
  read -r CTX_REQ CTX_DEF N_C N_C_REQ < <("$VENV/bin/python" - "$OUT/wrong-context" <<'EOF'
import json, os, sys
path = os.path.join(sys.argv[1], "manifest.json")
m = json.load(open(path, encoding="utf-8"))
tests = m["tests"]
chosen = sorted(n for n in tests if "ec_unicode" in n)
req = next(n for n in chosen if tests[n].get("cmm") == "RequiredEncryptionContext")
default = next(n for n in chosen if tests[n].get("cmm", "Default") == "Default" and tests[n].get("encryption-context"))
for name in (req, default):
    ec = tests[name]["encryption-context"]
    key = sorted(ec)[0]
    ec[key] = ec[key] + "\u00e9"
json.dump(m, open(path, "w", encoding="utf-8"), indent=2, ensure_ascii=False)
print(req, default, len(chosen), sum(tests[n].get("cmm") == "RequiredEncryptionContext" for n in chosen))
EOF
)
  echo "wrong reproduced context: $CTX_REQ (required-EC CMM), $CTX_DEF (default CMM), among $N_C ec_unicode tests"
  step "5a wrong context -> envelope decrypt" 1 $((N_C - 2)) 2 0 -- "$ENVELOPE" vectors decrypt --manifest "$OUT/wrong-context" --filter ec_unicode
  step "5b wrong context -> Python decrypt"   1 $((N_C - 2)) 2 0 -- "${PYORACLE[@]}" decrypt --manifest "$OUT/wrong-context" --filter ec_unicode
  step "5c wrong context -> JS decrypt"       1 $((N_C - 1 - N_C_REQ)) 1 "$N_C_REQ" -- "${JSORACLE[@]}" decrypt --manifest "$OUT/wrong-context" --filter ec_unicode
  for f in "$OUT"/log.5?_wrong*; do
    for victim in "$CTX_REQ" "$CTX_DEF"; do
      [[ $f == *JS* && $victim == "$CTX_REQ" ]] && continue
      if ! grep -q -- "$victim" "$f"; then
        echo "interop: $(basename "$f") does not name $victim"
        BAD=$((BAD + 1)); TOTAL_FAILED=$((TOTAL_FAILED + 1))
      fi
    done
  done
else
  BAD=$((BAD + 1)); TOTAL_FAILED=$((TOTAL_FAILED + 1))
  echo "interop: no envelope output to tamper with"
fi

# --- summary ----------------------------------------------------------------------------------
log "summary ($((SECONDS - START))s)"
printf '%s\n' "${SUMMARY[@]}"
if [[ $BAD == 0 && -z "${INTEROP_OUT:-}" ]]; then rm -rf "$OUT"; else echo "vectors and logs kept in $OUT"; fi
echo
echo "interop: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
[[ $BAD == 0 ]]
