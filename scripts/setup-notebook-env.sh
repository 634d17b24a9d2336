#!/usr/bin/env bash
# Creates (or reuses) a fresh Python venv with only the Kaggle notebook's pinned requirements
# (activities/package/notebook-requirements.txt, the file every package ships as requirements.txt)
# and prints the path of its python on stdout (everything else goes to stderr). The package's test
# runs the notebook in it, so nothing of the trainer's environment leaks into what the notebook needs.
#
# Cached as setup-trainer-env.sh caches the trainer's: ${ARENA_CACHE_DIR:-$HOME/.cache/arena}/notebook-venv-<sha>,
# keyed by the requirements' hash and the Python version, complete only once `.complete` exists.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=activities/package/notebook-requirements.txt
base_python="${ARENA_TRAINER_BASE_PYTHON:-python3}"
cache_dir="${ARENA_CACHE_DIR:-$HOME/.cache/arena}"
sha=$( (cat "$requirements"; "$base_python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)
venv="$cache_dir/notebook-venv-$sha"

mkdir -p "$cache_dir"
exec 9>"$cache_dir/.notebook-venv.lock"
flock 9

if [ ! -f "$venv/.complete" ]; then
  echo "setup-notebook-env: building $venv from $requirements (first time: several GB of torch/CUDA wheels)" >&2
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$requirements" >&2
  "$venv/bin/python" -m pip check >&2
  touch "$venv/.complete"
  for old in "$cache_dir"/notebook-venv-*; do
    [ "$old" = "$venv" ] || rm -rf "$old"
  done
fi
echo "$venv/bin/python"
