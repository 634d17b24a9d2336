# GPU worker: the `train` stage's shards, merges and export (trainShard, mergeShards, exportModel) on
# local GPUs with the Python trainer (trainers/gpu), one trainer process per device.
# Build from the repository root: docker build -f docker/worker-gpu.Dockerfile -t arena-worker-gpu .
# Run: docker run --gpus all --stop-timeout 30 -e TEMPORAL_ADDRESS=... -e ARENA_DEVICES=2 -v /data:/data -v /models:/app/models:ro arena-worker-gpu
# (--stop-timeout above ARENA_SHUTDOWN_GRACE, 25 s: on SIGTERM the trainers checkpoint first.)
FROM node:20-bookworm-slim AS node

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates util-linux \
 && rm -rf /var/lib/apt/lists/*
# Node 20 with its npm, from the official image (its binaries need only glibc 2.28).
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
WORKDIR /app

# The trainer's Python environment first: it changes least and is the largest layer (~6 GB).
# ARENA_TRAINER_PYTHON tells trainers/gpu/run.sh which python to use, so nothing is built at run time.
ENV ARENA_CACHE_DIR=/opt/arena ARENA_TRAINER_BASE_PYTHON=python3.11
COPY trainers/gpu/requirements.txt trainers/gpu/requirements.txt
COPY scripts/cached-venv.sh scripts/setup-trainer-env.sh scripts/
RUN ln -s "$(bash scripts/setup-trainer-env.sh)" /usr/local/bin/arena-trainer-python \
 && /usr/local/bin/arena-trainer-python -c "import torch, transformers, peft, bitsandbytes, onnx, jsonschema"
ENV ARENA_TRAINER_PYTHON=/usr/local/bin/arena-trainer-python

# onnxruntime-node with the CUDA 12 execution provider (unused today: evaluate and submit run on the
# main queue, and lib/inference/onnx-session.ts asks for no provider): its postinstall script
# downloads the CUDA EP binaries. The env var wins over .npmrc's `onnxruntime-node-install=skip`
# (the CPU build's setting).
# npm 10 (Node 20) runs dependency install scripts; npm 11 blocks them unless allowed, and refuses
# --allow-scripts on the command line of a project install, so it is allowed through the environment.
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm_config_allow_scripts=onnxruntime-node npm ci --no-audit --no-fund \
 && ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ | grep -q providers_cuda \
 || { echo "onnxruntime-node's CUDA provider was not installed (install script skipped?)" >&2; exit 1; }
COPY . .

# Connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY / TLS (read by @temporalio/envconfig).
# ARENA_STORE: the run store all workers share (a mounted volume). Backbones: mount them under
# /app/models (configs name model.basemodel_path relative to the repository root); see docs/gpu-trainer.md.
# Trainers see only an allowlisted environment (lib/trainer-process.ts) plus the gpu entry's `env`
# (HF_HUB_OFFLINE among them); never the AWS or Temporal credentials.
ENV ARENA_STORE=/data/store ARENA_WORKER_ROLE=gpu ARENA_DEVICES=1 HF_HUB_OFFLINE=1
# Least privilege (README, Security): an unprivileged user (uid 1000) that owns only the store volume
# (a bind-mounted /data must be writable by uid 1000); the code, node_modules and the trainer venv
# stay root-owned and read-only to it.
RUN useradd --create-home --uid 1000 arena && mkdir -p /data/store && chown -R arena:arena /data
USER arena
VOLUME ["/data"]
# worker.ts must be PID 1 (no shell wrapper): on SIGTERM it sends its trainers the `preempt` request
# and exits within ARENA_SHUTDOWN_GRACE (default 25 s; RunPod's SIGKILL follows 30 s after SIGTERM).
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "worker.ts"]
