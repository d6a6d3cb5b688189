# Shared by the interop scripts (source it; the caller defines `log` and `die`).
#
#   ensure_venv VENV REQUIREMENTS   create VENV from the exact pins in REQUIREMENTS, or recreate it
#                                   when the pins changed (sha256 marker VENV/.requirements.sha256);
#                                   PYTHON=python3.11 picks the interpreter
#   start_emulator ENVELOPE DATA_DIR LOG
#                                   start `ENVELOPE kms serve` on 127.0.0.1:0 over DATA_DIR, logging
#                                   to LOG; sets SERVER (its pid) and ENDPOINT (http://127.0.0.1:PORT)
#                                   and stops it when the script exits

ensure_venv() {
  local venv="$1" requirements="$2" sum py
  sum="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements.sha256" 2>/dev/null)" == "$sum" ]]; then
    return 0
  fi
  log "setting up $venv"
  py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  rm -rf "$venv"
  "$py" -m venv "$venv" || die "could not create a venv with $py"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" || die "pip install failed"
  echo "$sum" > "$venv/.requirements.sha256"
}

start_emulator() {
  local envelope="$1" data_dir="$2" server_log="$3"
  mkdir -p "$data_dir"
  "$envelope" kms serve --listen 127.0.0.1:0 --data-dir "$data_dir" >"$server_log" 2>&1 &
  SERVER=$!
  trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
  ENDPOINT=""
  # Up to 60 s: on a loaded machine (CI on 2 cores) the first start can be slow.
  for _ in $(seq 1 600); do
    ENDPOINT="$(grep -o 'listening on http://[0-9.:]*' "$server_log" | head -1 | sed 's/^listening on //')"
    [[ -n "$ENDPOINT" ]] && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$server_log" >&2; die "the emulator exited"; }
    sleep 0.1
  done
  [[ "$ENDPOINT" == http://127.0.0.1:* ]] || die "the emulator did not report a 127.0.0.1 address (see $server_log)"
}
