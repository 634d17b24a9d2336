#!/usr/bin/env bash
# The whole test suite: unit tests, real DuckDB / onnxruntime / trainer processes, and workflow
# tests against a real Temporal dev server that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Test-only tools: a local S3-compatible server (moto, signature checks on) for the remote-store
# tests, pycld2 for the language ID parity test, and the GPU trainer's Python environment (cached
# outside the clone between runs).
MOTO_VERSION=5.2.5
# The dist-info folder names the installed version without the second that `pip show` takes.
if [ ! -x .venv/bin/moto_server ] || ! compgen -G ".venv/lib/python3*/site-packages/moto-$MOTO_VERSION.dist-info" >/dev/null; then
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
# pycld2, the Python reference of the language ID parity test (test/language-id.test.ts).
PYCLD2_VERSION=0.42
if ! compgen -G ".venv/lib/python3*/site-packages/pycld2-$PYCLD2_VERSION.dist-info" >/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check "pycld2==$PYCLD2_VERSION"
fi
trainer_python="$(bash scripts/setup-trainer-env.sh)"
# The Kaggle notebook's own venv (test/kaggle-package.test.ts runs the notebook in it), built once.
bash scripts/setup-notebook-env.sh >/dev/null
npx tsc --noEmit -p tsconfig.json
PYTHONPATH=trainers/gpu "$trainer_python" -m pytest -q -p no:cacheprovider trainers/gpu
# One file at a time: the workflow tests each start a server and worker processes, on 2 cores.
node --import tsx --test --test-concurrency=1 test/*.test.ts
