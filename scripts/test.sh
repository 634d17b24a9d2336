#!/usr/bin/env bash
# The whole test suite: unit tests, real DuckDB / onnxruntime / trainer processes, and workflow
# tests against a real Temporal dev server that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json
# One file at a time: the workflow tests each start a server and worker processes, on 2 cores.
node --import tsx --test --test-concurrency=1 test/*.test.ts
