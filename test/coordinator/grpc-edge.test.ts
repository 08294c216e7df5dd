import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { SweepServiceClient, WorkerServiceClient, type WatchSweepResponse } from '../../gen/npf/v1/sweep.js';
import { startCoordinator } from '../../coordinator/main.js';
import { bearer, fixtureResult, fixtureTask, refused, startHarness, submitFixtures, tempDir, unary, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const QUICK = fs.readFileSync(new URL('../../sweeps/quick.yaml', import.meta.url), 'utf8');

describe('coordinator grpc edge', () => {
  it('auth - a missing or wrong token is refused with UNAUTHENTICATED and a clear message', async () => {
    h = await startHarness();
    const req = { hostname: 'x', resources: { cpu: 1, gpu: 0, memoryMb: 100 }, backends: [], version: '' };
    const none = await refused(unary(h.worker, 'registerWorker', req, new grpc.Metadata()));
    expect(none).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: 'missing authorization metadata: send "authorization: Bearer <token>" (npf: --token, --token-file or NPF_TOKEN)',
    });
    const wrong = await refused(unary(h.sweep, 'listSweeps', {}, bearer('nope')));
    expect(wrong).toEqual({ code: grpc.status.UNAUTHENTICATED, details: 'invalid token: the coordinator refused the bearer token' });
    const malformed = new grpc.Metadata();
    malformed.set('authorization', h.token);
    expect((await refused(unary(h.sweep, 'listSweeps', {}, malformed))).code).toBe(grpc.status.UNAUTHENTICATED);
    const watch = await new Promise<{ code: number }>((resolve) => {
      const s = h!.sweep.watchSweep({ sweepId: 'x', fromStart: true }, bearer('nope'));
      s.on('data', () => {});
      s.on('error', (e: grpc.ServiceError) => resolve({ code: e.code }));
    });
    expect(watch.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await unary(h.sweep, 'listSweeps', {}, bearer(h.token))).toEqual({ sweeps: [] });
  });

  it('interceptor - every rpc, streaming ones included, is refused without the token before its handler runs, and each call is counted with its code', async () => {
    h = await startHarness();
    const refusedStream = (start: (md: grpc.Metadata) => grpc.ClientReadableStream<unknown>) =>
      new Promise<{ code: number; trailerCode: unknown }>((resolve) => {
        const s = start(bearer('nope'));
        s.on('data', () => {});
        s.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, trailerCode: e.metadata.get('npf-error-code')[0] }));
      });
    expect(await refusedStream((md) => h!.worker.downloadArtifact({ sha256: '0'.repeat(64) }, md))).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      trailerCode: 'UNAUTHENTICATED',
    });
    const upload = await new Promise<number>((resolve) => {
      const s = h!.worker.uploadArtifact(bearer('nope'), (err) => resolve(err?.code ?? -1));
      s.write({ header: { taskId: 't', fencingToken: 1, workerId: 'w', workerSecret: 's', ref: { name: 'best', sha256: '0'.repeat(64), size: 1, epoch: 1 } } });
      s.end();
    });
    expect(upload).toBe(grpc.status.UNAUTHENTICATED);
    const reg = { hostname: 'x', resources: { cpu: 1, gpu: 0, memoryMb: 100 }, backends: [], version: '' };
    expect((await refused(unary(h.worker, 'registerWorker', reg, bearer('nope')))).code).toBe(grpc.status.UNAUTHENTICATED);
    // The handler never ran: no worker was registered.
    expect(h.c.core.liveWorkers()).toEqual([]);
    await h.register();
    const sweepId = await submitFixtures(h, [fixtureTask()]);
    await h.c.core.cancelSweep(sweepId);
    await new Promise<void>((resolve, reject) => {
      const s = h!.sweep.watchSweep({ sweepId, fromStart: true }, bearer(h!.token));
      s.on('data', () => {});
      s.on('end', resolve);
      s.on('error', reject);
    });
    expect(await refused(h.s('getSweep', { sweepId: 'sw-nope' }))).toMatchObject({ code: grpc.status.NOT_FOUND });
    const text = await (await fetch(`http://${h.c.httpAddress}/metrics`)).text();
    for (const line of [
      'npf_grpc_requests_total{method="DownloadArtifact",code="UNAUTHENTICATED"} 1',
      'npf_grpc_requests_total{method="UploadArtifact",code="UNAUTHENTICATED"} 1',
      'npf_grpc_requests_total{method="RegisterWorker",code="UNAUTHENTICATED"} 1',
      'npf_grpc_requests_total{method="RegisterWorker",code="OK"} 1',
      'npf_grpc_requests_total{method="WatchSweep",code="OK"} 1',
      'npf_grpc_requests_total{method="GetSweep",code="NOT_FOUND"} 1',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('edge - garbage input gets INVALID_ARGUMENT or NOT_FOUND with a sentence, never a crash', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    await h.lease(wid);
    const bad = await refused(h.w('completeTask', { workerId: wid, taskId: t.taskId, fencingToken: 1, resultJson: '{not json', artifacts: [] }));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(new RegExp(`^result_json of task ${t.taskId} is not valid JSON: `));
    const shape = await refused(h.w('completeTask', { workerId: wid, taskId: t.taskId, fencingToken: 1, resultJson: '{"status":"won"}', artifacts: [] }));
    expect(shape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(shape.details).toMatch(/is not a valid TrialResult: status: /);
    expect(await refused(h.w('completeTask', { workerId: wid, taskId: '', fencingToken: 1, resultJson: '{}', artifacts: [] }))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'task_id is empty',
    });
    expect(await refused(h.w('leaseTasks', { workerId: '', maxTasks: 1, waitMs: 0 }))).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'worker_id is empty' });
    expect(await refused(h.w('leaseTasks', { workerId: 'ghost', maxTasks: 1, waitMs: 0 }))).toEqual({
      code: grpc.status.NOT_FOUND,
      details: "unknown worker 'ghost': register it first (RegisterWorker)",
    });
    expect(await refused(h.w('failTask', { workerId: wid, taskId: 'f'.repeat(64), fencingToken: 1, error: 'x', retryable: true }))).toEqual({
      code: grpc.status.NOT_FOUND,
      details: `unknown task '${'f'.repeat(64)}'`,
    });
    const hb = await refused(h.w('heartbeat', { workerId: wid, tasks: [{ taskId: t.taskId, fencingToken: 1, epoch: 1, epochsJson: '[{"epoch":"x"}]' }], draining: false }));
    expect(hb.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(hb.details).toMatch(new RegExp(`^epochs_json of task ${t.taskId} is not a valid value: 0.epoch: `));
    expect(await refused(h.s('getSweep', { sweepId: '' }))).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'sweep_id is empty' });
    expect(await refused(h.s('getSweep', { sweepId: 'sw-nope' }))).toEqual({ code: grpc.status.NOT_FOUND, details: "unknown sweep 'sw-nope'" });
    const reg = await refused(h.w('registerWorker', { hostname: 'x', resources: { cpu: 0, gpu: 0, memoryMb: 0 }, backends: [], version: '' }));
    expect(reg.code).toBe(grpc.status.INVALID_ARGUMENT);
    // The coordinator still serves.
    expect(h.c.core.taskState(t.taskId).state).toBe('leased');
  });

  it('edge - SubmitSweep expands a real spec; a bad spec is INVALID_ARGUMENT with file:line', async () => {
    h = await startHarness();
    const r = await h.s<{ sweepId: string; totalTasks: number; alreadyDone: number }>('submitSweep', { specYaml: QUICK, fileName: 'sweeps/quick.yaml', overrides: [] });
    expect(r.totalTasks).toBe(15);
    expect(r.alreadyDone).toBe(0);
    const again = await h.s<{ sweepId: string }>('submitSweep', { specYaml: QUICK, fileName: 'sweeps/quick.yaml', overrides: [] });
    expect(again.sweepId).toBe(r.sweepId);
    const info = h.c.core.getSweep(r.sweepId);
    expect(info.name).toBe('quick');
    expect(info.counts).toMatchObject({ pending: 12, blocked: 3 });
    expect(info.cellsTotal).toBe(5);
    const bad = QUICK.replace('regimes: [frnpf-ii,', 'regimes: [frnpf-iii,');
    const e = await refused(h.s('submitSweep', { specYaml: bad, fileName: 'sweeps/bad.yaml', overrides: [] }));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^sweeps\/bad\.yaml:\d+:\d+: axes\.regimes\[0\]: /);
    const empty = await refused(h.s('submitSweep', { specYaml: '  ', fileName: 'x.yaml', overrides: [] }));
    expect(empty).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'spec_yaml is empty: send the sweep spec text' });
  });

  it('edge - WatchSweep replays from the start and follows until the sweep completes', async () => {
    h = await startHarness();
    const tasks = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    const sweepId = await submitFixtures(h, tasks);
    const wid = await h.register();
    const leases = await h.lease(wid);
    const seen: WatchSweepResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const s = h!.sweep.watchSweep({ sweepId, fromStart: true }, bearer(h!.token));
      s.on('data', (e: WatchSweepResponse) => seen.push(e));
      s.on('end', resolve);
      s.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 50));
    for (const l of leases) {
      await h.w('heartbeat', {
        workerId: wid,
        tasks: [{ taskId: l.taskId, fencingToken: 1, epoch: 1, epochsJson: JSON.stringify(fixtureResult().epochs) }],
        draining: false,
      });
      await h.w('completeTask', { workerId: wid, taskId: l.taskId, fencingToken: 1, resultJson: JSON.stringify(fixtureResult()), artifacts: [] });
    }
    await done;
    expect(seen.map((e) => e.type)).toEqual(['sweep.submitted', 'task.leased', 'task.leased', 'task.progress', 'task.succeeded', 'task.progress', 'task.succeeded', 'sweep.complete']);
    const seqs = seen.map((e) => e.sequence);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(JSON.parse(seen.at(-1)!.payloadJson)).toEqual({ succeeded: 2, failed: 0, cancelled: 0 });
    // Progress carries the trial's epoch count (the fixture spec's `epochs`).
    expect(JSON.parse(seen[3].payloadJson)).toMatchObject({ attempt: 1, epoch: 1, epochs: 2 });
    // Watching a finished sweep ends at once with its completion.
    const late: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = h!.sweep.watchSweep({ sweepId, fromStart: false }, bearer(h!.token));
      s.on('data', (e: WatchSweepResponse) => late.push(e.type));
      s.on('end', resolve);
      s.on('error', reject);
    });
    expect(late).toEqual(['sweep.complete']);
  });

  it('metrics - /metrics exposes the npf_ series; /healthz and /readyz answer', async () => {
    h = await startHarness();
    const tasks = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 }), fixtureTask({ seed: 2 })];
    const sweepId = await submitFixtures(h, tasks);
    const wid = await h.register({ cpu: 2, gpu: 1, memoryMb: 8000 });
    const leases = await h.lease(wid, 2);
    await h.w('completeTask', { workerId: wid, taskId: leases[0].taskId, fencingToken: 1, resultJson: JSON.stringify(fixtureResult(0.97)), artifacts: [] });
    const base = `http://${h.c.httpAddress}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('npf_tasks{state="pending"} 1');
    expect(text).toContain('npf_tasks{state="leased"} 1');
    expect(text).toContain('npf_tasks{state="succeeded"} 1');
    expect(text).toContain('npf_leases_granted_total 2');
    expect(text).toContain('npf_workers_connected 1');
    expect(text).toContain('npf_resource_capacity{resource="cpu"} 2');
    expect(text).toContain('npf_resource_capacity{resource="gpu"} 1');
    expect(text).toContain('npf_resource_used{resource="cpu"} 1');
    expect(text).toContain(`npf_sweep_tasks{sweep="${sweepId}",state="succeeded"} 1`);
    expect(text).toContain(`npf_sweep_cells_total{sweep="${sweepId}"} 1`);
    expect(text).toContain(`npf_trial_best_test_accuracy_bucket{le="0.97",sweep="${sweepId}",regime="relu"} 1`);
    expect(text).toContain(`npf_trial_best_test_accuracy_bucket{le="0.96",sweep="${sweepId}",regime="relu"} 0`);
    expect(text).toContain('npf_task_duration_seconds_count{regime="relu"} 1');
    expect(text).toMatch(/npf_grpc_requests_total\{method="LeaseTasks",code="OK"\} 1/);
    for (const name of ['npf_leases_expired_total', 'npf_task_retries_total', 'npf_epoch_duration_seconds', 'npf_sweep_cells_complete', 'npf_nats_disconnects_total', 'npf_nats_events_dropped_total']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('tls - serves over TLS with a self-signed certificate; plaintext clients are refused', async (ctx) => {
    let hasOpenssl = true;
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      hasOpenssl = false;
    }
    if (!hasOpenssl) ctx.skip();
    const dir = tempDir();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const c = await startCoordinator({ dataDir: path.join(dir, 'data'), grpcListen: '127.0.0.1:0', httpListen: null, token: 'tok', tls: { certFile: cert, keyFile: key }, log: () => {} });
    try {
      const secure = new SweepServiceClient(c.grpcAddress, grpc.credentials.createSsl(fs.readFileSync(cert)));
      expect(await unary(secure, 'listSweeps', {}, bearer('tok'))).toEqual({ sweeps: [] });
      secure.close();
      const plain = new WorkerServiceClient(c.grpcAddress, grpc.credentials.createInsecure());
      const e = await refused(unary(plain, 'registerWorker', {}, bearer('tok')));
      expect([grpc.status.UNAVAILABLE, grpc.status.INTERNAL]).toContain(e.code);
      plain.close();
    } finally {
      await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
