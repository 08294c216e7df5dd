/**
 * (d) A wrong token is refused: the worker process exits with a clear message, and a client
 * call gets UNAUTHENTICATED.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SweepClient } from '../../cli/sweep-client.js';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { WorkerServiceClient } from '../../gen/npf/v1/sweep.js';
import { E2E, waitFor, workerIdOf } from './harness.js';

let env: E2E | undefined;
let rc: RunningCoordinator | undefined;
afterEach(async () => {
  await env?.killAll();
  await rc?.stop();
  env = undefined;
  rc = undefined;
});

describe('e2e auth', () => {
  it('e2e - a worker with a wrong token exits with a clear message; a client call gets UNAUTHENTICATED', async () => {
    env = new E2E('auth');
    rc = await startCoordinator({ dataDir: env.path('coord'), grpcListen: '127.0.0.1:0', httpListen: null, token: 'the-right-token', registry: new Registry(), log: () => undefined });

    const wrong = env.worker('wrong', rc.grpcAddress, { NPF_TOKEN: 'a-wrong-token' });
    const exit = await wrong.exited;
    expect(exit.code).toBe(2);
    expect(wrong.err).toMatch(/refused this worker's token \(UNAUTHENTICATED/);
    expect(wrong.err).not.toMatch(/\n\s+at /); // one sentence, no stack

    // A raw WorkerService call without a token.
    const raw = new WorkerServiceClient(rc.grpcAddress, grpc.credentials.createInsecure());
    const code = await new Promise<number | undefined>((r) =>
      raw.registerWorker({ hostname: 'x', backends: [], version: 'test', gpuNames: [], resources: { cpu: 1, gpu: 0, memoryMb: 1 }, maxBundle: 0 }, (err) => r(err?.code)),
    );
    raw.close();
    expect(code).toBe(grpc.status.UNAUTHENTICATED);

    // The SweepService client with a wrong token.
    const client = new SweepClient({ address: rc.grpcAddress, token: 'a-wrong-token' });
    await expect(client.list()).rejects.toThrow(/UNAUTHENTICATED/);
    client.close();

    // The right token (from --token-file) is accepted.
    const tokenFile = env.write('token', 'the-right-token\n');
    const right = env.worker('right', rc.grpcAddress, {}, ['--token-file', tokenFile]);
    await waitFor(() => !!workerIdOf(right), 'the worker with the right token to register', 30_000, [right]);
    expect(right.child.exitCode).toBeNull();
  });

  it('e2e - with a worker token, a worker given the administration token exits naming the worker token; one given the worker token runs', async () => {
    env = new E2E('auth-roles');
    rc = await startCoordinator({
      dataDir: env.path('coord'),
      grpcListen: '127.0.0.1:0',
      httpListen: null,
      token: 'the-admin-token',
      workerToken: 'the-worker-token',
      registry: new Registry(),
      log: () => undefined,
    });
    const admin = env.worker('admin', rc.grpcAddress, {}, ['--token-file', env.write('admin-token', 'the-admin-token\n')]);
    const exit = await admin.exited;
    expect(exit.code).toBe(2);
    expect(admin.err).toMatch(/refused this worker's credentials \(PERMISSION_DENIED: this is the administration token/);
    expect(admin.err).toMatch(/worker token/);
    const worker = env.worker('worker', rc.grpcAddress, {}, ['--token-file', env.write('worker-token', 'the-worker-token\n')]);
    await waitFor(() => !!workerIdOf(worker), 'the worker with the worker token to register', 30_000, [worker]);
    expect(worker.child.exitCode).toBeNull();
    // The administration token still administers; the worker token does not.
    const ok = new SweepClient({ address: rc.grpcAddress, token: 'the-admin-token' });
    await expect(ok.list()).resolves.toBeDefined();
    ok.close();
    const no = new SweepClient({ address: rc.grpcAddress, token: 'the-worker-token' });
    await expect(no.list()).rejects.toThrow(/PERMISSION_DENIED/);
    no.close();
  });
});
