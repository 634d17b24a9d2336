#!/usr/bin/env bash
# The GPU trainer's entry point (the `gpu` engine of lib/trainer-registry.ts), run from the repository root:
#   bash trainers/gpu/run.sh <train|merge|export|predict> --spec spec.json
# Python: $ARENA_TRAINER_PYTHON, else the cached venv of scripts/setup-trainer-env.sh (built on first use).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${ARENA_TRAINER_PYTHON:-$(bash "$here/../../scripts/setup-trainer-env.sh")}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m arena_trainer "$@"
