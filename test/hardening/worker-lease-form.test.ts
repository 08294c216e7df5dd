/**
 * Issue 12 finding 11: the worker names a folder of its work dir from the lease's task id and
 * deletes it when the task ends. A task id that is not of the expected form (a path such as
 * '../../x') is refused before any folder is made or removed; the worker goes on with the next lease.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorker } from '../../worker/main.js';
import { FakeCoordinator, lease, tinySpec, waitFor } from '../worker/fake-coordinator.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('worker - lease task ids', () => {
  it('worker - a lease whose task id is a path is refused: nothing outside its work dir is made or deleted, and the next lease runs', async () => {
    const fake = await new FakeCoordinator().start();
    cleanups.push(() => fake.stop());
    const root = mkdtempSync(join(tmpdir(), 'npf-lease-form-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const workDir = join(root, 'a', 'b', 'work');
    mkdirSync(workDir, { recursive: true });
    // What a task id '../../victim' names, from <workDir>/tasks/: <root>/a/victim-a1.
    const victim = join(root, 'a', 'victim-a1');
    mkdirSync(victim);
    writeFileSync(join(victim, 'keep.txt'), 'precious');
    const lines: string[] = [];
    const worker = await startWorker({
      coordinator: fake.address,
      resources: { cpu: 1, gpu: 0, memoryMb: 1024 },
      concurrency: 1,
      workDir,
      httpListen: null,
      leaseWaitMs: 200,
      registry: new Registry(),
      log: (l) => lines.push(l),
      childEnv: { ...process.env, NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '20' },
    });
    cleanups.push(() => worker.stop());

    fake.queue.push(lease('../../victim', tinySpec({ epochs: 1 })));
    fake.queue.push(lease('t-after', tinySpec({ epochs: 1 })));
    await waitFor(() => fake.completes.some((c) => c.taskId === 't-after'), 'the next lease to complete');
    expect(lines.join('\n')).toMatch(/lease refused: task id '\.\.\/\.\.\/victim' or fencing token 1 is not of the expected form/);
    expect(fake.completes.map((c) => c.taskId)).toEqual(['t-after']);
    expect(existsSync(join(victim, 'keep.txt'))).toBe(true);
    // Nothing was made beside the work dir either.
    expect(readdirSync(join(root, 'a')).sort()).toEqual(['b', 'victim-a1']);
  });
});
