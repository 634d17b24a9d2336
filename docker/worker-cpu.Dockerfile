# CPU worker: workflows, data stages, evaluation and submission, and the built-in CPU trainer.
# Build from the repository root: docker build -f docker/worker-cpu.Dockerfile -t arena-worker-cpu .
# Run with a stop timeout above ARENA_SHUTDOWN_GRACE (docker stop's default of 10 s would SIGKILL
# stages before they are failed as Preempted): docker run --stop-timeout 30 ...
FROM node:20-bookworm-slim
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
# g++, make and python3 build the native parts: cld's install script and native/cld2 (language ID).
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run --prefix native/cld2 --silent build
# Connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY / TLS (read by @temporalio/envconfig).
# ARENA_STORE: the run store all workers share (a mounted volume); ARENA_WORKER_ROLE: all | main | gpu.
# Run data: mount it read-only under /app/data/raw, or elsewhere and name that folder in
# ARENA_DATA_ROOTS; a run reads no file outside the data roots (README, Security).
ENV ARENA_STORE=/data/store ARENA_WORKER_ROLE=all ARENA_DEVICES=1
# Least privilege (README, Security): the image's unprivileged `node` user, which owns only the
# store volume; a new named volume takes this ownership from the image.
RUN mkdir -p /data/store && chown -R node:node /data
USER node
VOLUME ["/data"]
# worker.ts is PID 1 and handles SIGTERM itself: stages checkpoint or finish within ARENA_SHUTDOWN_GRACE.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "worker.ts"]
