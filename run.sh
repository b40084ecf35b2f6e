#!/usr/bin/env bash
# Install everything into .venv (idempotent), build the models, analyse MUSIC_DIR on a local Ray into a
# SQLite file under AUDIOMUSE_DATA_DIR (default ~/.local/share/audiomuse-ray), then serve the API.
#   ./run.sh ~/Music [--recent N] [--workers N]
set -euo pipefail
cd "$(dirname "$0")"
music_dir=${1:?usage: ./run.sh MUSIC_DIR [analyze options]}
shift
scripts/setup.sh
export AUDIOMUSE_MUSIC_DIR=$(cd "$music_dir" && pwd)
.venv/bin/audiomuse-ray doctor | grep -E '^\[|problem|good'
.venv/bin/audiomuse-ray analyze "$@"
if .venv/bin/audiomuse-ray serve --help >/dev/null 2>&1; then
  exec .venv/bin/audiomuse-ray serve
else
  echo "run.sh: analysis done. The HTTP API and UI (audiomuse-ray serve) are not built yet; see the README."
fi
