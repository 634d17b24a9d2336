#!/usr/bin/env bash
# Creates (or reuses) a fresh Python venv with only the Kaggle notebook's pinned requirements
# (activities/package/notebook-requirements.txt, the file every package ships as requirements.txt)
# and prints the path of its python on stdout (everything else goes to stderr). The package's test
# runs the notebook in it, so nothing of the trainer's environment leaks into what the notebook needs.
#
# Cached as setup-trainer-env.sh caches the trainer's (cached-venv.sh): ${ARENA_CACHE_DIR:-$HOME/.cache/arena}/notebook-venv-<sha>,
# keyed by the requirements' hash and the Python version, complete only once `.complete` exists.
set -euo pipefail
exec bash "$(dirname "$0")/cached-venv.sh" notebook activities/package/notebook-requirements.txt --pinned
