/**
 * A store filled through the coordinator's own API (SweepCoordinator over a real SQLite Store):
 * a sweep expanded from a real spec, its trials leased, reported and completed by a registered
 * worker, ReLU checkpoints uploaded (so FLNPF trials are unblocked by them), some trials left
 * running with progress, some failed. What the dashboard tests and the 10,000-trial benchmark
 * read, without training anything.
 */
import crypto from 'node:crypto';
import { ArtifactStore } from '../../coordinator/artifact-store.js';
import { aggregateOptionsFor } from '../../coordinator/results/aggregate-options-for.js';
import { CoordinatorStore } from '../../coordinator/store/coordinator-store.js';
import { SweepCoordinator } from '../../coordinator/sweep-coordinator.js';
import { expandSweep } from '../../coordinator/sweep-spec/expand-sweep.js';
import { parseSweepSpec } from '../../coordinator/sweep-spec/parse-sweep.js';
import type { ExpandedTask } from '../../coordinator/sweep-types.js';
import type { EpochRecord, TrialResult } from '../../science/types.js';

export interface SyntheticSweepOptions {
  name: string;
  /** Step sizes (trials = 5 regimes x lrs x seeds). */
  lrs: number[];
  seeds: number;
  epochs: number;
  /** Trials left running with this many epochs reported (default 0 trials). */
  running?: number;
  /** Trials failed for good with this error text. */
  failed?: { count: number; error: string };
}

export interface SyntheticSweep {
  sweepId: string;
  tasks: ExpandedTask[];
  /** Task ids left leased/running. */
  running: string[];
  core: SweepCoordinator;
  close(): void;
}

export function syntheticSpecYaml(o: Pick<SyntheticSweepOptions, 'name' | 'lrs' | 'seeds' | 'epochs'>): string {
  return `name: ${o.name}
axes:
  datasets:
    - name: mnist
      trainSubset: { first: 1000 }
      testSubset: { first: 500 }
  archs:
    - kind: fc
      width: 16
      depth: 2
  optimizers:
    - name: adam
      lrs: [${o.lrs.join(', ')}]
  regimes: [frnpf-ii, frnpf-di, dnpfl, flnpf, relu]
  seedCount: ${o.seeds}
${o.lrs.length > 1 ? 'select: { metric: mean, over: lr }\n' : ''}epochs: ${o.epochs}
batchSize: 32
backend: wasm
resources: { cpu: 1, gpu: 0, memoryMb: 256 }
limits: { maxTrials: 100000 }
`;
}

/** Deterministic accuracy of a synthetic trial: by regime, step size, seed and epoch. */
export function syntheticAccuracy(t: ExpandedTask, epoch: number): number {
  const base: Record<string, number> = { relu: 0.95, 'frnpf-ii': 0.9, 'frnpf-di': 0.9, dnpfl: 0.94, flnpf: 0.95, stage: 0.9 };
  const seedJitter = (((t.key.seed * 7919) % 97) / 97 - 0.5) * 0.01;
  const lrShift = -Math.abs(Math.log10(t.key.lr) + 3) * 0.01;
  return Math.round(((base[t.key.regime] ?? 0.9) - 0.2 * Math.exp(-epoch / 2) + seedJitter + lrShift) * 10_000) / 10_000;
}

function epochs(t: ExpandedTask, n: number): EpochRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const acc = syntheticAccuracy(t, i + 1);
    return { epoch: i + 1, trainLoss: 1.2 - acc, testLoss: 1.25 - acc, testAccuracy: acc, examplesPerSec: 5000 + i, durationMs: 1000 };
  });
}

function result(t: ExpandedTask, n: number, checkpoints: TrialResult['checkpoints']): TrialResult {
  const es = epochs(t, n);
  const best = es.reduce((b, e) => (e.testAccuracy > b.testAccuracy ? e : b), es[0]);
  return { status: 'succeeded', backend: 'wasm', bestTestAccuracy: best.testAccuracy, bestEpoch: best.epoch, finalTestAccuracy: es.at(-1)!.testAccuracy, epochs: es, checkpoints, wallMs: n * 1000 };
}

/**
 * Fill `dataDir` with one sweep. The clock is real (the dashboard shows elapsed times), the
 * store synchronous 'normal' (no fsync per commit: this is test data).
 */
export async function fillSyntheticSweep(dataDir: string, o: SyntheticSweepOptions): Promise<SyntheticSweep> {
  const store = new CoordinatorStore(dataDir, () => undefined, 'normal');
  const core = new SweepCoordinator(store, new ArtifactStore(dataDir, 1 << 20), {
    leaseTtlMs: 3_600_000,
    heartbeatIntervalMs: 1000,
    maxAttempts: 1,
    retryBackoffMs: 0,
    maxBackoffMs: 0,
    now: Date.now,
    log: () => undefined,
  });
  const yaml = syntheticSpecYaml(o);
  const spec = parseSweepSpec(yaml, { file: `${o.name}.yaml` });
  const tasks = expandSweep(spec);
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const { sweepId } = await core.submitSweep({ name: spec.name, fileName: `${o.name}.yaml`, specYaml: yaml, overrides: [], tasks, aggregation: aggregateOptionsFor(spec) });
  const { workerId } = await core.registerWorker({ hostname: 'synthetic', resources: { cpu: 100_000, gpu: 0, memoryMb: 1e9 }, backends: ['wasm'], version: 'test' });

  const keepRunning = new Set<string>();
  const failing = new Set<string>();
  let toRun = o.running ?? 0;
  let toFail = o.failed?.count ?? 0;
  const running: string[] = [];
  for (;;) {
    const leases = await core.leaseNow(workerId, 256);
    if (leases.length === 0) break;
    const reports = [];
    for (const l of leases) {
      const t = byId.get(l.taskId)!;
      // Leaves (not ReLU parents) may be kept running or failed; parents always finish.
      if (t.key.regime !== 'relu' && toRun > 0) {
        toRun--;
        keepRunning.add(l.taskId);
        running.push(l.taskId);
        const es = epochs(t, Math.max(1, Math.floor(o.epochs / 2)));
        await core.heartbeat(workerId, [{ taskId: l.taskId, fencingToken: l.fencingToken, epoch: es.length, epochsJson: JSON.stringify(es) }], false);
        continue;
      }
      if (t.key.regime !== 'relu' && toFail > 0) {
        toFail--;
        failing.add(l.taskId);
        await core.failTask(workerId, l.taskId, l.fencingToken, o.failed!.error, false);
        continue;
      }
      const checkpoints: TrialResult['checkpoints'] = [];
      const artifacts = [];
      if (t.key.regime === 'relu') {
        const bytes = Buffer.from(JSON.stringify({ synthetic: true, taskId: t.taskId }));
        const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
        const ref = { name: 'best', sha256, size: bytes.length, epoch: o.epochs };
        const header = { taskId: l.taskId, fencingToken: l.fencingToken, ref };
        const up = core.beginUpload(header);
        up.append(bytes);
        await core.finishUpload(up, header);
        artifacts.push(ref);
        checkpoints.push({ name: 'best', path: 'best.npfckpt', sha256, epoch: o.epochs, testAccuracy: syntheticAccuracy(t, o.epochs) });
      }
      reports.push({ workerId, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(result(t, o.epochs, checkpoints)), artifacts });
    }
    for (let i = 0; i < reports.length; i += 256) await core.completeTasks(reports.slice(i, i + 256));
    if (leases.every((l) => keepRunning.has(l.taskId) || failing.has(l.taskId))) {
      // Everything leased this turn stays open: lease more only while pending trials remain.
      if (core.countsOf(sweepId).pending === 0) break;
    }
  }
  return { sweepId, tasks, running, core, close: () => store.close() };
}
