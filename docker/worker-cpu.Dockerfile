# CPU worker: workflows, data stages, evaluation and submission, and the built-in CPU trainer.
# Build from the repository root: docker build -f docker/worker-cpu.Dockerfile -t arena-worker-cpu .
FROM node:20-bookworm-slim
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
# Connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY / TLS (read by @temporalio/envconfig).
# ARENA_STORE: the run store all workers share (a mounted volume); ARENA_WORKER_ROLE: all | main | gpu.
ENV ARENA_STORE=/data/store ARENA_WORKER_ROLE=all ARENA_DEVICES=1
VOLUME ["/data"]
CMD ["node", "--import", "tsx", "worker.ts"]
