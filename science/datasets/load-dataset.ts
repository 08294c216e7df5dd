/**
 * `loadDataset`: the one entry point the training loop calls. It locates a dataset's files,
 * decodes them once per process (DatasetCache), then applies the binary-MNIST relabelling and
 * the train/test subsets and scales the chosen pixels to float32 / 255.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetName, DatasetSpec } from '../types.js';
import { BINARY_MNIST_CLASS_NAMES, selectBinaryDigits, withBinaryTargets } from './binary-mnist.js';
import { concatRawSplits, parseCifarBinary } from './cifar-binary.js';
import { DatasetCache, type LoadedFile } from './dataset-cache.js';
import type { Dataset, RawSplit, Split } from './dataset.js';
import { pairIdx, parseIdxImages, parseIdxLabels } from './idx.js';
import { locateFiles, type CifarFiles, type DatasetLocations, type IdxFiles } from './locate-files.js';
import { materialise, selectAll } from './selection.js';
import { applySubset } from './subset.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const MNIST_SIDE = 28;

export interface LoadDatasetOptions extends DatasetLocations {
  /** Decoded-file cache; default: one shared by every call in this process that passes none. */
  cache?: DatasetCache;
}

let defaultCache: DatasetCache | undefined;

/** The cache `loadDataset` uses when given none (created on first use). */
export function defaultDatasetCache(): DatasetCache {
  defaultCache ??= new DatasetCache();
  return defaultCache;
}

/**
 * Load a dataset as plain typed arrays: NHWC float32 images (pixels / 255), class labels, and
 * for binary-mnist the squared-loss targets -1 (digit 4) / +1 (digit 7).
 * Subsets take the first N (or first N per class) examples in file order, after the
 * binary-mnist filter.
 * @throws DatasetError (one sentence naming the file and the problem) for a missing, unreadable,
 *   corrupt or mismatched file, or a subset larger than the split.
 */
export async function loadDataset(spec: DatasetSpec, options: LoadDatasetOptions = {}): Promise<Dataset> {
  const cache = options.cache ?? defaultDatasetCache();
  const files = await locateFiles(spec.name, spec.dir, options);
  const [trainRaw, testRaw] =
    files.format === 'idx'
      ? await Promise.all([loadIdxSplit(cache, files, 'train'), loadIdxSplit(cache, files, 'test')])
      : await Promise.all([loadCifarSplit(cache, files, files.train), loadCifarSplit(cache, files, files.test)]);
  const binary = spec.name === 'binary-mnist';
  const classNames = binary ? BINARY_MNIST_CLASS_NAMES : await classNamesOf(spec.name, files);
  const split = (raw: RawSplit, which: 'train' | 'test'): Split => {
    let sel = selectAll(raw);
    if (binary) sel = selectBinaryDigits(sel);
    sel = applySubset(sel, which === 'train' ? spec.trainSubset : spec.testSubset, classNames, `${spec.name} ${which}Subset`);
    const out = materialise(raw, sel);
    return binary ? withBinaryTargets(out) : out;
  };
  return {
    name: spec.name,
    inputShape: [...trainRaw.shape],
    numClasses: binary ? 1 : classNames.length,
    classNames,
    train: split(trainRaw, 'train'),
    test: split(testRaw, 'test'),
  };
}

function loadIdxSplit(cache: DatasetCache, files: IdxFiles, which: 'train' | 'test'): Promise<RawSplit> {
  const imagesPath = which === 'train' ? files.trainImages : files.testImages;
  const labelsPath = which === 'train' ? files.trainLabels : files.testLabels;
  return cache.load('idx-28x28-10', [imagesPath, labelsPath], ([images, labels]: LoadedFile[]) =>
    pairIdx(
      parseIdxImages(images.bytes, images.path, MNIST_SIDE, MNIST_SIDE),
      images.path,
      parseIdxLabels(labels.bytes, labels.path, 10),
      labels.path,
      MNIST_SIDE,
      MNIST_SIDE,
    ),
  );
}

function loadCifarSplit(cache: DatasetCache, files: CifarFiles, paths: string[]): Promise<RawSplit> {
  return cache.load(files.variant, paths, (loaded: LoadedFile[]) =>
    concatRawSplits(loaded.map((f) => parseCifarBinary(f.bytes, f.path, files.variant))),
  );
}

async function classNamesOf(name: DatasetName, files: IdxFiles | CifarFiles): Promise<string[]> {
  switch (name) {
    case 'mnist':
    case 'binary-mnist':
      return DIGITS;
    case 'fashion-mnist':
      return FASHION_CLASSES;
    case 'cifar10':
      return CIFAR10_CLASSES;
    case 'cifar100':
      return cifar100FineNames(files.dir);
  }
}

/** The binary archive ships fine_label_names.txt; without it the classes are named by number. */
async function cifar100FineNames(dir: string): Promise<string[]> {
  const numbers = Array.from({ length: 100 }, (_, i) => String(i));
  try {
    const names = (await readFile(join(dir, 'fine_label_names.txt'), 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length === 100 ? names : numbers;
  } catch {
    return numbers;
  }
}
