#!/usr/bin/env bash
# Set up a fresh machine and run the default test suite (the README's test command).
#   scripts/test.sh [extra pytest args]      e.g. scripts/test.sh -m ""   to include slow tests
# The tests run in their own virtualenv, .venv-dev (TensorFlow, tf2onnx, pytest, Playwright: ~3 GB),
# so the demo's .venv (the README's first command, ~600 MB) stays small. VENV=DIR picks another.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }; then
  if ! fc-list 2>/dev/null | grep -qi dejavu || [ ! -f /usr/share/dict/words ]; then
    scripts/install_system_deps.sh --minimal
  fi
  if ! command -v chromium >/dev/null 2>&1; then  # for tests/test_browser.py (it skips without one)
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
        --no-install-recommends chromium; } >/dev/null 2>&1 \
      || echo "note: Debian chromium could not be installed; tests/test_browser.py will be skipped" >&2
  fi
fi
PY=${PYTHON:-python3}
VENV=${VENV:-.venv-dev}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements-train.txt -e .
export CUDA_VISIBLE_DEVICES="" TF_CPP_MIN_LOG_LEVEL=2
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
exec "$VENV/bin/python" -m pytest -q "$@"
