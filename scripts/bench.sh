#!/usr/bin/env bash
# Benchmarks (speed and memory targets live here, never in timed tests): features vs the Python
# reference, training rows/s, inference rows/s with and without swap-TTA.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsx bench/features.ts
npx tsx bench/train.ts
npx tsx bench/inference.ts
