/**
 * (a) `npf run` end to end with the REAL trainer (science/run-trial.ts): an embedded coordinator
 * and two local worker processes over loopback gRPC run a sweep with dependencies (ReLU parents,
 * FLNPF from their 'best' checkpoint, stage 0 and stage 1 from 'best@10') on a tiny MNIST subset,
 * to a complete table; re-running the same command resumes with nothing left to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/main.js';
import { E2E } from './harness.js';

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

// Stage k reads the ReLU parent's best@<10k> (science/regimes.ts), so ReLU trains 10 epochs.
const SPEC = `name: e2e-embedded
axes:
  datasets:
    - name: mnist
      trainSubset: { first: 300 }
      testSubset: { first: 200 }
  archs:
    - kind: fc
      width: 32
      depth: 2
  optimizers:
    - name: adam
      lrs: [0.001]
  regimes: [relu, flnpf, stage]
  stages: [0, 1]
  seedCount: 2
epochs: { relu: 10, default: 2 }
checkpointEvery: 10
batchSize: 32
backend: wasm
resources: { cpu: 1, gpu: 0, memoryMb: 512 }
`;

describe('e2e npf run', () => {
  it('e2e - npf run trains a sweep with dependencies on two worker processes to a complete table, and resumes', async () => {
    env = new E2E('run');
    const spec = env.write('sweep.yaml', SPEC);
    const dataDir = env.path('state');
    const first = env.npf('npf-run', ['run', spec, '--workers', '2', '--data-dir', dataDir, '--plain']);
    const exit = await first.exited;
    expect(exit.code, first.err).toBe(0);
    expect(first.err).toMatch(/8 trials; 0 of 8 trials already done/);
    expect(first.err).toMatch(/2 local worker process\(es\)/);
    expect(first.err).toMatch(/flnpf .* seed 1 {2}leased to /); // one line per event when not a TTY
    expect(first.out).not.toMatch(/Failed trials/);
    const sweepId = /sweep e2e-embedded \((\S+)\)/.exec(first.err)![1];
    for (const ext of ['md', 'csv', 'json', 'tex']) expect(existsSync(`${dataDir}/sweeps/${sweepId}/results.${ext}`), ext).toBe(true);
    expect(readFileSync(`${dataDir}/sweeps/${sweepId}/results.md`, 'utf8').trim()).toBe(first.out.trim());
    // Figures next to the results: Table 2 bars and one accuracy curve per trial.
    for (const fig of ['table2', 'trial-curves']) {
      const png = readFileSync(`${dataDir}/sweeps/${sweepId}/figures/${fig}.png`);
      expect(png.subarray(1, 4).toString('latin1'), fig).toBe('PNG');
    }
    expect(readFileSync(`${dataDir}/sweeps/${sweepId}/figures/trial-curves.svg`, 'utf8')).toMatch(/flnpf/i);

    // Every cell filled: open the store the run left and look at each trial.
    const rc = await startCoordinator({ dataDir, grpcListen: '127.0.0.1:0', httpListen: null, registry: new Registry(), log: () => undefined });
    try {
      const outcomes = rc.core.outcomes(sweepId);
      expect(outcomes).toHaveLength(8);
      const cells = new Map<string, number[]>();
      for (const o of outcomes) {
        expect(o.status, `${o.key.regime} seed ${o.key.seed}`).toBe('succeeded');
        const r = o.result!;
        expect(r.backend).toBe('wasm');
        expect(r.bestTestAccuracy).toBeGreaterThan(0.1); // better than chance on 10 classes
        expect(r.bestTestAccuracy).toBeLessThanOrEqual(1);
        expect(r.epochs).toHaveLength(o.key.regime === 'relu' ? 10 : 2);
        if (o.key.regime === 'relu') expect(r.checkpoints.map((c) => c.name).sort()).toEqual(['best', 'best@10']);
        const cell = `${o.key.regime}${o.key.stage ?? ''}`;
        cells.set(cell, [...(cells.get(cell) ?? []), o.key.seed]);
        expect(rc.core.taskState(o.taskId).attempt).toBe(1);
      }
      expect([...cells.keys()].sort()).toEqual(['flnpf', 'relu', 'stage0', 'stage1']);
      for (const seeds of cells.values()) expect(seeds.sort()).toEqual([0, 1]);
    } finally {
      await rc.stop();
    }

    // Same command again: nothing left to run, same table.
    const again = env.npf('npf-run-again', ['run', spec, '--workers', '2', '--data-dir', dataDir, '--plain']);
    expect((await again.exited).code, again.err).toBe(0);
    expect(again.err).toMatch(/8 of 8 trials already done/);
    expect(again.err).not.toMatch(/local worker process/);
    expect(again.out).toBe(first.out);
  });
});
