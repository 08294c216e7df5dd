import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetCache, loadDataset, type Split } from '../../science/datasets/index.js';
import type { SubsetSpec } from '../../science/types.js';
import { expectDatasetError } from './expect-dataset-error.js';
import { pixelAt, tempDir, writeIdxSet } from './formats.js';

// Every digit twice, plus a third 5 (index 2) and trailing 5 and 4 that perClass 2 must skip.
const TRAIN = [5, 5, 5, 0, 1, 2, 3, 4, 6, 7, 8, 9, 0, 1, 2, 3, 4, 6, 7, 8, 9, 5, 4];
const TEST = [4, 7, 1, 4, 7, 7, 9, 4, 7];

/** The generator index each example of `split` came from, recovered from its first two pixels. */
function sourceIndices(split: Split, candidates: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < split.n; k++) {
    const i = [...Array(candidates).keys()].find(
      (j) => Math.abs(split.x[k * 784] - pixelAt(j, 0) / 255) < 1e-7 && Math.abs(split.x[k * 784 + 1] - pixelAt(j, 1) / 255) < 1e-7,
    );
    out.push(i ?? -1);
  }
  return out;
}

describe('datasets - subsets and binary MNIST', () => {
  let dir: string;
  const load = (name: 'mnist' | 'binary-mnist', trainSubset?: SubsetSpec, testSubset?: SubsetSpec) =>
    loadDataset({ name, dir, trainSubset, testSubset }, { cache: new DatasetCache() });

  beforeEach(async () => {
    dir = await tempDir();
    await writeIdxSet(dir, { trainLabels: TRAIN, testLabels: TEST });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('datasets - first N keeps the first N examples in file order, with their pixels', async () => {
    const ds = await load('mnist', { first: 4 }, { first: 2 });
    expect(ds.train.n).toBe(4);
    expect(Array.from(ds.train.labels)).toEqual([5, 5, 5, 0]);
    expect(ds.train.x.length).toBe(4 * 784);
    expect(ds.train.x[3 * 784 + 500]).toBeCloseTo(pixelAt(3, 500) / 255, 7);
    expect(Array.from(ds.test.labels)).toEqual([4, 7]);
  });

  it('datasets - N per class keeps the first N of each class, in file order', async () => {
    const ds = await load('mnist', { perClass: 2 });
    const expected = [0, 1, ...Array.from({ length: 18 }, (_, k) => k + 3)];
    expect(sourceIndices(ds.train, TRAIN.length)).toEqual(expected);
    expect(Array.from(ds.train.labels)).toEqual(expected.map((i) => TRAIN[i]));
    const hist = new Array(10).fill(0);
    ds.train.labels.forEach((l) => hist[l]++);
    expect(hist).toEqual(new Array(10).fill(2));
    expect(ds.test.n).toBe(TEST.length); // no test subset asked
  });

  it('datasets - binary-mnist keeps 4 (label 0, target -1) and 7 (label 1, target +1) only', async () => {
    const ds = await load('binary-mnist');
    expect(ds.numClasses).toBe(1);
    expect(ds.classNames).toEqual(['4', '7']);
    expect(sourceIndices(ds.test, TEST.length)).toEqual([0, 1, 3, 4, 5, 7, 8]);
    expect(Array.from(ds.test.labels)).toEqual([0, 1, 0, 1, 1, 0, 1]);
    expect(Array.from(ds.test.targets ?? [])).toEqual([-1, 1, -1, 1, 1, -1, 1]);
    expect(Array.from(ds.train.targets ?? [])).toEqual([-1, 1, -1, 1, -1]); // train: 4,7,4,7,4 at 7,9,16,18,22
    expect(sourceIndices(ds.train, TRAIN.length)).toEqual([7, 9, 16, 18, 22]);
  });

  it('datasets - binary-mnist subsets count 4s and 7s after the filter (NPK: first 100 of each class)', async () => {
    const ds = await load('binary-mnist', undefined, { perClass: 2 });
    expect(sourceIndices(ds.test, TEST.length)).toEqual([0, 1, 3, 4]);
    expect(Array.from(ds.test.targets ?? [])).toEqual([-1, 1, -1, 1]);
    const first = await load('binary-mnist', { first: 3 });
    expect(Array.from(first.train.targets ?? [])).toEqual([-1, 1, -1]);
  });

  it('datasets - a subset larger than the split or than a class is an error, not a silent clamp', async () => {
    await expectDatasetError(load('mnist', { first: 24 }), 'bad-subset', ['mnist trainSubset.first = 24', 'only 23 examples']);
    await expectDatasetError(load('mnist', undefined, { perClass: 1 }), 'bad-subset', [
      'mnist testSubset.perClass = 1',
      'class 0 has 0',
      'class 8 has 0',
    ]);
    await expectDatasetError(load('binary-mnist', undefined, { perClass: 4 }), 'bad-subset', ['binary-mnist testSubset.perClass = 4', 'class 4 has 3']);
  });

  it('datasets - malformed subsets are refused with the field named', async () => {
    await expectDatasetError(load('mnist', { first: 2, perClass: 1 }), 'bad-subset', ['mnist trainSubset', 'either first or perClass, not both']);
    await expectDatasetError(load('mnist', undefined, { perClass: 0 }), 'bad-subset', ['mnist testSubset.perClass must be a positive integer, got 0']);
    await expectDatasetError(load('mnist', { first: 1.5 }), 'bad-subset', ['trainSubset.first must be a positive integer, got 1.5']);
  });
});
