/**
 * A worker given a bundle (leases sharing a bundle id) trains its members in one child process,
 * and still treats each member as its own task: own report and fencing token, own cancel, own
 * failure; the bundle takes one slot. Trainer: the fake-sleep test double, whose bundle child
 * runs every member at once (the fused training itself is tested in test/fused/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorker, type WorkerOptions } from '../../worker/main.js';
import { defaultFuse } from '../../worker/worker-options.js';
import { FakeCoordinator, lease, sha256Of, tinySpec, waitFor } from './fake-coordinator.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string>, over: Partial<WorkerOptions> = {}) {
  const fake = await new FakeCoordinator().start();
  cleanups.push(() => fake.stop());
  const workDir = mkdtempSync(join(tmpdir(), 'npf-worker-bundle-test-'));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const lines: string[] = [];
  const registry = new Registry();
  const worker = await startWorker({
    coordinator: fake.address,
    resources: { cpu: 1, gpu: 0, memoryMb: 1024 },
    concurrency: 1,
    fuse: 8,
    workDir,
    httpListen: null,
    leaseWaitMs: 200,
    drainGraceMs: 5000,
    killGraceMs: 1000,
    registry,
    log: (l) => lines.push(l),
    childEnv: { ...process.env, ...env },
    ...over,
  });
  cleanups.push(() => worker.stop());
  return { fake, worker, lines, registry };
}

const bundled = (id: string, bundle: string, spec: Record<string, unknown>, extra = {}) => lease(id, spec, { bundleId: bundle, ...extra });

describe('worker - bundles of fused trials', () => {
  it('worker - a bundle runs in one process and takes one slot; each member reports alone with its own fencing token', async () => {
    const { fake, lines, registry } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '150' });
    expect(fake.registerRequests[0]?.maxBundle).toBe(8);
    fake.queue.push(
      bundled('b-1', 'b-1', tinySpec({ seed: 1, epochs: 3 }), { fencingToken: 1 }),
      bundled('b-2', 'b-1', tinySpec({ seed: 2, epochs: 3 }), { fencingToken: 4 }),
      bundled('b-3', 'b-1', tinySpec({ seed: 3, epochs: 3 }), { fencingToken: 2 }),
    );
    await waitFor(() => lines.some((l) => /bundle b-1: 3 fused trial\(s\) started in one process/.test(l)), 'the bundle to start');
    // Concurrency 1: the bundle is the one slot; a queued lease waits for it.
    fake.queue.push(lease('solo', tinySpec({ seed: 9, epochs: 1 })));
    await waitFor(() => fake.heartbeats.some((h) => h.tasks.length === 3), 'a heartbeat with the three members');
    expect(await registry.getSingleMetricAsString('npf_worker_bundles_running')).toMatch(/npf_worker_bundles_running 1/);
    expect(await registry.getSingleMetricAsString('npf_worker_trials_running')).toMatch(/npf_worker_trials_running 3/);
    await waitFor(() => fake.completes.length === 4, 'four results');
    const order = fake.completes.map((c) => c.taskId);
    expect(order.indexOf('solo')).toBe(3);
    expect(Object.fromEntries(fake.completes.map((c) => [c.taskId, c.fencingToken]))).toMatchObject({ 'b-1': 1, 'b-2': 4, 'b-3': 2 });
    for (const c of fake.completes.slice(0, 3)) expect(JSON.parse(c.resultJson).epochs).toHaveLength(3);
    expect(fake.fails).toHaveLength(0);
  });

  it('worker - a cancelled member leaves the bundle alone (no report); the others complete', async () => {
    const { fake, lines } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '300' });
    fake.queue.push(bundled('c-1', 'c-1', tinySpec({ seed: 1, epochs: 6 })), bundled('c-2', 'c-1', tinySpec({ seed: 2, epochs: 6 })));
    await waitFor(() => lines.some((l) => /bundle c-1: 2 fused/.test(l)), 'the bundle to start');
    fake.cancel.add('c-2');
    await waitFor(() => lines.some((l) => /c-2: stopped \(cancelled/.test(l)), 'the member cancel');
    await waitFor(() => fake.completes.length === 1, 'the other member');
    expect(fake.completes[0].taskId).toBe('c-1');
    expect(JSON.parse(fake.completes[0].resultJson).epochs).toHaveLength(6);
    expect(fake.fails).toHaveLength(0);
  });

  it('worker - a member whose parent checkpoint is unusable fails alone; the rest of the bundle trains', async () => {
    const { fake, lines } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '50' });
    const bytes = Buffer.from('parent '.repeat(300));
    const sha = sha256Of(bytes);
    fake.artifacts.set(sha, bytes);
    const good = { name: 'best', sha256: sha, size: bytes.length, epoch: 2 };
    // A parent whose bytes do not hash to its sha256 (deterministic: not retryable).
    const claimed = sha256Of(Buffer.from('what it should be'));
    fake.artifacts.set(claimed, Buffer.from('something else'));
    const corrupt = { name: 'best', sha256: claimed, size: 14, epoch: 2 };
    fake.queue.push(
      bundled('g-1', 'g-1', tinySpec({ regime: 'flnpf', seed: 1 }), { gatesFrom: good }),
      bundled('g-2', 'g-1', tinySpec({ regime: 'flnpf', seed: 2 }), { gatesFrom: corrupt }),
      bundled('g-3', 'g-1', tinySpec({ regime: 'flnpf', seed: 3 }), { gatesFrom: good }),
    );
    await waitFor(() => fake.completes.length === 2 && fake.fails.length === 1, 'two results and one failure');
    expect(lines.some((l) => /bundle g-1: 2 fused trial\(s\) started/.test(l))).toBe(true);
    expect(fake.fails[0]).toMatchObject({ taskId: 'g-2', retryable: false });
    expect(fake.completes.map((c) => c.taskId).sort()).toEqual(['g-1', 'g-3']);
  });

  it('worker - drain hands every member of a running bundle back as retryable', async () => {
    const { fake, worker } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '60000' }, { drainGraceMs: 300 });
    fake.queue.push(bundled('d-1', 'd-1', tinySpec({ seed: 1 })), bundled('d-2', 'd-1', tinySpec({ seed: 2 })));
    await waitFor(() => fake.heartbeats.some((h) => h.tasks.length === 2), 'the bundle running');
    await worker.drain();
    expect(fake.fails.map((f) => [f.taskId, f.retryable]).sort()).toEqual([
      ['d-1', true],
      ['d-2', true],
    ]);
    expect(fake.completes).toHaveLength(0);
  });

  it('worker - a crashed bundle process fails every member retryable', async () => {
    const { fake } = await setup({ NPF_TRIAL_RUNNER: 'fake-crash' });
    fake.queue.push(bundled('x-1', 'x-1', tinySpec({ seed: 1 })), bundled('x-2', 'x-1', tinySpec({ seed: 2 })));
    await waitFor(() => fake.fails.length === 2, 'two failures');
    for (const f of fake.fails) {
      expect(f.retryable).toBe(true);
      expect(f.error).toMatch(/exit code 3/);
    }
  });

  it('worker - --fuse defaults to 8 where FC trials run on wasm, 16 on webgpu and to off elsewhere', () => {
    const none = { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 };
    expect(defaultFuse(undefined, none)).toBe(8);
    expect(defaultFuse('wasm', none)).toBe(8);
    expect(defaultFuse('webgpu', none)).toBe(16);
    expect(defaultFuse('cpu', none)).toBe(1);
    expect(defaultFuse(undefined, { tensorflow: true, tensorflowGpu: false, cudaDevices: 0 })).toBe(1);
  });
});
