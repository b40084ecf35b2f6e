#!/usr/bin/env bash
# Install everything into .venv (idempotent), build the models and copy them to DATA_DIR/models, analyse
# MUSIC_DIR on a local Ray into a SQLite file under AUDIOMUSE_DATA_DIR (default ~/.local/share/audiomuse-ray),
# then serve the API until Ctrl-C. Every step reads the same AUDIOMUSE_* environment, so the doctor, the
# analysis and the server find the models where set-up put them.
#   ./run.sh ~/Music [--recent N] [--workers N]
set -euo pipefail
cd "$(dirname "$0")"
music_dir=${1:?usage: ./run.sh MUSIC_DIR [analyze options]}
shift
scripts/setup.sh
export AUDIOMUSE_MUSIC_DIR=$(cd "$music_dir" && pwd)
.venv/bin/audiomuse-ray doctor | grep -E '^\[|problem|good'
.venv/bin/audiomuse-ray analyze "$@"
exec .venv/bin/audiomuse-ray serve
