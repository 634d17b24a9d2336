#!/usr/bin/env bash
# Benchmarks (speed and memory targets live here, never in timed tests): features vs the Python
# reference, training rows/s, inference rows/s with and without swap-TTA, and the readers' fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsx bench/features.ts
npx tsx bench/train.ts
npx tsx bench/inference.ts
# The Gemma-2 path on a tiny random model (builds the trainer environment once): tokenizing and scoring.
npx tsx bench/gemma2-inference.ts
# Shards merged every K steps (round_steps) or epoch against one process: CPU model and tiny Gemma-2 (exact vs factor-mean LoRA merge).
npx tsx bench/shard-merge.ts
# What a crashed GPU pod costs a run (two real runs through a Temporal dev server).
npx tsx bench/resume.ts
# A 4-point sweep on micro: what its child runs share through the cache, and its wall time.
npx tsx bench/sweep.ts
# The readers' fuzz test at length: mutated sample files through ingest, errors counted by kind.
npx tsx bench/fuzz-readers.ts 1000
# The store after 20 micro runs and after gc; the 100,000-row micro run's store with checkpoint retention.
npx tsx bench/store-gc.ts
npx tsx bench/retention.ts
# The fault campaign: 20 kills over every stage (worker SIGKILL and SIGTERM, server SIGKILL, GPU takeover).
npx tsx bench/faults.ts 20
