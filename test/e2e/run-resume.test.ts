/**
 * Interrupts are not failures, and a stopped trial continues from its last resume state: npf run
 * interrupted four times (more than the 3 attempts a trial is allowed) never reports "gave up",
 * each stopped attempt is recorded 'interrupted', and the trial's final result says the epoch it
 * resumed from. Drives the real binary; trainer: the fake-sleep test double.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/main.js';
import { csvRecords } from '../results/csv-strict.js';
import { E2E, fakeSweepYaml, waitFor } from './harness.js';

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

const yaml = fakeSweepYaml('resumes', 1, 150, ['relu']);

describe('e2e npf run interrupted and resumed', () => {
  it('e2e - four interrupts of one trial: never "gave up", every stopped attempt interrupted, the last run resumes from its latest epoch', async () => {
    env = new E2E('resume');
    const spec = env.write('sweep.yaml', yaml);
    const state = env.path('state');
    const args = ['run', spec, '--workers', '1', '--data-dir', state, '--plain', '--resume-every-s', '0'];
    const fake = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '200' };
    let lastEpoch = 0;
    for (let i = 0; i < 4; i++) {
      const run = env.npf(`npf-run-${i}`, args, fake);
      // Some epochs past the last resume point, then Ctrl-C.
      const target = lastEpoch + 3;
      await waitFor(() => [...run.err.matchAll(/epoch (\d+)\/150/g)].some((m) => Number(m[1]) >= target), `epoch ${target}`, 60_000, [run]);
      process.kill(run.pid, 'SIGINT');
      const exit = await run.exited;
      expect(exit.code, run.err).toBe(130);
      expect(run.err + run.out).not.toMatch(/gave up|FAILED/);
      lastEpoch = Math.max(...[...run.err.matchAll(/epoch (\d+)\/150/g)].map((m) => Number(m[1])));
      if (i > 0) expect(run.err).toMatch(/retry: attempt \d+ interrupted|leased to/);
    }
    const last = env.npf('npf-run-last', args, fake);
    expect((await last.exited).code, last.err).toBe(0);
    expect(last.err + last.out).not.toMatch(/gave up|FAILED/);
    expect(last.err).toMatch(/1 of 1 trials finished/);

    const sweepDir = join(state, 'sweeps', 'resumes');
    const [trial] = csvRecords(readFileSync(join(sweepDir, 'trials.csv'), 'utf8'));
    expect(trial).toMatchObject({ status: 'succeeded', epochs_run: '150' });
    // It went on from the latest resume state of the interrupted attempts (one uploaded every
    // epoch, the last before the attempt was handed back), not from epoch 0: at least the last
    // epoch the run displayed (the display lags the trial by up to a heartbeat).
    const from = Number(trial.resumed_from_epoch);
    expect(from).toBeGreaterThanOrEqual(lastEpoch);
    expect(from).toBeLessThan(150);
    expect(csvRecords(readFileSync(join(sweepDir, 'epochs.csv'), 'utf8')).map((e) => Number(e.epoch))).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));

    const c = await startCoordinator({ dataDir: state, grpcListen: '127.0.0.1:0', httpListen: null, log: () => {} });
    try {
      const taskId = trial.trial_id;
      const attempts = c.core.attemptsOf(taskId);
      expect(attempts.at(-1)?.outcome).toBe('succeeded');
      expect(attempts.slice(0, -1).map((a) => a.outcome)).toEqual(Array(attempts.length - 1).fill('interrupted'));
      expect(attempts.length).toBeGreaterThanOrEqual(5);
    } finally {
      await c.stop();
    }
  });
});
