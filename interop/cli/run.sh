#!/usr/bin/env bash
# CLI interop: `envelope encrypt` / `envelope decrypt` against the official Python
# `aws-encryption-cli` (aws-encryption-sdk-cli), both directions, with KMS keys on the bundled emulator.
#
#   interop/cli/run.sh ENVELOPE_BIN
#
# 1. sets up interop/cli/.venv from requirements.txt (pip, exact pins) when missing or when the pins changed
# 2. creates two symmetric keys (and alias/cli-interop) with `ENVELOPE_BIN kms create-key`, then starts
#    `ENVELOPE_BIN kms serve --listen 127.0.0.1:0` and points both tools at it with AWS_ENDPOINT_URL_KMS
# 3. runs every check for each (encryptor -> decryptor) pair: aws-encryption-cli -> aws-encryption-cli
#    (the baseline, which also validates the emulator with this client), envelope -> aws-encryption-cli,
#    aws-encryption-cli -> envelope, envelope -> envelope
# Each check prints `ok NAME`, `FAIL NAME` (with its log) or `skip NAME (why)`. Exits 0 only when no check
# failed. Last line: `cli interop: N passed, M failed, K skipped`.
#
# Environment: CLI_INTEROP_OUT=DIR keeps every file and log there (default: a temporary directory,
# removed on success); PYTHON=python3.11 picks the interpreter for a new venv;
# CLI_INTEROP_PYTHON_ONLY=1 runs the aws-encryption-cli baseline only (for an envelope without
# encrypt/decrypt); CLI_INTEROP_FILTER=REGEX runs only the checks whose name matches.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
START=$SECONDS

log() { printf '\n== %s\n' "$*"; }
die() { printf 'cli interop: %s\n' "$*" >&2; exit 2; }
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

[[ $# -ge 1 ]] || die "usage: interop/cli/run.sh ENVELOPE_BIN"
ENVELOPE="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[[ -x "$ENVELOPE" ]] || die "$ENVELOPE is not an executable"

# --- Python: venv with the pinned aws-encryption-sdk-cli ---------------------------------------
VENV="$HERE/.venv"
ensure_venv "$VENV" "$HERE/requirements.txt"
AEC="$VENV/bin/aws-encryption-cli"
PYTHON_BIN="$VENV/bin/python"
META=("$PYTHON_BIN" "$HERE/meta.py")
[[ -x "$AEC" ]] || die "$VENV has no aws-encryption-cli"

# --- keys and the emulator --------------------------------------------------------------------
OUT="${CLI_INTEROP_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/envelope-cli-interop.XXXXXX")}"
mkdir -p "$OUT"
rm -rf "$OUT/emulator" "$OUT/data" "$OUT/cases" "$OUT/logs"
mkdir -p "$OUT/emulator" "$OUT/data" "$OUT/cases" "$OUT/logs"

REGION=us-west-2
ACCOUNT=111122223333
create_key() {  # create_key [--alias alias/X] -> prints the key ARN
  "$ENVELOPE" kms create-key --data-dir "$OUT/emulator" --region "$REGION" "$@" \
    | "$PYTHON_BIN" -c 'import json, sys; print(json.load(sys.stdin)["Arn"])'
}
K1="$(create_key --alias alias/cli-interop)" || die "kms create-key failed"
K2="$(create_key)" || die "kms create-key failed"
[[ "$K1" == arn:aws:kms:$REGION:$ACCOUNT:key/* && "$K2" == arn:aws:kms:* ]] || die "unexpected key ARNs: $K1 $K2"
ALIAS=alias/cli-interop

SERVER_LOG="$OUT/emulator.log"
start_emulator "$ENVELOPE" "$OUT/emulator" "$SERVER_LOG"

# Nothing may reach AWS: no ambient credentials, profiles or endpoints; KMS is the emulator.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_REGION
export AWS_ENDPOINT_URL_KMS="$ENDPOINT" AWS_ACCESS_KEY_ID=AKIDCLIINTEROP AWS_SECRET_ACCESS_KEY=cli-interop \
  AWS_DEFAULT_REGION="$REGION" AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null
echo "cli interop: $("$AEC" --version 2>&1), envelope $("$ENVELOPE" --version 2>/dev/null | head -1)"
echo "emulator at $ENDPOINT; keys $K1 ($ALIAS), $K2; output $OUT"

# --- test data --------------------------------------------------------------------------------
D="$OUT/data"
head -c 10000 /dev/urandom > "$D/rand10k"
head -c 1000 /dev/urandom > "$D/rand1k"
head -c 8192 /dev/urandom > "$D/rand8192"
head -c 3145733 /dev/urandom > "$D/rand3m"  # past 1 MiB: envelope's streams hash on a second core
: > "$D/empty"
printf 'hello, interop\n' > "$D/hello.txt"
TREE="$D/tree"
mkdir -p "$TREE/a/b" "$TREE/c" "$TREE/empty-dir"
printf 'one\n' > "$TREE/one.txt"
printf 'two\n' > "$TREE/a/two"
: > "$TREE/a/b/empty"
head -c 5000 /dev/urandom > "$TREE/a/b/five.bin"
head -c 70000 /dev/urandom > "$TREE/c/big.bin"
printf 'dot\n' > "$TREE/c/.hidden"

# --- the two tools behind one interface -------------------------------------------------------
# tool TOOL OP ARGS... with TOOL = aec | env and OP = encrypt | decrypt | decrypt-unsigned. ARGS use the long
# options both tools share (--input, --output, --wrapping-keys, --encryption-context, --algorithm,
# --frame-length, --commitment-policy, --suffix, --metadata-output, --recursive, --buffer,
# --max-encrypted-data-keys). aws-encryption-cli also needs -e/-d and, without --metadata-output, -S.
tool() {
  local t="$1" op="$2"; shift 2
  if [[ "$t" == aec ]]; then
    local a=()
    case "$op" in
      encrypt) a=(-e) ;;
      decrypt) a=(-d) ;;
      decrypt-unsigned) a=(--decrypt-unsigned) ;;
    esac
    [[ " $* " == *" --metadata-output "* ]] || a+=(-S)
    "$AEC" "${a[@]}" "$@"
  else
    if [[ "$op" == decrypt-unsigned ]]; then
      "$ENVELOPE" decrypt --decrypt-unsigned "$@"
    else
      "$ENVELOPE" "$op" "$@"
    fi
  fi
}
name_of() { [[ "$1" == aec ]] && echo aws-encryption-cli || echo envelope; }

# --- checks -----------------------------------------------------------------------------------
PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
CASE=""   # the current check's directory
# check NAME FUNCTION ARGS...: runs FUNCTION in a fresh directory $CASE, output to a log
check() {
  local name="$1"; shift
  if [[ -n "${CLI_INTEROP_FILTER:-}" && ! "$name" =~ $CLI_INTEROP_FILTER ]]; then return 0; fi
  local slug; slug="$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_')"
  CASE="$OUT/cases/$slug"
  rm -rf "$CASE"; mkdir -p "$CASE"
  local logf="$OUT/logs/$slug.log"
  ( set -x; cd "$CASE" && "$@" ) > "$logf" 2>&1
  local rc=$?
  if [[ $rc == 0 ]]; then
    PASSED=$((PASSED + 1)); echo "ok $name"
  else
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); echo "FAIL $name"
    grep -v '^+' "$logf" | tail -n 15 | sed 's/^/    | /'
    echo "    (log: $logf)"
  fi
}
skip() {
  if [[ -n "${CLI_INTEROP_FILTER:-}" && ! "$1" =~ $CLI_INTEROP_FILTER ]]; then return 0; fi
  SKIPPED=$((SKIPPED + 1)); echo "skip $1 ($2)"
}

expect_fail() {  # expect_fail CMD...: the command must exit non-zero
  if "$@"; then echo "expected a failure, got exit 0: $*"; return 1; fi
  return 0
}
no_output() {  # no_output PATH: nothing may be left at PATH
  if [[ -e "$1" ]]; then echo "left at $1: $(wc -c < "$1") bytes"; return 1; fi
}
same_files() { cmp "$1" "$2" || { echo "content differs: $1 $2"; return 1; }; }

# Plain round trip of one file: ENC writes ct, DEC reads it, plaintext compared. Extra encrypt args
# after `--enc`, extra decrypt args after `--dec`. The decrypt writes metadata to dec.json.
round_trip() {  # round_trip ENC DEC INPUT [--enc ARGS...] [--dec ARGS...] [--dec-op OP]
  local enc="$1" dec="$2" input="$3"; shift 3
  local eargs=() dargs=() dop=decrypt where=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --enc) where=e ;;
      --dec) where=d ;;
      --dec-op) dop="$2"; shift ;;
      *) if [[ $where == e ]]; then eargs+=("$1"); else dargs+=("$1"); fi ;;
    esac
    shift
  done
  [[ " ${eargs[*]} " == *" --wrapping-keys "* ]] || eargs+=(--wrapping-keys "key=$K1")
  tool "$enc" encrypt --input "$input" --output ct --metadata-output enc.json "${eargs[@]}" || return 1
  tool "$dec" "$dop" --input ct --output pt --metadata-output dec.json "${dargs[@]}" || return 1
  same_files "$input" pt || return 1
  "${META[@]}" shape enc.json || return 1
  "${META[@]}" shape dec.json || return 1
  # What the encryptor reports about the message it wrote is what the decryptor reads from it.
  "${META[@]}" same-header enc.json dec.json || return 1
}
meta_is() {  # meta_is FILE PATH EXPECTED
  local got; got="$("${META[@]}" get "$1" "$2")" || return 1
  [[ "$got" == "$3" ]] || { echo "$1 $2: got $got, want $3"; return 1; }
}

c_file() { round_trip "$1" "$2" "$D/rand10k" --dec --wrapping-keys "key=$K1"; }
c_empty_file() { round_trip "$1" "$2" "$D/empty" --dec --wrapping-keys "key=$K1"; }
c_large_signed() {  # c_large_signed ENC DEC SUITE ENC_POLICY: a 3 MiB file under a signed suite
  round_trip "$1" "$2" "$D/rand3m" --enc --algorithm "$3" --commitment-policy "$4" \
    --dec --wrapping-keys "key=$K1" --commitment-policy require-encrypt-allow-decrypt
}

c_file_into_dir() {  # a file into an existing directory: default suffixes
  mkdir enc dec
  tool "$1" encrypt --input "$D/hello.txt" --output enc --wrapping-keys "key=$K1" || return 1
  [[ -f enc/hello.txt.encrypted && $(ls enc | wc -l) == 1 ]] || { ls -la enc; return 1; }
  tool "$2" decrypt --input enc/hello.txt.encrypted --output dec --wrapping-keys "key=$K1" || return 1
  [[ -f dec/hello.txt.encrypted.decrypted && $(ls dec | wc -l) == 1 ]] || { ls -la dec; return 1; }
  same_files "$D/hello.txt" dec/hello.txt.encrypted.decrypted
}

c_suffix() {  # a custom suffix both ways
  mkdir enc dec
  tool "$1" encrypt --input "$D/hello.txt" --output enc --suffix .ct --wrapping-keys "key=$K1" || return 1
  [[ -f enc/hello.txt.ct && $(ls enc | wc -l) == 1 ]] || { ls -la enc; return 1; }
  tool "$2" decrypt --input enc/hello.txt.ct --output dec --suffix .pt --wrapping-keys "key=$K1" || return 1
  [[ -f dec/hello.txt.ct.pt && $(ls dec | wc -l) == 1 ]] || { ls -la dec; return 1; }
  same_files "$D/hello.txt" dec/hello.txt.ct.pt
}

c_empty_suffix() {  # a bare --suffix (aws-encryption-cli: the empty suffix) on decrypt
  mkdir enc dec
  tool "$1" encrypt --input "$D/hello.txt" --output enc --suffix .ct --wrapping-keys "key=$K1" || return 1
  tool "$2" decrypt --input enc/hello.txt.ct --output dec --suffix --wrapping-keys "key=$K1" || return 1
  [[ -f dec/hello.txt.ct && $(ls dec | wc -l) == 1 ]] || { ls -la dec; return 1; }
  same_files "$D/hello.txt" dec/hello.txt.ct
}

c_tree() {  # --recursive over a tree: the source's contents are mirrored into the output directory
  # (the metadata file is not named enc*: aws-encryption-cli refuses a metadata path that merely starts
  # with the output directory's path, a string-prefix test)
  mkdir enc dec
  tool "$1" encrypt --recursive --input "$TREE" --output enc --wrapping-keys "key=$K1" \
    --metadata-output meta.json || return 1
  local want got
  want="$(cd "$TREE" && find . -type f | sed 's/$/.encrypted/' | sort)"
  got="$(cd enc && find . -type f | sort)"
  [[ "$want" == "$got" ]] || { printf 'encrypt outputs:\n%s\nwant:\n%s\n' "$got" "$want"; return 1; }
  [[ $(grep -c . meta.json) == $(printf '%s\n' "$want" | grep -c .) ]] || { echo "want one metadata line per file"; return 1; }
  tool "$2" decrypt --recursive --input enc --output dec --wrapping-keys "key=$K1" || return 1
  want="$(cd "$TREE" && find . -type f | sed 's/$/.encrypted.decrypted/' | sort)"
  got="$(cd dec && find . -type f | sort)"
  [[ "$want" == "$got" ]] || { printf 'decrypt outputs:\n%s\nwant:\n%s\n' "$got" "$want"; return 1; }
  local f
  while IFS= read -r f; do
    same_files "$TREE/$f" "dec/$f.encrypted.decrypted" || return 1
  done < <(cd "$TREE" && find . -type f)
}

c_stdio() {  # stdin -> stdout both ways; metadata names <stdin>/<stdout>
  tool "$1" encrypt --input - --output - --wrapping-keys "key=$K1" --metadata-output enc.json \
    < "$D/rand10k" > ct || return 1
  tool "$2" decrypt --input - --output - --wrapping-keys "key=$K1" --metadata-output dec.json \
    < ct > pt || return 1
  same_files "$D/rand10k" pt || return 1
  meta_is enc.json input "<stdin>" && meta_is enc.json output "<stdout>" || return 1
  meta_is dec.json input "<stdin>" && meta_is dec.json output "<stdout>" || return 1
  "${META[@]}" same-header enc.json dec.json
}

c_stdin_empty() {
  tool "$1" encrypt --input - --output - --wrapping-keys "key=$K1" < /dev/null > ct || return 1
  tool "$2" decrypt --input - --output - --wrapping-keys "key=$K1" < ct > pt || return 1
  [[ ! -s pt ]] || { echo "plaintext not empty"; return 1; }
}

EC_ARGS=(--encryption-context purpose=interop team=cli 'café=naïve')
c_context() {  # the context travels; decrypt requires pairs and a bare key
  round_trip "$1" "$2" "$D/hello.txt" --enc "${EC_ARGS[@]}" \
    --dec --wrapping-keys "key=$K1" --encryption-context purpose=interop 'café=naïve' team || return 1
  meta_is dec.json header.encryption_context.purpose interop && meta_is dec.json header.encryption_context.team cli \
    && meta_is dec.json 'header.encryption_context.café' naïve
}

c_wrong_context() {  # a required pair with another value, and a required key that is absent
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" "${EC_ARGS[@]}" || return 1
  local rc which
  for which in "purpose=other" "missing-key"; do
    tool "$2" decrypt --input ct --output "pt.$which" --wrapping-keys "key=$K1" --metadata-output "dec.$which.json" \
      --encryption-context "$which"
    rc=$?
    no_output "pt.$which" || return 1
    # aws-encryption-cli skips such a file with exit 0 and `"skipped": true` in its metadata; a non-zero
    # exit is a failure too.
    if [[ $rc == 0 ]]; then
      meta_is "dec.$which.json" skipped true || { echo "exit 0 and not reported as skipped"; return 1; }
    fi
    echo "$(name_of "$2") with --encryption-context $which: exit $rc"
  done
}

c_algorithm() {  # c_algorithm ENC DEC SUITE ENC_POLICY DEC_POLICY [DEC_OP]
  local suite="$3" epol="$4" dpol="$5" dop="${6:-decrypt}"
  round_trip "$1" "$2" "$D/rand10k" --dec-op "$dop" \
    --enc --algorithm "$suite" --commitment-policy "$epol" \
    --dec --wrapping-keys "key=$K1" --commitment-policy "$dpol" || return 1
  meta_is dec.json header.algorithm "$suite" || return 1
  meta_is dec.json mode "$dop"
}

c_commitment_refused() {  # a non-committing message under require-encrypt-require-decrypt (the default)
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" \
    --algorithm AES_256_GCM_IV12_TAG16_HKDF_SHA256 --commitment-policy forbid-encrypt-allow-decrypt || return 1
  expect_fail tool "$2" decrypt --input ct --output pt --wrapping-keys "key=$K1" || return 1
  no_output pt
}

c_unsigned_refused() {  # --decrypt-unsigned on a signed message
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" || return 1
  expect_fail tool "$2" decrypt-unsigned --input ct --output pt --wrapping-keys "key=$K1" || return 1
  no_output pt
}

c_frame() {  # c_frame ENC DEC LENGTH INPUT
  round_trip "$1" "$2" "$4" --enc --frame-length "$3" --dec --wrapping-keys "key=$K1" || return 1
  meta_is dec.json header.frame_length "$3" || return 1
  meta_is dec.json header.content_type "$([[ $3 == 0 ]] && echo 1 || echo 2)"
}

c_two_keys() {  # one --wrapping-keys with two keys; either key decrypts; two EDKs
  round_trip "$1" "$2" "$D/rand10k" --enc --wrapping-keys "key=$K1" "key=$K2" \
    --dec --wrapping-keys "key=$K2" || return 1
  meta_is dec.json len:header.encrypted_data_keys 2 || return 1
  tool "$2" decrypt --input ct --output pt1 --wrapping-keys "key=$K1" || return 1
  same_files "$D/rand10k" pt1
}

c_two_providers() {  # two --wrapping-keys groups
  round_trip "$1" "$2" "$D/rand10k" --enc --wrapping-keys "key=$K2" --wrapping-keys "key=$K1" \
    --dec --wrapping-keys "key=$K1" || return 1
  meta_is dec.json len:header.encrypted_data_keys 2
}

c_max_edks() {  # --max-encrypted-data-keys 1 refuses a two-EDK message; 2 accepts it
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" "key=$K2" || return 1
  expect_fail tool "$2" decrypt --input ct --output pt1 --wrapping-keys "key=$K1" --max-encrypted-data-keys 1 || return 1
  no_output pt1 || return 1
  tool "$2" decrypt --input ct --output pt2 --wrapping-keys "key=$K1" --max-encrypted-data-keys 2 || return 1
  same_files "$D/hello.txt" pt2
}

c_discovery() {  # discovery decrypt with an account filter; a filter for another account fails
  round_trip "$1" "$2" "$D/rand10k" \
    --dec --wrapping-keys discovery=true "discovery-account=$ACCOUNT" discovery-partition=aws || return 1
  expect_fail tool "$2" decrypt --input ct --output pt.other --wrapping-keys discovery=true \
    discovery-account=444455556666 discovery-partition=aws || return 1
  no_output pt.other
}

c_alias() {  # encrypt under an alias; the EDK names the key ARN; decrypt with the ARN
  round_trip "$1" "$2" "$D/hello.txt" --enc --wrapping-keys "key=$ALIAS" --dec --wrapping-keys "key=$K1" || return 1
  local info; info="$("${META[@]}" get dec.json header.encrypted_data_keys.0.key_provider.key_info)" || return 1
  [[ "$(printf '%s' "$info" | base64 -d)" == "$K1" ]] || { echo "key_info $info is not $K1"; return 1; }
}

c_wrong_key() {
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" || return 1
  expect_fail tool "$2" decrypt --input ct --output pt --wrapping-keys "key=$K2" || return 1
  no_output pt
}

c_tampered() {  # c_tampered ENC DEC SUITE FROM_END: one flipped bit; decrypt fails and leaves no plaintext
  tool "$1" encrypt --input "$D/rand10k" --output ct --wrapping-keys "key=$K1" --algorithm "$3" || return 1
  "${META[@]}" flip ct "$4" || return 1
  expect_fail tool "$2" decrypt --input ct --output pt --wrapping-keys "key=$K1" || return 1
  no_output pt
}

c_tampered_header() {  # a flipped bit in the header (a byte of the message id)
  tool "$1" encrypt --input "$D/hello.txt" --output ct --wrapping-keys "key=$K1" || return 1
  "${META[@]}" flip ct "$(( $(wc -c < ct) - 4 ))" || return 1
  expect_fail tool "$2" decrypt --input ct --output pt --wrapping-keys "key=$K1" || return 1
  no_output pt
}

# Metadata, same operation by both tools: both decrypt the same ciphertext; the lines must be equal
# but for `output`. Both encrypt: each line must have the shared shape (checked in every round trip),
# name the same algorithm, frame length, context and key, and match what the other tool decrypts.
c_meta_same_decrypt() {  # c_meta_same_decrypt ENC (the decryptors are both tools)
  tool "$1" encrypt --input "$D/rand10k" --output ct --wrapping-keys "key=$K1" "key=$K2" "${EC_ARGS[@]}" \
    --frame-length 1024 || return 1
  tool aec decrypt --input ct --output pt.aec --wrapping-keys "key=$K1" --metadata-output aec.json || return 1
  tool env decrypt --input ct --output pt.env --wrapping-keys "key=$K1" --metadata-output env.json || return 1
  "${META[@]}" shape aec.json && "${META[@]}" shape env.json || return 1
  "${META[@]}" same-line aec.json env.json output || return 1
  meta_is env.json output "$CASE/pt.env"
}
c_meta_same_encrypt() {
  local t
  for t in aec env; do
    tool "$t" encrypt --input "$D/rand10k" --output "ct.$t" --wrapping-keys "key=$K1" "key=$K2" "${EC_ARGS[@]}" \
      --algorithm AES_256_GCM_HKDF_SHA512_COMMIT_KEY --frame-length 1024 --metadata-output "$t.json" || return 1
    "${META[@]}" shape "$t.json" || return 1
  done
  local p
  for p in mode header.algorithm header.version header.type header.header_iv_length header.content_type \
      header.frame_length header.encryption_context len:header.encrypted_data_keys \
      header.encrypted_data_keys.0.key_provider header.encrypted_data_keys.1.key_provider len:header.message_id \
      len:header.commitment_key; do
    [[ "$("${META[@]}" get aec.json "$p")" == "$("${META[@]}" get env.json "$p")" ]] \
      || { echo "$p: aws-encryption-cli $("${META[@]}" get aec.json "$p") envelope $("${META[@]}" get env.json "$p")"; return 1; }
  done
  meta_is env.json input "$D/rand10k" && meta_is env.json output "$CASE/ct.env"
}

c_metadata_append() {  # --metadata-output appends one line per operation
  tool "$1" encrypt --input "$D/hello.txt" --output ct1 --wrapping-keys "key=$K1" --metadata-output m.json || return 1
  tool "$1" encrypt --input "$D/hello.txt" --output ct2 --wrapping-keys "key=$K1" --metadata-output m.json || return 1
  [[ $(grep -c . m.json) == 2 ]] || { cat m.json; return 1; }
}

c_usage_error() {  # a usage error exits 2
  tool "$1" encrypt --input "$D/hello.txt" --output ct --frame-length not-a-number --wrapping-keys "key=$K1"
  local rc=$?
  [[ $rc == 2 ]] || { echo "exit $rc, want 2"; return 1; }
  no_output ct
}

# --- run ----------------------------------------------------------------------------------------
HAVE_ENVELOPE=0
if [[ "${CLI_INTEROP_PYTHON_ONLY:-}" != 1 ]]; then
  if "$ENVELOPE" encrypt --help >/dev/null 2>&1 && "$ENVELOPE" decrypt --help >/dev/null 2>&1; then
    HAVE_ENVELOPE=1
  else
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("envelope has encrypt/decrypt")
    echo "FAIL envelope has encrypt/decrypt ($ENVELOPE encrypt --help failed; CLI_INTEROP_PYTHON_ONLY=1 runs the baseline only)"
  fi
fi
PAIRS=(aec:aec)
[[ $HAVE_ENVELOPE == 1 ]] && PAIRS+=(env:aec aec:env env:env)

for pair in "${PAIRS[@]}"; do
  E="${pair%%:*}" X="${pair##*:}"
  tag="[$E->$X]"
  log "$(name_of "$E") encrypts, $(name_of "$X") decrypts"
  check "file $tag" c_file "$E" "$X"
  check "empty file $tag" c_empty_file "$E" "$X"
  check "3 MiB file, suite 0x0578 $tag" c_large_signed "$E" "$X" AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 \
    require-encrypt-require-decrypt
  check "3 MiB file, suite 0x0214 $tag" c_large_signed "$E" "$X" AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256 \
    forbid-encrypt-allow-decrypt
  check "file into directory, default suffixes $tag" c_file_into_dir "$E" "$X"
  check "custom --suffix $tag" c_suffix "$E" "$X"
  check "bare --suffix (empty suffix) $tag" c_empty_suffix "$E" "$X"
  check "recursive tree $tag" c_tree "$E" "$X"
  check "stdin to stdout $tag" c_stdio "$E" "$X"
  check "empty stdin $tag" c_stdin_empty "$E" "$X"
  check "encryption context, required pairs and key $tag" c_context "$E" "$X"
  check "suite 0x0578 committing signed (explicit) $tag" c_algorithm "$E" "$X" \
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 require-encrypt-require-decrypt require-encrypt-require-decrypt
  check "suite 0x0478 committing unsigned $tag" c_algorithm "$E" "$X" \
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY require-encrypt-require-decrypt require-encrypt-require-decrypt
  check "suite 0x0478 with --decrypt-unsigned $tag" c_algorithm "$E" "$X" \
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY require-encrypt-require-decrypt require-encrypt-require-decrypt decrypt-unsigned
  check "suite 0x0178 non-committing $tag" c_algorithm "$E" "$X" \
    AES_256_GCM_IV12_TAG16_HKDF_SHA256 forbid-encrypt-allow-decrypt require-encrypt-allow-decrypt
  check "suite 0x0214 non-committing signed $tag" c_algorithm "$E" "$X" \
    AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256 forbid-encrypt-allow-decrypt forbid-encrypt-allow-decrypt
  check "suite 0x0014 no KDF $tag" c_algorithm "$E" "$X" \
    AES_128_GCM_IV12_TAG16 forbid-encrypt-allow-decrypt forbid-encrypt-allow-decrypt
  if [[ $E == env ]]; then
    check "frame length 1 $tag" c_frame "$E" "$X" 1 "$D/rand1k"
  else
    skip "frame length 1 $tag" "aws-encryption-cli writes only multiples of 128"
  fi
  check "frame length 128 $tag" c_frame "$E" "$X" 128 "$D/rand10k"
  check "frame length 4096 $tag" c_frame "$E" "$X" 4096 "$D/rand10k"
  check "plaintext an exact multiple of the frame length (8192, 4096) $tag" c_frame "$E" "$X" 4096 "$D/rand8192"
  check "frame length 65536 > file $tag" c_frame "$E" "$X" 65536 "$D/rand10k"
  if [[ $E == aec ]]; then
    check "non-framed (frame length 0) $tag" c_frame "$E" "$X" 0 "$D/rand10k"
  else
    skip "non-framed (frame length 0) $tag" "envelope writes framed messages only"
  fi
  check "two keys in one --wrapping-keys $tag" c_two_keys "$E" "$X"
  check "two --wrapping-keys groups $tag" c_two_providers "$E" "$X"
  check "--max-encrypted-data-keys $tag" c_max_edks "$E" "$X"
  check "discovery with account filter $tag" c_discovery "$E" "$X"
  check "encrypt under an alias $tag" c_alias "$E" "$X"
  check "negative: wrong encryption context $tag" c_wrong_context "$E" "$X"
  check "negative: wrong key $tag" c_wrong_key "$E" "$X"
  check "negative: non-committing message, default policy $tag" c_commitment_refused "$E" "$X"
  check "negative: --decrypt-unsigned on a signed message $tag" c_unsigned_refused "$E" "$X"
  check "negative: tampered body, unsigned suite $tag" c_tampered "$E" "$X" AES_256_GCM_HKDF_SHA512_COMMIT_KEY 20
  check "negative: tampered last frame, signed suite $tag" c_tampered "$E" "$X" AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 150
  check "negative: tampered header $tag" c_tampered_header "$E" "$X"
  check "negative: tampered signature $tag" c_tampered "$E" "$X" AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 5
done

log "per tool"
TOOLS=(aec)
[[ $HAVE_ENVELOPE == 1 ]] && TOOLS+=(env)
for t in "${TOOLS[@]}"; do
  check "metadata appends one line per operation [$t]" c_metadata_append "$t"
  check "usage error exits 2 [$t]" c_usage_error "$t"
done
if [[ $HAVE_ENVELOPE == 1 ]]; then
  log "metadata: the same operation by both tools"
  check "metadata: both decrypt aws-encryption-cli's message" c_meta_same_decrypt aec
  check "metadata: both decrypt envelope's message" c_meta_same_decrypt env
  check "metadata: both encrypt the same file" c_meta_same_encrypt
fi

# --- summary ------------------------------------------------------------------------------------
log "summary ($((SECONDS - START))s)"
for n in "${FAILED_NAMES[@]}"; do echo "failed: $n"; done
if [[ $FAILED == 0 && -z "${CLI_INTEROP_OUT:-}" ]]; then rm -rf "$OUT"; else echo "files and logs kept in $OUT"; fi
echo
echo "cli interop: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED == 0 ]]
