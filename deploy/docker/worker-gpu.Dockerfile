# npf-sweep GPU worker image: TensorFlow.js on @tensorflow/tfjs-node-gpu (libtensorflow 2.9 with
# CUDA 11 / cuDNN 8) on an NVIDIA CUDA runtime base, with Node 20 copied from the official image.
# Build from the repository root:
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t registry.example.com/npf-sweep/worker-gpu:0.1.0 .
# Run: the host needs the NVIDIA driver and container toolkit (docker run --gpus all ...); on
# Kubernetes the NVIDIA device plugin (deploy/k8s/overlays/gpu requests nvidia.com/gpu: 1).
ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04

FROM node:20-bookworm-slim AS node

# Fashion-MNIST from Debian (not packaged for the Ubuntu base).
FROM debian:bookworm-slim AS datasets
RUN apt-get update \
 && apt-get install -y --no-install-recommends dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/*

FROM ${CUDA_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# tfjs-node-gpu's install script downloads libtensorflow (GPU) and its Node addon at build time.
# It is not in package.json (it cannot be installed everywhere); the science core loads it
# dynamically when present.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm install --no-save --omit=dev --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0

FROM ${CUDA_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 npf \
 && useradd --system --uid 10001 --gid npf --home-dir /work --shell /usr/sbin/nologin npf \
 && mkdir -p /work && chown npf:npf /work
COPY --from=datasets /usr/share/datasets/fashion-mnist /usr/share/datasets/fashion-mnist
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/data ./data
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
CMD ["worker", "--coordinator", "npf-coordinator:7070", "--gpus", "1", "--backend", "tensorflow-gpu", "--work-dir", "/work"]
