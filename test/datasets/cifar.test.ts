import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetCache, loadDataset } from '../../science/datasets/index.js';
import { expectDatasetError } from './expect-dataset-error.js';
import { cifarBytes, pixelAt, tempDir } from './formats.js';

/** Write data_batch_1..5.bin (2 examples each, labels 2k, 2k+1 mod 10) and test_batch.bin. */
async function writeCifar10(dir: string): Promise<void> {
  for (let b = 1; b <= 5; b++) {
    const first = 2 * (b - 1);
    await writeFile(join(dir, `data_batch_${b}.bin`), cifarBytes([first % 10, (first + 1) % 10], 'cifar10', first));
  }
  await writeFile(join(dir, 'test_batch.bin'), cifarBytes([3, 8, 0], 'cifar10', 100));
}

/** Pixel of generated example `e` at NHWC (h, w, c): the file holds it at CHW c*1024 + h*32 + w. */
const chw = (e: number, h: number, w: number, c: number) => pixelAt(e, c * 1024 + h * 32 + w) / 255;

describe('datasets - CIFAR binary reader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('datasets - CIFAR-10 round-trip: five batches in order, labels, CHW turned into NHWC / 255', async () => {
    await writeCifar10(dir);
    const ds = await loadDataset({ name: 'cifar10', dir }, { cache: new DatasetCache() });
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames[0]).toBe('airplane');
    expect(ds.train.n).toBe(10);
    expect(ds.test.n).toBe(3);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(ds.test.labels)).toEqual([3, 8, 0]);
    expect(ds.train.x.length).toBe(10 * 3072);
    const at = (x: Float32Array, i: number, h: number, w: number, c: number) => x[i * 3072 + (h * 32 + w) * 3 + c];
    for (const [i, h, w, c] of [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2], [7, 5, 9, 1], [9, 31, 31, 2], [4, 16, 3, 0]]) {
      // Example i of the training set was written by batch floor(i/2)+1 with generator index i.
      expect(at(ds.train.x, i, h, w, c)).toBeCloseTo(chw(i, h, w, c), 7);
    }
    expect(at(ds.test.x, 2, 10, 20, 1)).toBeCloseTo(chw(102, 10, 20, 1), 7);
  });

  it('datasets - CIFAR-100 keeps the fine label (100 classes), reads class names, accepts the extracted parent folder', async () => {
    const sub = join(dir, 'cifar-100-binary');
    await mkdir(sub);
    await writeFile(join(sub, 'train.bin'), cifarBytes([99, 0, 57, 42], 'cifar100', 0, [19, 4, 0, 7]));
    await writeFile(join(sub, 'test.bin'), cifarBytes([13, 88], 'cifar100', 50));
    const names = Array.from({ length: 100 }, (_, i) => `fine${i}`);
    await writeFile(join(sub, 'fine_label_names.txt'), names.join('\n') + '\n');
    const ds = await loadDataset({ name: 'cifar100', dir }, { cache: new DatasetCache() });
    expect(ds.numClasses).toBe(100);
    expect(ds.classNames[57]).toBe('fine57');
    expect(Array.from(ds.train.labels)).toEqual([99, 0, 57, 42]);
    expect(Array.from(ds.test.labels)).toEqual([13, 88]);
    expect(ds.train.x[3 * 3072 + (2 * 32 + 30) * 3 + 2]).toBeCloseTo(chw(3, 2, 30, 2), 7);
    expect(ds.test.x[1 * 3072 + (31 * 32 + 0) * 3 + 0]).toBeCloseTo(chw(51, 31, 0, 0), 7);
  });

  it('datasets - CIFAR subsets: first N of the concatenated training batches', async () => {
    await writeCifar10(dir);
    const ds = await loadDataset({ name: 'cifar10', dir, trainSubset: { first: 3 } }, { cache: new DatasetCache() });
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2]);
    expect(ds.train.x.length).toBe(3 * 3072);
    expect(ds.train.x[2 * 3072 + (1 * 32 + 4) * 3 + 1]).toBeCloseTo(chw(2, 1, 4, 1), 7);
  });
});

describe('datasets - CIFAR errors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const load = (name: 'cifar10' | 'cifar100', ...d: [string | undefined] | []) =>
    loadDataset({ name, dir: d.length ? d[0] : dir }, { cache: new DatasetCache() });

  it('datasets - a CIFAR-10 batch whose size is not a multiple of 3073 bytes names the file and the sizes', async () => {
    await writeCifar10(dir);
    const bytes = cifarBytes([1, 2], 'cifar10');
    await writeFile(join(dir, 'data_batch_3.bin'), bytes.subarray(0, bytes.length - 10));
    await expectDatasetError(load('cifar10'), 'bad-length', [
      join(dir, 'data_batch_3.bin'),
      `file size ${2 * 3073 - 10} bytes`,
      'not a multiple of the CIFAR-10 record size 3073',
      '1 whole records and 3063 bytes left over',
    ]);
  });

  it('datasets - CIFAR-10 files read as CIFAR-100 are caught by the record size', async () => {
    await writeFile(join(dir, 'train.bin'), cifarBytes([1, 2, 3], 'cifar10'));
    await writeFile(join(dir, 'test.bin'), cifarBytes([1], 'cifar100'));
    await expectDatasetError(load('cifar100'), 'bad-length', [join(dir, 'train.bin'), 'CIFAR-100 record size 3074', 'wrong CIFAR variant']);
  });

  it('datasets - an empty CIFAR file is refused', async () => {
    await writeCifar10(dir);
    await writeFile(join(dir, 'test_batch.bin'), new Uint8Array(0));
    await expectDatasetError(load('cifar10'), 'bad-length', [join(dir, 'test_batch.bin'), 'file size 0 bytes', 'not a positive multiple']);
  });

  it('datasets - CIFAR labels out of range name the example', async () => {
    await writeCifar10(dir);
    await writeFile(join(dir, 'test_batch.bin'), cifarBytes([3, 10], 'cifar10'));
    await expectDatasetError(load('cifar10'), 'label-out-of-range', [join(dir, 'test_batch.bin'), 'example 1 has label 10', 'expected 0..9']);
    await writeFile(join(dir, 'train.bin'), cifarBytes([5, 100], 'cifar100'));
    await writeFile(join(dir, 'test.bin'), cifarBytes([1], 'cifar100'));
    await expectDatasetError(load('cifar100'), 'label-out-of-range', [join(dir, 'train.bin'), 'fine label 100', 'expected 0..99']);
    await writeFile(join(dir, 'train.bin'), cifarBytes([5, 6], 'cifar100', 0, [3, 20]));
    await expectDatasetError(load('cifar100'), 'label-out-of-range', ['coarse label 20', 'expected 0..19']);
  });

  it('datasets - CIFAR without dir tells the user to download the binary version and pass dir', async () => {
    await expectDatasetError(load('cifar10', undefined), 'missing', ['no dataset.dir given', 'cifar-10-binary.tar.gz', 'binary version', 'dataset.dir']);
    await expectDatasetError(load('cifar100', join(dir, 'absent')), 'missing', [join(dir, 'absent'), 'does not exist', 'cifar-100-binary.tar.gz']);
  });

  it('datasets - missing CIFAR files are listed with the directory, and the python version is recognised', async () => {
    await writeCifar10(dir);
    await rm(join(dir, 'data_batch_4.bin'));
    await rm(join(dir, 'test_batch.bin'));
    await expectDatasetError(load('cifar10'), 'missing', [
      `${dir} lacks data_batch_4.bin, test_batch.bin`,
      'expected data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin',
      'download the binary version',
    ]);
    const py = join(dir, 'cifar-10-batches-py');
    await mkdir(py);
    await writeFile(join(py, 'data_batch_1'), 'pickle');
    await expectDatasetError(load('cifar10', py), 'missing', ['python/pickle version', 'cifar-10-binary.tar.gz']);
  });
});
