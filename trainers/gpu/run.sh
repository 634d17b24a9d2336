#!/usr/bin/env bash
# The GPU trainer's entry point (the `gpu` engine of lib/trainer-registry.ts), run from the repository root:
#   bash trainers/gpu/run.sh <train|merge|export|predict> --spec spec.json
#   bash trainers/gpu/run.sh --ddp <processes> train --spec spec.json   (trainer.parallel: ddp)
# The second form runs the venv's torchrun (torch.distributed.run) over the pod's GPUs, one process
# each: --standalone rendezvous on a free local port, no restarts (a failed rank fails the launch,
# and the activity's retry resumes from the last checkpoint).
# Python: $ARENA_TRAINER_PYTHON, else the cached venv of scripts/setup-trainer-env.sh (built on first use).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${ARENA_TRAINER_PYTHON:-$(bash "$here/../../scripts/setup-trainer-env.sh")}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
if [[ "${1:-}" == "--ddp" ]]; then
  processes="$2"
  shift 2
  exec "$python" -m torch.distributed.run --standalone --nproc-per-node "$processes" --max-restarts 0 -m arena_trainer "$@"
fi
exec "$python" -m arena_trainer "$@"
