/**
 * `loadDataset`: the one entry point the training loop calls. It reads a dataset's files the way
 * its registry entry says (located, decoded once per process by the DatasetCache), then applies
 * the dataset's relabelling (binary-mnist) and the train/test subsets and scales the chosen
 * pixels to float32 / 255.
 */
import type { DatasetSpec } from '../types.js';
import { DatasetCache } from './dataset-cache.js';
import type { Dataset, RawSplit, Split } from './dataset.js';
import type { DatasetLocations } from './locate-files.js';
import { datasetDefinition } from './registry.js';
import { materialise, selectAll } from './selection.js';
import { applySubset } from './subset.js';

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
  const def = datasetDefinition(spec.name);
  const files = await def.read(spec.dir, options, options.cache ?? defaultDatasetCache());
  const variant = def.variant;
  const classNames = [...(variant?.classNames ?? files.classNames)];
  const split = (raw: RawSplit, which: 'train' | 'test'): Split => {
    let sel = selectAll(raw);
    if (variant) sel = variant.select(sel);
    sel = applySubset(sel, which === 'train' ? spec.trainSubset : spec.testSubset, classNames, `${spec.name} ${which}Subset`);
    const out = materialise(raw, sel);
    return variant?.targets ? variant.targets(out) : out;
  };
  return {
    name: spec.name,
    inputShape: [...def.inputShape],
    numClasses: variant?.outputs ?? classNames.length,
    classNames,
    train: split(files.train, 'train'),
    test: split(files.test, 'test'),
  };
}
