#!/usr/bin/env bash
# Set up opsqa in .venv/ from nothing. Usage: scripts/setup.sh [--test]
#   --test  also installs the test tools, Debian's chromium + chromium-driver (browser tests)
#           and the [local] extra (llama-cpp-python compiles once, ~10 minutes, into
#           ~/.cache/opsqa/wheels).
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
  # llama.cpp's AMX kernels crash on Q4_K models on some Xeons (segfault in
  # ggml_backend_amx_mul_mat), and a native build turns them on wherever the CPU has AMX.
  # Build without them, once, into a wheel folder of our own: pip's cache keys a built wheel
  # by its source, not by CMAKE_ARGS, so it would hand back one built with them.
  WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/opsqa/wheels"
  if ! .venv/bin/python -c "import sys, llama_cpp
sys.exit(b'AMX_INT8 = 1' in llama_cpp.llama_print_system_info())" 2>/dev/null; then
    wheel=$(ls -t "$WHEELS"/llama_cpp_python-*.whl 2>/dev/null | head -1 || true)
    if [ -z "$wheel" ]; then
      echo "[setup] building llama-cpp-python (compiles llama.cpp once, ~10 minutes)"
      flags=""
      [ "$(uname -m)" = x86_64 ] && flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
      CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$flags' -DCMAKE_CXX_FLAGS='$flags'" \
        $PIP wheel -q --no-cache-dir --no-deps -w "$WHEELS" "llama-cpp-python>=0.3"
      wheel=$(ls -t "$WHEELS"/llama_cpp_python-*.whl | head -1)
    fi
    $PIP install -q --force-reinstall --no-deps "$wheel"
  fi
  $PIP install -q --find-links "$WHEELS" -e ".[local]"
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
# AsciiDoc (.adoc) is read by Asciidoctor, the reference implementation (Debian's package).
if ! command -v asciidoctor >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian asciidoctor (reads .adoc documents)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      asciidoctor >/dev/null) || echo "[setup] asciidoctor install failed: .adoc files will be skipped"
  else
    echo "[setup] not root: install asciidoctor to read .adoc documents"
  fi
fi
echo "[setup] ready: .venv/bin/opsqa"
