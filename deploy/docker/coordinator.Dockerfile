# npf-sweep coordinator image (also the CLI image: `npf submit`, `npf results`, the submit Job).
# Build from the repository root:
#   docker build -f deploy/docker/coordinator.Dockerfile -t registry.example.com/npf-sweep/coordinator:0.1.0 .

FROM node:20-bookworm-slim AS build
# better-sqlite3 normally downloads a prebuilt binary; the toolchain is there for when it must compile.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# npm ci runs `prepare`, which compiles the TypeScript into dist/; then drop the dev dependencies.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# tini as PID 1: forwards SIGTERM to node and reaps orphans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 npf \
 && useradd --system --uid 10001 --gid npf --home-dir /data --shell /usr/sbin/nologin npf \
 && mkdir -p /data && chown npf:npf /data
WORKDIR /app
# Owned by root, so the code is read-only to the npf user.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/sweeps ./sweeps
COPY --from=build /app/data ./data
ENV NODE_ENV=production
USER 10001:10001
# 7070: gRPC; 9464: /metrics, /healthz, /readyz.
EXPOSE 7070 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
CMD ["coordinator", "--data-dir", "/data", "--listen", "0.0.0.0:7070", "--http", "0.0.0.0:9464"]
