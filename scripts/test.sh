#!/usr/bin/env bash
# The one test command, for developers and CI alike (.ci/run calls this):
#     bash scripts/test.sh [pytest args...]
# Sets up the environment (scripts/setup.sh; SSHCLIENT_SKIP_SETUP=1 skips it),
# then runs pytest against real sshd/dropbear peers on 127.0.0.1.
# Fails on any test failure and also when no tests were collected (pytest
# exit code 5). Real-peer fixtures fail instead of skipping when CI=true or
# SSHCLIENT_REQUIRE_SERVERS=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-$PWD/.venv}

if [[ "${SSHCLIENT_SKIP_SETUP:-0}" != 1 ]]; then
    bash scripts/setup.sh
fi

rc=0
"$VENV/bin/python" -m pytest -q "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "test.sh: pytest collected no tests (exit 5); treating as failure" >&2
fi
exit "$rc"
