/**
 * `npf run` when things go wrong: a failed trial does not hide the table (failures listed with
 * their error), and Ctrl-C stops the workers, keeps what finished, and the same command resumes.
 * Trainer: the fake-sleep test double (these tests are about the run's behaviour, not learning).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { E2E, fakeSweepYaml, waitFor } from './harness.js';

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

describe('e2e npf run failures and interrupts', () => {
  it('e2e - npf run prints the table of what finished and lists each failed trial with its error', async () => {
    env = new E2E('run-fail');
    const spec = env.write('sweep.yaml', fakeSweepYaml('with-failures', 2, 2));
    const run = env.npf('npf-run', ['run', spec, '--workers', '2', '--data-dir', env.path('state'), '--plain'], {
      NPF_TRIAL_RUNNER: 'fake-sleep',
      NPF_FAKE_EPOCH_MS: '50',
      NPF_FAKE_FAIL_REGIME: 'frnpf-ii',
    });
    const exit = await run.exited;
    expect(exit.code, run.err).toBe(1);
    expect(run.out).toMatch(/Failed trials \(2\):/);
    expect(run.out).toMatch(/- frnpf-ii fc sgd 0\.01 seed 0: trial failed: fake-sleep: regime frnpf-ii fails on purpose/);
    expect(run.out).toMatch(/- frnpf-ii fc sgd 0\.01 seed 1: /);
    expect(run.err).toMatch(/4 of 6 trials finished/);
    // Deterministic failures are not retried.
    expect(run.err).not.toMatch(/frnpf-ii fc sgd [^\n]* {2}retry: /);
    expect(run.err).toMatch(/frnpf-ii fc sgd 0\.01 seed 0 {2}FAILED \(attempt 1\): not retryable: trial failed: fake-sleep: regime frnpf-ii fails on purpose/);
  });

  it('e2e - Ctrl-C stops npf run cleanly, keeps finished trials, and the same command resumes', async () => {
    env = new E2E('run-int');
    // FLNPF (which waits for its ReLU parent) runs 6 s, so the interrupt lands before the end
    // even when a loaded machine is slow to deliver it.
    const spec = env.write('sweep.yaml', fakeSweepYaml('interrupted', 2, '{ relu: 4, flnpf: 40, default: 8 }'));
    const fake = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '150' };
    const args = ['run', spec, '--workers', '2', '--data-dir', env.path('state'), '--plain'];
    const first = env.npf('npf-run', args, fake);
    await waitFor(() => /relu fc [^\n]* {2}succeeded: best test acc /.test(first.err), 'a first trial to finish', 60_000, [first]);
    process.kill(first.pid, 'SIGINT');
    const exit = await first.exited;
    expect(exit.code, first.err).toBe(130);
    expect(first.err).toMatch(/interrupted: stopping workers; finished trials are kept/);
    const finished = Number(/(\d+) of 6 trials finished/.exec(first.err)![1]);
    expect(finished).toBeGreaterThanOrEqual(1);
    expect(finished).toBeLessThan(6);

    const again = env.npf('npf-run-again', args, fake);
    expect((await again.exited).code, again.err).toBe(0);
    expect(again.err).toMatch(new RegExp(`6 trials; ${finished} of 6 trials already done`));
    expect(again.err).toMatch(/6 of 6 trials finished/);
  });
});
