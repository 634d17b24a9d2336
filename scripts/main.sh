#!/usr/bin/env bash
# The main job: installs what is missing, starts the local Temporal dev server (Web UI on :8233)
# and a worker, runs train-pipeline on the `micro` config and prints where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx cli/arena.ts main "$@"
