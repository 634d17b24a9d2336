#!/usr/bin/env bash
# Creates (or reuses) the GPU trainer's Python environment from trainers/gpu/requirements.txt and
# prints the path of its python on stdout (everything else goes to stderr).
#
# The venv lives outside the clone, keyed by the requirements' hash, so CI runs and fresh clones on
# the same machine reuse it: ${ARENA_CACHE_DIR:-$HOME/.cache/arena}/trainer-venv-<sha>. A venv
# counts only once its `.complete` marker exists; a half-built one (killed install) is rebuilt.
# Python: $ARENA_TRAINER_BASE_PYTHON, else python3 (3.10 or newer). See cached-venv.sh.
set -euo pipefail
exec bash "$(dirname "$0")/cached-venv.sh" trainer trainers/gpu/requirements.txt
