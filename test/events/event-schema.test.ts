import { describe, expect, it } from 'vitest';
import { BoundedEventBuffer } from '../../events/event-buffer.js';
import { EventDecodeError, decodeEvent, encodeEvent, eventSubject, parseSubjectToken, subjectToken, sweepSubjectFilter, type NpfEvent } from '../../events/event-schema.js';

describe('events - subject scheme', () => {
  it('events - task and sweep events get the documented subjects', () => {
    expect(eventSubject({ type: 'task.leased', sweepId: 'table2', taskId: 'ab12' })).toBe('npf.sweep.table2.task.ab12.leased');
    expect(eventSubject({ type: 'task.retried', sweepId: 'table2', taskId: 'ab12' })).toBe('npf.sweep.table2.task.ab12.retried');
    expect(eventSubject({ type: 'sweep.complete', sweepId: 'table2' })).toBe('npf.sweep.table2.complete');
    expect(eventSubject({ type: 'sweep.cancelled', sweepId: 'table2' })).toBe('npf.sweep.table2.cancelled');
    expect(sweepSubjectFilter('table2')).toBe('npf.sweep.table2.>');
  });

  it('events - ids are sanitised losslessly: no dots, wildcards or spaces reach the subject', () => {
    const ids = ['a.b', 'a_b', 'a%2Eb', 'x*', 'y>', 'with space', 'ünï', 'plain-id_1'];
    const tokens = ids.map(subjectToken);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_%-]+$/);
    expect(new Set(tokens).size).toBe(ids.length);
    expect(tokens.map(parseSubjectToken)).toEqual(ids);
    expect(subjectToken('plain-id_1')).toBe('plain-id_1');
    expect(eventSubject({ type: 'task.progress', sweepId: 's.1', taskId: 't>' })).toBe('npf.sweep.s%2E1.task.t%3E.progress');
  });

  it('events - a task event without taskId or an empty id is refused', () => {
    expect(() => eventSubject({ type: 'task.leased', sweepId: 's' } as never)).toThrow("event 'task.leased' of sweep 's' has no taskId");
    expect(() => subjectToken('')).toThrow('event id is empty');
  });

  it('events - decode round-trips an event and names the bad field of a broken one', () => {
    const e: NpfEvent = { v: 1, type: 'task.progress', sweepId: 's', taskId: 't', time: '2026-01-01T00:00:00.000Z', seq: 3, payload: { attempt: 1, epoch: 2, epochs: 5 } };
    expect(decodeEvent(encodeEvent(e))).toEqual(e);
    expect(() => decodeEvent('{"v":2}', 'npf.sweep.s.complete')).toThrow(EventDecodeError);
    expect(() => decodeEvent('{"v":2}', 'npf.sweep.s.complete')).toThrow("event on 'npf.sweep.s.complete' is not a v1 npf event: field 'v'");
    expect(() => decodeEvent(JSON.stringify({ ...e, taskId: undefined }))).toThrow("of type 'task.progress' has no taskId");
    expect(() => decodeEvent('not json')).toThrow('is not JSON');
  });
});

describe('events - bounded buffer', () => {
  it('events - keeps FIFO order and drops the oldest when full', () => {
    const b = new BoundedEventBuffer<number>(3);
    expect([1, 2, 3].map((x) => b.push(x))).toEqual([0, 0, 0]);
    expect(b.push(4)).toBe(1);
    expect(b.dropped).toBe(1);
    expect(b.shift()).toBe(2);
    expect(b.unshift(2)).toBe(0); // back at the front
    expect(b.push(5)).toBe(1); // drops 2 again
    expect([b.shift(), b.shift(), b.shift(), b.shift()]).toEqual([3, 4, 5, undefined]);
    expect(b.dropped).toBe(2);
  });

  it('events - a failed in-flight item is the one dropped when the buffer filled meanwhile', () => {
    const b = new BoundedEventBuffer<number>(2);
    b.push(1);
    const inFlight = b.shift()!;
    b.push(2);
    b.push(3);
    expect(b.unshift(inFlight)).toBe(1);
    expect([b.shift(), b.shift()]).toEqual([2, 3]);
    expect(() => new BoundedEventBuffer(0)).toThrow('buffer capacity must be an integer >= 1, got 0');
  });

  it('events - stays correct over many pushes and shifts (compaction)', () => {
    const b = new BoundedEventBuffer<number>(5000);
    const out: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      b.push(i);
      if (i % 3 !== 0) out.push(b.shift()!);
    }
    while (b.size) out.push(b.shift()!);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });
});
