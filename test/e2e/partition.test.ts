/**
 * A real network partition between a worker and the coordinator: worker A reaches the
 * coordinator only through a fault-injecting TCP proxy on loopback (fault-proxy.ts). Mid-trial
 * the proxy black-holes every byte in both directions with the connections left open, for longer
 * than the lease TTL; worker B, connected directly, then runs the expired task again. After the
 * heal A's late result reaches the coordinator and is fenced (its attempt is no longer the
 * task's), and the results table equals the one of a fault-free run of the same sweep.
 * Trainer: the fake-sleep test double (deterministic curves; this test is about leases).
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import type { SweepEvent } from '../../coordinator/sweep-coordinator.js';
import { E2E, fakeSweepYaml, isAlive, waitFor, workerIdOf } from './harness.js';
import { FaultProxy } from './fault-proxy.js';

let env: E2E | undefined;
let proxy: FaultProxy | undefined;
const coordinators: RunningCoordinator[] = [];
afterEach(async () => {
  await env?.killAll();
  await proxy?.close();
  for (const c of coordinators.splice(0)) await c.stop();
  env = undefined;
  proxy = undefined;
});

const SWEEP = fakeSweepYaml('partition', 2, 4);
const FAKE = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '300' };
const TTL_MS = 1500;

async function coordinator(e: E2E, dir: string): Promise<RunningCoordinator> {
  const rc = await startCoordinator({ dataDir: e.path(dir), grpcListen: '127.0.0.1:0', httpListen: null, leaseTtlMs: TTL_MS, heartbeatIntervalMs: 300, retryBackoffMs: 0, registry: new Registry(), log: () => undefined });
  coordinators.push(rc);
  return rc;
}

describe('e2e network partition', () => {
  it('e2e - a worker partitioned past its lease TTL has its late result fenced; the trial ran elsewhere and the table equals a fault-free run', async () => {
    env = new E2E('partition');

    // The fault-free run: the same sweep, one worker, no proxy.
    const clean = await coordinator(env, 'coord-clean');
    const cleanSweep = await clean.submitSweep(SWEEP, 'partition.yaml');
    const solo = env.worker('worker-solo', clean.grpcAddress, FAKE, ['--fuse', 'off']);
    await waitFor(() => clean.core.getSweep(cleanSweep.sweepId).state !== 'running', 'the fault-free sweep to finish', 60_000, [solo]);
    expect(clean.core.getSweep(cleanSweep.sweepId).state).toBe('complete');
    const expected = clean.results(cleanSweep.sweepId, 'markdown').table;
    process.kill(solo.pid, 'SIGKILL');

    // The partitioned run.
    const rc = await coordinator(env, 'coord');
    const events: SweepEvent[] = [];
    rc.core.onEvent((e) => events.push(e));
    const { sweepId, totalTasks } = await rc.submitSweep(SWEEP, 'partition.yaml');
    expect(totalTasks).toBe(6);
    proxy = await FaultProxy.start(rc.grpcAddress);
    const a = env.worker('worker-a', proxy.address, FAKE, ['--fuse', 'off']);
    await waitFor(() => !!workerIdOf(a), 'worker A registered through the proxy', 30_000, [a]);
    const idA = workerIdOf(a)!;

    // Partition once A's trial has made progress (an epoch record came through the proxy).
    const leasedTo = (taskId: string | undefined, workerId: string): boolean => events.some((l) => l.type === 'task.leased' && l.taskId === taskId && l.payload.workerId === workerId);
    await waitFor(() => events.some((e) => e.type === 'task.progress' && leasedTo(e.taskId, idA)), 'worker A making progress', 30_000, [a]);
    proxy.blackhole();
    const victimId = events.find((e) => e.type === 'task.leased' && e.payload.workerId === idA)!.taskId!;
    expect(events.filter((e) => e.type === 'task.leased' && e.payload.workerId === idA)).toHaveLength(1);
    const childPid = Number(new RegExp(`task ${victimId.slice(0, 12)} attempt 1: started \\(pid (\\d+)\\)`).exec(a.err)?.[1]);
    expect(Number.isFinite(childPid)).toBe(true);

    // Worker B, connected directly, gets the task once A's lease expired.
    const b = env.worker('worker-b', rc.grpcAddress, FAKE, ['--fuse', 'off']);
    const procs = [a, b];
    await waitFor(() => !!workerIdOf(b), 'worker B registered', 30_000, procs);
    const idB = workerIdOf(b)!;
    await waitFor(() => events.some((e) => e.type === 'task.succeeded' && e.taskId === victimId), 'the expired task to succeed on worker B', 60_000, procs);
    // A finished its trial behind the partition and holds a result the coordinator has not seen.
    await waitFor(() => !isAlive(childPid), "A's trial to end behind the partition", 30_000, procs);
    expect(a.child.exitCode).toBeNull();
    expect(a.err).not.toMatch(new RegExp(`task ${victimId.slice(0, 12)}: (?:the coordinator refused|stopped|cancelled)`));
    const dropped = proxy.stats().droppedToTarget;
    expect(dropped).toBeGreaterThan(0);

    const relayedBefore = proxy.stats().relayedToTarget;
    proxy.heal();
    const FENCED = new RegExp(`task ${victimId.slice(0, 12)}: the coordinator refused the report \\(FAILED_PRECONDITION: [^)]*(?:stale fencing token 1|not leased)`);
    await waitFor(() => FENCED.test(a.err), "A's late result to be refused", 45_000, procs);
    await waitFor(() => rc.core.getSweep(sweepId).state !== 'running', 'the sweep to finish', 60_000, procs);

    // The expired lease was retried once and its task ran on B as attempt 2; A's result is not stored.
    expect(events.filter((e) => e.type === 'task.retried' && e.taskId === victimId)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ reason: 'lease expired' }) })]);
    const done = events.filter((e) => e.type === 'task.succeeded' && e.taskId === victimId);
    expect(done).toHaveLength(1);
    expect(done[0].payload).toMatchObject({ workerId: idB, attempt: 2 });
    expect(rc.core.taskState(victimId).attempt).toBe(2);

    // Every trial once, and the same table as without the partition.
    const info = rc.core.getSweep(sweepId);
    expect(info.state).toBe('complete');
    expect(info.counts).toMatchObject({ succeeded: 6, failed: 0 });
    for (const o of rc.core.outcomes(sweepId)) expect(events.filter((e) => e.type === 'task.succeeded' && e.taskId === o.taskId)).toHaveLength(1);
    expect(rc.results(sweepId, 'markdown').table).toBe(expected);
    // A's late report went through the healed proxy.
    expect(proxy.stats().relayedToTarget).toBeGreaterThan(relayedBefore);
  });
});
