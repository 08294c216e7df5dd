import { describe, expect, it } from 'vitest';
import { InvalidInputError, NpfError } from '../../common/errors.js';
import { CoordinatorCallError, CoordinatorUnreachableError } from '../../cli/errors.js';
import { NotFoundError, StaleLeaseError } from '../../coordinator/errors.js';
import { NatsUnavailableError } from '../../events/errors.js';
import { BackendUnavailableError } from '../../science/backend/errors.js';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import { DatasetError } from '../../science/datasets/errors.js';

describe('errors - retryable is a property of the error', () => {
  it('errors - deterministic refusals are not retryable; what depends on this machine or moment is', () => {
    expect(new NpfError('X', 'x').retryable).toBe(false);
    expect(new NpfError('X', 'x', {}, { retryable: true }).retryable).toBe(true);
    expect(new InvalidInputError('bad spec').retryable).toBe(false);
    expect(new StaleLeaseError('stale', { taskId: 't', fencingToken: 1 }).retryable).toBe(false);
    expect(new NotFoundError('worker', 'w').retryable).toBe(false);
    expect(new CheckpointError('f', 'hash-mismatch', 'bad').retryable).toBe(false);
    expect(new DatasetError('bad-magic', 'bad', { file: 'f' }).retryable).toBe(false);
    expect(new DatasetError('bad-subset', 'bad').retryable).toBe(false);
    expect(new DatasetError('missing', 'gone', { file: 'f' }).retryable).toBe(true);
    expect(new DatasetError('unreadable', 'no access', { file: 'f' }).retryable).toBe(true);
    expect(new BackendUnavailableError('no webgpu').retryable).toBe(true);
    expect(new NatsUnavailableError('down', { url: 'nats://x' }).retryable).toBe(true);
    expect(new CoordinatorUnreachableError('h:1', 'ECONNREFUSED').retryable).toBe(true);
    expect(new CoordinatorCallError('LeaseTasks', 14, 'UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new CoordinatorCallError('LeaseTasks', 4, 'DEADLINE_EXCEEDED', 'x').retryable).toBe(true);
    expect(new CoordinatorCallError('LeaseTasks', 3, 'INVALID_ARGUMENT', 'x').retryable).toBe(false);
    expect(new CoordinatorCallError('LeaseTasks', 9, 'FAILED_PRECONDITION', 'x').retryable).toBe(false);
  });

  it('errors - a cause is kept, and no cause property appears without one', () => {
    const cause = new Error('low level');
    expect(new DatasetError('missing', 'gone', { file: 'f' }, { cause }).cause).toBe(cause);
    expect('cause' in new NpfError('X', 'x')).toBe(false);
  });
});
