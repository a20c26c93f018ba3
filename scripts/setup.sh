#!/usr/bin/env bash
# Set up opsqa in .venv/ from nothing. Usage: scripts/setup.sh [--test]
#   --test  also installs the test tools, Debian's chromium + chromium-driver (browser tests)
#           and the [local] extra (llama-cpp-python compiles once, ~10 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
PIP=".venv/bin/pip --disable-pip-version-check"
# torch first and pinned: this machine carries a CPU wheel of exactly 2.13.0; any other
# resolution would pull gigabytes of CUDA packages.
.venv/bin/python -c "import torch" 2>/dev/null || $PIP install -q "torch==2.13.0"
if [ $want_test = 1 ]; then
  $PIP install -q -e ".[test]"
  if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "[setup] building llama-cpp-python (compiles llama.cpp once, ~10 minutes)"
    $PIP install -q -e ".[local]"
  fi
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "[setup] installing Debian chromium + chromium-driver for browser tests"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium chromium-driver >/dev/null) || echo "[setup] chromium install failed"
    else
      echo "[setup] not root: install chromium and chromium-driver for the browser tests"
    fi
  fi
else
  $PIP install -q -e .
fi
echo "[setup] ready: .venv/bin/opsqa"
