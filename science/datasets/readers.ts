/**
 * Readers of the two file formats the datasets come in: IDX (MNIST, Fashion-MNIST) and the CIFAR
 * binary version. Each decodes a train and a test split once per process (DatasetCache).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatRawSplits, parseCifarBinary } from './cifar-binary.js';
import type { DatasetCache, LoadedFile } from './dataset-cache.js';
import type { RawSplit } from './dataset.js';
import { pairIdx, parseIdxImages, parseIdxLabels } from './idx.js';
import type { CifarFiles, IdxFiles } from './locate-files.js';

export interface RawDataset {
  train: RawSplit;
  test: RawSplit;
}

/** Both splits of a 10-class IDX dataset of `height` x `width` grey images. */
export async function readIdx(cache: DatasetCache, files: IdxFiles, [height, width]: readonly number[]): Promise<RawDataset> {
  const split = (images: string, labels: string): Promise<RawSplit> =>
    cache.load(`idx-${height}x${width}-10`, [images, labels], ([im, lb]: LoadedFile[]) =>
      pairIdx(parseIdxImages(im.bytes, im.path, height, width), im.path, parseIdxLabels(lb.bytes, lb.path, 10), lb.path, height, width),
    );
  const [train, test] = await Promise.all([split(files.trainImages, files.trainLabels), split(files.testImages, files.testLabels)]);
  return { train, test };
}

/** Both splits of a CIFAR binary dataset (several train batch files are concatenated in order). */
export async function readCifar(cache: DatasetCache, files: CifarFiles): Promise<RawDataset> {
  const split = (paths: string[]): Promise<RawSplit> =>
    cache.load(files.variant, paths, (loaded: LoadedFile[]) => concatRawSplits(loaded.map((f) => parseCifarBinary(f.bytes, f.path, files.variant))));
  const [train, test] = await Promise.all([split(files.train), split(files.test)]);
  return { train, test };
}

/** CIFAR-100's class names: the binary archive ships fine_label_names.txt; without it the classes are named by number. */
export async function cifar100FineNames(dir: string): Promise<string[]> {
  const numbers = Array.from({ length: 100 }, (_, i) => String(i));
  try {
    const names = (await readFile(join(dir, 'fine_label_names.txt'), 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length === 100 ? names : numbers;
  } catch {
    return numbers;
  }
}
