#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, types, the eval gate, pytest (all tiers).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
export PYTHONUNBUFFERED=1
status=0
echo "== ruff"
.venv/bin/ruff check app ingest eval tests || status=1
echo "== mypy"
.venv/bin/mypy || status=1
echo "== eval gate (every corpus present against eval/baseline.json)"
.venv/bin/opsqa eval --check || status=1
echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
# pytest's exit 5 (no tests collected) counts as a failure here, like any other.
[ $rc -ne 0 ] && status=1
exit $status
