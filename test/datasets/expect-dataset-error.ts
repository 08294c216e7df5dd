import { expect } from 'vitest';
import { NpfError } from '../../common/errors.js';
import { DatasetError, type DatasetProblem } from '../../science/datasets/index.js';

/** Await `p`, expecting exactly one DatasetError of `problem` whose message holds every fragment. */
export async function expectDatasetError(p: Promise<unknown>, problem: DatasetProblem, fragments: string[]): Promise<DatasetError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a DatasetError, nothing was thrown').toBeInstanceOf(DatasetError);
  const e = caught as DatasetError;
  expect(e).toBeInstanceOf(NpfError);
  expect({ problem: e.problem, message: e.message }).toMatchObject({ problem });
  for (const f of fragments) expect(e.message).toContain(f);
  // One sentence, not a stack from zlib or fs.
  expect(e.message).not.toMatch(/\n\s+at /);
  return e;
}
