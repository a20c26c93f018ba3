#!/usr/bin/env bash
# Set everything up and start the chat UI on the default corpus (http://127.0.0.1:7860).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/opsqa serve "$@"
