import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../worker/backoff.js';
import { InvalidInputError, NpfError } from '../../common/errors.js';
import { BackendUnavailableError, DeviceLostError } from '../../science/backend/errors.js';
import { DatasetError } from '../../science/datasets/errors.js';
import { classifyChildExit, isRetryable } from '../../worker/failure.js';
import { ProgressBuffer } from '../../worker/progress-buffer.js';

describe('worker failure classification', () => {
  it('worker - a signal is retryable and names the signal and the stderr tail', () => {
    const v = classifyChildExit({ code: null, signal: 'SIGKILL', stderrTail: ['line a', 'line b'] });
    expect(v).toMatchObject({ reason: 'signal', retryable: true });
    expect(v.message).toMatch(/signal SIGKILL/);
    expect(v.message).toMatch(/line a\nline b$/);
  });

  it('worker - a non-zero exit is a retryable crash; V8 heap exhaustion is called out of memory', () => {
    const v = classifyChildExit({ code: 134, signal: null, stderrTail: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'] });
    expect(v).toMatchObject({ reason: 'crash', retryable: true });
    expect(v.message).toMatch(/exit code 134 \(out of memory\)/);
  });

  it("worker - the child's own error report decides retryability", () => {
    expect(classifyChildExit({ code: 1, signal: null, childError: { code: 'INVALID_INPUT', message: 'bad lr', retryable: false }, stderrTail: [] })).toMatchObject({ reason: 'invalid', retryable: false, message: 'trial failed: bad lr' });
    expect(classifyChildExit({ code: 1, signal: null, childError: { code: 'ERROR', message: 'boom', retryable: true }, stderrTail: ['at x'] }).retryable).toBe(true);
  });

  it('worker - typed errors are deterministic except a dataset missing on this machine', () => {
    expect(isRetryable(new InvalidInputError('bad lr'))).toBe(false);
    expect(isRetryable(new NpfError('CHECKPOINT_MISMATCH', 'hash differs'))).toBe(false);
    expect(isRetryable(new DatasetError('bad-gzip', 'corrupt', { file: 'f' }))).toBe(false);
    expect(isRetryable(new DatasetError('missing', 'gone', { file: 'f' }))).toBe(true);
    expect(isRetryable(new BackendUnavailableError('no tfjs-node'))).toBe(true);
    expect(isRetryable(new DeviceLostError('NVIDIA H200', 'unknown', 'driver reset'))).toBe(true);
    expect(isRetryable(new Error('wasm out of memory'))).toBe(true);
    expect(isRetryable('thrown string')).toBe(true);
  });
});

describe('worker backoff and progress buffer', () => {
  it('worker - backoff doubles from the initial delay up to the cap', () => {
    const p = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, p))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2, p, 0.5)).toBe(100);
  });

  it('worker - progress records stay until a heartbeat carrying them is acknowledged', () => {
    const b = new ProgressBuffer();
    b.track('t', 1);
    const rec = (epoch: number) => ({ epoch, trainLoss: 0, testLoss: 0, testAccuracy: 0.5, examplesPerSec: 1, durationMs: 1 });
    b.add('t', rec(1));
    const failed = b.snapshot(); // this beat fails: not acknowledged
    b.add('t', rec(2));
    expect(b.snapshot()[0].records.map((r) => r.epoch)).toEqual([1, 2]);
    b.acknowledge(failed);
    expect(b.snapshot()[0]).toMatchObject({ epoch: 2, records: [rec(2)] });
    b.add('other', rec(1)); // untracked tasks are ignored
    expect(b.snapshot()).toHaveLength(1);
  });
});
