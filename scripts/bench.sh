#!/usr/bin/env bash
# Benchmarks (speed and memory targets live here, never in timed tests): features vs the Python
# reference, training rows/s, inference rows/s with and without swap-TTA.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsx bench/features.ts
npx tsx bench/train.ts
npx tsx bench/inference.ts
# The Gemma-2 path on a tiny random model (builds the trainer environment once): tokenizing and scoring.
npx tsx bench/gemma2-inference.ts
# What a crashed GPU pod costs a run (two real runs through a Temporal dev server).
npx tsx bench/resume.ts
# The fault campaign: 20 kills over every stage (worker SIGKILL and SIGTERM, server SIGKILL, GPU takeover).
npx tsx bench/faults.ts 20
