import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerAuthError } from '../../worker/errors.js';
import { startWorker, type WorkerOptions } from '../../worker/main.js';
import { FakeCoordinator, lease, sha256Of, tinySpec, waitFor } from './fake-coordinator.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string>, over: Partial<WorkerOptions> = {}, token?: string) {
  const fake = await new FakeCoordinator(token).start();
  cleanups.push(() => fake.stop());
  const workDir = mkdtempSync(join(tmpdir(), 'npf-worker-test-'));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const lines: string[] = [];
  const registry = new Registry();
  const worker = await startWorker({
    coordinator: fake.address,
    resources: { cpu: 2, gpu: 0, memoryMb: 1024 },
    concurrency: 2,
    workDir,
    httpListen: '127.0.0.1:0',
    leaseWaitMs: 200,
    drainGraceMs: 5000,
    killGraceMs: 1000,
    registry,
    log: (l) => lines.push(l),
    childEnv: { ...process.env, ...env },
    ...over,
  });
  cleanups.push(() => worker.stop());
  return { fake, worker, workDir, lines, registry };
}

const FAKE = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '50' };

describe('worker', () => {
  it('worker - runs a leased trial in a child process, uploads its checkpoints, completes with their refs', async () => {
    const { fake, worker } = await setup(FAKE);
    fake.queue.push(lease('t-relu', tinySpec({ epochs: 3, checkpoints: { best: true, bestAtEpochs: [2] } })));
    await waitFor(() => fake.completes.length === 1, 'CompleteTask');
    const done = fake.completes[0];
    expect(done.taskId).toBe('t-relu');
    expect(done.workerId).toBe(worker.workerId);
    const result = JSON.parse(done.resultJson);
    expect(result.status).toBe('succeeded');
    expect(result.epochs).toHaveLength(3);
    expect(done.artifacts.map((a) => a.name).sort()).toEqual(['best', 'best@2']);
    for (const a of done.artifacts) {
      const up = fake.uploads.find((u) => u.ref.sha256 === a.sha256);
      expect(up, `upload of ${a.name}`).toBeDefined();
      expect(sha256Of(up!.bytes)).toBe(a.sha256);
      expect(up!.bytes.length).toBe(a.size);
    }
    // progress went out with heartbeats, in order and each epoch at most once (the last ones may
    // only reach the coordinator inside the result)
    const sent = fake.heartbeats.flatMap((h) => h.tasks.filter((t) => t.taskId === 't-relu').flatMap((t) => JSON.parse(t.epochsJson) as { epoch: number }[]));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.map((r) => r.epoch)).toEqual([1, 2, 3].slice(0, sent.length));
    expect(fake.fails).toHaveLength(0);
    // Every call that named the worker carried the secret its registration returned.
    expect(fake.unsigned).toEqual([]);
    expect(fake.completes[0].workerSecret).toBe(`secret-${worker.workerId}`);
  });

  it('worker - asks CompleteTasks for its next trial (lease_next) and runs the lease in the answer', async () => {
    const { fake } = await setup(FAKE, { concurrency: 1, resources: { cpu: 1, gpu: 0, memoryMb: 1024 } });
    // One slot: LeaseTasks takes the first; the second can only arrive in the first's CompleteTasks answer
    // (the lease loop does not poll while the slot is busy).
    fake.queue.push(lease('t-first', tinySpec()), lease('t-second', tinySpec({ seed: 2 })));
    await waitFor(() => fake.completes.length === 2, 'two results');
    expect(fake.batches.map((b) => [b.items.map((i) => i.taskId), b.leaseNext])).toEqual([
      [['t-first'], 1],
      [['t-second'], 1],
    ]);
    expect(fake.nextLeased).toEqual(['t-second']);
    expect(fake.fails).toHaveLength(0);
  });

  it('worker - against a coordinator without CompleteTasks (UNIMPLEMENTED) falls back to CompleteTask with lease_next', async () => {
    const { fake } = await setup(FAKE, { concurrency: 1, resources: { cpu: 1, gpu: 0, memoryMb: 1024 } });
    fake.noCompleteTasks = true;
    fake.queue.push(lease('t-first', tinySpec()), lease('t-second', tinySpec({ seed: 2 })));
    await waitFor(() => fake.completes.length === 2, 'two CompleteTask');
    expect(fake.batches).toHaveLength(0);
    expect(fake.completes.map((c) => [c.taskId, c.leaseNext])).toEqual([
      ['t-first', 1],
      ['t-second', 1],
    ]);
    expect(fake.nextLeased).toEqual(['t-second']);
    expect(fake.fails).toHaveLength(0);
  });

  it('worker - dependants get the parent checkpoint downloaded once, verified, and passed beside the spec as gates', async () => {
    const { fake, workDir } = await setup(FAKE);
    const bytes = Buffer.from('parent checkpoint bytes '.repeat(500));
    const sha = sha256Of(bytes);
    fake.artifacts.set(sha, bytes);
    const gates = { name: 'best', sha256: sha, size: bytes.length, epoch: 3 };
    fake.queue.push(lease('t-fl1', tinySpec({ regime: 'flnpf' }), { gatesFrom: gates }), lease('t-fl2', tinySpec({ regime: 'flnpf', seed: 2 }), { gatesFrom: gates }));
    await waitFor(() => fake.completes.length === 2, 'two CompleteTask');
    expect(fake.fails).toHaveLength(0);
    expect(fake.downloads).toBe(1);
    // a third dependant later also reuses the cached file
    fake.queue.push(lease('t-fl3', tinySpec({ regime: 'flnpf', seed: 3 }), { gatesFrom: gates }));
    await waitFor(() => fake.completes.length === 3, 'third CompleteTask');
    expect(fake.downloads).toBe(1);
    expect(sha256Of(readFileSync(join(workDir, 'artifacts', sha)))).toBe(sha);
  });

  it('worker - a dependant leased without its parent checkpoint fails as not retryable, naming the gates', async () => {
    const { fake } = await setup(FAKE);
    fake.queue.push(lease('t-nogates', tinySpec({ regime: 'flnpf' })));
    await waitFor(() => fake.fails.length === 1, 'FailTask');
    expect(fake.fails[0].retryable).toBe(false);
    expect(fake.fails[0].error).toMatch(/regime 'flnpf' needs gates/);
    expect(fake.completes).toHaveLength(0);
  });

  it('worker - a corrupt parent checkpoint fails the task as not retryable', async () => {
    const { fake } = await setup(FAKE);
    const claimed = sha256Of(Buffer.from('what it should be'));
    fake.artifacts.set(claimed, Buffer.from('something else'));
    fake.queue.push(lease('t-bad', tinySpec({ regime: 'flnpf' }), { gatesFrom: { name: 'best', sha256: claimed, size: 14, epoch: 1 } }));
    await waitFor(() => fake.fails.length === 1, 'FailTask');
    expect(fake.fails[0].retryable).toBe(false);
    expect(fake.fails[0].error).toMatch(/failed verification/);
    expect(fake.completes).toHaveLength(0);
  });

  it('worker - a crashed child is failed retryable with its exit code and stderr, and the worker goes on', async () => {
    const { fake, worker, registry } = await setup({ NPF_TRIAL_RUNNER: 'fake-crash' });
    fake.queue.push(lease('t-crash', tinySpec()));
    await waitFor(() => fake.fails.length === 1, 'FailTask');
    expect(fake.fails[0].retryable).toBe(true);
    expect(fake.fails[0].error).toMatch(/exit code 3/);
    expect(fake.fails[0].error).toMatch(/simulated trial crash/);
    expect(worker.state).toBe('running');
    const beats = fake.heartbeats.length;
    await waitFor(() => fake.heartbeats.length > beats + 1, 'heartbeats after the crash');
    fake.queue.push(lease('t-crash2', tinySpec({ seed: 2 })));
    await waitFor(() => fake.fails.length === 2, 'second FailTask');
    expect(fake.fails.map((f) => f.workerSecret)).toEqual([`secret-${worker.workerId}`, `secret-${worker.workerId}`]);
    expect(await registry.getSingleMetricAsString('npf_worker_trial_failures_total')).toMatch(/reason="crash"} 2/);
  });

  it('worker - an invalid spec fails as not retryable, naming the field', async () => {
    const { fake } = await setup(FAKE);
    fake.queue.push(lease('t-invalid', tinySpec({ optimizer: { name: 'sgd', lr: -1 } })));
    await waitFor(() => fake.fails.length === 1, 'FailTask');
    expect(fake.fails[0].retryable).toBe(false);
    expect(fake.fails[0].error).toMatch(/optimizer\.lr/);
  });

  it('worker - a cancel in the heartbeat response kills the child and reports nothing', async () => {
    const { fake, lines } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '60000' });
    fake.queue.push(lease('t-cancel', tinySpec({ epochs: 5 })));
    await waitFor(() => lines.some((l) => /t-cancel.*started \(pid (\d+)\)/.test(l)), 'trial start');
    const pid = Number(/started \(pid (\d+)\)/.exec(lines.find((l) => l.includes('t-cancel') && l.includes('started'))!)![1]);
    fake.cancel.add('t-cancel');
    await waitFor(() => lines.some((l) => l.includes('stopped (cancelled')), 'cancel handled');
    expect(() => process.kill(pid, 0)).toThrow();
    expect(fake.fails).toHaveLength(0);
    expect(fake.completes).toHaveLength(0);
  });

  it('worker - drain stops leasing, tells the coordinator, and hands unfinished trials back as retryable', async () => {
    const { fake, worker } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '60000' }, { drainGraceMs: 300 });
    fake.queue.push(lease('t-long', tinySpec({ epochs: 5 })));
    await waitFor(() => fake.heartbeats.some((h) => h.tasks.some((t) => t.taskId === 't-long')), 'task running');
    await worker.drain();
    expect(worker.state).toBe('stopped');
    expect(fake.heartbeats.some((h) => h.draining)).toBe(true);
    expect(fake.fails).toHaveLength(1);
    expect(fake.fails[0]).toMatchObject({ taskId: 't-long', retryable: true });
    expect(fake.fails[0].error).toMatch(/draining/);
  });

  it('worker - serves /metrics and /healthz', async () => {
    const { worker } = await setup(FAKE);
    const health = await fetch(`http://${worker.httpAddress}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://${worker.httpAddress}/metrics`)).text();
    expect(metrics).toMatch(/npf_worker_trials_running 0/);
    expect(metrics).toMatch(/# TYPE npf_worker_epoch_duration_seconds histogram/);
  });

  it('worker - a wrong token is refused with a clear error', async () => {
    const fake = await new FakeCoordinator('right-token').start();
    cleanups.push(() => fake.stop());
    const workDir = mkdtempSync(join(tmpdir(), 'npf-worker-test-'));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    const p = startWorker({ coordinator: fake.address, token: 'wrong', workDir, httpListen: null, log: () => undefined });
    await expect(p).rejects.toBeInstanceOf(WorkerAuthError);
    await expect(p).rejects.toThrow(/refused this worker's token/);
  });
});


describe('worker process', () => {
  it('worker - a worker the coordinator forgot re-registers and still completes its running trial', async () => {
    const { fake, worker, lines } = await setup({ NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '300' });
    fake.queue.push(lease('t-forgot', tinySpec({ epochs: 3 })));
    await waitFor(() => fake.heartbeats.some((h) => h.tasks.some((t) => t.taskId === 't-forgot')), 'task running');
    fake.forgetWorkerOnce = true;
    await waitFor(() => fake.completes.length === 1, 'CompleteTask');
    expect(fake.registrations).toBe(2);
    expect(lines.some((l) => /re-registered .*still running 1 trial/.test(l))).toBe(true);
    expect(fake.completes[0].workerId).toBe(worker.workerId);
    expect(worker.workerId).toBe('w2');
    // After re-registering, the new id's secret (the old one is not sent with the new id).
    expect(fake.completes[0].workerSecret).toBe('secret-w2');
    expect(fake.unsigned).toEqual([]);
  });

  it('worker - `npf worker` drains on SIGTERM: the running trial is handed back retryable and it exits 0', async () => {
    const fake = await new FakeCoordinator().start();
    cleanups.push(() => fake.stop());
    const workDir = mkdtempSync(join(tmpdir(), 'npf-worker-test-'));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'npf.js');
    const child = spawn(process.execPath, [bin, 'worker', '--coordinator', fake.address, '--http', 'off', '--work-dir', workDir, '--drain-grace-s', '0.5'], {
      env: { ...process.env, NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '60000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    fake.queue.push(lease('t-sigterm', tinySpec({ epochs: 5 })));
    await waitFor(() => /t-sigterm.*started/.test(err), 'the trial to start');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fake.fails).toHaveLength(1);
    expect(fake.fails[0]).toMatchObject({ taskId: 't-sigterm', retryable: true });
    expect(fake.heartbeats.some((h) => h.draining)).toBe(true);
    expect(err).toMatch(/SIGTERM: draining/);
  });
});
