#!/usr/bin/env bash
# Runs the boto3 + AWS CLI suite against `envelope kms serve`.
#
#   crates/kms-local/tests/python/run.sh path/to/envelope [pytest args...]
#
# Creates (or reuses) a virtualenv in $KMS_PY_VENV (default: <this dir>/.venv) with boto3, awscli
# and pytest from PyPI. Only 127.0.0.1 is contacted besides PyPI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 ]]; then
  echo "usage: $0 path/to/envelope [pytest args...]" >&2
  exit 2
fi
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
if [[ ! -x "$bin" ]]; then
  echo "$bin is not an executable; build it with: cargo build -p envelope-cli" >&2
  exit 2
fi
venv="${KMS_PY_VENV:-$here/.venv}"
if [[ ! -x "$venv/bin/pytest" || ! -x "$venv/bin/aws" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
export ENVELOPE_BIN="$bin"
export PATH="$venv/bin:$PATH"
# Never let a developer's real AWS configuration leak into the tests.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS
cd "$here"
exec "$venv/bin/pytest" -q "$@"
