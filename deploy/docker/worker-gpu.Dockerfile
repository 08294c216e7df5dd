# npf-sweep GPU worker image: TensorFlow.js on @tensorflow/tfjs-node-gpu (libtensorflow 2.9 with
# CUDA 11 / cuDNN 8) on an NVIDIA CUDA runtime base, with Node copied from the official image.
# Build from the repository root:
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t registry.example.com/npf-sweep/worker-gpu:0.1.0 .
# Run: the host needs the NVIDIA driver and container toolkit (docker run --gpus all ...); on
# Kubernetes the NVIDIA device plugin (deploy/k8s/overlays/gpu requests nvidia.com/gpu: 1).
# Dependencies come from deploy/docker/gpu/package-lock.json: the runtime dependencies of
# package.json plus tfjs-node-gpu, locked (npm run gen:gpu-lock). Its install script downloads
# libtensorflow; that layer is rebuilt only when the lockfile changes, never for a source change.
# Base images are pinned by digest (deploy/docker/pin-images.sh updates them).

ARG NODE_IMAGE=node:24.18.0-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04@sha256:85fb7ac694079fff1061a0140fd5b5a641997880e12112d92589c3bbb1e8b7ca
ARG DEBIAN_IMAGE=debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251

FROM ${NODE_IMAGE} AS node

# Fashion-MNIST from Debian (not packaged for the Ubuntu base).
FROM ${DEBIAN_IMAGE} AS datasets
RUN apt-get update \
 && apt-get install -y --no-install-recommends dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/*

# Node on the CUDA base, with the toolchain for native addons (built against this base's glibc).
FROM ${CUDA_IMAGE} AS toolchain
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Runtime dependencies with tfjs-node-gpu: from the GPU lockfile alone.
FROM toolchain AS deps
COPY deploy/docker/gpu/package.json deploy/docker/gpu/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 @tensorflow/tfjs-node-gpu --no-audit --no-fund

# The TypeScript build (platform-independent JavaScript): the repository's lockfile, then the sources.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

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
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY data ./data
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
CMD ["worker", "--coordinator", "npf-coordinator:7070", "--gpus", "1", "--backend", "tensorflow-gpu", "--work-dir", "/work"]
