/**
 * `npf run` after an interrupted run whose workers died holding leases (a killed terminal, a
 * crash): the embedded coordinator's workers are all its own children, so those leases belong to
 * nobody and are released at start; the resume does not wait out the lease TTL (10 minutes here).
 * Trainer: the fake-sleep test double.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/main.js';
import { E2E, fakeSweepYaml } from './harness.js';

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

const TTL = '600000';

describe('e2e npf run releases stale leases', () => {
  it('e2e - npf run releases the leases of an earlier run\'s dead workers at start and finishes without waiting for the TTL', async () => {
    env = new E2E('run-release');
    const yaml = fakeSweepYaml('released', 1, 2);
    const spec = env.write('sweep.yaml', yaml);
    const state = env.path('state');

    // The interrupted run: the same sweep in the same store, every ready trial leased to a worker that is gone.
    const before = await startCoordinator({ dataDir: state, grpcListen: '127.0.0.1:0', httpListen: null, leaseTtlMs: Number(TTL), log: () => {} });
    const { sweepId } = await before.submitSweep(yaml, 'sweep.yaml', []);
    const { workerId } = await before.core.registerWorker({ hostname: 'gone', resources: { cpu: 8, gpu: 0, memoryMb: 8000 }, backends: ['cpu'], version: 't' });
    const leased = await before.core.leaseNow(workerId, 8);
    expect(leased.length).toBeGreaterThanOrEqual(2);
    await before.stop();

    const run = env.npf('npf-run', ['run', spec, '--workers', '2', '--data-dir', state, '--plain', '--lease-ttl-ms', TTL], {
      NPF_TRIAL_RUNNER: 'fake-sleep',
      NPF_FAKE_EPOCH_MS: '20',
    });
    const exit = await run.exited;
    expect(exit.code, run.err).toBe(0);
    expect(run.err).toMatch(new RegExp(`${leased.length} lease\\(s\\) held by workers of an earlier run released`));
    expect(run.err).toMatch(/3 of 3 trials finished/);

    // Each released trial: attempt 1 interrupted (released, not counted), attempt 2 succeeded on a worker of this run.
    const after = await startCoordinator({ dataDir: state, grpcListen: '127.0.0.1:0', httpListen: null, leaseTtlMs: Number(TTL), log: () => {} });
    try {
      expect(after.core.getSweep(sweepId).state).toBe('complete');
      for (const l of leased) {
        const attempts = after.core.attemptsOf(l.taskId);
        expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
          [1, 'interrupted'],
          [2, 'succeeded'],
        ]);
        expect(attempts[0]).toMatchObject({ workerId, error: expect.stringMatching(/^lease released: its worker belonged to an earlier npf run/) });
        expect(after.core.taskState(l.taskId).tries).toBe(1);
      }
    } finally {
      await after.stop();
    }
  });
});
