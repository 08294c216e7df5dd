/**
 * (b) A worker SIGKILLed mid-trial loses nothing: its lease expires (TTL 1.5 s), the task is
 * retried on the other worker, the sweep completes, and every trial is counted once.
 * Trainer: the fake-sleep test double (this test is about scheduling, not learning).
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import type { SweepEvent } from '../../coordinator/sweep-coordinator.js';
import { E2E, fakeSweepYaml, isAlive, waitFor, workerIdOf } from './harness.js';

let env: E2E | undefined;
let rc: RunningCoordinator | undefined;
afterEach(async () => {
  await env?.killAll();
  await rc?.stop();
  env = undefined;
  rc = undefined;
});

describe('e2e worker failure', () => {
  it('e2e - a worker killed with SIGKILL mid-trial loses nothing: the task is retried elsewhere and counted once', async () => {
    env = new E2E('killed');
    rc = await startCoordinator({ dataDir: env.path('coord'), grpcListen: '127.0.0.1:0', httpListen: null, leaseTtlMs: 1500, heartbeatIntervalMs: 300, retryBackoffMs: 0, registry: new Registry(), log: () => undefined });
    const events: SweepEvent[] = [];
    rc.core.onEvent((e) => events.push(e));
    const { sweepId, totalTasks } = await rc.submitSweep(fakeSweepYaml('killed', 2, 4), 'killed.yaml');
    expect(totalTasks).toBe(6);

    const fake = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '300' };
    const a = env.worker('worker-a', rc.grpcAddress, fake);
    const b = env.worker('worker-b', rc.grpcAddress, fake);
    await waitFor(() => !!workerIdOf(a) && !!workerIdOf(b), 'both workers registered', 30_000, [a, b]);
    const idA = workerIdOf(a)!;

    // Kill worker A while it runs a trial (its child has started and made progress).
    await waitFor(() => events.some((e) => e.type === 'task.progress' && events.some((l) => l.type === 'task.leased' && l.taskId === e.taskId && l.payload.workerId === idA)), 'worker A making progress', 30_000, [a, b]);
    const victim = events.find((e) => e.type === 'task.leased' && e.payload.workerId === idA && !events.some((s) => s.type === 'task.succeeded' && s.taskId === e.taskId))!;
    const victimId = victim.taskId!;
    const childPid = Number(new RegExp(`task ${victimId.slice(0, 12)} attempt \\d+: started \\(pid (\\d+)\\)`).exec(a.err)?.[1]);
    process.kill(a.pid, 'SIGKILL');
    await a.exited;

    await waitFor(() => rc!.core.getSweep(sweepId).state !== 'running', 'the sweep to finish', 90_000, [a, b]);
    const info = rc.core.getSweep(sweepId);
    expect(info.state).toBe('complete');
    expect(info.counts).toMatchObject({ succeeded: 6, failed: 0 });

    // The killed trial: its lease expired, it was retried, and worker B finished attempt 2.
    const retried = events.filter((e) => e.type === 'task.retried' && e.taskId === victimId);
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({ payload: { reason: 'lease expired', message: expect.stringMatching(/^lease expired: worker /) } });
    const done = events.filter((e) => e.type === 'task.succeeded' && e.taskId === victimId);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ payload: { workerId: expect.any(String) } });
    expect(done[0]).not.toMatchObject({ payload: { workerId: idA } });
    expect(rc.core.taskState(victimId).attempt).toBe(2);

    // Every trial counted once: one success event and one result per task id.
    const outcomes = rc.core.outcomes(sweepId);
    expect(new Set(outcomes.map((o) => o.taskId)).size).toBe(6);
    expect(outcomes.every((o) => o.status === 'succeeded' && o.result)).toBe(true);
    for (const o of outcomes) expect(events.filter((e) => e.type === 'task.succeeded' && e.taskId === o.taskId)).toHaveLength(1);

    // The orphaned trial child noticed its worker die and exited.
    if (Number.isFinite(childPid)) await waitFor(() => !isAlive(childPid), 'the orphaned trial child to exit', 10_000);
  });
});
