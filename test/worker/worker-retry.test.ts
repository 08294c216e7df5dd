import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERROR_CODE_KEY, errorCodeOf, INTERNAL_ERROR_CODE, notFoundCode } from '../../common/error-metadata.js';
import { classify, CoordinatorClient } from '../../worker/coordinator-client.js';
import { WorkerAuthError } from '../../worker/errors.js';
import { retryAction, WorkerRetry } from '../../worker/worker-retry.js';
import { startHarness, type Harness } from '../coordinator/harness.js';
import { FaultProxy } from '../e2e/fault-proxy.js';

/** A grpc-js-shaped error: status code, the server's sentence, and optional error-code trailer. */
function grpcError(code: grpc.status, details: string, errorCode?: string): Error {
  const metadata = new grpc.Metadata();
  if (errorCode) metadata.set(ERROR_CODE_KEY, errorCode);
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

function retryWith(over: Partial<ConstructorParameters<typeof WorkerRetry>[0]> = {}) {
  const lines: string[] = [];
  const waits: number[] = [];
  let reregistered = 0;
  const retry = new WorkerRetry({
    coordinator: 'c:1',
    backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
    log: (l) => lines.push(l),
    reregister: async () => void reregistered++,
    givingUp: () => false,
    jitter: () => 1,
    sleep: async (ms) => void waits.push(ms),
    ...over,
  });
  return { retry, lines, waits, reregistered: () => reregistered };
}

/** A call that fails with `errors` in turn, then answers 'ok'. */
function failing(...errors: Error[]) {
  let calls = 0;
  const fn = async () => {
    calls++;
    const e = errors.shift();
    if (e) throw e;
    return 'ok';
  };
  return { fn, calls: () => calls };
}

describe('worker retry - classify', () => {
  it('worker - classify reads the status code and the typed error code, never the sentence', () => {
    expect(classify(grpcError(grpc.status.UNAVAILABLE, 'connect ECONNREFUSED'))).toBe('retry');
    expect(classify(grpcError(grpc.status.DEADLINE_EXCEEDED, 'deadline'))).toBe('retry');
    expect(classify(grpcError(grpc.status.CANCELLED, 'cancelled'))).toBe('retry');
    expect(classify(grpcError(grpc.status.UNAUTHENTICATED, 'invalid token'))).toBe('fatal');
    expect(classify(grpcError(grpc.status.FAILED_PRECONDITION, 'stale fencing token 1'))).toBe('fenced');
    expect(classify(grpcError(grpc.status.NOT_FOUND, "unknown worker 'w1'", notFoundCode('worker')))).toBe('reregister');
    // The same sentence without the typed detail is not a lost worker: the message is not read.
    expect(classify(grpcError(grpc.status.NOT_FOUND, "unknown worker 'w1'"))).toBe('refused');
    expect(classify(grpcError(grpc.status.NOT_FOUND, 'unknown task', notFoundCode('task')))).toBe('refused');
    expect(classify(grpcError(grpc.status.INVALID_ARGUMENT, 'bad worker_id'))).toBe('refused');
    expect(classify(new Error('worker fs error'))).toBe('refused');
    // An INTERNAL the coordinator sent names its code; one without is the client's broken HTTP/2 session.
    expect(classify(grpcError(grpc.status.INTERNAL, 'internal error in the coordinator (see its log)', 'STORE_FAILED'))).toBe('refused');
    expect(classify(grpcError(grpc.status.INTERNAL, 'internal error in the coordinator (see its log)', INTERNAL_ERROR_CODE))).toBe('refused');
    expect(classify(grpcError(grpc.status.INTERNAL, 'Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2'))).toBe('retry');
  });

  it('worker - errorCodeOf reads the trailer as a string or a buffer, and nothing from other errors', () => {
    expect(errorCodeOf(grpcError(grpc.status.NOT_FOUND, 'x', 'WORKER_NOT_FOUND'))).toBe('WORKER_NOT_FOUND');
    expect(errorCodeOf({ metadata: { get: () => [Buffer.from('TASK_NOT_FOUND')] } })).toBe('TASK_NOT_FOUND');
    expect(errorCodeOf({ metadata: new grpc.Metadata() })).toBeUndefined();
    expect(errorCodeOf(new Error('plain'))).toBeUndefined();
    expect(errorCodeOf(null)).toBeUndefined();
  });

  it('worker - the real coordinator marks an unknown worker id so the worker re-registers', async () => {
    const h: Harness = await startHarness();
    const client = new CoordinatorClient({ address: h.c.grpcAddress, token: h.token });
    try {
      const err = await client.lease({ workerId: 'w-nobody', maxTasks: 1, waitMs: 0 }, 5000).promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as { code?: number }).code).toBe(grpc.status.NOT_FOUND);
      expect(errorCodeOf(err)).toBe('WORKER_NOT_FOUND');
      expect(classify(err)).toBe('reregister');
    } finally {
      client.close();
      await h.close();
    }
  });
});

describe('worker - a connection that silently stops carrying bytes', () => {
  it('worker - with keepalive a lease long-poll on a black-holed connection fails as UNAVAILABLE (retried) within the ping timeout; without it the call hangs', async () => {
    const h: Harness = await startHarness();
    const proxy = await FaultProxy.start(h.c.grpcAddress);
    const quick = new CoordinatorClient({ address: proxy.address, token: h.token, keepalive: { timeMs: 300, timeoutMs: 300 } });
    const plain = new CoordinatorClient({ address: proxy.address, token: h.token, keepalive: false });
    const settled = (p: Promise<unknown>): Promise<{ at: number; err: unknown }> => {
      const t0 = Date.now();
      return p.then(
        () => ({ at: Date.now() - t0, err: undefined }),
        (err: unknown) => ({ at: Date.now() - t0, err }),
      );
    };
    try {
      // Both connected: an unknown worker id is answered at once (NOT_FOUND).
      for (const c of [quick, plain]) {
        const r = await settled(c.lease({ workerId: 'w-nobody', maxTasks: 1, waitMs: 0 }, 5000).promise);
        expect((r.err as { code?: number }).code).toBe(grpc.status.NOT_FOUND);
      }
      proxy.blackhole();
      const plainCall = plain.lease({ workerId: 'w-nobody', maxTasks: 1, waitMs: 0 }, 20_000);
      let plainDone = false;
      void plainCall.promise.then(
        () => (plainDone = true),
        () => (plainDone = true),
      );
      const r = await settled(quick.lease({ workerId: 'w-nobody', maxTasks: 1, waitMs: 0 }, 20_000).promise);
      expect((r.err as { code?: number }).code).toBe(grpc.status.UNAVAILABLE);
      expect(classify(r.err)).toBe('retry');
      expect(r.at).toBeLessThan(10_000);
      // The same call without keepalive is still waiting for its 20 s deadline.
      expect(plainDone).toBe(false);
      plainCall.cancel();
    } finally {
      quick.close();
      plain.close();
      await proxy.close();
      await h.close();
    }
  });
});

describe('worker retry - what to do about a failed call', () => {
  it('worker - the table: a lost worker re-registers except while registering; the heartbeat never backs off', () => {
    expect(retryAction('register', 'retry')).toBe('backoff');
    expect(retryAction('register', 'reregister')).toBe('give-up');
    expect(retryAction('lease', 'reregister')).toBe('reregister');
    expect(retryAction('lease', 'refused')).toBe('log-and-backoff');
    expect(retryAction('lease', 'fenced')).toBe('log-and-backoff');
    expect(retryAction('report', 'fenced')).toBe('give-up');
    expect(retryAction('report', 'reregister')).toBe('reregister');
    expect(retryAction('heartbeat', 'retry')).toBe('next-beat');
    expect(retryAction('heartbeat', 'refused')).toBe('log');
    for (const kind of ['register', 'lease', 'report', 'heartbeat'] as const) expect(retryAction(kind, 'fatal')).toBe('stop');
  });

  it('worker - run backs off while unreachable (growing delays), then logs that the coordinator is back', async () => {
    const r = retryWith();
    const call = failing(grpcError(grpc.status.UNAVAILABLE, 'down'), grpcError(grpc.status.UNAVAILABLE, 'down'));
    await expect(r.retry.run('report', 'reporting task t1', call.fn)).resolves.toBe('ok');
    expect(call.calls()).toBe(3);
    expect(r.waits).toEqual([100, 200]);
    expect(r.lines[0]).toBe('coordinator at c:1 unreachable while reporting task t1 (UNAVAILABLE: down); retry 1 in 0.1 s');
    expect(r.lines.at(-1)).toBe('coordinator at c:1 reachable again after 2 failed attempt(s)');
  });

  it('worker - run re-registers once on a lost worker and repeats the call', async () => {
    const r = retryWith();
    const call = failing(grpcError(grpc.status.NOT_FOUND, 'unknown worker', notFoundCode('worker')));
    await expect(r.retry.run('report', 'reporting', call.fn)).resolves.toBe('ok');
    expect(r.reregistered()).toBe(1);
    expect(r.waits).toEqual([]);
  });

  it('worker - run stops on a refused token, gives up on a refusal, and stops backing off when giving up', async () => {
    const r = retryWith();
    await expect(r.retry.run('lease', 'leasing tasks', failing(grpcError(grpc.status.UNAUTHENTICATED, 'bad token')).fn)).rejects.toBeInstanceOf(WorkerAuthError);
    const fenced = grpcError(grpc.status.FAILED_PRECONDITION, 'stale fencing token');
    await expect(r.retry.run('report', 'reporting', failing(fenced).fn)).rejects.toBe(fenced);
    const down = grpcError(grpc.status.UNAVAILABLE, 'down');
    await expect(r.retry.run('report', 'reporting', failing(down).fn, () => true)).rejects.toBe(down);
    expect(r.waits).toEqual([]);
  });

  it('worker - the lease loop logs a refusal and backs off instead of giving up', async () => {
    const r = retryWith();
    const call = failing(grpcError(grpc.status.INVALID_ARGUMENT, 'max_tasks must be > 0'));
    await expect(r.retry.run('lease', 'leasing tasks', call.fn)).resolves.toBe('ok');
    expect(r.lines[0]).toBe('leasing tasks: refused (INVALID_ARGUMENT: max_tasks must be > 0); retrying');
    expect(r.waits).toEqual([100]);
  });

  it('worker - once (the heartbeat): re-registers on a lost worker, logs a refusal, throws only a refused token', async () => {
    const r = retryWith();
    expect(await r.retry.once('heartbeat', failing(grpcError(grpc.status.NOT_FOUND, 'x', notFoundCode('worker'))).fn)).toBeUndefined();
    expect(r.reregistered()).toBe(1);
    expect(await r.retry.once('heartbeat', failing(grpcError(grpc.status.UNAVAILABLE, 'down')).fn)).toBeUndefined();
    expect(await r.retry.once('heartbeat', failing(grpcError(grpc.status.INVALID_ARGUMENT, 'bad')).fn)).toBeUndefined();
    expect(r.lines).toEqual(['heartbeat refused (INVALID_ARGUMENT: bad)']);
    expect(r.waits).toEqual([]);
    await expect(r.retry.once('heartbeat', failing(grpcError(grpc.status.UNAUTHENTICATED, 'no')).fn)).rejects.toBeInstanceOf(WorkerAuthError);
    expect(await r.retry.once('heartbeat', failing().fn)).toBe('ok');
  });
});
