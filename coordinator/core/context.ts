/** What every module of the core shares: the store, options, observer, event log, lifecycle and long polls. */
import type { CoordinatorStore } from '../store/coordinator-store.js';
import { InvalidRequestError } from '../errors.js';
import type { EventLog } from './event-log.js';
import type { LeaseWaiters } from './lease-waiters.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { CoreObserver, CoreOptions } from './types.js';

export interface CoreContext {
  store: CoordinatorStore;
  opts: CoreOptions;
  observer: CoreObserver;
  events: EventLog;
  life: TaskLifecycle;
  waiters: LeaseWaiters;
}

/** Refuse an empty id (INVALID_ARGUMENT naming the field). */
export function requireId(value: string, field: string): void {
  if (!value || !value.trim()) throw new InvalidRequestError(`${field} is empty`, { field });
}
