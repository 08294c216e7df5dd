/**
 * Subsets of a split: the first N examples, or the first N examples of each class, both in
 * file order (docs/protocol.md: the NPK subset is "the first 100 of each class").
 */
import type { SubsetSpec } from '../types.js';
import { DatasetError } from './errors.js';
import { pick, type Selection } from './selection.js';

/**
 * Apply `spec` to a selection. Asking for more examples than exist is an error, not a silent
 * clamp: a kernel measured on 180 examples instead of 200 would be a different experiment.
 * @param where e.g. "mnist trainSubset", for error messages.
 * @param classNames names of the label values, for error messages and the per-class count.
 * @throws DatasetError bad-subset.
 */
export function applySubset(sel: Selection, spec: SubsetSpec | undefined, classNames: readonly string[], where: string): Selection {
  if (!spec || (spec.first === undefined && spec.perClass === undefined)) return sel;
  if (spec.first !== undefined && spec.perClass !== undefined) {
    throw new DatasetError('bad-subset', `${where}: give either first or perClass, not both`, { where, spec });
  }
  const n = sel.indices.length;
  if (spec.first !== undefined) {
    checkCount(spec.first, `${where}.first`);
    if (spec.first > n) {
      throw new DatasetError('bad-subset', `${where}.first = ${spec.first}, but the split has only ${n} examples`, { where, spec, available: n });
    }
    return pick(sel, range(spec.first));
  }
  const perClass = spec.perClass as number;
  checkCount(perClass, `${where}.perClass`);
  const taken = new Array<number>(classNames.length).fill(0);
  const keep: number[] = [];
  for (let k = 0; k < n; k++) {
    const c = sel.labels[k];
    if (taken[c] < perClass) {
      taken[c]++;
      keep.push(k);
    }
  }
  const short = taken.map((t, c) => ({ c, t })).filter(({ t }) => t < perClass);
  if (short.length > 0) {
    const list = short.map(({ c, t }) => `class ${classNames[c]} has ${t}`).join(', ');
    throw new DatasetError('bad-subset', `${where}.perClass = ${perClass}, but ${list}`, { where, spec, short });
  }
  return pick(sel, keep);
}

function checkCount(v: number, field: string): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new DatasetError('bad-subset', `${field} must be a positive integer, got ${v}`, { field, value: v });
  }
}

function range(n: number): Int32Array {
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  return r;
}
