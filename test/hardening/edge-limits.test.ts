/**
 * Issue 12's findings 1-4, 7 and 11 as regression tests against a real coordinator on
 * 127.0.0.1:0: every request is checked against coordinator/limits.ts at the edge and refused
 * with INVALID_ARGUMENT naming the field and the limit, before any allocation it would size.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, bearer, type Harness } from '../coordinator/harness.js';
import { LIMITS } from '../../coordinator/limits.js';
import { expandSpecVariables } from '../../coordinator/sweep-spec/parse-sweep.js';

const QUICK = fs.readFileSync(new URL('../../sweeps/quick.yaml', import.meta.url), 'utf8');

async function refused(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('expected the call to be refused');
}

async function healthz(h: Harness): Promise<number> {
  const r = await fetch(`http://${h.c.httpAddress}/healthz`);
  return r.status;
}

/** Protobuf varint of a non-negative bigint. */
function varint(v: bigint): number[] {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('edge limits (issue 12)', () => {
  it('finding 1: an override index past the limit is refused before the list is filled', async () => {
    h = await startHarness();
    const e = await refused(h.s('submitSweep', { specYaml: QUICK, fileName: 'q.yaml', overrides: ['axes.seeds[5000000]=1'] }));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toBe(`overrides[0]: list index 5000000 is more than the limit ${LIMITS.overrideIndex}`);
    const tooMany = await refused(h.s('submitSweep', { specYaml: QUICK, fileName: 'q.yaml', overrides: Array(LIMITS.overrides + 1).fill('name=x') }));
    expect(tooMany.details).toBe(`overrides: ${LIMITS.overrides + 1} entries, more than the limit ${LIMITS.overrides}`);
    expect(await healthz(h)).toBe(200);
  });

  it('finding 2: a worker declaring more than 64 GPUs, Infinity or fractional GPUs is refused', async () => {
    h = await startHarness();
    const big = await refused(h.w('registerWorker', { hostname: 'x', resources: { cpu: 1, gpu: 40_000_000, memoryMb: 1 }, backends: ['cpu'], version: 't' }));
    expect(big).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: `resources.gpu: must be between 0 and ${LIMITS.workerGpus}, got 40000000` });
    const inf = await refused(h.w('registerWorker', { hostname: 'x', resources: { cpu: Infinity, gpu: 0, memoryMb: 1 }, backends: [], version: 't' }));
    expect(inf.details).toBe('resources.cpu: must be a finite number, got Infinity');
    const frac = await refused(h.w('registerWorker', { hostname: 'x', resources: { cpu: 1, gpu: 1.5, memoryMb: 1 }, backends: [], version: 't' }));
    expect(frac.details).toBe('resources.gpu: a worker offers whole GPUs, got 1.5');
    await expect(h.register({ cpu: 4, gpu: LIMITS.workerGpus, memoryMb: 1000 })).resolves.toMatch(/.+/);
  });

  it('finding 3: the trial ceiling is the coordinator\'s; a spec can only lower it', async () => {
    h = await startHarness({ maxTrialsPerSweep: 2 });
    const e = await refused(h.s('submitSweep', { specYaml: QUICK, fileName: 'q.yaml', overrides: ['limits.maxTrials=1000000000000'] }));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/more than the limit 2: .*the coordinator allows at most 2 trials per sweep \(--max-trials-per-sweep\)/);
  });

  it('finding 4: sizes of specs, hostnames, backends and heartbeat epoch records are bounded', async () => {
    h = await startHarness();
    const huge = `${QUICK}\n# ${'x'.repeat(LIMITS.specBytes)}\n`;
    const spec = await refused(h.s('submitSweep', { specYaml: huge, fileName: 'q.yaml', overrides: [] }));
    expect(spec.details).toMatch(new RegExp(`^spec_yaml: \\d+ bytes, more than the limit ${LIMITS.specBytes}$`));
    const host = await refused(h.w('registerWorker', { hostname: 'h'.repeat(LIMITS.nameChars + 1), resources: { cpu: 1, gpu: 0, memoryMb: 1 }, backends: [], version: 't' }));
    expect(host.details).toBe(`hostname: ${LIMITS.nameChars + 1} characters, more than the limit ${LIMITS.nameChars}`);
    const backends = await refused(h.w('registerWorker', { hostname: 'h', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, backends: Array(LIMITS.backends + 1).fill('cpu'), version: 't' }));
    expect(backends.details).toBe(`backends: ${LIMITS.backends + 1} entries, more than the limit ${LIMITS.backends}`);
    const gpuNames = await refused(h.w('registerWorker', { hostname: 'h', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, backends: [], version: 't', gpuNames: Array(LIMITS.workerGpus + 1).fill('NVIDIA H200') }));
    expect(gpuNames.details).toBe(`gpu_names: ${LIMITS.workerGpus + 1} entries, more than the limit ${LIMITS.workerGpus}`);
    const gpuName = await refused(h.w('registerWorker', { hostname: 'h', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, backends: [], version: 't', gpuNames: ['g'.repeat(LIMITS.nameChars + 1)] }));
    expect(gpuName.details).toBe(`gpu_names[0]: ${LIMITS.nameChars + 1} characters, more than the limit ${LIMITS.nameChars}`);
    const workerId = await h.register();
    const records = JSON.stringify(Array.from({ length: LIMITS.epochRecords + 1 }, (_, i) => ({ epoch: i })));
    const hb = await refused(h.w('heartbeat', { workerId, tasks: [{ taskId: 't', fencingToken: 1, epoch: 1, epochsJson: records }], draining: false }));
    expect(hb.details).toBe(`tasks[0].epochs_json: ${LIMITS.epochRecords + 1} epoch records, more than the limit ${LIMITS.epochRecords}`);
    expect(await healthz(h)).toBe(200);
  });

  it('finding 11: an int64 above 2^53 is INVALID_ARGUMENT, not INTERNAL', async () => {
    h = await startHarness();
    const workerId = await h.register();
    const id = Buffer.from(workerId);
    // LeaseTasksRequest { worker_id = 1; max_tasks = 2; wait_ms = 3 = 2^60 }, encoded by hand.
    const bytes = Buffer.from([0x0a, id.length, ...id, 0x10, 1, 0x18, ...varint(2n ** 60n)]);
    const client = new grpc.Client(h.c.grpcAddress, grpc.credentials.createInsecure());
    const e = await refused(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest('/npf.v1.WorkerService/LeaseTasks', (b: Buffer) => b, (b: Buffer) => b, bytes, bearer(h!.token), (err, res) => (err ? reject(err) : resolve(res))),
      ),
    );
    client.close();
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^request: an int64 field is outside the range a number holds exactly/);
  });

  it('finding 11: a task asking for more GPUs than any worker may have is refused at submit', async () => {
    h = await startHarness();
    const e = await refused(h.s('submitSweep', { specYaml: QUICK, fileName: 'q.yaml', overrides: ['resources.gpu=1000000000'] }));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(new RegExp(`resources\\.gpu: must be <= ${LIMITS.workerGpus}, got 1000000000`));
  });

  it('finding 7: the coordinator never expands its own environment into a spec', async () => {
    process.env.NPF_TEST_SECRET_12 = 'hunter2';
    try {
      h = await startHarness();
      const withVar = QUICK.replace(/^name: .*$/m, 'name: "${NPF_TEST_SECRET_12}"');
      expect(withVar).not.toBe(QUICK);
      const e = await refused(h.s('submitSweep', { specYaml: withVar, fileName: 'q.yaml', overrides: [] }));
      expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.details).not.toContain('hunter2');
      expect(e.details).toMatch(/\$\{NPF_TEST_SECRET_12\} is not expanded here: variables are expanded by the client/);
      // The submitting client expands with its own environment.
      expect(expandSpecVariables(withVar, { NPF_TEST_SECRET_12: 'mine' }, 'q.yaml')).toMatch(/^name: "?mine"?$/m);
    } finally {
      delete process.env.NPF_TEST_SECRET_12;
    }
  });
});

describe('upload idle deadline (issue 12, finding 5)', () => {
  it('an upload that sends nothing is ended with RESOURCE_EXHAUSTED after the idle deadline', async () => {
    h = await startHarness({ uploadIdleMs: 300 });
    const e = await refused(
      new Promise((resolve, reject) => {
        const call = h!.worker.uploadArtifact(bearer(h!.token), (err, res) => (err ? reject(err) : resolve(res)));
        void call; // opened, never written to, never ended
      }),
    );
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).toBe('artifact upload idle for 300 ms: ended, nothing stored (send the chunks without pausing)');
    expect(await healthz(h)).toBe(200);
  });
});
