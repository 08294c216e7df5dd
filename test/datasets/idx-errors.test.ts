import { rm, truncate, unlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetCache, loadDataset } from '../../science/datasets/index.js';
import { expectDatasetError } from './expect-dataset-error.js';
import { idxBytes, idxImages, idxLabels, tempDir, writeIdxSet } from './formats.js';

describe('datasets - IDX errors', () => {
  let dir: string;
  const load = (name: 'mnist' | 'fashion-mnist' = 'mnist') => loadDataset({ name, dir }, { cache: new DatasetCache() });
  const p = (f: string) => join(dir, f);

  beforeEach(async () => {
    dir = await tempDir();
    await writeIdxSet(dir, { trainLabels: [1, 2, 3, 4], testLabels: [5, 6] });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('datasets - a file that is not IDX reports the bad magic number, expected vs found', async () => {
    await writeFile(p('train-images-idx3-ubyte'), Buffer.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]));
    const e = await expectDatasetError(load(), 'bad-magic', [
      p('train-images-idx3-ubyte'),
      'bad magic number',
      'expected 0x00000803',
      'found 0x12345678',
      'not an IDX file',
    ]);
    expect(e.code).toBe('DATASET_CORRUPT');
    expect(e.file).toBe(p('train-images-idx3-ubyte'));
  });

  it('datasets - an IDX file of float32 values is refused as a bad magic number, naming the type', async () => {
    await writeFile(p('t10k-images-idx3-ubyte'), idxBytes([2, 28, 28], new Uint8Array(2 * 784), 3, 0x0d));
    await expectDatasetError(load(), 'bad-magic', ['t10k-images-idx3-ubyte', 'expected 0x00000803', 'found 0x00000d03', 'float32']);
  });

  it('datasets - a labels file with 3 dimensions reports the wrong dimension count', async () => {
    await writeFile(p('train-labels-idx1-ubyte'), idxImages(4));
    await expectDatasetError(load(), 'bad-dimensions', ['train-labels-idx1-ubyte', 'wrong dimension count', 'expected 1', 'found 3']);
  });

  it('datasets - a truncated images file gives expected and actual byte counts', async () => {
    const full = 16 + 4 * 784;
    await truncate(p('train-images-idx3-ubyte'), full - 100);
    await expectDatasetError(load(), 'bad-length', [
      p('train-images-idx3-ubyte'),
      'shorter than the header says',
      '4 x 28 x 28',
      `need ${full} bytes`,
      `has ${full - 100} bytes`,
    ]);
  });

  it('datasets - a file cut inside its header says how long the header must be', async () => {
    await truncate(p('train-labels-idx1-ubyte'), 6);
    await expectDatasetError(load(), 'bad-length', ['train-labels-idx1-ubyte', '8-byte header', 'has 6 bytes']);
  });

  it('datasets - an empty file is reported as too short, not as a crash', async () => {
    await writeFile(p('t10k-labels-idx1-ubyte'), new Uint8Array(0));
    await expectDatasetError(load(), 'bad-length', ['t10k-labels-idx1-ubyte', 'file is 0 bytes']);
  });

  it('datasets - trailing bytes after the data are reported too', async () => {
    await writeFile(p('t10k-labels-idx1-ubyte'), Buffer.concat([idxLabels([5, 6]), Buffer.from([1, 2, 3])]));
    await expectDatasetError(load(), 'bad-length', ['t10k-labels-idx1-ubyte', 'longer than the header says', 'need 10 bytes', 'has 13 bytes']);
  });

  it('datasets - images and labels of different counts name both files and both counts', async () => {
    await writeFile(p('train-labels-idx1-ubyte'), idxLabels([1, 2, 3]));
    const e = await expectDatasetError(load(), 'count-mismatch', [
      'count mismatch',
      `${p('train-images-idx3-ubyte')} holds 4 images`,
      `${p('train-labels-idx1-ubyte')} holds 3 labels`,
    ]);
    expect(e.context).toMatchObject({ images: 4, labels: 3 });
  });

  it('datasets - a label outside 0..9 names the example and the value', async () => {
    await writeFile(p('t10k-labels-idx1-ubyte'), idxLabels([5, 10]));
    await expectDatasetError(load(), 'label-out-of-range', ['t10k-labels-idx1-ubyte', 'example 1 has label 10', 'expected 0..9']);
  });

  it('datasets - images of the wrong size are refused', async () => {
    await writeFile(p('train-images-idx3-ubyte'), idxImages(4, 32, 32));
    await expectDatasetError(load(), 'bad-shape', ['train-images-idx3-ubyte', 'expected 28x28 images, found 32x32']);
  });

  it('datasets - a truncated gzip file is one bad-gzip error naming the file', async () => {
    const gz = gzipSync(idxImages(4));
    await unlink(p('train-images-idx3-ubyte'));
    await writeFile(p('train-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 200));
    const e = await expectDatasetError(load(), 'bad-gzip', [p('train-images-idx3-ubyte.gz'), 'gzip', 'corrupt or truncated']);
    expect(e.cause).toBeDefined();
  });

  it('datasets - missing files name the directory and the expected files', async () => {
    await unlink(p('t10k-labels-idx1-ubyte'));
    await unlink(p('train-images-idx3-ubyte'));
    const e = await expectDatasetError(load('fashion-mnist'), 'missing', [
      `${dir} lacks train-images-idx3-ubyte, t10k-labels-idx1-ubyte`,
      'train-labels-idx1-ubyte',
      'raw or .gz',
    ]);
    expect(e.code).toBe('DATASET_MISSING');
  });

  it('datasets - a directory where a file should be is unreadable, not a crash', async () => {
    await unlink(p('t10k-labels-idx1-ubyte'));
    await mkdir(p('t10k-labels-idx1-ubyte'));
    await expectDatasetError(load(), 'unreadable', [p('t10k-labels-idx1-ubyte'), 'not a regular file']);
  });

  it('datasets - fashion-mnist without the Debian package says to apt-get install it', async () => {
    const absent = join(dir, 'no-such-dir');
    await expectDatasetError(
      loadDataset({ name: 'fashion-mnist' }, { cache: new DatasetCache(), fashionMnistDir: absent }),
      'missing',
      [absent, 'apt-get install dataset-fashion-mnist', 'dataset.dir'],
    );
  });

  it('datasets - a dir override that does not exist lists the files it expected there', async () => {
    const absent = join(dir, 'nope');
    await expectDatasetError(loadDataset({ name: 'mnist', dir: absent }, { cache: new DatasetCache() }), 'missing', [
      `${absent} lacks train-images-idx3-ubyte`,
    ]);
  });
});
