#!/usr/bin/env bash
# Creates (or reuses) the GPU trainer's Python environment from trainers/gpu/requirements.txt and
# prints the path of its python on stdout (everything else goes to stderr).
#
# The venv lives outside the clone, keyed by the requirements' hash, so CI runs and fresh clones on
# the same machine reuse it: ${ARENA_CACHE_DIR:-$HOME/.cache/arena}/trainer-venv-<sha>. A venv
# counts only once its `.complete` marker exists; a half-built one (killed install) is rebuilt.
# Python: $ARENA_TRAINER_BASE_PYTHON, else python3 (3.10 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=trainers/gpu/requirements.txt
base_python="${ARENA_TRAINER_BASE_PYTHON:-python3}"
cache_dir="${ARENA_CACHE_DIR:-$HOME/.cache/arena}"
sha=$( (cat "$requirements"; "$base_python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)
venv="$cache_dir/trainer-venv-$sha"

mkdir -p "$cache_dir"
# One builder at a time per cache dir; the others wait and then find the venv complete.
exec 9>"$cache_dir/.trainer-venv.lock"
flock 9

if [ ! -f "$venv/.complete" ]; then
  echo "setup-trainer-env: building $venv from $requirements (first time: several GB of torch/CUDA wheels)" >&2
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
  touch "$venv/.complete"
  # Venvs of earlier requirements are several GB each; only the current one is kept.
  for old in "$cache_dir"/trainer-venv-*; do
    [ "$old" = "$venv" ] || rm -rf "$old"
  done
fi
echo "$venv/bin/python"
