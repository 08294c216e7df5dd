import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../coordinator/errors.js';
import { TASK_STATES, TRANSITIONS, canTransition, transition, type TaskState } from '../../coordinator/task-state.js';

const ALLOWED: Array<[TaskState, TaskState]> = [
  ['blocked', 'pending'],
  ['blocked', 'failed'],
  ['blocked', 'cancelled'],
  ['pending', 'leased'],
  ['pending', 'cancelled'],
  ['leased', 'running'],
  ['leased', 'pending'],
  ['leased', 'succeeded'],
  ['leased', 'failed'],
  ['leased', 'cancelled'],
  ['running', 'pending'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'cancelled'],
  ['failed', 'pending'],
  ['failed', 'blocked'],
  ['cancelled', 'pending'],
  ['cancelled', 'blocked'],
];

describe('coordinator task-state', () => {
  it('task-state - the table allows exactly the documented transitions', () => {
    const fromTable = TASK_STATES.flatMap((from) => TRANSITIONS[from].map((to) => `${from}->${to}`)).sort();
    expect(fromTable).toEqual(ALLOWED.map(([a, b]) => `${a}->${b}`).sort());
  });

  it('task-state - every transition outside the table throws IllegalTransitionError', () => {
    let illegal = 0;
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        const allowed = ALLOWED.some(([a, b]) => a === from && b === to);
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) {
          expect(transition('t1', from, to)).toBe(to);
        } else {
          illegal++;
          expect(() => transition('t1', from, to)).toThrow(IllegalTransitionError);
          try {
            transition('t1', from, to);
          } catch (e) {
            expect((e as IllegalTransitionError).message).toBe(`task t1: illegal transition ${from} -> ${to}`);
            expect((e as IllegalTransitionError).from).toBe(from);
          }
        }
      }
    }
    expect(illegal).toBe(49 - ALLOWED.length);
  });

  it('task-state - succeeded is final', () => {
    for (const to of TASK_STATES) expect(() => transition('t', 'succeeded', to)).toThrow(IllegalTransitionError);
  });
});
