# npf-sweep coordinator image (also the CLI image: `npf submit`, `npf results`, the submit Job).
# Build from the repository root:
#   docker build -f deploy/docker/coordinator.Dockerfile -t registry.example.com/npf-sweep/coordinator:0.1.0 .
# Base images are pinned by digest (deploy/docker/pin-images.sh updates them). Layers are ordered
# so that a source change rebuilds only the TypeScript build, not the dependencies.

ARG NODE_IMAGE=node:24.18.0-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS toolchain
# better-sqlite3 normally downloads a prebuilt binary; the toolchain is there for when it must compile.
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
# tini as PID 1: forwards SIGTERM to node and reaps orphans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 npf \
 && useradd --system --uid 10001 --gid npf --home-dir /data --shell /usr/sbin/nologin npf \
 && mkdir -p /data && chown npf:npf /data
WORKDIR /app
# Owned by root, so the code is read-only to the npf user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY sweeps ./sweeps
COPY data ./data
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production
USER 10001:10001
# 7070: gRPC; 9464: /metrics, /healthz, /readyz.
EXPOSE 7070 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
CMD ["coordinator", "--data-dir", "/data", "--listen", "0.0.0.0:7070", "--http", "0.0.0.0:9464"]
