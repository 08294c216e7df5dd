/**
 * Sweeps: submission (a sweep and its trials; trials already succeeded under the same task id do
 * not run again, failed or cancelled ones are re-armed) and cancellation, of a whole sweep or of
 * single trials.
 */
import crypto from 'node:crypto';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { isPlaceableGpuRequest } from '../scheduler.js';
import type { ExpandedTask } from '../sweep-types.js';
import { LEASED_STATES, isTerminal } from '../task-state.js';
import { requireId, type CoreContext } from './context.js';
import type { SubmitInput, SubmitOutcome } from './types.js';

/** Table cell of a trial: its key without the seed. */
function cellKeyOf(key: ExpandedTask['key']): string {
  const { seed: _seed, ...rest } = key;
  return JSON.stringify(Object.keys(rest).sort().map((k) => [k, (rest as Record<string, unknown>)[k]]));
}

/** Stable id of a sweep: its name and the content hashes of its trials. */
export function sweepIdOf(name: string, taskIds: readonly string[]): string {
  const h = crypto.createHash('sha256').update(name).update('\n');
  for (const id of [...taskIds].sort()) h.update(id).update('\n');
  return `sw-${h.digest('hex').slice(0, 12)}`;
}

/** Refuse a submission that cannot be recorded: no trials, a repeated or empty id, resources no worker can offer. */
function checkSubmission(input: SubmitInput): Set<string> {
  if (input.tasks.length === 0) throw new InvalidRequestError(`sweep '${input.name}' expands to no trials`);
  const ids = new Set<string>();
  for (const t of input.tasks) {
    requireId(t.taskId, 'taskId');
    if (ids.has(t.taskId)) throw new InvalidRequestError(`sweep '${input.name}': trial ${t.taskId} appears twice`);
    ids.add(t.taskId);
    const r = t.resources;
    if (!(r.cpu >= 0) || !(r.memoryMb >= 0) || !isPlaceableGpuRequest(r.gpu)) {
      throw new InvalidRequestError(
        `trial ${t.taskId}: resources ${JSON.stringify(r)} are not schedulable (gpu must be 0, a fraction <= 1 or a whole number; cpu and memoryMb >= 0)`,
        { taskId: t.taskId },
      );
    }
  }
  return ids;
}

export class Sweeps {
  constructor(private readonly c: CoreContext) {}

  /** Record a sweep and its trials; trials that already succeeded (same task id) do not run again. */
  submitSweep(input: SubmitInput): Promise<SubmitOutcome> {
    const { store, opts, life, events, waiters } = this.c;
    const ids = checkSubmission(input);
    const sweepId = sweepIdOf(input.name, [...ids]);
    life.forgetLinks();
    return life.write(() => {
      const now = opts.now();
      const cells = new Set(input.tasks.map((t) => cellKeyOf(t.key)));
      if (!store.sweeps.byId(sweepId)) {
        store.sweeps.insert({
          sweepId,
          name: input.name,
          fileName: input.fileName,
          specYaml: input.specYaml,
          overridesJson: JSON.stringify(input.overrides),
          createdAtMs: now,
          cellsTotal: cells.size,
          aggregationJson: JSON.stringify(input.aggregation ?? {}),
        });
      } else {
        store.sweeps.setState(sweepId, 'running');
      }
      // Parents first, so a child sees its parent's (re-armed) state.
      const order = [...input.tasks].sort((a, b) => (a.parent ? 1 : 0) - (b.parent ? 1 : 0));
      let alreadyDone = 0;
      const fresh: string[] = [];
      for (const t of order) {
        if (t.parent && !ids.has(t.parent.taskId) && !store.tasks.exists(t.parent.taskId)) {
          throw new InvalidRequestError(`trial ${t.taskId} depends on ${t.parent.taskId}, which is neither in this sweep nor known`);
        }
        let row = store.tasks.byId(t.taskId);
        if (!row) {
          store.tasks.insert(
            {
              taskId: t.taskId,
              cellKey: cellKeyOf(t.key),
              regime: t.key.regime,
              parent: t.parent,
              cpu: t.resources.cpu,
              gpu: t.resources.gpu,
              memoryMb: Math.round(t.resources.memoryMb),
              priority: Math.round(t.priority),
              state: t.parent ? 'blocked' : 'pending',
              keyJson: JSON.stringify(t.key),
              specJson: JSON.stringify(t.spec),
              fusion: t.fusion,
            },
            now,
          );
          row = life.task(t.taskId);
          fresh.push(t.taskId);
        } else if (row.state === 'succeeded') {
          alreadyDone++;
        } else {
          // Not finished: the latest sweep's fuse setting applies from its next lease.
          store.tasks.setFusion(t.taskId, t.fusion);
          if (row.state === 'failed' || row.state === 'cancelled') life.setState(row, t.parent ? 'blocked' : 'pending', { tries: 0, not_before_ms: 0, error: null });
        }
        // The labels are this sweep's: an earlier sweep may have named the same trial otherwise.
        const linked = store.sweeps.link(sweepId, t.taskId, JSON.stringify(t.key));
        // Count it open for this sweep unless setState already did (re-arm of a linked task).
        if (!isTerminal(row.state) && linked) store.sweeps.addOpenTasks(sweepId, 1);
        if (t.parent) store.tasks.markHasDependants(t.parent.taskId);
        if (row.state === 'blocked') life.resolveBlocked(row);
        if (row.state === 'pending') store.afterCommit(() => waiters.wake());
      }
      events.sweep(sweepId, 'sweep.submitted', { name: input.name, tasks: input.tasks.length, cells: cells.size, alreadyDone });
      life.maybeCloseSweep(sweepId);
      // Links written in this (possibly rolled back) write must not linger in the cache; once
      // committed, a new task's only link is this sweep.
      life.forgetLinks();
      life.rememberLinks(fresh, sweepId);
      return { sweepId, totalTasks: input.tasks.length, alreadyDone };
    });
  }

  /** Cancel a sweep's open tasks (those no other running sweep shares); returns how many. */
  async cancelSweep(sweepId: string): Promise<number> {
    return (await this.cancelSweepTasks(sweepId)).length;
  }

  /**
   * Cancel single trials of a sweep, named by task id or a unique prefix of at least 6
   * characters (NOT_FOUND for one that is not the sweep's, INVALID_ARGUMENT for an ambiguous or
   * too short prefix). A trial still open is cancelled even when another sweep shares it (it was
   * asked for by id); a finished one is left as it is. A leased trial's worker is told to stop at
   * its next heartbeat. The sweep itself goes on, and closes when its last open trial ends.
   * Returns the ids of the trials cancelled.
   */
  cancelTrials(sweepId: string, refs: readonly string[]): Promise<string[]> {
    const { store, life, events } = this.c;
    requireId(sweepId, 'sweep_id');
    life.sweep(sweepId);
    const ids = store.sweeps.taskIds(sweepId);
    const wanted = [...new Set(refs.map((ref) => resolveTrialRef(sweepId, ids, ref)))];
    return life.write(() => {
      const cancelled: string[] = [];
      for (const id of wanted) {
        const row = life.task(id);
        if (isTerminal(row.state)) continue;
        if (LEASED_STATES.includes(row.state)) life.recordAttempt(row, 'cancelled', 'trial cancelled');
        life.setState(row, 'cancelled', { error: 'trial cancelled on request' });
        events.task(life.sweepsOf(row.task_id), row.task_id, 'task.cancelled', { reason: 'trial cancelled on request' });
        cancelled.push(id);
      }
      return cancelled;
    });
  }

  /** Cancel a sweep's open tasks (those no other running sweep shares); returns their ids. */
  cancelSweepTasks(sweepId: string): Promise<string[]> {
    const { store, life, events } = this.c;
    requireId(sweepId, 'sweep_id');
    life.sweep(sweepId);
    return life.write(() => {
      const open = store.sweeps.openTasks(sweepId);
      // The sweep closes as 'cancelled', not 'complete'.
      store.sweeps.setStateIf(sweepId, 'running', 'cancelling');
      const cancelled: string[] = [];
      for (const row of open) {
        // A trial shared with another running sweep keeps running for that one.
        if (store.sweeps.sharedWithOtherRunning(row.task_id, sweepId)) continue;
        if (LEASED_STATES.includes(row.state)) life.recordAttempt(row, 'cancelled', 'sweep cancelled');
        life.setState(row, 'cancelled', { error: 'sweep cancelled' });
        events.task(life.sweepsOf(row.task_id), row.task_id, 'task.cancelled', { reason: 'sweep cancelled' });
        cancelled.push(row.task_id);
      }
      if (life.sweep(sweepId).state === 'cancelling') {
        store.sweeps.setState(sweepId, 'cancelled');
        const { succeeded, failed, cancelled: cancelledCount } = life.countsOf(sweepId);
        events.sweep(sweepId, 'sweep.cancelled', { reason: 'cancelled on request', succeeded, failed, cancelled: cancelledCount });
      }
      return cancelled;
    });
  }
}

/** Shortest task-id prefix accepted where a trial is named. */
export const MIN_TRIAL_PREFIX = 6;

/** The id of the sweep's trial that `ref` names: the id itself or a unique prefix. */
export function resolveTrialRef(sweepId: string, taskIds: readonly string[], ref: string): string {
  const r = ref.trim().toLowerCase();
  if (taskIds.includes(r)) return r;
  if (r.length < MIN_TRIAL_PREFIX) {
    throw new InvalidRequestError(`trial '${ref}': give the task id or at least ${MIN_TRIAL_PREFIX} of its first characters`, { field: 'task_ids' });
  }
  const matches = taskIds.filter((id) => id.startsWith(r));
  if (matches.length === 0) throw new NotFoundError('task', ref, `no trial of sweep ${sweepId} has this id`);
  if (matches.length > 1) {
    throw new InvalidRequestError(`trial '${ref}' is ambiguous in sweep ${sweepId}: ${matches.length} trials start with it (${matches.slice(0, 3).map((m) => m.slice(0, 12)).join(', ')}...)`, { field: 'task_ids' });
  }
  return matches[0];
}
