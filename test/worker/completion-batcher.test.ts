import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { CompleteTasksResponse, TaskLease } from '../../gen/npf/v1/sweep.js';
import { CompletionBatcher, CompletionRefusedError, type CompletionItem } from '../../worker/completion-batcher.js';
import { lease, tinySpec } from './fake-coordinator.js';

const item = (taskId: string): CompletionItem => ({ workerId: 'w1', taskId, fencingToken: 1, resultJson: '{}', artifacts: [] });

function recorder(batchAnswer: (items: CompletionItem[], leaseNext: number) => Promise<CompleteTasksResponse>) {
  const batches: { ids: string[]; leaseNext: number }[] = [];
  const singles: { id: string; leaseNext: number }[] = [];
  const leased: TaskLease[] = [];
  const batcher = new CompletionBatcher({
    sendBatch: (items, leaseNext) => {
      batches.push({ ids: items.map((i) => i.taskId), leaseNext });
      return batchAnswer(items, leaseNext);
    },
    sendOne: (i, leaseNext) => {
      singles.push({ id: i.taskId, leaseNext });
      return Promise.resolve({ nextLeases: leaseNext ? [lease(`next-${i.taskId}`, tinySpec())] : [] });
    },
    leaseNextPerResult: () => 1,
    onLeases: (ls) => leased.push(...ls),
  });
  return { batcher, batches, singles, leased };
}

const okAll = (items: CompletionItem[], leaseNext: number): Promise<CompleteTasksResponse> =>
  Promise.resolve({
    outcomes: items.map((i) => ({ taskId: i.taskId, ok: true, code: 0, message: '' })),
    nextLeases: Array.from({ length: leaseNext }, (_, k) => lease(`next-${k}`, tinySpec())),
  });

describe('worker', () => {
  it('worker - results ready in the same turn go out in one CompleteTasks asking one lease per result', async () => {
    const r = recorder(okAll);
    await Promise.all([r.batcher.submit(item('a')), r.batcher.submit(item('b')), r.batcher.submit(item('c'))]);
    expect(r.batches).toEqual([{ ids: ['a', 'b', 'c'], leaseNext: 3 }]);
    expect(r.leased.map((l) => l.taskId)).toEqual(['next-0', 'next-1', 'next-2']);
    // A result of a later turn is its own call.
    await r.batcher.submit(item('d'));
    expect(r.batches).toHaveLength(2);
    expect(r.singles).toHaveLength(0);
  });

  it('worker - a refused item of a batch rejects only that result, with its code', async () => {
    const r = recorder((items) =>
      Promise.resolve({
        outcomes: items.map((i) =>
          i.taskId === 'stale' ? { taskId: i.taskId, ok: false, code: status.FAILED_PRECONDITION, message: 'stale fencing token 1' } : { taskId: i.taskId, ok: true, code: 0, message: '' },
        ),
        nextLeases: [],
      }),
    );
    const [a, stale, b] = await Promise.allSettled([r.batcher.submit(item('a')), r.batcher.submit(item('stale')), r.batcher.submit(item('b'))]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('fulfilled');
    expect(stale.status).toBe('rejected');
    const err = (stale as PromiseRejectedResult).reason as CompletionRefusedError;
    expect(err).toBeInstanceOf(CompletionRefusedError);
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('stale fencing token 1');
  });

  it('worker - UNIMPLEMENTED (an older coordinator) falls back to one CompleteTask per result, for good', async () => {
    const r = recorder(() => Promise.reject(Object.assign(new Error('12 UNIMPLEMENTED'), { code: status.UNIMPLEMENTED })));
    await Promise.all([r.batcher.submit(item('a')), r.batcher.submit(item('b'))]);
    expect(r.batches).toHaveLength(1);
    expect(r.singles).toEqual([
      { id: 'a', leaseNext: 1 },
      { id: 'b', leaseNext: 1 },
    ]);
    expect(r.batcher.protocol).toBe('single');
    await r.batcher.submit(item('c'));
    expect(r.batches).toHaveLength(1);
    expect(r.singles.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(r.leased.map((l) => l.taskId)).toEqual(['next-a', 'next-b', 'next-c']);
  });

  it('worker - a failed CompleteTasks call (not UNIMPLEMENTED) rejects every result of the batch', async () => {
    const r = recorder(() => Promise.reject(Object.assign(new Error('3 INVALID_ARGUMENT'), { code: status.INVALID_ARGUMENT })));
    const out = await Promise.allSettled([r.batcher.submit(item('a')), r.batcher.submit(item('b'))]);
    expect(out.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(r.singles).toHaveLength(0);
    expect(r.batcher.protocol).toBe('batching');
  });
});
