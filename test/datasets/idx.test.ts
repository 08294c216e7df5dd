import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetCache, loadDataset } from '../../science/datasets/index.js';
import { pixelAt, tempDir, writeIdxSet } from './formats.js';

const TRAIN = [5, 0, 4, 1, 9, 2, 1, 3];
const TEST = [7, 2, 1];

describe('datasets - IDX reader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const gzip of ['none', 'gz-suffix', 'gz-content-raw-name'] as const) {
    it(`datasets - IDX round-trip (${gzip}): pixels / 255 in NHWC, labels as written`, async () => {
      await writeIdxSet(dir, { trainLabels: TRAIN, testLabels: TEST, gzip });
      const ds = await loadDataset({ name: 'mnist', dir }, { cache: new DatasetCache() });
      expect(ds.name).toBe('mnist');
      expect(ds.inputShape).toEqual([28, 28, 1]);
      expect(ds.numClasses).toBe(10);
      expect(ds.train.n).toBe(TRAIN.length);
      expect(ds.test.n).toBe(TEST.length);
      expect(Array.from(ds.train.labels)).toEqual(TRAIN);
      expect(Array.from(ds.test.labels)).toEqual(TEST);
      expect(ds.train.x.length).toBe(TRAIN.length * 784);
      expect(ds.train.targets).toBeUndefined();
      for (const [i, p] of [[0, 0], [3, 27], [3, 28], [7, 783]]) {
        // IDX rows x cols is H, W; one channel: flat NHWC index = i*784 + h*28 + w.
        expect(ds.train.x[i * 784 + p]).toBeCloseTo(pixelAt(i, p) / 255, 7);
      }
      expect(ds.test.x[2 * 784 + 100]).toBeCloseTo(pixelAt(2, 100) / 255, 7);
      const max = ds.train.x.reduce((a, b) => Math.max(a, b), 0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max).toBeGreaterThan(0.99);
    });
  }

  it('datasets - the cache decodes each file group once and re-reads a file replaced on disk', async () => {
    await writeIdxSet(dir, { trainLabels: TRAIN, testLabels: TEST });
    const cache = new DatasetCache();
    const a = await loadDataset({ name: 'mnist', dir }, { cache });
    const b = await loadDataset({ name: 'binary-mnist', dir }, { cache });
    expect(cache.size).toBe(2); // train pair + test pair, shared by mnist and binary-mnist
    expect(a.train.x).not.toBe(b.train.x);
    // Rewrite with one more example: the stamps change, so the new files are read and replace the old entries.
    await writeIdxSet(dir, { trainLabels: [...TRAIN, 7], testLabels: TEST });
    const c = await loadDataset({ name: 'mnist', dir }, { cache });
    expect(c.train.n).toBe(TRAIN.length + 1);
    expect(cache.size).toBe(2);
  });

  it('datasets - fashion-mnist reads a dir override with gzipped files and names its classes', async () => {
    await writeIdxSet(dir, { trainLabels: TRAIN, testLabels: TEST, gzip: 'gz-suffix' });
    const ds = await loadDataset({ name: 'fashion-mnist', dir }, { cache: new DatasetCache() });
    expect(ds.classNames[9]).toBe('Ankle boot');
    expect(Array.from(ds.train.labels)).toEqual(TRAIN);
  });
});
