/**
 * Pure: the trial grid of a sweep, filtered, sorted and cut into one page on the server, so a
 * sweep of 10,000 trials sends the browser one page (100 rows by default) at a time.
 */
import { trialLabel } from '../coordinator/results/trial-label.js';
import { InvalidInputError } from '../common/errors.js';
import { GRID_SORT_KEYS, type GridSortKey, type TaskStateName, type TrialGridItem } from './api-types.js';
import type { TrialGridRecord } from './data-source.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export interface GridQuery {
  offset: number;
  limit: number;
  sort: GridSortKey;
  desc: boolean;
  /** Only these states (empty: all). */
  states: TaskStateName[];
  /** Only this regime ('' for all). */
  regime: string;
  /** Case-insensitive text in the label, task id, worker or error. */
  text: string;
}

const STATES: readonly TaskStateName[] = ['blocked', 'pending', 'leased', 'running', 'succeeded', 'failed', 'cancelled'];

function int(name: string, raw: string | null, dflt: number, min: number, max: number): number {
  if (raw === null || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInputError(`query parameter ${name}=${raw}: expected a whole number in [${min}, ${max}]`, { name });
  return n;
}

/** Validate the grid's query string. */
export function parseGridQuery(params: URLSearchParams): GridQuery {
  const sort = (params.get('sort') || 'seq') as GridSortKey;
  if (!GRID_SORT_KEYS.includes(sort)) throw new InvalidInputError(`query parameter sort=${sort}: expected one of ${GRID_SORT_KEYS.join(', ')}`, { name: 'sort' });
  const states = (params.get('state') || '').split(',').filter(Boolean) as TaskStateName[];
  for (const s of states) if (!STATES.includes(s)) throw new InvalidInputError(`query parameter state=${s}: expected one of ${STATES.join(', ')}`, { name: 'state' });
  const dir = params.get('dir') || 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw new InvalidInputError(`query parameter dir=${dir}: expected asc or desc`, { name: 'dir' });
  return {
    offset: int('offset', params.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER),
    limit: int('limit', params.get('limit'), DEFAULT_PAGE, 1, MAX_PAGE),
    sort,
    desc: dir === 'desc',
    states,
    regime: params.get('regime') ?? '',
    text: (params.get('q') ?? '').trim().toLowerCase(),
  };
}

/** The grid row of one trial. */
export function gridItem(r: TrialGridRecord): TrialGridItem {
  return {
    taskId: r.taskId,
    label: trialLabel(r.key, r.taskId),
    regime: r.key.regime === 'stage' ? `stage ${r.key.stage ?? 0}` : r.key.regime,
    seed: r.key.seed,
    state: r.state,
    attempt: r.attempt,
    worker: r.worker,
    backend: r.backend,
    epoch: r.epoch,
    epochs: r.epochs,
    current: r.currentAccuracy,
    best: r.bestAccuracy,
    curve: r.curve,
    error: r.error,
    parentTaskId: r.parentTaskId,
  };
}

const collator = new Intl.Collator(undefined, { numeric: true });

const STATE_RANK: Record<TaskStateName, number> = { running: 0, leased: 1, pending: 2, blocked: 3, failed: 4, cancelled: 5, succeeded: 6 };

function sortValue(item: TrialGridItem, seq: number, key: GridSortKey): string | number | null {
  if (key === 'seq') return seq;
  if (key === 'state') return STATE_RANK[item.state];
  return item[key];
}

/** One page of the grid. Missing values (no worker yet, no accuracy) sort last either way. */
export function queryGrid(records: readonly TrialGridRecord[], q: GridQuery): { total: number; matched: number; rows: TrialGridItem[] } {
  const items = records.map((r) => ({ seq: r.seq, item: gridItem(r) }));
  const matched = items.filter(({ item }) => {
    if (q.states.length && !q.states.includes(item.state)) return false;
    if (q.regime && item.regime !== q.regime) return false;
    if (q.text) {
      const hay = `${item.label}\n${item.taskId}\n${item.worker ?? ''}\n${item.error ?? ''}`.toLowerCase();
      if (!hay.includes(q.text)) return false;
    }
    return true;
  });
  const sign = q.desc ? -1 : 1;
  matched.sort((a, b) => {
    const va = sortValue(a.item, a.seq, q.sort);
    const vb = sortValue(b.item, b.seq, q.sort);
    if (va === null || vb === null) return va === vb ? a.seq - b.seq : va === null ? 1 : -1;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
    return c !== 0 ? sign * c : a.seq - b.seq;
  });
  return { total: records.length, matched: matched.length, rows: matched.slice(q.offset, q.offset + q.limit).map((m) => m.item) };
}
