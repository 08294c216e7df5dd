/**
 * (c) The coordinator, SIGKILLed mid-sweep and restarted on the same address and data dir,
 * resumes: the workers ride out the outage (reconnect backoff, clear log lines), keep their
 * running trials, re-report, and the sweep finishes with every trial once.
 * Trainer: the fake-sleep test double (this test is about recovery, not learning).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SweepClient } from '../../cli/sweep-client.js';
import { E2E, fakeSweepYaml, freePort, waitFor, type Proc } from './harness.js';

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

const TOKEN = 'restart-token';

/** `npf coordinator` as its own process, so the test can SIGKILL it. */
function startCoordinatorProcess(e: E2E, name: string, dataDir: string, port: number): Proc {
  // The lease TTL outlasts the outage (kill, a held result, restart) with margin: on a loaded
  // machine that took more than 6 s, and the held result was then refused as expired.
  return e.npf(name, ['coordinator', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--http', 'off', '--lease-ttl-ms', '20000', '--heartbeat-ms', '300', '--retry-backoff-ms', '1'], { NPF_TOKEN: TOKEN });
}

describe('e2e coordinator restart', () => {
  it('e2e - a coordinator killed mid-sweep and restarted resumes, and the sweep finishes with every trial once', async () => {
    env = new E2E('restart');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const dataDir = env.path('coord');
    let coord = startCoordinatorProcess(env, 'coordinator-1', dataDir, port);
    const client = new SweepClient({ address, token: TOKEN, timeoutMs: 5000 });
    try {
      await waitFor(() => client.list().then(() => true, () => false), 'the coordinator to serve', 30_000, [coord]);
      const spec = fakeSweepYaml('restart', 3, 5);
      const { sweepId, totalTasks } = await client.submit({ specYaml: spec, fileName: 'restart.yaml', overrides: [] });
      expect(totalTasks).toBe(9);

      const fake = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '250', NPF_TOKEN: TOKEN };
      // One trial per process: the test follows a single task's report through the outage.
      const a = env.worker('worker-a', address, fake, ['--fuse', 'off']);
      const b = env.worker('worker-b', address, fake, ['--fuse', 'off']);
      const procs = [coord, a, b];

      // Kill the coordinator once some trials are done and others are running.
      await waitFor(async () => {
        const c = (await client.get(sweepId).catch(() => undefined))?.counts;
        return !!c && c.succeeded >= 2 && c.running + c.leased >= 1;
      }, 'progress before the crash', 60_000, procs);
      process.kill(coord.pid, 'SIGKILL');
      await coord.exited;
      await waitFor(() => /unreachable/.test(a.err) && /unreachable/.test(b.err), 'both workers to notice the outage', 30_000, procs);
      // Stay down until a worker finished a trial during the outage and holds its result.
      const HELD = /unreachable while (?:reporting|uploading checkpoint \S+ of) task (\w+)/;
      await waitFor(() => HELD.test(a.err + b.err), 'a result waiting for the coordinator', 30_000, procs);
      const held = HELD.exec(a.err + b.err)![1];
      expect(a.child.exitCode).toBeNull();
      expect(b.child.exitCode).toBeNull();

      coord = startCoordinatorProcess(env, 'coordinator-2', dataDir, port);
      procs[0] = coord;
      await waitFor(async () => (await client.get(sweepId).catch(() => undefined))?.state === 'complete', 'the sweep to complete after the restart', 90_000, procs);
      const info = await client.get(sweepId);
      expect(info.counts).toMatchObject({ succeeded: 9, failed: 0, pending: 0, running: 0, leased: 0 });
      expect(a.err + b.err).toMatch(/reachable again/);

      // Every trial once: one 'succeeded' event per task across both coordinator lifetimes.
      const succeeded = new Map<string, number>();
      let heldAttempt: number | undefined;
      await client.watch(sweepId, true, (e) => {
        if (e.type !== 'task.succeeded') return;
        succeeded.set(e.taskId, (succeeded.get(e.taskId) ?? 0) + 1);
        if (e.taskId.startsWith(held)) heldAttempt = (JSON.parse(e.payloadJson) as { attempt: number }).attempt;
      });
      // The result held through the outage was accepted on its original lease (no retry).
      expect(heldAttempt).toBe(1);
      expect(succeeded.size).toBe(9);
      expect([...succeeded.values()].every((n) => n === 1)).toBe(true);
    } finally {
      client.close();
    }
  });
});
