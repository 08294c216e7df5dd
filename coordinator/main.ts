/**
 * Composition root of a coordinator process: opens the store, wires core, metrics, gRPC and
 * HTTP edges, runs the lease-expiry timer. `startCoordinator` is also what `npf run` embeds.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { InvalidInputError } from '../common/errors.js';
import { ArtifactStore } from './artifact-store.js';
import { resolveCoordinatorOptions, type CoordinatorOptions } from './coordinator-options.js';
import { edgeInterceptor } from './grpc-interceptor.js';
import { buildServices, startGrpcServer, type SweepExpander } from './grpc-server.js';
import { startHttpEndpoints, type HttpEndpoints } from '../common/http-endpoints.js';
import { CoordinatorMetrics } from './metrics.js';
import { createNatsEventSink, type NatsEventSink } from '../events/nats-event-sink.js';
import { renderSweepResults } from './render-results.js';
import { aggregateOptionsFor } from './results/aggregate-options-for.js';
import { loadPaperReference } from './results/load-paper-reference.js';
import type { PaperReference } from './results/paper-reference.js';
import { expandSweep } from './sweep-spec/expand-sweep.js';
import { parseSweepSpec } from './sweep-spec/parse-sweep.js';
import { acquireSingleWriterLock } from './single-writer-lock.js';
import { CoordinatorStore } from './store/coordinator-store.js';
import { SweepCoordinator, type SweepSource } from './sweep-coordinator.js';
import type { StoreDataSource } from '../dashboard/data-source.js';
import type { Dashboard } from '../dashboard/http-handler.js';

export type { CoordinatorOptions } from './coordinator-options.js';

export interface RunningCoordinator {
  /** host:port actually bound. */
  grpcAddress: string;
  /** host:port of /metrics, /healthz, /readyz (and the dashboard at /, unless ui is 'off'). */
  httpAddress?: string;
  /** The in-process API (what `npf run` and tests use directly). */
  core: SweepCoordinator;
  /** Leases handed back at start (releaseLeasesAtStart), 0 otherwise. */
  leasesReleasedAtStart: number;
  registry: Registry;
  /** Parse, expand and submit a sweep spec, like SubmitSweep. */
  submitSweep(specYaml: string, fileName?: string, overrides?: readonly string[]): ReturnType<SweepCoordinator['submitSweep']>;
  /** The rendered results table of a sweep. */
  results(sweepId: string, format?: string): { table: string; complete: boolean };
  stop(): Promise<void>;
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new InvalidInputError(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
}

export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const o = resolveCoordinatorOptions(options);
  const registry = o.registry ?? new Registry();
  // One writer per data directory: a second coordinator (or `npf run`) on it stops here.
  const lock = acquireSingleWriterLock(o.dataDir);
  let store: CoordinatorStore;
  try {
    store = new CoordinatorStore(o.dataDir, (e) => o.log(`after-commit effect failed: ${String(e)}`), o.synchronous);
  } catch (e) {
    lock.release();
    throw e;
  }
  const closeStore = (): void => {
    store.close();
    lock.release();
  };
  const metrics = new CoordinatorMetrics(registry);
  const core = new SweepCoordinator(
    store,
    new ArtifactStore(o.dataDir, o.maxArtifactBytes),
    {
      leaseTtlMs: o.leaseTtlMs,
      artifactBytesPerSweep: o.maxArtifactBytesPerSweep,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      maxAttempts: o.maxAttempts,
      retryBackoffMs: o.retryBackoffMs,
      maxBackoffMs: o.maxBackoffMs,
      now: o.now,
      log: o.log,
    },
    metrics,
  );
  metrics.attach(core);

  // Carry on where a previous run stopped: leases that expired while it was down go back to
  // pending; an embedded coordinator (`npf run`) hands back every lease of its earlier, stopped
  // run as interrupted instead.
  let leasesReleasedAtStart = 0;
  if (o.releaseLeasesAtStart) {
    const released = (leasesReleasedAtStart = await core.releaseAllLeases(o.releaseLeasesAtStart));
    if (released > 0) o.log(`${released} lease(s) released: ${o.releaseLeasesAtStart}`);
  } else {
    const requeued = await core.expireLeases();
    if (requeued > 0) o.log(`requeued ${requeued} task(s) whose lease expired while the coordinator was down`);
  }

  const expand: SweepExpander = (specYaml, fileName, overrides) => {
    const spec = parseSweepSpec(specYaml, { file: fileName, env: o.env, set: overrides });
    // Aggregation options resolved now, with this process's environment, and stored with the sweep.
    return { name: spec.name, tasks: expandSweep(spec, { maxTrialsPerSweep: o.maxTrialsPerSweep }), aggregation: aggregateOptionsFor(spec) };
  };
  let paper: PaperReference | undefined;
  try {
    paper = await loadPaperReference();
  } catch (e) {
    o.log(`results will not show the paper's numbers: ${(e as Error).message}`);
  }
  const renderResults = (sweepId: string, format = 'markdown'): { table: string; complete: boolean } =>
    renderSweepResults(core, sweepId, format, paper, o.env, o.log);

  // Events on NATS JetStream when a URL is given; the sweep never waits on NATS (the sink buffers).
  let nats: NatsEventSink | undefined;
  let unbridge: (() => void) | undefined;
  if (o.nats) {
    nats = await createNatsEventSink({ url: o.nats.url, required: o.nats.required, token: o.nats.token, maxBytes: o.nats.maxBytes, registry, log: o.log });
    const sink = nats;
    unbridge = core.onEvent((e) => sink.publish(e));
  }

  const stopper = new AbortController();
  const resolveSpec = (source: SweepSource): unknown => {
    try {
      return parseSweepSpec(source.specYaml, { file: source.fileName, env: o.env, set: source.overrides });
    } catch (e) {
      if (e instanceof InvalidInputError) return undefined;
      throw e;
    }
  };
  const services = buildServices({
    core,
    expand,
    resolveSpec,
    renderResults,
    log: o.log,
    stopSignal: stopper.signal,
    uploadIdleMs: o.uploadIdleMs,
    watchBacklog: o.watchBacklog,
  });
  o.log(
    !o.token
      ? 'no token: every client may call every rpc'
      : o.workerToken
        ? 'two tokens: the administration token grants SweepService (submit, cancel, results, watch, list), the worker token WorkerService only'
        : 'one token: it grants administration (SweepService) and worker rpcs (WorkerService) alike; give workers their own with a worker token (--worker-token-file)',
  );
  const interceptor = edgeInterceptor({
    token: o.token,
    workerToken: o.workerToken,
    count: (method, code) => metrics.countRequest(method, grpc.status[code] ?? String(code)),
    log: o.log,
  });
  const credentials = o.tls
    ? grpc.ServerCredentials.createSsl(
        o.tls.caFile ? readPem(o.tls.caFile, 'CA') : null,
        [{ cert_chain: readPem(o.tls.certFile, 'certificate'), private_key: readPem(o.tls.keyFile, 'key') }],
        !!o.tls.caFile,
      )
    : grpc.ServerCredentials.createInsecure();
  let grpcServer: grpc.Server | undefined;
  let http: HttpEndpoints | undefined;
  // The web dashboard reads the store through its own read-only connection; commits wake its live stream.
  let dashboard: { ui: Dashboard; source: StoreDataSource; unsubscribe: () => void } | undefined;
  const closeDashboard = (): void => {
    dashboard?.unsubscribe();
    dashboard?.ui.close();
    dashboard?.source.close();
    dashboard = undefined;
  };
  let serving = false;
  let timer: NodeJS.Timeout | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  try {
    const bound = await startGrpcServer(services, o.grpcListen, credentials, [interceptor]);
    grpcServer = bound.server;
    serving = true;
    const host = o.grpcListen.slice(0, o.grpcListen.lastIndexOf(':'));
    const grpcAddress = `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${bound.port}`;
    if (o.httpListen && o.ui !== 'off') {
      // Loaded only here: a coordinator without the dashboard does not load vega and the rest.
      const [{ StoreDataSource }, { createDashboard }, { loadReportContext }] = await Promise.all([
        import('../dashboard/data-source.js'),
        import('../dashboard/http-handler.js'),
        import('../dashboard/report-context.js'),
      ]);
      const source = new StoreDataSource(o.dataDir);
      const ui = createDashboard({ source, token: o.token, loopbackOnly: o.ui === 'loopback', report: await loadReportContext(o.env, o.log) });
      dashboard = { ui, source, unsubscribe: core.onEvent(() => ui.wake()) };
    }
    const ui = dashboard?.ui;
    if (o.httpListen) {
      http = await startHttpEndpoints(o.httpListen, registry, { ready: () => serving && store.isOpen(), ...(ui ? { fallback: (req, res) => ui.handle(req, res) } : {}) });
    }
    if (o.expiryCheckMs > 0) {
      timer = setInterval(() => {
        core.expireLeases().catch((e: unknown) => o.log(`lease expiry check failed: ${String(e)}`));
      }, o.expiryCheckMs);
      timer.unref();
    }
    // Retention (core/retention.ts): at start, then every hour.
    if (o.retentionDays > 0) {
      const retentionMs = o.retentionDays * 24 * 3_600_000;
      const prune = (): void => {
        core.prune(retentionMs).then(
          (r) => {
            if (r.events + r.progressRows + r.workers > 0) {
              o.log(`retention: pruned ${r.events} progress event(s) of ${r.sweeps} finished sweep(s), ${r.progressRows} epoch record(s) and ${r.workers} worker(s) not seen for ${o.retentionDays} day(s)`);
            }
          },
          (e: unknown) => o.log(`retention failed: ${String(e)}`),
        );
      };
      prune();
      retentionTimer = setInterval(prune, 3_600_000);
      retentionTimer.unref();
    }
    o.log(`serving gRPC on ${grpcAddress}${o.tls ? ' (TLS)' : ''}${http ? `, metrics on http://${http.address}/metrics` : ''}`);

    let stopped = false;
    return {
      grpcAddress,
      httpAddress: http?.address,
      core,
      leasesReleasedAtStart,
      registry,
      submitSweep: (specYaml, fileName = 'sweep.yaml', overrides = []) => {
        const { name, tasks, aggregation } = expand(specYaml, fileName, overrides);
        return core.submitSweep({ name, fileName, specYaml, overrides, tasks, aggregation });
      },
      results: renderResults,
      async stop() {
        if (stopped) return;
        stopped = true;
        serving = false;
        if (timer) clearInterval(timer);
        if (retentionTimer) clearInterval(retentionTimer);
        stopper.abort();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            grpcServer?.forceShutdown();
            resolve();
          }, 2000);
          grpcServer?.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await http?.close();
        closeDashboard();
        unbridge?.();
        await nats?.close();
        closeStore();
      },
    };
  } catch (e) {
    if (timer) clearInterval(timer);
    if (retentionTimer) clearInterval(retentionTimer);
    grpcServer?.forceShutdown();
    await http?.close();
    closeDashboard();
    unbridge?.();
    await nats?.close();
    closeStore();
    if (e instanceof Error && /address|EADDRINUSE|bind/i.test(e.message)) {
      throw new InvalidInputError(`cannot listen on ${o.grpcListen}${o.httpListen ? ` / ${o.httpListen}` : ''}: ${e.message}`);
    }
    throw e;
  }
}
