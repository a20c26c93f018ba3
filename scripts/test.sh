#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, pytest (all tiers), eval gate.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
export PYTHONUNBUFFERED=1
status=0
echo "== ruff"
.venv/bin/ruff check app ingest eval tests || status=1
echo "== mypy"
.venv/bin/mypy || status=1
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
rc=$?
# pytest exit 5 means no tests ran: that is a failure here.
[ $rc -ne 0 ] && status=1
echo "== eval gate"
.venv/bin/opsqa eval --check || status=1
exit $status
