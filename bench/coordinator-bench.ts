/**
 * Coordinator benchmark (not a test): `npm run bench:coordinator`.
 *
 * The coordinator runs in a child process (its own core); simulated workers in this process talk
 * to it over real gRPC on loopback with the generated client.
 *
 * 1. Throughput: N trials that finish at once (lease -> complete): task lifecycles per second
 *    and LeaseTasks latency p50/p99.
 * 2. Overhead: S slots x M trials that each sleep D ms: makespan against the ideal
 *    (sum of trial durations / slots), as Ray Tune reports it.
 *
 * Flags: --tasks N (10000) --workers W (4) --slots-per-worker K (16)
 *        --sleep-trials M (200) --sleep-slots S (8) --sleep-ms D (1000) --skip-sleep --skip-throughput
 *        --lease-next 1|0 (1: CompleteTask also leases the freed slot's next task; 0: the older
 *        LeaseTasks-per-batch protocol, for before/after comparisons)
 *        --complete-batch 1|0 (1: results ready in the same event-loop turn go out in one
 *        CompleteTasks call, as the real worker does; 0: one CompleteTask per result, the older path)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { SweepServiceClient, WorkerServiceClient, WorkerServiceService, type TaskLease } from '../gen/npf/v1/sweep.js';
import { startCoordinator } from '../coordinator/main.js';
import type { ExpandedTask } from '../coordinator/sweep-types.js';
import type { TrialResult } from '../science/types.js';

const TOKEN = 'bench-token';

function md(): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${TOKEN}`);
  return m;
}

function unary<Res>(client: grpc.Client, method: string, req: unknown): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Res) => void) => void>)[method];
  return new Promise((resolve, reject) => fn.call(client, req, md(), (e, r) => (e ? reject(e) : resolve(r))));
}

function fixtureTasks(n: number, tag: string): ExpandedTask[] {
  return Array.from({ length: n }, (_, i) => ({
    taskId: crypto.createHash('sha256').update(`${tag}-${i}`).digest('hex'),
    key: { dataset: 'mnist', arch: 'fc', optimizer: 'adam', lr: 0.001 * (1 + (i % 10)), regime: 'relu', seed: Math.floor(i / 10) },
    spec: {
      dataset: { name: 'mnist' },
      arch: { kind: 'fc', width: 128, depth: 5, bias: true },
      regime: 'relu',
      gate: { beta: 4, eps: 0.1 },
      optimizer: { name: 'adam', lr: 0.001 },
      loss: 'cross-entropy',
      init: 'glorot-uniform',
      epochs: 1,
      batchSize: 32,
      seed: i,
      backend: 'wasm',
    },
    resources: { cpu: 1, gpu: 0, memoryMb: 100 },
    priority: 0,
  }));
}

const RESULT: TrialResult = {
  status: 'succeeded',
  backend: 'sim',
  bestTestAccuracy: 0.5,
  bestEpoch: 1,
  finalTestAccuracy: 0.5,
  epochs: [{ epoch: 1, trainLoss: 1, testLoss: 1, testAccuracy: 0.5, examplesPerSec: 1, durationMs: 1 }],
  checkpoints: [],
  wallMs: 1,
};
const RESULT_JSON = JSON.stringify(RESULT);

/** Child mode: a WorkerService that does nothing (grants `maxTasks` fake leases, accepts every result): the gRPC floor. */
async function serveFloor(): Promise<void> {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  let n = 0;
  const ok = (_c: unknown, cb: (e: null, r: object) => void): void => cb(null, {});
  const spec = JSON.stringify(fixtureTasks(1, 'floor')[0].spec);
  const fakeLeases = (k: number): object[] =>
    Array.from({ length: k }, () => ({
      taskId: crypto.randomBytes(32).toString('hex'),
      sweepId: 'floor',
      fencingToken: 1,
      specJson: spec,
      resources: { cpu: 1, gpu: 0, memoryMb: 100 },
      gpuIndex: -1,
    }));
  server.addService(WorkerServiceService, {
    registerWorker: (_c: unknown, cb: (e: null, r: object) => void) => cb(null, { workerId: `w${n++}`, workerSecret: 'floor', leaseTtlMs: 60_000, heartbeatIntervalMs: 5_000 }),
    leaseTasks: (c: grpc.ServerUnaryCall<{ maxTasks: number }, unknown>, cb: (e: null, r: object) => void) =>
      cb(null, { leases: fakeLeases(c.request.maxTasks) }),
    heartbeat: ok,
    completeTask: (c: grpc.ServerUnaryCall<{ leaseNext: number }, unknown>, cb: (e: null, r: object) => void) =>
      cb(null, { nextLeases: fakeLeases(c.request.leaseNext) }),
    completeTasks: (c: grpc.ServerUnaryCall<{ items: Array<{ taskId: string }>; leaseNext: number }, unknown>, cb: (e: null, r: object) => void) =>
      cb(null, { outcomes: c.request.items.map((i) => ({ taskId: i.taskId, ok: true, code: 0, message: '' })), nextLeases: fakeLeases(c.request.leaseNext) }),
    failTask: ok,
    uploadArtifact: ok,
    downloadArtifact: ok,
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  process.stdout.write(`${JSON.stringify({ address: `127.0.0.1:${port}`, sweepId: '', submitMs: 0 })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  server.forceShutdown();
}

/** Child mode: a coordinator with N fixture tasks of one sweep; prints its address as JSON. */
async function serve(tasks: number, tag: string): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npf-coord-bench-'));
  const c = await startCoordinator({
    dataDir,
    grpcListen: '127.0.0.1:0',
    httpListen: null,
    token: TOKEN,
    leaseTtlMs: 60_000,
    synchronous: process.env.NPF_BENCH_SYNCHRONOUS === 'normal' ? 'normal' : 'full',
    log: () => {},
  });
  const t0 = performance.now();
  const { sweepId } = await c.core.submitSweep({ name: `bench-${tag}`, fileName: 'bench', specYaml: '', overrides: [], tasks: fixtureTasks(tasks, tag) });
  const submitMs = performance.now() - t0;
  const cpu0 = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ address: c.grpcAddress, sweepId, submitMs })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  if (process.env.NPF_BENCH_DEBUG) console.error(`store: ${c.core.store.stats.writes} writes in ${c.core.store.stats.commits} group commits`);
  await c.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

interface Server {
  child: ChildProcess;
  address: string;
  sweepId: string;
  submitMs: number;
  /** Resolves with the coordinator's CPU time (ms) after submission, reported when it stops. */
  cpuMs: Promise<number>;
}

function startServer(tasks: number, tag: string, floor = false): Promise<Server> {
  const self = fileURLToPath(import.meta.url);
  const nodeArgs = process.env.NPF_BENCH_NODE_ARGS ? process.env.NPF_BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, self, floor ? '--serve-floor' : '--serve', '--tasks', String(tasks), '--tag', tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  let cpuResolve: (ms: number) => void = () => {};
  const cpuMs = new Promise<number>((r) => (cpuResolve = r));
  return new Promise((resolve, reject) => {
    let buf = '';
    let lines = 0;
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { address: string; sweepId: string; submitMs: number; cpuMs: number };
        buf = buf.slice(nl + 1);
        if (lines++ === 0) resolve({ child, address: msg.address, sweepId: msg.sweepId, submitMs: msg.submitMs, cpuMs });
        else cpuResolve(msg.cpuMs);
      }
    });
    child.once('exit', (code) => reject(new Error(`bench coordinator exited with ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

interface SimStats {
  leaseLatencyMs: number[];
  /** LeaseTasks calls made (with lease_next most leases come with CompleteTask instead). */
  leaseCalls: number;
  completed: number;
  busyMs: number;
}

/**
 * A simulated worker with `slots` slots: long-polls LeaseTasks for as many tasks as it has free
 * slots, "runs" each for `trialMs` (0 = finishes at once) and completes it.
 */
async function simulateWorker(
  address: string,
  slots: number,
  trialMs: number,
  done: { v: boolean },
  stats: SimStats,
  leaseNext: boolean,
  batch: boolean,
): Promise<void> {
  const client = new WorkerServiceClient(address, grpc.credentials.createInsecure());
  // Every later call carries the secret the registration returned, as the real worker's client adds it.
  const { workerId, workerSecret } = await unary<{ workerId: string; workerSecret: string }>(client, 'registerWorker', {
    hostname: 'bench',
    resources: { cpu: slots, gpu: 0, memoryMb: slots * 1000 },
    backends: ['sim'],
    version: 'bench',
    gpuNames: [],
    maxBundle: 0,
  });
  let free = slots;
  let wake: (() => void) | undefined;
  const inflight = new Set<Promise<void>>();
  // CompleteTasks: results finished in the same turn wait for the next turn (setImmediate, no
  // timer) and go out in one call asking one lease per result, as worker/completion-batcher.ts does.
  let ready: Array<{ l: TaskLease; resolve: () => void; reject: (e: unknown) => void }> = [];
  const flush = (): void => {
    const b = ready;
    ready = [];
    unary<{ outcomes: Array<{ ok: boolean; message: string }>; nextLeases?: TaskLease[] }>(client, 'completeTasks', {
      items: b.map(({ l }) => ({ workerId, workerSecret, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: RESULT_JSON, artifacts: [], leaseNext: 0 })),
      leaseNext: leaseNext && !done.v ? b.length : 0,
    }).then((res) => {
      b.forEach((x, i) => (res.outcomes[i]?.ok ? x.resolve() : x.reject(new Error(`CompleteTasks refused ${x.l.taskId}: ${res.outcomes[i]?.message}`))));
      stats.completed += b.length;
      free += b.length;
      start(res.nextLeases ?? []);
      wake?.();
    }, (e: unknown) => b.forEach((x) => x.reject(e)));
  };
  const runOne = async (l: TaskLease): Promise<void> => {
    const t0 = performance.now();
    if (trialMs > 0) await new Promise((r) => setTimeout(r, trialMs));
    stats.busyMs += performance.now() - t0;
    if (batch) {
      await new Promise<void>((resolve, reject) => {
        if (ready.push({ l, resolve, reject }) === 1) setImmediate(flush);
      });
      return;
    }
    // lease_next: the freed slot's next task comes back in the CompleteTask answer (as the real worker does).
    const res = await unary<{ nextLeases?: TaskLease[] }>(client, 'completeTask', {
      workerId,
      workerSecret,
      taskId: l.taskId,
      fencingToken: l.fencingToken,
      resultJson: RESULT_JSON,
      artifacts: [],
      leaseNext: leaseNext && !done.v ? 1 : 0,
    });
    stats.completed++;
    free++;
    start(res.nextLeases ?? []);
    wake?.();
  };
  const start = (leases: readonly TaskLease[]): void => {
    for (const l of leases) {
      free--;
      const p = runOne(l).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  };
  // Trials that take time: keep one long poll open even while full; the coordinator answers it
  // as soon as a completion frees a slot (no extra round trip between trials).
  const pipelined = trialMs > 0;
  while (!done.v) {
    if (free === 0 && !pipelined) {
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      continue;
    }
    const t0 = performance.now();
    const { leases } = await unary<{ leases: TaskLease[] }>(client, 'leaseTasks', {
      workerId,
      workerSecret,
      maxTasks: pipelined ? slots : free,
      waitMs: pipelined ? 2000 : 200,
    });
    if (leases.length && !pipelined) stats.leaseLatencyMs.push(performance.now() - t0);
    stats.leaseCalls++;
    start(leases);
  }
  await Promise.all(inflight);
  client.close();
}

function waitForSweep(address: string, sweepId: string): Promise<number> {
  const client = new SweepServiceClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const s = client.watchSweep({ sweepId, fromStart: false }, md());
    s.on('data', (e: { type: string }) => {
      if (e.type === 'sweep.complete' || e.type === 'sweep.cancelled') resolve(performance.now());
    });
    s.on('error', (e) => reject(e));
    s.on('end', () => client.close());
  });
}

async function runScenario(o: { tasks: number; workers: number; slots: number; trialMs: number; tag: string; leaseNext: boolean; batch: boolean }) {
  const srv = await startServer(o.tasks, o.tag);
  const done = { v: false };
  const stats: SimStats = { leaseLatencyMs: [], leaseCalls: 0, completed: 0, busyMs: 0 };
  const finished = waitForSweep(srv.address, srv.sweepId);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const sims = Array.from({ length: o.workers }, () => simulateWorker(srv.address, o.slots, o.trialMs, done, stats, o.leaseNext, o.batch));
  const tEnd = await finished;
  const cpu = process.cpuUsage(cpu0);
  done.v = true;
  await Promise.all(sims);
  await stop(srv.child);
  return { wallMs: tEnd - t0, stats, submitMs: srv.submitMs, coordinatorCpuMs: await srv.cpuMs, workersCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The same simulated workers against the no-op server, until `tasks` lifecycles are done. */
async function runFloor(o: { tasks: number; workers: number; slots: number; leaseNext: boolean; batch: boolean }): Promise<number> {
  const srv = await startServer(0, 'floor', true);
  const done = { v: false };
  const stats: SimStats = { leaseLatencyMs: [], leaseCalls: 0, completed: 0, busyMs: 0 };
  const t0 = performance.now();
  const sims = Array.from({ length: o.workers }, () => simulateWorker(srv.address, o.slots, 0, done, stats, o.leaseNext, o.batch));
  while (stats.completed < o.tasks) await new Promise((r) => setTimeout(r, 5));
  const wall = performance.now() - t0;
  done.v = true;
  await Promise.all(sims);
  srv.child.kill('SIGTERM');
  return (stats.completed / wall) * 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean' },
      'serve-floor': { type: 'boolean' },
      tag: { type: 'string' },
      tasks: { type: 'string', default: '10000' },
      workers: { type: 'string', default: '4' },
      'slots-per-worker': { type: 'string', default: '16' },
      'sleep-trials': { type: 'string', default: '200' },
      'sleep-slots': { type: 'string', default: '8' },
      'sleep-ms': { type: 'string', default: '1000' },
      'skip-sleep': { type: 'boolean' },
      'skip-throughput': { type: 'boolean' },
      'lease-next': { type: 'string', default: '1' },
      'complete-batch': { type: 'string', default: '1' },
    },
  });
  if (values.serve) return serve(Number(values.tasks), values.tag ?? 'x');
  if (values['serve-floor']) return serveFloor();

  const cpu = os.cpus()[0]?.model ?? 'unknown';
  console.log(`machine: ${cpu}, ${os.cpus().length} cores, node ${process.version}`);
  const tag = crypto.randomBytes(4).toString('hex');

  const tasks = Number(values.tasks);
  const workers = Number(values.workers);
  const slots = Number(values['slots-per-worker']);
  const leaseNext = values['lease-next'] !== '0';
  const batch = values['complete-batch'] !== '0';
  const completion = batch ? 'CompleteTasks (results of the same turn in one call)' : 'CompleteTask per result (--complete-batch 0)';
  console.log(
    `protocol: ${completion}, ${leaseNext ? `lease_next=${batch ? 'one per result' : '1'} (LeaseTasks only when it returns nothing)` : 'LeaseTasks for new work (--lease-next 0)'}`,
  );
  if (!values['skip-throughput']) {
    const floor = await runFloor({ tasks, workers, slots, leaseNext, batch });
    console.log(`gRPC floor (same workers against a WorkerService that does nothing): ${floor.toFixed(0)} lifecycles/s`);
    const a = await runScenario({ tasks, workers, slots, trialMs: 0, tag: `${tag}-t`, leaseNext, batch });
    const lat = a.stats.leaseLatencyMs;
    console.log(
      `throughput: ${tasks} trials, ${workers} workers x ${slots} slots: ${(tasks / (a.wallMs / 1000)).toFixed(0)} lifecycles/s ` +
        `(${(a.wallMs / 1000).toFixed(2)} s; submit ${a.submitMs.toFixed(0)} ms), LeaseTasks latency p50 ${quantile(lat, 0.5).toFixed(2)} ms ` +
        `p99 ${quantile(lat, 0.99).toFixed(2)} ms over ${lat.length} calls that leased (${a.stats.leaseCalls} LeaseTasks calls in all); ` +
        `coordinator CPU ${((a.coordinatorCpuMs * 1000) / tasks).toFixed(0)} us per lifecycle (= ${(tasks / (a.coordinatorCpuMs / 1000)).toFixed(0)} lifecycles per CPU-second); ` +
        `simulated workers' CPU ${((a.workersCpuMs * 1000) / tasks).toFixed(0)} us per lifecycle`,
    );
  }

  if (!values['skip-sleep']) {
    const m = Number(values['sleep-trials']);
    const s = Number(values['sleep-slots']);
    const d = Number(values['sleep-ms']);
    const b = await runScenario({ tasks: m, workers: s, slots: 1, trialMs: d, tag: `${tag}-s`, leaseNext, batch });
    const ideal = b.stats.busyMs / s;
    console.log(
      `overhead: ${m} trials of ${d} ms on ${s} slots (${s} workers x 1): makespan ${(b.wallMs / 1000).toFixed(3)} s, ` +
        `ideal (sum of measured durations / slots) ${(ideal / 1000).toFixed(3)} s, overhead ${(((b.wallMs - ideal) / ideal) * 100).toFixed(2)}%`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
