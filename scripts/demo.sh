#!/usr/bin/env bash
# The main job: set everything up (scripts/setup.sh) and run the demo against
# a throwaway local sshd: a command, a direct-tcpip tunnel, a bulk transfer.
#     bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-$PWD/.venv}
if [[ "${SSHCLIENT_SKIP_SETUP:-0}" != 1 ]]; then
    bash scripts/setup.sh
fi
exec "$VENV/bin/python" examples/demo.py "$@"
