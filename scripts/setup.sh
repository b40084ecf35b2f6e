#!/usr/bin/env bash
# Shared set-up for run.sh and test.sh: the .venv with audiomuse-ray, and the ONNX models (built into
# models/, copied to the folder the service reads: DATA_DIR/models, or AUDIOMUSE_MODELS_DIR when set).
# Idempotent: a second run checks stamps and returns in about a second.
#   scripts/setup.sh [--test]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
python=${PYTHON:-python3}

need_python() {
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || {
    echo "audiomuse-ray needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
}

# 0. Chromaprint (libchromaprint1), which collection sync uses to identify recordings: installed with
#    apt-get when running as root and missing; otherwise a hint (everything else works without it).
if ! ldconfig -p 2>/dev/null | grep -q 'libchromaprint\.so\.1'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libchromaprint1 with apt-get (acoustic fingerprints for collection sync)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libchromaprint1 libchromaprint-tools >/dev/null) \
      || echo "setup: libchromaprint1 could not be installed; collection sync will refuse to run" >&2
  else
    echo "setup: libchromaprint1 is missing (collection sync needs it): sudo apt-get install libchromaprint1" >&2
  fi
fi

# 1. The service environment.
stamp=".venv/.audiomuse-installed${extras:+-test}"
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  need_python
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  echo "setup: installing audiomuse-ray${extras} into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras}"
  echo "$want" > "$stamp"
fi

# 2. The models: converted once from the musicnn wheel in a separate build environment, into models/.
if ! .venv/bin/python -m audiomuse_ray.analysis.models check models >/dev/null 2>&1; then
  if [ ! -x .venv-models/bin/python ]; then
    need_python
    "$python" -m venv .venv-models
  fi
  if ! .venv-models/bin/python -c 'import tensorflow, tf2onnx, musicnn' >/dev/null 2>&1; then
    echo "setup: installing the model build tools into .venv-models (TensorFlow, tf2onnx, musicnn)"
    .venv-models/bin/python -m pip install -q --upgrade pip
    .venv-models/bin/python -m pip install -q "tensorflow-cpu>=2.21" "tf2onnx>=1.17" "onnx>=1.23" onnxruntime
    # musicnn's metadata pins an ancient numpy; its checkpoints and labels need nothing else.
    .venv-models/bin/python -m pip install -q --no-deps musicnn==0.1.0
  fi
  echo "setup: converting the MusiCNN checkpoints to ONNX"
  .venv-models/bin/python models/build.py --out models --force 2>&1 | grep -E '^(msd|mtt|wrote)|differs' || true
  .venv/bin/python -m audiomuse_ray.analysis.models check models
fi

# 3. The service reads its models from DATA_DIR/models (or AUDIOMUSE_MODELS_DIR), never from this checkout:
#    copy them there. Nothing is copied when that folder already holds the same files; a copy is checked.
.venv/bin/python -m audiomuse_ray.analysis.models install models
