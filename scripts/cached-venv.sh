#!/usr/bin/env bash
# Usage: cached-venv.sh NAME REQUIREMENTS [--pinned]
# Creates (or reuses) a Python venv with REQUIREMENTS (a path from the repository root) installed and
# prints the path of its python on stdout (everything else goes to stderr). The entry points are
# setup-trainer-env.sh and setup-notebook-env.sh.
#
# The venv lives outside the clone, keyed by the requirements' hash and the Python version, so CI runs
# and fresh clones on the same machine reuse it: ${ARENA_CACHE_DIR:-$HOME/.cache/arena}/NAME-venv-<sha>.
# A venv counts only once its `.complete` marker exists; a half-built one (killed install) is rebuilt.
# Python: $ARENA_TRAINER_BASE_PYTHON, else python3 (3.10 or newer).
# --pinned: REQUIREMENTS pins every package, dependencies included; they are installed as written
# (--no-deps) and `pip check` proves the pins a consistent set.
set -euo pipefail
cd "$(dirname "$0")/.."

name=$1
requirements=$2
pinned=${3:-}
base_python="${ARENA_TRAINER_BASE_PYTHON:-python3}"
cache_dir="${ARENA_CACHE_DIR:-$HOME/.cache/arena}"
sha=$( (cat "$requirements"; "$base_python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)
venv="$cache_dir/$name-venv-$sha"

mkdir -p "$cache_dir"
# One builder at a time per cache dir; the others wait and then find the venv complete.
exec 9>"$cache_dir/.$name-venv.lock"
flock 9

if [ ! -f "$venv/.complete" ]; then
  echo "setup-$name-env: building $venv from $requirements (first time: several GB of torch/CUDA wheels)" >&2
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  if [ "$pinned" = --pinned ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$requirements" >&2
    "$venv/bin/python" -m pip check >&2
  else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
  fi
  touch "$venv/.complete"
  # Venvs of earlier requirements are several GB each; only the current one is kept.
  for old in "$cache_dir/$name"-venv-*; do
    [ "$old" = "$venv" ] || rm -rf "$old"
  done
fi
echo "$venv/bin/python"
